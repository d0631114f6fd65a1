"""Raw features of a table: every usable column on one footing, for the neighbour and cluster checks.

- numbers with many distinct values are standardised robustly (median and interquartile range,
  clipped at ±`CLIP`), so a heavy tail does not become a cluster of its own;
- columns with few distinct values (flags, ratings, codes, string categories) are one-hot coded,
  so a category code is not read as a distance;
- ISO dates become standardised day numbers;
- identifiers (unique per row) and high-cardinality strings (free text, keys) are left out: they
  carry no neighbourhood, and their spelling would make one up;
- a column with missing cells adds a missing indicator (missing numbers sit at the median).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from airlock.data.features import as_numbers
from airlock.data.leakage import as_dates, identifiers

MAX_LEVELS = 12  # at most this many distinct values: one-hot
CLIP = 5.0


@dataclass(frozen=True)
class TableFeatures:
    matrix: np.ndarray  # float32 rows × features
    used: dict[str, str] = field(default_factory=dict)  # column → how it was coded
    excluded: dict[str, str] = field(default_factory=dict)  # column → why it was left out


def table_features(columns: dict[str, np.ndarray], skip: tuple[str, ...] = ()) -> TableFeatures:
    """The raw feature matrix of `columns` (object arrays of str, "" for missing), without `skip`."""
    ids = set(identifiers(columns))
    parts: list[np.ndarray] = []
    used: dict[str, str] = {}
    excluded: dict[str, str] = {}
    for name, values in columns.items():
        if name in skip:
            continue
        if name in ids:
            excluded[name] = "identifier (unique per row)"
            continue
        missing = values == ""
        filled = values[~missing]
        if len(filled) == 0:
            excluded[name] = "empty"
            continue
        levels = np.unique(filled)
        if len(levels) < 2:
            excluded[name] = "constant"
            continue
        numbers = as_numbers(values)
        if len(levels) <= MAX_LEVELS:
            parts.append((values[:, None] == levels[None, :]).astype(np.float32))
            used[name] = f"one-hot ({len(levels)} values)"
        elif numbers is not None:
            parts.append(_robust(numbers)[:, None])
            used[name] = "number"
        elif (dates := as_dates(values)) is not None:
            days = dates.astype("datetime64[D]").astype(np.float64)
            days[np.isnat(dates)] = np.nan
            parts.append(_robust(days)[:, None])
            used[name] = "date"
        else:
            excluded[name] = f"text or key ({len(levels)} distinct values)"
            continue
        if missing.any():
            parts.append(missing.astype(np.float32)[:, None])
    rows = len(next(iter(columns.values()))) if columns else 0
    matrix = np.concatenate(parts, axis=1).astype(np.float32) if parts else np.empty((rows, 0), np.float32)
    return TableFeatures(matrix, used, excluded)


def _robust(x: np.ndarray) -> np.ndarray:
    """(x - median) / IQR (the standard deviation when the IQR is 0), clipped; missing at 0."""
    median = float(np.nanmedian(x))
    q1, q3 = np.nanquantile(x, [0.25, 0.75])
    scale = float(q3 - q1) / 1.349 or float(np.nanstd(x)) or 1.0
    return np.clip(np.nan_to_num((x - median) / scale, nan=0.0), -CLIP, CLIP).astype(np.float32)
