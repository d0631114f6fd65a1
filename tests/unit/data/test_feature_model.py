"""`airlock data --model` features come from the one model loader: stock architectures from
config.json + safetensors, the head's input as the feature, and the same refusals as `scan --behavior`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from airlock.errors import ModelRefused, RemoteCodeRefused
from airlock.models.classifier import load_classifier
from airlock.models.features import image_features
from airlock.models.image import ImageClassifier

pytestmark = pytest.mark.slow  # every test needs the tiny digit model, which is trained on first use


def test_features_are_the_head_input(digit_model: Path) -> None:
    model = load_classifier(digit_model, "digit-resnet")
    assert isinstance(model, ImageClassifier) and model.architecture == "ResNetForImageClassification"
    features = image_features(model, np.zeros((3, 16, 16, 1), np.float32))
    assert features.shape == (3, 64) and features.dtype == np.float32
    assert image_features(model, np.zeros((2, 16, 16, 3), np.float32)).shape == (
        2,
        64,
    )  # RGB is averaged to one channel


def _copy(digit_model: Path, tmp_path: Path, **config_changes) -> Path:
    folder = tmp_path / "model"
    shutil.copytree(digit_model, folder)
    config = json.loads((folder / "config.json").read_text())
    config.update(config_changes)
    (folder / "config.json").write_text(json.dumps(config))
    return folder


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"auto_map": {"AutoModel": "modeling.Evil"}}, "remote code"),
        ({"architectures": ["EvilForImageClassification"]}, "not a stock transformers image or text"),
        ({"model_type": "bert", "architectures": ["BertForSequenceClassification"]}, "weights do not match"),
        ({"hidden_sizes": [16, 32, 128]}, "weights do not match"),
    ],
)
def test_refusals(digit_model: Path, tmp_path: Path, changes: dict, message: str) -> None:
    with pytest.raises(ModelRefused, match=message):
        load_classifier(_copy(digit_model, tmp_path, **changes), "m")


def test_remote_code_is_its_own_refusal(digit_model: Path, tmp_path: Path) -> None:
    with pytest.raises(RemoteCodeRefused):
        load_classifier(_copy(digit_model, tmp_path, auto_map={"AutoModel": "modeling.Evil"}), "m")


def test_a_config_larger_than_its_weights_is_refused_before_it_is_built(
    digit_model: Path, tmp_path: Path
) -> None:
    """A hostile config.json asking for a huge network is sized on the meta device and refused, never allocated."""
    folder = _copy(digit_model, tmp_path, hidden_sizes=[4096, 4096, 4096], embedding_size=4096)
    with pytest.raises(ModelRefused, match="parameters, the weights hold"):
        load_classifier(folder, "m")


def test_missing_weights_and_bad_preprocessor(digit_model: Path, tmp_path: Path) -> None:
    folder = _copy(digit_model, tmp_path)
    (folder / "preprocessor_config.json").write_text('{"image_mean": "x"}')
    with pytest.raises(ModelRefused, match=r"preprocessor_config\.json is malformed"):
        load_classifier(folder, "m")
    (folder / "preprocessor_config.json").unlink()
    (folder / "model.safetensors").unlink()
    with pytest.raises(ModelRefused, match=r"no \*.safetensors"):
        load_classifier(folder, "m")


def test_a_resnet_stage_is_its_head_input(digit_model: Path) -> None:
    """ResNet's head only pools the last stage, so the clean reference reads what the split reads."""
    from airlock.models.features import image_feature_views

    model = load_classifier(digit_model, "digit-resnet")
    images = np.random.default_rng(2).random((6, 16, 16, 1), dtype=np.float32)
    head, stage = image_feature_views(model, images)
    np.testing.assert_allclose(head, image_features(model, images), atol=1e-6)
    np.testing.assert_allclose(stage, head, atol=1e-5)
