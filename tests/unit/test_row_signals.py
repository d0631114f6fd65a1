"""The ceiling study's two measures (bench.row_signals): ROC AUC with ties, and the best F1 cut."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from bench.row_signals import best_f1, in_class_auc


def test_auc_matches_sklearn_with_ties() -> None:
    rng = np.random.default_rng(3)
    values = rng.integers(0, 5, 300).astype(float)  # many ties
    poison = rng.random(300) < 0.3 + 0.1 * values
    assert in_class_auc(values, poison) == pytest.approx(roc_auc_score(poison, values))


def test_auc_is_undefined_without_both_kinds() -> None:
    assert np.isnan(in_class_auc(np.arange(4.0), np.zeros(4, bool)))


def test_best_f1_cuts_between_distinct_values_only() -> None:
    values = np.array([0.9, 0.8, 0.8, 0.1])
    poison = np.array([True, True, False, False])
    # flagging the first row: F1 2/3; both 0.8 rows come together: P 2/3, R 1, F1 0.8
    assert best_f1(values, poison) == pytest.approx((0.8, 2 / 3, 1.0))


def test_best_f1_of_a_perfect_signal() -> None:
    values = np.array([5.0, 4.0, 1.0, 0.0])
    poison = np.array([True, True, False, False])
    assert best_f1(values, poison) == pytest.approx((1.0, 1.0, 1.0))
