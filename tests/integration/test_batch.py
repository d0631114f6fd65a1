"""`airlock scan REF REF …` / `--from FILE`: parallel scans, one combined report, the worst exit code."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path

import jsonschema
import pytest

from fixtures import pickles
from fixtures.real_models import minilm_dir
from tests.conftest import REPO, assert_valid_report

SARIF_SCHEMA = json.loads((REPO / "tests" / "assets" / "sarif-schema-2.1.0.json").read_text())


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("batch")
    evil = root / "evil"
    evil.mkdir()
    pickles.os_system_canary(evil)
    clean = Path(shutil.copytree(minilm_dir(), root / "minilm"))
    twin = Path(
        shutil.copytree(clean, root / "minilm-copy")
    )  # the same bytes: its results come from the cache
    return {"evil": evil, "clean": clean, "twin": twin, "missing": root / "no-such-model"}


def test_json_covers_every_model_with_the_worst_exit_code(cli, models, report_schema) -> None:
    refs = [models["clean"], models["evil"], models["missing"], models["twin"]]
    result = cli("scan", *refs, "--format", "json", "--jobs", "2", "--no-progress")
    assert result.code == 2, result.err  # one reference could not be scanned: the worst outcome
    document = result.json()
    assert document["schema"] == "airlock.batch/v1"
    assert document["summary"] == {
        "decision": "error",
        "exit_code": 2,
        "models": 4,
        "pass": 2,
        "fail": 1,
        "error": 1,
    }
    assert [r["reference"] for r in document["results"]] == [str(r) for r in refs]  # input order
    by_ref = {r["reference"]: r for r in document["results"]}
    assert by_ref[str(models["evil"])]["exit_code"] == 1
    assert "AIR201" in {f["rule"] for f in by_ref[str(models["evil"])]["report"]["findings"]}
    missing = by_ref[str(models["missing"])]
    assert missing["report"] is None and "no such file" in missing["error"]
    for r in document["results"]:
        if r["report"] is not None:
            assert_valid_report(r["report"], report_schema)
    # the two copies are the same bytes: the same digest, the second served by the shared result cache
    assert (
        by_ref[str(models["clean"])]["report"]["target"]["digest"]
        == (by_ref[str(models["twin"])]["report"]["target"]["digest"])
    )
    cache = Path(os.environ["AIRLOCK_CACHE_DIR"]) / "results.sqlite3"
    with sqlite3.connect(cache) as db:
        assert db.execute("SELECT COUNT(*) FROM results").fetchone()[0] > 0


def test_worst_exit_code_without_errors_is_the_failing_verdict(cli, models) -> None:
    result = cli("scan", models["clean"], models["evil"], "--format", "table")
    assert result.code == 1, result.err
    tail = result.out.strip().splitlines()[-1]
    assert tail.startswith("FAIL") and "2 models: 1 passed, 1 failed" in tail
    assert (
        sum(1 for line in result.out.splitlines() if line.startswith("airlock ")) == 2
    )  # each model's table
    assert f"fail  {models['evil']}" in result.err  # progress: one line per model on stderr


def test_from_file_and_sarif_with_a_run_per_model(cli, models, tmp_path: Path) -> None:
    listing = tmp_path / "models.txt"
    listing.write_text(f"# models to vet\n{models['clean']}\n\n{models['evil']}  # the bad one\n")
    out = tmp_path / "batch.sarif"
    result = cli("scan", "--from", listing, "--format", "sarif", "-o", out, "--no-progress")
    assert result.code == 1, result.err
    sarif = json.loads(out.read_text())
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(sarif)
    assert len(sarif["runs"]) == 2
    ids = [run["automationDetails"]["id"] for run in sarif["runs"]]
    assert ids == [f"airlock/{models['clean']}/", f"airlock/{models['evil']}/"]
    assert sarif["runs"][0]["results"] == []
    assert {r["ruleId"] for r in sarif["runs"][1]["results"]} >= {"AIR201"}
    assert all("endTimeUtc" in run["invocations"][0] for run in sarif["runs"])


def test_markdown_and_html_cover_all_models(cli, models, tmp_path: Path) -> None:
    result = cli("scan", models["clean"], models["evil"], "--format", "markdown", "--no-progress")
    assert result.code == 1
    lines = result.out.splitlines()
    assert lines[0].startswith("## ❌ airlock: FAIL, 2 models (1 passed, 1 failed")
    rows = lines[4:6]  # the summary table: heading, blank, header, separator, then a row per model
    assert rows[0].startswith(f"| {models['clean']} | ✅ pass |") and rows[1].startswith(
        f"| {models['evil']} | ❌ fail |"
    )
    assert sum(1 for line in lines if line.startswith("### ") and "airlock:" in line) == 2
    html = tmp_path / "batch.html"
    assert cli("scan", models["clean"], models["evil"], "--format", "html", "-o", html).code == 1
    page = html.read_text()
    assert page.count("<iframe") == 2 and page.count("<section id='model-") == 2
    assert "srcdoc='&lt;!doctype html&gt;" in page.lower() or "srcdoc='&lt;!DOCTYPE" in page


def test_bom_formats_take_one_model(cli, models) -> None:
    result = cli("scan", models["clean"], models["evil"], "--format", "cyclonedx")
    assert result.code == 2 and "one model" in result.err


def test_render_turns_a_saved_batch_into_markdown(cli, models, tmp_path: Path) -> None:
    saved = tmp_path / "batch.json"
    assert cli("scan", models["clean"], models["evil"], "--format", "json", "-o", saved).code == 1
    direct = cli("scan", models["clean"], models["evil"], "--format", "markdown").out
    rendered = cli("render", saved, "--format", "markdown")
    assert rendered.code == 0
    assert rendered.out.splitlines()[:6] == direct.splitlines()[:6]
