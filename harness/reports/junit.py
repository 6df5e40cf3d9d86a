"""JUnit XML, as GitLab, Jenkins and Azure DevOps read it (valid under Jenkins' junit-10.xsd):
one suite, a test case per check, a `failure` carrying the message. No time or timestamp, so
the same inputs write the same bytes."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

# characters XML 1.0 cannot hold at all (a description or prompt is untrusted text)
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _clean(text: str) -> str:
    return _ILLEGAL.sub("\ufffd", str(text))


def junit_xml(suite: str, cases: list[tuple[str, str, list[str] | None]]) -> str:
    """`cases`: (classname, name, failure messages or None for a pass)."""
    failures = sum(1 for *_, f in cases if f)
    counts = {"tests": str(len(cases)), "failures": str(failures), "errors": "0"}
    root = ET.Element("testsuites", {"name": _clean(suite), **counts})
    ts = ET.SubElement(root, "testsuite", {"name": _clean(suite), **counts, "skipped": "0"})
    for classname, name, failed in cases:
        tc = ET.SubElement(ts, "testcase", {"classname": _clean(classname), "name": _clean(name)})
        if failed:
            f = ET.SubElement(tc, "failure", {"type": "skill-harness", "message": _clean(failed[0])})
            f.text = _clean("\n".join(failed))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def check_cases(doc: dict, strict: bool) -> list[tuple[str, str, list[str] | None]]:
    """Per file: its lint (errors fail it; warnings too under --strict), then each --fail-on rule
    (laid on that file or not); a deleted file: the rules."""
    cases = []
    for rep in doc["files"]:
        failing = [f"line {f['line']}: {f['severity']} [{f['code']}] {f['message']}" for f in rep["lint"]
                   if f["severity"] == "error" or (strict and f["severity"] == "warning")]
        cases.append((rep["path"], "lint", failing or None))
        cases += [(rep["path"], f"--fail-on {rule}", rep.get("breached", {}).get(rule) or None) for rule in doc["rules"]]
    for d in doc["deleted"]:
        cases += [(d["path"], f"--fail-on {rule}", d.get("breached", {}).get(rule) or None) for rule in doc["rules"]]
    return cases
