"""A round's candidates: the built-in edits of propose.py for one skill or a pair, the rewriter's,
and the filter every candidate passes (the Agent Skills limits, printable text, a file that
reads back, and no lint finding the current text does not have)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from harness.improve import propose as P
from harness.library.exclusions import as_read
from harness.library.model import router_text

MAX_CHARS = 1024


@dataclass
class Side:
    """One edited skill: its name, its file (path in the library, folder, bytes at the start)."""
    name: str
    rel: str
    data: bytes
    prose: list = field(default_factory=list)  # (key, value) of prose keys: text that fell out of the description

    @property
    def folder(self) -> str:
        parts = self.rel.split("/")
        return parts[-2] if len(parts) > 1 else ""


def lost_and_won(name: str, prompts, correct, sel) -> tuple[list[tuple[str, str]], list[str]]:
    """The skill's prompts lost (text, the skill they went to) and won (text)."""
    lost, won = [], []
    for p, ok, s in zip(prompts, correct, sel):
        if name in p.expected:
            if ok(s):
                won.append(p.prompt)
            elif s is not None:
                lost.append((p.prompt, s))
    return lost, won


class Proposer:
    """Called once a round with the current texts and routing: [(source, {name: text})...]."""

    def __init__(self, sides: list[Side], screen, encoder, rewriter=None, explain=None):
        self.sides, self.screen, self.encoder, self.rewriter, self.explain = sides, screen, encoder, rewriter, explain
        self.cfg = screen.cfg
        self.known = set(screen.library.names)
        self._lint: dict[tuple[str, str], Counter | None] = {}

    # -- the filter -------------------------------------------------------------------------
    def lint(self, side: Side, text: str) -> Counter | None:
        """Lint codes of the file with this description (None: it cannot be written or read back)."""
        key = (side.name, text)
        if key not in self._lint:
            from harness.base.errors import HarnessError
            from harness.improve.apply import replace_description
            from harness.library.lint import lint_text
            try:
                data = replace_description(side.data, text, side.rel)
            except HarnessError:
                self._lint[key] = None
            else:
                findings, _ = lint_text(data, side.rel, side.folder, self.known, self.encoder, self.cfg.routing.fields)
                self._lint[key] = Counter(f.code for f in findings)
        return self._lint[key]

    def allowed(self, side: Side, text: str, current: str) -> bool:
        if not text or len(text) > MAX_CHARS or "<" in text or ">" in text or not text.isprintable():
            return False
        if text == current:
            return True
        new, now = self.lint(side, text), self.lint(side, current)
        return new is not None and (now is None or not (new - now))

    # -- the round --------------------------------------------------------------------------
    def __call__(self, current: dict[str, str], sel: list, rnd: int) -> list[tuple[str, dict[str, str]]]:
        lib = self.screen.library
        texts = {s.name: current.get(s.name, s.description) for s in lib.skills}
        mode = self.cfg.routing.exclusions
        docs = {n: router_text(n, as_read(t, mode), self.cfg.routing.fields) for n, t in texts.items()}
        ctx = {"words": {n: P.words_of(d) for n, d in docs.items()}, "idf": P.idf_table(list(docs.values())),
               "texts": texts}
        out = []
        if self.rewriter is not None:
            out += self._rewritten(current, sel, texts, ctx)
        out += self._pair(current, sel, ctx) if len(self.sides) == 2 else self._single(self.sides[0], current, sel, ctx)
        kept = []
        for source, cand in out:
            cand = {n: " ".join(t.split()) for n, t in cand.items()}
            full = {s.name: cand.get(s.name, current[s.name]) for s in self.sides}
            if full != current and all(self.allowed(s, full[s.name], current[s.name]) for s in self.sides):
                kept.append((source, full))
        return kept

    def _lost(self, name: str, sel: list):
        return lost_and_won(name, self.screen.prompts, self.screen.correct, sel)

    def _use_phrases(self, name: str, lost, won, ctx, top: int = 4) -> list[str]:
        rivals = set().union(*(ctx["words"][r] for _, r in lost)) if lost else set()
        others = [p.prompt for p in self.screen.prompts if name not in p.expected]
        return P.use_phrases([p for p, _ in lost], won, others, ctx["words"][name], rivals, top)

    def _rival_phrases(self, name: str, rival: str, ctx, top: int = 2) -> list[str]:
        return P.rival_phrases(as_read(ctx["texts"][rival], self.cfg.routing.exclusions), ctx["words"][name], ctx["idf"],
                               set(rival.split("-")), top)

    def _cut(self, name: str, text: str) -> int | None:
        """Where the encoder stops reading the description (a character offset), None when it reads all."""
        if self.encoder is None or self.cfg.routing.fields == "name":
            return None
        full = router_text(name, text, self.cfg.routing.fields)
        if self.encoder.count_tokens([full])[0] <= self.encoder.max_tokens:
            return None
        return max(0, len(text) - len(self.encoder.tail_past(full, self.encoder.max_tokens)))

    def _single(self, side: Side, current, sel, ctx) -> list:
        name, text = side.name, current[side.name]
        lost, won = self._lost(name, sel)
        if not lost:
            return []
        ph = self._use_phrases(name, lost, won, ctx)
        rival = sorted(Counter(r for _, r in lost).items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
        dr = P.drops(text, won + [p for p, _ in lost], ctx["words"][rival])
        use = lambda k, where: P.use_clause(text, ph[:k], where) if len(ph) >= k else None  # noqa: E731
        nf = P.not_for(text, name, rival, self._rival_phrases(name, rival, ctx), self.known) \
            if self.cfg.routing.exclusions == "reroute" else None
        at = lambda xs, i: xs[i] if len(xs) > i else None  # noqa: E731
        plan = [("use-1-first", use(1, "first")), ("use-2-first", use(2, "first")), ("use-3-first", use(3, "first")),
                ("use-1-end", use(1, "end")), ("use-2-end", use(2, "end")), ("drop-1", at(dr, 0)),
                ("window", P.window(text, self._cut(name, text))), ("not-for", nf), ("use-3-end", use(3, "end")),
                ("use-4-first", use(4, "first")), ("drop-2", at(dr, 1)), ("fold", P.fold(text, side.prose)),
                ("drop-3", at(dr, 2))]
        for k, j in ((1, 2), (1, 1), (2, 2), (2, 3), (3, 3), (1, 3)):  # room for a clause under the 1,024 limit
            if len(dr) >= k and len(ph) >= j:
                plan.append((f"drop-{k}+use-{j}-first", P.use_clause(dr[k - 1], ph[:j], "first")))
        return [(src, {name: t}) for src, t in plan if t]

    def _pair(self, current, sel, ctx) -> list:
        """Both ways round: where y loses prompts to x, x drops the parts of its text that pull
        them (and its own prompts do not use), or says "not for ...; use y", and y says what it is for."""
        a, b = (s.name for s in self.sides)
        ways = []
        for x, y in ((a, b), (b, a)):
            lost, won = self._lost(y, sel)
            lost = [(p, r) for p, r in lost if r == x]  # y's prompts that x takes
            if not lost:
                continue
            mine = [p.prompt for p in self.screen.prompts if x in p.expected]
            ph = self._use_phrases(y, lost, won, ctx, 3)
            pulled = set().union(*(P.words_of(p) for p, _ in lost)) & ctx["words"][x]
            dr = P.drops(current[x], mine, pulled)
            ex = P.exclusion_phrases([p for p, _ in lost], mine, ctx["words"][x])
            use = lambda k, y=y, ph=ph: P.use_clause(current[y], ph[:k], "first") if len(ph) >= k else None  # noqa: E731
            nf = lambda k, x=x, y=y, ex=ex: P.not_for(current[x], x, y, ex[:k], self.known) if len(ex) >= k else None  # noqa: E731
            at = lambda i, dr=dr: dr[i] if len(dr) > i else None  # noqa: E731
            ways.append([(f"{x}-drop-1+{y}-use-1", {x: at(0), y: use(1)}), (f"{x}-drop-1", {x: at(0)}),
                         (f"{x}-not-for-2+{y}-use-2", {x: nf(2), y: use(2)}), (f"{x}-drop-2+{y}-use-2", {x: at(1), y: use(2)}),
                         (f"{x}-drop-2", {x: at(1)}), (f"{y}-use-1", {y: use(1)}), (f"{y}-use-2", {y: use(2)}),
                         (f"{x}-drop-3+{y}-use-2", {x: at(2), y: use(2)}), (f"{x}-drop-3", {x: at(2)}),
                         (f"{x}-not-for-1+{y}-use-1", {x: nf(1), y: use(1)}), (f"{x}-not-for-3+{y}-use-3", {x: nf(3), y: use(3)})])
        plan = [c for i in range(max(map(len, ways), default=0)) for w in ways if i < len(w) for c in [w[i]]]
        return [(src, {n: t for n, t in texts.items() if t}) for src, texts in plan if all(texts.values())]

    def _rewritten(self, current, sel, texts, ctx) -> list:
        out = []
        for side in self.sides:
            lost, _ = self._lost(side.name, sel)
            if not lost:
                continue
            whys = self.explain(current, [(p, side.name, r) for p, r in lost]) if self.explain else [[] for _ in lost]
            rivals = sorted({r for _, r in lost})
            got = self.rewriter.ask({"name": side.name, "description": current[side.name]},
                                    [{"prompt": p, "to": r, "terms": [w["term"] for w in why]} for (p, r), why in zip(lost, whys)],
                                    [{"name": r, "description": texts[r]} for r in rivals])
            out += [(f"rewriter-{i + 1}", {side.name: t}) for i, t in enumerate(got)]
        return out
