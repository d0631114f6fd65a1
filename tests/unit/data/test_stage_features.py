"""The clean reference's feature space: an image model's last stage, read before the head normalises
it (`ImageClassifier.features_and_stage`), from the same pass as the head input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from airlock.models.features import image_feature_views, image_features
from airlock.models.image import ImageClassifier, build_image_classifier


def _convnext(tmp_path: Path) -> ImageClassifier:
    from transformers import ConvNextConfig, ConvNextForImageClassification

    torch.manual_seed(0)
    config = ConvNextConfig(
        num_channels=3, patch_size=2, num_stages=2, hidden_sizes=[8, 16], depths=[1, 1], num_labels=4
    )
    module = ConvNextForImageClassification(config)
    return build_image_classifier(
        tmp_path,
        "convnext",
        config.to_dict(),
        module,
        "ConvNextForImageClassification",
        device=torch.device("cpu"),
    )


def test_a_convnext_stage_is_the_last_feature_map_before_the_heads_layer_norm(tmp_path: Path) -> None:
    clf = _convnext(tmp_path)
    images = np.random.default_rng(0).random((5, 16, 16, 3), dtype=np.float32)
    head, stage = image_feature_views(clf, images)
    assert head.shape == stage.shape == (5, 16)
    np.testing.assert_allclose(head, image_features(clf, images), atol=1e-6)  # the head input, unchanged
    with torch.no_grad():
        x = (torch.from_numpy(images).permute(0, 3, 1, 2) - clf.mean) / clf.std
        last = clf.module.convnext(pixel_values=x, output_hidden_states=True).hidden_states[-1]
        pooled = last.mean(dim=(2, 3))
        np.testing.assert_allclose(stage, pooled.numpy(), atol=1e-5)
        # the head input is that map after the LayerNorm, which rescales every row to one spread
        np.testing.assert_allclose(head, clf.module.convnext.layernorm(pooled).numpy(), atol=1e-5)
    assert np.abs(head - stage).max() > 0.1
    assert np.allclose(head.std(axis=1), head.std(axis=1)[0], rtol=0.05)


def test_a_custom_module_gives_its_head_input_for_both(tmp_path: Path) -> None:
    module = torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(48, 6), torch.nn.ReLU(), torch.nn.Linear(6, 3)
    )
    clf = build_image_classifier(
        tmp_path, "custom", {"num_labels": 3}, module, "custom", device=torch.device("cpu")
    )
    images = np.random.default_rng(1).random((4, 4, 4, 3), dtype=np.float32)
    head, stage = image_feature_views(clf, images)
    assert head.shape == (4, 6)
    np.testing.assert_array_equal(head, stage)


def test_a_vit_whose_last_state_is_tokens_gives_its_head_input_for_both(tmp_path: Path) -> None:
    from transformers import ViTConfig, ViTForImageClassification

    torch.manual_seed(0)
    config = ViTConfig(
        image_size=16,
        patch_size=4,
        num_channels=3,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        num_labels=3,
    )
    clf = build_image_classifier(
        tmp_path,
        "vit",
        config.to_dict(),
        ViTForImageClassification(config),
        "ViTForImageClassification",
        device=torch.device("cpu"),
    )
    images = np.random.default_rng(2).random((3, 16, 16, 3), dtype=np.float32)
    head, stage = image_feature_views(clf, images)
    assert head.shape == (3, 16)
    np.testing.assert_array_equal(head, stage)
