"""Counts that must hold on the shared bundle of the real Agent Toolkit for AWS."""

import pytest

from conftest import RELEASES
from harness.library.loader import load_library

# release: (SKILL.md files, skills under skip, skills under fallback, skills with two or more copies)
EXPECTED = {
    "release-2026-05-04": (70, 52, 52, 18),
    "release-2026-06-26": (107, 85, 85, 22),
    "release-2026-07-10": (123, 95, 100, 23),
    "release-2026-07-23": (138, 112, 112, 26),
    "release-2026-08-20": (152, 123, 123, 29),
}


@pytest.mark.parametrize("release", RELEASES)
@pytest.mark.parametrize("mode", ["skip", "fallback"])
def test_release_counts(bundle, cache_dir, release, mode):
    files, skip, fallback, multi = EXPECTED[release]
    lib = load_library(f"{bundle}@{release}", cache_dir, mode)
    assert lib.skill_files == files
    assert len(lib.skills) == (skip if mode == "skip" else fallback)
    assert sum(len(s.copies) > 1 for s in lib.skills) == multi
    assert len(lib.skipped) == (files and (fallback - skip) if mode == "skip" else 0)
    assert len(lib.fallback) == (fallback - skip if mode == "fallback" else 0)


def test_107_release_has_22_doubled_skills_and_aws_cdk_body_drift(bundle, cache_dir):
    lib = load_library(f"{bundle}@release-2026-06-26", cache_dir)
    doubled = [s for s in lib.skills if len(s.copies) == 2]
    assert len(doubled) == 22
    drift = [f for f in lib.findings if f.code == "drifted-copy"]
    assert [f.skill for f in drift] == ["aws-cdk"]
    assert "in body" in drift[0].message and "description" not in drift[0].message.split(" in ")[-1]


def test_the_five_unparseable_files_of_0710(bundle, cache_dir):
    lib = load_library(f"{bundle}@release-2026-07-10", cache_dir, "skip")
    bad = sorted(f.path.split("/")[-2] for f in lib.findings if f.code == "invalid-yaml")
    assert bad == ["directconnect", "route53", "shieldadvanced", "transitgateway", "waf"]
    assert all("quote it, e.g. description: \"" in f.message for f in lib.findings if f.code == "invalid-yaml")
    fb = load_library(f"{bundle}@release-2026-07-10", cache_dir, "fallback")
    assert sorted(fb.fallback) == bad
    assert all(fb.get(n).description for n in bad)


def test_plugins_come_from_manifests_and_folders(bundle, cache_dir):
    lib = load_library(f"{bundle}@release-2026-08-20", cache_dir)
    assert lib.get("aws-cdk").plugin == "aws-core"
    assert lib.get("agents-pay").plugin == "aws-agents"
    assert lib.get("waf").plugin == ""
    assert len(lib.get("agents-pay").copies) == 2


def test_prose_key_of_the_flink_skill_is_found(bundle, cache_dir):
    lib = load_library(f"{bundle}@release-2026-08-20", cache_dir)
    prose = [f for f in lib.findings if f.code == "prose-key"]
    assert [f.skill for f in prose] == ["developing-applications-on-managed-service-for-apache-flink"]
    assert all(f.severity == "warning" for f in lib.findings if f.code == "unknown-key")


def test_same_ref_twice_gives_the_same_content_hash(bundle, cache_dir):
    a = load_library(f"{bundle}@release-2026-08-20", cache_dir)
    b = load_library(f"{bundle}@release-2026-08-20", cache_dir)
    c = load_library(f"{bundle}@release-2026-07-23", cache_dir)
    assert a.content_sha256 == b.content_sha256 != c.content_sha256
    assert a.commit and len(a.commit) == 40
