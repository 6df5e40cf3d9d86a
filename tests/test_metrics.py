import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from harness.metrics.bootstrap import bootstrap_ci, paired_bootstrap_ci
from harness.metrics.perskill import confusion, per_skill
from harness.metrics.ranking import HitAt, ReciprocalRankAt, per_prompt

RANKINGS = [["a", "b", "c"], ["b", "a", "c"], ["c", "b", "a"], ["d", "e", "f"]]
GOLDS = [frozenset("a"), frozenset("a"), frozenset("a"), frozenset({"f", "e"})]


@pytest.mark.parametrize("measure,expected", [
    (HitAt(1), 1 / 4),                        # only the first prompt has gold first
    (HitAt(2), 3 / 4),                        # + second prompt, + fourth (e at 2)
    (HitAt(3), 1.0),
    (ReciprocalRankAt(10), (1 + 1 / 2 + 1 / 3 + 1 / 2) / 4),
    (ReciprocalRankAt(1), 1 / 4),
])
def test_ranking_measures_by_hand(measure, expected):
    assert math.isclose(per_prompt(measure, RANKINGS, GOLDS).mean(), expected)


def test_per_skill_by_hand():
    expected = [("a",), ("a",), ("b",), ()]
    selected = ["a", "b", "b", "a"]          # the last prompt is out-of-scope, routed to a
    s = per_skill(["a", "b", "c"], expected, selected)
    assert (s["a"].support, s["a"].recall, s["a"].predicted, s["a"].precision) == (2, 0.5, 2, 0.5)
    assert (s["b"].recall, s["b"].precision) == (1.0, 0.5)
    assert math.isclose(s["b"].f1, 2 * 0.5 * 1.0 / 1.5)
    assert (s["c"].recall, s["c"].precision, s["c"].f1) == (None, None, None)
    assert confusion(expected, selected) == [{"expected": "a", "selected": "b", "count": 1}]


def test_bootstrap_is_seeded_and_order_free():
    vals = {f"p{i:02d}": float(i % 3 == 0) for i in range(40)}
    shuffled = dict(reversed(list(vals.items())))
    assert bootstrap_ci(vals, 7) == bootstrap_ci(shuffled, 7)
    lo, hi = bootstrap_ci(vals, 7)
    assert lo <= np.mean(list(vals.values())) <= hi
    assert bootstrap_ci({"a": 1.0, "b": 1.0}, 0) == [1.0, 1.0]
    assert paired_bootstrap_ci(vals, vals, 3) == [0.0, 0.0]
    assert bootstrap_ci({}, 0) is None


names = st.sampled_from(list("abcdefgh"))


@st.composite
def ranked_cases(draw):
    n = draw(st.integers(1, 12))
    rankings = [draw(st.permutations(list("abcdefgh"))) for _ in range(n)]
    golds = [frozenset(draw(st.lists(names, min_size=1, max_size=3))) for _ in range(n)]
    return rankings, golds


@settings(max_examples=200, deadline=None)
@given(ranked_cases())
def test_measures_in_unit_interval_and_recall_monotone_in_k(case):
    rankings, golds = case
    prev = -1.0
    for k in range(1, 9):
        v = per_prompt(HitAt(k), rankings, golds).mean()
        assert 0.0 <= v <= 1.0 and v >= prev
        prev = v
    mrr = per_prompt(ReciprocalRankAt(10), rankings, golds).mean()
    assert per_prompt(HitAt(1), rankings, golds).mean() <= mrr <= per_prompt(HitAt(8), rankings, golds).mean()


def test_bootstrap_in_chunks_draws_the_same_resamples(monkeypatch):
    """Issue 22: at 100,000 prompts the resample indices are drawn a few rows at a time (memory);
    the interval is the one drawing them whole gives, bit for bit."""
    import numpy as np
    import harness.metrics.bootstrap as bs
    vals = {f"p{i:04d}": float(v) for i, v in enumerate(np.random.default_rng(5).random(3001) > 0.4)}
    whole = bs.bootstrap_ci(vals, seed=7)
    monkeypatch.setattr(bs, "CHUNK", 3001 * 3 + 5)  # three rows at a time, the last chunk one row
    assert bs.bootstrap_ci(vals, seed=7) == whole
