"""Trigger persistence (after STRIP, Gao et al. 2019): how firmly the model keeps a sample's label
when another class's image is superimposed on it.

A clean sample mixed half and half with an image of another class loses much of its own class: its
content is diluted. A sample that carries a trigger keeps the class the trigger points to, because
the trigger is still there (a patch at half contrast, a blended pattern, a sinusoid, an input-specific
pattern) and the model learned it as a shortcut. The signal is per row and needs no trigger guess:
for row i with label c, the mean probability of c over `DONORS` superimpositions with images of
other classes. Higher means more suspect. Donors come from a fixed-size pool drawn from the set
itself with a fixed seed, so the result is the same for the same set.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

DONORS = 6
POOL = 512
MIX = 0.5

# images float32 N×H×W×C in [0, 1] → class probabilities N×K
Predict = Callable[[np.ndarray], np.ndarray]


def pool_rows(rows: int, seed: int = 0) -> np.ndarray:
    """The sorted indices of up to `POOL` of a set's `rows`, drawn with `seed`: the donor pool."""
    return np.sort(np.random.default_rng(seed).choice(rows, size=min(POOL, rows), replace=False))


def donor_pool(images: np.ndarray, labels: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The donor pool of a set held in memory (images and labels)."""
    rows = pool_rows(len(images), seed)
    return images[rows].astype(np.float32), labels[rows]


def persistence(
    predict: Predict,
    images: np.ndarray,
    labels: np.ndarray,
    donors: tuple[np.ndarray, np.ndarray],
    *,
    first_row: int = 0,
    seed: int = 0,
) -> np.ndarray:
    """Per row, the mean probability of its own label when mixed with `DONORS` donor images of other
    classes. `first_row` (the chunk's offset) makes the draws independent of the chunking."""
    pool_x, pool_y = donors
    out = np.zeros(len(images), np.float64)
    batch_x: list[np.ndarray] = []
    for i, label in enumerate(labels):
        others = np.flatnonzero(pool_y != label)
        if not len(others):
            continue
        rng = np.random.default_rng((seed, first_row + i))
        chosen = others[rng.integers(0, len(others), DONORS)]
        batch_x.append((1 - MIX) * images[i][None].astype(np.float32) + MIX * pool_x[chosen])
    if not batch_x:
        return out
    probabilities = predict(np.concatenate(batch_x))
    has_donor = np.flatnonzero([np.any(pool_y != label) for label in labels])
    own = probabilities[np.arange(len(probabilities)), np.repeat(labels[has_donor], DONORS)]
    out[has_donor] = own.reshape(len(has_donor), DONORS).mean(axis=1)
    return out


class Reading(NamedTuple):
    """How the model reads each row: the probability of its own label (1 - a loss signature), the
    class read, and the margin of its own label over the runner-up (log-probability difference):
    a relabelled row whose trigger the model did not learn keeps its true class, so its own label
    gets little and another class is read; a row whose trigger the model learned as a shortcut is
    read more firmly than the class's clean rows, past where the probability saturates at 1."""

    own: np.ndarray
    predicted: np.ndarray
    margin: np.ndarray


FLOOR = 1e-30  # probabilities are floored here before the log: a margin is at most about 69


def reading(predict: Predict, images: np.ndarray, labels: np.ndarray) -> Reading:
    """Per row, the model's reading of its own label (`Reading`)."""
    if not len(images):
        return Reading(np.zeros(0, np.float64), np.zeros(0, np.int64), np.zeros(0, np.float64))
    probabilities = predict(images.astype(np.float32)).astype(np.float64)
    rows = np.arange(len(labels))
    own = probabilities[rows, labels]
    others = probabilities.copy()
    others[rows, labels] = -1.0
    margin = np.log(np.maximum(own, FLOOR)) - np.log(np.maximum(others.max(axis=1), FLOOR))
    return Reading(own, probabilities.argmax(axis=1).astype(np.int64), margin)
