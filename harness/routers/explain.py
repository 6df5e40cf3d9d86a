"""Why a prompt goes to a rival skill rather than its own, word by word, in the default router's terms.

For each word of the prompt (the lexical router's words: lowercase, English stop words out):
- `bm25_rival`, `bm25_own`: the word's contribution to the rival's and to the own skill's BM25
  score (the hybrid's lexical half, over words and word pairs; a pair's weight is split evenly
  between its two words, so the words' contributions add up to the score);
- `dense`: how much the rival's lead in embedding cosine (rival minus own) falls when every
  occurrence of the word is dropped from the prompt (None without an encoder);
- `pull`: both in the hybrid's units, each half divided by the spread (standard deviation) of the
  prompt's scores over the library and weighted as the hybrid weighs them (0.7 dense, 0.3
  lexical): the part of the rival's fused lead that the word explains.

Words that pull toward the rival (pull > 0) are listed, strongest first (`check`'s collision
evidence in report.md and the HTML report, and `improve`'s diagnosis read this).
"""

from __future__ import annotations

import re
from typing import Sequence

import numpy as np

from harness.base.textproc import split_words, tokens


def drop_word(prompt: str, word: str) -> str:
    """The prompt with every occurrence of `word` (a lowercase token) removed."""
    return " ".join(re.sub(rf"\b{re.escape(word)}\b", " ", prompt, flags=re.IGNORECASE).split())


class Explainer:
    """Fitted once on the texts the routers read (one per skill, in `names` order)."""

    def __init__(self, names: Sequence[str], docs: Sequence[str], encoder=None, cache=None):
        from harness.routers.hybrid import WEIGHT, HybridRouter
        hybrid = HybridRouter(None)  # its settings only: the lexical half is fitted here, the dense half read below
        self.weight, self.lex = WEIGHT, hybrid.lexical
        self.names = list(names)
        self.pos = {n: i for i, n in enumerate(self.names)}
        self.lex.fit(list(docs))
        self.encoder, self.cache = encoder, cache
        self.docs_emb = self._embed(list(docs)) if encoder is not None and cache is not None and docs else None

    def _embed(self, texts: list[str]) -> np.ndarray:
        """`improve`'s encoder (it has `caches`) a few texts a call, so it takes its numpy pass (no
        torch load); the torch encoder all in one call, in whole batches (it gives each text the
        same vector whatever its company; calls of 8 texts of 8 lengths ran 8 padded passes)."""
        from harness.encoders.numpy_forward import FAST_MAX
        texts = [split_words(t) for t in texts]
        step = FAST_MAX if hasattr(self.encoder, "caches") else max(1, len(texts))
        parts = [self.cache.embed(self.encoder, texts[i:i + step]) for i in range(0, len(texts), step)]
        return np.vstack(parts) if parts else np.zeros((0, 0), dtype=np.float32)

    def why(self, items: Sequence[tuple[str, str, str]], top: int = 5) -> list[list[dict]]:
        """For each (prompt, own skill, rival skill): the words pulling the prompt to the rival."""
        items = [(p, o, r) for p, o, r in items]
        if not items:
            return []
        prompts = [p for p, _, _ in items]
        lex = self.lex.score(prompts)
        words = [sorted(set(tokens(p))) for p in prompts]
        dense, variants = None, []
        if self.docs_emb is not None:
            texts = prompts + [drop_word(p, w) for p, ws in zip(prompts, words) for w in ws]
            emb = self._embed(texts)
            dense = emb[:len(prompts)] @ self.docs_emb.T
            variants = emb[len(prompts):]
        out, k = [], 0
        for i, (p, own, rival) in enumerate(items):
            o, r = self.pos[own], self.pos[rival]
            contrib: dict[str, list[float]] = {w: [0.0, 0.0] for w in words[i]}
            for term, w in self.lex.term_weights(p).items():
                parts = term.split()
                for word in parts:
                    c = contrib.setdefault(word, [0.0, 0.0])
                    c[0] += float(w[r]) / len(parts)
                    c[1] += float(w[o]) / len(parts)
            sd_lex = float(lex[i].std())
            drops: dict[str, float] = {}
            if dense is not None:
                sd_den = float(dense[i].std())
                lead = float(dense[i, r] - dense[i, o])
                for w in words[i]:
                    v = variants[k]
                    k += 1
                    drops[w] = lead - float(v @ self.docs_emb[r] - v @ self.docs_emb[o])
            rows = []
            for w, (to_rival, to_own) in contrib.items():
                lex_part = (to_rival - to_own) / sd_lex if sd_lex > 0 else 0.0
                if dense is None:
                    pull = lex_part
                else:
                    pull = (1 - self.weight) * lex_part + self.weight * (drops.get(w, 0.0) / sd_den if sd_den > 0 else 0.0)
                rows.append((pull, w, to_rival, to_own, drops.get(w)))
            rows.sort(key=lambda x: (-x[0], x[1]))
            out.append([{"term": w, "pull": round(pull, 4), "bm25_rival": round(tr, 4), "bm25_own": round(to, 4),
                         "dense": None if d is None else round(d, 4)}
                        for pull, w, tr, to, d in rows if pull > 0][:top])
        return out


def short(why: list[dict], n: int = 3) -> str:
    """'kafka (+0.41), express (+0.22)': the strongest pulls, for one line of a report."""
    return ", ".join(f"{w['term']} ({w['pull']:+.2f})" for w in why[:n])
