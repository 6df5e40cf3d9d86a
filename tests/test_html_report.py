"""The HTML report: self-contained, escaped, and working in a real (headless) Chromium."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, write_skill

ENV = {**os.environ, "HF_HUB_OFFLINE": "1"}
HOSTILE = [
    ("script-skill", "Deploys things. Use when <script>window.__pwned=1</script> appears."),
    ("close-skill", "Rotates keys. Use when </script><script>window.__pwned=2</script> happens."),
    ("attr-skill", 'Backs up data. Use when "><img src=x onerror="window.__pwned=3"> shows.'),
    ("link-skill", "Sends email. Use when [click](javascript:window.__pwned=4) is asked."),
    ("<b>markup</b>", "Renders markup names. Use when a name <i>has tags</i>."),
]


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory, cache_dir):
    root = tmp_path_factory.mktemp("hostile")
    lib = root / "lib"
    for name, desc in HOSTILE:
        write_skill(lib, f"skills/{'markup' if '<' in name else name}", name, json.dumps(desc))
    (lib / 'skills/x"><svg onload=window.__pwned=5>').mkdir(parents=True)
    (lib / 'skills/x"><svg onload=window.__pwned=5>/SKILL.md').write_text("no frontmatter <script>window.__pwned=6</script>\n")
    prompts = [{"id": f"p{i}<script>", "prompt": f"<script>window.__pwned=7</script> case {i} {d.split('.')[0]}",
                "expected": [n], "kind": "<b>kind</b>"} for i, (n, d) in enumerate(HOSTILE)]
    prompts += [{"id": "q<img src=x onerror=window.__pwned=8>", "prompt": "deploys and backs up data", "expected": ["script-skill"]}]
    (root / "ev.jsonl").write_text("\n".join(json.dumps(p) for p in prompts) + "\n")
    out, html = root / "out", root / "report.html"
    proc = subprocess.run([sys.executable, "-m", "harness", "run", "--library", str(lib), "--eval-set", str(root / "ev.jsonl"),
                           "--router", "bm25", "--router", "tfidf", "--out", str(out), "--cache-dir", str(cache_dir),
                           "--html", str(html)], cwd=REPO, capture_output=True, text=True, env=ENV, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return html


def test_skill_text_is_escaped_in_every_context(hostile_report):
    page = hostile_report.read_text()
    assert page.count("<script") == 2                      # our JSON block and our one script
    data = page.split('<script type="application/json" id="report-data">', 1)[1].split("</script>", 1)[0]
    assert "<" not in data and ">" not in data and "&" not in data     # nothing can close or confuse the block
    rest = page.replace(data, "")
    assert "window.__pwned" in rest                        # the text is shown ...
    assert not re.search(r"<(script|img|svg|b|i)\b[^>]*>[^<]*__pwned|<[a-z]+[^>]*\son(error|load)=", rest)   # ... never as markup
    assert "href=" not in rest                             # no link at all, so no javascript: link
    assert "Content-Security-Policy" in page and "script-src 'sha256-" in page
    assert "http://" not in page.replace("http://www.w3.org", "") and "https://" not in page   # nothing fetched


def chrome():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    binary = shutil.which("chromium") or "/usr/bin/chromium"
    driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    assert Path(binary).exists() and Path(driver_path).exists(), "install Debian's chromium and chromium-driver (.ci/run does)"
    opts = webdriver.ChromeOptions()
    opts.binary_location = binary
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1400,1800"):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=opts, service=Service(executable_path=driver_path))


@pytest.fixture(scope="module")
def browser():
    d = chrome()
    yield d
    d.quit()


def test_report_in_chromium(hostile_report, browser, tmp_path):
    from selenium.webdriver.common.by import By
    browser.get(hostile_report.as_uri())
    assert browser.execute_script("return typeof window.__pwned") == "undefined"
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == [], errors
    for sid in ("metrics", "kinds", "skills", "confusion", "collisions", "orphans", "findings"):
        assert browser.find_element(By.ID, sid).is_displayed()
    assert '<svg onload=window.__pwned=5>' in browser.find_element(By.ID, "findings").text   # shown as text
    assert "<b>markup</b>" in browser.find_element(By.ID, "skills").text
    table = browser.find_element(By.ID, "skills-table")
    names = lambda: [r.find_elements(By.TAG_NAME, "td")[0].text for r in table.find_elements(By.CSS_SELECTOR, "tbody tr")]  # noqa: E731
    header = table.find_elements(By.CSS_SELECTOR, "th[data-sort]")[0]
    header.click()
    asc = names()
    assert asc == sorted(asc, key=str.lower)
    header.click()
    assert names() == list(reversed(asc))
    box = browser.find_element(By.CSS_SELECTOR, "input[data-filter]")
    box.send_keys("close")
    visible = [r for r in table.find_elements(By.CSS_SELECTOR, "tbody tr") if r.is_displayed()]
    assert [r.find_elements(By.TAG_NAME, "td")[0].text for r in visible] == ["close-skill"]
    shot = Path(os.environ.get("SKILL_HARNESS_SCREENSHOTS", tmp_path)) / "hostile-report.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def real_report(tmp_path_factory, cache_dir):
    """The baseline's HTML report, built as reports/regenerate builds it: release-2026-08-20 against
    06-26, with the committed history."""
    root = tmp_path_factory.mktemp("real")
    for ref in ("release-2026-06-26", "release-2026-08-20"):
        proc = subprocess.run([sys.executable, "-m", "harness", "run", "--library", f"agent-toolkit-for-aws@{ref}",
                               "--eval-set", "eval_sets/agent-toolkit-for-aws", "--out", str(root / ref),
                               "--cache-dir", str(cache_dir)], cwd=REPO, capture_output=True, text=True, env=ENV, timeout=900)
        assert proc.returncode == 0, proc.stderr
    page = root / "report.html"
    proc = subprocess.run([sys.executable, "-m", "harness", "report", str(root / "release-2026-08-20"), "--compare",
                           str(root / "release-2026-06-26"), "--history", str(REPO / "reports" / "agent-toolkit-for-aws"),
                           "--html", str(page)], cwd=REPO, capture_output=True, text=True, env=ENV, timeout=900)
    assert proc.returncode == 0, proc.stderr
    return page


def test_the_baseline_report_opens_clean(browser, real_report):
    page = real_report
    assert page.stat().st_size < 3_000_000
    browser.get(page.as_uri())
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
    for sid in ("metrics", "delta", "skills", "confusion", "collisions", "orphans", "findings", "history"):
        assert browser.find_element("id", sid).is_displayed()
