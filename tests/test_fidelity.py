"""Exclusion clauses, exclusion-aware re-routing, the listing budget, abstention and repeats:
table-driven with values worked out by hand, and invariants with hypothesis."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.metrics.auroc import auroc
from harness.routers.abstention import AbstainSpec, threshold_for
from harness.base.errors import HarnessError
from harness.evalsets.evalset import Prompt
from harness.library.exclusions import parse_exclusions, positive_text
from harness.library.listing import ListingBudget
from harness.metrics.summary import summarize
from harness.metrics.repeats import trial_summary, wilson
from harness.results.outcome import Outcome, from_trials
from harness.routers.command import Trial
from harness.routers.exclusion_aware import ExclusionPlan, reroute

KNOWN = {"cost-reports", "metrics-board", "trace-view", "db-schema", "db-mysql", "vpn-setup",
         "svc-getting-started", "vm-launcher", "vm-profiles", "me"}

# One row per clause form found in the Agent Toolkit for AWS (our own wording, same shapes).
FORMS = [
    ("Not for billing exports — use cost-reports.", [("billing exports", ("cost-reports",))]),
    ("Do NOT use for: log search, alert routing, or paging.", [("log search", ()), ("alert routing", ()), ("paging", ())]),
    ("Do NOT use for dashboards (use metrics-board), tracing (use trace-view).",
     [("dashboards", ("metrics-board",)), ("tracing", ("trace-view",))]),
    ("SKIP: schema design (db-schema skill), backups.", [("schema design", ("db-schema",)), ("backups", ())]),
    ("Do not trigger for personal email.", [("personal email", ())]),
    ("For MySQL use db-mysql instead.", [("MySQL", ("db-mysql",))]),
    ("Does not cover cross-account replication.", [("cross-account replication", ())]),
    ("Load testing is out of scope.", [("Load testing", ())]),
    ("Not applicable for VPN tunnels (vpn-setup skill), or DNS work.", [("VPN tunnels", ("vpn-setup",)), ("DNS work", ())]),
    ("Does not apply to initial setup (use svc-getting-started) or chaos drills.",
     [("initial setup or chaos drills", ("svc-getting-started",))]),
    ("Does NOT trigger if the connector is already working.", [("if the connector is already working", ())]),
    ("Schema questions route to db-schema, not here.", [("Schema questions", ("db-schema",))]),
    ("For a single VM launch, the vm-launcher skill is more appropriate; for profiles, see vm-profiles.",
     [("a single VM launch", ("vm-launcher",)), ("profiles", ("vm-profiles",))]),
    ("Never use for invoices.", [("invoices", ())]),
    ("Not intended for batch jobs.", [("batch jobs", ())]),
    ("Don't use for a one-off script.", [("a one-off script", ())]),
    # the redirection in its own part, with a pronoun for the item: the item before it goes there
    ("Do not use for rolling back a release; use vm-launcher for that.", [("rolling back a release", ("vm-launcher",))]),
    ("Handles exports. Use for reports.", []),
]


@pytest.mark.parametrize("text,items", FORMS, ids=[f[0][:30] for f in FORMS])
def test_exclusion_forms(text, items):
    got = [(i.topic, i.targets) for e in parse_exclusions("me", text, KNOWN) for i in e.items]
    assert got == items


def test_positive_text_drops_only_exclusion_sentences():
    assert positive_text("Builds reports. Not for invoices — use billing. Runs nightly.") == "Builds reports. Runs nightly."


def _plan():
    # skill 0 excludes "refunds" and sends it to skill 2; skill 1 has no clause
    return ExclusionPlan(("a", "b", "c"), ("refunds",), (0,), ((2,),))


@pytest.mark.parametrize("row,item,expect", [
    # item 0.9 >= 0.9 * 1.0 and target 0.6 >= 0.5 * 1.0: skill 2 moves just above skill 0
    ([1.0, 0.2, 0.6], 0.9, [1.0, 0.2, 1.001]),
    # the item explains the prompt less well than the gate asks: nothing moves
    ([1.0, 0.2, 0.6], 0.8, [1.0, 0.2, 0.6]),
    # the target is too weak (0.4 < 0.5): nothing moves
    ([1.0, 0.2, 0.4], 0.95, [1.0, 0.2, 0.4]),
    # the top skill (1) has no clause: nothing moves
    ([0.5, 1.0, 0.6], 0.99, [0.5, 1.0, 0.6]),
])
def test_reroute_table(row, item, expect):
    scores = np.array([row], dtype=np.float64)
    reroute(scores, np.array([[item]]), _plan(), gate=0.9, floor=0.5)
    assert scores[0].tolist() == pytest.approx(expect)


def test_reroute_gate_reads_the_items_scale():
    # the probe scored the item 0.45 and skill 0's own text 0.5 (0.45 >= 0.9 * 0.5): the move is
    # made although, on the routed scale, the item's 0.45 is under 0.9 x the top skill's 1.0
    scores = np.array([[1.0, 0.2, 0.6]])
    reroute(scores, np.array([[0.45]]), _plan(), gate=0.9, floor=0.5, own=np.array([[0.5, 0.1, 0.3]]))
    assert scores[0].tolist() == pytest.approx([1.0, 0.2, 1.001])


DESCS = ["Builds cost reports for teams. Not for invoices or refunds — use billing-desk.",
         "Answers invoices and refunds questions.",
         "Plans network routes. Do not use for invoices."]


@pytest.mark.parametrize("router", ["bm25", "tfidf"])
@pytest.mark.parametrize("mode", ["strip", "reroute"])
def test_excluded_items_never_enter_the_routed_scores(router, mode, tmp_path):
    """The routed matrix equals that of the same router fitted on the descriptions without their
    exclusion sentences: the items would otherwise shift idf (and a hybrid's z-scores)."""
    from harness.routers import ROUTERS
    from harness.routers.base import RouterContext
    from harness.routers.exclusion_aware import ExclusionAware
    names = ["cost-reports", "billing-desk", "net-routes"]
    plan = ExclusionPlan.build(names, DESCS)
    assert plan.items == ("invoices or refunds", "invoices") and plan.positive_docs[0] == "cost reports: Builds cost reports for teams."
    ctx = RouterContext(tmp_path)
    prompts = ["a refund for my invoice", "cost reports by team", "routes between networks"]
    wrapped = ExclusionAware(ROUTERS.get(router)(ctx), plan, mode, probe=ROUTERS.get(router)(ctx))
    wrapped.fit([])
    plain = ROUTERS.get(router)(ctx)
    plain.fit(list(plan.positive_docs))
    got, want = wrapped.score(prompts), plain.score(prompts)
    assert got.shape == (3, 3)
    # strip: equal everywhere; reroute may only lift a skill just above the top one
    assert np.array_equal(got, want) if mode == "strip" else np.array_equal(got[1:], want[1:])


@pytest.mark.parametrize("mode", ["strip", "reroute"])
def test_router_config_does_not_depend_on_the_library(mode):
    """`compare` refuses runs whose router configs differ: two releases with different clauses
    must still give the same config (the count of items lives in results.json's fidelity)."""
    from harness.routers.base import Router
    from harness.routers.exclusion_aware import ExclusionAware

    class Inner(Router):
        name, kind = "inner", "lexical"

        def config(self):
            return {"k": 1}

    other = ExclusionPlan(("a", "b"), ("x", "y", "z"), (0, 0, 1), ((), (1,), ()))
    configs = [ExclusionAware(Inner(), plan, mode, probe=Inner()).config() for plan in (_plan(), other)]
    assert configs[0] == configs[1] == {"k": 1, "exclusions": {"mode": mode, **({"gate": 0.9, "floor": 0.5} if mode == "reroute" else {})}}


def test_reroute_needs_a_probe():
    from harness.routers.exclusion_aware import ExclusionAware
    with pytest.raises(ValueError, match="probe"):
        ExclusionAware(object(), _plan(), "reroute")


def test_listing_budget_by_hand():
    # a: 1 + min(6, 5) + 4 = 10; b: 1 + 4 + 4 = 9 (19 in all); c: 1 + 2 + 4 = 7 would make 26 > 20
    visible, rep = ListingBudget(5, 20).apply(["b", "a", "c"], ["xxxx", "yyyyyy", "zz"])
    assert visible == ["xxxx", "yyyyy", ""]
    assert (rep["chars_full"], rep["chars_listed"], rep["name_only"], rep["cut"]) == (27, 24, 1, 1)
    assert [(c["skill"], c["listed"], c["chars_lost"]) for c in rep["skills_cut"]] == [("a", "cut", 1), ("c", "name only", 2)]


@pytest.mark.parametrize("spec,expect", [("claude-code", (1536, 8000)), ("200,0", (200, None)), ("300", (300, None)),
                                         (",5000", (None, 5000)), ("0,100", (None, 100))])
def test_listing_budget_parse(spec, expect):
    b = ListingBudget.parse(spec)
    assert (b.per_description, b.total) == expect


@pytest.mark.parametrize("spec", ["", ",", "ten", "1,2,3", "-5"])
def test_listing_budget_parse_rejects(spec):
    with pytest.raises(HarnessError, match="--listing-budget"):
        ListingBudget.parse(spec)


def test_listing_lost_terms_are_whole_words_past_the_cut():
    desc = "Deploys containers. Handles zebrafish pipelines."
    _, rep = ListingBudget(24, None).apply(["x", "y"], [desc, "Other text entirely."])
    # the cut falls inside "Handles" (20 + 4 characters shown): only words that start past it are lost
    assert rep["skills_cut"][0]["distinguishing_terms_lost"] == ["pipelines", "zebrafish"]


@pytest.mark.parametrize("keep,threshold", [(0.95, 0.1), (0.8, 0.3), (0.75, 0.3), (1.0, 0.1), (0.5, 0.6)])
def test_threshold_keeps_at_least_the_share(keep, threshold):
    d = np.arange(1, 11) / 10
    t = threshold_for(d, keep)
    assert t == pytest.approx(threshold)
    assert (d >= t).mean() >= keep


@pytest.mark.parametrize("d,pos,expect", [
    ([0.9, 0.8, 0.7, 0.6], [True, False, True, False], 0.75),
    ([0.5, 0.5], [True, False], 0.5),
    ([1.0, 0.0], [True, False], 1.0),
    ([0.0, 1.0], [True, False], 0.0),
    ([0.3, 0.3], [True, True], None),
])
def test_auroc_table(d, pos, expect):
    assert auroc(np.array(d), np.array(pos)) == expect


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 20), st.booleans()), min_size=2, max_size=40))
def test_auroc_invariants(pairs):
    d = np.array([float(v) for v, _ in pairs])
    pos = np.array([p for _, p in pairs])
    a = auroc(d, pos)
    if pos.all() or not pos.any():
        assert a is None
        return
    assert a == pytest.approx(auroc(d * 3 + 7, pos))        # any increasing transform
    assert a + auroc(-d, pos) == pytest.approx(1.0)           # reversing the order


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-5, 5, allow_nan=False), min_size=1, max_size=50), st.floats(0.05, 1.0))
def test_threshold_property(values, keep):
    d = np.round(np.array(values), 6)
    assert (d >= threshold_for(d, keep)).mean() >= keep - 1e-12


def test_abstain_spec_rejects():
    with pytest.raises(HarnessError, match="--abstain must be"):
        AbstainSpec(1.5)
    with pytest.raises(HarnessError, match="--abstain-rule"):
        AbstainSpec(0.9, "vote")


@pytest.mark.parametrize("k,n,expect", [(5, 10, [0.236593, 0.763407]), (0, 10, [0.0, 0.277533]), (10, 10, [0.722467, 1.0])])
def test_wilson_by_hand(k, n, expect):
    assert wilson(k, n) == pytest.approx(expect, abs=1e-6)


def test_trials_majority_and_errors():
    t = [Trial(("b",), None, False), Trial(("a",), None, False), Trial((), "timed out after 1s", False), Trial(("a", "b"), None, True)]
    o = from_trials(t)
    assert (o.selected, o.ranking, o.error) == ("a", ["a"], None)
    s = trial_summary(o, lambda sel: sel == "a")
    assert (s["answered"], s["errors"], s["pass_rate"], s["flaky"]) == (3, 1, pytest.approx(2 / 3, abs=1e-6), True)
    failed = from_trials([Trial((), "exit code 3", False)] * 2)
    assert failed.error == "exit code 3" and failed.selected is None


def test_errors_are_not_no_skill():
    ps = [Prompt("p1", "x", ("a",)), Prompt("p2", "y", ()), Prompt("p3", "z", ("a",)), Prompt("p4", "w", (), not_=("a",))]
    outs = [Outcome(["a"], selected="a"), Outcome([], error="timed out"), Outcome(["b"], selected="b"),
            Outcome(["a"], selected="a")]
    m, kinds = summarize(ps, outs, seed=0)
    assert m["errors"] == 1
    assert m["top1"] == 0.5                 # p1 right, p3 wrong; p2 failed and is not counted
    assert m["oos_false_route"] is None     # the only out-of-scope prompt failed
    assert m["false_trigger"] == 1.0        # p4 must not pick a, and did
    abst = [Outcome(["a"], selected=None, abstained=True), Outcome(["a"], selected=None, abstained=True),
            Outcome(["a"], selected="a"), Outcome([], selected=None)]
    m2, _ = summarize(ps, abst, seed=0)
    assert (m2["top1"], m2["in_scope_kept"], m2["oos_false_route"], m2["false_trigger"]) == (0.5, 0.5, 0.0, 0.0)


@pytest.mark.parametrize("text, phrases", [
    ("Create a VPC Lattice service network across two accounts.", ["vpc lattice"]),
    ("Roll out a flag in AWS AppConfig with a linear strategy.", ["aws appconfig"]),
    ("Our EKS pods are stuck in CrashLoopBackOff.", ["eks", "crashloopbackoff"]),
    ("EKS pods restart. Why?", ["eks"]),                        # an acronym opening a sentence is a name
    ("How do I rotate keys? Use KMS.", ["kms"]),                 # 'How' and 'Use' open sentences: not names
    ("switch my agentcore agent from sonnet to haiku", []),      # nothing capitalised: nothing named
    ("Deploy to us-east-1 with Step-Functions and 3D Secure.", ["step functions", "3d secure"]),
])
def test_named_phrases_table(text, phrases):
    from harness.routers.abstain_signals import named_phrases
    assert named_phrases(text) == phrases


def test_named_unknown_against_the_library_words():
    from harness.routers.abstain_signals import Lexicon
    lex = Lexicon(["waf: Configure AWS WAF web ACLs.", "vpc-peering: Connect VPCs with VPC peering connections."])
    got = lex.named(["Block bots with AWS WAF.", "Create a VPC Lattice network with VPC peering.", "set up a vpc lattice network"])
    # 1: 'aws waf' is in the library text; 2: 'vpc lattice' is not, 'vpc' alone is: 1 of 2 unknown; 3: nothing named
    assert got["named_unknown"].tolist() == [0.0, 1.0, 0.0]
    assert got["named_unknown_share"].tolist() == [0.0, 0.5, 0.0]


def test_top_z_by_hand():
    from harness.routers.abstain_signals import _top_z
    m = np.array([[1.0, 2.0, 3.0], [2.0, 2.0, 2.0]])
    # row 1: mean 2, population sd sqrt(2/3): (3 - 2) / 0.8165 = 1.2247; row 2: no spread, 0
    assert np.allclose(_top_z(m), [1.5 ** 0.5, 0.0])


def test_abstention_signals_read_the_router_protocol():
    """The words a router reads come from `read_texts` (not from knowing the wrapper's class),
    and a fused router's score signal from its dense half in `parts`."""
    from harness.routers.abstain_signals import for_run, score_signal
    from harness.routers.base import Router
    from harness.routers.exclusion_aware import ExclusionPlan

    class Reads(Router):
        name, kind = "reads", "lexical"

        def read_texts(self, docs):
            return ["alpha beta"]

    class Fused(Router):
        name, kind = "fused", "fused"
        parts = {"dense": np.array([[0.2, 0.6]]), "lexical": np.array([[3.0, 1.0]])}

    no_items = ExclusionPlan(("gamma",), (), (), ())
    sig = for_run(Reads(), np.array([[1.0]]), ["alpha delta"], ["gamma"], no_items, None)
    assert sig.column("vocab_share").tolist() == [0.5]       # 'alpha' of alpha, delta: in the texts it reads
    assert score_signal(Fused(), np.array([[9.0, 1.0]])).tolist() == [0.6]
    assert score_signal(Reads(), np.array([[9.0, 1.0]])).tolist() == [9.0]


def test_parsing_a_large_library_keeps_one_copy_of_its_names():
    """Issue 22: each remembered parse kept its own frozenset of the library's names (at 10,000
    skills and 4,096 entries: 2 GB). One set given for a whole library is frozen once."""
    import tracemalloc
    from harness.library.exclusions import _frozen, _parse
    known = {f"skill-{i:05d}" for i in range(2000)}
    _parse.cache_clear()
    tracemalloc.start()
    for i in range(50):
        parse_exclusions(f"skill-{i:05d}", f"Does task {i}. Not for task {i + 1}; use skill-{i + 1:05d}.", known)
    kept, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert kept < 1_000_000  # one frozen set of 2,000 names is ~65 kB; fifty were 3.3 MB
    keys = {id(k) for k in (_frozen(known), _frozen(known))}
    assert len(keys) == 1 and _frozen(known) == frozenset(known)
    assert _frozen(set(known)) == frozenset(known)  # an equal set given anew: frozen anew, same value
    assert _parse.cache_info().currsize == 50
