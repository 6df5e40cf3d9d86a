"""What a run writes, typed: `Results` (results.json) and `Record` (one prompt routed by one
router: a row of per_prompt.csv). `harness.results.io` is their only reader and writer;
`harness.results.jsonschema` publishes both as JSON Schema.

schema_version 2 adds `default_router` (the router gates and headlines read, recorded once);
results.json files of schema_version 1 (skill-harness 0.2.0) are read with it filled in by
`default_router()`, the rule those versions applied wherever they needed it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Sequence

from harness import __version__
from harness.base.errors import HarnessError

SCHEMA_VERSION = 2
READS = (1, 2)  # the schema versions `Results.from_dict` reads


def default_router(routers: Sequence[str]) -> str | None:
    """The router gates and headlines read: hybrid when it ran, else the first one (None: no router)."""
    return "hybrid" if "hybrid" in routers else (routers[0] if routers else None)


# the per-prompt figures of a router asked several times (--repeat): written only then
REPEAT_KEYS = ("trials", "answered", "errors", "pass_rate", "pass_rate_ci", "selections", "flaky")


@dataclass
class Record:
    """One prompt routed by one router. `correct` is None when the router failed on the prompt
    (`error`): no answer is neither right nor wrong, and every reader must keep it apart."""
    id: str
    router: str
    kind: str
    split: str
    expected: list[str]
    acceptable: list[str]
    in_scope: bool
    selected: str | None                  # the skill the agent would load; None = no skill
    correct: bool | None
    acceptable_hit: bool
    margin: float
    abstained: bool
    confidence: float | None
    error: str | None
    top: list[list]                       # [name, score] best first; score None for a command router
    not_: list[str] = field(default_factory=list)     # "not": skills a negative prompt must not get
    repeats: dict | None = None           # REPEAT_KEYS, when the router was asked several times

    @property
    def ranked(self) -> list[str]:
        """The ranking the agent ends up with: nothing when the router abstained or chose no skill."""
        return [] if self.abstained or self.selected is None else [t[0] for t in self.top]

    def to_dict(self) -> dict:
        doc = {"id": self.id, "router": self.router, "kind": self.kind, "split": self.split,
               "expected": list(self.expected), "acceptable": list(self.acceptable), "in_scope": self.in_scope,
               "selected": self.selected, "correct": self.correct, "acceptable_hit": self.acceptable_hit,
               "margin": self.margin, "abstained": self.abstained, "confidence": self.confidence, "error": self.error,
               "top": self.top}
        if self.not_:
            doc["not"] = list(self.not_)
        if self.repeats is not None:
            doc.update({k: self.repeats[k] for k in REPEAT_KEYS})
        return doc

    @classmethod
    def from_dict(cls, d: dict) -> Record:
        repeats = {k: d[k] for k in REPEAT_KEYS} if "trials" in d else None
        return cls(d["id"], d["router"], d["kind"], d["split"], list(d["expected"]), list(d["acceptable"]), d["in_scope"],
                   d["selected"], d["correct"], d["acceptable_hit"], d["margin"], d["abstained"], d["confidence"],
                   d["error"], [list(t) for t in d["top"]], list(d.get("not", [])), repeats)


def by_router(records: Sequence[Record]) -> dict[str, dict[str, Record]]:
    """Records as router -> prompt id -> record."""
    out: dict[str, dict[str, Record]] = {}
    for r in records:
        out.setdefault(r.router, {})[r.id] = r
    return out


@dataclass
class RouterResult:
    """One router's part of a run: what it is (name, config, model), its measures, its records."""
    info: dict
    metrics: dict
    per_kind: dict
    per_skill: dict
    confusion: list
    records: list[Record]


@dataclass
class Results:
    """results.json. The sections below the top level are plain JSON objects whose every key is
    listed in harness.results.jsonschema (the reference for their meaning)."""
    library: dict          # source, ref, commit, content digest, file and skill counts
    eval_set: dict         # paths, digests, counts, scoping to this release
    routers: list[dict]    # name, config, model, model_sha256: in the order they ran
    metrics: dict          # router -> measures
    per_kind: dict         # router -> kind -> measures beside their denominators
    per_skill: dict        # router -> skill -> precision, recall, F1, support
    confusion: dict        # router -> [{expected, selected, count}]
    skills: dict           # name -> plugin, path, copies, description_sha256
    findings: list[dict]
    seed: int = 0
    fields: str = "both"
    top_k: int = 10
    fidelity: dict = field(default_factory=dict)
    default_router: str | None = None
    agreement: list[dict] | None = None   # proxy vs agent, per pair (graph.agreement); only when a run has both
    schema_version: int = SCHEMA_VERSION
    harness_version: str = __version__
    cross_library: list | None = None          # --also-installed only: (router, victim, thief) counts
    also_installed_effect: dict | None = None  # --also-installed only: router -> top1_alone, top1

    @property
    def router_names(self) -> list[str]:
        return [r["name"] for r in self.routers]

    def to_dict(self) -> dict:
        return {"schema_version": self.schema_version, "harness_version": self.harness_version, "library": self.library,
                "eval_set": self.eval_set, "seed": self.seed, "fields": self.fields, "top_k": self.top_k,
                "fidelity": self.fidelity, "default_router": self.default_router, "routers": self.routers,
                "metrics": self.metrics, "per_kind": self.per_kind, "per_skill": self.per_skill,
                "confusion": self.confusion, "skills": self.skills, "findings": self.findings,
                **({} if self.cross_library is None else {"cross_library": self.cross_library}),
                **({} if self.also_installed_effect is None else {"also_installed_effect": self.also_installed_effect}),
                **({} if self.agreement is None else {"agreement": self.agreement})}

    @classmethod
    def from_dict(cls, doc, where: str = "results.json") -> Results:
        """A results.json document of any schema version in READS, as this version's document (an
        older one gets what it lacks: schema 1 its default router); a file that is not one is bad
        input (one line naming the file and what is wrong)."""
        if not isinstance(doc, dict) or "schema_version" not in doc:
            raise HarnessError(f"{where}: not a skill-harness results file")
        version = doc["schema_version"]
        if isinstance(version, bool) or version not in READS:
            raise HarnessError(f"{where}: schema_version {version!r}, and this skill-harness {__version__} reads "
                               f"{' and '.join(map(str, READS))} (a newer skill-harness wrote it?)")
        missing = [k for k in ("library", "eval_set", "routers", "metrics", "per_kind", "per_skill", "confusion",
                               "findings") if k not in doc]
        if version >= 2 and "default_router" not in doc:
            missing.append("default_router")
        if missing:
            raise HarnessError(f"{where}: not a complete results file (no {', '.join(repr(k) for k in missing)})")
        try:
            names = [r["name"] for r in doc["routers"]]
        except (TypeError, KeyError):
            raise HarnessError(f"{where}: 'routers' must be a list of objects with a 'name'") from None
        return cls(doc["library"], doc["eval_set"], doc["routers"], doc["metrics"], doc["per_kind"], doc["per_skill"],
                   doc["confusion"], doc.get("skills", {}), doc["findings"], doc.get("seed", 0), doc.get("fields", "both"),
                   doc.get("top_k", 10), doc.get("fidelity") or {},
                   doc["default_router"] if version >= 2 else default_router(names), agreement=doc.get("agreement"),
                   harness_version=doc.get("harness_version", ""), cross_library=doc.get("cross_library"),
                   also_installed_effect=doc.get("also_installed_effect"))


def build_results(library, evalset, scoped, split: str, seed: int, fields: str, top_k: int, fidelity: dict,
                  runs: Sequence[RouterResult], findings) -> Results:
    """The results document of one run: `library` (Library), `evalset` (EvalSet) as given and
    `scoped` (evalsets.Scoped) to this release, the routers' parts in the order they ran, and
    the findings (sorted Finding objects)."""
    from harness.library.model import sha256_text
    prompts = scoped.prompts
    names = [r.info["name"] for r in runs]
    ev = {"paths": evalset.paths, "sha256": evalset.sha256, "prompts_sha256": evalset.prompts_sha256,
          "labels_sha256": evalset.labels_sha256, "split": split,
          "prompts": len(prompts), "in_scope": sum(p.in_scope for p in prompts),
          "out_of_scope": sum(p.out_of_scope for p in prompts), "negative": sum(p.negative_only for p in prompts),
          "remapped": scoped.remapped, "became_out_of_scope": scoped.became_out_of_scope,
          "negatives_dropped": scoped.negatives_dropped, "kinds": dict(sorted(Counter(p.kind for p in prompts).items())),
          "warnings": evalset.warnings, "successors": evalset.successors}
    skills = {s.name: {"plugin": s.plugin, "path": s.path, "copies": len(s.copies),
                       "description_sha256": sha256_text(s.description)} for s in library.skills}
    return Results(library.describe(), ev, [r.info for r in runs], {n: r.metrics for n, r in zip(names, runs)},
                   {n: r.per_kind for n, r in zip(names, runs)}, {n: r.per_skill for n, r in zip(names, runs)},
                   {n: r.confusion for n, r in zip(names, runs)}, skills, [f.to_dict() for f in findings],
                   seed, fields, top_k, fidelity, default_router(names))


def fidelity_section(exclusions: str, listing: dict | None, excluded_items: int | None,
                     abstention: dict | None) -> dict:
    """results.json's `fidelity`: `abstention` is None without --abstain, else {keep, rule,
    calibration, routers}."""
    return {"exclusions": exclusions, "listing": listing, "excluded_items": excluded_items, "abstention": abstention}
