"""Personal data is found with validity checks, counted per column, and never echoed in full."""

from __future__ import annotations

import numpy as np
import pytest

from airlock.data.loading import open_dataset
from airlock.data.privacy import k_anonymity, screen
from fixtures import datasets


def _kinds(*cells: str) -> dict[str, int]:
    return {e.kind: e.count for e in screen({"c": np.array(cells, dtype=object)})}


@pytest.mark.parametrize(
    "cell, kind",
    [
        ("write to jane.doe@example.org today", "email"),
        ("card 4111 1111 1111 1111", "card"),
        ("card 5500-0000-0000-0004", "card"),
        ("iban GB82 WEST 1234 5698 7654 32", "iban"),
        ("DE89370400440532013000", "iban"),
        ("ssn 123-45-6789", "ssn"),
        ("call (415) 555-0100", "phone"),
        ("call +44 20 7946 0958", None),  # not a format we claim
        ("host 10.0.0.255", "ipv4"),
        ("host 2001:db8::8a2e:370:7334", "ipv6"),
    ],
)
def test_each_kind(cell: str, kind: str | None) -> None:
    assert _kinds(cell) == ({kind: 1} if kind else {})


@pytest.mark.parametrize(
    "cell",
    [
        "4111 1111 1111 1112",  # Luhn fails
        "GB82 WEST 1234 5698 7654 33",  # mod-97 fails
        "000-12-3456",  # no SSN starts with 000
        "999.1.1.1",  # not an address
        "version 1.2.3.4.5",
        "ratio 12:30:45",
    ],
)
def test_lookalikes_are_not_reported(cell: str) -> None:
    assert _kinds(cell) == {}


def test_values_are_masked(generated) -> None:
    ds = open_dataset(generated(datasets.text))
    found = {e.kind: e for e in screen(ds.columns)}
    assert set(found) == {"email", "card", "iban", "ssn", "ipv4"}
    shown = " ".join(x for e in found.values() for x in e.examples)
    for secret in (
        "jane.doe@example.org",
        "4111 1111 1111 1111",
        "123-45-6789",
        "GB82 WEST 1234 5698 7654 32",
        "192.168.10.24",
    ):
        assert secret not in shown
    assert found["card"].examples == ("**** **** **** 1111",)
    assert found["ssn"].examples == ("***-**-6789",)


def test_k_anonymity(generated) -> None:
    ds = open_dataset(generated(datasets.tabular))
    result = k_anonymity(ds.columns, ["age", "zip", "sex"], 5)
    assert result.smallest_group == 1 and result.rows_below_k > 0 and result.groups_below_k > 0
    coarse = k_anonymity(ds.columns, ["sex"], 5)
    assert coarse.rows_below_k == 0 and coarse.groups == 2
