"""Feature spaces for the data checks: raw features (pixels, hashed words; table columns are coded
in `airlock.data.tabular`) or a model's penultimate activations, reduced by principal components
to a fixed width.

Memory grows with the feature width: pooled pixels are at most `MAX_SIDE`² × channels wide, the
principal components come from a covariance accumulated chunk by chunk, and the reduced matrix the
checks work on is `REDUCED` columns wide.
"""

from __future__ import annotations

import numpy as np

MAX_SIDE = 16  # images are area-pooled to at most 16×16 per channel for raw features
REDUCED = 64  # width of the feature matrix the checks share
TEXT_HASH_FEATURES = 1 << 14  # hashed word features before the SVD (collisions are harmless here)


def pooled_pixels(images: np.ndarray, max_side: int = MAX_SIDE) -> np.ndarray:
    """Raw image features: float32 N×H×W×C area-pooled to at most max_side² per channel, flattened."""
    return area_resize(images, min(images.shape[1], max_side), min(images.shape[2], max_side)).reshape(
        len(images), -1
    )


def area_resize(images: np.ndarray, height: int, width: int) -> np.ndarray:
    """Average N×H×W×C images over a height×width grid of (nearly) equal boxes; smaller images are
    first enlarged by repetition so every box holds at least one pixel."""
    h, w = images.shape[1:3]
    if h < height or w < width:
        images = np.repeat(np.repeat(images, -(-height // h), axis=1), -(-width // w), axis=2)
        h, w = images.shape[1:3]
    rows = np.linspace(0, h, height + 1).round().astype(int)
    cols = np.linspace(0, w, width + 1).round().astype(int)
    summed = np.add.reduceat(np.add.reduceat(images.astype(np.float32), rows[:-1], axis=1), cols[:-1], axis=2)
    area = np.outer(np.diff(rows), np.diff(cols))[None, :, :, None]
    return summed / area


class StreamingPCA:
    """Principal components from a covariance accumulated chunk by chunk (float64, width²)."""

    def __init__(self) -> None:
        self.count = 0
        self.total: np.ndarray | None = None
        self.outer: np.ndarray | None = None

    def update(self, rows: np.ndarray) -> None:
        x = rows.astype(np.float64)
        if self.total is None:
            self.total, self.outer = np.zeros(x.shape[1]), np.zeros((x.shape[1], x.shape[1]))
        assert self.outer is not None
        self.count += len(x)
        self.total += x.sum(axis=0)
        self.outer += x.T @ x

    def components(self, dims: int = REDUCED) -> tuple[np.ndarray, np.ndarray]:
        """(mean, components d×k) for the top k ≤ dims directions with non-zero variance."""
        assert self.total is not None and self.outer is not None and self.count
        mean = self.total / self.count
        covariance = self.outer / self.count - np.outer(mean, mean)
        values, vectors = np.linalg.eigh(covariance)
        order = np.argsort(values)[::-1]
        keep = [i for i in order[:dims] if values[i] > max(float(values.max()), 1e-12) * 1e-9] or [
            int(order[0])
        ]
        return mean, vectors[:, keep]


def reduce(features: np.ndarray, dims: int = REDUCED, chunk: int = 8192) -> np.ndarray:
    """Features projected on their top principal directions, scaled so the total variance is the width."""
    return reduce_with(features, None, dims, chunk)[0]


def reduce_with(
    features: np.ndarray, other: np.ndarray | None, dims: int = REDUCED, chunk: int = 8192
) -> tuple[np.ndarray, np.ndarray | None]:
    """`reduce(features)`, and `other` (rows of the same features, such as a reference split)
    projected with the directions, centre and scale fitted on `features` alone."""
    pca = StreamingPCA()
    for start in range(0, len(features), chunk):
        pca.update(features[start : start + chunk])
    mean, components = pca.components(dims)

    def project(rows: np.ndarray) -> np.ndarray:
        out = np.empty((len(rows), components.shape[1]), dtype=np.float32)
        for start in range(0, len(rows), chunk):
            out[start : start + chunk] = (rows[start : start + chunk] - mean) @ components
        return out

    reduced = project(features)
    scale = float(np.sqrt((reduced.astype(np.float64) ** 2).sum() / max(reduced.size, 1))) or 1.0
    return reduced / scale, (project(other) / scale if other is not None else None)


def as_numbers(values: np.ndarray) -> np.ndarray | None:
    """The column as float64 (empty cells NaN) when every non-empty cell is a number, else None."""
    out = np.full(len(values), np.nan)
    for i, text in enumerate(values):
        if text == "":
            continue
        try:
            out[i] = float(text)
        except ValueError:
            return None
    if not np.isfinite(out[~np.isnan(out)]).all():
        return None
    return out


def text_matrix(texts: np.ndarray, dims: int = REDUCED) -> np.ndarray:
    """Hashed word unigrams and bigrams (no vocabulary kept), reduced by truncated SVD."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import HashingVectorizer

    hashed = HashingVectorizer(
        n_features=TEXT_HASH_FEATURES, ngram_range=(1, 2), alternate_sign=False
    ).transform(texts)
    keep = max(1, min(dims, hashed.shape[0] - 1, hashed.shape[1] - 1))
    return TruncatedSVD(n_components=keep, random_state=0).fit_transform(hashed).astype(np.float32)
