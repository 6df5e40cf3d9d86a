"""Each collision's evidence, word by word: which words of an evidence prompt pull it to the thief
(harness.routers.explain), for the collisions a report shows first (high and medium)."""

from __future__ import annotations

EXPLAINED = 3  # evidence prompts explained per collision (report.md lists three)
COLLISIONS = 50  # collisions explained: the first high and medium ones (a large catalog can have thousands)


def explain_evidence(collisions: list[dict], library, results, encoder=None, cache=None) -> None:
    """In place: the first EXPLAINED evidence prompts of the first COLLISIONS high or medium
    collisions (in the order given: severity, then score) get `why`,
    the words pulling them from the victim to the thief, as the routers read the descriptions
    (the run's `fields` and exclusion mode)."""
    shown = [c for c in collisions if c["severity"] in ("high", "medium")][:COLLISIONS]
    todo = [(c, e) for c in shown for e in c["evidence"][:EXPLAINED]]
    if not todo:
        return
    from harness.library.exclusions import as_read
    from harness.library.model import router_text
    from harness.routers.explain import Explainer
    mode = (results.fidelity or {}).get("exclusions", "off")
    docs = [router_text(s.name, as_read(s.description, mode), results.fields) for s in library.skills]
    whys = Explainer(library.names, docs, encoder, cache).why([(e["prompt"], c["victim"], c["thief"]) for c, e in todo])
    for (_, e), why in zip(todo, whys):
        e["why"] = why
