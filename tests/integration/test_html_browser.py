"""The HTML report in a real browser (headless Chromium over the DevTools protocol), on four real reports:
a passing one (all-MiniLM-L6-v2), a failing one (a generated malicious pickle with a hostile file name),
a behavioural one (a small backdoored classifier) and a data one (a poisoned image set).

Each page is opened, screenshotted (into pytest's tmp dir, and into $AIRLOCK_SCREENSHOTS_DIR when set),
and checked: the verdict comes first and is visible, the key sections are visible with real sizes, the
pictures decode, nothing was requested but the page itself and its data: URIs, and the console stayed
clean (no errors, no warnings, no CSP violations, no exceptions).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airlock.pipeline import ScanOptions, scan
from airlock.render.html import HtmlRenderer
from airlock.report import Report
from fixtures import pickles
from tests.integration.cdp import CHROMIUM, Browser

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium not installed (`make test` installs it as root)"
)

BOXES = """
JSON.stringify(Object.fromEntries(%s.map(sel => {
  const el = document.querySelector(sel);
  if (!el) return [sel, null];
  const r = el.getBoundingClientRect(), s = getComputedStyle(el);
  return [sel, {top: r.top + scrollY, width: r.width, height: r.height,
                shown: s.display !== 'none' && s.visibility !== 'hidden' && r.width > 0 && r.height > 0,
                text: el.innerText.slice(0, 2000)}];
})))
"""
PICTURES = """
JSON.stringify([...document.querySelectorAll('img')].map(i => ({
  complete: i.complete, width: i.naturalWidth, scheme: i.src.split(':')[0]})))
"""


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    chromium = Browser(tmp_path_factory.mktemp("chromium-profile"))
    yield chromium
    chromium.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


def _open(browser: Browser, report: Report, name: str, shots: Path) -> dict[str, Any]:
    """Render, open and screenshot the report; return the boxes of its sections and its pictures."""
    import json

    page = shots / f"{name}.html"
    page.write_text(HtmlRenderer().render(report), encoding="utf-8")
    browser.open(page.as_uri())
    shot = browser.screenshot(shots / f"{name}.png")
    if os.environ.get("AIRLOCK_SCREENSHOTS_DIR"):
        target = Path(os.environ["AIRLOCK_SCREENSHOTS_DIR"])
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, target / shot.name)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000  # a real rendering
    selectors = [
        "#verdict",
        "#verdict .decision",
        "#reasons",
        "#findings",
        "#files",
        "#checks",
        "#behavior",
        "#behavior-score",
        "#trigger-size-charts",
        "#class-triggers",
        "#families",
        "#data",
        "#thumbnails",
        "#score-histograms",
        "#contamination",
        "#flagged-count",
        "tr.flagged",
        "dd.call",
    ]
    boxes = json.loads(browser.evaluate(BOXES % json.dumps(selectors)))
    pictures = json.loads(browser.evaluate(PICTURES))
    assert browser.problems() == []
    assert [
        u for u in browser.requests() if not (u == page.as_uri() or u.startswith("data:image/png;"))
    ] == []
    assert all(p["complete"] and p["width"] > 0 and p["scheme"] == "data" for p in pictures), pictures
    boxes["pictures"] = len(pictures)
    boxes["svg"] = browser.evaluate("document.querySelectorAll('svg.chart').length")
    return boxes


def _verdict_first(boxes: dict[str, Any], decision: str) -> None:
    verdict = boxes["#verdict"]
    assert verdict["shown"] and boxes["#verdict .decision"]["text"] == decision.upper()
    assert verdict["top"] < 300 and verdict["top"] < boxes["#findings"]["top"] < boxes["#files"]["top"]
    assert boxes["#reasons"]["shown"] and boxes["#files"]["shown"] and boxes["#checks"]["shown"]


def test_passing_report_of_a_real_model(browser: Browser, shots: Path) -> None:
    from fixtures.real_models import minilm_dir

    report = scan(str(minilm_dir()), ScanOptions(use_cache=False))
    boxes = _open(browser, report, "passing", shots)
    _verdict_first(boxes, "pass")
    assert report.passed and "no finding at or above high" in boxes["#reasons"]["text"]
    assert boxes["#behavior"] is None and boxes["#data"] is None and boxes["tr.flagged"] is None
    assert "model.safetensors" in boxes["#files"]["text"] and "MiB" in boxes["#files"]["text"]


def test_failing_report_shows_the_call_and_keeps_hostile_names_as_text(
    browser: Browser, shots: Path, generated, tmp_path: Path
) -> None:
    hostile = tmp_path / "<img src=x onerror=document.title='pwned'>.pkl"
    hostile.write_bytes(generated(pickles.os_system_canary).read_bytes())
    report = scan(str(tmp_path), ScanOptions(use_cache=False))
    boxes = _open(browser, report, "failing", shots)
    _verdict_first(boxes, "fail")
    assert "AIR201" in boxes["#reasons"]["text"]
    assert boxes["dd.call"]["shown"] and boxes["dd.call"]["text"].startswith("posix.system('touch ")
    findings = boxes["#findings"]["text"]
    assert "What to do:" in findings and "MITRE ATLAS: AML.T0010.003" in findings and "CWE-502" in findings
    assert boxes["tr.flagged"]["shown"] and "<img src=x" in boxes["tr.flagged"]["text"]  # shown as text
    assert boxes["pictures"] == 0 and browser.evaluate("document.title").startswith("airlock: ")


@pytest.mark.slow
@pytest.mark.torch
def test_behavioural_report_shows_score_triggers_and_chart(
    browser: Browser, shots: Path, backdoored_image_report: Report
) -> None:
    report = backdoored_image_report
    behavior = report.behavior
    assert behavior is not None and behavior["backdoored"]
    boxes = _open(browser, report, "behavioural", shots)
    _verdict_first(boxes, "fail")
    assert boxes["#behavior"]["shown"] and boxes["#families"]["shown"]
    assert boxes["#behavior-score"]["text"] == f"{behavior['score']:.4g}"
    assert f"class {behavior['suspect_class']}" in boxes["#behavior"]["text"]
    families = len(behavior["families"])
    assert boxes["#trigger-size-charts"]["shown"] and boxes["svg"] >= families + 1  # + the score gauge
    classes = len(behavior["per_class"])
    assert boxes["#class-triggers"]["shown"] and boxes["pictures"] >= families * classes
    assert "numbers, min" in boxes["#findings"]["text"]  # the reversed mask is summarised, not dumped
    assert len(boxes["#findings"]["text"]) < 2_000


@pytest.mark.slow
def test_data_report_shows_flagged_samples_histograms_and_pairs(
    browser: Browser, shots: Path, generated
) -> None:
    from airlock.data.pipeline import VetOptions, vet
    from fixtures import datasets

    report = vet(
        generated(datasets.POISONED[("patch", 0.10)]), VetOptions(test=generated(datasets.clean_digits))
    )
    data = report.data
    assert data is not None and data["flagged"]
    boxes = _open(browser, report, "data", shots)
    _verdict_first(boxes, "fail")
    assert boxes["#data"]["shown"] and boxes["#flagged-count"]["text"] == str(len(data["flagged"]))
    assert boxes["#thumbnails"]["shown"] and boxes["pictures"] == len(data["thumbnails"]) > 0
    assert boxes["#score-histograms"]["shown"] and boxes["svg"] == len(data["score_histograms"])
    assert boxes["#contamination"]["shown"] and "train ↔ test" in boxes["#contamination"]["text"]
