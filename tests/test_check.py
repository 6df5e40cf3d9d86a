"""`check`: lint rules one by one, and the what-if on a copy of the real library."""

import json
import os
import subprocess
import sys

import pytest

from conftest import REPO, git
from harness.library.lint import lint_text

ENV = {**os.environ, "HF_HUB_OFFLINE": "1"}
GOOD = "Rotates database credentials on a schedule. Use when a password or key must change."


def fm(name="rotate-db", desc=GOOD, extra=""):
    lines = ["---", f"name: {name}", f"description: {desc}"] + ([extra] if extra else []) + ["---", "# Body", ""]
    return "\n".join(lines).encode()


KNOWN = {"rotate-db", "other-skill"}
CASES = [
    ("clean", fm(), "rotate-db", []),
    ("name-not-kebab", fm(name="Rotate_DB"), "Rotate_DB", ["name-not-kebab"]),
    ("doubled hyphen", fm(name="rotate--db"), "rotate--db", ["name-not-kebab"]),
    ("trailing hyphen", fm(name="rotate-db-"), "rotate-db-", ["name-not-kebab"]),
    ("name-too-long", fm(name="r" * 65), "r" * 65, ["name-too-long"]),
    ("name-folder-mismatch", fm(), "rotate-database", ["name-folder-mismatch"]),
    ("description-too-long", fm(desc=GOOD + " x" * 520), "rotate-db", ["description-too-long"]),
    ("angle-brackets", fm(desc=GOOD + " Accepts <secret-id>."), "rotate-db", ["angle-brackets"]),
    ("compatibility-too-long", fm(extra="compatibility: " + "y" * 501), "rotate-db", ["compatibility-too-long"]),
    ("unknown-key", fm(extra="version: 2"), "rotate-db", ["unknown-key"]),
    ("prose-key", fm(extra="Triggers - activate on: rotation, expiry"), "rotate-db", ["prose-key"]),
    ("no-trigger", fm(desc="Rotates database credentials on a schedule."), "rotate-db", ["no-trigger"]),
    ("exclusion-no-alternative", fm(desc=GOOD + " Not for API keys of third parties."), "rotate-db", ["exclusion-no-alternative"]),
    ("exclusion-unknown-skill", fm(desc=GOOD + " Not for API keys (use vault-keys)."), "rotate-db", ["exclusion-unknown-skill"]),
    ("invalid-yaml", fm(desc="Rotates: credentials: now"), "rotate-db", ["invalid-yaml"]),
    ("missing-description", b"---\nname: rotate-db\n---\nbody\n", "rotate-db", ["missing-description"]),
]


@pytest.mark.parametrize("label,data,folder,codes", CASES, ids=[c[0] for c in CASES])
def test_each_lint_rule_alone(label, data, folder, codes):
    findings, _ = lint_text(data, f"skills/{folder}/SKILL.md", folder, KNOWN)
    assert sorted(f.code for f in findings) == codes


def test_severities_follow_what_the_agent_sees():
    errors = {"name-not-kebab", "name-too-long", "description-too-long", "angle-brackets", "prose-key", "invalid-yaml",
              "missing-description"}
    for label, data, folder, codes in CASES:
        for f in lint_text(data, f"skills/{folder}/SKILL.md", folder, KNOWN)[0]:
            assert (f.severity == "error") == (f.code in errors), f


def test_truncation_says_what_falls_past_the_cut():
    from harness.routers.base import shared_encoder
    desc = GOOD + " " + " ".join(f"ERR-{i:04d}" for i in range(120)) + " final trigger words"
    enc = shared_encoder(None)
    findings, _ = lint_text(fm(desc=desc), "skills/rotate-db/SKILL.md", "rotate-db", KNOWN, enc)
    (t,) = [f for f in findings if f.code == "description-truncated"]
    (n,) = enc.count_tokens([f"rotate db: {desc}"])
    assert f"the encoder reads 256 tokens, this text has {n}: {n - 256} are lost" in t.message
    tail = t.message.split("are lost, from '", 1)[1].rsplit(" …'", 1)[0]
    assert tail in desc and desc.index(tail) > len(GOOD) and "final trigger words" not in t.message


@pytest.fixture(scope="module")
def aws_copy(tmp_path_factory, bundle):
    d = tmp_path_factory.mktemp("atk") / "lib"
    subprocess.run(["git", "clone", "-q", "--no-checkout", bundle, str(d)], check=True)
    git(d, "checkout", "-q", "release-2026-08-20")
    return d


def check(lib, rel, *extra, cache):
    proc = subprocess.run([sys.executable, "-m", "harness", "check", str(lib / rel), "--eval-set", "eval_sets/agent-toolkit-for-aws",
                           "--cache-dir", str(cache), "--json", *extra], cwd=REPO, capture_output=True, text=True, env=ENV, timeout=900)
    return proc.returncode, json.loads(proc.stdout) if proc.stdout.strip() else proc.stderr


WAF = "skills/specialized-skills/networking-and-content-delivery-skills/waf/SKILL.md"
SHIELD = "skills/specialized-skills/networking-and-content-delivery-skills/shieldadvanced/SKILL.md"


def test_unchanged_file_reports_no_change(aws_copy, cache_dir):
    rc, rep = check(aws_copy, WAF, "--fail-on", "new-collision", cache=cache_dir)
    assert rc == 0, rep
    assert rep["against_state"] == "unchanged" and rep["what_if"]["top1"]["delta"] == 0
    assert rep["what_if"]["wins"] == rep["what_if"]["loses"] == rep["what_if"]["steals"] == []
    assert rep["what_if"]["new_collisions"] == [] and len(rep["neighbours"]) == 5


def test_a_neighbours_wording_collides_and_fails(aws_copy, cache_dir):
    shield = (aws_copy / SHIELD).read_text()
    desc = shield.split("description:", 1)[1].split("\n---", 1)[0].strip().strip('"')
    rc, rep = check(aws_copy, WAF, "--fail-on", "new-collision", "--description", desc, cache=cache_dir)
    assert rc == 1, rep
    pairs = {(c["victim"], c["thief"]) for c in rep["what_if"]["new_collisions"]}
    assert pairs & {("waf", "shieldadvanced"), ("shieldadvanced", "waf")}
    assert rep["what_if"]["loses"] or rep["what_if"]["steals"]
    assert rep["neighbours"][0]["skill"] == "shieldadvanced" and rep["neighbours"][0]["similarity"] > 0.9
    assert any("new-collision" in b for b in rep["breaches"])


def test_the_remembered_base_gives_the_same_report(aws_copy, cache_dir, tmp_path):
    import shutil
    cache = tmp_path / "cache"
    shutil.copytree(cache_dir, cache, ignore=shutil.ignore_patterns("check-base"))
    desc = "Protects web applications with managed rule groups, rate limits and bot control."
    first = check(aws_copy, WAF, "--description", desc, cache=cache)
    (base,) = (cache / "check-base").glob("*.json")
    stamp = base.stat().st_mtime_ns
    assert check(aws_copy, WAF, "--description", desc, cache=cache) == first   # the base read back, not routed
    assert base.stat().st_mtime_ns == stamp
    unchanged = check(aws_copy, WAF, cache=cache)                                  # the same base serves an unchanged file
    assert [p.name for p in (cache / "check-base").glob("*.json")] == [base.name]
    base.write_text("{not json", encoding="utf-8")                                 # unreadable: routed again, same answer
    assert check(aws_copy, WAF, "--description", desc, cache=cache) == first
    assert unchanged[0] == 0 and unchanged[1]["what_if"]["top1"]["delta"] == 0


def test_neighbours_without_an_eval_set(aws_copy, cache_dir):
    proc = subprocess.run([sys.executable, "-m", "harness", "check", str(aws_copy / WAF), "--cache-dir", str(cache_dir), "--json"],
                          cwd=REPO, capture_output=True, text=True, env=ENV, timeout=900)
    rep = json.loads(proc.stdout)
    assert proc.returncode == 0 and rep["what_if"] is None and rep["note"] == "no --eval-set: lint and neighbours only"
    assert len(rep["neighbours"]) == 5 and rep["neighbours"][0]["skill"] == "shieldadvanced"


def test_a_copy_that_is_not_routed_says_so(tmp_path):
    lib = tmp_path / "lib"
    text = fm(desc=GOOD)
    for rel in ("plugins/ops/skills/rotate-db/SKILL.md", "skills/rotate-db/SKILL.md", "skills/other-skill/SKILL.md"):
        (lib / rel).parent.mkdir(parents=True)
        (lib / rel).write_bytes(text.replace(b"name: rotate-db", b"name: other-skill") if "other" in rel else text)

    def run(rel):
        proc = subprocess.run([sys.executable, "-m", "harness", "check", str(lib / rel), "--library", str(lib),
                               "--cache-dir", str(tmp_path / "cache"), "--router", "bm25", "--json"],
                              cwd=REPO, capture_output=True, text=True, env=ENV, timeout=300)
        return [f for f in json.loads(proc.stdout)["lint"] if f["code"] == "not-the-routed-copy"]
    (second,) = run("skills/rotate-db/SKILL.md")          # 'plugins/…' sorts first: that copy is routed
    assert second["severity"] == "warning" and "plugins/ops/skills/rotate-db/SKILL.md" in second["message"]
    assert run("plugins/ops/skills/rotate-db/SKILL.md") == [] and run("skills/other-skill/SKILL.md") == []


def test_the_readme_check_example(cache_dir):
    """The README's check example, as printed there: 7 own prompts lost, 2 taken, a new high collision, exit 1."""
    proc = subprocess.run([sys.executable, "-m", "harness", "check", "skills/example/v2/plugins/forge-ops/skills/forge-secrets/SKILL.md",
                           "--library", "skills/example/v2", "--eval-set", "eval_sets/example", "--fail-on", "new-collision",
                           "--description", "Stores and rotates build artifacts and their signing keys. Use when publishing a build.",
                           "--cache-dir", str(cache_dir), "--json"], cwd=REPO, capture_output=True, text=True, env=ENV, timeout=900)
    rep = json.loads(proc.stdout)
    w = rep["what_if"]
    assert proc.returncode == 1 and len(w["loses"]) == 7 and len(w["steals"]) == 2
    assert [(c["victim"], c["thief"], c["severity"]) for c in w["new_collisions"]] == [("forge-secrets", "forge-onboarding", "high")]


def test_a_new_exclusion_clause_moves_prompts_only_when_rerouted(tmp_path, cache_dir):
    """Under the default (exclusion sentences stripped) a clause added to the thief of the example's
    planted collision changes nothing the routers see; `--exclusions reroute` measures the
    redirection: 3 of forge-schema-changes' 10 prompts come back."""
    import shutil

    from harness.library.exclusions import positive_text
    from harness.library.loader import load_library
    lib = tmp_path / "lib"
    shutil.copytree(REPO / "skills" / "example" / "v2", lib)
    git(lib, "init", "-q")
    git(lib, "add", "-A")
    git(lib, "commit", "-q", "-m", "v2")
    rel = "plugins/forge-data/skills/forge-db-migrations/SKILL.md"
    desc = next(s.description for s in load_library(str(lib), cache_dir).skills if s.name == "forge-db-migrations")
    new = desc + " Not for change-board review of schema change requests (SCR tickets); use forge-schema-changes."
    assert positive_text(new) == desc
    reports = {}
    for mode in ("strip", "reroute"):
        proc = subprocess.run([sys.executable, "-m", "harness", "check", str(lib / rel), "--eval-set", "eval_sets/example",
                               "--description", new, "--exclusions", mode, "--cache-dir", str(cache_dir), "--json"],
                              cwd=REPO, capture_output=True, text=True, env=ENV, timeout=900)
        assert proc.returncode == 0, proc.stderr
        reports[mode] = json.loads(proc.stdout)["what_if"]
    assert reports["strip"]["top1"]["delta"] == 0 and reports["strip"]["per_skill"] == []
    moved = {s["skill"]: s["recall_delta"] for s in reports["reroute"]["per_skill"]}
    assert moved["forge-schema-changes"] == pytest.approx(0.3)


def _check_in_process(capsys, *argv):
    from harness.commands.cli import main
    rc = main(["check", *argv, "--json"])
    out, err = capsys.readouterr()
    return rc, (json.loads(out) if out.strip() else None), err


DEPLOY = "plugins/forge-ops/skills/forge-deploy/SKILL.md"


@pytest.fixture()
def monorepo(tmp_path):
    """The example library as a folder inside a team's repository (not at its root), committed."""
    repo = tmp_path / "team-repo"
    lib = repo / "tools" / "skills"
    import shutil
    shutil.copytree(REPO / "skills" / "example" / "v2", lib)
    (repo / "README.md").write_text("team repository\n")
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "skills")
    return repo, lib


def test_an_unchanged_file_in_a_library_inside_a_repository_passes(monorepo, cache_dir, capsys):
    """The base is the committed file in the enclosing repository, wherever the library sits in it."""
    _, lib = monorepo
    rc, rep, err = _check_in_process(capsys, str(lib / DEPLOY), "--library", str(lib), "--eval-set", "eval_sets/example",
                                     "--fail-on", "new-collision", "--cache-dir", str(cache_dir))
    assert rc == 0, err
    assert rep["against"] == "HEAD" and rep["against_state"] == "unchanged" and rep["as_is"] is None
    w = rep["what_if"]
    assert w["wins"] == w["loses"] == w["steals"] == w["new_collisions"] == [] and w["top1"]["delta"] == 0


def test_a_new_file_is_new_only_when_git_says_so(monorepo, cache_dir, capsys):
    repo, lib = monorepo
    new = lib / "skills" / "forge-chatops" / "SKILL.md"
    new.parent.mkdir(parents=True)
    new.write_text("---\nname: forge-chatops\ndescription: Runs platform commands from the team chat. "
                   "Use when a deploy or rollback is asked for in a chat channel.\n---\nBody.\n")
    rc, rep, err = _check_in_process(capsys, str(new), "--library", str(lib), "--eval-set", "eval_sets/example",
                                     "--cache-dir", str(cache_dir))
    assert rc == 0, err
    assert rep["against_state"] == "new file"
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "chatops")
    rc, rep, err = _check_in_process(capsys, str(new), "--library", str(lib), "--eval-set", "eval_sets/example",
                                     "--cache-dir", str(cache_dir))
    assert rc == 0 and rep["against_state"] == "unchanged" and rep["what_if"]["top1"]["delta"] == 0


def test_outside_git_no_delta_is_claimed(tmp_path, cache_dir, capsys):
    import shutil
    lib = tmp_path / "lib"
    shutil.copytree(REPO / "skills" / "example" / "v2", lib)
    own = sum(1 for line in (REPO / "eval_sets" / "example" / "prompts.jsonl").read_text().splitlines()
              if line.strip() and json.loads(line).get("expected") == ["forge-deploy"])
    rc, rep, err = _check_in_process(capsys, str(lib / DEPLOY), "--library", str(lib), "--eval-set", "eval_sets/example",
                                     "--cache-dir", str(cache_dir))
    assert rc == 0, err
    assert rep["against"] is None and rep["against_state"] == "no base" and rep["what_if"] is None
    a = rep["as_is"]
    assert own == 10 and len(a["wins"]) + len(a["loses"]) == own
    assert all(x["now"] != "forge-deploy" for x in a["loses"]) and all(x["now"] == "forge-deploy" for x in a["wins"])
    for rule in ("new-collision", "top1-drop>0", "broken>0"):   # every rule needs a base: exit 2, one line
        rc, rep, err = _check_in_process(capsys, str(lib / DEPLOY), "--library", str(lib), "--eval-set",
                                         "eval_sets/example", "--fail-on", rule, "--cache-dir", str(cache_dir))
        assert rc == 2 and rep is None and err.count("\n") == 1 and err.startswith("skill-harness: error: --fail-on")
    rc, rep, err = _check_in_process(capsys, str(lib / DEPLOY), "--library", str(lib), "--against", "HEAD",
                                     "--cache-dir", str(cache_dir))
    assert rc == 2 and "not inside a git repository" in err
    # a candidate wording outside git is measured against the file on disk
    rc, rep, err = _check_in_process(capsys, str(lib / DEPLOY), "--library", str(lib), "--eval-set", "eval_sets/example",
                                     "--description", "Deploys builds. Use when releasing.", "--cache-dir", str(cache_dir))
    assert rc == 0 and rep["against"] == "the file on disk" and rep["against_state"] == "changed"
    assert rep["what_if"]["loses"]

# issue 16, items 8, 21 and 15 (two routers): every verdict sound

EXAMPLE = REPO / "skills" / "example" / "v2"
SECRETS = EXAMPLE / "plugins" / "forge-ops" / "skills" / "forge-secrets" / "SKILL.md"
ARTIFACTS = "Stores and rotates build artifacts and their signing keys. Use when publishing a build."


def test_a_rule_without_an_eval_set_exits_2_naming_the_rules(cache_dir, capsys):
    from harness.commands.cli import main
    base = ["check", str(SECRETS), "--library", str(EXAMPLE), "--description", ARTIFACTS, "--router", "bm25",
            "--cache-dir", str(cache_dir)]
    capsys.readouterr()
    assert main(base + ["--fail-on", "new-collision,top1-drop>0"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.splitlines() == ["skill-harness: error: --fail-on new-collision,top1-drop>0: every rule needs "
                                              "routed prompts and there are none (no eval set: give --eval-set)"]
    assert main(base) == 0                     # lint and neighbours alone: no rule, nothing claimed
    assert "no --eval-set: lint and neighbours only" in capsys.readouterr().out


NEIGHBOURS = {
    "db-backup-restore": "Restores Postgres databases from snapshots on the kubernetes cluster. Use when data must come back.",
    "db-backup-verify": "Checks that nightly archive files are complete. Use when auditing retention.",
    "log-shipping": "Ships application logs from the kubernetes cluster to the search service. Use when logs are missing.",
    "alert-routing": "Sends pager notifications to the on-call engineer. Use when an incident starts.",
    "cache-warming": "Preloads the CDN edge before a launch. Use when traffic spikes.",
}


@pytest.mark.parametrize("fields,nearest,shared", [("name", "db-backup-verify", "db backup"),
                                                    ("description", "log-shipping", "kubernetes cluster")])
def test_neighbours_compare_what_the_routers_read(tmp_path, capsys, fields, nearest, shared):
    """By name, db-backup-restore's neighbour is db-backup-verify (two name words shared); by
    description it is log-shipping (the kubernetes cluster). The shared terms come from the same text."""
    from conftest import write_skill
    from harness.commands.cli import main
    for name, desc in NEIGHBOURS.items():
        write_skill(tmp_path / "lib", f"skills/{name}", name, desc)
    args = ["check", str(tmp_path / "lib/skills/db-backup-restore/SKILL.md"), "--library", str(tmp_path / "lib"),
            "--router", "bm25", "--fields", fields, "--cache-dir", str(tmp_path / "cache")]
    capsys.readouterr()
    assert main(args + ["--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    first = rep["neighbours"][0]
    assert first["skill"] == nearest and shared in first["shared_terms"]
    assert rep["neighbours_by"] == {"fields": fields, "exclusions": "strip", "similarity": "tf-idf cosine"}
    if fields == "name":                       # every term shared is a word of both names
        assert all(set(t.split()) <= {"db", "backup"} for n in rep["neighbours"] for t in n["shared_terms"])
    assert main(args) == 0
    text = capsys.readouterr().out
    assert f"nearest skills by {fields}, as the routers read them (tf-idf cosine" in text
    assert ("by description" in text) == (fields == "description")


def test_every_router_given_gets_its_what_if(cache_dir, capsys):
    """Each router's what-if is the one a check with that router alone gives; the verdict stays on
    the first router (no hybrid given)."""
    from harness.commands.cli import main
    from harness.metrics.paired import format_p, mcnemar_exact, p_value
    args = ["check", str(SECRETS), "--library", str(EXAMPLE), "--eval-set", str(REPO / "eval_sets/example"),
            "--description", ARTIFACTS, "--cache-dir", str(cache_dir)]
    capsys.readouterr()
    main(args + ["--router", "bm25", "--router", "tfidf", "--json"])
    rep = json.loads(capsys.readouterr().out)
    every = rep["what_if_by_router"]
    assert [w["router"] for w in every] == ["bm25", "tfidf"] and rep["what_if"] == every[0]
    main(args + ["--router", "tfidf", "--json"])
    alone = json.loads(capsys.readouterr().out)["what_if"]
    assert every[1] == {k: v for k, v in alone.items() if k not in ("new_collisions", "resolved_collisions")}
    for w in every:
        assert w["mcnemar_p"] == p_value(mcnemar_exact(w["fixed"], w["broken"])) and w["broken"] >= len(w["loses"])
    assert every[0]["loses"] != every[1]["loses"] or every[0]["top1"] != every[1]["top1"]   # two different answers shown
    main(args + ["--router", "bm25", "--router", "tfidf"])
    text = capsys.readouterr().out
    for w, title in zip(every, ("bm25, the gate", "tfidf")):
        assert f"what-if ({title}): " in text and f"McNemar p {format_p(w['mcnemar_p'])}" in text
