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
