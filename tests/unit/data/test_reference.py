"""The clean reference of the poisoning check (`--test` with `--model`): conformal p-values of the
training rows against their class's reference rows, and the class route they decide."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from airlock.analysis.neighbours import label_disagreement, nearest_neighbours
from airlock.data import features, poisoning, reference
from airlock.data.loading import Dataset, Kind
from airlock.data.pipeline import KNN_DIMENSIONS, NEIGHBOURS, _as_train_labels, calibration


def _classes(
    rng: np.random.Generator, rows: int, centres: np.ndarray, mode: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Rows of five classes around `centres`; with `mode`, a third of class 2 in a mode of its own
    (a clean class of two kinds of image: the reference has both)."""
    y = np.resize(np.arange(5), rows)
    x = centres[y] + rng.normal(0, 1, (rows, 24))
    if mode:
        x[np.flatnonzero(y == 2)[::3], :3] += 5.0
    return x, y


def _set(seed: int, share: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Train rows with `share` poison in class 2 (other classes' rows moved to a cluster of their own
    beside class 2, labelled 2) and a clean reference of 400 rows from the same classes."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 5, (5, 24))
    x, y = _classes(rng, 1500, centres, mode=True)
    poison = np.sort(rng.choice(np.flatnonzero(y != 2), size=int(share * len(y)), replace=False))
    y[poison] = 2
    x[poison] = centres[2] + rng.normal(0, 0.8, (len(poison), 24))
    x[poison, 3:6] += 6.0
    ref_x, ref_y = _classes(rng, 400, centres, mode=True)
    return x.astype(np.float32), y, poison, ref_x.astype(np.float32), ref_y


def _clean_set(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A clean training set of five classes (class 2 of two kinds) and a clean reference like it."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 5, (5, 24))
    x, y = _classes(rng, 1500, centres, mode=True)
    ref_x, ref_y = _classes(rng, 400, centres, mode=True)
    return x.astype(np.float32), y, ref_x.astype(np.float32), ref_y


def _assess(
    x: np.ndarray,
    y: np.ndarray,
    ref_x: np.ndarray | None,
    ref_y: np.ndarray | None,
    blamed: tuple[int, ...] = (),
):
    reduced, ref = features.reduce_with(x, ref_x)
    neighbours, _ = nearest_neighbours(reduced[:, :KNN_DIMENSIONS], NEIGHBOURS)
    flat = np.full(len(y), 0.3)  # no behavioural difference: the split alone calls nothing compact
    return poisoning.assess(
        reduced,
        y,
        label_disagreement(neighbours, y),
        calibration(),
        persistence=flat,
        blamed=blamed,
        reference=None if ref is None or ref_y is None else reference.Reference(reduced, ref, ref_y),
    )


def test_rows_like_the_reference_get_spread_p_values_and_rows_from_elsewhere_the_smallest() -> None:
    rng = np.random.default_rng(1)
    ref = rng.normal(0, 1, (60, 8))
    alike = rng.normal(0, 1, (600, 8))
    apart = rng.normal(0, 1, (50, 8)) + 6.0
    p, votes, unmatched = reference.pvalues(
        np.concatenate([alike, apart]), np.zeros(650, np.int64), ref, np.zeros(60, np.int64)
    )
    smallest = 1 / 61
    assert np.all(p[600:] == smallest)
    # about uniform (the rows share one reference sample, so their mean moves with it)
    assert 0.3 < p[:600].mean() < 0.7 and np.mean(p[:600] <= 0.1) < 0.25
    assert unmatched[0].reference_rows == 60
    assert abs(unmatched[0].unmatched - np.mean(p <= reference.ALPHA)) < 1e-12
    assert np.sum(p[:600] <= smallest) < 30
    # the rows from elsewhere form a group their neighbours carry; the alike rows flagged by chance
    # are mostly outvoted, so the grouped share is about the group alone
    assert np.all(votes[600:] == 1.0)
    chance = (p[:600] <= reference.ALPHA) & (votes[:600] >= reference.GROUP_AT)
    assert chance.sum() < 0.5 * np.sum(p[:600] <= reference.ALPHA)
    assert unmatched[0].grouped == pytest.approx((50 + chance.sum()) / 650)


def test_a_class_with_too_few_reference_rows_is_not_judged() -> None:
    rng = np.random.default_rng(2)
    few = reference.MIN_REFERENCE - 1  # 8: no row could reach p <= ALPHA = 0.1 (1 / 9 > 0.1)
    p, votes, unmatched = reference.pvalues(
        rng.normal(0, 1, (40, 4)), np.zeros(40, np.int64), rng.normal(0, 1, (few, 4)), np.zeros(few, np.int64)
    )
    assert unmatched == {} and np.all(p == 1.0) and np.all(votes == 0.0)
    assert 1 / (reference.MIN_REFERENCE + 1) <= reference.ALPHA < 1 / reference.MIN_REFERENCE


def test_a_clean_class_share_spreads_as_the_beta_law_says_and_small_references_raise_the_bar() -> None:
    """Rows exchangeable with the reference: over many reference draws, the share at p <= ALPHA has
    the mean and spread of Beta(k, n + 1 - k); the bar grows where that spread does."""
    rng = np.random.default_rng(3)
    for n in (12, 40):
        shares = []
        for _ in range(300):
            _, _, matched = reference.pvalues(
                rng.normal(0, 1, (400, 3)),
                np.zeros(400, np.int64),
                rng.normal(0, 1, (n, 3)),
                np.zeros(n, np.int64),
            )
            shares.append(matched[0].unmatched)
            assert matched[0].grouped <= matched[0].unmatched
        k = int(reference.ALPHA * (n + 1))
        assert abs(np.mean(shares) - k / (n + 1)) < 0.015
        assert abs(np.std(shares) - reference.null_spread(n)) < 0.25 * reference.null_spread(n)
    assert poisoning.reference_bar(40) == poisoning.REFERENCE_AT == poisoning.reference_bar(200)
    assert poisoning.reference_bar(12) > 1.5 * poisoning.REFERENCE_AT
    assert poisoning.reference_bar(12, blamed=True) > poisoning.REFERENCE_BLAMED_AT


def test_the_reference_calls_a_poisoned_class_the_split_does_not_and_flags_its_rows() -> None:
    x, y, poison, ref_x, ref_y = _set(3, 0.12)  # 180 rows, 38% of class 2
    without = _assess(x, y, None, None)
    assert 2 not in without.poisoned_classes
    result = _assess(x, y, ref_x, ref_y)
    assert result.poisoned_classes == [2]
    target = next(c for c in result.classes if c.label == 2)
    assert target.decided_by == poisoning.REFERENCE and target.reference_grouped is not None
    assert target.reference_unmatched is not None and target.reference_unmatched >= target.reference_grouped
    assert target.reference_grouped > poisoning.REFERENCE_AT
    # the report says how far each class was from its bar, and with how many reference rows
    shares = [c.reference_grouped for c in result.classes]
    # (class 2 grew against the split by its 180 relabelled rows, so its bar is the corroborated one)
    for c in result.classes:
        grown = c.label == 2
        assert c.reference_rows == 80
        assert c.reference_bar == (poisoning.REFERENCE_BLAMED_AT if grown else poisoning.REFERENCE_AT)
        assert c.reference_excess == pytest.approx(c.reference_grouped - np.median(shares))
        assert (c.reference_excess >= c.reference_bar) == grown
    row = target.to_dict()
    assert row["reference_rows"] == 80 and row["reference_bar"] == poisoning.REFERENCE_BLAMED_AT
    assert row["reference_grouped"] == round(target.reference_grouped, 3)
    assert row["reference_excess"] == round(target.reference_excess, 3)
    hit = len(np.intersect1d(result.flagged, poison))
    # p <= 0.1 alone would also flag about a tenth of the class's 300 clean rows; the vote outvotes them
    assert hit / len(poison) >= 0.95 and hit / len(result.flagged) >= 0.95
    assert all(result.signals[r] == ("unmatched_by_reference",) for r in result.flagged.tolist())
    assert np.all(result.scores[result.flagged] >= poisoning.FLAG_AT)


def test_the_vote_carries_a_group_the_reference_partly_matches_and_outvotes_a_lone_tail_row() -> None:
    rng = np.random.default_rng(7)
    clean = rng.normal(0, 1, (300, 8))
    group = rng.normal(0, 0.2, (60, 8)) + np.r_[4.0, np.zeros(7)]  # poison: a tight group of its own
    rows = np.vstack([clean, group])
    p = rng.uniform(0, 1, len(rows))  # clean rows: about uniform, a tenth at p <= 0.1 by chance
    p[300:] = 0.01
    p[300:340:4] = 0.15  # the reference matches some of the group: beyond p <= 0.1, not beyond the vote
    p[340:360:4] = 0.6
    share = reference.voted(rows, p)
    assert share.shape == (len(rows),) and np.all((share >= 0) & (share <= 1))
    flagged = share >= poisoning.FLAG_AT
    assert flagged[300:].all()  # every row of the group, the matched ones too
    lone = np.flatnonzero(p[:300] <= reference.ALPHA)
    # chance flags among clean rows are mostly outvoted (4 of 9 neighbours at p <= 0.2: about 9%)
    assert len(lone) >= 20 and flagged[lone].mean() <= 0.25
    assert flagged[:300].mean() < (p[:300] <= reference.ALPHA).mean()


def test_the_boundary_keeps_the_clean_outskirts_beside_a_poison_group_that_the_vote_carries() -> None:
    """A large clean class whose sparse outskirts touch a tight poison group: outskirt rows are at
    small p by chance and vote each other in beside the poison; the boundary fitted between the
    confident poison and the reference rows leaves them out."""
    rng = np.random.default_rng(11)
    clean = rng.normal(0, 1, (600, 8))
    towards = np.r_[1.0, np.zeros(7)]
    group = rng.normal(0, 0.3, (90, 8)) + 3.2 * towards  # poison at the class's edge
    rows = np.vstack([clean, group])
    ref = rng.normal(0, 1, (80, 8))
    p = np.where(np.arange(len(rows)) < 600, rng.uniform(0, 1, len(rows)), 0.01)
    p[:600] = np.where(clean[:, 0] > 1.5, rng.uniform(0, 0.2, 600), p[:600])  # outskirts: unmatched
    vote = reference.voted(rows, p)
    probability = reference.separated(rows, p, vote, ref)
    assert probability is not None and probability.shape == (len(rows),)
    by_vote, by_boundary = vote >= poisoning.FLAG_AT, probability >= poisoning.FLAG_AT
    assert by_boundary[600:].mean() >= 0.95
    assert by_boundary[:600].sum() < by_vote[:600].sum()
    # too few confident rows: nothing to fit
    assert reference.separated(rows, np.ones(len(rows)), vote, ref) is None
    assert reference.separated(rows, p, vote, ref[:0]) is None


def _two_far_kinds(x: np.ndarray, y: np.ndarray, label: int) -> None:
    """Every other row of class `label` moved far off: a clean class of two kinds the split calls."""
    x[np.flatnonzero(y == label)[::2], 10:13] += 15.0


def test_a_class_the_split_calls_beside_the_references_is_overruled_where_the_reference_matches_it() -> None:
    x, y, poison, ref_x, ref_y = _set(3, 0.12)
    _two_far_kinds(x, y, 0)
    _two_far_kinds(ref_x, ref_y, 0)  # the reference has both kinds
    assert 0 in _assess(x, y, None, None).poisoned_classes  # the split alone calls it
    result = _assess(x, y, ref_x, ref_y)
    assert result.poisoned_classes == [2]
    zero = next(c for c in result.classes if c.label == 0)
    assert zero.overruled in poisoning.OVERRULED and zero.decided_by == "" and zero.suspects == 0
    assert zero.reference_excess is not None and zero.reference_excess < poisoning.REFERENCE_BLAMED_AT
    assert zero.to_dict()["overruled"] == zero.overruled
    assert not np.any(y[result.flagged] == 0) and all(y[r] == 2 for r in result.signals)
    assert len(np.intersect1d(result.flagged, poison)) >= 0.95 * len(poison)


def test_a_split_call_whose_rows_the_reference_matches_is_overruled_where_it_called_nothing() -> None:
    x, y, ref_x, ref_y = _clean_set(3)
    _two_far_kinds(x, y, 0)
    assert 0 in _assess(x, y, None, None).poisoned_classes  # the split alone calls it
    # the reference has both kinds
    both_x, both_y = ref_x.copy(), ref_y.copy()
    _two_far_kinds(both_x, both_y, 0)
    result = _assess(x, y, both_x, both_y)
    zero = next(c for c in result.classes if c.label == 0)
    assert result.poisoned_classes == [] and len(result.flagged) == 0 and not result.signals
    assert zero.overruled in (poisoning.FOREIGN, poisoning.COMPACT, poisoning.APART) and zero.suspects == 0
    # half the class's 80 reference rows fall on the split's side, as its own rows do
    assert zero.reference_side_p is not None and zero.reference_side_p > reference.SPLIT_ALPHA
    assert zero.to_dict()["reference_side_p"] == float(f"{zero.reference_side_p:.3g}")
    # a reference without the far kind avoids the split's side, so the call stands
    lacking = _assess(x, y, ref_x, ref_y)
    assert 0 in lacking.poisoned_classes
    standing = next(c for c in lacking.classes if c.label == 0)
    assert standing.overruled == ""
    assert standing.decided_by == poisoning.REFERENCE or (
        standing.reference_side_p is not None and standing.reference_side_p <= reference.SPLIT_ALPHA
    )


def test_a_reference_too_small_to_show_avoidance_overrules_the_split() -> None:
    """The split-side test decides every split call the overrule meets: a reference that could not
    show avoidance even with none of its rows on the side leaves the split without corroboration."""
    x, y, ref_x, ref_y = _clean_set(3)
    for rows, labels in ((x, y), (ref_x, ref_y)):  # a far kind of a tenth of class 0, in both
        rows[np.flatnonzero(labels == 0)[::10], 10:13] += 15.0
    assert 0 in _assess(x, y, None, None).poisoned_classes  # the split alone calls it
    # 10 reference rows a class against a side of a tenth of the class, none of them on it: that
    # would still happen a third of the time
    few = np.sort(
        np.concatenate([np.flatnonzero((ref_y == c) & (ref_x[:, 10] < 7.0))[:10] for c in range(5)])
    )
    result = _assess(x, y, ref_x[few], ref_y[few])
    zero = next(c for c in result.classes if c.label == 0)
    assert zero.reference_rows == 10 and zero.reference_side_p is not None and zero.reference_side_p > 0.2
    assert result.poisoned_classes == [] and zero.overruled in (
        poisoning.FOREIGN,
        poisoning.COMPACT,
        poisoning.APART,
    )


def test_where_reference_rows_fall_against_a_split_tells_a_kind_they_share_from_one_they_lack() -> None:
    rng = np.random.default_rng(5)
    kind = np.r_[6.0, np.zeros(7)]
    clean = rng.normal(0, 1, (400, 8))
    clean[:120] += kind  # a clean class of two kinds, 30% of the second
    taken = np.zeros(400, bool)
    taken[:120] = True
    shared = rng.normal(0, 1, (40, 8))
    shared[:12] += kind  # a reference drawn like the class
    side = reference.split_side(clean, taken, shared)
    assert side.reference_rows == 40 and side.on_side == 12 and abs(side.expected - 0.3) < 0.02
    assert side.p > 0.3
    lacking = reference.split_side(clean, taken, rng.normal(0, 1, (40, 8)))  # none of the second kind
    assert lacking.on_side == 0 and lacking.p < 1e-5 and lacking.p < reference.SPLIT_ALPHA
    # ten reference rows against a side of about 30%: none on it would still happen 3% of the time
    few = reference.split_side(clean, taken, rng.normal(0, 1, (10, 8)))
    assert few.on_side == 0 and few.p == pytest.approx((1 - few.expected) ** 10)
    assert few.p > reference.SPLIT_ALPHA


def test_a_clean_class_of_two_kinds_that_the_reference_also_has_is_not_called() -> None:
    x, y, ref_x, ref_y = _clean_set(4)
    result = _assess(x, y, ref_x, ref_y)
    assert result.poisoned_classes == [] and len(result.flagged) == 0
    assert all(
        c.reference_excess is not None and c.reference_excess < poisoning.REFERENCE_AT for c in result.classes
    )


def test_reference_labels_are_matched_to_the_training_classes_by_name() -> None:
    def dataset(labels: list[int], names: tuple[str, ...]) -> Dataset:
        return Dataset(Path("d"), Kind.IMAGES, len(labels), np.asarray(labels, np.int64), names, ())

    train = dataset([0, 1, 2], ("cat", "dog", "fox"))
    test = dataset([0, 1, 2, 1], ("dog", "eel", "fox"))
    assert _as_train_labels(train, test).tolist() == [1, -1, 2, -1]


def test_a_blamed_class_the_reference_singles_out_is_called_at_the_lower_bar() -> None:
    x, y, poison, ref_x, ref_y = _set(5, 0.035)  # 52 rows: 15% of the class, an excess under REFERENCE_AT
    alone = _assess(x, y, ref_x, ref_y)
    excess = next(c.reference_excess for c in alone.classes if c.label == 2)
    assert excess is not None and poisoning.REFERENCE_BLAMED_AT < excess < poisoning.REFERENCE_AT
    assert 2 not in alone.poisoned_classes
    assert 2 not in _assess(x, y, ref_x, ref_y, blamed=(1,)).poisoned_classes  # blame elsewhere
    blamed = _assess(x, y, ref_x, ref_y, blamed=(2,))
    assert blamed.poisoned_classes == [2]
    assert next(c.decided_by for c in blamed.classes if c.label == 2) == poisoning.REFERENCE
    assert next(c.reference_bar for c in blamed.classes if c.label == 2) == poisoning.REFERENCE_BLAMED_AT
    assert len(np.intersect1d(blamed.flagged, poison)) >= 0.95 * len(poison)


def test_a_blamed_class_the_reference_does_not_single_out_is_not_called_by_it() -> None:
    x, y, ref_x, ref_y = _clean_set(7)
    for label in range(5):
        result = _assess(x, y, ref_x, ref_y, blamed=(label,))
        assert all(c.decided_by != poisoning.REFERENCE for c in result.classes)


def test_the_reference_route_reads_its_own_space_not_the_splits() -> None:
    """The poison stands apart in the reference's space (the model's last stage) and not in the
    space the split reads (a head whose norm hid it): the reference still finds it."""
    x, y, poison, ref_x, ref_y = _set(3, 0.12)
    rng = np.random.default_rng(8)
    centres = rng.normal(0, 5, (5, 24))
    hidden = (centres[y] + rng.normal(0, 1, x.shape)).astype(np.float32)  # no trace of the poison
    head, _ = features.reduce_with(hidden, None)
    stage, ref = features.reduce_with(x, ref_x)
    assert ref is not None
    neighbours, _ = nearest_neighbours(head[:, :KNN_DIMENSIONS], NEIGHBOURS)

    def assess(space: reference.Reference | None) -> poisoning.PoisoningResult:
        return poisoning.assess(
            head,
            y,
            label_disagreement(neighbours, y),
            calibration(),
            persistence=np.full(len(y), 0.3),
            reference=space,
        )

    assert assess(None).poisoned_classes == []
    found = assess(reference.Reference(stage, ref, ref_y))
    assert found.poisoned_classes == [2]
    assert len(np.intersect1d(found.flagged, poison)) >= 0.95 * len(poison)
    # the same reference rows read against the split's space find nothing there
    same_space = features.reduce_with(hidden, ref_x)[1]
    assert same_space is not None
    assert assess(reference.Reference(head, same_space, ref_y)).poisoned_classes == []


def _overlapping(clean_rows: int, poison_rows: int, seed: int) -> tuple[np.ndarray, ...]:
    """A class of clean rows and a poison group that overlaps them, its p-values, votes and reference."""
    rng = np.random.default_rng(seed)
    clean = rng.normal(0, 1, (clean_rows, 6))
    group = rng.normal(0, 0.8, (poison_rows, 6)) + np.r_[2.0, np.zeros(5)]
    rows = np.vstack([clean, group])
    p = np.where(np.arange(len(rows)) < clean_rows, rng.uniform(0, 1, len(rows)), 0.01)
    return rows, p, reference.voted(rows, p), rng.normal(0, 1, (60, 6))


def test_the_boundary_weighs_its_odds_by_the_class_share_of_poison_and_the_missed_cost(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The balanced boundary's odds times π / (1 − π), π the share of rows on the poison's side, times
    MISSED_COST: a class half poison flags more doubtful rows than the balanced boundary at one half,
    a class with little poison fewer."""
    for clean_rows, poison_rows, more in ((250, 250, True), (600, 60, False)):
        rows, p, vote, ref = _overlapping(clean_rows, poison_rows, seed=5)
        weighted = reference.separated(rows, p, vote, ref)
        monkeypatch.setattr(reference, "MISSED_COST", 1.0)
        monkeypatch.setattr(reference, "_prior_shift", lambda share: 0.0)
        balanced = reference.separated(rows, p, vote, ref)
        monkeypatch.undo()
        assert weighted is not None and balanced is not None
        share = float(np.mean(balanced >= 0.5))
        logit = np.log(balanced / (1 - balanced))
        expected = 1 / (1 + np.exp(-(logit + np.log(share / (1 - share)) + np.log(reference.MISSED_COST))))
        assert np.allclose(weighted, expected)
        flagged, at_half = weighted >= poisoning.FLAG_AT, balanced >= poisoning.FLAG_AT
        if more:
            assert flagged.sum() > at_half.sum() and flagged[clean_rows:].mean() > at_half[clean_rows:].mean()
        else:
            assert flagged[:clean_rows].sum() < at_half[:clean_rows].sum()


def _grown_set(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Class 2 grown by 200 relabelled rows of other classes, 70 of them in a cluster of their own and
    130 that sit among class 2's clean rows (poison the reference cannot see): its grouped excess falls
    between the corroborated bar and the reference's own. A clean reference of 400 rows, 80 a class."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 5, (5, 24))
    x, y = _classes(rng, 1500, centres, mode=True)
    poison = rng.choice(np.flatnonzero(y != 2), size=200, replace=False)
    y[poison] = 2
    x[poison] = centres[2] + rng.normal(0, 1, (200, 24))
    x[poison[:70], 3:6] += 6.0
    ref_x, ref_y = _classes(rng, 400, centres, mode=True)
    return x.astype(np.float32), y, np.sort(poison[:70]), ref_x.astype(np.float32), ref_y


def test_the_one_class_grown_against_the_split_is_called_at_the_corroborated_bar() -> None:
    x, y, apart, ref_x, ref_y = _grown_set(0)
    result = _assess(x, y, ref_x, ref_y)
    assert result.poisoned_classes == [2]
    target = next(c for c in result.classes if c.label == 2)
    assert target.decided_by == poisoning.REFERENCE and target.corroborated_by == poisoning.GROWN
    assert target.reference_bar == poisoning.REFERENCE_BLAMED_AT
    assert target.reference_excess is not None
    assert poisoning.REFERENCE_BLAMED_AT <= target.reference_excess < poisoning.REFERENCE_AT
    assert target.to_dict()["corroborated_by"] == poisoning.GROWN
    assert all(c.corroborated_by == "" for c in result.classes if c.label != 2)
    hit = len(np.intersect1d(result.flagged, apart))
    assert hit >= 0.95 * len(apart) and hit >= 0.95 * len(result.flagged)
    # the same set against a split drawn at the training set's shares (class 2 a third of it): the
    # class did not grow, so the reference's own bar holds and nothing is called
    drawn_alike = np.flatnonzero((ref_y == 2) | (np.arange(len(ref_y)) % 2 == 0))
    alike = _assess(x, y, ref_x[drawn_alike], ref_y[drawn_alike])
    kept = next(c for c in alike.classes if c.label == 2)
    assert alike.poisoned_classes == [] and kept.corroborated_by == ""
    assert kept.reference_bar == poisoning.REFERENCE_AT
