"""modelscan as a second opinion: fed by detected format, so renamed files are not skipped."""

from __future__ import annotations

from pathlib import Path

import pytest

from airlock.pipeline import ScanOptions, scan
from airlock.policy import parse_policy
from airlock.report import Report
from fixtures import pickles
from fixtures.canary import shell_command

ONLY = parse_policy('required_scanners = ["modelscan"]\n', "test")


def _scan(path: Path) -> Report:
    return scan(str(path), ScanOptions(policy=ONLY, use_cache=False, scanners=["modelscan"]))


def test_a_renamed_pickle_is_still_given_to_modelscan(tmp_path: Path) -> None:
    path = tmp_path / "weights"  # no extension: modelscan alone would skip it
    path.write_bytes(pickles.reduce_call("subprocess", "Popen", shell_command("modelscan"), 4))
    report = _scan(path)
    assert [(f.rule, f.scanner, f.evidence["module"], f.evidence["operator"]) for f in report.findings] == [
        ("AIR971", "modelscan", "subprocess", "Popen")
    ]
    assert not report.passed


def test_a_real_torch_checkpoint_gets_no_modelscan_issue(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    torch.save(torch.nn.Linear(3, 2).state_dict(), tmp_path / "checkpoint.data")
    report = _scan(tmp_path)
    assert report.findings == ()
    assert next(c for c in report.checks if c.scanner == "modelscan").status == "ran"


def test_formats_modelscan_cannot_read_are_skipped_not_failed(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    report = _scan(tmp_path)
    check = next(c for c in report.checks if c.scanner == "modelscan")
    assert str(check.status) == "skipped" and report.findings == ()


def test_hdf5_goes_to_modelscan_in_a_child_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """libhdf5 can be crashed by a hostile file: modelscan reads HDF5 in a child, and a crash is a finding."""
    h5py = pytest.importorskip("h5py")
    with h5py.File(tmp_path / "weights", "w") as handle:
        handle.create_dataset("dense/kernel", data=[[1.0, 2.0]])
    clean = _scan(tmp_path)
    assert next(c for c in clean.checks if c.scanner == "modelscan").status == "ran"
    assert [f.rule for f in clean.findings] == []
    import airlock.scanners.second_opinion as bridge

    monkeypatch.setattr(bridge, "_CHILD", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)")
    crashed = _scan(tmp_path)
    assert [(f.rule, f.message) for f in crashed.findings] == [("AIR972", "modelscan: modelscan crashed on this file (signal 11)")]
