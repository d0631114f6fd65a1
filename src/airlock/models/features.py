"""A loaded classifier's penultimate features as numpy arrays, in batches and without gradients.

This is the feature space of `airlock data --model`: the input of the classification head, for
images (float32 N×H×W×C in [0, 1], normalised inside the classifier) or for texts (tokenised with
the model's own tokenizer files).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from airlock.models.image import ImageClassifier
from airlock.models.text import TextClassifier

BATCH = 256


def image_features(clf: ImageClassifier, images: np.ndarray) -> np.ndarray:
    """float32 N×D features of float32 N×H×W×C images in [0, 1]. Grey images are repeated to the
    model's channels; colour images for a one-channel model are averaged to one."""
    return _batched(clf, images, clf.features).astype(np.float32)


def image_feature_views(clf: ImageClassifier, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """float32 head-input features and last-stage features (`ImageClassifier.features_and_stage`) of
    float32 N×H×W×C images in [0, 1], from one pass over them."""
    width: list[int] = []

    def both(batch: torch.Tensor) -> torch.Tensor:
        head, stage = clf.features_and_stage(batch)
        width[:] = [head.shape[1]]
        return torch.cat([head.reshape(len(batch), -1).float(), stage.reshape(len(batch), -1).float()], dim=1)

    joined = _batched(clf, images, both).astype(np.float32)
    return joined[:, : width[0]], joined[:, width[0] :]


def image_probabilities(clf: ImageClassifier, images: np.ndarray) -> np.ndarray:
    """float64 N×K softmax probabilities of float32 N×H×W×C images in [0, 1]."""
    return _batched(clf, images, lambda batch: torch.softmax(clf(batch).float(), dim=1)).astype(np.float64)


def _batched(
    clf: ImageClassifier, images: np.ndarray, forward: Callable[[torch.Tensor], torch.Tensor]
) -> np.ndarray:
    """`forward` over N×H×W×C images in batches of BATCH (channels matched to the model), without
    gradients, concatenated as a float32 array."""
    if images.shape[3] != clf.channels:
        images = (
            np.repeat(images, clf.channels, axis=3)
            if images.shape[3] == 1
            else images.mean(axis=3, keepdims=True)
        )
    out: list[np.ndarray] = []
    with torch.inference_mode():
        for start in range(0, len(images), BATCH):
            batch = np.ascontiguousarray(
                images[start : start + BATCH].transpose(0, 3, 1, 2), dtype=np.float32
            )
            out.append(forward(torch.from_numpy(batch).to(clf.device)).float().cpu().numpy())
    return np.concatenate(out)


def text_features(clf: TextClassifier, texts: Sequence[str]) -> np.ndarray:
    """float32 N×D features of `texts` (each cut to the classifier's token limit)."""
    out: list[np.ndarray] = []
    with torch.inference_mode():
        for start in range(0, len(texts), BATCH):
            ids, mask = clf.encode([str(t) for t in texts[start : start + BATCH]])
            out.append(clf.features(ids, mask).float().cpu().numpy())
    return np.concatenate(out).astype(np.float32)
