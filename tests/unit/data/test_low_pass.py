"""The low-pass route: rows whose label a low-pass filter takes away more than the clean reference's."""

from __future__ import annotations

import numpy as np
import pytest

from airlock.data import low_pass, poisoning, reference
from tests.unit.data.conftest import assess_against_reference, gaussian_classes


def test_the_filter_blurs_fine_detail_and_keeps_the_layout() -> None:
    checker = (np.indices((16, 16)).sum(axis=0) % 2).astype(np.float32)  # one-pixel squares
    halves = np.zeros((16, 16), np.float32)
    halves[:, 8:] = 1.0
    images = np.stack([checker, halves, np.full((16, 16), 0.3, np.float32)])[..., None].repeat(3, axis=3)
    out = low_pass.low_pass(images)
    assert out.shape == images.shape and out.dtype == np.float32
    assert np.allclose(out[0], 0.5, atol=1e-6)  # the checkerboard averages out
    assert np.allclose(out[2], 0.3, atol=1e-6)  # a flat image is untouched
    assert out[1][:, :6].max() < 0.01 and out[1][:, 10:].min() > 0.99  # the two halves stay
    assert np.all((out >= 0) & (out <= 1))


def test_kept_is_the_probability_of_each_row_label_after_the_filter() -> None:
    seen: list[np.ndarray] = []

    def predict(images: np.ndarray) -> np.ndarray:  # class 1 reads bright images, class 0 dark ones
        seen.append(images)
        bright = images.mean(axis=(1, 2, 3))
        return np.stack([1 - bright, bright], axis=1)

    images = np.stack([np.full((8, 8, 1), v, np.float32) for v in (0.2, 0.9, 0.9)])
    out = low_pass.kept(predict, images, np.array([0, 1, -1]))
    assert np.allclose(out, [0.8, 0.9, 0.0])  # a label the model lacks keeps nothing
    assert np.allclose(seen[0], low_pass.low_pass(images))  # the model saw the filtered images


def test_rows_that_lose_their_label_get_small_p_values_and_raise_their_class_share() -> None:
    rng = np.random.default_rng(4)
    ref_kept = rng.uniform(0.3, 1.0, 100)
    ref_labels = np.repeat([0, 1], 50)
    clean = rng.uniform(0.3, 1.0, 400)
    lost = rng.uniform(0.0, 0.05, 80)  # poison: its trigger blurred away, its label gone
    train_kept = np.concatenate([clean, lost])
    labels = np.concatenate([np.repeat([0, 1], 200), np.ones(80, np.int64)])
    p, shares = reference.label_pvalues(train_kept, labels, ref_kept, ref_labels)
    assert np.all(p[400:] == 1 / 51)
    assert 0.3 < p[:400].mean() < 0.7
    assert shares[0] < 0.2 and shares[1] > (80 / 280) and shares[1] - shares[0] > 0.2
    # a class with too few reference rows is not judged
    p, shares = reference.label_pvalues(train_kept, labels, ref_kept[:55], ref_labels[:55])
    assert set(shares) == {0} and np.all(p[labels == 1] == 1.0)


def _classes(rng: np.random.Generator):
    """Five Gaussian classes of 300 training and 60 reference rows, and what the filter keeps of
    each row's label (0.2-1, the same for training and reference rows)."""
    centres, x, y, ref_x, ref_y = gaussian_classes(rng)
    train_kept, ref_kept = rng.uniform(0.2, 1.0, 1500), rng.uniform(0.2, 1.0, 300)
    return centres, x, y, ref_x, ref_y, train_kept, ref_kept


def _set(seed: int, *, lost_class: int | None, lost_rows: int = 120):
    """Five classes whose rows the last-stage reference matches everywhere (so it calls nothing);
    with `lost_class`, that many of its rows lose their label under the filter (a blurred trigger)."""
    rng = np.random.default_rng(seed)
    _, x, y, ref_x, ref_y, train_kept, ref_kept = _classes(rng)
    poison = np.empty(0, np.int64)
    if lost_class is not None:
        poison = np.flatnonzero(y == lost_class)[:lost_rows]
        train_kept[poison] = rng.uniform(0.0, 0.1, len(poison))
    return x, y, ref_x, ref_y, train_kept, ref_kept, poison


def _assess(x, y, ref_x, ref_y, train_kept, ref_kept):
    return assess_against_reference(x, y, ref_x, ref_y, train_kept=train_kept, rows_kept=ref_kept)


def test_a_class_whose_rows_lose_their_label_under_the_filter_is_called_with_those_rows() -> None:
    x, y, ref_x, ref_y, train_kept, ref_kept, poison = _set(2, lost_class=3)
    result = _assess(x, y, ref_x, ref_y, train_kept, ref_kept)
    assert result.poisoned_classes == [3]
    target = next(c for c in result.classes if c.label == 3)
    assert target.decided_by == poisoning.LOW_PASS
    assert target.low_pass_excess is not None and target.low_pass_excess >= poisoning.reference_bar(60)
    assert target.reference_excess is not None and target.reference_excess < poisoning.REFERENCE_AT
    hit = np.intersect1d(result.flagged, poison)
    assert len(hit) == len(poison) and len(hit) / len(result.flagged) >= 0.75  # chance rows at p <= 0.1
    assert all(result.signals[r] == ("label_lost_under_low_pass",) for r in result.flagged.tolist())
    assert np.all(result.scores[result.flagged] >= poisoning.FLAG_AT)
    others = np.setdiff1d(np.flatnonzero(y == 3), result.flagged)
    assert np.all(result.scores[others] < poisoning.FLAG_AT)
    row = target.to_dict()
    assert row["low_pass_lost"] == round(target.low_pass_lost, 3)
    assert row["low_pass_excess"] == round(target.low_pass_excess, 3)


@pytest.mark.parametrize("seed", [5, 6, 7])
def test_a_clean_set_read_through_the_filter_calls_nothing(seed: int) -> None:
    x, y, ref_x, ref_y, train_kept, ref_kept, _ = _set(seed, lost_class=None)
    result = _assess(x, y, ref_x, ref_y, train_kept, ref_kept)
    assert result.poisoned_classes == [] and len(result.flagged) == 0
    assert all(
        c.low_pass_excess is not None and c.low_pass_excess < poisoning.reference_bar(60)
        for c in result.classes
    )


def test_without_low_pass_readings_the_route_stays_silent() -> None:
    x, y, ref_x, ref_y, *_ = _set(2, lost_class=3)
    result = assess_against_reference(x, y, ref_x, ref_y)
    assert result.poisoned_classes == []
    assert all(c.low_pass_lost is None and c.low_pass_excess is None for c in result.classes)


def _set_seen_twice(seed: int, *, lost_class: int | None, rows: int = 60):
    """`_set` with `rows` rows of class 3 moved off the class's core, a group the last-stage reference
    singles out short of its own bar (0.2); with `lost_class`, that class's first `rows` rows also lose
    their label under the filter, a share short of that bar too."""
    rng = np.random.default_rng(seed)
    centres, x, y, ref_x, ref_y, train_kept, ref_kept = _classes(rng)
    poison = np.flatnonzero(y == 3)[:rows]
    direction = rng.normal(0, 1, 16)
    x[poison] = (
        centres[3] + 5.0 * direction / np.linalg.norm(direction) + rng.normal(0, 1, (rows, 16))
    ).astype(np.float32)
    if lost_class is not None:
        train_kept[np.flatnonzero(y == lost_class)[:rows]] = rng.uniform(0.0, 0.02, rows)
    return x, y, ref_x, ref_y, train_kept, ref_kept, poison


def test_a_class_both_readings_single_out_short_of_their_bars_is_called_with_both_routes_rows() -> None:
    x, y, ref_x, ref_y, train_kept, ref_kept, poison = _set_seen_twice(1, lost_class=3)
    result = _assess(x, y, ref_x, ref_y, train_kept, ref_kept)
    assert result.poisoned_classes == [3]
    target = next(c for c in result.classes if c.label == 3)
    assert target.decided_by == poisoning.REFERENCE
    assert target.corroborated_by == poisoning.LOW_PASS_AGREES
    # each reading alone is short of its own bar, and at or past the corroborated one
    lowered = poisoning.reference_bar(60, blamed=True)
    assert lowered <= target.reference_excess < poisoning.reference_bar(60)
    assert lowered <= target.low_pass_excess < poisoning.reference_bar(60)
    assert target.reference_bar == lowered
    assert set(poison.tolist()) <= set(result.flagged.tolist())
    # the rows are the boundary's and the filter's, and each row names what flagged it
    named = [set(result.signals[r]) for r in result.flagged.tolist()]
    assert all(n and n <= {"unmatched_by_reference", "label_lost_under_low_pass"} for n in named)
    assert any(n == {"label_lost_under_low_pass"} for n in named)  # a row only the filter flagged
    assert any("unmatched_by_reference" in n for n in named)


def test_without_the_filter_agreeing_the_same_class_is_not_called() -> None:
    x, y, ref_x, ref_y, train_kept, ref_kept, _ = _set_seen_twice(1, lost_class=None)
    result = _assess(x, y, ref_x, ref_y, train_kept, ref_kept)
    assert result.poisoned_classes == []
    target = next(c for c in result.classes if c.label == 3)
    assert poisoning.reference_bar(60, blamed=True) <= target.reference_excess < poisoning.reference_bar(60)
    assert target.corroborated_by == ""


def test_the_filter_singling_out_another_class_corroborates_nothing() -> None:
    x, y, ref_x, ref_y, train_kept, ref_kept, _ = _set_seen_twice(1, lost_class=1)
    result = _assess(x, y, ref_x, ref_y, train_kept, ref_kept)
    assert result.poisoned_classes == []
    lost_most = max(result.classes, key=lambda c: c.low_pass_excess or -1.0)
    assert lost_most.label == 1 and lost_most.low_pass_excess >= poisoning.reference_bar(60, blamed=True)
    assert all(c.corroborated_by == "" for c in result.classes)
