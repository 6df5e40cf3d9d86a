"""The command router against small router scripts of our own (run with sys.executable)."""

import json
import shlex
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.base.errors import HarnessError
from harness.routers.answer_cache import FILE_NAME
from harness.routers.command import Answer, CommandRouter, Trial, shuffle_order
from harness.routers.command_io import parse_batch

REPO = Path(__file__).resolve().parent.parent
SKILLS = [("rotate-credentials", "Rotate database credentials"), ("deploy-frontend", "Deploy the web frontend"),
          ("query-logs", "Search application logs"), ("backup-database", "Back up a database")]
RELEASE = {"source": "lib", "ref": "v1", "commit": "abc", "content_sha256": "c0ffee"}

# Ranks skills by words shared between name and prompt; [] for "nothing". Handles both modes.
# With a state folder (argv[1]) it logs each call, sleeps if told, refuses once `fail_after`
# calls are logged, and sleeps 30 s on a "slowpoke" prompt (recording its pid).
GOOD = r'''
import json, os, re, sys, time
state = sys.argv[1] if len(sys.argv) > 1 else None
doc = json.load(sys.stdin)
batch = "prompts" in doc
asks = doc["prompts"] if batch else [{"id": doc["id"], "prompt": doc["prompt"], "repeat": doc["repeat"]}]
if state:
    log = os.path.join(state, "log")
    calls = sum(1 for _ in open(log)) if os.path.exists(log) else 0
    limit = os.path.join(state, "fail_after")
    if os.path.exists(limit) and calls >= int(open(limit).read()):
        sys.exit("refusing: limit reached")
    with open(log, "a") as f:
        f.write(json.dumps({"ids": [a["id"] for a in asks], "order": [s["name"] for s in doc["skills"]]}) + "\n")
    if os.path.exists(os.path.join(state, "sleep")):
        time.sleep(float(open(os.path.join(state, "sleep")).read()))
    if any("slowpoke" in a["prompt"] for a in asks):
        with open(os.path.join(state, "pids"), "a") as f:
            f.write(f"{os.getpid()}\n")
        time.sleep(30)
def rank(prompt):
    words = set(re.findall(r"[a-z]+", prompt.lower()))
    if "nothing" in words:
        return []
    scored = sorted(((len(words & set(s["name"].split("-"))), s["name"]) for s in doc["skills"]),
                    key=lambda x: (-x[0], x[1]))
    return [name for n, name in scored if n]
if batch:
    answers = [{"id": a["id"], "skills": rank(a["prompt"])} for a in asks if "skipme" not in a["prompt"]]
    print(json.dumps({"answers": answers[::-1]}))
else:
    print(json.dumps({"skills": rank(doc["prompt"])}))
'''

# Answers with the skill order it received (so ranking[0] is the first skill sent).
ECHO = r'''
import json, sys
doc = json.load(sys.stdin)
order = [s["name"] for s in doc["skills"]]
if "prompts" in doc:
    print(json.dumps({"answers": [{"id": p["id"], "skills": order} for p in doc["prompts"]]}))
else:
    print(json.dumps({"skills": order}))
'''

# Counts its attempts, starts a grandchild, records both pids, then sleeps past any timeout.
SLOW = r'''
import os, subprocess, sys, time
state = sys.argv[1]
open(os.path.join(state, "attempts"), "a").write("x\n")
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
open(os.path.join(state, "pids"), "a").write(f"{os.getpid()}\n{child.pid}\n")
time.sleep(30)
'''

PRINT = "import sys; sys.stdin.read(); sys.stdout.write(sys.argv[1])\n"
CRASH = "import sys; sys.stdin.read(); sys.stderr.write('warming up\\nboom\\n'); sys.exit(3)\n"
FLAKY = r'''
import json, os, sys
json.load(sys.stdin)
path = os.path.join(sys.argv[1], "count")
n = int(open(path).read()) + 1 if os.path.exists(path) else 1
open(path, "w").write(str(n))
if n == 1:
    sys.exit("transient failure")
print(json.dumps({"skills": ["query-logs"]}))
'''

CHILD = r'''
import json, sys
from pathlib import Path
from harness.routers.command import CommandRouter
spec = json.loads(Path(sys.argv[1]).read_text())
router = CommandRouter(spec["command"], cache_dir=Path(spec["cache"]), jobs=1)
router.answer(spec["prompts"], spec["skills"], spec["release"])
'''


@pytest.fixture(scope="module")
def scripts(tmp_path_factory) -> dict[str, str]:
    """name -> command string running that script."""
    folder = tmp_path_factory.mktemp("scripts")
    out = {}
    for name, source in (("good", GOOD), ("echo", ECHO), ("slow", SLOW), ("print", PRINT), ("crash", CRASH),
                         ("flaky", FLAKY), ("child", CHILD)):
        path = folder / f"{name}.py"
        path.write_text(source, encoding="utf-8")
        flags = "" if name == "child" else " -I -S"       # quicker start; only the child imports harness
        out[name] = f"{shlex.quote(sys.executable)}{flags} {shlex.quote(str(path))}"
    return out


def router(command: str, tmp_path: Path, **kw) -> CommandRouter:
    kw.setdefault("cache_dir", tmp_path / "cache")
    kw.setdefault("timeout", 10)
    return CommandRouter(command, **kw)


def log_of(state: Path) -> list[dict]:
    path = state / "log"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def wait_dead(pids: list[int], seconds: float = 3.0) -> list[int]:
    end = time.monotonic() + seconds
    while time.monotonic() < end and any(alive(p) for p in pids):
        time.sleep(0.05)
    return [p for p in pids if alive(p)]


def rankings(answers: list[Answer]) -> list[list[tuple]]:
    return [[(t.ranking, t.error) for t in a.trials] for a in answers]


PROMPTS = [("p1", "please rotate the credentials"), ("p2", "deploy frontend now"), ("p3", "nothing to do here"),
           ("p4", "back up database and rotate")]


def test_well_behaved_router_in_order_and_no_skill(scripts, tmp_path):
    seen = []
    answers = router(scripts["good"], tmp_path).answer(PROMPTS, SKILLS, RELEASE,
                                                       progress=lambda d, t: seen.append((d, t)))
    assert [a.prompt_id for a in answers] == ["p1", "p2", "p3", "p4"]
    assert [a.trials for a in answers] == [
        (Trial(("rotate-credentials",), None, False),), (Trial(("deploy-frontend",), None, False),),
        (Trial((), None, False),), (Trial(("backup-database", "rotate-credentials"), None, False),)]
    assert seen[0] == (0, 4) and seen[-1] == (4, 4) and [d for d, _ in seen] == sorted(d for d, _ in seen)
    again = router(scripts["good"], tmp_path).answer(PROMPTS, SKILLS, RELEASE)
    assert rankings(again) == rankings(answers) and all(t.cached for a in again for t in a.trials)


def test_slow_router_times_out_kills_its_group_and_retries(scripts, tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    start = time.monotonic()
    [answer] = router(f"{scripts['slow']} {state}", tmp_path, timeout=1, retries=1).answer(
        [("p1", "rotate")], SKILLS, RELEASE)
    assert time.monotonic() - start < 6
    trial = answer.trials[0]
    assert trial.error == "timed out after 1s" and trial.ranking == () and not trial.cached
    assert (state / "attempts").read_text().count("x") == 2
    pids = [int(p) for p in (state / "pids").read_text().split()]
    assert len(pids) == 4 and wait_dead(pids) == []          # both scripts and both grandchildren


@pytest.mark.parametrize("output, problem", [
    ("hello world", "output is not JSON"),
    ('{"skills": []} {"skills": []}', "output is not JSON (Extra data"),
    ("", "no output"),
    ('["query-logs"]', 'output is not {"skills": [...]}'),
    ('{"skills": "query-logs"}', 'output is not {"skills": [...]}'),
    ('{"skills": ["no-such-skill"]}', 'unknown skill "no-such-skill"'),
    ('{"skills": [1]}', "skill names must be strings"),
    ('{"skills": ["query-logs", "query-logs"]}', 'skill "query-logs" listed more than once'),
])
def test_garbage_output_is_an_error_not_no_skill(scripts, tmp_path, output, problem):
    [answer] = router(f"{scripts['print']} {shlex.quote(output)}", tmp_path, retries=0).answer(
        [("p1", "logs")], SKILLS, RELEASE)
    trial = answer.trials[0]
    assert trial.error is not None and problem in trial.error, trial.error
    assert trial.ranking == () and "\n" not in trial.error


def test_long_garbage_is_quoted_short(scripts, tmp_path):
    [answer] = router(f"{scripts['print']} {'x' * 500}", tmp_path, retries=0).answer([("p1", "a")], SKILLS, RELEASE)
    error = answer.trials[0].error
    assert error.startswith("output is not JSON") and "x" * 79 in error and "x" * 81 not in error


def test_crashing_router_reports_exit_code_and_last_stderr_line(scripts, tmp_path):
    [answer] = router(scripts["crash"], tmp_path, retries=0).answer([("p1", "logs")], SKILLS, RELEASE)
    assert answer.trials[0].error == 'exit code 3, stderr: "boom"'


@pytest.mark.parametrize("retries", [0, 1])
def test_flaky_router_succeeds_on_retry(scripts, tmp_path, retries):
    state = tmp_path / "state"
    state.mkdir()
    [answer] = router(f"{scripts['flaky']} {state}", tmp_path, retries=retries).answer([("p1", "x")], SKILLS, RELEASE)
    if retries:
        assert answer.trials == (Trial(("query-logs",), None, False),)
    else:
        assert answer.trials[0].error == 'exit code 1, stderr: "transient failure"'
    assert (state / "count").read_text() == str(retries + 1)


def test_cache_resumes_and_invalidates(scripts, tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    cmd = f"{scripts['good']} {state}"
    prompts = [(f"p{i}", text) for i, text in enumerate(["rotate", "deploy", "logs", "backup", "rotate it",
                                                        "query the logs"], 1)]
    (state / "fail_after").write_text("3")
    first = router(cmd, tmp_path, jobs=1, retries=0).answer(prompts, SKILLS, RELEASE)
    assert [a.trials[0].error for a in first][:3] == [None] * 3
    assert all("refusing: limit reached" in a.trials[0].error for a in first[3:])
    (state / "fail_after").unlink()
    second = router(cmd, tmp_path, jobs=1, retries=0).answer(prompts, SKILLS, RELEASE)
    assert [e["ids"] for e in log_of(state)] == [[f"p{i}"] for i in range(1, 7)]   # only p4-p6 asked again
    assert [a.trials[0].cached for a in second] == [True] * 3 + [False] * 3
    assert rankings(second)[:3] == rankings(first)[:3] and all(a.trials[0].error is None for a in second)

    def calls_for(command=cmd, skills=SKILLS, release=RELEASE) -> int:
        before = len(log_of(state))
        router(command, tmp_path).answer(prompts, skills, release)
        return len(log_of(state)) - before

    assert calls_for() == 0
    assert calls_for(release={**RELEASE, "ref": "v2", "commit": "def"}) == 0     # same content
    assert calls_for(command=f"{cmd} extra-argument") == 6
    assert calls_for(skills=[SKILLS[0], (SKILLS[1][0], "Ship the web frontend"), *SKILLS[2:]]) == 6
    assert calls_for(release={**RELEASE, "content_sha256": "beef"}) == 6


def test_killed_run_resumes_from_cache(scripts, tmp_path):
    state, cache = tmp_path / "state", tmp_path / "cache"
    state.mkdir()
    (state / "sleep").write_text("0.3")
    cmd = f"{scripts['good']} {state}"
    prompts = [(f"p{i}", text) for i, text in enumerate(["rotate", "deploy", "logs", "backup", "nothing",
                                                        "rotate logs", "deploy database", "query"], 1)]
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"command": cmd, "cache": str(cache), "prompts": prompts, "skills": SKILLS,
                                "release": RELEASE}))
    child = subprocess.Popen([sys.executable, scripts["child"].split()[-1], str(spec)], cwd=REPO)
    try:
        rows, end = 0, time.monotonic() + 30
        while rows < 3 and time.monotonic() < end and child.poll() is None:
            try:
                with sqlite3.connect(cache / FILE_NAME, timeout=5) as db:
                    rows = db.execute("SELECT COUNT(*) FROM answers").fetchone()[0]
            except sqlite3.OperationalError:
                pass
            time.sleep(0.05)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL and 3 <= rows < len(prompts)
    (state / "sleep").unlink()
    calls_before = len(log_of(state))
    resumed = router(cmd, tmp_path, cache_dir=cache).answer(prompts, SKILLS, RELEASE)
    cached = [a.trials[0].cached for a in resumed]
    assert sum(cached) >= 3 and cached[:3] == [True] * 3
    # asked again: exactly the uncached prompts (the killed run's orphaned call may log one of them late)
    asked = [e["ids"][0] for e in log_of(state)[calls_before:]]
    missing = [pid for (pid, _), hit in zip(prompts, cached) if not hit]
    assert set(asked) == set(missing) and len(missing) <= len(asked) <= len(missing) + 1
    clean = router(cmd, tmp_path, cache_dir=tmp_path / "clean").answer(prompts, SKILLS, RELEASE)
    assert rankings(resumed) == rankings(clean) and all(a.trials[0].error is None for a in clean)


EIGHT = [(f"skill-{c}", f"Does {c}") for c in "abcdefgh"]


def test_repeats_see_different_orders_deterministically(scripts, tmp_path):
    prompts = [("p1", "one"), ("p2", "two"), ("p3", "three")]
    runs = [router(scripts["echo"], tmp_path, cache_dir=tmp_path / f"c{i}", repeat=3, seed=7).answer(
        prompts, EIGHT, RELEASE) for i in range(2)]
    assert rankings(runs[0]) == rankings(runs[1])
    names = sorted(n for n, _ in EIGHT)
    for answer in runs[0]:
        orders = [t.ranking for t in answer.trials]
        assert all(sorted(o) == names for o in orders) and len(set(orders)) == 3
    assert len({t.ranking[0] for a in runs[0] for t in a.trials}) > 1
    other_seed = router(scripts["echo"], tmp_path, cache_dir=tmp_path / "c", repeat=3, seed=8).answer(
        prompts, EIGHT, RELEASE)
    assert rankings(other_seed) != rankings(runs[0])
    plain = router(scripts["echo"], tmp_path, cache_dir=tmp_path / "c", repeat=2, shuffle=False).answer(
        prompts, EIGHT, RELEASE)
    assert {t.ranking for a in plain for t in a.trials} == {tuple(n for n, _ in EIGHT)}


def test_shuffle_order_uses_no_global_random_state():
    import random
    random.seed(1)
    a = shuffle_order(0, "p1", 0, 20)
    random.seed(2)
    assert shuffle_order(0, "p1", 0, 20) == a != shuffle_order(0, "p1", 1, 20)
    assert shuffle_order(0, "p1", 0, 20, shuffle=False) == tuple(range(20))


def test_batch_mode_maps_by_id_and_retries_only_the_missing(scripts, tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    prompts = [("p1", "rotate"), ("p2", "skipme deploy"), ("p3", "logs"), ("p4", "backup"), ("p5", "nothing")]
    answers = router(f"{scripts['good']} {state}", tmp_path, batch=3, jobs=1, retries=1).answer(
        prompts, SKILLS, RELEASE)
    assert [a.trials[0].ranking for a in answers] == [("rotate-credentials",), (), ("query-logs",),
                                                      ("backup-database",), ()]
    assert answers[1].trials[0].error == 'no answer for id "p2"'
    assert all(a.trials[0].error is None for i, a in enumerate(answers) if i != 1)
    log = log_of(state)
    assert [e["ids"] for e in log] == [["p1", "p2", "p3"], ["p2"], ["p4", "p5"]]   # retried at once
    assert log[1]["order"] == log[0]["order"]                # a retry keeps its batch's skill order


def test_parse_batch_problems():
    names = {"a", "b"}
    assert parse_batch('{"answers": [{"id": "x", "skills": ["a"]}, {"id": "x", "skills": []},'
                       ' {"id": "y", "skills": ["b"]}]}', ["x", "y"], names) == {
        "x": (None, 'id "x" answered more than once'), "y": (("b",), None)}
    for text, problem in (('{"answers": [{"id": "z", "skills": []}]}', 'answer for an id that was not asked: "z"'),
                          ('{"answers": [{"id": "x"}]}', 'an answer is not {"id": "...", "skills": [...]}'),
                          ('{"skills": []}', 'output is not {"answers": [...]}'),
                          ('{"answers": [{"id": "x", "skills": ["c"]}]}', None)):
        got = parse_batch(text, ["x", "y"], names)
        if problem:
            assert got["x"] == got["y"] == (None, got["x"][1]) and problem in got["x"][1]
        else:
            assert got == {"x": (None, 'unknown skill "c" (not a skill of the library)'),
                           "y": (None, 'no answer for id "y"')}


def test_interrupt_kills_running_commands(scripts, tmp_path):
    state = tmp_path / "state"
    state.mkdir()

    def progress(done, total):
        end = time.monotonic() + 10
        while done and not (state / "pids").exists() and time.monotonic() < end:
            time.sleep(0.05)                                 # the slow call is asleep once it wrote its pid
        if done:
            raise KeyboardInterrupt

    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        router(f"{scripts['good']} {state}", tmp_path, jobs=2, timeout=20).answer(
            [("p1", "slowpoke"), ("p2", "rotate"), ("p3", "deploy"), ("p4", "logs")], SKILLS, RELEASE,
            progress=progress)
    assert time.monotonic() - start < 15
    assert wait_dead([int(p) for p in (state / "pids").read_text().split()]) == []


def test_config_and_validation(scripts, tmp_path):
    r = router(scripts["good"], tmp_path, repeat=3, batch=2, seed=5)
    assert r.config() == {"command": scripts["good"], "protocol": 1, "timeout": 10.0, "retries": 1, "repeat": 3,
                          "shuffle": True, "batch": 2, "seed": 5}
    assert json.loads(json.dumps(r.config())) == r.config() and r.model_info() == (None, None)
    assert r.name == "command"
    for command, kw in (("", {}), ("'unbalanced", {}), ("no-such-command-here-xyz", {}),
                        (scripts["good"], {"jobs": 0}), (scripts["good"], {"repeat": 0}),
                        (scripts["good"], {"timeout": 0})):
        with pytest.raises(HarnessError):
            router(command, tmp_path, **kw)
    with pytest.raises(HarnessError, match="duplicate prompt id"):
        r.answer([("p1", "a"), ("p1", "b")], SKILLS, RELEASE)
    assert r.answer([], SKILLS, RELEASE) == []


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ids=st.lists(st.text("abcdefgh-_.", min_size=1, max_size=5), unique=True, max_size=5),
       texts=st.lists(st.text(max_size=30), min_size=5, max_size=5), repeat=st.integers(1, 2),
       batch=st.integers(1, 3), jobs=st.integers(1, 3), shuffle=st.booleans())
def test_property_one_answer_per_prompt_in_order(scripts, ids, texts, repeat, batch, jobs, shuffle):
    prompts = list(zip(ids, texts))
    with tempfile.TemporaryDirectory() as tmp:
        answers = CommandRouter(scripts["good"], cache_dir=Path(tmp), repeat=repeat, batch=batch, jobs=jobs,
                                shuffle=shuffle).answer(prompts, SKILLS, RELEASE)
    assert [a.prompt_id for a in answers] == ids
    names = {n for n, _ in SKILLS}
    for answer in answers:
        assert len(answer.trials) == repeat
        assert all(t.error is None and set(t.ranking) <= names for t in answer.trials)
        assert len({t.ranking for t in answer.trials}) == 1      # the script ranks by name: order does not matter


def test_environment_and_working_directory_are_inherited(tmp_path, monkeypatch):
    script = tmp_path / "env.py"
    script.write_text("import json, os, sys\nd = json.load(sys.stdin)\n"
                      "assert d['prompt'] not in ' '.join(sys.argv)\n"
                      "open(sys.argv[1], 'w').write(os.getcwd())\n"
                      "print(json.dumps({'skills': [os.environ['ROUTER_PICK']]}))\n")
    monkeypatch.setenv("ROUTER_PICK", "query-logs")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    [answer] = router(f"{shlex.quote(sys.executable)} {script} {tmp_path / 'cwd.txt'}", tmp_path).answer(
        [("p1", "secret prompt text")], SKILLS, RELEASE)
    assert answer.trials[0] == Trial(("query-logs",), None, False)
    assert (tmp_path / "cwd.txt").read_text() == str(work)
