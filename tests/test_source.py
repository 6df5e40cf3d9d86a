import os

import pytest

from conftest import git, write_skill
from harness.base.errors import HarnessError
from harness.library.loader import load_library
from harness.library.source import split_spec, validate_ref


def codes(lib):
    return sorted(f.code for f in lib.findings)


def test_folder_library_reads_skills_and_plugins(tmp_path, cache_dir):
    write_skill(tmp_path, "plugins/p1/skills/alpha", "alpha", "Alpha things.")
    write_skill(tmp_path, "skills/alpha", "alpha", "Alpha things.", body="Other body.\n")
    write_skill(tmp_path, "skills/beta", "beta", "Beta things.")
    lib = load_library(str(tmp_path), cache_dir)
    assert lib.names == ["alpha", "beta"]
    assert lib.get("alpha").plugin == "p1" and len(lib.get("alpha").copies) == 2
    (drift,) = [f for f in lib.findings if f.code == "drifted-copy"]
    assert drift.message.endswith("in body")
    assert lib.commit is None and lib.ref is None


def test_symlinks_out_of_the_root_are_not_followed(tmp_path, cache_dir):
    outside = tmp_path / "outside"
    write_skill(outside, "secret", "secret", "Outside the library.")
    root = tmp_path / "lib"
    write_skill(root, "skills/ok", "ok", "Inside.")
    (root / "skills/linkfile").mkdir()
    os.symlink(outside / "secret/SKILL.md", root / "skills/linkfile/SKILL.md")
    os.symlink(outside / "secret", root / "skills/linkdir")
    (root / "skills/loop").mkdir()
    os.symlink("SKILL.md", root / "skills/loop/SKILL.md")
    lib = load_library(str(root), cache_dir)
    assert lib.names == ["ok"]
    assert "symlink-outside-root" in codes(lib) and "symlink-not-followed" in codes(lib) and "broken-symlink" in codes(lib)


def test_fifo_and_folder_named_skill_md(tmp_path, cache_dir):
    write_skill(tmp_path, "skills/ok", "ok", "Fine.")
    (tmp_path / "skills/fifo").mkdir()
    os.mkfifo(tmp_path / "skills/fifo/SKILL.md")
    (tmp_path / "skills/dir/SKILL.md").mkdir(parents=True)
    lib = load_library(str(tmp_path), cache_dir)
    assert lib.names == ["ok"]
    assert codes(lib).count("not-a-file") == 2


def test_file_over_the_size_limit_is_a_finding(tmp_path, cache_dir):
    write_skill(tmp_path, "skills/big", "big", "x" * 50, body="y" * 5000)
    lib = load_library(str(tmp_path), cache_dir, max_file_bytes=1000)
    assert lib.names == [] and codes(lib) == ["file-too-large"]


@pytest.fixture()
def repo(tmp_path):
    r = tmp_path / "repo"
    r.mkdir()
    git(r, "init", "-q", "-b", "main")
    write_skill(r, "skills/one", "one", "First skill.")
    git(r, "add", "-A")
    git(r, "commit", "-qm", "v1")
    git(r, "tag", "v1")
    write_skill(r, "skills/two", "two", "Second skill.")
    git(r, "add", "-A")
    git(r, "commit", "-qm", "v2")
    return r


def test_git_refs_are_read_without_checkout(repo, cache_dir):
    assert load_library(f"{repo}@v1", cache_dir).names == ["one"]
    head = load_library(f"{repo}@main", cache_dir)
    assert head.names == ["one", "two"] and len(head.commit) == 40
    sha = git(repo, "rev-parse", "v1^{commit}").strip()
    assert load_library(f"{repo}@{sha[:10]}", cache_dir).commit == sha


def test_bundle_defaults_to_head(repo, tmp_path, cache_dir):
    b = tmp_path / "lib.bundle"
    git(repo, "bundle", "create", str(b), "--all")
    assert load_library(str(b), cache_dir).names == ["one", "two"]
    assert load_library(f"{b}@v1", cache_dir).names == ["one"]


@pytest.mark.parametrize("ref", ["--output=/tmp/x", "-v", "v1;rm -rf /", "$(id)", "a b", "v1`x`", "..", "a..b"])
def test_refs_that_look_like_options_or_shell_are_refused(repo, cache_dir, ref):
    with pytest.raises(HarnessError, match="invalid git ref"):
        load_library(f"{repo}@{ref}", cache_dir)


def test_unknown_ref_missing_library_and_fake_bundle(repo, tmp_path, cache_dir):
    with pytest.raises(HarnessError, match="unknown ref 'nope'"):
        load_library(f"{repo}@nope", cache_dir)
    with pytest.raises(HarnessError, match="no such file or folder"):
        load_library(str(tmp_path / "missing"), cache_dir)
    fake = tmp_path / "fake.bundle"
    fake.write_text("not a bundle")
    with pytest.raises(HarnessError, match="not a git bundle"):
        load_library(str(fake), cache_dir)
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(HarnessError, match="not a git repository"):
        load_library(f"{plain}@v1", cache_dir)


def test_a_subfolder_of_a_repository_at_a_ref(repo, cache_dir):
    sub = load_library(f"{repo / 'skills'}@main", cache_dir)
    assert sub.names == ["one", "two"]
    assert sub.get("one").path == "one/SKILL.md"


def test_split_spec_prefers_an_existing_path(tmp_path):
    p = tmp_path / "lib@v2"
    p.mkdir()
    assert split_spec(str(p)) == (str(p), None)
    assert split_spec("x/lib@v3") == ("x/lib", "v3")
    assert validate_ref("release-2026-08-20") == "release-2026-08-20"
