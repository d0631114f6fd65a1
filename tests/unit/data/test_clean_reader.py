"""The clean-split reader: networks trained on `--test` alone, and the rows of a called class they flag."""

from __future__ import annotations

import numpy as np
import pytest

from airlock.data import clean_reader, poisoning, reference
from tests.unit.data.conftest import assess_against_reference, gaussian_classes


def _images(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """16×16 grey images: class c is a bright horizontal band at rows 4c…4c+3, on noise."""
    x = rng.uniform(0.0, 0.3, (len(labels), 16, 16, 1)).astype(np.float32)
    for i, c in enumerate(labels):
        x[i, 4 * c : 4 * c + 4] += 0.6
    return np.clip(x, 0.0, 1.0)


def test_folds_alternate_rows_within_each_class() -> None:
    labels = np.array([0, 1, 0, 0, 1, -1, 1, 0])
    assert clean_reader.folds(labels).tolist() == [0, 0, 1, 0, 1, -1, 0, 1]


def test_each_reference_row_is_read_by_the_network_that_never_trained_on_it() -> None:
    rng = np.random.default_rng(2)
    ref_y = np.resize(np.arange(2), 40)
    ref_y[5] = -1  # a class training lacks: not read
    ref_x = _images(np.maximum(ref_y, 0), rng)
    readers = clean_reader.Readers(ref_x, ref_y, 2, seed=0)
    read = readers.read_reference(ref_x, ref_y)
    fold = clean_reader.folds(ref_y)
    assert np.isnan(read[5]) and np.all((read[fold >= 0] >= 0) & (read[fold >= 0] <= 1))
    for k, network in enumerate(readers.halves):
        unseen = fold == 1 - k
        assert np.array_equal(read[unseen], clean_reader._read(network, ref_x[unseen], ref_y[unseen]))


def test_large_images_are_read_at_read_side() -> None:
    big = np.zeros((2, 96, 64, 3), np.float32)
    assert clean_reader.scaled(big).shape == (2, 32, 21, 3)
    small = np.zeros((2, 16, 16, 1), np.float32)
    assert clean_reader.scaled(small).shape == (2, 16, 16, 1)


def test_relabelled_rows_are_read_as_another_class_and_clean_rows_are_not() -> None:
    rng = np.random.default_rng(0)
    ref_y = np.resize(np.arange(4), 160)
    ref_x = _images(ref_y, rng)
    clean_y = np.resize(np.arange(4), 400)
    relabelled_from = np.resize([0, 2, 3], 60)  # other classes' images filed under class 1
    x = np.concatenate([_images(clean_y, rng), _images(relabelled_from, rng)])
    y = np.concatenate([clean_y, np.ones(60, np.int64)])
    readers = clean_reader.Readers(ref_x, ref_y, 4, seed=0)
    rows_read = readers.read_reference(ref_x, ref_y)
    train_read = readers.read_training([(0, x[:250]), (250, x[250:])], y)
    p, _ = reference.label_pvalues(train_read, y, rows_read, ref_y)
    # what `poisoning` flags in a called class: under its reference rows, and read as another class
    read_away = (p <= poisoning.READ_ALPHA) & (train_read < poisoning.LOW_CONFIDENCE)
    assert np.mean(read_away[400:]) >= 0.9
    assert np.mean(read_away[:400]) <= 0.05


def test_the_same_seed_reads_the_same(monkeypatch) -> None:
    monkeypatch.setattr(clean_reader, "STEPS", 40)  # the schedule's length does not matter here
    rng = np.random.default_rng(1)
    ref_y = np.resize(np.arange(3), 60)
    ref_x = _images(ref_y, rng)

    def read(seed: int) -> np.ndarray:
        readers = clean_reader.Readers(ref_x, ref_y, 3, seed=seed)
        return np.concatenate(
            [readers.read_reference(ref_x, ref_y), readers.read_training([(0, ref_x)], ref_y)]
        )

    first, again, other = read(4), read(4), read(5)
    assert np.array_equal(first, again, equal_nan=True) and not np.array_equal(first, other, equal_nan=True)


def _called_set(seed: int, *, poisoned: bool):
    """Five Gaussian classes of 300 training and 60 reference rows, every row read at 0.5-1 by the
    clean-split network; with `poisoned`, 120 rows of class 3 sit off its core (the last-stage
    reference calls it) and 40 more of its rows sit on the core but are read as another class."""
    rng = np.random.default_rng(seed)
    centres, x, y, ref_x, ref_y = gaussian_classes(rng)
    train_read, rows_read = rng.uniform(0.5, 1.0, 1500), rng.uniform(0.5, 1.0, 300)
    apart, read_away = np.empty(0, np.int64), np.empty(0, np.int64)
    if poisoned:
        own = np.flatnonzero(y == 3)
        apart, read_away = own[:120], own[120:160]
        direction = rng.normal(0, 1, 16)
        x[apart] = (
            centres[3] + 8.0 * direction / np.linalg.norm(direction) + rng.normal(0, 1, (120, 16))
        ).astype(np.float32)
        train_read[read_away] = rng.uniform(0.0, 0.05, 40)
    return x, y, ref_x, ref_y, (train_read, rows_read), apart, read_away


def _assess(x, y, ref_x, ref_y, read):
    return assess_against_reference(x, y, ref_x, ref_y, read=read)


def _counted(reading: tuple[np.ndarray, np.ndarray]):
    """A `Reference.read` that hands over `reading`, and the list its calls are counted in."""
    calls: list[int] = []

    def read() -> tuple[np.ndarray, np.ndarray]:
        calls.append(1)
        return reading

    return read, calls


def test_a_called_class_also_loses_the_rows_the_clean_network_reads_as_another_class() -> None:
    x, y, ref_x, ref_y, reading, apart, read_away = _called_set(3, poisoned=True)
    read, calls = _counted(reading)
    result = _assess(x, y, ref_x, ref_y, read)
    assert result.poisoned_classes == [3] and calls == [1]
    assert set(read_away.tolist()) <= set(result.flagged.tolist())
    assert all("read_as_another_class_by_clean_network" in result.signals[r] for r in read_away.tolist())
    assert np.mean(np.isin(apart, result.flagged)) >= 0.9
    named = [set(result.signals[r]) for r in result.flagged.tolist()]
    assert all(n and n <= set(poisoning.REFERENCE_SIGNALS) for n in named)
    # without the reading, the boundary alone leaves the rows the reference matches
    alone = _assess(x, y, ref_x, ref_y, None)
    assert alone.poisoned_classes == [3]
    assert np.mean(np.isin(read_away, alone.flagged)) <= 0.2


def test_a_set_whose_reference_calls_nothing_is_read_and_without_a_class_read_away_passes() -> None:
    x, y, ref_x, ref_y, reading, _, _ = _called_set(4, poisoned=False)
    read, calls = _counted(reading)
    result = _assess(x, y, ref_x, ref_y, read)
    assert result.poisoned_classes == [] and len(result.flagged) == 0
    assert calls == [1]  # read once, for the network's own call
    assert all(c.read_away_excess is not None and c.read_away_excess < 0.05 for c in result.classes)


def _read_away_set(seed: int, *, apart: int, read_away: int):
    """Five Gaussian classes whose class 3 has `apart` rows off its core (the reference leans to it,
    short of its lowered bar) and `read_away` rows (those first) read as another class by the
    clean-split network; every other row is read at 0.5-1."""
    rng = np.random.default_rng(seed)
    centres, x, y, ref_x, ref_y = gaussian_classes(rng)
    own = np.flatnonzero(y == 3)
    direction = rng.normal(0, 1, 16)
    x[own[:apart]] = (
        centres[3] + 5.0 * direction / np.linalg.norm(direction) + rng.normal(0, 1, (apart, 16))
    ).astype(np.float32)
    train_read, rows_read = rng.uniform(0.5, 1.0, 1500), rng.uniform(0.5, 1.0, 300)
    train_read[own[:read_away]] = rng.uniform(0.0, 0.05, read_away)
    return x, y, ref_x, ref_y, (train_read, rows_read), own[:read_away]


def test_the_class_the_clean_network_reads_away_is_called_alone_where_the_reference_leans_to_it() -> None:
    x, y, ref_x, ref_y, reading, read_away = _read_away_set(6, apart=20, read_away=80)
    result = _assess(x, y, ref_x, ref_y, lambda: reading)
    assert result.poisoned_classes == [3]
    target = next(c for c in result.classes if c.label == 3)
    assert target.decided_by == poisoning.READ_AWAY and target.corroborated_by == ""
    assert 0.0 < target.reference_excess < poisoning.reference_bar(60, blamed=True)
    assert target.read_away_excess is not None and target.read_away_excess >= poisoning.reference_bar(60)
    assert result.flagged.tolist() == sorted(read_away.tolist()) and target.suspects == len(read_away)
    assert {result.signals[r] for r in read_away.tolist()} == {("read_as_another_class_by_clean_network",)}
    assert np.all(result.scores[read_away] >= poisoning.FLAG_AT)
    # without the reading, nothing speaks for the class
    assert _assess(x, y, ref_x, ref_y, None).poisoned_classes == []


def test_the_network_alone_calls_nothing_where_the_reference_does_not_lean_to_the_class() -> None:
    x, y, ref_x, ref_y, reading, _ = _read_away_set(6, apart=0, read_away=80)
    result = _assess(x, y, ref_x, ref_y, lambda: reading)
    assert result.poisoned_classes == [] and len(result.flagged) == 0
    target = next(c for c in result.classes if c.label == 3)
    assert target.reference_excess <= 0.0
    assert target.read_away_excess is not None and target.read_away_excess >= poisoning.reference_bar(60)


def test_the_network_alone_calls_nothing_short_of_the_reference_bar() -> None:
    x, y, ref_x, ref_y, reading, _ = _read_away_set(6, apart=20, read_away=50)
    result = _assess(x, y, ref_x, ref_y, lambda: reading)
    assert result.poisoned_classes == []
    target = next(c for c in result.classes if c.label == 3)
    assert target.reference_excess > 0.0
    assert target.read_away_excess is not None
    assert poisoning.reference_bar(60, blamed=True) <= target.read_away_excess < poisoning.reference_bar(60)


def _relabelled_set(seed: int, *, poison_read_away: bool):
    """`_called_set` with 20 more of class 3's rows moved in among its 120 rows apart: clean rows the
    boundary takes with the poison, which the clean-split network reads firmly as their label. The
    120 rows are read as another class (relabelled poison) or, without `poison_read_away`, as their
    label (clean-label poison)."""
    x, y, ref_x, ref_y, (train_read, rows_read), apart, _ = _called_set(seed, poisoned=True)
    rng = np.random.default_rng(seed + 100)
    own = np.flatnonzero(y == 3)
    strays = own[200:220]
    x[strays] = x[apart[:20]] + rng.normal(0, 0.3, (20, x.shape[1])).astype(np.float32)
    train_read = train_read.copy()
    train_read[own[120:160]] = rng.uniform(0.5, 1.0, 40)  # no rows read away but the poison's
    train_read[apart] = rng.uniform(0.0, 0.05, 120) if poison_read_away else rng.uniform(0.9, 1.0, 120)
    train_read[strays] = rng.uniform(0.9, 1.0, 20)
    return x, y, ref_x, ref_y, (train_read, rows_read), apart, strays


def test_a_relabelled_class_clears_the_rows_the_clean_network_reads_firmly_as_their_label() -> None:
    x, y, ref_x, ref_y, reading, apart, strays = _relabelled_set(5, poison_read_away=True)
    result = _assess(x, y, ref_x, ref_y, lambda: reading)
    alone = _assess(x, y, ref_x, ref_y, None)
    assert result.poisoned_classes == alone.poisoned_classes == [3]
    assert np.mean(np.isin(strays, alone.flagged)) >= 0.8  # the boundary takes them with the poison
    assert not np.isin(strays, result.flagged).any()
    assert np.all(result.scores[strays] <= poisoning.CLEARED_SCORE)
    assert np.mean(np.isin(apart, result.flagged)) >= 0.95
    target = next(c for c in result.classes if c.label == 3)
    assert target.relabelled_share is not None and target.relabelled_share >= poisoning.RELABELLED_AT
    assert target.cleared >= 16 and target.to_dict()["cleared"] == target.cleared


def test_a_clean_label_class_keeps_every_row_its_boundary_flags() -> None:
    x, y, ref_x, ref_y, reading, _, strays = _relabelled_set(5, poison_read_away=False)
    result = _assess(x, y, ref_x, ref_y, lambda: reading)
    alone = _assess(x, y, ref_x, ref_y, None)
    assert np.array_equal(result.flagged, alone.flagged)
    assert np.mean(np.isin(strays, result.flagged)) >= 0.8
    target = next(c for c in result.classes if c.label == 3)
    assert target.relabelled_share is not None and target.relabelled_share < poisoning.RELABELLED_AT
    assert target.cleared == 0


def _standout_set(seed: int, *, read_class: int | None):
    """Five Gaussian classes whose class 3 has 60 rows off its core: the reference's standout, short of
    its own bar; with `read_class`, 60 rows of that class are read as another class by the clean-split
    network (every other row at 0.5-1)."""
    rng = np.random.default_rng(seed)
    centres, x, y, ref_x, ref_y = gaussian_classes(rng)
    apart = np.flatnonzero(y == 3)[:60]
    direction = rng.normal(0, 1, 16)
    x[apart] = (centres[3] + 5.0 * direction / np.linalg.norm(direction) + rng.normal(0, 1, (60, 16))).astype(
        np.float32
    )
    train_read, rows_read = rng.uniform(0.5, 1.0, 1500), rng.uniform(0.5, 1.0, 300)
    if read_class is not None:
        train_read[np.flatnonzero(y == read_class)[:60]] = rng.uniform(0.0, 0.05, 60)
    return x, y, ref_x, ref_y, (train_read, rows_read), apart


def test_the_clean_network_singling_out_the_standout_calls_it_at_the_lowered_bar() -> None:
    x, y, ref_x, ref_y, reading, apart = _standout_set(1, read_class=3)
    read, calls = _counted(reading)
    result = _assess(x, y, ref_x, ref_y, read)
    assert result.poisoned_classes == [3] and calls == [1]
    target = next(c for c in result.classes if c.label == 3)
    lowered = poisoning.reference_bar(60, blamed=True)
    assert lowered <= target.reference_excess < poisoning.reference_bar(60)
    assert target.corroborated_by == poisoning.READ_AGREES and target.reference_bar == lowered
    assert target.read_away_excess is not None and target.read_away_excess >= lowered
    assert target.to_dict()["read_away_excess"] == round(target.read_away_excess, 3)
    assert all(c.read_away_excess is not None for c in result.classes)  # reported for every class
    assert set(apart.tolist()) <= set(result.flagged.tolist())
    assert np.all(y[result.flagged] == 3)


@pytest.mark.parametrize("read_class", [None, 1])
def test_without_the_network_singling_out_the_standout_nothing_is_called(read_class: int | None) -> None:
    x, y, ref_x, ref_y, reading, _ = _standout_set(1, read_class=read_class)
    read, calls = _counted(reading)
    result = _assess(x, y, ref_x, ref_y, read)
    assert result.poisoned_classes == [] and len(result.flagged) == 0
    assert calls == [1]  # the standout sat between the bars, so the set was read
    target = next(c for c in result.classes if c.label == 3)
    assert poisoning.reference_bar(60, blamed=True) <= target.reference_excess < poisoning.reference_bar(60)
    assert target.corroborated_by == ""
    if read_class is not None:  # the network singles out another class, which corroborates nothing,
        # and which it cannot call alone: the reference does not lean to it
        other = next(c for c in result.classes if c.label == read_class)
        assert other.read_away_excess is not None and other.read_away_excess >= poisoning.reference_bar(60)
        assert other.reference_excess is not None and other.reference_excess <= 0.0


def test_without_a_reading_the_standout_short_of_its_bar_is_not_called() -> None:
    x, y, ref_x, ref_y, _, _ = _standout_set(1, read_class=3)
    result = _assess(x, y, ref_x, ref_y, None)
    assert result.poisoned_classes == []
    assert all(c.read_away_excess is None for c in result.classes)


def _read_and_lost(seed: int, *, lost_class: int):
    """`_read_away_set` (class 3: 20 rows apart, its first 80 read away) whose rows 100-219 of
    `lost_class` also lose their label under the low-pass filter (every other row keeps 0.2-1, as
    every reference row does)."""
    x, y, ref_x, ref_y, reading, read_away = _read_away_set(6, apart=20, read_away=80)
    rng = np.random.default_rng(seed)
    train_kept, rows_kept = rng.uniform(0.2, 1.0, len(y)), rng.uniform(0.2, 1.0, len(ref_y))
    lost = np.flatnonzero(y == lost_class)[100:220]
    train_kept[lost] = rng.uniform(0.0, 0.1, len(lost))
    result = assess_against_reference(
        x, y, ref_x, ref_y, read=lambda: reading, train_kept=train_kept, rows_kept=rows_kept
    )
    return result, read_away, lost


def test_the_network_call_takes_the_rows_the_filter_loses_where_the_filter_calls_that_class_too() -> None:
    result, read_away, lost = _read_and_lost(7, lost_class=3)
    assert result.poisoned_classes == [3]
    target = next(c for c in result.classes if c.label == 3)
    assert target.decided_by == poisoning.READ_AWAY
    assert target.low_pass_excess is not None and target.low_pass_excess >= poisoning.reference_bar(60)
    flagged = set(result.flagged.tolist())
    assert set(read_away.tolist()) | set(lost.tolist()) <= flagged and target.suspects == len(flagged)
    # each row names the readings that flag it, in one order (a row of either may reach both by chance)
    assert all("read_as_another_class_by_clean_network" in result.signals[r] for r in read_away.tolist())
    assert {result.signals[r] for r in lost.tolist()} == {("label_lost_under_low_pass",)}
    assert {result.signals[r] for r in result.flagged.tolist()} <= {
        ("read_as_another_class_by_clean_network",),
        ("label_lost_under_low_pass",),
        ("label_lost_under_low_pass", "read_as_another_class_by_clean_network"),
    }
    assert np.all(result.scores[result.flagged] >= poisoning.FLAG_AT)


def test_where_the_network_called_a_class_the_filter_calls_no_other() -> None:
    result, read_away, lost = _read_and_lost(7, lost_class=1)
    assert result.poisoned_classes == [3]
    other = next(c for c in result.classes if c.label == 1)
    assert other.low_pass_excess is not None and other.low_pass_excess >= poisoning.reference_bar(60)
    assert result.flagged.tolist() == sorted(read_away.tolist()) and not np.isin(lost, result.flagged).any()


def _misread_set(seed: int):
    """Five Gaussian classes; 120 rows of classes 1, 2 and 4 relabelled to class 3, whose trigger
    the model did not learn (it reads them as where they came from); and 40 clean rows of class 3
    that look like class 0 (6 of its reference rows do too), which the model reads as class 0. The
    clean-split network reads the relabelled rows as another class and every other row as its label."""
    rng = np.random.default_rng(seed)
    centres, x, y, ref_x, ref_y = gaussian_classes(rng)
    own = np.flatnonzero(y == 3)
    lookalike = own[:40]
    x[lookalike] = (centres[0] + rng.normal(0, 1, (40, 16))).astype(np.float32)
    ref_own = np.flatnonzero(ref_y == 3)[:6]
    ref_x[ref_own] = (centres[0] + rng.normal(0, 1, (6, 16))).astype(np.float32)
    sources = np.repeat([1, 2, 4], 40)
    poison = np.arange(len(y), len(y) + len(sources))
    x = np.concatenate([x, (centres[sources] + rng.normal(0, 1, (len(sources), 16))).astype(np.float32)])
    y = np.concatenate([y, np.full(len(sources), 3)])
    confidence = rng.uniform(0.9, 1.0, len(y))
    predicted = y.copy()
    confidence[lookalike], predicted[lookalike] = 0.2, 0
    confidence[poison], predicted[poison] = 0.1, sources
    train_read = rng.uniform(0.5, 1.0, len(y))
    train_read[poison] = rng.uniform(0.0, 0.05, len(poison))
    reading = (train_read, rng.uniform(0.5, 1.0, len(ref_y)))
    return x, y, ref_x, ref_y, confidence, predicted, reading, poison, lookalike


def test_a_called_class_takes_the_rows_the_model_misreads_only_where_the_clean_network_does_too() -> None:
    x, y, ref_x, ref_y, confidence, predicted, reading, poison, lookalike = _misread_set(5)
    model = {"confidence": confidence, "predicted": predicted}
    result = assess_against_reference(x, y, ref_x, ref_y, read=lambda: reading, **model)
    called = next(c for c in result.classes if c.poisoned)
    assert result.poisoned_classes == [3] and called.decided_by == poisoning.REFERENCE
    assert np.mean(np.isin(poison, result.flagged)) >= 0.9
    assert np.mean(np.isin(lookalike, result.flagged)) <= 0.1
    # without the clean-split network, the model's misreading alone flags the look-alike rows too
    alone = assess_against_reference(x, y, ref_x, ref_y, **model)
    assert alone.poisoned_classes == [3] and np.mean(np.isin(lookalike, alone.flagged)) >= 0.9
    assert all("model_reads_other_class" in alone.signals[r] for r in lookalike.tolist())
