"""Candidate fusions of the dense and the lexical half, for benchmarks/tune_fusion.py.

Every candidate reads the same two score matrices (prompts x skills) that the shipped hybrid
reads, MiniLM cosine (words split) and BM25 over words and word pairs (k1 1.5, b 0.9), plus
per-prompt quantities computed without labels:
  coverage  share of the prompt's content words (stop words out) found in the library's words
  matched   the lexical top score over the most the prompt's terms could score (each term's
            idf x (k1 + 1); a term no skill holds counts with the idf of a term in no document)
  gap       a half's (top - second) / (top - median): how far its top stands above the rest
  entropy   1 - normalised entropy of softmax(z-scores): how peaked a half's distribution is
A candidate is a function of those; the fused score of most is w_dense z(dense) + w_lex z(lexical)
with per-prompt weights (the default: 0.7 and 0.3 for every prompt).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from harness.base.textproc import terms, tokens
from harness.routers.dense import DenseRouter
from harness.routers.lexical import BM25Router

DEFAULT_RATIO = 0.3 / 0.7  # w_lex / w_dense of the default


def zscore(m: np.ndarray) -> np.ndarray:
    sd = m.std(axis=1, keepdims=True)
    return np.where(sd > 0, (m - m.mean(axis=1, keepdims=True)) / np.where(sd > 0, sd, 1), 0.0)


def minmax(m: np.ndarray) -> np.ndarray:
    lo = m.min(axis=1, keepdims=True)
    span = m.max(axis=1, keepdims=True) - lo
    return np.where(span > 0, (m - lo) / np.where(span > 0, span, 1), 0.0)


def avg_rank(m: np.ndarray) -> np.ndarray:
    """1 = the highest score; tied scores share their average rank (no dependence on skill order)."""
    from scipy.stats import rankdata
    return rankdata(-m, axis=1, method="average")


@dataclass
class Parts:
    """One library x split: the two halves' scores and the per-prompt evidence."""
    dense: np.ndarray
    lexical: np.ndarray
    coverage: np.ndarray
    matched: np.ndarray

    def __post_init__(self):
        self.zd, self.zl = zscore(self.dense), zscore(self.lexical)
        self.gap_d, self.gap_l = gap(self.dense), gap(self.lexical)
        self.ent_d, self.ent_l = peak(self.zd), peak(self.zl)
        self.agree, self.corr10 = top1_agree(self.dense, self.lexical), top_corr(self.dense, self.lexical, 10)
        self.stat = {name: f(self, slice(None)) for name, f in RUN_STATS.items()}


def gap(m: np.ndarray) -> np.ndarray:
    s = -np.sort(-m, axis=1)
    span = s[:, 0] - np.median(m, axis=1)
    return np.where(span > 0, (s[:, 0] - s[:, 1]) / np.where(span > 0, span, 1), 0.0)


def peak(z: np.ndarray) -> np.ndarray:
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    h = -(p * np.log(np.where(p > 0, p, 1))).sum(axis=1)
    return np.clip(1 - h / np.log(z.shape[1]), 0.0, 1.0)


def top_set(m: np.ndarray, k: int) -> np.ndarray:
    """Every skill scoring at least the k-th highest score (ties in, so no dependence on skill order)."""
    kth = -np.sort(-m, axis=1)[:, min(k, m.shape[1]) - 1]
    return m >= kth[:, None]


def top1_agree(dense: np.ndarray, lexical: np.ndarray) -> np.ndarray:
    """1 where the dense top-1 is also a lexical top-1 (and the lexical half scores anything)."""
    lex_top = (lexical == lexical.max(axis=1, keepdims=True)) & (lexical.max(axis=1, keepdims=True) > 0)
    return ((dense == dense.max(axis=1, keepdims=True)) & lex_top).any(axis=1).astype(np.float64)


def top_corr(dense: np.ndarray, lexical: np.ndarray, k: int) -> np.ndarray:
    """Spearman correlation of the two halves' scores over the union of their top-k skills (0 when
    either half is constant there)."""
    from scipy.stats import rankdata
    union = top_set(dense, k) | top_set(lexical, k)
    out = np.zeros(len(dense))
    for i in range(len(dense)):
        rd, rl = rankdata(dense[i, union[i]]), rankdata(lexical[i, union[i]])
        sd, sl = rd.std(), rl.std()
        if sd > 0 and sl > 0:
            out[i] = ((rd - rd.mean()) * (rl - rl.mean())).mean() / (sd * sl)
    return out


# Run-level statistics: one number for a whole run's prompts (and the library), no labels.
# idx selects the prompts of the run (a slice for the whole split, an index array for a subset).
RUN_STATS = {
    "mean coverage": lambda p, idx: float(p.coverage[idx].mean()),
    "median coverage": lambda p, idx: float(np.median(p.coverage[idx])),
    "mean matched": lambda p, idx: float(p.matched[idx].mean()),
    "top-1 agreement": lambda p, idx: float(p.agree[idx].mean()),
    "top-10 rank correlation": lambda p, idx: float(p.corr10[idx].mean()),
}


def library_words(bm: BM25Router) -> set[str]:
    """The single words of a fitted BM25 router's vocabulary (its terms without word pairs)."""
    return {w for w in bm._vocab if " " not in w}


def coverage(query: str, words: set[str]) -> float:
    """The share of the query's distinct content words (stop words out) found in `words`; 0 for none."""
    ws = set(tokens(query))
    return len(ws & words) / len(ws) if ws else 0.0


def compute_parts(docs: list[str], queries: list[str], ctx) -> Parts:
    dense = DenseRouter(ctx)
    dense.fit(docs)
    bm = BM25Router(k1=1.5, b=0.9, ngram_max=2)
    bm.fit(docs)
    lex = bm.score(queries)
    words = library_words(bm)
    n = len(docs)
    df = bm.postings.df
    idf = dict(zip(sorted(bm._vocab, key=bm._vocab.get), np.log((n - df + 0.5) / (df + 0.5) + 1.0)))
    unseen = np.log((n + 0.5) / 0.5 + 1.0)
    cov, most = np.zeros(len(queries)), np.zeros(len(queries))
    for i, q in enumerate(queries):
        cov[i] = coverage(q, words)
        most[i] = (bm.k1 + 1) * sum(idf.get(t, unseen) for t in set(terms(q, True, 2)))
    matched = np.where(most > 0, lex.max(axis=1) / np.where(most > 0, most, 1), 0.0)
    return Parts(dense.score(queries), lex, cov, matched)


def weighted(p: Parts, w_lex: np.ndarray | float, w_dense: np.ndarray | float | None = None) -> np.ndarray:
    """w_dense z(dense) + w_lex z(lexical), per-prompt weights (w_dense: 1 - w_lex unless given)."""
    wl = np.asarray(w_lex, dtype=np.float64)
    wd = 1 - wl if w_dense is None else np.asarray(w_dense, dtype=np.float64)
    col = lambda w: w[:, None] if w.ndim else w  # noqa: E731
    return col(wd) * p.zd + col(wl) * p.zl


# --------------------------------------------------------------------------- candidates

def lexical_evidence(p: Parts, kind: str, a: float) -> np.ndarray:
    """A per-prompt factor in [0, 1] that scales the lexical weight."""
    if kind == "coverage":
        return p.coverage ** a
    if kind == "matched":
        return np.minimum(1.0, p.matched / a)
    if kind == "gap":
        return p.gap_l ** a
    if kind == "entropy":
        return p.ent_l ** a
    raise ValueError(kind)


W0 = (0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6)
EVIDENCE = {"coverage": (0.5, 1, 1.5, 2, 3), "matched": (0.05, 0.1, 0.2, 0.3, 0.5),
            "gap": (0.5, 1, 2), "entropy": (0.5, 1, 2)}
GATES = {"coverage": (0.3, 0.5, 0.7, 0.9, 1.0), "matched": (0.02, 0.05, 0.1, 0.15, 0.2)}
CLIPS = (1.5, 2, 3, 4, 6)
RRF_KS = (5, 10, 30, 60)
MNZ_KS = (3, 5, 10, 20, 0)  # 0: every skill a half scores above zero counts as retrieved
# Run-level dial: w_lex = w_lo + (w_hi - w_lo) * clip((S - a) / (b - a), 0, 1), S one of RUN_STATS over
# the run's prompts. The (a, b) grids bracket the two libraries' dev values (AWS / MetaTool: mean and
# median coverage 0.73 / 0.47, matched 0.093 / 0.050, agreement 0.58 / 0.36, correlation 0.01 / -0.13):
# some put both libraries on the ramp, some put each at its own end.
DIAL_AB = {"mean coverage": ((0.3, 0.45, 0.55), (0.65, 0.75, 0.9)),
           "median coverage": ((0.3, 0.45, 0.55), (0.65, 0.75, 0.9)),
           "mean matched": ((0.02, 0.04, 0.06), (0.08, 0.1, 0.15)),
           "top-1 agreement": ((0.2, 0.35, 0.45), (0.5, 0.6, 0.75)),
           "top-10 rank correlation": ((-0.3, -0.15, -0.05), (0.0, 0.05, 0.2))}
DIAL_LO, DIAL_HI = (0.0, 0.05, 0.1, 0.15), (0.25, 0.3, 0.35)
DIAL_COV = 1.5                           # the dial times the chosen per-prompt form, coverage^1.5
DIAL_COV_HI = (0.3, 0.35, 0.4, 0.5)      # ... whose factor is below 1, so w_hi reaches higher


def dial(s: float | np.ndarray, a: float, b: float, w_lo: float, w_hi: float):
    """The run's lexical weight for a run-level statistic s (a smooth ramp from w_lo at a to w_hi at b)."""
    return w_lo + (w_hi - w_lo) * np.clip((np.asarray(s, dtype=np.float64) - a) / (b - a), 0.0, 1.0)


def dial_weight(p: Parts, prm: dict) -> np.ndarray | float:
    """A dial family's per-prompt lexical weight on a run (its parameters as candidates() yields them)."""
    w = dial(p.stat[prm["S"]], prm["a"], prm["b"], prm["w_lo"], prm["w_hi"])
    return w * p.coverage ** prm["cov"] if "cov" in prm else float(w)


def dial_candidates():
    for stat, (As, Bs) in DIAL_AB.items():
        for cov, his in ((None, DIAL_HI), (DIAL_COV, DIAL_COV_HI)):
            fam = f"dial: {stat}" + (" x coverage^1.5" if cov else "")
            for a, b, lo, hi in itertools.product(As, Bs, DIAL_LO, his):
                prm = {"S": stat, "a": a, "b": b, "w_lo": lo, "w_hi": hi} | ({"cov": cov} if cov else {})
                yield fam, prm, lambda p, prm=prm: weighted(p, dial_weight(p, prm))


def candidates():
    """(family, params, fn(Parts) -> scores); the current default first."""
    yield "current default", {"w_dense": 0.7}, lambda p: 0.7 * p.zd + 0.3 * p.zl
    for w in (0.5, 0.6, 0.65, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0):
        yield "fixed z-score weight", {"w_dense": w}, lambda p, w=w: w * p.zd + (1 - w) * p.zl
    for w in (0.5, 0.6, 0.7, 0.8, 0.9):
        yield "fixed min-max weight", {"w_dense": w}, lambda p, w=w: w * minmax(p.dense) + (1 - w) * minmax(p.lexical)
    for kind, params in EVIDENCE.items():
        for w0, a in itertools.product(W0, params):
            yield f"evidence: lexical {kind}", {"w0": w0, "a": a}, \
                lambda p, w0=w0, kind=kind, a=a: weighted(p, w0 * lexical_evidence(p, kind, a))
    for kind in ("gap", "entropy"):  # each half weighted by its own evidence, weights normalised to sum 1
        for w0, a in itertools.product(W0, (0.5, 1, 2)):
            def fn(p, w0=w0, kind=kind, a=a):
                el, ed = (getattr(p, f"{kind[:3]}_{h}") ** a for h in ("l", "d"))
                wl, wd = w0 * el, (1 - w0) * ed
                tot = np.where(wl + wd > 0, wl + wd, 1.0)
                return weighted(p, wl / tot, np.where(wl + wd > 0, wd / tot, 1.0))
            yield f"evidence: both halves' {kind}", {"w0": w0, "a": a}, fn
    for w0, a, b in itertools.product(W0, EVIDENCE["coverage"], EVIDENCE["matched"]):
        yield "evidence: coverage x matched", {"w0": w0, "a": a, "b": b}, \
            lambda p, w0=w0, a=a, b=b: weighted(p, w0 * lexical_evidence(p, "coverage", a) * lexical_evidence(p, "matched", b))
    for kind, taus in GATES.items():
        for w0, tau in itertools.product(W0, taus):
            yield f"gate: dense unless {kind} >= tau", {"w0": w0, "tau": tau}, \
                lambda p, w0=w0, kind=kind, tau=tau: weighted(p, np.where(getattr(p, kind) >= tau, w0, 0.0))
    for w0, c in itertools.product(W0, CLIPS):
        yield "lexical z clipped", {"w0": w0, "clip": c}, lambda p, w0=w0, c=c: (1 - w0) * p.zd + w0 * np.minimum(p.zl, c)
    for k, w in itertools.product(RRF_KS, (0.5, 0.6, 0.7, 0.8)):
        yield "RRF", {"k": k, "w_dense": w}, \
            lambda p, k=k, w=w: w / (k + avg_rank(p.dense)) + (1 - w) / (k + avg_rank(p.lexical))
    for k in MNZ_KS:
        yield "CombMNZ", {"top": k or "nonzero"}, lambda p, k=k: comb_mnz(p, k)
    yield from dial_candidates()


def comb_mnz(p: Parts, k: int) -> np.ndarray:
    """(number of halves that retrieve a skill) x (sum of their min-max scores for it)."""
    hits, total = np.zeros(p.dense.shape), np.zeros(p.dense.shape)
    for m in (p.dense, p.lexical):
        got = (avg_rank(m) <= k) & (m > 0) if k else m > 0
        hits += got
        total += np.where(got, minmax(m), 0.0)
    return hits * total


# --------------------------------------------------------------------------- learned

FEATURES = ("1", "coverage", "matched", "gap_l", "gap_d", "ent_l", "ent_d")


def prompt_features(p: Parts) -> np.ndarray:
    cols = {"1": np.ones(len(p.coverage)), "coverage": p.coverage, "matched": p.matched,
            "gap_l": p.gap_l, "gap_d": p.gap_d, "ent_l": p.ent_l, "ent_d": p.ent_d}
    return np.stack([cols[f] for f in FEATURES], axis=1)


def learn(sets: list[tuple[Parts, np.ndarray]], lam: float = 1e-3) -> np.ndarray:
    """Listwise (softmax over skills) fit of s = a z(dense) + (phi . beta) z(lexical), phi the
    prompt features, on one or more (parts, expected) sets, each set's mean loss weighted
    equally; returns (a, beta...). L2 on beta, L-BFGS from the default, deterministic."""
    from scipy.optimize import minimize
    data = [(prompt_features(p), p.zd, p.zl, e / e.sum(axis=1, keepdims=True)) for p, e in sets]

    def loss(w):
        a, beta = w[0], w[1:]
        total, grad = lam * beta @ beta, np.concatenate([[0.0], 2 * lam * beta])
        for phi, zd, zl, tgt in data:
            s = a * zd + (phi @ beta)[:, None] * zl
            s = s - s.max(axis=1, keepdims=True)
            z = np.exp(s).sum(axis=1, keepdims=True)
            n = len(s) * len(data)
            total += -(tgt * (s - np.log(z))).sum() / n
            d = (np.exp(s) / z - tgt) / n  # d loss / d s
            grad += np.concatenate([[(d * zd).sum()], phi.T @ (d * zl).sum(axis=1)])
        return total, grad

    w0 = np.concatenate([[1.0, DEFAULT_RATIO], np.zeros(len(FEATURES) - 1)])
    return minimize(loss, w0, jac=True, method="L-BFGS-B", options={"maxiter": 1000}).x


def learned_scores(p: Parts, w: np.ndarray) -> np.ndarray:
    return w[0] * p.zd + (prompt_features(p) @ w[1:])[:, None] * p.zl
