"""Shared analysis: exact neighbours, robust whitening, the spectral scores and the two-cluster split."""

from __future__ import annotations

import numpy as np

from airlock.analysis import activation_clustering as ac
from airlock.analysis.neighbours import label_disagreement, nearest_neighbours
from airlock.analysis.robust import quantum_entropy_scores, robust_whitening, spectral_signature_scores


def test_neighbours_match_brute_force() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 5)).astype(np.float32)
    idx, dist = nearest_neighbours(x, 4, block=64)
    full = ((x[:, None] - x[None]) ** 2).sum(-1)
    np.fill_diagonal(full, np.inf)
    np.testing.assert_array_equal(idx, np.argsort(full, axis=1)[:, :4])
    np.testing.assert_allclose(dist, np.sort(full, axis=1)[:, :4], rtol=1e-3, atol=1e-3)
    labels = np.zeros(300, np.int64)
    assert label_disagreement(idx, labels).max() == 0


def test_robust_whitening_ignores_a_poisoned_minority_and_scores_it() -> None:
    rng = np.random.default_rng(1)
    clean = rng.normal(size=(900, 6))
    poison = rng.normal(size=(100, 6)) + np.array([6, 0, 0, 0, 0, 0])
    x = np.vstack([clean, poison])
    whitened = robust_whitening(x).apply(x)
    assert abs(np.cov(whitened[:900], rowvar=False)[0, 0] - 1) < 0.3  # the clean part is white
    for scores in (quantum_entropy_scores(whitened), spectral_signature_scores(x)):
        top = set(np.argsort(scores)[-100:].tolist())
        assert len(top & set(range(900, 1000))) >= 90


def test_split_measures_separation() -> None:
    rng = np.random.default_rng(2)
    one = rng.normal(size=(400, 20))
    two = np.vstack([rng.normal(size=(300, 20)), rng.normal(size=(100, 20)) + 8])
    blob, pair = ac.split(ac.reduce(one)), ac.split(ac.reduce(two))
    assert blob.separation < 4
    assert pair.separation > 8
    assert abs(pair.relative_size - 0.25) < 0.02 and pair.silhouette > 0.5
