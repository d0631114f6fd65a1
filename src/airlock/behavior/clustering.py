"""Activation clustering of a supplied sample in the scanned model's own feature space.

Chen et al. (2018): the penultimate activations (the input of the classification head) of each
class are reduced (`airlock.data.features.reduce`, then `airlock.analysis.activation_clustering`)
and split in two. In a backdoored model, the samples of other classes that carry the trigger reach
the target class through the trigger's own feature, so that class splits cleanly into two groups
far apart, while a clean class splits only along its ordinary variation.

How far apart is measured by the Fisher separation of the split (centroid distance in pooled
within-cluster standard deviations). Its scale depends on the model and the sample size, so, as for
trigger reversal, the test is scale-free and relative to the model's other classes: a class is
suspect when its separation is `threshold` times the median of the other classes' (threshold
calibrated on clean samples, `signatures/behavior-calibration.toml`; a class trigger reversal
blamed is judged at `blamed_factor` × threshold). Of the two clusters, the suspect is the one
farther from the other classes' centroids: triggered samples sit where no clean data does.
Relative size and silhouette are reported with it, as in the paper.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from airlock.analysis import activation_clustering as ac
from airlock.behavior.reversal import image_tensor
from airlock.behavior.samples import ImageSample, Sample, TextSample
from airlock.data import features
from airlock.models.image import ImageClassifier
from airlock.models.text import TextClassifier

BATCH = 256
MIN_ROWS = 20  # smaller classes are not split (their separation is mostly noise)
MIN_COMPARED = 2  # a class is only compared with at least this many other classes that really split
MIN_SHARE, MIN_CLUSTER = (
    0.05,
    5,
)  # a split whose smaller side is below both is no split: a few near-duplicates
# (saturated activations) would make its within-cluster spread vanish and its separation explode
METHOD = "activation-clustering/1 (penultimate activations, PCA, 2-means; separation relative to the other classes)"


@dataclass(frozen=True)
class ClassSplit:
    label: int
    name: str
    size: int
    separation: float
    silhouette: float
    relative_size: float
    ratio: float  # separation over the median separation of the other classes
    poisoned: bool
    suspects: np.ndarray  # rows (0-based, in the sample) of the suspect cluster, when poisoned

    def to_dict(self) -> dict[str, Any]:
        return {
            "class": self.label,
            "name": self.name,
            "size": self.size,
            "poisoned": self.poisoned,
            "suspects": len(self.suspects),
            "separation": round(self.separation, 3),
            "ratio": round(self.ratio, 3),
            "silhouette": round(self.silhouette, 3),
            "relative_size": round(self.relative_size, 3),
        }


@dataclass(frozen=True)
class Clustering:
    classes: tuple[ClassSplit, ...]
    rows: int
    dimensions: int  # width of the model's penultimate activations
    threshold: float

    @property
    def flagged(self) -> np.ndarray:
        parts = [c.suspects for c in self.classes if c.poisoned]
        return np.sort(np.concatenate(parts)) if parts else np.empty(0, dtype=np.int64)

    @property
    def score(self) -> float:
        """The largest separation ratio over the threshold (above 1: a class was flagged)."""
        return max((c.ratio for c in self.classes), default=0.0) / self.threshold

    def section(self) -> dict[str, Any]:
        return {
            "method": METHOD,
            "rows": self.rows,
            "feature_width": self.dimensions,
            "threshold": self.threshold,
            "suspect_classes": [c.label for c in self.classes if c.poisoned],
            "flagged": self.flagged.tolist(),
            "classes": [c.to_dict() for c in self.classes],
        }


def cluster(
    clf: ImageClassifier | TextClassifier,
    sample: Sample,
    *,
    threshold: float,
    blamed: tuple[int, ...] = (),
    blamed_factor: float = 1.0,
    seed: int = 0,
) -> Clustering:
    """Split every class of `sample` in `clf`'s feature space and flag the classes that stand out."""
    activations, predicted = _activations(clf, sample)
    labels = np.where(sample.labels >= 0, sample.labels, predicted).astype(np.int64)
    reduced = features.reduce(activations)
    present = [int(k) for k in np.unique(labels) if int((labels == k).sum()) >= MIN_ROWS]
    centroids = {k: reduced[labels == k].mean(axis=0) for k in present}
    with _one_thread():  # k-means sums in thread-sized chunks: one thread, the same split every time
        splits = {k: _split(reduced[labels == k], seed) for k in present}
    out = []
    for k in present:
        rows, parts = np.flatnonzero(labels == k), splits[k]
        others = [splits[j].separation for j in present if j != k and splits[j].separation > 0]
        ratio = parts.separation / float(np.median(others)) if len(others) >= MIN_COMPARED else 0.0
        poisoned = ratio >= threshold * (blamed_factor if k in blamed else 1.0)
        suspects = (
            rows[parts.labels == _foreign(reduced[rows], parts.labels, centroids, k)]
            if poisoned
            else np.empty(0, dtype=np.int64)
        )
        out.append(
            ClassSplit(
                k,
                clf.labels.get(k, str(k)),
                len(rows),
                parts.separation,
                parts.silhouette,
                parts.relative_size,
                ratio,
                poisoned,
                suspects,
            )
        )
    return Clustering(tuple(out), len(labels), activations.shape[1], threshold)


def _one_thread() -> Any:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn brings it
        from contextlib import nullcontext

        return nullcontext()
    return threadpool_limits(limits=1)


def _split(points: np.ndarray, seed: int) -> ac.TwoClusterSplit:
    parts = ac.split(ac.reduce(points), seed=seed)
    smaller = int(min(np.bincount(parts.labels, minlength=2)))
    if smaller < max(MIN_CLUSTER, MIN_SHARE * len(points)):
        return ac.TwoClusterSplit(parts.labels, parts.relative_size, parts.silhouette, 0.0, parts.projection)
    return parts


def _foreign(points: np.ndarray, split: np.ndarray, centroids: dict[int, np.ndarray], label: int) -> int:
    """The cluster (0 or 1) whose members lie farther from the other classes' centroids."""
    others = (
        np.stack([c for k, c in centroids.items() if k != label])
        if len(centroids) > 1
        else points.mean(axis=0)[None]
    )
    nearest = np.linalg.norm(points[:, None, :] - others[None], axis=2).min(axis=1)
    return int(nearest[split == 1].mean() > nearest[split == 0].mean())


def _activations(clf: ImageClassifier | TextClassifier, sample: Sample) -> tuple[np.ndarray, np.ndarray]:
    parts, predictions = [], []
    with torch.no_grad():
        if isinstance(clf, ImageClassifier) and isinstance(sample, ImageSample):
            for first in range(0, len(sample.images), BATCH):
                x = image_tensor(sample.images[first : first + BATCH], clf)
                parts.append(clf.features(x).cpu().numpy())
                predictions.append(clf(x).argmax(dim=-1).cpu().numpy())
        elif isinstance(clf, TextClassifier) and isinstance(sample, TextSample):
            for first in range(0, len(sample.texts), BATCH):
                ids, mask = clf.encode(list(sample.texts[first : first + BATCH]))
                parts.append(clf.features(ids, mask).cpu().numpy())
                predictions.append(clf.logits(ids, mask).argmax(dim=-1).cpu().numpy())
        else:
            raise TypeError(f"a {type(sample).__name__} does not fit a {type(clf).__name__}")
    return np.concatenate(parts).astype(np.float32), np.concatenate(predictions)
