"""`check`'s work once its files are known: the library as edited and as it was, each file's lint
and neighbours, one what-if for all of them (routed once per side; the base remembered), the
rules laid on the files they concern, and the verdict."""

from __future__ import annotations

import posixpath
from pathlib import Path

from harness.base.errors import HarnessError


class Session:
    """The two libraries and what routes them (one encoder, one router context)."""

    def __init__(self, args, root: str, cache_dir: Path, snap, head_files: dict, base_files: dict):
        from harness.library.loader import build_library
        from harness.library.yaml_store import YamlStore
        from harness.routers.base import RouterContext
        self.args, self.root, self.cache_dir = args, root, cache_dir
        self.head_files, self.base_files = head_files, base_files
        store, mode = YamlStore(cache_dir), args.invalid_frontmatter
        build = lambda files: build_library(type(snap)(snap.source, None, None, files, list(snap.findings)), mode, store)  # noqa: E731
        self.head_lib = build(head_files)
        self.base_lib = self.head_lib if base_files == head_files else build(base_files)
        self.routers = args.router or ["hybrid"]
        from harness.results.schema import default_router
        self.gate = default_router(self.routers)
        self.ctx = RouterContext(cache_dir, args.model)
        if args.lint_only:   # no encoder: the tokenizer alone says which tokens it would lose
            from harness.encoders.sentence import Tokens
            if args.model is not None and not Path(args.model).is_dir():
                raise HarnessError(f"--model {args.model}: no such folder")
            tokens = Tokens.of(args.model)
            self.encoder, self.uses_model = (tokens if tokens.tokenizer() is not None else None), False
            return
        from harness.routers.base import edit_encoder
        self.encoder = edit_encoder(args.model)
        self.ctx.use_encoder(self.encoder)
        from harness.routers.scoring import needs_encoder
        self.uses_model = needs_encoder(self.routers, self.ctx)

    def config(self):
        from harness.runs.config import Inputs, Routing, RunConfig
        a = self.args
        return RunConfig(Inputs(self.root, a.eval_set or [], invalid_frontmatter=a.invalid_frontmatter),
                         Routing(self.routers, model=a.model, fields=a.fields, exclusions=a.exclusions),
                         intervals=False, cache_dir=self.cache_dir)


def _name(rel: str, fields: dict | None) -> str:
    folder = posixpath.basename(posixpath.dirname(rel))
    return fields["name"] if fields and isinstance(fields.get("name"), str) else folder


def file_reports(doc: dict, s: Session, targets) -> None:
    """Each file's lint (as edited) and nearest neighbours; a deleted file: its skill at the base."""
    from harness.graph.neighbours import Neighbours
    from harness.library.frontmatter import parse
    from harness.library.lint import lint_text, shadowed_copy
    a = s.args
    known = set(s.head_lib.names) | set(s.base_lib.names)
    near = None if a.lint_only else Neighbours(s.head_lib, *((s.encoder, s.ctx.cache) if s.uses_model else (None, None)),
                                                a.fields, a.exclusions)
    for t in targets:
        common = {"file": t.rel, "path": t.shown, "library": doc["library"], **({"status": t.status} if t.status else {})}
        if t.head is None:
            rel = t.base_rel or t.rel
            doc["deleted"].append({**common, "skill": _name(rel, parse(t.base.data or b"", rel).fields),
                                   "against": t.base.ref, "prompts": None})
            continue
        folder = posixpath.basename(posixpath.dirname(t.rel))
        findings, fields = lint_text(t.head, t.rel, folder, known, s.encoder, a.fields)
        name = _name(t.rel, fields)
        findings += shadowed_copy(t.rel, name, s.head_lib)
        doc["files"].append({**common, "skill": name, "against": t.base.ref, "against_state": t.base.state(t.head),
                             "lint": [f.to_dict() for f in findings], "neighbours": near.nearest(name) if near else [],
                             "neighbours_by": {"fields": a.fields, "exclusions": a.exclusions,
                                               "similarity": "embedding cosine" if s.uses_model else "tf-idf cosine"},
                             "what_if": None, "what_if_by_router": [], "as_is": None, "breaches": [], "breached": {},
                             "description_line": parse(t.head, t.rel).key_lines.get("description")})


def route_what_if(doc: dict, s: Session, targets, rules) -> None:
    """Route the eval set over both libraries (the base remembered), then read it per file."""
    from harness.commands.check_base import base_key, load_base, save_base
    from harness.compare.diff import compare
    from harness.compare.load import RunDir
    from harness.compare.policy import evaluate, require_prompts
    from harness.compare.whatif import as_is, blame, deleted_prompts, router_summary, routed, what_if
    from harness.evalsets.evalset import load_eval_sets
    evalset = load_eval_sets(s.args.eval_set)
    cfg = s.config()
    from harness.runs.installed import load_outside
    outside = load_outside(s.args.also_installed or [], s.cache_dir, s.args.invalid_frontmatter)
    if outside:
        doc["also_installed"] = [o.describe() for o in outside]
    key = base_key(s.base_files, evalset.sha256, cfg, s.encoder.sha256 if s.uses_model else None,
                   [(o.library.source, o.library.content_sha256) for o in outside])
    base = load_base(s.cache_dir, key)
    if base is None:
        base = routed("base", cfg, s.base_lib, evalset, s.ctx, outside)
        save_base(s.cache_dir, key, base)
    if s.args.agent_results:  # how far each router is from the stored agents, where they routed: at the base
        from harness.graph.agreement import agreement, stored_agents
        agents = stored_agents(s.args.agent_results, s.base_lib.content_sha256, s.args.allow_library_change)
        records = [r for per in base.records.values() for r in per.values()]
        doc["agreement"] = agreement(records, base.results.routers, agents=agents) or []
    same = s.head_files == s.base_files   # the same library: the same run
    head = RunDir("head", base.results, base.records, base.collisions, base.orphans) if same else \
        routed("head", cfg, s.head_lib, evalset, s.ctx, outside)
    texts = {p.id: p.prompt for p in evalset.prompts}
    if all(t.base.ref is None for t in targets):
        for rep in doc["files"]:
            rep["as_is"] = as_is(rep["skill"], head, texts, s.gate)
        return
    cmp = compare(base, head, 0, {}, intervals=any(r.sig for r in rules))  # only ':sig' reads them
    require_prompts(rules, cmp, s.gate)
    summaries = {r: router_summary(cmp, r) for r in s.routers}
    collisions = {"new_collisions": cmp["collisions"]["new"], "resolved_collisions": cmp["collisions"]["resolved"]}
    doc["what_if"] = {**summaries[s.gate], **collisions}
    doc["what_if_by_router"] = [doc["what_if"] if r == s.gate else summaries[r] for r in s.routers]
    for rep in doc["files"]:
        # the verdict reads the gate router (collisions: its routing graph); every router's what-if is shown
        every = [{**summaries[r], **what_if(rep["skill"], base, head, texts, r)} for r in s.routers]
        every = [{k: v for k, v in w.items() if k != "per_skill"} | {"per_skill": w["per_skill"]} for w in every]  # the report's order
        rep["what_if"] = {**every[s.routers.index(s.gate)], **collisions}
        rep["what_if_by_router"] = [rep["what_if"] if r == s.gate else w for r, w in zip(s.routers, every)]
    for d in doc["deleted"]:
        d["prompts"] = deleted_prompts(d["skill"], base, head, texts, s.gate)
    doc["breaches"] = evaluate(rules, cmp, s.gate)
    laid = blame(rules, cmp, s.gate, {r["path"]: r["skill"] for r in doc["files"] + doc["deleted"]})
    for rep in doc["files"] + doc["deleted"]:
        rep["breached"] = laid[rep["path"]]
        rep["breaches"] = [m for msgs in rep["breached"].values() for m in msgs]


def verdict(doc: dict, strict: bool) -> dict:
    """Each file's lint failures (errors; warnings too under --strict) and verdict, and the check's."""
    for rep in doc["files"]:
        rep["lint_failures"] = sum(f["severity"] == "error" or (strict and f["severity"] == "warning") for f in rep["lint"])
        rep["passed"] = not rep["lint_failures"] and not rep["breaches"]
    doc["lint_failures"] = sum(r["lint_failures"] for r in doc["files"])
    doc["passed"] = not doc["lint_failures"] and not doc["breaches"]
    return doc
