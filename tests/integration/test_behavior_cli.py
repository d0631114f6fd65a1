"""`airlock scan --behavior` from the command line: exit codes, determinism, budget, opt-in, progress."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest

from fixtures.backdoored_models import TEST_CLEAN, image_model
from fixtures.backdoored_text import BACKDOORED_TEXT, text_model
from tests.conftest import CliResult, assert_valid_report

pytestmark = [pytest.mark.torch, pytest.mark.slow]


@pytest.fixture(scope="module", autouse=True)
def _one_thread() -> None:
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    torch.set_num_threads(1)


def _without_timings(document: dict[str, Any]) -> dict[str, Any]:
    document.pop("timestamp")
    document["checks"] = [{**c, "seconds": 0} for c in document["checks"]]
    document["behavior"].pop("timings")  # every wall-clock number of the behavioural scan, and only those
    return document


def test_the_same_seed_gives_the_same_report(
    cli: Callable[..., CliResult], report_schema: dict[str, Any]
) -> None:
    built = text_model(BACKDOORED_TEXT[0])
    args = (
        "scan",
        built.folder,
        "--behavior",
        "--data",
        built.sample,
        "--seed",
        "7",
        "--format",
        "json",
        "--no-progress",
        "--no-cache",
    )
    first, second = cli(*args), cli(*args)
    assert first.code == second.code == 1  # AIR701 is high: the default policy fails
    assert _without_timings(first.json()) == _without_timings(second.json())
    assert first.json()["behavior"]["suspect_class"] == BACKDOORED_TEXT[0].attack.target
    assert_valid_report(first.json(), report_schema)


def test_a_time_budget_that_runs_out_exits_1_with_the_reason(cli: Callable[..., CliResult]) -> None:
    result = cli("scan", image_model(TEST_CLEAN).folder, "--behavior", "--time-budget", "1", "--no-progress")
    assert result.code == 1
    assert "AIR702" in result.out and "required scanner trigger_reversal error" in result.out


@pytest.mark.parametrize("option", [["--data", "x.npz"], ["--arch", "m:f"], ["--time-budget", "5"]])
def test_behavioural_options_need_behavior(cli: Callable[..., CliResult], option: list[str]) -> None:
    result = cli("scan", image_model(TEST_CLEAN).folder, *option, "--no-progress")
    assert result.code == 2
    assert "only apply with --behavior" in result.err and result.out == ""


def test_a_static_scan_never_imports_torch() -> None:
    folder = image_model(TEST_CLEAN).folder
    code = (
        "import sys; from airlock.pipeline import ScanOptions, scan; "
        f"scan({str(folder)!r}, ScanOptions(use_cache=False, download_progress=False)); "
        "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_progress_draws_one_bar_per_class() -> None:
    from rich.console import Console
    from rich.progress import Progress

    from airlock.cli._behavior import _Bars

    out = io.StringIO()
    with Progress(console=Console(file=out, force_terminal=True, width=100)) as bar:
        bars = _Bars(bar)
        bars.begin("patch", [0, 3], steps=4)
        bars.step("patch", {0: 0.5, 3: 0.01})
        assert {task.description for task in bar.tasks} == {"patch     class 0", "patch     class 3"}
        bars.drop("patch", [0])
        bars.end("patch")
        assert not bar.tasks
    assert "class 3" in out.getvalue()


def test_json_evidence_of_a_refusal_names_the_file(cli: Callable[..., CliResult], tmp_path: Any) -> None:
    import shutil

    folder = shutil.copytree(image_model(TEST_CLEAN).folder, tmp_path / "model")
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "auto_map": {"AutoModel": "x.Y"}}))
    result = cli("scan", folder, "--behavior", "--format", "json", "--no-progress")
    assert result.code == 1
    refused = [f for f in result.json()["findings"] if f["rule"] == "AIR703"]
    assert refused and refused[0]["artifact"] == "config.json"
