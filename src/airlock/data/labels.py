"""Label consistency (deep k-NN, Peri et al., "Deep k-NN Defense against Clean-label Data Poisoning
Attacks", 2020): samples whose label differs from the plurality label of their nearest neighbours
in feature space. Reported apart from poisoning: mislabelled data is a quality problem first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Inconsistent:
    label: int
    rows: np.ndarray  # sorted row indices labelled `label` whose neighbours mostly carry `neighbour_label`
    neighbour_label: int  # the most common plurality label among them


def inconsistent(neighbours: np.ndarray, labels: np.ndarray, exclude: np.ndarray) -> list[Inconsistent]:
    """Per class, the rows whose neighbours' plurality label is another label (rows in `exclude` skipped)."""
    if neighbours.shape[1] == 0:
        return []
    present, codes = np.unique(labels, return_inverse=True)
    votes = np.zeros((len(labels), len(present)), dtype=np.int32)
    for column in range(neighbours.shape[1]):
        np.add.at(votes, (np.arange(len(labels)), codes[neighbours[:, column]]), 1)
    plurality = present[votes.argmax(axis=1)]
    odd = (plurality != labels) & (votes.max(axis=1) > neighbours.shape[1] // 2)
    odd[exclude] = False
    found: list[Inconsistent] = []
    for label in np.unique(labels[odd]):
        rows = np.flatnonzero(odd & (labels == label))
        found.append(Inconsistent(int(label), rows, int(np.bincount(plurality[rows]).argmax())))
    return found
