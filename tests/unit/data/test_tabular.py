"""Raw table features: columns coded by kind, identifiers and free text left out; conflicting duplicates."""

from __future__ import annotations

import numpy as np

from airlock.data.poisoning import conflicting_duplicates
from airlock.data.tabular import table_features


def as_text(values: object) -> np.ndarray:
    return np.asarray([str(v) for v in values], dtype=object)  # type: ignore[attr-defined]


def _columns(n: int = 60) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    amount = rng.lognormal(3, 1, n).round(2).astype(object)
    amount[::10] = ""
    return {
        "id": as_text(range(1000, 1000 + n)),
        "amount": as_text(amount),
        "rating": as_text(rng.integers(1, 6, n)),
        "region": as_text(rng.choice(["north", "south", "east"], n)),
        "created": as_text(np.datetime64("2022-01-01") + rng.integers(0, 400, n)),
        "comment": as_text(f"note {i} {rng.integers(0, 10**6)}" for i in range(n)),
        "constant": as_text(["x"] * n),
    }


def test_columns_are_coded_by_kind() -> None:
    raw = table_features(_columns())
    assert raw.used == {
        "amount": "number",
        "rating": "one-hot (5 values)",
        "region": "one-hot (3 values)",
        "created": "date",
    }
    assert set(raw.excluded) == {"id", "comment", "constant"} and raw.excluded["id"].startswith("identifier")
    # amount + its missing indicator, 5 + 3 one-hot columns, created
    assert raw.matrix.shape == (60, 1 + 1 + 5 + 3 + 1)
    assert np.isfinite(raw.matrix).all() and np.abs(raw.matrix).max() <= 5.0
    onehot = raw.matrix[:, 2:7]
    assert (onehot.sum(axis=1) == 1).all()  # a rating code is a category, not a distance


def test_skip_leaves_a_column_out() -> None:
    assert "region" not in table_features(_columns(), skip=("region",)).used


def test_conflicting_duplicates_are_the_minority_label_copies() -> None:
    digests = [b"a", b"a", b"a", b"b", b"c", b"c", b"d", b"d"]
    labels = np.array([0, 0, 1, 1, 2, 2, 0, 1])
    # a: two 0s and a 1 → row 2; c: same label, no conflict; d: a tie → both rows
    assert conflicting_duplicates(digests, labels).tolist() == [2, 6, 7]
