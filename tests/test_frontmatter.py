import pytest
from hypothesis import given, settings, strategies as st

from harness.library.frontmatter import parse

CASES = [
    # (text, expected codes, fields or None)
    ("---\nname: a\ndescription: b\n---\nbody\n", [], {"name": "a", "description": "b"}),
    ("\ufeff---\r\nname: a\r\ndescription: b\r\n---\r\nbody\r\n", [], {"name": "a", "description": "b"}),
    ("# no frontmatter\n", ["no-frontmatter"], None),
    ("", ["no-frontmatter"], None),
    ("---\nname: a\ndescription: b\n", ["unclosed-frontmatter"], None),
    ("---\n- a\n- b\n---\n", ["frontmatter-not-mapping"], None),
    ("---\nname: a\nname: b\ndescription: c\n---\n", ["duplicate-key"], {"name": "b", "description": "c"}),
    ("---\nx: &a [1]\ny: *a\n---\n", ["yaml-alias"], None),
    ("---\nname: !!python/object:os.system {}\n---\n", ["invalid-yaml"], None),
    ("---\n\tname: a\n---\n", ["invalid-yaml"], None),
    ("---\n---\nbody\n", [], {}),
]


@pytest.mark.parametrize("text,codes,fields", CASES)
def test_parse_table(text, codes, fields):
    parsed = parse(text.encode("utf-8"), "x/SKILL.md")
    assert sorted(f.code for f in parsed.findings) == sorted(codes)
    assert parsed.fields == fields


def test_unquoted_colon_names_line_column_and_the_fix():
    text = "---\nname: waf\ndescription: Configures WAF: rules and rate limits\n---\n"
    (f,) = parse(text.encode(), "waf/SKILL.md").findings
    assert f.code == "invalid-yaml" and f.line == 3 and f.severity == "error"
    assert "(line 3, column 28)" in f.message
    assert 'description: "Configures WAF: rules and rate limits"' in f.message


def test_quote_fix_escapes_inner_quotes():
    text = '---\nname: a\ndescription: Say "hi": then go\n---\n'
    (f,) = parse(text.encode(), "a/SKILL.md").findings
    assert 'description: "Say \\"hi\\": then go"' in f.message


def test_not_utf8_and_binary():
    assert parse(b"---\nname: \xff\n---\n", "p").findings[0].code == "not-utf8"
    assert parse(b"\x00\x01\x02", "p").findings[0].code == "binary-file"


def test_first_body_line_is_the_fallback_description():
    parsed = parse(b"---\nname: a: b\n---\n\n# Title\nmore\n", "p")
    assert parsed.fields is None
    assert parsed.first_body_line() == "# Title"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_parser_never_raises_on_bytes(data):
    parsed = parse(data, "fuzz/SKILL.md")
    assert parsed.fields is None or isinstance(parsed.fields, dict)
    assert all(f.severity in ("error", "warning", "info") for f in parsed.findings)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_parser_never_raises_on_frontmatter_text(body):
    parsed = parse(("---\n" + body + "\n---\n").encode("utf-8", "surrogatepass"), "fuzz/SKILL.md")
    assert parsed.fields is None or isinstance(parsed.fields, dict)
