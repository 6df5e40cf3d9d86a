"""Parsed frontmatter remembered across processes gives exactly what a fresh parse gives."""

import datetime
import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.library import frontmatter
from harness.library.yaml_store import YamlStore

CASES = [
    b"---\nname: a\ndescription: plain words\n---\nbody\n",
    b"---\nname: a\nname: b\ndescription: x\n---\n",                     # a duplicate key (line 3)
    b"---\nname: a\ndescription: x\nmetadata:\n  version: 1.0\n  n: 1\n  flag: yes\n---\n",
    b"---\nname: a\ndescription: x\ncreated: 2024-01-02\n---\n",           # a date: not JSON, never stored
    b"---\nname: a\ndescription: x\n1: one\n---\n",                         # an int key: not stored
    b"---\nname: a\ndescription: [unclosed\n---\n",                         # an error: not stored
    b"---\nname: &x a\ndescription: *x\n---\n",                             # an alias: refused, not stored
]


def _fresh(data: bytes, path: str, store=None):
    return frontmatter.parse.__wrapped__(data, path, store)


@pytest.mark.parametrize("data", CASES)
def test_stored_parse_equals_fresh_parse(tmp_path, data):
    fresh = _fresh(data, "s/SKILL.md")
    store = YamlStore(tmp_path)
    first = _fresh(data, "s/SKILL.md", store)
    store.flush()
    again = _fresh(data, "s/SKILL.md", YamlStore(tmp_path))             # a later process
    for got in (first, again):
        assert got.fields == fresh.fields
        assert [f.to_dict() for f in got.findings] == [f.to_dict() for f in fresh.findings]
        assert got.key_lines == fresh.key_lines


def test_only_json_exact_values_are_stored(tmp_path):
    store = YamlStore(tmp_path)
    for data in CASES:
        _fresh(data, "s/SKILL.md", store)
    store.flush()
    rows = sqlite3.connect(tmp_path / "frontmatter-v1.sqlite").execute("SELECT count(*) FROM fm").fetchone()[0]
    assert rows == 3                                                       # the first three cases
    store = YamlStore(tmp_path)
    store.put("k: 1", {"k": 1.0}, [])                                      # 1.0 would come back as 1.0: kept
    store.put("k: 2", {"k": datetime.date(2024, 1, 2)}, [])                # not JSON
    store.put("k: 3", {"k": float("nan")}, [])                             # NaN != NaN
    assert len(store._pending) == 1


def test_an_unusable_store_only_costs_speed(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    got = _fresh(CASES[0], "s/SKILL.md", YamlStore(blocked))
    assert got.fields == {"name": "a", "description": "plain words"}


@settings(max_examples=60, suppress_health_check=list(HealthCheck), deadline=None)
@given(st.dictionaries(st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=8),
                       st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                                 st.text(max_size=20), st.lists(st.integers(), max_size=3)), max_size=5))
def test_any_dumped_mapping_round_trips_through_the_store(tmp_path_factory, value):
    import yaml
    text = yaml.safe_dump(value, allow_unicode=True)
    data = ("---\n" + text + "---\n").encode()
    fresh = _fresh(data, "s/SKILL.md")
    folder = tmp_path_factory.mktemp("store")
    store = YamlStore(folder)
    _fresh(data, "s/SKILL.md", store)
    store.flush()
    again = _fresh(data, "s/SKILL.md", YamlStore(folder))
    assert again.fields is None or YamlStore(folder).get(text.rstrip("\n")) is not None  # read from the store
    assert again.fields == fresh.fields
    assert all(type(again.fields[k]) is type(fresh.fields[k]) for k in fresh.fields or {})


def test_a_corrupt_store_file_only_costs_speed(tmp_path):
    (tmp_path / "frontmatter-v1.sqlite").write_bytes(b"this is not a database" * 100)
    store = YamlStore(tmp_path)
    got = _fresh(CASES[1], "s/SKILL.md", store)
    store.flush()
    assert got.fields == {"name": "b", "description": "x"}
    assert [f.code for f in got.findings] == ["duplicate-key"] and got.findings[0].line == 3
