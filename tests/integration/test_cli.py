"""The `airlock` command end to end: verdicts, exit codes, output channels, and bad input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures import pickles
from fixtures.real_models import minilm_dir
from tests.conftest import assert_valid_report


def test_real_checkpoint_passes_with_a_valid_json_report(cli, report_schema) -> None:
    result = cli("scan", minilm_dir(), "--format", "json", "--no-progress")
    assert result.code == 0, result.err
    report = result.json()
    assert_valid_report(report, report_schema)
    assert report["verdict"]["decision"] == "pass"
    formats = {a["path"]: a["format"] for a in report["artifacts"]}
    assert formats["model.safetensors"] == "safetensors"
    assert formats["config.json"] == "json"
    assert formats["vocab.txt"] == "text"
    assert [f for f in report["findings"] if f["severity"] in ("high", "critical")] == []


def test_malicious_pickle_fails_with_the_exact_rule_and_offset(cli, generated, report_schema) -> None:
    evil = generated(pickles.os_system_canary)
    result = cli("scan", evil, "--format", "json", "--no-progress")
    assert result.code == 1
    report = result.json()
    assert_valid_report(report, report_schema)
    critical = sorted((f["rule"], f["location"]) for f in report["findings"] if f["severity"] == "critical")
    # airlock's own analysis, and modelscan's second opinion on the same bytes
    assert critical == [("AIR201", "model.pkl@opcode:2"), ("AIR971", "model.pkl#posix.system")]
    assert report["verdict"]["decision"] == "fail"
    assert "AIR201" in report["verdict"]["reasons"][0]
    modelscan = next(c for c in report["checks"] if c["scanner"] == "modelscan")
    assert modelscan["status"] == "ran" and modelscan["seconds"] > 0


def test_table_goes_to_stdout_and_nothing_else(cli, generated) -> None:
    result = cli("scan", generated(pickles.os_system_canary), "--no-progress")
    assert result.code == 1
    assert "AIR201" in result.out and "FAIL" in result.out
    assert result.err == ""


def test_output_file_gets_the_report_and_stdout_stays_empty(cli, generated, tmp_path: Path) -> None:
    out = tmp_path / "report.sarif"
    result = cli(
        "scan", generated(pickles.benign_state_dict), "--format", "sarif", "--output", out, "--no-progress"
    )
    assert result.code == 0, result.err
    assert result.out == ""
    assert '"version": "2.1.0"' in out.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["report.sarif"]  # no temp file left behind


def test_policy_can_ignore_a_rule_and_change_the_threshold(cli, generated, tmp_path: Path) -> None:
    evil = generated(pickles.os_system_canary)
    policy = tmp_path / "policy.toml"
    policy.write_text(
        'name = "lenient"\nfail_at = "critical"\n[severity]\nAIR201 = "ignore"\nAIR971 = "ignore"\n'
    )
    result = cli("scan", evil, "--policy", policy, "--format", "json", "--no-progress")
    assert result.code == 0
    assert "lenient" in result.json()["verdict"]["policy"]
    assert cli("scan", evil, "--fail-at", "medium", "--no-progress").code == 1


def _one_clean_error_line(result) -> str:
    assert result.code == 2
    assert result.out == ""
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert "Traceback" not in result.err
    return lines[0]


def test_missing_path_is_exit_2_with_one_line(cli, tmp_path: Path) -> None:
    line = _one_clean_error_line(cli("scan", tmp_path / "nope" / "model.bin"))
    assert "no such file or directory" in line and "nope" in line


def test_empty_folder_is_exit_2(cli, tmp_path: Path) -> None:
    line = _one_clean_error_line(cli("scan", tmp_path))
    assert "empty folder" in line


def test_invalid_hub_reference_is_exit_2(cli) -> None:
    line = _one_clean_error_line(cli("scan", "hf://not a repo"))
    assert "not a valid Hub repo id" in line


def test_fifo_is_refused_not_read(cli, tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.bin")
    (tmp_path / "ok.json").write_text("{}")
    line = _one_clean_error_line(cli("scan", tmp_path))
    assert "not a regular file" in line


def test_dangling_symlink_is_exit_2(cli, tmp_path: Path) -> None:
    (tmp_path / "model.safetensors").symlink_to(tmp_path / "gone")
    line = _one_clean_error_line(cli("scan", tmp_path))
    assert "dangling symlink" in line


def test_bad_policy_file_is_exit_2(cli, generated, tmp_path: Path) -> None:
    policy = tmp_path / "p.toml"
    policy.write_text("fail_at = 'catastrophic'\n")
    line = _one_clean_error_line(cli("scan", generated(pickles.benign_state_dict), "--policy", policy))
    assert "p.toml" in line and "catastrophic" in line


def test_unreachable_endpoint_is_exit_2(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # discard port: nothing listens
    line = _one_clean_error_line(cli("scan", "hf://some-org/some-model", "--no-progress"))
    assert "127.0.0.1:9" in line and "unreachable" in line


def test_unwritable_output_is_exit_2(cli, generated, tmp_path: Path) -> None:
    line = _one_clean_error_line(
        cli("scan", generated(pickles.benign_state_dict), "--output", tmp_path / "missing-dir" / "r.json")
    )
    assert "cannot write report" in line


def test_console_script_exit_codes_and_streams(generated) -> None:
    """The real entry point, in a subprocess: exit code 1 on a failing verdict, JSON on stdout only."""
    evil = generated(pickles.os_system_canary)
    airlock = Path(sys.executable).parent / "airlock"
    done = subprocess.run(
        [str(airlock), "scan", str(evil), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stdout.lstrip().startswith("{")
    assert done.stderr == ""


def test_rules_lists_every_rule_with_the_signatures_version(cli) -> None:
    from airlock.findings import RuleId
    from airlock.rules import load_rules

    result = cli("rules", "--format", "json")
    assert result.code == 0
    data = result.json()
    assert data["signatures"] == load_rules().version
    assert {r["id"] for r in data["rules"]} == set(load_rules().rules)
    assert all(r["remediation"] for r in data["rules"])  # every rule says what to do
    one = cli("rules", "AIR201")
    assert one.code == 0 and f"what to do: {load_rules().rules[RuleId('AIR201')].remediation}" in one.out
