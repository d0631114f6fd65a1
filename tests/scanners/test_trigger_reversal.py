"""Trigger reversal on generated Hugging Face classifiers, through the real loading path.

The backdoored model is a stock ResNet trained with a 4×4 checker patch for class 4; the clean one
is the same recipe without poison (`fixtures.backdoored_models`, cached between runs).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from airlock.behavior.settings import BehaviorSettings
from airlock.pipeline import ScanOptions, scan
from airlock.report import Report
from fixtures import pickles
from fixtures.backdoored_models import TEST_BACKDOORED, TEST_CLEAN, BuiltModel, image_model
from fixtures.backdoored_text import BACKDOORED_TEXT, text_model
from tests.conftest import assert_valid_report

pytestmark = [pytest.mark.torch, pytest.mark.slow]
TARGET = TEST_BACKDOORED.attack.target


@pytest.fixture(scope="module", autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


def behaviour_scan(folder: Path, **settings: Any) -> Report:
    return scan(
        str(folder),
        ScanOptions(use_cache=False, download_progress=False, behavior=BehaviorSettings(**settings)),
    )


def _check(report: Report, name: str) -> Any:
    return next(c for c in report.checks if c.scanner == name)


@pytest.fixture(scope="module")
def patched() -> BuiltModel:
    return image_model(TEST_BACKDOORED)


@pytest.fixture(scope="module")
def patched_report(backdoored_image_report: Report) -> Report:
    return backdoored_image_report  # the session's one scan of `patched` with its sample (tests/conftest.py)


@pytest.fixture(scope="module")
def clean_report() -> Report:
    clean = image_model(TEST_CLEAN)
    return behaviour_scan(clean.folder, data=clean.sample)


def test_backdoored_model_is_flagged_with_its_target_class(
    patched_report: Report, report_schema: dict[str, Any]
) -> None:
    assert [(f.rule, f.location) for f in patched_report.findings if f.rule.startswith("AIR7")] == [
        ("AIR701", f"class {TARGET} ({TARGET})")
    ]
    behavior = patched_report.behavior
    assert behavior is not None
    assert behavior["backdoored"] is True and behavior["mode"] == "data" and behavior["complete"] is True
    assert behavior["determined"] is True and behavior["agreeing_families"]
    assert behavior["suspect_class"] == TARGET and behavior["suspect_label"] == str(TARGET)
    assert behavior["score"] > 1.0
    assert behavior["attack_success_rate"] > 0.5  # of the reversed trigger, on the clean sample
    assert not patched_report.passed
    assert_valid_report(patched_report.to_dict(), report_schema)


def test_the_reversed_trigger_is_in_the_evidence_and_as_pictures(patched_report: Report) -> None:
    behavior = patched_report.behavior
    assert behavior is not None
    trigger = behavior["trigger"]
    assert trigger["class"] == TARGET
    if trigger["family"] == "patch":
        mask = trigger["arrays"]["mask"]
        assert len(mask) == 32 and len(mask[0]) == 32
        bottom_right = sum(v for row in mask[24:] for v in row[24:])
        assert bottom_right > 0.5 * sum(v for row in mask for v in row)  # found where the patch was planted
    assert all(uri.startswith("data:image/png;base64,") for uri in behavior["images"].values())
    assert {row["class"] for row in behavior["per_class"]} == set(range(10))
    finding = next(f for f in patched_report.findings if f.rule == "AIR701")
    assert finding.evidence["trigger"]["family"] == trigger["family"]


def test_clean_model_passes(clean_report: Report) -> None:
    behavior = clean_report.behavior
    assert behavior is not None
    assert behavior["backdoored"] is False and behavior["suspect_class"] is None
    assert behavior["score"] < 1.0
    assert not [f for f in clean_report.findings if f.rule.startswith("AIR7")]
    assert (
        behavior["sample_accuracy"] >= 0.8
    )  # no AIR705: it reads its sample as well as calibration models do
    check = _check(clean_report, "trigger_reversal")
    assert str(check.status) == "ran" and "data mode" in check.reason
    assert clean_report.passed, clean_report.verdict.reasons


@pytest.fixture(scope="module")
def patched_data_free(patched: BuiltModel) -> Report:
    return behaviour_scan(patched.folder)


def test_data_free_mode_names_the_same_target_as_a_lead_short_of_its_verdict(
    patched_data_free: Report,
) -> None:
    """Data-free on images a verdict needs more than the families' thresholds (clean models of other
    datasets cross them): this patch crosses them at its target, short of that bar, so the class is
    reported (AIR706, low), the verdict passes and the outcome says the scan did not decide."""
    report = patched_data_free
    behavior = report.behavior
    assert behavior is not None
    assert behavior["mode"] == "data-free" and behavior["evaluated_on"] == "inputs synthesised from the model"
    assert behavior["candidate_class"] == TARGET and 1.0 < behavior["score"] <= behavior["threshold"]
    assert behavior["lead"] is True and behavior["backdoored"] is False and behavior["suspect_class"] is None
    assert behavior["sample_accuracy"] is None  # nothing labelled to read
    (lead,) = [f for f in report.findings if f.rule == "AIR706"]
    assert str(lead.severity) == "low" and lead.evidence["class"] == TARGET
    assert lead.evidence["verdict_at"] == behavior["threshold"] and "--data" in lead.message
    assert {"AIR701", "AIR705"}.isdisjoint(f.rule for f in report.findings)
    assert report.passed, report.verdict.reasons
    assert behavior["outcome"] == "not determined" and "labelled clean sample" in behavior["outcome_reason"]


def _shifted(model: BuiltModel, folder: Path) -> Path:
    """The model's clean sample with every label one class off: the model reads it at about 0%."""
    import numpy as np

    with np.load(model.sample) as sample:
        x, y = sample["x"], sample["y"]
    shifted = folder / "shifted.npz"
    np.savez(shifted, x=x, y=(y + 1) % (int(y.max()) + 1))
    return shifted


def test_a_sample_whose_labels_do_not_match_the_model_is_reported_and_does_not_fail_alone(
    tmp_path: Path,
) -> None:
    clean = image_model(TEST_CLEAN)
    report = behaviour_scan(clean.folder, data=_shifted(clean, tmp_path))
    assert report.behavior is not None and report.behavior["sample_accuracy"] < 0.2
    (misread,) = [f for f in report.findings if f.rule == "AIR705"]
    assert str(misread.severity) == "low" and misread.evidence["accuracy"] < 0.2
    assert misread.evidence["calibrated_at"] == 0.8 and "labels match the model's classes" in misread.message
    assert (
        misread.evidence["floor"] == 0.7
        and "needs the data-free scan to flag the same class" in misread.message
    )
    assert report.behavior["mode"] == "data" and report.behavior["outcome"] == "no backdoor found"
    assert not any("AIR705" in reason for reason in report.verdict.reasons)  # low: never fails the verdict
    assert report.passed, report.verdict.reasons


def test_on_a_sample_the_model_misreads_a_flag_needs_the_data_free_scan_to_agree(
    patched: BuiltModel, patched_data_free: Report, tmp_path: Path
) -> None:
    """Under outlier.MISREAD_FLOOR the data-mode score alone is no verdict: the data-free scan runs too
    (the same as a scan without a sample, score for score) and here flags the same class."""
    report = behaviour_scan(patched.folder, data=_shifted(patched, tmp_path))
    behavior, alone = report.behavior, patched_data_free.behavior
    assert behavior is not None and alone is not None
    assert behavior["mode"] == "data" and behavior["sample_accuracy"] < 0.2 and behavior["score"] > 1.0
    check = behavior["data_free_check"]
    assert (check["score"], check["candidate_class"]) == (alone["score"], alone["candidate_class"])
    assert check["flagged"] is True  # over 1: corroboration, though short of a data-free verdict
    assert check["agrees"] is True and behavior["suspect_class"] == TARGET and not report.passed
    (misread,) = [f for f in report.findings if f.rule == "AIR705"]
    assert misread.evidence["corroborated"] is True and "the same class: flagged" in misread.message
    assert "AIR701" in {f.rule for f in report.findings}


def test_a_sample_read_well_runs_no_data_free_check(patched_report: Report) -> None:
    assert patched_report.behavior is not None and patched_report.behavior["data_free_check"] is None


def test_a_time_budget_that_runs_out_is_incomplete_never_a_pass(patched: BuiltModel) -> None:
    report = behaviour_scan(patched.folder, data=patched.sample, time_budget=1.0)
    assert "AIR702" in {f.rule for f in report.findings}
    check = _check(report, "trigger_reversal")
    assert str(check.status) == "error" and check.reason.startswith("incomplete: time budget of 1 s ran out")
    assert report.behavior is not None and report.behavior["complete"] is False
    assert report.behavior["determined"] is False  # nothing found in time is no answer, not a clean bill
    assert not report.passed
    assert "required scanner trigger_reversal error" in report.verdict.reasons


def test_rare_token_backdoor_in_a_text_classifier() -> None:
    built = text_model(BACKDOORED_TEXT[0])
    report = behaviour_scan(built.folder, data=built.sample)
    behavior = report.behavior
    assert behavior is not None and behavior["kind"] == "text"
    assert behavior["suspect_class"] == BACKDOORED_TEXT[0].attack.target
    assert behavior["trigger"]["tokens"] == [BACKDOORED_TEXT[0].attack.token]
    assert behavior["attack_success_rate"] > 0.9
    assert "AIR701" in {f.rule for f in report.findings}


def test_remote_code_architecture_is_refused(tmp_path: Path) -> None:
    folder = shutil.copytree(image_model(TEST_CLEAN).folder, tmp_path / "model")
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "auto_map": {"AutoModel": "modeling.Evil"}}))
    report = behaviour_scan(folder)
    refused = [f for f in report.findings if f.rule == "AIR703"]
    assert len(refused) == 1 and str(refused[0].severity) == "high" and refused[0].artifact == "config.json"
    assert str(_check(report, "trigger_reversal").status) == "skipped"
    assert not report.passed


def _pickled(tmp_path: Path) -> Path:
    folder = shutil.copytree(image_model(TEST_CLEAN).folder, tmp_path / "model")
    from safetensors.torch import load_file

    torch.save(load_file(str(folder / "model.safetensors")), folder / "pytorch_model.bin")
    (folder / "model.safetensors").unlink()
    return folder


def test_a_pickle_checkpoint_is_read_once_the_static_scan_passed_it(tmp_path: Path) -> None:
    report = behaviour_scan(_pickled(tmp_path), time_budget=1.0)
    rules = {f.rule for f in report.findings}
    assert "AIR704" not in rules and "AIR702" in rules  # loaded (weights_only), then ran out of time


def test_a_malicious_pickle_checkpoint_is_never_loaded(tmp_path: Path) -> None:
    folder = _pickled(tmp_path)
    pickles.os_system_canary(folder, name="behaviour-pickle").replace(folder / "pytorch_model.bin")
    report = behaviour_scan(folder)
    unsupported = [f for f in report.findings if f.rule == "AIR704"]
    assert unsupported and "did not pass the static scan" in unsupported[0].message
    assert not report.passed


def test_behavioural_scanners_are_opt_in(patched: BuiltModel) -> None:
    report = scan(str(patched.folder), ScanOptions(use_cache=False, download_progress=False))
    assert not {"trigger_reversal", "activation_clustering"} & {c.scanner for c in report.checks}
    assert report.behavior is None
