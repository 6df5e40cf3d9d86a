"""`check`: one SKILL.md against its library — lint, nearest neighbours, and a what-if of the edit."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.base.errors import HarnessError


def library_root(path: Path, given: str | None) -> tuple[str, str]:
    """(library folder, the file's path inside it)."""
    if given:
        root = Path(given)
    else:
        from harness.library.source import run_git
        proc = run_git(str(path.parent), "rev-parse", "--show-toplevel", check=False)
        if proc.returncode != 0:
            raise HarnessError(f"{path}: not inside a git repository: give --library FOLDER")
        root = Path(proc.stdout.decode().strip())
    try:
        rel = path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        raise HarnessError(f"{path}: not inside the library {root}") from None
    return str(root), rel


@dataclass(frozen=True)
class Base:
    """What the edit is measured against: the file as git has it at `ref` (`data` None when git
    says the file is new there), or nothing at all (`ref` None: not in a git repository)."""
    ref: str | None
    data: bytes | None

    def state(self, data: bytes) -> str:
        if self.ref is None:
            return "no base"
        return "new file" if self.data is None else ("unchanged" if self.data == data else "changed")


def find_base(path: Path, against: str | None) -> Base:
    """The committed version of `path` in the git repository that holds it (wherever the library
    sits inside that repository), at `against` (default HEAD). Outside any repository there is no
    base, unless `--against` asks for one (then that is an error)."""
    from harness.library.source import resolve_commit, run_git, validate_ref
    folder = str(path.resolve().parent)
    if against is not None:
        validate_ref(against)
    proc = run_git(folder, "rev-parse", "--show-prefix", check=False)
    if proc.returncode != 0:
        if against is not None:
            raise HarnessError(f"--against {against}: {path} is not inside a git repository")
        return Base(None, None)
    ref = against or "HEAD"
    if against is None and run_git(folder, "rev-parse", "--verify", "--quiet", "HEAD^{commit}", check=False).returncode:
        return Base(ref, None)  # a repository with no commit yet: every file is new to git
    commit = resolve_commit(folder, ref)
    blob = run_git(folder, "cat-file", "blob", f"{commit}:{proc.stdout.decode().strip()}{path.name}", check=False)
    return Base(ref, blob.stdout if blob.returncode == 0 else None)


def with_description(data: bytes, text: str) -> bytes:
    """The same SKILL.md with its description replaced (YAML-quoted)."""
    import json
    lines = data.decode("utf-8-sig").replace("\r\n", "\n").split("\n")
    if not lines or lines[0].strip() != "---":
        raise HarnessError("--description: the file has no frontmatter to put it in")
    end = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None)
    if end is None:
        raise HarnessError("--description: the file's frontmatter is not closed")
    body = [lines[0]]
    i = 1
    while i < end:
        if lines[i].startswith("description:"):
            i += 1
            while i < end and (lines[i].startswith((" ", "\t")) or not lines[i].strip()):
                i += 1
            continue
        body.append(lines[i])
        i += 1
    body.insert(1 + sum(1 for l in body[1:] if l.startswith("name:")), "description: " + json.dumps(" ".join(text.split())))
    return "\n".join(body + lines[end:]).encode("utf-8")


def neighbours(name: str, library, encoder, cache, fields: str, exclusions: str = "strip", k: int = 5) -> list[dict]:
    """The k skills nearest by what the routers read of them (`fields`, each description as read
    under `exclusions`): cosine of the embeddings when an encoder is given (as the dense router
    embeds them), else tf-idf; each with the distinctive terms both texts share."""
    from harness.library.exclusions import as_read
    from harness.graph.terms import TermIndex
    from harness.library.model import router_text
    names = library.names
    if name not in names or len(names) < 2:
        return []
    texts = [router_text(s.name, as_read(s.description, exclusions), fields) for s in library.skills]
    terms = TermIndex(list(names), texts)
    if encoder is not None:
        from harness.base.textproc import split_words
        emb = cache.embed(encoder, [split_words(t) for t in texts])
        sims = emb @ emb[names.index(name)]
    else:
        sims = terms.similarity()[names.index(name)]
    order = [j for j in np.lexsort((np.arange(len(names)), -np.round(sims, 6))) if names[j] != name][:k]
    return [{"skill": names[j], "similarity": round(float(sims[j]), 4), "shared_terms": [t for t, _ in terms.shared(name, names[j], 5)]}
            for j in order]


def shadowed_copy(rel: str, name: str, library) -> list:
    """A warning when the file is one of several copies of its skill and not the one routed
    (the loader routes the first copy by path): an edit to it changes nothing an agent sees."""
    from harness.library.findings import Finding
    skill = next((s for s in library.skills if s.name == name), None)
    if skill is None or len(skill.copies) < 2 or skill.copies[0].path == rel:
        return []
    return [Finding(rel, 1, "not-the-routed-copy", "warning",
                    f"one of {len(skill.copies)} copies of {name!r}; the library routes {skill.copies[0].path} "
                    "(the first by path), so editing this file does not change routing", name)]


def routed(label: str, cfg, library, evalset, ctx):
    """One side of the what-if: the eval set routed over `library`, with its collisions and orphans."""
    from harness.compare.load import RunDir, by_router
    from harness.graph.build import collisions_and_orphans
    from harness.runs.route import route
    res = route(cfg, library, evalset, ctx=ctx)
    enc, cache = res.encoder()
    collisions, orphans = collisions_and_orphans(res, library, prompts=res.prompts, encoder=enc, cache=cache)
    return RunDir(label, res.results, by_router(res.records), collisions, orphans)


def what_if(name: str, base, head, prompts: dict[str, str], router: str) -> dict:
    b, h = base.records[router], head.records[router]
    wins, loses, steals = [], [], []
    for pid in sorted(set(b) & set(h)):
        x, y = b[pid], h[pid]
        exp = y.expected
        if name in exp and not x.correct and y.correct:
            wins.append({"id": pid, "prompt": prompts.get(pid, ""), "was": x.selected})
        elif name in exp and x.correct and not y.correct:
            loses.append({"id": pid, "prompt": prompts.get(pid, ""), "now": y.selected})
        elif y.selected == name and x.selected != name and name not in exp:
            steals.append({"id": pid, "prompt": prompts.get(pid, ""), "from": (exp or ["(out-of-scope)"])[0], "was": x.selected})
    return {"wins": wins, "loses": loses, "steals": steals}


def as_is(name: str, run, prompts: dict[str, str], router: str) -> dict:
    """With no base to compare with: the skill's prompts it wins and loses, and others' it takes, as routed now."""
    wins, loses, takes = [], [], []
    for pid, y in sorted(run.records[router].items()):
        if name in y.expected:
            (wins if y.correct else loses).append({"id": pid, "prompt": prompts.get(pid, ""), "now": y.selected})
        elif y.selected == name:
            takes.append({"id": pid, "prompt": prompts.get(pid, ""), "from": (y.expected or ["(out-of-scope)"])[0]})
    m = run.results.metrics[router]
    return {"router": router, "top1": m["top1"], "recall_at_3": m["recall_at_3"], "wins": wins, "loses": loses, "takes": takes}


def run_check(args) -> dict:
    from harness.encoders.cache import default_cache_dir
    from harness.commands.check_base import base_key, load_base, save_base
    from harness.compare.diff import compare
    from harness.compare.load import RunDir
    from harness.compare.policy import evaluate, parse_policy, require_prompts
    from harness.evalsets.evalset import load_eval_sets
    from harness.library.loader import build_library
    from harness.library.source import snapshot
    from harness.library.yaml_store import YamlStore
    from harness.library.lint import lint_text
    from harness.routers import ROUTERS
    from harness.routers.base import RouterContext, shared_encoder
    from harness.runs.config import Inputs, Routing, RunConfig
    path = Path(args.path)
    if not path.is_file():
        raise HarnessError(f"{path}: no such file")
    rules = parse_policy(args.fail_on)
    if not args.eval_set:
        require_prompts(rules, None, None)
    root, rel = library_root(path, args.library)
    cache_dir = Path(args.cache_dir) if args.cache_dir else default_cache_dir()
    data = path.read_bytes()
    if args.description is not None:
        data = with_description(data, args.description)
    snap = snapshot(root, cache_dir)
    against = find_base(path, args.against)
    if against.ref is None and args.description is not None:  # no git, but a candidate wording: the file is the base
        against = Base("the file on disk", path.read_bytes())
    base_data = against.data
    if against.ref is None and args.eval_set and rules:
        raise HarnessError(f"--fail-on {rules[0].text}: every rule compares the edit with a base, and {path} is not "
                           "inside a git repository (commit it and check it there, or try a wording with --description)")
    head_files = {**snap.files, rel: data}
    base_files = {k: v for k, v in snap.files.items() if k != rel}
    if base_data is not None:
        base_files[rel] = base_data
    elif against.ref is None:  # no base: the what-if is the library as it is, against itself
        base_files = head_files
    mode = args.invalid_frontmatter
    store = YamlStore(cache_dir)
    head_lib = build_library(type(snap)(snap.source, None, None, head_files, list(snap.findings)), mode, store)
    base_lib = build_library(type(snap)(snap.source, None, None, base_files, list(snap.findings)), mode, store)
    folder = posixpath.basename(posixpath.dirname(rel))
    encoder = shared_encoder(args.model)
    ctx = RouterContext(cache_dir, args.model)
    if args.model is None:  # the default model: new texts through the numpy forward pass, no torch import
        from harness.encoders.numpy_forward import FastEncoder
        encoder = FastEncoder(encoder)
    ctx._encoders[args.model] = encoder
    findings, fields = lint_text(data, rel, folder, set(head_lib.names) | set(base_lib.names), encoder, args.fields)
    name = fields.get("name") if fields and isinstance(fields.get("name"), str) else folder
    findings += shadowed_copy(rel, name, head_lib)
    report = {"file": rel, "library": root, "skill": name, "against": against.ref, "against_state": against.state(data),
              "lint": [f.to_dict() for f in findings], "neighbours": [], "what_if": None, "what_if_by_router": [], "as_is": None, "breaches": []}
    routers = args.router or ["hybrid"]
    if not args.eval_set:
        report["note"] = "no --eval-set: lint and neighbours only"
    cfg = RunConfig(Inputs(root, args.eval_set or [], invalid_frontmatter=mode),
                    Routing(routers, model=args.model, fields=args.fields, exclusions=args.exclusions),
                    intervals=False, cache_dir=cache_dir)
    uses_model = any(ROUTERS.get(r)(ctx).model_info()[0] for r in routers if not r.startswith("command:"))
    report["neighbours"] = neighbours(name, head_lib, *((encoder, ctx.cache) if uses_model else (None, None)), args.fields,
                                      args.exclusions)
    report["neighbours_by"] = {"fields": args.fields, "exclusions": args.exclusions,
                               "similarity": "embedding cosine" if uses_model else "tf-idf cosine"}
    if args.eval_set:
        evalset = load_eval_sets(args.eval_set)
        key = base_key(base_files, evalset.sha256, cfg, encoder.sha256 if uses_model else None)
        base = load_base(cache_dir, key)
        if base is None:
            base = routed("base", cfg, base_lib, evalset, ctx)
            save_base(cache_dir, key, base)
        if head_files == base_files:  # the same library: the same run
            head = RunDir("head", base.results, base.records, base.collisions, base.orphans)
        else:
            head = routed("head", cfg, head_lib, evalset, ctx)
        gate = "hybrid" if "hybrid" in routers else routers[0]
        texts = {p.id: p.prompt for p in evalset.prompts}
        if against.ref is None:
            report["as_is"] = as_is(name, head, texts, gate)
            return _verdict(report, findings, args.strict)
        cmp = compare(base, head, 0, {}, intervals=any(r.sig for r in rules))  # only ':sig' reads them
        require_prompts(rules, cmp, gate)

        def one(router: str) -> dict:
            r = cmp["routers"][router]
            return {"router": router, "top1": r["metrics"]["top1"], "recall_at_3": r["metrics"]["recall_at_3"],
                    "fixed": r["wins"], "broken": r["losses"], "mcnemar_p": r["mcnemar_p"],
                    **what_if(name, base, head, texts, router),
                    "per_skill": [s for s in cmp["per_skill"][router] if s["recall_delta"] or s["precision_delta"]]}
        # the verdict reads the gate router (collisions: its routing graph); every router's what-if is shown
        report["what_if"] = {**one(gate), "new_collisions": cmp["collisions"]["new"],
                             "resolved_collisions": cmp["collisions"]["resolved"]}
        report["what_if_by_router"] = [report["what_if"] if r == gate else one(r) for r in routers]
        report["breaches"] = evaluate(rules, cmp, gate)
    return _verdict(report, findings, args.strict)


def _verdict(report: dict, findings, strict: bool) -> dict:
    errors = [f for f in findings if f.severity == "error" or (strict and f.severity == "warning")]
    report["lint_failures"] = len(errors)
    report["passed"] = not errors and not report["breaches"]
    return report
