"""Thumbnails of flagged image samples, as small PNG data URIs for the HTML report.

Bounded: at most `MAX_THUMBNAILS` rows (the highest-scoring flagged ones), each shrunk to at most
`MAX_SIDE` pixels a side; one extra streaming pass over the set, only when something was flagged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from airlock.behavior.images import png_uri
from airlock.data.loading import Dataset, Kind

MAX_THUMBNAILS = 12
MAX_SIDE = 48


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
