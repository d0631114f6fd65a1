"""What the HTML report draws of a data scan: thumbnails of flagged images and per-class score histograms.

Bounded: at most `MAX_THUMBNAILS` rows (the highest-scoring flagged ones), each shrunk to at most
`MAX_SIDE` pixels a side, read in one extra streaming pass only when something was flagged; at most
`MAX_HISTOGRAMS` classes of `BINS` counts each.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from airlock.behavior.images import png_uri
from airlock.data.loading import Dataset, Kind

MAX_THUMBNAILS = 12
MAX_SIDE = 48
MAX_HISTOGRAMS = 40
BINS = 20


def score_histograms(
    labels: np.ndarray | None, scores: Sequence[float], first: Sequence[int] = ()
) -> list[dict[str, Any]]:
    """`[{class, counts}]`: how each class's poisoning scores spread over [0, 1] in BINS bins.

    Classes in `first` (the suspect ones) come first; the others follow by class index, up to MAX_HISTOGRAMS.
    """
    if labels is None or len(scores) != len(labels) or not len(scores):
        return []
    values = np.clip(np.asarray(scores, dtype=np.float64), 0.0, 1.0)
    classes = [int(c) for c in np.unique(labels)]
    ordered = [c for c in first if c in classes] + [c for c in classes if c not in first]
    out: list[dict[str, Any]] = []
    for cls in ordered[:MAX_HISTOGRAMS]:
        counts, _ = np.histogram(values[labels == cls], bins=BINS, range=(0.0, 1.0))
        out.append({"class": cls, "counts": counts.tolist()})
    return out


def thumbnails(dataset: Dataset, flagged: Sequence[int], scores: Sequence[float]) -> list[dict[str, Any]]:
    """`[{row, label, score, image}]` for up to MAX_THUMBNAILS flagged rows, most suspect first."""
    if dataset.kind is not Kind.IMAGES or not flagged:
        return []
    ranked = sorted(flagged, key=lambda i: (-(scores[i] if i < len(scores) else 0.0), i))
    chosen = sorted(ranked[:MAX_THUMBNAILS])
    wanted = set(chosen)
    images: dict[int, np.ndarray] = {}
    for chunk in dataset.chunks():
        for offset in range(len(chunk.x)):
            row = chunk.start + offset
            if row in wanted:
                images[row] = _small(chunk.x[offset])
        if len(images) == len(wanted):
            break
    labels = dataset.labels
    names = dataset.label_names
    out: list[dict[str, Any]] = []
    for row in ranked[:MAX_THUMBNAILS]:
        if row not in images:
            continue
        label = int(labels[row]) if labels is not None else None
        out.append(
            {
                "row": int(row),
                "label": label,
                "label_name": names[label] if label is not None and 0 <= label < len(names) else None,
                "score": round(float(scores[row]), 4) if row < len(scores) else None,
                "image": images[row],
            }
        )
    return out


def _small(image: np.ndarray) -> str:
    """A float H×W×C image in [0, 1], shrunk by striding and enlarged to about MAX_SIDE pixels."""
    step = max(1, -(-max(image.shape[:2]) // MAX_SIDE))
    shrunk = image[::step, ::step]
    scale = max(1, MAX_SIDE // max(shrunk.shape[:2]))
    return png_uri(shrunk, scale)
