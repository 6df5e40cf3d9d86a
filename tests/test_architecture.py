"""The package's shape, checked over the AST (imports inside functions included): the folders are
layers of the pipeline, each imports only itself and the layers below it, there is no import
cycle, no module is over 400 lines, and `check` never loads torch, scikit-learn or scipy."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from conftest import REPO

PACKAGE = REPO / "harness"
# bottom to top: the pipeline library -> eval set -> encoders -> records -> metrics -> routers
# -> runs -> graph -> compare -> improve -> reports -> commands (docs/architecture.md)
LAYERS = ("base", "library", "evalsets", "encoders", "results", "metrics", "routers", "runs", "graph", "compare", "improve",
          "reports", "commands")


def modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(REPO).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def imports(path: Path, known: dict[str, Path]) -> set[str]:
    """Every harness module a file imports, at any depth of the file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and node.module.startswith("harness"):
            names = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in known else node.module for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names if a.name.startswith("harness")]
        found.update(names)
    return found


def layer(module: str) -> int:
    parts = module.split(".")
    if len(parts) < 3:   # harness, harness.__main__: the package's own top
        return -1 if module == "harness" else len(LAYERS)
    assert parts[1] in LAYERS, f"{module}: harness/{parts[1]}/ is not a layer of docs/architecture.md"
    return LAYERS.index(parts[1])


def test_every_folder_imports_only_itself_and_the_layers_below():
    known = modules()
    bad = [f"{m} ({LAYERS[layer(m)]}) imports {t}" for m, p in known.items() for t in sorted(imports(p, known))
           if t in known and 0 <= layer(m) < layer(t) < len(LAYERS)]
    assert not bad, "\n".join(bad)


def test_no_import_cycle():
    known = modules()
    graph = {m: {t for t in imports(p, known) if t in known and t != m} for m, p in known.items()}
    index, low, stack, on, cycles = {}, {}, [], set(), []

    def visit(v):   # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    assert not cycles, cycles


def test_the_rules_can_fail():
    """The checks above see imports inside functions, and a cycle of two."""
    tree = "def f():\n    from harness.commands.cli import main\n"
    p = REPO / "harness" / "base" / "_probe.py"
    try:
        p.write_text(tree)
        known = modules()
        assert "harness.commands.cli" in imports(p, known) and layer("harness.base._probe") < layer("harness.commands.cli")
    finally:
        p.unlink()


def test_no_module_over_400_lines():
    long = {str(p.relative_to(REPO)): n for p in PACKAGE.rglob("*.py") if (n := len(p.read_text().splitlines())) > 400}
    assert not long, long


def test_check_imports_no_torch_sklearn_or_scipy(tmp_path):
    """`check` is the edit loop: after one `run` filled the cache, it reads the encoder's weights
    through numpy (an edited description), never torch."""
    lib = REPO / "skills" / "example" / "v2"
    env = {"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    warm = subprocess.run([sys.executable, "-m", "harness", "run", "--library", str(lib), "--eval-set",
                           str(REPO / "eval_sets" / "example"), "--router", "hybrid", "--no-graph", "--out",
                           str(tmp_path / "out"), "--cache-dir", str(tmp_path)], cwd=REPO, capture_output=True, text=True,
                          timeout=600, env=env)
    assert warm.returncode == 0, warm.stderr
    code = ("import sys\nfrom harness.commands.cli import main\n"
            f"rc = main(['check', {str(lib / 'plugins/forge-ops/skills/forge-deploy/SKILL.md')!r}, '--library', {str(lib)!r}, "
            f"'--eval-set', {str(REPO / 'eval_sets' / 'example')!r}, '--cache-dir', {str(tmp_path)!r}, '--json', "
            "'--description', 'Ships a build to staging or production. Use when deploying.'])\n"
            "heavy = sorted(m for m in ('torch', 'sklearn', 'scipy') if m in sys.modules)\n"
            "print('HEAVY', heavy, rc)\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=600, env=env)
    heavy = [line for line in proc.stdout.splitlines() if line.startswith("HEAVY")]
    assert heavy == ["HEAVY [] 0"], (heavy, proc.stderr[-2000:])


def private_writes(source: str) -> list[str]:
    """Assignments to a private attribute (`x._name = …`, `x._name[k] = …`) of anything but self or cls."""
    out = []
    for node in ast.walk(ast.parse(source)):
        targets = node.targets if isinstance(node, ast.Assign) else \
            [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else []
        for sub in (s for t in targets for s in ast.walk(t)):
            if isinstance(sub, ast.Attribute) and sub.attr.startswith("_") and not sub.attr.startswith("__") and \
                    not (isinstance(sub.value, ast.Name) and sub.value.id in ("self", "cls")):
                out.append(f"line {node.lineno}: {ast.unparse(node).splitlines()[0]}")
    return out


def test_no_module_writes_another_objects_private_fields():
    """A module changes another object through its public methods (e.g. RouterContext.use_encoder),
    never by writing its private fields."""
    assert private_writes("ctx._encoders[model] = encoder\nself._x = 1\n") == ["line 1: ctx._encoders[model] = encoder"]
    bad = {str(p.relative_to(REPO)): w for p in sorted(PACKAGE.rglob("*.py")) if (w := private_writes(p.read_text()))}
    assert not bad, bad


def test_the_drivers_of_run_and_check_are_short():
    """`check.run_check` (issue 17): at most 50 lines, the work in the modules it calls."""
    for rel, name in (("commands/check.py", "run_check"),):
        tree = ast.parse((PACKAGE / rel).read_text())
        (fn,) = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name]
        assert fn.end_lineno - fn.lineno + 1 <= 50, (rel, name, fn.end_lineno - fn.lineno + 1)
