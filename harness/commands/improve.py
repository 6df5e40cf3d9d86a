"""`improve`: options -> the engine's Task (harness/improve/engine.py); --apply writes the file(s)."""

from __future__ import annotations

from pathlib import Path

from harness.base.errors import HarnessError
from harness.library.gitbase import find_base, library_root

DEFAULT_FAIL_ON = "new-collision,top1-drop>0"
DEFAULT_BUDGET = 20


def _refuse(args) -> None:
    """Options that would change nothing, or contradict each other, are refused (exit 2)."""
    if (args.path is None) == (args.pair is None):
        raise HarnessError("improve: give one PATH/TO/SKILL.md, or --pair A B (two skills of --library), not both")
    if args.pair is not None and not args.library:
        raise HarnessError("--pair: needs --library FOLDER (the library the two skills belong to)")
    if args.pair is not None and args.pair[0] == args.pair[1]:
        raise HarnessError(f"--pair {args.pair[0]} {args.pair[1]}: two different skills, please")
    if not args.eval_set:
        raise HarnessError("improve: needs --eval-set (its dev split selects, its test split reports)")
    if args.budget is not None and not args.rewriter:
        raise HarnessError("--budget: caps --rewriter's calls, and no --rewriter is given")
    if args.rounds < 0:
        raise HarnessError(f"--rounds {args.rounds}: must be 0 or more")
    if args.diff and args.json:
        raise HarnessError("--diff and --json: choose one output")
    if args.router.startswith("command:"):
        raise HarnessError(f"--router {args.router}: improve screens hundreds of texts; give a score router "
                           "(tfidf, bm25, dense, hybrid) and check the result with the command router")


def _sides(args, root: str, rel: str | None, snap, mode: str, store):
    from harness.improve.candidates import Side
    from harness.improve.engine import build
    from harness.library import frontmatter
    from harness.library.rules import ALLOWED_KEYS, looks_like_prose_key
    library = build(snap, snap.files, mode, store)
    if args.pair is not None:
        rels = []
        for name in args.pair:
            skill = library.get(name)
            if skill is None:
                raise HarnessError(f"--pair: no skill {name!r} in {root} (see `skill-harness check` on its file)")
            rels.append((name, skill.path))
    else:
        parsed = frontmatter.parse(snap.files[rel], rel)
        name = parsed.fields.get("name") if parsed.fields and isinstance(parsed.fields.get("name"), str) else None
        rels = [(name or rel.split("/")[-2], rel)]
    sides = []
    for name, r in rels:
        parsed = frontmatter.parse(snap.files[r], r)
        prose = [(k, str(v)) for k, v in (parsed.fields or {}).items() if k not in ALLOWED_KEYS and looks_like_prose_key(k, v)]
        sides.append(Side(name, r, snap.files[r], prose))
    return sides


def run_improve(args) -> dict:
    from harness.compare.policy import parse_policy
    from harness.encoders.cache import default_cache_dir
    from harness.evalsets.evalset import load_eval_sets
    from harness.improve.engine import Task, improve
    from harness.improve.rewriter import Rewriter
    from harness.library.source import snapshot
    from harness.library.yaml_store import YamlStore
    from harness.routers import ROUTERS
    from harness.routers.base import RouterContext, edit_encoder
    from harness.runs.config import Inputs, Routing, RunConfig
    _refuse(args)
    ROUTERS.get(args.router)
    rules = parse_policy(DEFAULT_FAIL_ON if args.fail_on is None else args.fail_on)
    cache_dir = Path(args.cache_dir) if args.cache_dir else default_cache_dir()
    if args.pair is None:
        path = Path(args.path)
        if not path.is_file():
            raise HarnessError(f"{path}: no such file")
        root, rel = library_root(path, args.library)
    else:
        root, rel = str(Path(args.library)), None
        if not Path(root).is_dir():
            raise HarnessError(f"--library {root}: not a folder")
    snap = snapshot(root, cache_dir)
    if rel is not None and rel not in snap.files:
        raise HarnessError(f"{rel}: not read as a SKILL.md of {root} (see `skill-harness check {args.path}`)")
    store = YamlStore(cache_dir)
    sides = _sides(args, root, rel, snap, args.invalid_frontmatter, store)
    gate, against = dict(snap.files), []
    for side in sides:
        base = find_base(Path(root) / side.rel, None)  # no git, or a new file: the starting text is the base
        against.append((base.ref, base.state(side.data)))
        if base.data is not None:
            gate[side.rel] = base.data
    evalset = load_eval_sets(args.eval_set)
    ctx = RouterContext(cache_dir, args.model)
    ctx.use_encoder(edit_encoder(args.model))
    cfg = RunConfig(Inputs(root, list(args.eval_set), invalid_frontmatter=args.invalid_frontmatter),
                    Routing([args.router], model=args.model, fields=args.fields, exclusions=args.exclusions),
                    intervals=False, cache_dir=cache_dir)
    rewriter = Rewriter(args.rewriter, DEFAULT_BUDGET if args.budget is None else args.budget, cache_dir) \
        if args.rewriter else None
    task = Task(snap, sides, evalset, cfg, ctx, rules, None if gate == snap.files else gate, args.rounds,
                rewriter=rewriter, store=store, against=against)
    result = improve(task)
    result["report"]["applied"] = []
    if args.apply and result["files"]:
        from harness.improve.apply import write_in_place
        for side in sides:
            if (Path(root) / side.rel).read_bytes() != side.data:
                raise HarnessError(f"{side.rel}: changed on disk while improve ran: nothing applied")
        for r, data in sorted(result["files"].items()):
            write_in_place(Path(root) / r, data)
            result["report"]["applied"].append(r)
    return result
