"""Diagnose: what `check` knows about one skill, made actionable, on the dev split.

The skill's own dev prompts it loses and to whom, and why, word by word (harness.routers.explain:
each word's part of the rival's BM25 score and of the own skill's, and the change in the
rival's cosine lead when the word is dropped from the prompt); the skill's distinctive terms
that none of its prompts use; the words past the encoder's cut; and the lint findings that
hide text from the agent (errors, and the truncation warning).
"""

from __future__ import annotations

from harness.library.exclusions import as_read
from harness.library.model import router_text

HIDING = ("description-truncated",)  # warnings that hide text too (the errors all do)


def explainer(library, texts: dict[str, str], cfg, encoder=None, cache=None):
    """An Explainer over what the routers read, with `texts` in place of some descriptions."""
    from harness.routers.explain import Explainer
    docs = [router_text(s.name, as_read(texts.get(s.name, s.description), cfg.routing.exclusions), cfg.routing.fields)
            for s in library.skills]
    return Explainer(library.names, docs, encoder, cache)


def unused_terms(name: str, library, texts: dict[str, str], cfg, prompts: list[str], top: int = 8) -> list[str]:
    """The skill's heaviest terms (tf-idf over the library) that none of its prompts contain."""
    from harness.base.textproc import tokens
    from harness.graph.terms import TermIndex
    index = TermIndex(library.names, [as_read(texts.get(s.name, s.description), cfg.routing.exclusions) for s in library.skills])
    said = set().union(*(set(tokens(p)) for p in prompts)) if prompts else set()
    ranked = sorted(index.weights(name).items(), key=lambda kv: (-kv[1], kv[0]))
    return [t for t, _ in ranked if not set(t.split()) <= said][:top]


def past_cut(name: str, text: str, encoder, fields: str) -> tuple[int | None, str | None]:
    """(tokens the encoder would read of the skill's text, the text past its cut or None)."""
    if encoder is None:
        return None, None
    full = router_text(name, text, fields)
    n = encoder.count_tokens([full])[0]
    return n, (encoder.tail_past(full, encoder.max_tokens) if n > encoder.max_tokens else None)


def diagnose(side, library, screen, sel: list, explain, encoder, known: set[str]) -> dict:
    """One skill's diagnosis at the starting text (`sel`: the dev prompts' selections)."""
    from harness.library.lint import lint_text
    name, cfg = side.name, screen.cfg
    text = library.get(name).description
    own = [(p, ok, s) for p, ok, s in zip(screen.prompts, screen.correct, sel) if name in p.expected]
    lost = [(p, s) for p, ok, s in own if not ok(s)]
    whys = explain.why([(p.prompt, name, s) for p, s in lost if s is not None])
    it = iter(whys)
    tokens, tail = past_cut(name, text, encoder, cfg.routing.fields)
    findings, _ = lint_text(side.data, side.rel, side.folder, known, encoder, cfg.routing.fields)
    return {
        "skill": name, "path": side.rel, "dev_prompts": len(own), "won": len(own) - len(lost),
        "lost": [{"id": p.id, "prompt": p.prompt, "to": s, "why": next(it) if s is not None else []} for p, s in lost],
        "unused_terms": unused_terms(name, library, {}, cfg, [p.prompt for p, _, _ in own]),
        "tokens": tokens, "max_tokens": getattr(encoder, "max_tokens", None), "past_cut": tail,
        "lint": [f.to_dict() for f in findings if f.severity == "error" or f.code in HIDING],
    }
