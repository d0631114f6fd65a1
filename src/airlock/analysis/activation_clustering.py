"""Activation clustering (Chen et al., "Detecting Backdoor Attacks on Deep Neural Networks by
Activation Clustering", 2018): per class, reduce the penultimate activations, split them in two,
and measure how real the split is.

The published method calls the smaller cluster poisoned when its relative size is below a fixed
share (or its silhouette is high). This module only measures: relative size, silhouette, and the
Fisher separation of the two clusters in pooled within-cluster standard deviations. Deciding which
cluster (if any) is poison is left to the caller, which has more evidence than the cluster sizes.
Used by `airlock data` (poisoning) and the behavioural scan (activations of a model on a sample).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DIMENSIONS = 10  # as in the paper and ART's ActivationDefence
SILHOUETTE_SAMPLE = 2000  # silhouette is O(n²): measured on a fixed-size sample


@dataclass(frozen=True)
class TwoClusterSplit:
    labels: np.ndarray  # 0 or 1 per row
    relative_size: float  # size of the smaller cluster over the class size
    silhouette: float  # mean silhouette coefficient (−1…1), on a sample
    separation: float  # Fisher separation: distance of the centroids in pooled within-cluster SDs
    projection: np.ndarray  # each row on the Fisher direction, cluster 1 on the positive side


def reduce(features: np.ndarray, dimensions: int = DIMENSIONS) -> np.ndarray:
    """The rows centred and projected on their top principal directions (at most `dimensions`)."""
    centred = features.astype(np.float64) - features.mean(axis=0)
    keep = max(1, min(dimensions, centred.shape[1], max(1, len(centred) - 1)))
    if not centred.any():
        return np.zeros((len(features), keep))
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    return centred @ vt[:keep].T


def split(reduced: np.ndarray, *, seed: int = 0) -> TwoClusterSplit:
    """2-means on the reduced rows, with its relative size, silhouette and Fisher separation."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    n = len(reduced)
    if n < 4 or not np.ptp(reduced, axis=0).any():
        return TwoClusterSplit(np.zeros(n, dtype=np.int64), 0.0, 0.0, 0.0, np.zeros(n))
    labels = KMeans(n_clusters=2, n_init=4, random_state=seed).fit_predict(reduced).astype(np.int64)
    counts = np.bincount(labels, minlength=2)
    if counts.min() < 2:
        return TwoClusterSplit(labels, float(counts.min()) / n, 0.0, 0.0, np.zeros(n))
    rng = np.random.default_rng(seed)
    sample = rng.choice(n, SILHOUETTE_SAMPLE, replace=False) if n > SILHOUETTE_SAMPLE else np.arange(n)
    silhouette = (
        float(silhouette_score(reduced[sample], labels[sample])) if len(set(labels[sample])) == 2 else 0.0
    )
    a, b = reduced[labels == 0], reduced[labels == 1]
    within = (
        np.atleast_2d(np.cov(a, rowvar=False)) * (len(a) - 1)
        + np.atleast_2d(np.cov(b, rowvar=False)) * (len(b) - 1)
    ) / (n - 2)
    within += np.eye(len(within)) * max(float(np.trace(within)) / len(within), 1e-12) * 1e-6
    gap = b.mean(axis=0) - a.mean(axis=0)
    direction = np.linalg.solve(within, gap)
    separation = float(np.sqrt(max(gap @ direction, 0.0)))
    projection = (reduced - a.mean(axis=0)) @ direction
    return TwoClusterSplit(labels, float(counts.min()) / n, silhouette, separation, projection)
