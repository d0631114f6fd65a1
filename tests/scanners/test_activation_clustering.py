"""Activation clustering of a supplied sample in the scanned model's own feature space."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from airlock.behavior.settings import BehaviorSettings
from airlock.pipeline import ScanOptions, scan
from airlock.report import Report
from fixtures.backdoored_models import TEST_BACKDOORED, TEST_CLEAN, BuiltModel, image_model, sample_set
from tests.conftest import assert_valid_report

pytestmark = [pytest.mark.torch, pytest.mark.slow]
TARGET = TEST_BACKDOORED.attack.target


@pytest.fixture(scope="module", autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


@pytest.fixture(scope="module")
def patched() -> BuiltModel:
    return image_model(TEST_BACKDOORED)


def clustering_scan(
    folder: Path, data: Path | None, scanners: tuple[str, ...] | None = ("activation_clustering",)
) -> Report:
    return scan(
        str(folder),
        ScanOptions(
            scanners=list(scanners) if scanners else None,
            use_cache=False,
            download_progress=False,
            behavior=BehaviorSettings(data=data),
        ),
    )


def test_poisoned_rows_of_the_target_class_are_found(
    patched: BuiltModel, tmp_path: Path, report_schema: dict[str, Any]
) -> None:
    sample, poisoned = sample_set(patched, tmp_path, share=0.1)
    report = clustering_scan(patched.folder, sample)
    found = [f for f in report.findings if f.rule == "AIR711"]
    assert [f.evidence["class"] for f in found] == [TARGET]
    behavior = report.behavior
    assert behavior is not None and behavior["activation_clustering"]["suspect_classes"] == [TARGET]
    flagged = np.asarray(behavior["activation_clustering"]["flagged"])
    assert np.isin(poisoned, flagged).mean() >= 0.8  # recall of the planted rows
    assert np.isin(flagged, poisoned).mean() >= 0.8  # and few clean rows blamed
    assert set(found[0].evidence["rows"]) <= set(flagged.tolist())
    assert behavior["method"].startswith("activation-clustering") and behavior["suspect_class"] == TARGET
    assert_valid_report(report.to_dict(), report_schema)


def test_a_clean_sample_has_no_suspect_cluster(patched: BuiltModel, tmp_path: Path) -> None:
    report = clustering_scan(patched.folder, sample_set(patched, tmp_path)[0])
    assert not [f for f in report.findings if f.rule.startswith("AIR7")]
    behavior = report.behavior
    assert behavior is not None and behavior["activation_clustering"]["flagged"] == []
    assert str(next(c for c in report.checks if c.scanner == "activation_clustering").status) == "ran"


def test_without_a_sample_it_is_skipped_and_not_required(patched: BuiltModel) -> None:
    report = clustering_scan(patched.folder, None)
    check = next(c for c in report.checks if c.scanner == "activation_clustering")
    assert str(check.status) == "skipped" and check.reason == "needs a labelled sample (--data)"
    assert "required scanner activation_clustering" not in " ".join(report.verdict.reasons)


def test_clustering_alone_is_low_evidence_and_does_not_fail_a_clean_model(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # a threshold far below anything calibrated makes an ordinary clean class "split": a false alarm
    # of the clustering that, without trigger reversal pointing at the same class, must not fail
    from airlock.behavior import outlier

    real = outlier.load_calibration()
    monkeypatch.setattr(
        outlier, "load_calibration", lambda: replace(real, clustering={"image": 0.5, "text": 0.5})
    )
    clean = image_model(TEST_CLEAN)
    report = clustering_scan(clean.folder, clean.sample, scanners=None)  # the whole scan, as users run it
    found = [f for f in report.findings if f.rule == "AIR711"]
    assert found and {str(f.severity) for f in found} == {"low"}
    assert all(f.evidence["corroborated_by_trigger_reversal"] is False for f in found)
    behavior = report.behavior
    assert behavior is not None and behavior["backdoored"] is False
    assert report.passed, report.verdict.reasons


def test_clustering_and_trigger_reversal_agreeing_on_a_class_is_high(
    patched: BuiltModel, tmp_path: Path
) -> None:
    sample, _ = sample_set(patched, tmp_path, share=0.1)
    report = clustering_scan(patched.folder, sample, scanners=("trigger_reversal", "activation_clustering"))
    found = [f for f in report.findings if f.rule == "AIR711"]
    assert [(f.evidence["class"], str(f.severity)) for f in found] == [(TARGET, "high")]
    assert found[0].evidence["corroborated_by_trigger_reversal"] is True
    behavior = report.behavior
    assert behavior is not None and behavior["backdoored"] is True and behavior["suspect_class"] == TARGET
    assert not report.passed
