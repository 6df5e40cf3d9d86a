"""Select: hill climbing over rounds, on the dev split only.

The objective: the edited skills' own dev prompts won, minus the other dev prompts they newly
take (a prompt not theirs that they now win wrongly and did not win with the starting text).
Each round screens its candidates with the same scoring `route()` uses (only the edited texts
are new to the embedding cache, so only they are encoded); the best candidate that raises the
objective is then routed exactly (harness.runs.route.route, its routing graph, and
harness.compare.diff against the gate's base, as `check` does) and accepted only when it
passes `--fail-on` there; else the next one is tried. Ties go to the shorter, then the less
changed text. The search stops after `rounds` rounds or at the first round that finds nothing better.
"""

from __future__ import annotations

import difflib
import time
from dataclasses import dataclass, field, replace

from harness.library.model import router_text
from harness.compare.whatif import routed
from harness.metrics.summary import correct_for


def with_texts(library, texts: dict[str, str]):
    """The library with some skills' descriptions replaced (the rest shared, unchanged)."""
    skills = [replace(s, description=texts[s.name]) if s.name in texts else s for s in library.skills]
    return replace(library, skills=skills)


class Screen:
    """The dev prompts routed over the library with some descriptions replaced: route()'s own scoring."""

    def __init__(self, cfg, library, prompts, ctx):
        self.cfg, self.library, self.prompts, self.ctx = cfg, library, prompts, ctx
        self.correct = [correct_for(p) for p in prompts]

    def selections(self, texts: dict[str, str]) -> list[str | None]:
        from harness.routers import ROUTERS
        from harness.routers.scoring import Scoring
        lib = with_texts(self.library, texts)
        descriptions = [s.description for s in lib.skills]
        docs = [router_text(n, d, self.cfg.routing.fields) if d or self.cfg.routing.fields != "description" else router_text(n, "", "name")
                for n, d in zip(lib.names, descriptions)]
        spec = self.cfg.routing.routers[0]
        scoring = Scoring(self.cfg.routing, lib, descriptions, docs, self.ctx, None)
        _, outcomes, _ = scoring.run(ROUTERS.get(spec)(self.ctx), self.prompts, lambda: ROUTERS.get(spec)(self.ctx))
        return [o.selected for o in outcomes]

    def prefetch(self, candidates: list[dict[str, str]]) -> None:
        """Encode the round's new texts before they are screened, a few at a time through `check`'s
        numpy pass (about 0.25 s a description on one core): no 5-8 s torch load, one thread, and
        the same vectors on every run (torch's, on two busy cores, took 0.1 to 1.4 s a text)."""
        from harness.base.textproc import split_words
        from harness.library.exclusions import as_read
        from harness.routers import ROUTERS
        if not candidates or ROUTERS.get(self.cfg.routing.routers[0])(self.ctx).model_info()[0] is None:
            return
        mode = self.cfg.routing.exclusions
        texts = sorted({split_words(router_text(n, t if mode == "off" else as_read(t), self.cfg.routing.fields))
                        for c in candidates for n, t in c.items()})
        from harness.encoders.numpy_forward import FAST_MAX
        for i in range(0, len(texts), FAST_MAX):
            self.ctx.cache.embed(self.ctx.encoder(), texts[i:i + FAST_MAX])

    def score(self, sel: list, ref: list, names: list[str]) -> dict:
        won = taken = right = 0
        for p, ok, s, r in zip(self.prompts, self.correct, sel, ref):
            right += bool(p.in_scope and ok(s))
            if any(n in p.expected for n in names):
                won += bool(ok(s))
            elif s in names and not ok(s) and r != s:
                taken += 1
        return {"objective": won - taken, "won": won, "taken": taken, "top1_right": right}


def changed_words(old: str, new: str) -> int:
    sm = difflib.SequenceMatcher(None, old.split(), new.split(), autojunk=False)
    return sum(max(i2 - i1, j2 - j1) for op, i1, i2, j1, j2 in sm.get_opcodes() if op != "equal")


@dataclass
class Climb:
    """The hill climb's inputs: `propose(texts, sel, round)` gives [(source, {name: text})...]."""
    screen: Screen
    names: list[str]
    start: dict[str, str]
    gate: object            # the RunDir of the gate's base on dev
    dev_set: object         # the dev EvalSet (for the exact runs)
    cfg: object
    ctx: object
    rules: list
    rounds: int
    limit: int
    propose: object
    log: list = field(default_factory=list)

    def confirm(self, texts: dict[str, str]) -> list[str]:
        from harness.compare.diff import compare
        from harness.compare.policy import evaluate, require_prompts
        run = routed("candidate", self.cfg, with_texts(self.screen.library, texts), self.dev_set, self.ctx,
                        graph=any(r.kind == "new-collision" for r in self.rules))
        cmp = compare(self.gate, run, 0, {}, intervals=any(r.sig for r in self.rules))
        router = self.cfg.routing.routers[0]
        require_prompts(self.rules, cmp, router)
        return evaluate(self.rules, cmp, router)

    def run(self, ref: list, current: dict[str, str]) -> dict[str, str]:
        """From `current`, round after round; `ref`: the starting selections (what "newly" means)."""
        cur_sel = self.screen.selections(current)
        cur = self.screen.score(cur_sel, ref, self.names)
        for r in range(1, self.rounds + 1):
            t0 = time.perf_counter()
            entry = {"round": r, "objective_before": cur["objective"], "candidates": [], "accepted": None}
            self.log.append(entry)
            seen, round_, scored = {tuple(current[n] for n in self.names)}, [], []
            for source, texts in self.propose(current, cur_sel, r):
                key = tuple(texts[n] for n in self.names)
                if key not in seen and len(round_) < self.limit:
                    seen.add(key)
                    round_.append((source, texts, key))
            self.screen.prefetch([texts for _, texts, _ in round_])
            for source, texts, key in round_:
                sel = self.screen.selections(texts)
                s = self.screen.score(sel, ref, self.names)
                size = sum(changed_words(current[n], texts[n]) for n in self.names)
                scored.append(((-s["objective"], sum(len(t) for t in key), size, key), source, texts, sel, s))
            t_screen = time.perf_counter() - t0
            scored.sort(key=lambda x: x[0])
            for order, source, texts, sel, s in scored:
                item = {"source": source, **s, "chars": order[1], "changed_words": order[2],
                        "texts": dict(texts), "breaches": None}
                entry["candidates"].append(item)
                if entry["accepted"] is None and s["objective"] > cur["objective"]:
                    item["breaches"] = self.confirm(texts)
                    if not item["breaches"]:
                        entry["accepted"] = source
                        current, cur_sel, cur = dict(texts), sel, s
            entry["objective_after"] = cur["objective"]
            entry["seconds"] = {"screen": round(t_screen, 3), "total": round(time.perf_counter() - t0, 3)}
            if entry["accepted"] is None:
                break
        return current
