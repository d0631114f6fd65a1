"""The poisoning detector on generated digit sets in the tiny model's feature space: floors on recall
and precision for every attack at 1%, 5% and 10%, and nothing called on the clean set."""

from __future__ import annotations

import numpy as np
import pytest

from airlock.analysis.neighbours import label_disagreement, nearest_neighbours
from airlock.data import features, poisoning
from airlock.data.pipeline import KNN_DIMENSIONS, NEIGHBOURS, calibration
from fixtures import datasets


def _assess(x: np.ndarray, y: np.ndarray, **kwargs) -> poisoning.PoisoningResult:
    reduced = features.reduce(x)
    neighbours, _ = nearest_neighbours(reduced[:, :KNN_DIMENSIONS], NEIGHBOURS)
    return poisoning.assess(reduced, y, label_disagreement(neighbours, y), calibration(), **kwargs)


@pytest.mark.slow  # model_features trains the tiny digit model on first use
@pytest.mark.parametrize("attack, rate", [(a, r) for a in datasets.ATTACKS for r in datasets.RATES])
def test_poisoned_class_and_samples_are_found(generated, model_features, attack: str, rate: float) -> None:
    npz = generated(datasets.POISONED[(attack, rate)])
    result = _assess(*model_features(npz))
    truth = set(datasets.truth(npz).tolist())
    flagged = set(result.flagged.tolist())
    recall = len(flagged & truth) / len(truth)
    precision = len(flagged & truth) / max(len(flagged), 1)
    assert result.poisoned_classes == [datasets.TARGET]
    assert recall >= (0.8 if rate < 0.05 else 0.95), recall
    assert precision >= 0.9, precision


@pytest.mark.slow
def test_clean_set_calls_no_class_and_flags_at_most_one_percent(generated, model_features) -> None:
    x, y = model_features(generated(datasets.clean_digits))
    result = _assess(x, y)
    assert result.poisoned_classes == []
    assert len(result.flagged) <= 0.01 * len(y)
    assert len(result.scores) == len(y) and ((result.scores >= 0) & (result.scores <= 1)).all()


def test_the_poison_may_be_the_larger_cluster() -> None:
    """Half of class 0 (and more) is poison taken from class 1: the foreign cluster is flagged, not the smaller."""
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 6, (4, 16))
    y = np.repeat(np.arange(4), 200)
    x = centres[y] + rng.normal(0, 1, (800, 16))
    poison = np.arange(200, 320)  # 120 samples of class 1 relabelled 0: class 0 is 200 clean + 120 poison
    y[poison] = 0
    x[poison] += 0.5
    keep = np.r_[np.arange(0, 80), np.arange(200, 800)]  # class 0 keeps only 80 clean samples: poison is 60%
    result = _assess(x[keep].astype(np.float32), y[keep])
    flagged = keep[result.flagged]
    assert result.poisoned_classes == [0]
    assert set(flagged.tolist()) == set(poison.tolist())


def test_a_blamed_class_is_judged_at_lower_thresholds() -> None:
    cal = calibration()
    assert cal.blamed_factor < 1
    rng = np.random.default_rng(1)
    x = rng.normal(0, 1, (600, 8)).astype(np.float32)
    y = np.repeat(np.arange(3), 200)
    result = _assess(x, y, blamed=(1,))
    assert result.poisoned_classes == []  # pure noise stays clean even for a blamed class


def test_published_spectral_signature_removes_a_fixed_share_of_every_class() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(0, 1, (1000, 8))
    y = np.repeat(np.arange(4), 250)
    flagged = poisoning.published_spectral_signature(x, y, epsilon=0.1)
    assert len(flagged) == 4 * round(1.5 * 0.1 * 250)
    assert np.bincount(y[flagged]).tolist() == [38, 38, 38, 38]
