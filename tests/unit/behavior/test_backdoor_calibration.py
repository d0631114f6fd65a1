"""bench.backdoor calibrate: which clean models set the behavioural thresholds, and how they are pooled."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from airlock.behavior.outlier import threshold_for
from bench import backdoor
from bench.data_heldout import PARTS


def test_the_held_out_generator_calibrates_on_its_clean_models_of_the_calibration_parts_only() -> None:
    names = [model.name for model in backdoor.calibration_models()]
    in_parts = {
        case.name for part in backdoor.CALIBRATION_PARTS for case in PARTS[part] if case.attack is None
    }
    measured = {case.name for part in PARTS if part not in backdoor.CALIBRATION_PARTS for case in PARTS[part]}
    poisoned = {case.name for cases in PARTS.values() for case in cases if case.attack is not None}
    assert in_parts and in_parts <= set(names)
    assert not set(names) & measured  # FRESH_9 on stay apart to measure the scan
    assert not set(names) & poisoned
    assert len(names) == len(set(names))
    assert "fresh9" not in backdoor.CALIBRATION_PARTS and "fresh8" in backdoor.CALIBRATION_PARTS
    # the calibration generator's own models are there too, text ones among them
    assert {"image", "text"} <= {model.kind for model in backdoor.calibration_models()}


def _model(name: str, accuracy: float) -> backdoor.CalibrationModel:
    return backdoor.CalibrationModel("image", name, lambda: (Path(name), Path(f"{name}.npz"), accuracy))


def test_thresholds_come_from_the_mean_of_every_learned_model_of_both_generators(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    gaps = {"a": 0.2, "b": 0.6, "poor": 5.0}  # "poor" did not learn its task: left out
    models = [_model("a", 0.95), _model("b", 0.9), _model("poor", 0.5)]
    monkeypatch.setattr(backdoor, "calibration_models", lambda: models)

    def scan_folder(folder: Path, sample: Path | None) -> dict:
        value = gaps[folder.name] * (1.0 if sample is not None else 0.5)
        return {"gaps": {"patch": value}, "spacings": {"patch": 2}}

    monkeypatch.setattr(backdoor, "scan_folder", scan_folder)
    destination = tmp_path / "behavior-calibration.toml"
    destination.write_text(
        'version = "old"\n\n# activation clustering\n[activation_clustering]\nimage = 1.0\n'
    )
    thresholds = backdoor.calibrate(destination)
    data = threshold_for(0.4, 2, 1, backdoor.ALPHA["data"])
    free = threshold_for(0.2, 2, 1, backdoor.ALPHA["data-free"])
    assert thresholds["image"]["data"]["patch"] == pytest.approx(round(max(backdoor.FLOOR, data), 3))
    assert thresholds["image"]["data-free"]["patch"] == pytest.approx(round(max(backdoor.FLOOR, free), 3))
    written = tomllib.loads(destination.read_text())
    assert written["image"]["data"]["patch"] == thresholds["image"]["data"]["patch"]
    assert written["activation_clustering"]["image"] == 1.0  # the clustering table is kept
    assert "poor" not in destination.read_text().split("Clean gaps seen")[0]
