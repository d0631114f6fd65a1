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
    head, stage = _batched_views(clf, images, clf.features_and_stage)
    return head.astype(np.float32), stage.astype(np.float32)


def image_probabilities(clf: ImageClassifier, images: np.ndarray) -> np.ndarray:
    """float64 N×K softmax probabilities of float32 N×H×W×C images in [0, 1]."""
    return _batched(clf, images, lambda batch: torch.softmax(clf(batch).float(), dim=1)).astype(np.float64)


def _batched(
    clf: ImageClassifier, images: np.ndarray, forward: Callable[[torch.Tensor], torch.Tensor]
) -> np.ndarray:
    """`forward` over N×H×W×C images in batches of BATCH (channels matched to the model), without
    gradients, concatenated as a float32 array."""
    return _batched_views(clf, images, lambda batch: (forward(batch),))[0]


def _batched_views(
    clf: ImageClassifier,
    images: np.ndarray,
    forward: Callable[[torch.Tensor], tuple[torch.Tensor, ...]],
) -> tuple[np.ndarray, ...]:
    """`_batched` for a `forward` that returns several tensors: each concatenated on its own."""
    if images.shape[3] != clf.channels:
        images = (
            np.repeat(images, clf.channels, axis=3)
            if images.shape[3] == 1
            else images.mean(axis=3, keepdims=True)
        )
    out: list[list[np.ndarray]] = []
    with torch.inference_mode():
        for start in range(0, len(images), BATCH):
            batch = np.ascontiguousarray(
                images[start : start + BATCH].transpose(0, 3, 1, 2), dtype=np.float32
            )
            views = forward(torch.from_numpy(batch).to(clf.device))
            out.append([v.float().cpu().numpy() for v in views])
    return tuple(np.concatenate(parts) for parts in zip(*out, strict=True))


def text_features(clf: TextClassifier, texts: Sequence[str]) -> np.ndarray:
    """float32 N×D features of `texts` (each cut to the classifier's token limit)."""
    out: list[np.ndarray] = []
    with torch.inference_mode():
        for start in range(0, len(texts), BATCH):
            ids, mask = clf.encode([str(t) for t in texts[start : start + BATCH]])
            out.append(clf.features(ids, mask).float().cpu().numpy())
    return np.concatenate(out).astype(np.float32)
