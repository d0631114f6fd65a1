"""Leaky, identifier and post-outcome columns are found with their evidence; clean columns are not."""

from __future__ import annotations

from airlock.data.leakage import find_leaks
from airlock.data.loading import open_dataset
from fixtures import datasets


def test_planted_leaks(generated) -> None:
    ds = open_dataset(generated(datasets.tabular))
    leaks = {leak.column: leak for leak in find_leaks(ds.columns, ds.labels)}
    assert {c: leak.kind for c, leak in leaks.items()} == {
        "customer_id": "identifier",
        "closure_code": "predictive",
        "closed_at": "post_outcome",
    }
    assert leaks["closure_code"].auc >= 0.98
    assert leaks["closed_at"].evidence["reference_columns"] == ["signup_date"]


def test_clean_table_has_no_leak(generated) -> None:
    ds = open_dataset(generated(datasets.clean_tabular))
    assert find_leaks(ds.columns, ds.labels) == []
