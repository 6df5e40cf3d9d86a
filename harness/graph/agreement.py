"""How far each proxy router (a score router) is from each agent (a command router) on the
same prompts: results.json's `agreement`, one entry per (proxy, agent) pair.

Over the prompts both answered without error (`errors` counts the others, which enter no
rate): the share where both chose the same skill ("no skill" is a choice), over all and over
the in-scope prompts; Cohen's kappa over the top-1 choices; with the agent's misroutes (an
in-scope prompt not correct) as truth, the precision and recall of the proxy's misroutes at
predicting them; and of the proxy's collisions (victim A, thief B, the graph's rule over the
proxy's records) how many the agent confirms (it routes at least one of A's prompts to B) or
refutes (none). A value that is undefined is None."""

from __future__ import annotations

from collections import Counter
from typing import Sequence

from harness.base.errors import HarnessError
from harness.graph.routing_stats import pair_stats, support
from harness.graph.thresholds import Thresholds
from harness.results.schema import Record, by_router


def _round(v: float | None) -> float | None:
    return None if v is None else round(float(v), 6)


def _ratio(num: int, den: int) -> float | None:
    return _round(num / den) if den else None


def is_agent(router: dict) -> bool:
    """A command router (results.json routers[i]): an agent; the score routers are its proxies."""
    return "reported" in router or "command" in (router.get("config") or {})


def stored_agents(folder: str, content_sha256: str, allow_other_library: bool = False) -> dict[str, dict[str, Record]]:
    """The command routers' records of a stored run (`--agent-results DIR`): name -> prompt id
    -> record. Refused when that run routed another library content, unless allowed."""
    from harness.results.io import read_records, read_results
    res = read_results(folder)
    names = [r["name"] for r in res.routers if is_agent(r)]
    if not names:
        raise HarnessError(f"--agent-results {folder}: no command router in its results.json (routers: "
                           f"{', '.join(res.router_names) or 'none'})")
    theirs = res.library.get("content_sha256", "")
    if theirs != content_sha256 and not allow_other_library:
        raise HarnessError(f"--agent-results {folder}: its library content {theirs[:12]} differs from this run's "
                           f"{content_sha256[:12]} (the agents saw other skills): pass --allow-library-change to "
                           "read them anyway")
    records = by_router(read_records(folder))
    return {n: records.get(n, {}) for n in names}


def kappa(pairs: Sequence[tuple]) -> float | None:
    """Cohen's kappa of two raters' choices (`pairs`: (proxy's, agent's), None a choice too):
    (observed - chance) / (1 - chance); None with no pair or when chance agreement is 1."""
    n = len(pairs)
    if not n:
        return None
    observed = sum(a == b for a, b in pairs) / n
    left, right = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    chance = sum(left[c] * right.get(c, 0) for c in left) / (n * n)
    return None if chance >= 1 else _round((observed - chance) / (1 - chance))


def is_collision(stolen: int, near_miss: int, n: int, th: Thresholds) -> bool:
    """The graph's rule: B takes (or nearly takes) enough of A's `n` prompts."""
    return bool(n) and ((stolen / n >= th.steal_share and stolen >= th.min_prompts)
                        or (near_miss / n >= th.near_share and near_miss >= th.min_prompts))


def collisions_of(records: list[Record], router: str, th: Thresholds) -> list[tuple[str, str]]:
    """(victim, thief) pairs the graph's rule flags for `router` alone, sorted."""
    stats, n = pair_stats(records, th.near_margin).get(router, {}), support(records, router)
    return sorted(p for p, st in stats.items() if is_collision(len(st.stolen), len(st.near_miss), n.get(p[0], 0), th))


def pair(proxy: str, agent: str, mine: dict[str, Record], theirs: dict[str, Record],
         proxy_collisions: list[tuple[str, str]]) -> dict:
    """One agreement entry over the prompt ids both `mine` (the proxy's records) and `theirs` have."""
    ids = sorted(set(mine) & set(theirs))
    ok = [i for i in ids if mine[i].error is None and theirs[i].error is None]
    ins = [i for i in ok if mine[i].in_scope]
    same = lambda i: mine[i].selected == theirs[i].selected  # noqa: E731
    # the agent's records may come from a stored run: judged by this run's labels
    agent_miss = {i for i in ins if theirs[i].selected not in mine[i].expected}
    proxy_miss = {i for i in ins if not mine[i].correct}
    confirmed = 0
    for victim, thief in proxy_collisions:
        confirmed += any(mine[i].expected[0] == victim and theirs[i].selected == thief for i in ins)
    return {"proxy": proxy, "agent": agent, "prompts": len(ok), "errors": len(ids) - len(ok),
            "same_choice": _ratio(sum(map(same, ok)), len(ok)),
            "same_choice_in_scope": _ratio(sum(map(same, ins)), len(ins)),
            "kappa": kappa([(mine[i].selected, theirs[i].selected) for i in ok]),
            "misroute_precision": _ratio(len(proxy_miss & agent_miss), len(proxy_miss)),
            "misroute_recall": _ratio(len(proxy_miss & agent_miss), len(agent_miss)),
            "collisions_confirmed": confirmed, "collisions_refuted": len(proxy_collisions) - confirmed}


def agreement(records: list[Record], routers: list[dict], th: Thresholds = Thresholds(),
              agents: dict[str, dict[str, Record]] | None = None) -> list[dict] | None:
    """Every (proxy, agent) entry, proxies and agents in run order; None when the run has no
    agent or no proxy. `routers`: results.json's routers (a command router is one that has
    `reported`); `agents`: agents' records read from elsewhere (name -> prompt id -> record)
    instead of this run's command routers."""
    mine = by_router(records)
    proxies = [r["name"] for r in routers if not is_agent(r)]
    live = {r["name"]: mine.get(r["name"], {}) for r in routers if is_agent(r)}
    clash = sorted(set(live) & set(agents or {}))
    if clash:
        raise HarnessError(f"--agent-results: router {clash[0]!r} is both run here and read from the stored run: "
                           "rename one (--router 'NAME=command:CMD')")
    agents = {**live, **(agents or {})}
    if not proxies or not agents:
        return None
    return [pair(p, a, mine.get(p, {}), theirs, collisions_of(records, p, th))
            for p in proxies for a, theirs in agents.items()]
