"""Words as the lexical routers see them, without importing scikit-learn (its import alone
costs about 1.5 s, too much for `check`'s two-second loop).

The analyzer is scikit-learn's CountVectorizer's, step for step: lowercase, the token
pattern, English stop words removed, then n-grams of the remaining tokens joined by a space.
The stop-word list is scikit-learn's own, read from its source file as data (no import);
tests hold it equal to `sklearn.feature_extraction.text.ENGLISH_STOP_WORDS`.
"""

from __future__ import annotations

import ast
import importlib.util
import re
from functools import lru_cache
from pathlib import Path
from typing import Sequence

TOKEN_PATTERN = r"(?u)\b[a-zA-Z0-9][a-zA-Z0-9]+\b"
_TOKEN = re.compile(TOKEN_PATTERN)


@lru_cache(maxsize=1)
def english_stop_words() -> frozenset[str]:
    spec = importlib.util.find_spec("sklearn")
    if spec is not None and spec.submodule_search_locations:
        path = Path(list(spec.submodule_search_locations)[0]) / "feature_extraction" / "_stop_words.py"
        try:
            for node in ast.parse(path.read_text(encoding="utf-8")).body:
                if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "ENGLISH_STOP_WORDS" for t in node.targets):
                    return frozenset(ast.literal_eval(node.value.args[0]))
        except (OSError, SyntaxError, ValueError, AttributeError, IndexError):
            pass
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS  # the layout changed: pay the import
    return frozenset(ENGLISH_STOP_WORDS)


def tokens(text: str, stop_words: bool = True) -> list[str]:
    return list(_tokens(text, stop_words))


@lru_cache(maxsize=1 << 15)  # run and check analyse the same prompts and descriptions for several routers
def _tokens(text: str, stop_words: bool) -> tuple[str, ...]:
    words = _TOKEN.findall(text.lower())
    if stop_words:
        stop = english_stop_words()
        words = [w for w in words if w not in stop]
    return tuple(words)


def ngrams(words: Sequence[str], n_max: int) -> list[str]:
    out = list(words)
    for n in range(2, n_max + 1):
        out += [" ".join(words[i:i + n]) for i in range(len(words) - n + 1)]
    return out


@lru_cache(maxsize=1 << 15)
def terms(text: str, stop_words: bool = True, n_max: int = 1) -> tuple[str, ...]:
    """The word n-grams (1..n_max) of `text` after stop words, memoised."""
    words = _tokens(text, stop_words)
    return tuple(ngrams(words, n_max)) if n_max > 1 else words


_CAMEL1 = re.compile(r"([a-z0-9])([A-Z])")
_CAMEL2 = re.compile(r"([A-Z]+)([A-Z][a-z])")
_SEPARATORS = re.compile(r"[-_/.]+")


@lru_cache(maxsize=1 << 15)
def split_words(text: str) -> str:
    """camelCase -> camel Case; snake_case, kebab-case, a/b and a.b -> separate words (what the
    dense router reads: the encoder's word pieces match whole words better)."""
    text = _CAMEL2.sub(r"\1 \2", _CAMEL1.sub(r"\1 \2", text))
    return _SEPARATORS.sub(" ", text)
