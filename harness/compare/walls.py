"""Comparability walls: what must be equal for two runs' deltas to mean anything."""

from __future__ import annotations

from harness.base.errors import HarnessError

DIMENSIONS = ("eval-set", "labels", "routers", "model", "seed", "fields", "split", "fidelity", "also-installed")
ROUTER_FIDELITY_KEYS = ("exclusions",)  # keys of a router's config that record a fidelity option
ABSENT = "(absent)"


def flatten(value, prefix: str) -> dict[str, object]:
    """Nested dicts as dotted keys to their leaves (lists are leaves)."""
    if not isinstance(value, dict):
        return {prefix: value}
    out: dict[str, object] = {}
    for k in sorted(value):
        out.update(flatten(value[k], f"{prefix}.{k}" if prefix else str(k)))
    return out


def changed(a: dict, b: dict, limit: int = 6) -> str:
    """`key A vs B` for every key whose value differs, in key order (at most `limit`, then a count)."""
    keys = [k for k in sorted(a.keys() | b.keys()) if a.get(k, ABSENT) != b.get(k, ABSENT)]
    show = lambda v: v if v is ABSENT else repr(v)  # noqa: E731
    out = ", ".join(f"{k} {show(a.get(k, ABSENT))} vs {show(b.get(k, ABSENT))}" for k in keys[:limit])
    return out + (f" and {len(keys) - limit} more" if len(keys) > limit else "")


def router_settings(res) -> dict[str, object]:
    """Each router's configuration as dotted keys, without the fidelity options it also records."""
    return flatten({r["name"]: {k: v for k, v in r["config"].items() if k not in ROUTER_FIDELITY_KEYS}
                    for r in res.routers}, "")


def fidelity_settings(res) -> dict:
    """The fidelity options that change what is measured (not what they found), wherever they are
    recorded: results.json's `fidelity`, and the exclusion mode each router's config carries."""
    fid = res.fidelity
    ab, listing = fid.get("abstention"), fid.get("listing")
    out = {"exclusions": fid.get("exclusions", "off"),
           "listing": None if not listing else [listing["per_description"], listing["total"], listing["order"]],
           "abstention": None if not ab else [ab["keep"], ab["rule"], ab["calibration"]["sha256"]]}
    for r in res.routers:
        for k in ROUTER_FIDELITY_KEYS:
            out.update(flatten(r["config"].get(k), f"{r['name']}.{k}") if k in r["config"] else {})
    return out


def differences(base, head) -> dict[str, str]:
    a, b = base.results, head.results
    out = {}
    # results without the split digests (older files) can only tell that something differs
    ea, eb = a.eval_set, b.eval_set
    key = "prompts_sha256" if "prompts_sha256" in ea and "prompts_sha256" in eb else "sha256"
    if ea[key] != eb[key]:
        out["eval-set"] = f"eval-set digest {ea[key][:12]} vs {eb[key][:12]}"
    la, lb = ea.get("labels_sha256"), eb.get("labels_sha256")
    if la != lb:
        out["labels"] = f"labels digest {str(la)[:12]} vs {str(lb)[:12]}"
    ids_a = {pid for r in base.records.values() for pid in r}
    ids_b = {pid for r in head.records.values() for pid in r}
    if ids_a != ids_b:
        out["eval-set"] = out.get("eval-set", "eval-set differs") + f"; {len(ids_a ^ ids_b)} prompt ids in one run only"
    names_a, names_b = set(a.router_names), set(b.router_names)
    both = lambda flat: {k: v for k, v in flat.items() if k.split(".", 1)[0] in names_a & names_b}  # noqa: E731
    ra, rb = both(router_settings(a)), both(router_settings(b))
    said = [f"routers {sorted(names_a)} vs {sorted(names_b)}"] if names_a != names_b else []
    said += [f"router configuration differs: {changed(ra, rb)}"] if ra != rb else []
    if said:
        out["routers"] = "; ".join(said)
    models = lambda res: sorted({r["model_sha256"] for r in res.routers if r["model_sha256"]})  # noqa: E731
    if models(a) != models(b):
        out["model"] = f"model weights {[m[:12] for m in models(a)]} vs {[m[:12] for m in models(b)]}"
    for key in ("seed", "fields"):
        if getattr(a, key) != getattr(b, key):
            out[key] = f"{key} {getattr(a, key)!r} vs {getattr(b, key)!r}"
    fa, fb = fidelity_settings(a), fidelity_settings(b)
    if fa != fb:
        if fa["exclusions"] != fb["exclusions"]:  # the routers' own exclusion settings follow from the mode
            fa, fb = ({k: v for k, v in f.items() if "." not in k} for f in (fa, fb))
        out["fidelity"] = "fidelity options differ: " + changed(fa, fb)
    installed = lambda res: sorted((o["source"], o["content_sha256"][:12]) for o in res.library.get("also_installed", []))  # noqa: E731
    if installed(a) != installed(b):
        out["also-installed"] = f"also-installed libraries {installed(a) or 'none'} vs {installed(b) or 'none'}"
    if ea["split"] != eb["split"]:
        out["split"] = f"split {ea['split']!r} vs {eb['split']!r}"
    return out


def check_walls(base, head, allow: set[str]) -> dict[str, str]:
    """Refuse (exit 2, naming every difference) unless each one is allowed."""
    unknown = allow - set(DIMENSIONS)
    if unknown:
        raise HarnessError(f"--allow-mismatch {', '.join(sorted(unknown))}: not one of {', '.join(DIMENSIONS)}")
    diff = differences(base, head)
    refused = {k: v for k, v in diff.items() if k not in allow}
    if refused:
        raise HarnessError("runs are not comparable: " + "; ".join(f"[{k}] {v}" for k, v in sorted(refused.items()))
                           + " (name an intended difference with --allow-mismatch)")
    return diff
