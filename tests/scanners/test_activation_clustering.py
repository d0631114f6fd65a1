"""Activation clustering of a supplied sample in the scanned model's own feature space."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from airlock.behavior.settings import BehaviorSettings
from airlock.pipeline import ScanOptions, scan
from airlock.report import Report
from fixtures.backdoored_models import TEST_BACKDOORED, BuiltModel, image_model, sample_set
from tests.conftest import assert_valid_report

pytestmark = [pytest.mark.torch, pytest.mark.slow]
TARGET = TEST_BACKDOORED.attack.target


@pytest.fixture(scope="module", autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


@pytest.fixture(scope="module")
def patched() -> BuiltModel:
    return image_model(TEST_BACKDOORED)


def clustering_scan(folder: Path, data: Path | None) -> Report:
    return scan(str(folder), ScanOptions(scanners=["activation_clustering"], use_cache=False, download_progress=False,
                                         behavior=BehaviorSettings(data=data)))


def test_poisoned_rows_of_the_target_class_are_found(patched: BuiltModel, tmp_path: Path,
                                                     report_schema: dict[str, Any]) -> None:
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
