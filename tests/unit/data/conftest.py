"""Shared inputs of the data-scan tests: the tiny feature model and the generated digit sets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fixtures import tiny_models


@pytest.fixture(scope="session", autouse=True)
def _one_blas_thread():
    """One BLAS/OpenMP thread: the machine is shared, and oversubscribed threads slow everything down."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


@pytest.fixture(scope="session")
def digit_model(generated) -> Path:
    return generated(tiny_models.digit_resnet)


@pytest.fixture(scope="session")
def model_features(digit_model: Path):
    """A function: .npz path → features of its images under the tiny model (one torch thread)."""
    import torch

    from airlock.data.loading import open_dataset
    from airlock.models.classifier import load_classifier
    from airlock.models.features import image_features

    torch.set_num_threads(1)
    model = load_classifier(digit_model, "digit-resnet")

    def extract(npz: Path) -> tuple[np.ndarray, np.ndarray]:
        dataset = open_dataset(npz)
        assert dataset.labels is not None
        return np.concatenate([image_features(model, chunk.x) for chunk in dataset.chunks()]), dataset.labels

    return extract


def gaussian_classes(rng: np.random.Generator):
    """Five Gaussian classes in 16 dimensions, 300 training and 60 reference rows each: the centres,
    the training rows and labels, the reference rows and labels."""
    centres = rng.normal(0, 5, (5, 16))
    y = np.resize(np.arange(5), 1500)
    x = (centres[y] + rng.normal(0, 1, (1500, 16))).astype(np.float32)
    ref_y = np.resize(np.arange(5), 300)
    ref_x = (centres[ref_y] + rng.normal(0, 1, (300, 16))).astype(np.float32)
    return centres, x, y, ref_x, ref_y


def assess_against_reference(
    x: np.ndarray,
    y: np.ndarray,
    ref_x: np.ndarray,
    ref_y: np.ndarray,
    *,
    confidence: np.ndarray | None = None,
    predicted: np.ndarray | None = None,
    **readings,
):
    """`poisoning.assess` of a set of model features against a clean reference in the same space,
    every row at one persistence (no split route has a behavioural difference to read); `readings`
    are the reference's further fields (`train_kept` and `rows_kept`, `read`); `confidence` and
    `predicted`, the model's reading of each row, enable the mislabelled route."""
    from airlock.analysis.neighbours import label_disagreement, nearest_neighbours
    from airlock.data import features, poisoning, reference
    from airlock.data.pipeline import KNN_DIMENSIONS, NEIGHBOURS, calibration

    reduced, ref = features.reduce_with(x, ref_x)
    neighbours, _ = nearest_neighbours(reduced[:, :KNN_DIMENSIONS], NEIGHBOURS)
    return poisoning.assess(
        reduced,
        y,
        label_disagreement(neighbours, y),
        calibration(),
        persistence=np.full(len(y), 0.3),
        confidence=confidence,
        predicted=predicted,
        reference=reference.Reference(reduced, ref, ref_y, **readings),
    )
