"""The hostile corpus: broken and hostile inputs, generated at test time (our own text)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

OK = "Handles a task. Use when asked."


def skill(root: Path, folder: str, raw: bytes | str, name: str = "SKILL.md") -> Path:
    d = root / "skills" / folder
    d.mkdir(parents=True, exist_ok=True)
    p = d / name
    p.write_bytes(raw if isinstance(raw, bytes) else raw.encode("utf-8"))
    return p


def fm(name="a-skill", desc=OK, extra="") -> str:
    return f"---\nname: {name}\ndescription: {desc}\n{extra}---\nBody line.\n"


@dataclass
class Case:
    id: str
    kind: str                       # library | evalset | ref
    build: Callable[[Path], None]   # writes the library (root/lib) and/or the eval set (root/ev.jsonl)
    args: list[str] = field(default_factory=list)   # extra CLI args; LIB / EV / ROOT substituted
    skip_reason: str = ""


def base_lib(root: Path) -> None:
    skill(root / "lib", "base-skill", fm("base-skill"))


def eval_for(names: list[str]) -> Callable[[Path], None]:
    def make(root: Path) -> None:
        lines = [json.dumps({"id": f"p{i}", "prompt": f"please do {n}", "expected": [n]}) for i, n in enumerate(names)]
        (root / "ev.jsonl").write_text("\n".join(lines + [json.dumps({"id": "o", "prompt": "weather?", "expected": []})]) + "\n")
    return make


def library_cases() -> list[Case]:
    raws: dict[str, bytes | str] = {
        "empty": b"", "no-frontmatter": "# Title\ntext\n", "unclosed": "---\nname: x\ndescription: y\n",
        "not-mapping-list": "---\n- a\n- b\n---\n", "not-mapping-scalar": "---\njust text\n---\n", "null": "---\n---\n",
        "duplicate-keys": "---\nname: a-skill\nname: a-skill\ndescription: d. Use when.\n---\n",
        "tabs": "---\n\tname: a-skill\n\tdescription: x\n---\n", "bom": b"\xef\xbb\xbf" + fm().encode(),
        "crlf": fm().replace("\n", "\r\n"), "cr-only": fm().replace("\n", "\r"),
        "non-utf8": b"---\nname: a-skill\ndescription: caf\xe9\n---\n", "binary": bytes(range(256)) * 4,
        "utf16": fm().encode("utf-16"), "aliases": "---\na: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\nname: *d\n---\n",
        "tag-object": "---\nname: !!python/object/apply:os.system ['echo pwned']\ndescription: x\n---\n",
        "tag-name": "---\nname: !!python/name:os.system\ndescription: x\n---\n", "tag-binary": "---\nname: !!binary aGk=\ndescription: x\n---\n",
        "tag-set": "---\nname: !!set {a: null}\ndescription: x\n---\n", "tag-custom": "---\nname: !custom x\ndescription: x\n---\n",
        "desc-list": fm(desc="[a, b]"), "desc-number": fm(desc="42"), "desc-null": fm(desc="null"), "desc-bool": fm(desc="true"),
        "desc-dict": fm(desc="{a: 1}"), "desc-date": fm(desc="2026-01-01"), "desc-10k": fm(desc="word " * 2000),
        "desc-100k": fm(desc="x" * 100_000), "name-list": fm(name="[a, b]"), "name-number": fm(name="7"),
        "name-spaces": fm(name="my skill"), "name-unicode": fm(name="skïll-ünï"), "name-slash": fm(name="a/b"),
        "name-dotdot": fm(name="../../etc"), "name-backslash": fm(name="a\\\\b"), "name-empty": fm(name='""'),
        "name-long": fm(name="n" * 500), "name-markup": fm(name='"<script>x</script>"'),
        "name-control": fm(name='"a\\u0007b"'), "deep-nesting": "---\nname: " + "[" * 5000 + "]" * 5000 + "\ndescription: x\n---\n",
        "huge-key-count": "---\n" + "".join(f"k{i}: v\n" for i in range(5000)) + "name: a-skill\ndescription: x\n---\n",
        "unquoted-colon": fm(desc="Configures things: rules and more"), "only-dashes": "---\n",
        "nul-in-yaml": "---\nname: a\x00b\ndescription: x\n---\n", "long-line": "---\nname: a-skill\ndescription: " + "y" * 1_000_000 + "\n---\n",
        "prose-key": fm(extra="Use when: the user asks for it\n"),
    }
    cases = []
    for label, raw in raws.items():
        for layout, folder in (("skills", "target-skill"), ("plugin", "../plugins/p1/skills/target-skill"),
                               ("nested", "deep/er/still/target-skill")):
            def build(root: Path, raw=raw, folder=folder) -> None:
                base_lib(root)
                skill(root / "lib", folder, raw)
            cases.append(Case(f"lib-{label}-{layout}", "library", build))
    return cases


def fs_cases() -> list[Case]:
    def outside_file(root):
        base_lib(root)
        (root / "secret").mkdir()
        (root / "secret" / "SKILL.md").write_text(fm("secret-skill"))
        (root / "lib" / "skills" / "link").mkdir(parents=True)
        os.symlink(root / "secret" / "SKILL.md", root / "lib" / "skills" / "link" / "SKILL.md")

    def outside_dir(root):
        base_lib(root)
        (root / "secret" / "s").mkdir(parents=True)
        (root / "secret" / "s" / "SKILL.md").write_text(fm("s"))
        os.symlink(root / "secret", root / "lib" / "skills" / "linked")

    def loop(root):
        base_lib(root)
        d = root / "lib" / "skills" / "loop"
        d.mkdir(parents=True)
        os.symlink("SKILL.md", d / "SKILL.md")

    def dir_loop(root):
        base_lib(root)
        os.symlink("..", root / "lib" / "skills" / "up")

    def dangling(root):
        base_lib(root)
        d = root / "lib" / "skills" / "dangling"
        d.mkdir(parents=True)
        os.symlink("/nonexistent/file", d / "SKILL.md")

    def fifo(root):
        base_lib(root)
        d = root / "lib" / "skills" / "fifo"
        d.mkdir(parents=True)
        os.mkfifo(d / "SKILL.md")

    def folder_named(root):
        base_lib(root)
        (root / "lib" / "skills" / "dir" / "SKILL.md").mkdir(parents=True)

    def unreadable(root):
        base_lib(root)
        p = skill(root / "lib", "locked", fm("locked"))
        p.chmod(0)

    def big(root):
        base_lib(root)
        p = skill(root / "lib", "big", fm("big"))
        with open(p, "r+b") as fh:
            fh.truncate(50 * 1024 * 1024)

    def empty(root):
        (root / "lib").mkdir()

    def one(root):
        base_lib(root)

    def same_name(root):
        base_lib(root)
        skill(root / "lib", "one", fm("twin", "First twin. Use when one."))
        skill(root / "lib", "two", fm("twin", "Second twin. Use when two."))

    def many_copies(root):
        base_lib(root)
        for i in range(30):
            skill(root / "lib", f"copy{i}", fm("copied", f"Copy {i}. Use when asked."))

    def lib_is_file(root):
        (root / "lib").write_text("not a library")

    cases = [Case(f"fs-{f.__name__}", "library", f) for f in
             (outside_file, outside_dir, loop, dir_loop, dangling, fifo, folder_named, big, empty, one, same_name,
              many_copies, lib_is_file)]
    cases.append(Case("fs-unreadable", "library", unreadable,
                      skip_reason="mode 000 cannot stop root" if os.geteuid() == 0 else ""))
    return cases


def evalset_cases() -> list[Case]:
    lines: dict[str, bytes | str] = {
        "bad-json": "{oops\n", "bom": b"\xef\xbb\xbf" + json.dumps({"id": "a", "prompt": "x", "expected": []}).encode() + b"\n",
        "blank-and-comments": "\n# c\n// c\n" + json.dumps({"id": "a", "prompt": "x", "expected": []}) + "\n\n",
        "duplicate-ids": "\n".join(json.dumps({"id": "a", "prompt": "x", "expected": []}) for _ in range(2)) + "\n",
        "label-int": json.dumps({"id": "a", "prompt": "x", "expected": [1]}) + "\n",
        "label-str": json.dumps({"id": "a", "prompt": "x", "expected": "base-skill"}) + "\n",
        "label-null": json.dumps({"id": "a", "prompt": "x", "expected": None}) + "\n",
        "label-dict": json.dumps({"id": "a", "prompt": "x", "expected": {"a": 1}}) + "\n",
        "label-unknown": json.dumps({"id": "a", "prompt": "x", "expected": ["base-skil"]}) + "\n",
        "id-int": json.dumps({"id": 1, "prompt": "x", "expected": []}) + "\n",
        "id-empty": json.dumps({"id": "", "prompt": "x", "expected": []}) + "\n",
        "prompt-list": json.dumps({"id": "a", "prompt": ["x"], "expected": []}) + "\n",
        "prompt-empty": json.dumps({"id": "a", "prompt": " ", "expected": []}) + "\n",
        "missing-expected": json.dumps({"id": "a", "prompt": "x"}) + "\n",
        "array-line": "[1, 2]\n", "number-line": "3\n", "null-line": "null\n",
        "split-bad": json.dumps({"id": "a", "prompt": "x", "expected": [], "split": "train"}) + "\n",
        "kind-int": json.dumps({"id": "a", "prompt": "x", "expected": [], "kind": 3}) + "\n",
        "acceptable-bad": json.dumps({"id": "a", "prompt": "x", "expected": [], "acceptable": "b"}) + "\n",
        "unknown-fields": json.dumps({"id": "a", "prompt": "x", "expected": [], "zzz": 1}) + "\n",
        "prompt-1mb": json.dumps({"id": "a", "prompt": "word " * 210_000, "expected": []}) + "\n",
        "control-chars": json.dumps({"id": "a", "prompt": "x\x00\x01\x1b[31m\u2028y", "expected": ["base-skill"]}) + "\n",
        "non-utf8": b'{"id": "a", "prompt": "caf\xe9", "expected": []}\n', "empty-file": "", "only-comments": "# nothing\n",
        "nan": '{"id": "a", "prompt": "x", "expected": [], "note": NaN}\n', "deep": "[" * 100_000 + "]" * 100_000 + "\n",
        "huge-100k-lines": "\n".join(json.dumps({"id": f"p{i}", "prompt": f"do base skill {i}", "expected": ["base-skill"]})
                                     for i in range(100_000)) + "\n",
        "trailing-garbage": json.dumps({"id": "a", "prompt": "x", "expected": []}) + " garbage\n",
    }
    cases = []
    for label, raw in lines.items():
        def build(root: Path, raw=raw) -> None:
            base_lib(root)
            (root / "ev.jsonl").write_bytes(raw if isinstance(raw, bytes) else raw.encode("utf-8", "surrogatepass"))
        cases.append(Case(f"ev-{label}", "evalset", build))
    cases.append(Case("ev-missing-file", "evalset", base_lib, ["--eval-set", "ROOT/nope.jsonl"]))
    cases.append(Case("ev-folder-empty", "evalset", lambda r: (base_lib(r), (r / "evd").mkdir()), ["--eval-set", "ROOT/evd"]))
    return cases


def ref_cases() -> list[Case]:
    refs = ["-x", "--output=/tmp/pwned", "--upload-pack=touch /tmp/pwned", "$(id)", "`id`", "a;rm -rf /", "a|b", "a&&b",
            "a b", "..", "a..b", "nope", "deadbeef", "HEAD~999", "refs/heads/../../x", "a\nb", "v1^{tree}", "@{-1}", "~", ":/x"]
    cases = [Case(f"ref-{i:02d}", "ref", eval_for(["base-skill"]), ["--library", f"ROOT/repo@{r}"]) for i, r in enumerate(refs)]

    def not_bundle(root):
        eval_for(["base-skill"])(root)
        (root / "fake.bundle").write_bytes(b"# v2 git bundle\nnot really\n")

    def text_file(root):
        eval_for(["base-skill"])(root)
        (root / "x.bundle").write_text("hello")
    cases.append(Case("ref-fake-bundle-header", "ref", not_bundle, ["--library", "ROOT/fake.bundle"]))
    cases.append(Case("ref-not-a-bundle", "ref", text_file, ["--library", "ROOT/x.bundle@main"]))
    cases.append(Case("ref-not-a-repo", "ref", lambda r: (base_lib(r), eval_for(["base-skill"])(r)), ["--library", "ROOT/lib@main"]))
    return cases


def all_cases() -> list[Case]:
    return library_cases() + fs_cases() + evalset_cases() + ref_cases()


SUMMARY: dict[str, list] = {"ok": [], "exit2": [], "crashed": [], "leaked": [], "skipped": [], "slowest": []}
