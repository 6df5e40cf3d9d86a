"""results.json and the per-prompt record as JSON Schema (draft 2020-12): `skill-harness schema
results` prints it. Every object whose keys are fixed says `additionalProperties: false` and
requires every key that is always written, so that a file that drifts from the writer fails."""

from __future__ import annotations

from harness.results.schema import REPEAT_KEYS, SCHEMA_VERSION

DRAFT = "https://json-schema.org/draft/2020-12/schema"


def _obj(props: dict, optional: tuple[str, ...] = (), **more) -> dict:
    return {"type": "object", "properties": props, "required": [k for k in props if k not in optional],
            "additionalProperties": False, **more}


def _map(values: dict) -> dict:
    """An object keyed by names (routers, skills, kinds): any key, each value `values`."""
    return {"type": "object", "additionalProperties": values}


def _null(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}]}


def _ref(name: str) -> dict:
    return {"$ref": f"#/$defs/{name}"}


def _enum(*values) -> dict:
    return {"enum": list(values)}


STR, NUM, BOOL = {"type": "string"}, {"type": "number"}, {"type": "boolean"}
COUNT = {"type": "integer", "minimum": 0}
STRS = {"type": "array", "items": STR}
NUMS = {"type": "array", "items": NUM}
SHA256 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
SHARE = _null({"type": "number", "minimum": 0, "maximum": 1})   # None: no prompt to compute it over
INTERVAL = _null({"type": "array", "prefixItems": [NUM, NUM], "items": False, "minItems": 2})
SPLIT = _enum("dev", "test")

MEASURES = ("top1", "recall_at_3", "recall_at_5", "mrr_at_10")

DEFS = {
    "Record": _obj({
        "id": STR, "router": STR, "kind": STR, "split": SPLIT, "expected": STRS, "acceptable": STRS, "in_scope": BOOL,
        "selected": _null(STR), "correct": _null(BOOL), "acceptable_hit": BOOL, "margin": NUM, "abstained": BOOL,
        "confidence": _null(NUM), "error": _null(STR),
        "top": {"type": "array", "items": {"type": "array", "prefixItems": [STR, _null(NUM)], "items": False, "minItems": 2}},
        "not": {**STRS, "minItems": 1},
        "trials": {"type": "array", "items": {"oneOf": [_obj({"selected": _null(STR), "cached": BOOL}), _obj({"error": STR})]}},
        "answered": COUNT, "errors": COUNT, "pass_rate": SHARE, "pass_rate_ci": INTERVAL,
        "selections": _map(COUNT), "flaky": BOOL,
    }, optional=("not", *REPEAT_KEYS),
        dependentRequired={"trials": list(REPEAT_KEYS[1:])},
        # a prompt the router failed on has no answer: neither right nor wrong
        **{"if": {"properties": {"error": STR}}, "then": {"properties": {"correct": {"type": "null"}}},
           "else": {"properties": {"correct": BOOL}}}),
    "Library": _obj({
        "source": STR, "ref": _null(STR), "commit": _null({"type": "string", "pattern": "^[0-9a-f]{40}([0-9a-f]{24})?$"}),
        "content_sha256": SHA256, "skill_files": COUNT, "skills": COUNT, "invalid_frontmatter": _enum("skip", "fallback"),
        "skipped": STRS, "loaded_by_fallback": STRS,
        # --also-installed: the other libraries routed beside this one, in the order given
        "also_installed": {"type": "array", "items": _obj({
            "source": STR, "ref": _null(STR), "commit": _null({"type": "string", "pattern": "^[0-9a-f]{40}([0-9a-f]{24})?$"}),
            "content_sha256": SHA256, "skills": COUNT})}}, optional=("also_installed",)),
    "EvalSet": _obj({
        "paths": STRS, "sha256": SHA256, "prompts_sha256": SHA256, "labels_sha256": SHA256, "split": _enum("dev", "test", "all"),
        "prompts": COUNT, "in_scope": COUNT, "out_of_scope": COUNT, "negative": COUNT, "remapped": COUNT,
        "became_out_of_scope": COUNT, "negatives_dropped": COUNT, "kinds": _map(COUNT), "warnings": STRS,
        "successors": _map(_null(STR))}),
    "Listing": _obj({
        "per_description": _null(COUNT), "total": _null(COUNT), "order": STR, "chars_full": COUNT, "chars_listed": COUNT,
        "skills": COUNT, "name_only": COUNT, "cut": COUNT,
        "skills_cut": {"type": "array", "items": _obj({
            "skill": STR, "listed": _enum("name only", "cut"), "chars_shown": COUNT, "chars_lost": COUNT,
            "distinguishing_terms_lost": STRS})}}),
    "Abstention": _obj({
        "keep": NUM, "rule": _enum("score", "margin", "learned"),
        "calibration": _obj({"paths": STRS, "sha256": SHA256, "split": {"const": "dev"}, "in_scope": COUNT,
                             "out_of_scope": COUNT}),
        "routers": _map(_obj({
            "rule": _enum("score", "margin", "learned"), "keep": NUM, "threshold": NUM, "calibration_kept": SHARE,
            "calibration_oos_false_route": SHARE,
            "model": _obj({"features": STRS, "mean": NUMS, "scale": NUMS, "coefficients": NUMS, "intercept": NUM})},
            optional=("model",)))}),
    "Fidelity": _obj({"exclusions": _enum("off", "strip", "reroute"), "listing": _null(_ref("Listing")),
                      "excluded_items": _null(COUNT), "abstention": _null(_ref("Abstention"))}),
    # a router's config holds what that router is tuned by: its keys differ from router to router
    # reported (command routers only): the most frequent "agent" and "model" their answers carried
    "Router": _obj({"name": STR, "config": {"type": "object"}, "model": _null(STR), "model_sha256": _null(SHA256),
                    "reported": _obj({"agent": _null(STR), "model": _null(STR)})}, optional=("reported",)),
    "Metrics": _obj({
        **{m: SHARE for m in MEASURES}, "top1_lenient": SHARE, "oos_false_route": SHARE, "false_trigger": SHARE,
        "negative": COUNT, "false_trigger_count": COUNT, "top1_ci": INTERVAL, "recall_at_3_ci": INTERVAL,
        "in_scope_kept": SHARE, "auroc": _null(NUM), "errors": COUNT, "trials": _null(COUNT),
        "trial_pass_rate": SHARE, "trial_pass_rate_ci": INTERVAL, "flaky_prompts": _null(COUNT)}),
    "KindMetrics": _obj({
        "prompts": COUNT, "in_scope": COUNT, "top1": SHARE, "recall_at_3": SHARE, "out_of_scope": COUNT,
        "oos_false_route": SHARE, "negative": COUNT, "false_trigger": SHARE, "errors": COUNT}),
    "SkillScore": _obj({"support": COUNT, "predicted": COUNT, "recall": SHARE, "precision": SHARE, "f1": SHARE}),
    "Confusion": _obj({"expected": STR, "selected": STR, "count": {"type": "integer", "minimum": 1}}),
    "Skill": _obj({"plugin": STR, "path": STR, "copies": {"type": "integer", "minimum": 1}, "description_sha256": SHA256}),
    # one (proxy, agent) pair: rates over the prompts both answered; None where undefined
    "Agreement": _obj({
        "proxy": STR, "agent": STR, "prompts": COUNT, "errors": COUNT, "same_choice": SHARE,
        "same_choice_in_scope": SHARE, "kappa": _null({"type": "number", "minimum": -1, "maximum": 1}),
        "misroute_precision": SHARE, "misroute_recall": SHARE, "collisions_confirmed": COUNT,
        "collisions_refuted": COUNT}),
    "Finding": _obj({"severity": _enum("error", "warning", "info"), "code": STR, "path": STR, "line": COUNT, "skill": STR,
                     "message": STR}),
}

SCHEMA = {
    "$schema": DRAFT,
    "$id": f"urn:skill-harness:results:{SCHEMA_VERSION}",
    "title": "skill-harness results.json",
    "description": "One run: a library release, an eval set and routers. The per-prompt record "
                   "(a row of per_prompt.csv / per_prompt.parquet) is $defs/Record.",
    **_obj({
        "schema_version": {"const": SCHEMA_VERSION}, "harness_version": STR, "library": _ref("Library"),
        "eval_set": _ref("EvalSet"), "seed": {"type": "integer"}, "fields": _enum("both", "name", "description"),
        "top_k": {"type": "integer", "minimum": 1}, "fidelity": _ref("Fidelity"), "default_router": _null(STR),
        "routers": {"type": "array", "items": _ref("Router")}, "metrics": _map(_ref("Metrics")),
        "per_kind": _map(_map(_ref("KindMetrics"))), "per_skill": _map(_map(_ref("SkillScore"))),
        "confusion": _map({"type": "array", "items": _ref("Confusion")}), "skills": _map(_ref("Skill")),
        "findings": {"type": "array", "items": _ref("Finding")},
        # --also-installed only: the library's in-scope prompts an outside skill took, per router
        "cross_library": {"type": "array", "items": _obj({
            "router": STR, "victim": STR, "thief": STR, "thief_library": STR, "prompts": {"type": "integer", "minimum": 1}})},
        "also_installed_effect": _map(_obj({"top1_alone": SHARE, "top1": SHARE})),
        "agreement": {"type": "array", "items": _ref("Agreement")},
    }, optional=("cross_library", "also_installed_effect", "agreement")),
    "$defs": DEFS,
}

SCHEMAS = {"results": SCHEMA}  # `skill-harness schema NAME`


def _shape(value):
    """A value's JSON types, one level into lists and objects: records of one shape differ in values only."""
    if isinstance(value, dict):
        return tuple((k, type(v).__name__, _shape(v[0]) if isinstance(v, list) and v else None) for k, v in value.items())
    return type(value).__name__


def validate(doc: dict, records: list[dict] = (), first: int = 1000) -> None:
    """Raise ValueError (one line: where and what) unless `doc` is a valid results.json and the
    records valid $defs/Record: the `first` ones and one of every other shape (checking each of
    100,000 records would take minutes). Needs the `jsonschema` package (the test extra)."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match
    seen, sample = set(), []
    for i, rec in enumerate(records):
        shape = _shape(rec)
        if i < first or shape not in seen:
            sample.append(rec)
        seen.add(shape)
    for what, schema, value in (("results.json", SCHEMA, doc),
                                ("per-prompt records", {"$schema": DRAFT, "$defs": DEFS, "type": "array",
                                                        "items": _ref("Record")}, sample)):
        err = best_match(Draft202012Validator(schema).iter_errors(value))
        if err is not None:
            where = "/".join(str(p) for p in err.absolute_path) or "(top)"
            raise ValueError(f"{what} does not match its JSON Schema at {where}: {err.message}"[:500])
