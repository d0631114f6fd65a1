"""k nearest neighbours by blocked matrix products, in memory that does not grow with n².

Queries go in blocks of `block` rows against the reference rows (one GEMM and one top-k per block;
torch does both, on however many threads it was given). With more than `max_references` rows, the
references are a fixed random sample of that size: every row still gets k neighbours, drawn from a
sample of the same distribution, and the cost grows linearly with the number of rows.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

ProgressCallback = Callable[[int], None]
MAX_REFERENCES = 12_000


def nearest_neighbours(
    points: np.ndarray,
    k: int,
    *,
    block: int = 2048,
    max_references: int = MAX_REFERENCES,
    seed: int = 0,
    progress: ProgressCallback | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (n×k, nearest first, never the row itself) and squared Euclidean distances."""
    import torch

    z = torch.from_numpy(np.ascontiguousarray(points, dtype=np.float32))
    n = len(z)
    if n > max_references:
        references = np.sort(np.random.default_rng(seed).choice(n, max_references, replace=False))
    else:
        references = np.arange(n)
    k = min(k, len(references) - 1)
    if k < 1:
        return np.empty((n, 0), dtype=np.int64), np.empty((n, 0), dtype=np.float32)
    ref = z[torch.from_numpy(references)]
    ref_squared = (ref * ref).sum(dim=1)
    position = np.full(n, -1, dtype=np.int64)  # where a row sits among the references (−1: not one)
    position[references] = np.arange(len(references))
    indices = np.empty((n, k), dtype=np.int64)
    distances = np.empty((n, k), dtype=np.float32)
    for start in range(0, n, block):
        stop = min(start + block, n)
        query = z[start:stop]
        d = torch.addmm(ref_squared[None, :], query, ref.T, alpha=-2.0) + (query * query).sum(
            dim=1, keepdim=True
        )
        own = torch.from_numpy(position[start:stop])
        mine = own >= 0
        d[torch.nonzero(mine).ravel(), own[mine]] = float("inf")  # never your own neighbour
        values, found = torch.topk(d, k, dim=1, largest=False)
        indices[start:stop] = references[found.numpy()]
        distances[start:stop] = values.clamp_min(0).numpy()
        if progress is not None:
            progress(stop - start)
    return indices, distances


def label_disagreement(neighbours: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """For each row, the share of its neighbours whose label differs from its own (deep k-NN)."""
    if neighbours.shape[1] == 0:
        return np.zeros(len(labels), dtype=np.float64)
    return (labels[neighbours] != labels[:, None]).mean(axis=1)
