"""Target leakage in tabular data: columns that give the label away.

- predictive: the column alone predicts the label almost perfectly. Each column (numbers binned in
  quantiles, other values as they are) is turned into out-of-fold label frequencies, and their ROC
  AUC against the label is the evidence;
- identifier: a column unique per row (ids, keys): a model can memorise rows through it;
- post-outcome: a timestamp column that is filled almost only for one outcome and, where filled,
  lies after the row's earliest other timestamp: recorded once the outcome was known.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from airlock.data.features import as_numbers

AUC_LEAK = 0.98
AUC_PRESENCE = 0.95
BINS = 20
MIN_ROWS = 20


@dataclass(frozen=True)
class Leak:
    column: str
    kind: str  # "predictive" | "identifier" | "post_outcome"
    auc: float | None
    evidence: dict[str, Any] = field(default_factory=dict)


def find_leaks(columns: dict[str, np.ndarray], labels: np.ndarray) -> list[Leak]:
    rows = len(labels)
    if rows < MIN_ROWS or len(np.unique(labels)) < 2:
        return []
    dates = {name: d for name, values in columns.items() if (d := as_dates(values)) is not None}
    ids = set(identifiers(columns))
    leaks: list[Leak] = [
        Leak(name, "identifier", None, {"distinct": rows, "rows": rows}) for name in columns if name in ids
    ]
    for name, values in columns.items():
        if name in ids:
            continue
        numbers = as_numbers(values)
        auc = _single_feature_auc(_categories(values, numbers), labels)
        if name in dates and (late := _post_outcome(name, dates, labels)) is not None:
            leaks.append(Leak(name, "post_outcome", round(auc, 4), late))
        elif auc >= AUC_LEAK:
            leaks.append(Leak(name, "predictive", round(auc, 4), {"distinct": len(set(values.tolist()))}))
    return leaks


def identifiers(columns: dict[str, np.ndarray]) -> list[str]:
    """Columns unique per row, never empty, and not real-valued measurements."""
    found: list[str] = []
    for name, values in columns.items():
        rows = len(values)
        if rows < MIN_ROWS or not (values != "").all() or len(set(values.tolist())) != rows:
            continue
        numbers = as_numbers(values)
        if numbers is None or np.all(numbers == np.round(numbers)):
            found.append(name)
    return found


def _categories(values: np.ndarray, numbers: np.ndarray | None) -> np.ndarray:
    """Integer codes: quantile bins for numbers (missing = its own bin), the values themselves otherwise."""
    if numbers is not None and len(np.unique(numbers[~np.isnan(numbers)])) > BINS:
        edges = np.unique(np.nanquantile(numbers, np.linspace(0, 1, BINS + 1)[1:-1]))
        codes = np.searchsorted(edges, np.nan_to_num(numbers, nan=np.inf), side="right")
        return np.where(np.isnan(numbers), -1, codes)
    _, codes = np.unique(values.astype(str), return_inverse=True)
    return codes


def _single_feature_auc(codes: np.ndarray, labels: np.ndarray) -> float:
    """ROC AUC (one-vs-rest, macro) of label frequencies per code, each fold scored by the other."""
    from sklearn.metrics import roc_auc_score

    classes = int(labels.max()) + 1
    folds = np.arange(len(labels)) % 2
    prior = np.bincount(labels, minlength=classes) / len(labels)
    probabilities = np.empty((len(labels), classes))
    for fold in (0, 1):
        fit, score = folds != fold, folds == fold
        table: dict[int, np.ndarray] = {}
        for code, label in zip(codes[fit].tolist(), labels[fit].tolist(), strict=True):
            table.setdefault(code, np.zeros(classes))[label] += 1
        probabilities[score] = [
            (table[c] + prior) / (table[c].sum() + 1) if c in table else prior for c in codes[score].tolist()
        ]
    present = np.unique(labels)
    if len(present) == 2:
        return float(roc_auc_score(labels == present[1], probabilities[:, present[1]]))
    probabilities = probabilities[:, present] / probabilities[:, present].sum(axis=1, keepdims=True)
    return float(roc_auc_score(labels, probabilities, multi_class="ovr", labels=present))


def as_dates(values: np.ndarray) -> np.ndarray | None:
    """The column as datetime64[s] (NaT when empty) when ≥ 95% of its filled cells are ISO dates."""
    filled = values[values != ""]
    if len(filled) == 0 or as_numbers(values) is not None:
        return None
    out = np.full(len(values), np.datetime64("NaT"), dtype="datetime64[s]")
    good = 0
    for i, text in enumerate(values.tolist()):
        if text:
            try:
                out[i] = np.datetime64(text.replace("Z", ""), "s")
                good += 1
            except ValueError:
                continue
    return out if good >= 0.95 * len(filled) else None


def _post_outcome(name: str, dates: dict[str, np.ndarray], labels: np.ndarray) -> dict[str, Any] | None:
    from sklearn.metrics import roc_auc_score

    column = dates[name]
    present = ~np.isnat(column)
    if present.all() or not present.any() or len(np.unique(labels)) != 2:
        return None
    presence_auc = float(roc_auc_score(labels == labels.max(), present))
    presence_auc = max(presence_auc, 1 - presence_auc)
    others = [d for other, d in dates.items() if other != name and not np.isnat(d[present]).all()]
    if presence_auc < AUC_PRESENCE or not others:
        return None
    earliest = np.min(
        np.stack([np.where(np.isnat(d), np.datetime64("9999-12-31"), d) for d in others]), axis=0
    )
    after = float((column[present] > earliest[present]).mean())
    if after < 0.99:
        return None
    reference = [o for o, d in dates.items() if o != name and not np.isnat(d[present]).all()]
    return {
        "presence_auc": round(presence_auc, 4),
        "after_reference": round(after, 4),
        "reference_columns": reference,
    }
