"""Trigger persistence: a row whose trigger survives superimposition keeps its label."""

from __future__ import annotations

import numpy as np

from airlock.data import persistence


def _predict(images: np.ndarray) -> np.ndarray:
    """A 'model' with a backdoor: a bright top-left corner means class 1, otherwise the mean
    brightness decides between 0 and 2."""
    corner = images[:, :3, :3].mean(axis=(1, 2, 3)) > 0.45
    bright = images.mean(axis=(1, 2, 3))
    p = np.zeros((len(images), 3))
    p[:, 0] = 1 - bright
    p[:, 2] = bright
    p[corner] = [0.02, 0.96, 0.02]
    return p


def test_triggered_rows_keep_their_label_and_clean_rows_do_not() -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 0.3, (200, 8, 8, 1)).astype(np.float32)
    y = rng.integers(0, 3, 200)
    triggered = np.flatnonzero(y == 1)[:20]
    x[triggered, :3, :3] = 1.0
    pool = persistence.donor_pool(x, y, seed=0)
    scores = persistence.persistence(_predict, x, y, pool)
    clean_ones = np.setdiff1d(np.flatnonzero(y == 1), triggered)
    assert scores.shape == (200,) and ((scores >= 0) & (scores <= 1)).all()
    assert scores[triggered].min() > 0.9 > scores[clean_ones].max()


def test_the_same_rows_score_the_same_whatever_the_chunking() -> None:
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 1, (60, 4, 4, 1)).astype(np.float32)
    y = rng.integers(0, 3, 60)
    pool = persistence.donor_pool(x, y, seed=0)
    whole = persistence.persistence(_predict, x, y, pool)
    parts = np.concatenate(
        [
            persistence.persistence(_predict, x[i : i + 25], y[i : i + 25], pool, first_row=i)
            for i in (0, 25, 50)
        ]
    )
    assert np.array_equal(whole, parts)


def test_the_reading_is_the_own_labels_probability_the_class_read_and_the_margin() -> None:
    rng = np.random.default_rng(2)
    x = rng.uniform(0, 0.3, (40, 8, 8, 1)).astype(np.float32)
    y = np.zeros(40, np.int64)
    x[:10, :3, :3] = 1.0  # the model reads these as class 1: their label 0 gets little
    own, read, margin = persistence.reading(_predict, x, y)
    assert own.shape == (40,) and own[:10].max() < 0.05 < 0.5 < own[10:].min()
    assert read[:10].tolist() == [1] * 10 and read[10:].tolist() == [0] * 30
    assert np.allclose(margin[:10], np.log(0.02 / 0.96))  # under 0: another class is read
    brightness = x[10:].mean(axis=(1, 2, 3))
    assert np.allclose(margin[10:], np.log((1 - brightness) / brightness), atol=1e-5)
    assert [a.shape for a in persistence.reading(_predict, x[:0], y[:0])] == [(0,), (0,), (0,)]


def test_a_saturated_reading_keeps_a_finite_margin() -> None:
    def certain(images: np.ndarray) -> np.ndarray:
        p = np.zeros((len(images), 3))
        p[:, 0] = 1.0  # the runner-up gets nothing at all
        return p

    _, _, margin = persistence.reading(certain, np.zeros((4, 2, 2, 1), np.float32), np.zeros(4, np.int64))
    assert np.isfinite(margin).all() and (margin > 60).all()
