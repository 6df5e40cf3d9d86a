"""`check` in CI (issue 19): several paths, --changed since a branch, GitHub annotations, JUnit,
the composite action's steps and the pre-commit hook, on the example library in temporary repositories."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, error_line, git

EVAL = str(REPO / "eval_sets" / "example")
XSD = REPO / "tests" / "data" / "junit-10.xsd"
LIB = "tools/skills"   # the library's folder inside the team's repository
STEALER = f"{LIB}/plugins/forge-ops/skills/forge-logs/SKILL.md"   # takes forge-alerts' prompts
BUILD = f"{LIB}/plugins/forge-build/skills/forge-build/SKILL.md"


def main(capsys, *argv):
    from harness.commands.cli import main as cli
    capsys.readouterr()
    rc = cli(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def description_line(path: Path) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if line.startswith("description:"))


def set_description(path: Path, text: str) -> None:
    lines = path.read_text().splitlines(keepends=True)
    lines[description_line(path) - 1] = f"description: {text}\n"
    path.write_text("".join(lines))


def description(path: Path) -> str:
    return path.read_text().splitlines()[description_line(path) - 1].split(":", 1)[1].strip()


@pytest.fixture()
def team_repo(tmp_path, monkeypatch):
    """The example library in a subfolder of a repository, committed on main; a branch `feature`
    edits two SKILL.md files: forge-build gains a harmless clause, forge-logs takes forge-alerts'
    description (and so its prompts)."""
    repo = tmp_path / "team"
    shutil.copytree(REPO / "skills" / "example" / "v2", repo / LIB)
    (repo / "README.md").write_text("team repository\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "skills")
    git(repo, "checkout", "-q", "-b", "feature")
    build = repo / BUILD
    set_description(build, description(build).replace("before any test runs.", "before any test runs, such as a missing toolchain."))
    set_description(repo / STEALER, description(repo / LIB / "plugins/forge-ops/skills/forge-alerts/SKILL.md"))
    git(repo, "commit", "-q", "-am", "two edits")
    monkeypatch.chdir(repo)
    for var in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY"):
        monkeypatch.delenv(var, raising=False)
    return repo


def junit_cases(path: Path) -> list[tuple[str, str, str | None]]:
    """(classname, name, the failure's message or None) of each test case, checking the counts."""
    import xml.etree.ElementTree as ET
    root = ET.parse(path).getroot()
    (suite,) = root
    cases = [(c.get("classname"), c.get("name"), c.find("failure").get("message") if c.find("failure") is not None else None)
             for c in suite]
    for node in (root, suite):
        assert (node.get("tests"), node.get("failures")) == (str(len(cases)), str(sum(1 for *_, f in cases if f)))
    return cases


def schema():
    import xmlschema
    return xmlschema.XMLSchema(str(XSD))


def test_changed_since_main_fails_only_the_stealing_file(team_repo, cache_dir, capsys, monkeypatch, tmp_path):
    """The issue's acceptance: exit 1, only forge-logs' problem an error, annotated at its
    description's line with its path from the repository's root, one failing JUnit case."""
    junit, summary = tmp_path / "out" / "junit.xml", tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    rc, out, err = main(capsys, "check", "--changed", "--since", "main", "--library", LIB, "--eval-set", EVAL,
                        "--fail-on", "new-collision", "--junit", str(junit), "--cache-dir", str(cache_dir))
    assert rc == 1, err
    errors = [line for line in out.splitlines() if line.startswith("::error")]
    line = description_line(team_repo / STEALER)
    assert errors and all(e.startswith(f"::error file={STEALER},line={line},title=skill-harness --fail-on new-collision::")
                          for e in errors), errors
    assert any("forge-alerts -> forge-logs" in e for e in errors)
    assert not any("forge-build" in e for e in out.splitlines() if e.startswith("::"))
    schema().validate(str(junit))
    cases = junit_cases(junit)
    assert [(c, n) for c, n, _ in cases] == [(BUILD, "lint"), (BUILD, "--fail-on new-collision"),
                                             (STEALER, "lint"), (STEALER, "--fail-on new-collision")]
    assert [(c, n) for c, n, f in cases if f] == [(STEALER, "--fail-on new-collision")]
    assert "forge-alerts -> forge-logs" in cases[3][2]
    md = summary.read_text()
    assert "**FAIL**" in md and f"`{BUILD}`" in md and f"`{STEALER}`" in md
    # the same check as JSON: one document, a verdict per file
    monkeypatch.delenv("GITHUB_ACTIONS")
    rc, out, err = main(capsys, "check", "--changed", "--since", "main", "--library", LIB, "--eval-set", EVAL,
                        "--fail-on", "new-collision", "--json", "--cache-dir", str(cache_dir))
    doc = json.loads(out)
    assert rc == 1 and doc["passed"] is False and doc["changed"]["since"] == "main"
    assert {f["path"]: (f["status"], f["passed"]) for f in doc["files"]} == {BUILD: ("modified", True), STEALER: ("modified", False)}
    steals = next(f for f in doc["files"] if f["path"] == STEALER)["what_if"]["steals"]
    assert steals and all(s["from"] == "forge-alerts" for s in steals if s["from"] != "(out-of-scope)")


def test_several_paths_measure_the_same_edit_as_changed(team_repo, cache_dir, capsys):
    """`check A B` (each against HEAD) and `check --changed --since HEAD` see the same two edits
    of the work tree: the same what-if; each file's lint and neighbours as a check of it alone."""
    git(team_repo, "checkout", "-q", "main")
    git(team_repo, "checkout", "-q", "feature", "--", ".")
    git(team_repo, "reset", "-q")                       # the edits uncommitted, in the work tree of main
    common = ["--library", LIB, "--eval-set", EVAL, "--router", "bm25", "--json", "--cache-dir", str(cache_dir)]
    rc1, out1, err1 = main(capsys, "check", STEALER, BUILD, *common)
    rc2, out2, err2 = main(capsys, "check", "--changed", "--since", "HEAD", *common)
    paths, changed = json.loads(out1), json.loads(out2)
    assert (rc1, rc2) == (0, 0), err1 + err2
    assert [f["path"] for f in paths["files"]] == [f["path"] for f in changed["files"]] == [BUILD, STEALER]
    assert paths["what_if"] == changed["what_if"] and paths["what_if"]["new_collisions"]
    for f in paths["files"]:
        rc, out, _ = main(capsys, "check", f["path"], "--library", LIB, "--router", "bm25", "--json", "--cache-dir", str(cache_dir))
        alone = json.loads(out)
        assert (alone["lint"], alone["neighbours"], alone["against_state"]) == (f["lint"], f["neighbours"], "changed")


def test_changed_files_by_status(tmp_path):
    """Added (staged or committed), modified, renamed, deleted and untracked SKILL.md files under
    the library, from the merge base; nothing outside the library, nothing that is not a SKILL.md."""
    from conftest import write_skill
    from harness.library.gitbase import Changed, changed_files
    repo = tmp_path / "r"
    for name in ("keep", "edit", "move", "gone", "edit-later"):
        write_skill(repo / "lib", f"skills/{name}", name, f"Does {name}. Use when {name}.")
    write_skill(repo, "other/outside", "outside", "Outside the library. Use when never.")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    git(repo, "checkout", "-q", "-b", "work")
    (repo / "lib/skills/edit/SKILL.md").write_text("---\nname: edit\ndescription: Edited. Use when edited.\n---\n")
    write_skill(repo / "lib", "skills/committed-new", "committed-new", "New. Use when new.")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "on the branch")
    git(repo, "checkout", "-q", "main")
    (repo / "lib/skills/keep/notes.txt").write_text("main moved on\n")      # main moves on: the merge base stays
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "main moves")
    git(repo, "checkout", "-q", "work")
    git(repo, "mv", "lib/skills/move", "lib/skills/moved")
    git(repo, "rm", "-q", "lib/skills/gone/SKILL.md")
    (repo / "lib/skills/edit-later/SKILL.md").write_text("---\nname: edit-later\ndescription: Later. Use when later.\n---\n")
    write_skill(repo / "lib", "skills/staged-new", "staged-new", "Staged. Use when staged.")
    git(repo, "add", "lib/skills/staged-new/SKILL.md")
    write_skill(repo / "lib", "skills/untracked", "untracked", "Untracked. Use when untracked.")
    (repo / "lib/skills/keep/README.md").write_text("not a skill file\n")
    (repo / "other/outside/SKILL.md").write_text("---\nname: outside\ndescription: Changed outside. Use when x.\n---\n")
    (repo / ".gitignore").write_text("ignored/\n")
    write_skill(repo / "lib", "ignored/skip", "skip", "Ignored. Use when ignored.")
    cs = changed_files(str(repo / "lib"), "main")
    assert cs.prefix == "lib/" and cs.since == "main"
    assert cs.merge_base == git(repo, "rev-parse", "main~1").strip()
    assert cs.files == [
        Changed("added", "skills/committed-new/SKILL.md", None),
        Changed("modified", "skills/edit-later/SKILL.md", "skills/edit-later/SKILL.md"),
        Changed("modified", "skills/edit/SKILL.md", "skills/edit/SKILL.md"),
        Changed("deleted", "skills/gone/SKILL.md", "skills/gone/SKILL.md"),
        Changed("renamed", "skills/moved/SKILL.md", "skills/move/SKILL.md"),
        Changed("added", "skills/staged-new/SKILL.md", None),
        Changed("untracked", "skills/untracked/SKILL.md", None),
    ]


def test_changed_finds_its_base_or_says_why_not(tmp_path, capsys, cache_dir, monkeypatch):
    """No --since: origin/HEAD, else main, else master; none -> exit 2 naming all three. Outside git: exit 2."""
    from conftest import write_skill
    repo = tmp_path / "r"
    write_skill(repo, "skills/one", "one", "Does one. Use when one.")
    git(repo, "init", "-q", "-b", "trunk")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "one")
    monkeypatch.chdir(repo)
    args = ["check", "--changed", "--json", "--cache-dir", str(cache_dir)]
    rc, out, err = main(capsys, *args)
    assert rc == 2 and out == ""
    assert error_line(err) == (f"skill-harness: error: --changed: none of origin/HEAD, main, master exists in {repo}: "
                               "give --since REF")
    git(repo, "branch", "master")
    assert json.loads(main(capsys, *args)[1])["changed"]["since"] == "master"
    git(repo, "branch", "main")
    assert json.loads(main(capsys, *args)[1])["changed"]["since"] == "main"
    git(repo, "update-ref", "refs/remotes/origin/main", "HEAD")
    git(repo, "symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/main")
    rc, out, err = main(capsys, *args)
    assert rc == 0 and json.loads(out)["changed"]["since"] == "origin/HEAD" and json.loads(out)["files"] == []
    rc, out, err = main(capsys, "check", "--changed", "--since", "nope", "--cache-dir", str(cache_dir))
    assert rc == 2 and error_line(err).startswith("skill-harness: error: --since nope: unknown ref 'nope'")
    plain = tmp_path / "plain"
    write_skill(plain, "skills/one", "one", "Does one. Use when one.")
    rc, out, err = main(capsys, "check", "--changed", "--library", str(plain), "--cache-dir", str(cache_dir))
    assert rc == 2 and error_line(err) == f"skill-harness: error: --changed: {plain} is not inside a git repository"


def test_a_deleted_skill_says_where_its_prompts_go(team_repo, cache_dir, capsys):
    toolbox = f"{LIB}/plugins/forge-data/skills/forge-toolbox/SKILL.md"
    git(team_repo, "rm", "-q", toolbox)
    rc, out, err = main(capsys, "check", "--changed", "--since", "main", "--library", LIB, "--eval-set", EVAL, "--router",
                        "bm25", "--json", "--cache-dir", str(cache_dir))
    assert rc == 0, err
    doc = json.loads(out)
    (gone,) = doc["deleted"]
    own = [json.loads(line)["id"] for line in (REPO / "eval_sets/example/prompts.jsonl").read_text().splitlines()
           if line.strip() and "forge-toolbox" in json.loads(line).get("expected", [])]
    assert gone["path"] == toolbox and gone["skill"] == "forge-toolbox" and gone["status"] == "deleted"
    assert [p["id"] for p in gone["prompts"]] == sorted(own) and len(own) == 10
    assert all(p["now"] != "forge-toolbox" for p in gone["prompts"])
    assert [f["path"] for f in doc["files"]] == [BUILD, STEALER]


@pytest.mark.parametrize("argv,says", [
    (["--changed", STEALER], "--changed finds the files itself: give no PATH with it"),
    ([], "check needs PATH/TO/SKILL.md (one or more) or --changed"),
    (["--since", "main", STEALER], "--since main: only with --changed"),
    (["--against", "HEAD", STEALER, BUILD], "--against: needs exactly one PATH (got 2 paths)"),
    (["--changed", "--description", "x"], "--description: needs exactly one PATH (got --changed)"),
    (["--lint-only", "--eval-set", EVAL, STEALER], "--lint-only: no what-if is routed, so --eval-set would be ignored"),
    (["--annotate", "github", "--json", STEALER], "--annotate github writes to stdout, which --json keeps for the report"),
    (["--junit", "tools", STEALER], "--junit tools: is a folder (give a file to write)"),
])
def test_usage_that_needs_one_path_or_none_is_refused(team_repo, cache_dir, capsys, argv, says):
    rc, out, err = main(capsys, "check", *argv, "--cache-dir", str(cache_dir))
    assert rc == 2 and out == ""
    assert error_line(err).startswith(f"skill-harness: error: {says}")


def test_workflow_commands_are_escaped():
    from harness.reports.annotations import command, untrusted_block
    assert command("error", "50% done\r\n::warning::x", "a,b:c/SKILL.md", 3, "t: 1,2") == \
        "::error file=a%2Cb%3Ac/SKILL.md,line=3,title=t%3A 1%2C2::50%25 done%0D%0A::warning::x"
    assert command("notice", "plain") == "::notice::plain"
    block = untrusted_block("name\n::error::pwned\n").splitlines()
    token = block[0].split("::stop-commands::")[1]
    assert len(token) == 32 and block[1:] == ["name", "::error::pwned", f"::{token}::"]


def test_a_hostile_skill_cannot_inject_workflow_commands(tmp_path, cache_dir, capsys, monkeypatch):
    """A folder name with `,` and `=` and a name with `%0A::` and `::error`: every annotation is one
    of ours, escaped; the text report that quotes them runs with workflow commands stopped."""
    from conftest import write_skill
    repo = tmp_path / "r"
    path = write_skill(repo, "skills/x,line=1,title=pwned", "Pwn%0A::error::x", "Plain text. Use when plain.")
    write_skill(repo, "skills/other", "other", "Other text. Use when other.")
    git(repo, "init", "-q", "-b", "main")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    rc, out, err = main(capsys, "check", str(path), "--library", str(repo), "--lint-only", "--cache-dir", str(cache_dir))
    assert rc == 1, err
    lines = out.splitlines()
    stop = next(i for i, line in enumerate(lines) if line.startswith("::stop-commands::"))
    token = lines[stop].split("::stop-commands::")[1]
    assert lines[-1] == f"::{token}::" and "::error::x" in "\n".join(lines[stop:])   # quoted inside the stopped block
    ours = lines[:stop]
    assert len(ours) == 2 and all(re.match(r"::(error|warning) file=skills/x%2Cline=1%2Ctitle=pwned/SKILL\.md,line=2,"
                                           r"title=skill-harness%3A [a-z-]+::", a) for a in ours), ours
    assert [a.split("::")[1].split(" ")[0] for a in ours] == ["error", "warning"]   # not kebab; not its folder
    assert all("Pwn%250A" in a and "%0A" not in a.replace("%250A", "") for a in ours)


def test_compare_writes_junit_per_rule(tmp_path, cache_dir, capsys):
    """v1 -> v2 of the example library (BM25): one test case per rule, the breached one failing with
    compare's own breach line; valid under the Jenkins schema."""
    runs = tmp_path / "runs"
    for v in ("v1", "v2"):
        assert main(capsys, "run", "--library", str(REPO / f"skills/example/{v}"), "--eval-set", EVAL, "--router", "bm25",
                    "--no-graph", "--out", str(runs / v), "--cache-dir", str(cache_dir))[0] == 0
    junit = tmp_path / "compare.xml"
    rc, out, err = main(capsys, "compare", str(runs / "v1"), str(runs / "v2"), "--out", str(tmp_path / "c"),
                        "--fail-on", "top1-drop>0,broken>1000", "--junit", str(junit))
    assert rc == 1, err
    gate = json.loads((tmp_path / "c" / "compare.json").read_text())["gate"]
    schema().validate(str(junit))
    cases = junit_cases(junit)
    assert [(c, n) for c, n, _ in cases] == [("skill-harness compare", "--fail-on top1-drop>0"),
                                             ("skill-harness compare", "--fail-on broken>1000")]
    assert [f for *_, f in cases] == [gate["breaches"][0], None] and len(gate["breaches"]) == 1


def test_junit_is_valid_xml_whatever_the_text(tmp_path):
    """Control characters (no XML 1.0 document can hold them) are replaced; the schema check can fail."""
    import xmlschema
    from harness.reports.junit import junit_xml
    good = tmp_path / "good.xml"
    good.write_text(junit_xml("s", [("a\x01b", "lint", ["bad \x00 byte", "second"]), ("c", "rule", None)]))
    schema().validate(str(good))
    assert "\ufffd" in good.read_text() and "<failure" in good.read_text()
    bad = tmp_path / "bad.xml"
    bad.write_text(good.read_text().replace('name="lint"', ""))          # a test case without its name
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        schema().validate(str(bad))


HOOKS = REPO / ".pre-commit-hooks.yaml"


def test_the_pre_commit_manifest_validates(tmp_path):
    ok = subprocess.run([sys.executable, "-m", "pre_commit", "validate-manifest", str(HOOKS)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    broken = tmp_path / "hooks.yaml"
    broken.write_text(HOOKS.read_text().replace("  entry: skill-harness check\n", ""))
    assert subprocess.run([sys.executable, "-m", "pre_commit", "validate-manifest", str(broken)],
                          capture_output=True, text=True).returncode != 0


def test_the_pre_commit_hook_passes_a_clean_skill_and_fails_a_broken_one(tmp_path, monkeypatch, capsys):
    """The hook's entry and args on the staged files, as pre-commit runs it (from the repository's
    root, file names last); lint only: no encoder is loaded."""
    import yaml
    from conftest import write_skill
    (hook,) = yaml.safe_load(HOOKS.read_text())
    assert hook["id"] == "skill-harness-check" and re.search(hook["files"], "a/SKILL.md") and not re.search(hook["files"], "a/x.md")
    entry = hook["entry"].split()
    assert entry[0] == "skill-harness"
    repo = tmp_path / "lib"
    write_skill(repo, "skills/rotate-db", "rotate-db", "Rotates database credentials. Use when a password must change.")
    write_skill(repo, "skills/other-skill", "other-skill", "Sends alerts. Use when paging.")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    clean = write_skill(repo, "skills/new-skill", "new-skill", "Archives old logs. Use when a log bucket is full.")
    git(repo, "add", "-A")
    staged = git(repo, "diff", "--cached", "--name-only").split()
    cmd = [sys.executable, "-m", "harness", *entry[1:], *hook["args"]]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    proc = subprocess.run(cmd + staged, cwd=repo, capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "new file; PASS" not in proc.stdout and "PASS" in proc.stdout   # one file: the single report
    clean.write_text("---\nname: New_Skill\ndescription: Archives old logs. Use when a log bucket is full.\n---\n")
    git(repo, "add", "-A")
    proc = subprocess.run(cmd + staged, cwd=repo, capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 1 and "[name-not-kebab]" in proc.stdout and proc.stdout.rstrip().endswith("1 lint failure(s)")
    # in process: the lint-only check never builds an encoder
    import harness.routers.base as base

    def refuse(*_):
        raise AssertionError("an encoder was loaded")
    monkeypatch.setattr(base, "shared_encoder", refuse)
    monkeypatch.chdir(repo)
    rc, out, err = main(capsys, "check", *hook["args"], *staged, "--cache-dir", str(tmp_path / "cache"))
    assert rc == 1 and "Traceback" not in err


def test_lint_only_still_counts_the_encoders_tokens(tmp_path, capsys):
    """The tokenizer alone (no weights): a description past 256 tokens is still reported."""
    from conftest import write_skill
    long = "Rotates credentials. Use when rotating. " + " ".join(f"ERR-{i:04d}" for i in range(60))
    path = write_skill(tmp_path / "lib", "skills/rotate-db", "rotate-db", long)
    rc, out, err = main(capsys, "check", str(path), "--library", str(tmp_path / "lib"), "--lint-only", "--json",
                        "--cache-dir", str(tmp_path / "cache"))
    assert rc == 0, err
    assert [f["code"] for f in json.loads(out)["lint"]] == ["description-truncated"]


ACTION = REPO / "action.yml"


def run_action(repo: Path, inputs: dict, tmp: Path, cache_dir: Path) -> tuple[list, dict, Path]:
    """The action's `run:` steps in order, as a runner would (bash -e, the step's env, `${{ }}`
    expressions substituted, outputs read back from $GITHUB_OUTPUT); `uses:` steps skipped. pip is
    a stand-in that records its arguments; `skill-harness` and `python` are this checkout's."""
    import yaml
    action = yaml.safe_load(ACTION.read_text())
    inputs = {k: str(v.get("default", "")) for k, v in action["inputs"].items()} | inputs
    bin_ = tmp / "bin"
    bin_.mkdir(parents=True)
    (bin_ / "python").write_text(f'#!/bin/sh\nif [ "$1 $2" = "-m pip" ]; then echo "$@" >> "{tmp}/pip.log"; exit 0; fi\n'
                                 f'exec {sys.executable} "$@"\n')
    (bin_ / "skill-harness").write_text(f'#!/bin/sh\nexec {sys.executable} -m harness "$@"\n')
    for f in bin_.iterdir():
        f.chmod(0o755)
    xdg = tmp / "xdg"
    xdg.mkdir()
    (xdg / "skill-harness").symlink_to(cache_dir)
    runner_temp = tmp / "runner"
    runner_temp.mkdir()
    env = {"PATH": f"{bin_}:/usr/bin:/bin", "HOME": str(tmp), "XDG_CACHE_HOME": str(xdg), "HF_HUB_OFFLINE": "1",
           "PYTHONPATH": str(REPO), "GITHUB_ACTIONS": "true", "GITHUB_ACTION_PATH": str(REPO), "RUNNER_TEMP": str(runner_temp),
           "GITHUB_STEP_SUMMARY": str(tmp / "summary.md"), "GITHUB_WORKSPACE": str(repo)}
    context = {"inputs": inputs, "runner": {"os": "Linux", "temp": str(runner_temp)}, "github": {"sha": "0" * 40}}
    outputs, ran = {}, []

    def expr(text: str) -> str:
        def one(m):
            scope, *rest = m.group(1).strip().split(".")
            value = outputs[rest[0]][rest[2]] if scope == "steps" else context[scope]
            return str(value if scope == "steps" else value[".".join(rest)])
        return re.sub(r"\$\{\{(.*?)\}\}", one, text)

    for i, step in enumerate(action["runs"]["steps"]):
        if "uses" in step:
            continue
        out_file = tmp / f"output-{i}"
        out_file.write_text("")
        script = expr(step["run"])
        assert "${{" not in script
        step_env = {**env, **{k: expr(str(v)) for k, v in step.get("env", {}).items()}, "GITHUB_OUTPUT": str(out_file)}
        proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], cwd=repo, env=step_env,
                              capture_output=True, text=True, timeout=300)
        ran.append((step.get("id") or step["name"], proc))
        outputs[step.get("id", str(i))] = parse_outputs(out_file.read_text())
        if proc.returncode != 0:
            break
    return ran, outputs, tmp


def parse_outputs(text: str) -> dict:
    out, lines = {}, iter(text.splitlines())
    for line in lines:
        if "<<" in line and "=" not in line.split("<<")[0]:
            key, delimiter = line.split("<<", 1)
            value = []
            for body in lines:
                if body == delimiter:
                    break
                value.append(body)
            out[key] = "\n".join(value)
        elif "=" in line:
            key, value = line.split("=", 1)
            out[key] = value
    return out


def test_the_actions_run_steps_check_the_change(team_repo, cache_dir, tmp_path):
    from harness.encoders.sentence import DEFAULT_WEIGHTS_SHA256
    ran, outputs, tmp = run_action(team_repo, {"library": LIB, "eval-set": EVAL, "fail-on": "new-collision", "since": "main"},
                                   tmp_path / "action", cache_dir)
    names = [name for name, _ in ran]
    assert names == ["Install skill-harness", "model", "check"], names
    install, model, check = (p for _, p in ran)
    assert install.returncode == 0 and (tmp / "pip.log").read_text().split()[-1] == str(REPO)
    assert outputs["model"] == {"sha256": DEFAULT_WEIGHTS_SHA256}
    assert check.returncode == 1, check.stderr
    assert any(line.startswith(f"::error file={STEALER},line=") for line in check.stdout.splitlines())
    out = outputs["check"]
    assert out["exit-code"] == "1"
    body = Path(out["comment-file"]).read_text()
    assert body.startswith("<!-- skill-harness-check -->\n## skill-harness check: 2 SKILL.md file(s) changed since main")
    assert out["comment"] == body.rstrip("\n")
    schema().validate(out["junit-file"])
    assert (tmp / "summary.md").read_text().strip() == body.split("\n", 1)[1].strip()
