"""The HTML report in a real browser (headless Chromium): it renders, shows the verdict and every finding,
and a hostile string in a finding stays text (no script runs)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from airlock.pipeline import ScanOptions, scan
from airlock.render.html import HtmlRenderer
from fixtures import pickles

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium not installed (`make test` installs it as root)"
)
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def test_failing_report_renders_with_verdict_findings_and_no_script(generated, tmp_path: Path) -> None:
    hostile = tmp_path / "<img src=x onerror=document.title='pwned'>.pkl"
    hostile.write_bytes(generated(pickles.os_system_canary).read_bytes())
    report = scan(str(tmp_path), ScanOptions(use_cache=False))
    page = tmp_path.parent / f"{tmp_path.name}-report.html"
    page.write_text(HtmlRenderer().render(report))
    dom = _chromium(tmp_path.parent / "profile", "--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr[-500:]
    assert 'id="verdict" class="verdict fail">FAIL<' in dom.stdout
    for finding in report.findings:
        assert finding.rule in dom.stdout
    assert (
        "<title>airlock: " in dom.stdout
        and "pwned" not in dom.stdout.split("<title>")[1].split("</title>")[0]
    )
    assert '<img src="x"' not in dom.stdout  # the file name stayed text
    shot = tmp_path.parent / "shot.png"
    done = _chromium(
        tmp_path.parent / "profile2", f"--screenshot={shot}", "--window-size=1200,900", page.as_uri()
    )
    assert done.returncode == 0 and shot.stat().st_size > 10_000  # a real, non-blank rendering
