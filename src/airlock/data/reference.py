"""Training rows that the clean reference of their class has no counterpart for (model features).

With `--model` and a labelled `--test` split, the test rows are a clean reference: the same classes,
drawn from the data the model is meant for. A poisoned class holds rows the reference lacks: other
classes' content carrying a trigger, which the model files under the class but which sits apart
from the class's clean rows. A clean class that splits into two kinds of image has both kinds in
the reference too, which is what the class-level split (`poisoning`) cannot tell.

Per training row of class t, a conformal p-value: the share of t's reference rows whose distance to
their own k-th nearest reference neighbour is at least the row's distance to its k-th nearest
reference row of t (`NEIGHBOURS`), counted as (1 + that many) / (reference rows + 1). A clean row is
exchangeable with the reference rows, so its p-value is about uniform; a row from elsewhere gets
the smallest value, 1 / (reference rows + 1). Per class, the unmatched share is the share of its
rows at p <= ALPHA: the rows the reference would flag.

Clean rows reach p <= ALPHA by chance one at a time, scattered over the class's tail; poison sits in
a tight group whose members nearly all do. So each row also gets a vote (`voted`): the share of it
and its VOTERS - 1 nearest training rows of its class at p <= ROW_ALPHA. The grouped share, the
share of a class's rows at p <= ALPHA whose vote reaches GROUP_AT, is what the class decision reads
(`poisoning`).

Which rows of a called class are flagged (`separated`): its confident poison (rows at p <= ALPHA
whose vote reaches CONFIDENT) against its reference rows, separated by a logistic regression in the
same space; every row of the class is then scored by that boundary, weighed by the class's share of
poison and by what a missed row costs against a false flag (MISSED_COST), and flagged where leaving
it costs more. The vote looks at a row's neighbours only, so at the edge of a poison group it
carries clean rows from the class's sparse outskirts (themselves at small p by chance, and many in a
large class); the boundary weighs where the poison lies against where the clean rows lie. With under
MIN_CONFIDENT confident rows there is nothing to fit and the vote flags the rows (at one half).

How far the unmatched share moves by chance depends on the reference, not only on the rows: all rows
of a class are compared with the same n reference rows, so a clean class's share is spread like
Beta(k, n + 1 - k) with k = floor(ALPHA (n + 1)) (the calibration-conditional law of conformal
p-values, Vovk 2012; Bates et al., Annals of Statistics 2023). `null_spread` is that law's standard
deviation: 0.046 for 40 reference rows, 0.083 for 10. The class decision (`poisoning`) scales its
bars by it, so a class with few reference rows needs a larger excess (the grouped share counts some
of the same rows; its own law is not derived, and the Beta law's growth is kept as the scaling).

The space is the model's last stage before the head normalises it, which is the head input itself
for ResNets and RegNets. For ConvNeXts it is not: in their head input (after a LayerNorm) the
poisoned rows of several sets sat among the clean ones, in the last stage apart from them (a /tmp
study of every set of `bench.data_heldout` up to FRESH_13, 2,364 classes: learned targets called at
`poisoning.REFERENCE_AT` 76% → 82%, ROC AUC of the class excess 0.959 → 0.980, one other class
above the bar either way).

The vote and the grouped share were chosen in a /tmp study of the same sets (seen data, every part
up to FRESH_13), when the vote still flagged a called class's rows. Against flagging each row at
p <= 0.1 on its own, the vote at one half moved the called targets' row precision 0.938 -> 0.935 and recall
0.896 -> 0.939, with no family's precision under 0.92 and every recall as high or higher. The largest
grouped-share excess of a class of a clean set was 0.174 (0.168 on FRESH_14-16; the unmatched share
reached 0.219), so the class bar fell from 0.25 to 0.2 and called 122 of 136 learned targets instead
of 112 (with the vote at GROUP_AT = 0.5 the clean classes reached 0.195, too close to that bar).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from airlock.analysis.neighbours import nearest_neighbours

NEIGHBOURS = 3  # the k of the k-th nearest reference row
ALPHA = 0.1  # a training row at p <= ALPHA is one its class's reference does not match
# reference rows a class needs before it is judged this way: k-th neighbours among a few rows, and a
# p-value that can reach ALPHA (1 / (n + 1) <= ALPHA)
MIN_REFERENCE = max(NEIGHBOURS + 5, math.ceil(1 / ALPHA) - 1)
CHUNK = 4096  # training rows whose distances are held at once
ROW_ALPHA = 0.2  # a row's own flag in its vote (`voted`)
VOTERS = 10  # the row itself and its nearest training rows of its class that vote
GROUP_AT = 0.6  # the vote with which a row at p <= ALPHA counts towards its class's grouped share
CONFIDENT = 0.8  # the vote of a row at p <= ALPHA that `separated` fits as poison
MIN_CONFIDENT = 5  # confident rows needed to fit the boundary
PENALTY = 0.1  # the boundary's inverse L2 penalty (scikit-learn's C), on standardised columns
# What a poisoned row left in the set costs against a clean row dropped from it: the targets ask for
# recall 0.95 and precision 0.90, so a missed row weighs twice a false flag (`separated`).
MISSED_COST = 2.0
# A split's call stands where so few of the class's reference rows fall on its flagged side that
# exchangeable rows would put as few there with at most this probability (`SplitSide`). A model's features
# of the rows it trained on sit tighter than those of rows it never saw, so a clean class's reference
# falls on a region of its training rows less often than exchangeable rows would: a clean class of
# FRESH_39 gave 0.012. The poisoned classes measured gave 1e-8 or less. Too few reference rows, or too
# small a side, cannot reach it even with none on the side: such a split's call is overruled.
SPLIT_ALPHA = 0.001


@dataclass(frozen=True)
class Reference:
    """A clean split and the training set in one feature space (reduced together, fitted on the
    training rows): the model's last stage for images (`ImageClassifier.features_and_stage`)."""

    train: np.ndarray  # the training rows
    rows: np.ndarray  # the clean split's rows
    labels: np.ndarray  # the clean split's labels as training class numbers (-1: a class training lacks)
    # the probability the model keeps for each row's label once low-passed (`low_pass.kept`): the
    # training rows', then the clean split's; None where no model reads the images
    train_kept: np.ndarray | None = None
    rows_kept: np.ndarray | None = None
    # how a network trained on the clean split alone reads each row's label (`clean_reader`): the
    # training rows', then the clean split's (out of fold); made the first time it is called (only a
    # class the reference called needs it), None where the rows are not images
    read: Callable[[], tuple[np.ndarray, np.ndarray]] | None = None


@dataclass(frozen=True)
class ClassMatch:
    unmatched: float  # share of the class's training rows at p <= ALPHA
    grouped: float  # share of them at p <= ALPHA whose vote reaches GROUP_AT
    reference_rows: int  # the class's reference rows


def null_spread(reference_rows: int, alpha: float = ALPHA) -> float:
    """Standard deviation of a clean class's unmatched share with `reference_rows` reference rows:
    that of Beta(k, n + 1 - k), k = floor(alpha (n + 1))."""
    m = reference_rows + 1
    k = math.floor(alpha * m + 1e-9)
    return math.sqrt(k * (m - k) / (m * m * (m + 1))) if 0 < k < m else 0.0


def pvalues(
    train: np.ndarray, labels: np.ndarray, reference: np.ndarray, reference_labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray, dict[int, ClassMatch]]:
    """Per training row its conformal p-value and its vote (`voted`) (1.0 and 0.0 for a class with
    under MIN_REFERENCE reference rows), and per judged class its shares. `train` and `reference`
    are in one feature space."""
    out = np.ones(len(train), dtype=np.float64)
    votes = np.zeros(len(train), dtype=np.float64)
    matches: dict[int, ClassMatch] = {}
    for label in np.unique(labels):
        own = reference[reference_labels == label].astype(np.float64)
        if len(own) < MIN_REFERENCE:
            continue
        among = _distances(own, own)
        np.fill_diagonal(among, np.inf)
        spread = np.sort(_kth(among))
        rows = np.flatnonzero(labels == label)
        for start in range(0, len(rows), CHUNK):
            part = rows[start : start + CHUNK]
            reach = _kth(_distances(train[part].astype(np.float64), own))
            at_least = len(spread) - np.searchsorted(spread, reach, side="left")
            out[part] = (1 + at_least) / (len(own) + 1)
        votes[rows] = voted(train[rows], out[rows])
        unmatched = out[rows] <= ALPHA
        matches[int(label)] = ClassMatch(
            float(np.mean(unmatched)), float(np.mean(unmatched & (votes[rows] >= GROUP_AT))), len(own)
        )
    return out, votes, matches


def label_pvalues(
    train_read: np.ndarray, labels: np.ndarray, reference_read: np.ndarray, reference_labels: np.ndarray
) -> tuple[np.ndarray, dict[int, float]]:
    """Per training row, from the probability some reading gives its label (`train_read`; the clean
    split's rows read alike in `reference_read`), its conformal p-value: the share of its class's
    reference rows given as little of the label or less, counted as (1 + k) / (n + 1) (1.0 in a class
    with under MIN_REFERENCE of them; a reference row read as NaN is left out); and per judged class
    the share of its rows at p <= ALPHA."""
    out = np.ones(len(train_read), dtype=np.float64)
    shares: dict[int, float] = {}
    for label in np.unique(labels):
        own = reference_read[reference_labels == label]
        own = np.sort(own[~np.isnan(own)])
        if len(own) < MIN_REFERENCE:
            continue
        rows = np.flatnonzero(labels == label)
        as_low = np.searchsorted(own, train_read[rows], side="right")
        out[rows] = (1 + as_low) / (len(own) + 1)
        shares[int(label)] = float(np.mean(out[rows] <= ALPHA))
    return out, shares


@dataclass(frozen=True)
class SplitSide:
    """Where a class's reference rows fall against the rows a split flagged in it. A clean split
    takes two kinds of image the reference has as well, so its reference rows fall on the flagged
    side about as often as the class's own training rows do; poison is what the reference lacks, so
    its rows avoid that side."""

    on_side: int  # reference rows whose nearest training row of the class was flagged
    reference_rows: int
    expected: float  # share of the class's training rows whose nearest other training row was flagged

    @property
    def p(self) -> float:
        """The chance that exchangeable rows put this few or fewer on the flagged side (binomial)."""
        from scipy.stats import binom

        return float(binom.cdf(self.on_side, self.reference_rows, self.expected))


def split_side(train: np.ndarray, taken: np.ndarray, reference: np.ndarray) -> SplitSide:
    """For one class (`train`, its rows; `taken`, True where the split flagged a row; `reference`,
    its reference rows, in the same space): where its reference rows fall (`SplitSide`)."""
    own_nearest, _ = nearest_neighbours(train, 1)
    expected = float(np.mean(taken[own_nearest[:, 0]])) if own_nearest.shape[1] else 0.0
    points = reference.astype(np.float64)
    best = np.full(len(points), np.inf)
    nearest = np.zeros(len(points), dtype=np.int64)
    every = np.arange(len(points))
    for start in range(0, len(train), CHUNK):  # the nearest training row of each reference row
        d = _distances(points, train[start : start + CHUNK].astype(np.float64))
        here = d.argmin(axis=1)
        closer = d[every, here] < best
        nearest[closer], best[closer] = start + here[closer], d[every, here][closer]
    return SplitSide(int(taken[nearest].sum()), len(points), expected)


def voted(train: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Per row of one class (`train`, its rows in the reference space, and `p`, their p-values), the
    share of it and its VOTERS - 1 nearest rows of the class at p <= ROW_ALPHA (a called class too
    small for `separated` to fit flags the rows at `poisoning.FLAG_AT` or more)."""
    own = p <= ROW_ALPHA
    neighbours, _ = nearest_neighbours(train, VOTERS - 1)
    return (own.astype(np.float64) + own[neighbours].sum(axis=1)) / (1 + neighbours.shape[1])


def separated(train: np.ndarray, p: np.ndarray, vote: np.ndarray, reference: np.ndarray) -> np.ndarray | None:
    """Per row of one called class (`train`, its rows in the reference space, with their p-values and
    votes), the probability, weighed by MISSED_COST, that it is poison; None with under
    MIN_CONFIDENT confident rows or no reference rows.

    A logistic boundary is fitted between the confident poison and the class's `reference` rows
    (the two weighted equally, columns standardised on the class's rows). Its probability is a
    posterior for a class half poison; it is moved to the class's own share (the share of its rows
    on the poison's side, π: odds times π / (1 − π), the prior shift of Saerens et al., Neural
    Computation 2002) and its odds weighted by MISSED_COST, so that a row is flagged (at one half)
    where leaving it costs more than dropping it. A class that is mostly poison gives its doubtful
    rows to the poison; one where it is a small part keeps them.
    """
    from scipy.special import expit
    from sklearn.linear_model import LogisticRegression

    confident = train[(p <= ALPHA) & (vote >= CONFIDENT)]
    if len(confident) < MIN_CONFIDENT or len(reference) == 0:
        return None
    centre, scale = train.mean(axis=0), train.std(axis=0) + 1e-6
    x = (np.concatenate([confident, reference]) - centre) / scale
    y = np.concatenate([np.ones(len(confident)), np.zeros(len(reference))])
    boundary = LogisticRegression(C=PENALTY, class_weight="balanced", max_iter=3000).fit(x, y)
    balanced = boundary.decision_function((train - centre) / scale)
    share = min(max(float(np.mean(balanced >= 0.0)), 1.0 / len(train)), 1.0 - 1.0 / len(train))
    weighted: np.ndarray = expit(balanced + _prior_shift(share) + math.log(MISSED_COST))
    return weighted


def _prior_shift(share: float) -> float:
    """What moves a posterior fitted on equal classes to a prior of `share`: ln(π / (1 − π))."""
    return math.log(share / (1.0 - share))


def _kth(distances: np.ndarray) -> np.ndarray:
    return np.partition(distances, NEIGHBOURS - 1, axis=1)[:, NEIGHBOURS - 1]


def _distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    squared = (a**2).sum(axis=1)[:, None] + (b**2).sum(axis=1)[None, :] - 2 * a @ b.T
    return np.sqrt(np.maximum(squared, 0.0))
