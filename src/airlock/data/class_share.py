"""How much more of the training set a class holds than of the clean `--test` split.

Dirty-label poison (every family but clean-label) takes images of other classes, stamps its trigger
on them and relabels them to its target, so the target grows in the training set while a clean split
drawn alike keeps its share. Per class, z is the training share less the `--test` share over their
pooled binomial standard error (a two-proportion z).

Measured from the labels alone on every set of `bench.data_heldout` up to FRESH_34 (a /tmp study,
bench/HISTORY.md "Blaming at the verdict's bar"): the largest z of the 230 clean sets, those on
classes of unequal size included, is 2.89; of the 307 dirty-label targets 202 reach `SHARE_Z_AT`
(4), most of those at 8% poison or more; no other class of a poisoned set reaches 2.7. It tells
which class grew, not which rows, and it assumes the split was drawn as the training set was (a
random or stratified split): a balanced test split of a long-tailed training set makes its head
classes stand out just as well. So it never calls a class alone. It is reported (AIR804, info) for a
class the poisoning check did not call; and where one class alone grew (`grown_alone`: one attack
targets one class, while a split drawn otherwise makes several stand out), that class, if the clean
reference singles it out most, is called at the reference's corroborated bar
(`poisoning.REFERENCE_BLAMED_AT`, as for a class a behavioural scan blamed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

SHARE_Z_AT = 4.0


@dataclass(frozen=True)
class ClassShare:
    label: int
    train_rows: int
    test_rows: int
    train_share: float
    test_share: float
    z: float  # (train_share - test_share) / pooled standard error

    def to_dict(self) -> dict[str, float | int]:
        return {
            "train_share": round(self.train_share, 4),
            "test_share": round(self.test_share, 4),
            "share_z": round(self.z, 2),
        }


def class_shares(train_labels: np.ndarray, test_labels: np.ndarray) -> dict[int, ClassShare]:
    """Each training class's share of the training set and of the test split, and their z. Test
    labels outside the training classes (-1: a class the training set does not have) are left out."""
    classes, in_train = np.unique(train_labels, return_counts=True)
    known = test_labels[np.isin(test_labels, classes)]
    n, m = len(train_labels), len(known)
    if n == 0 or m == 0:
        return {}
    in_test = np.bincount(np.searchsorted(classes, known), minlength=len(classes))
    out: dict[int, ClassShare] = {}
    for i, c in enumerate(classes.tolist()):
        a, b = int(in_train[i]), int(in_test[i])
        pooled = (a + b) / (n + m)
        error = math.sqrt(pooled * (1 - pooled) * (1 / n + 1 / m))
        out[c] = ClassShare(c, a, b, a / n, b / m, (a / n - b / m) / error if error > 0 else 0.0)
    return out


def grown_alone(shares: dict[int, ClassShare]) -> int | None:
    """The one class at SHARE_Z_AT or more; None when no class or several are."""
    grown = [c for c, share in shares.items() if share.z >= SHARE_Z_AT]
    return grown[0] if len(grown) == 1 else None
