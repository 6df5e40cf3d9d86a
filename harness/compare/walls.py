"""Comparability walls: what must be equal for two runs' deltas to mean anything."""

from __future__ import annotations


from harness.errors import HarnessError

DIMENSIONS = ("eval-set", "labels", "routers", "model", "seed", "fields", "split", "fidelity")


def fidelity_settings(res: dict) -> dict:
    """The fidelity options that change what is measured (not what they found)."""
    fid = res.get("fidelity") or {}
    ab, listing = fid.get("abstention"), fid.get("listing")
    return {"exclusions": fid.get("exclusions", "off"),
            "listing": None if not listing else [listing["per_description"], listing["total"], listing["order"]],
            "abstention": None if not ab else [ab["keep"], ab["rule"], ab["calibration"]["sha256"]]}


def differences(base, head) -> dict[str, str]:
    a, b = base.results, head.results
    out = {}
    # results without the split digests (older files) can only tell that something differs
    key = "prompts_sha256" if "prompts_sha256" in a["eval_set"] and "prompts_sha256" in b["eval_set"] else "sha256"
    if a["eval_set"][key] != b["eval_set"][key]:
        out["eval-set"] = f"eval-set digest {a['eval_set'][key][:12]} vs {b['eval_set'][key][:12]}"
    la, lb = a["eval_set"].get("labels_sha256"), b["eval_set"].get("labels_sha256")
    if la != lb:
        out["labels"] = f"labels digest {str(la)[:12]} vs {str(lb)[:12]}"
    ids_a = {pid for r in base.records.values() for pid in r}
    ids_b = {pid for r in head.records.values() for pid in r}
    if ids_a != ids_b:
        out["eval-set"] = out.get("eval-set", "eval-set differs") + f"; {len(ids_a ^ ids_b)} prompt ids in one run only"
    cfg = lambda res: {r["name"]: r["config"] for r in res["routers"]}  # noqa: E731
    if cfg(a) != cfg(b):
        out["routers"] = f"router configuration differs: {sorted(cfg(a))} vs {sorted(cfg(b))}"
    models = lambda res: sorted({r["model_sha256"] for r in res["routers"] if r["model_sha256"]})  # noqa: E731
    if models(a) != models(b):
        out["model"] = f"model weights {[m[:12] for m in models(a)]} vs {[m[:12] for m in models(b)]}"
    for key, dim in (("seed", "seed"), ("fields", "fields")):
        if a.get(key) != b.get(key):
            out[dim] = f"{key} {a.get(key)!r} vs {b.get(key)!r}"
    fa, fb = fidelity_settings(a), fidelity_settings(b)
    if fa != fb:
        out["fidelity"] = "fidelity options differ: " + ", ".join(f"{k} {fa[k]!r} vs {fb[k]!r}" for k in fa if fa[k] != fb[k])
    if a["eval_set"]["split"] != b["eval_set"]["split"]:
        out["split"] = f"split {a['eval_set']['split']!r} vs {b['eval_set']['split']!r}"
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
