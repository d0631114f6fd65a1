"""The feature model loader builds stock architectures from config.json + safetensors and refuses the rest."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from airlock.models.loading import ModelRefused, load_image_classifier

pytestmark = pytest.mark.slow  # every test needs the tiny digit model, which is trained on first use


def test_features_are_the_head_input(digit_model: Path) -> None:
    model = load_image_classifier(digit_model, "digit-resnet")
    features = model.features(np.zeros((3, 16, 16, 1), np.float32))
    assert features.shape == (3, 64) and model.architecture == "ResNetForImageClassification"
    assert model.features(np.zeros((2, 16, 16, 3), np.float32)).shape == (2, 64)  # RGB is averaged to one channel


def _copy(digit_model: Path, tmp_path: Path, **config_changes) -> Path:
    folder = tmp_path / "model"
    shutil.copytree(digit_model, folder)
    config = json.loads((folder / "config.json").read_text())
    config.update(config_changes)
    (folder / "config.json").write_text(json.dumps(config))
    return folder


@pytest.mark.parametrize("changes, message", [
    ({"auto_map": {"AutoModel": "modeling.Evil"}}, "remote code"),
    ({"model_type": "bert", "architectures": ["BertForSequenceClassification"]}, "not a stock transformers image"),
    ({"architectures": ["EvilForImageClassification"]}, "not a stock transformers image"),
    ({"hidden_sizes": [16, 32, 128]}, "weights do not match"),
])
def test_refusals(digit_model: Path, tmp_path: Path, changes: dict, message: str) -> None:
    with pytest.raises(ModelRefused, match=message):
        load_image_classifier(_copy(digit_model, tmp_path, **changes), "m")


def test_missing_weights_and_bad_preprocessor(digit_model: Path, tmp_path: Path) -> None:
    folder = _copy(digit_model, tmp_path)
    (folder / "preprocessor_config.json").write_text('{"image_mean": "x"}')
    with pytest.raises(ModelRefused, match="preprocessor_config.json is malformed"):
        load_image_classifier(folder, "m")
    (folder / "preprocessor_config.json").unlink()
    (folder / "model.safetensors").unlink()
    with pytest.raises(ModelRefused, match="no model.safetensors"):
        load_image_classifier(folder, "m")
