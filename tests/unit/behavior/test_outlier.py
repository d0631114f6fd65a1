"""The gap statistic, its calibration data, and the decision over trigger families."""

from __future__ import annotations

import math

import numpy as np
import pytest

from airlock.behavior.outlier import (
    ALPHA,
    DRAW_CENTRE,
    DRAW_WEIGHT,
    SIZE_SPACINGS,
    SUCCESS_FLOOR,
    Outlier,
    class_draw,
    combine,
    decide,
    draw_shift,
    erlang_quantile,
    gap,
    load_calibration,
    sample_accuracy,
    size_spacings,
    success_gap,
    threshold_for,
)
from airlock.behavior.reversal import FAMILIES_BY_MODE
from airlock.errors import RuleDataError

A = ALPHA["data-free"]  # the α these cases were written for


def test_gap_compares_the_smallest_trigger_with_the_second_smallest_of_the_others() -> None:
    suspect, value = gap({0: 0.05, 1: 0.004, 2: 0.04, 3: 0.06}, reached={0, 1, 2, 3})
    assert suspect == 1
    assert value == pytest.approx(math.log(0.05 / 0.004))
    assert size_spacings(4) == SIZE_SPACINGS == 2


def test_one_close_neighbour_does_not_hide_a_class_that_stands_apart_from_the_rest() -> None:
    # a planted target whose trigger also nearly reaches one other class: the rest need ten times more
    suspect, value = gap({0: 0.004, 1: 0.005, 2: 0.05, 3: 0.06, 4: 0.07}, reached={0, 1, 2, 3, 4})
    assert suspect == 0
    assert value == pytest.approx(math.log(0.05 / 0.004))


def test_with_two_classes_the_gap_spans_the_one_spacing_there_is() -> None:
    assert size_spacings(2) == 1
    suspect, value = gap({0: 0.01, 1: 0.04}, reached={0, 1})
    assert suspect == 0 and value == pytest.approx(math.log(4))


def test_gap_is_scale_free() -> None:
    costs = {0: 0.05, 1: 0.004, 2: 0.04}
    assert gap(costs, {0, 1, 2})[1] == pytest.approx(
        gap({k: 1000 * v for k, v in costs.items()}, {0, 1, 2})[1]
    )


def test_only_a_successful_trigger_can_be_the_suspect() -> None:
    # classes 1 and 3 have smaller triggers that never worked: class 2 leads, and their sizes (lower
    # bounds of what they need) bound the gap, so nothing stands out
    suspect, value = gap({0: 0.05, 1: 0.001, 2: 0.01, 3: 0.002}, reached={0, 2})
    assert suspect == 2
    assert value == 0.0
    # one such class is the close neighbour the gap looks past; the next other class bounds it
    suspect, value = gap({0: 0.05, 1: 0.001, 2: 0.01}, reached={0, 2})
    assert suspect == 2 and value == pytest.approx(math.log(5))


def test_no_successful_trigger_means_nothing_stands_out() -> None:
    assert gap({0: 0.5, 1: 0.1}, reached=set())[1] == 0.0
    assert gap({0: 0.5}, reached={0}) == (-1, 0.0)


def test_the_family_that_stands_out_most_decides() -> None:
    patch = Outlier("patch", suspect=3, gap=0.9, threshold=0.6)
    blend = Outlier("blend", suspect=3, gap=0.5, threshold=0.2)
    assert decide([patch, blend]) is blend
    assert blend.ratio == pytest.approx(2.5)
    assert decide([]) is None


def test_success_gap_blames_the_class_the_largest_allowed_trigger_reaches_most() -> None:
    suspect, value = success_gap({0: 0.12, 1: 0.64, 2: 0.23, 3: 0.22})
    assert suspect == 1
    assert value == pytest.approx(math.log((0.64 + SUCCESS_FLOOR) / (0.23 + SUCCESS_FLOOR)))


def test_success_gap_does_not_read_counting_noise_as_an_outlier() -> None:
    # 5% against 1% of 240 inputs is 12 against 2 hits: a ratio of 5, but nothing stands out
    assert success_gap({0: 0.05, 1: 0.01, 2: 0.0})[1] < math.log(2)
    assert success_gap({0: 0.0, 1: 0.0}) == (0, 0.0)
    assert success_gap({4: 0.3}) == (-1, 0.0)


def test_shipped_calibration_covers_every_family_each_mode_runs() -> None:
    calibration = load_calibration()
    for mode, families in FAMILIES_BY_MODE.items():
        assert set(calibration.thresholds["image"][mode]) == set(families)
        for family in families:
            assert calibration.threshold("image", mode, family) > 0
        assert calibration.threshold("text", mode, "token") > 0
    with pytest.raises(RuleDataError, match="no threshold"):
        calibration.threshold("audio", "data", "patch")


def test_one_family_alone_scores_its_own_ratio() -> None:
    patch = Outlier("patch", suspect=3, gap=0.9, threshold=0.6)
    evidence = combine([patch, Outlier("blend", suspect=5, gap=0.1, threshold=0.4)], families=3, alpha=A)
    assert evidence is not None and evidence.suspect == 3 and evidence.families == (patch,)
    assert evidence.score == pytest.approx(1.5, rel=1e-6)


def test_families_that_agree_on_a_class_add_up_to_one_decision() -> None:
    # each family just below its own threshold (the data-free case), both pointing at class 4
    patch = Outlier("patch", suspect=4, gap=0.59, threshold=0.616)
    blend = Outlier("blend", suspect=4, gap=0.29, threshold=0.371)
    assert decide([patch, blend]).ratio < 1.0  # type: ignore[union-attr]
    evidence = combine([patch, blend], families=3, alpha=A)
    assert evidence is not None and evidence.suspect == 4 and evidence.score > 1.0
    assert [o.family for o in evidence.families] == ["patch", "blend"]


def test_families_that_disagree_do_not_add_up() -> None:
    patch = Outlier("patch", suspect=4, gap=0.59, threshold=0.616)
    blend = Outlier("blend", suspect=6, gap=0.29, threshold=0.371)
    evidence = combine([patch, blend], families=3, alpha=A)
    assert evidence is not None and evidence.suspect == 4 and evidence.score < 1.0


def test_a_weak_extra_family_never_lowers_a_class_score() -> None:
    strong = Outlier("patch", suspect=2, gap=0.8, threshold=0.6)
    weak = Outlier("warp", suspect=2, gap=0.01, threshold=0.25)
    alone, both = combine([strong], 3, A), combine([strong, weak], 3, A)
    assert alone is not None and both is not None and both.score == pytest.approx(alone.score)


def test_one_family_of_two_spacings_alone_still_scores_its_own_ratio() -> None:
    patch = Outlier("patch", suspect=3, gap=1.8, threshold=1.2, spacings=2)
    evidence = combine([patch], families=2, alpha=A)
    assert evidence is not None and evidence.score == pytest.approx(1.5, rel=1e-6)


def test_families_of_different_spacings_add_up_against_the_erlang_of_their_total() -> None:
    tail = A / 3
    patch = Outlier("patch", suspect=1, gap=1.1, threshold=1.2, spacings=2)
    warp = Outlier("warp", suspect=1, gap=0.8, threshold=1.0, spacings=1)
    evidence = combine([patch, warp], families=3, alpha=A)
    z = patch.ratio * erlang_quantile(2, tail) + warp.ratio * erlang_quantile(1, tail)
    assert evidence is not None and evidence.families == (patch, warp)
    assert evidence.score == pytest.approx(z / erlang_quantile(3, tail), rel=1e-6)
    assert evidence.score > 1.0 > max(patch.ratio, warp.ratio)


def test_a_threshold_is_the_alpha_over_f_tail_of_the_erlang_with_the_clean_mean() -> None:
    assert threshold_for(0.2, 1, 3, A) == pytest.approx(0.2 * math.log(3 / A), rel=1e-6)
    s = threshold_for(0.4, 2, 2, A) / (0.4 / 2)  # in units of the Erlang(2)'s scale
    assert math.exp(-s) * (1 + s) == pytest.approx(A / 2, rel=1e-6)
    # two spacings: a lighter tail than one exponential of the same mean
    assert threshold_for(0.4, 2, 2, A) < 0.4 * math.log(2 / A)


def test_erlang_quantile_matches_the_exponential_tail_for_one_family() -> None:
    assert erlang_quantile(1, A / 3) == pytest.approx(math.log(3 / A), rel=1e-6)
    two = erlang_quantile(2, A / 3)
    assert math.exp(-two) * (1 + two) == pytest.approx(A / 3, rel=1e-6)
    assert combine([], 3, A) is None


def test_alpha_acts_through_the_thresholds_one_family_scores_its_ratio_in_either_mode() -> None:
    # one false-alarm rate in both modes (signatures 2026.12.8): clean models failed data-free at 0.05
    assert ALPHA["data"] == ALPHA["data-free"] == 0.01
    patch = Outlier("patch", suspect=4, gap=0.9, threshold=0.6)
    for alpha in ALPHA.values():
        evidence = combine([patch], 3, alpha)
        assert evidence is not None and evidence.score == pytest.approx(1.5, rel=1e-6)


def test_a_class_draws_the_mean_lean_of_the_other_classes_images_each_by_its_own_standard() -> None:
    probabilities = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.3, 0.1, 0.6], [0.1, 0.1, 0.8]])
    labels = np.array([0, 1, 2, -1])  # the last image's label is unknown and counts for no class
    draw = class_draw(probabilities, labels)
    # class 1's image leans to 0 by ln 0.2 less the median of ln 0.2 and ln 0.1 (½ ln 2), class 2's by ½ ln 3
    assert draw == pytest.approx((math.log(6) / 4, -math.log(3) / 4, -math.log(2) / 4))
    assert class_draw(probabilities, np.array([-1, -1, -1, -1])) is None
    assert class_draw(probabilities, np.array([1, 1, -1, -1])) is None  # one class: nothing to compare


def test_a_class_large_in_the_sample_weighs_as_much_as_a_small_one() -> None:
    probabilities = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.3, 0.1, 0.6]])
    labels = np.array([0, 1, 2])
    many = np.array([0, 0, 0, 0, 0, 1, 2])
    rows = np.concatenate([np.repeat(probabilities[:1], 5, axis=0), probabilities[1:]])
    assert class_draw(rows, many) == pytest.approx(class_draw(probabilities, labels))


def test_a_class_every_other_class_leans_to_draws_more_than_one_a_single_neighbour_leans_to() -> None:
    # four classes; every class's images give class 3 a little more than the rest, class 0's images give
    # class 1 as much more as all three of those together
    base = np.full((4, 4), 0.1)
    np.fill_diagonal(base, 0.7)
    base[[0, 1, 2], 3] += 0.05
    base[0, 1] += 0.15
    probabilities = base / base.sum(axis=1, keepdims=True)
    draw = class_draw(probabilities, np.arange(4))
    assert draw is not None and draw[3] > draw[1] > max(draw[0], draw[2])


def test_the_sample_accuracy_counts_only_labelled_inputs() -> None:
    predicted = np.array([0, 1, 2, 2, 1])
    assert sample_accuracy(predicted, np.array([0, 1, 1, -1, -1])) == pytest.approx(2 / 3)
    assert sample_accuracy(predicted, np.array([-1, -1, -1, -1, -1])) is None


def test_the_draw_shift_is_the_draw_over_the_median_class() -> None:
    draw = (0.1, 0.3, 0.3, 1.0, -0.5)
    assert draw_shift(draw, 3) == pytest.approx(0.7)
    assert draw_shift(draw, 4) == pytest.approx(-0.8)
    assert draw_shift((0.2, 0.8), 1) == pytest.approx(0.3)


def test_the_score_adds_the_weighted_draw_shift_of_the_candidate_class() -> None:
    from airlock.behavior.engine import ClassTrigger, FamilyResult
    from airlock.behavior.reversal import _finish

    sizes = (0.2, 0.18, 0.02, 0.22, 0.19)  # class 2 stands apart
    patch = FamilyResult(
        "patch", tuple(ClassTrigger(k, c, True, 0.9, 10) for k, c in enumerate(sizes)), 10, True, 0.0
    )
    calibration = load_calibration()
    plain = _finish("image", "data", [patch], calibration, True, 0.0, 0)
    leaning = _finish("image", "data", [patch], calibration, True, 0.0, 0, (0.0, 0.0, math.log(4), 0.0, 0.0))
    shunned = _finish("image", "data", [patch], calibration, True, 0.0, 0, (0.0, 0.0, -math.log(4), 0.0, 0.0))
    assert plain.draw_shift is None
    assert leaning.score == pytest.approx(plain.score + DRAW_WEIGHT["data"] * math.log(4))
    assert shunned.score == pytest.approx(plain.score - DRAW_WEIGHT["data"] * math.log(4))
    assert leaning.decision == plain.decision == shunned.decision  # the draw never changes the candidate


def test_data_free_the_draw_is_measured_but_weighs_nothing() -> None:
    from airlock.behavior.engine import ClassTrigger, FamilyResult
    from airlock.behavior.reversal import _finish

    sizes = (0.2, 0.18, 0.02, 0.22, 0.19)
    patch = FamilyResult(
        "patch", tuple(ClassTrigger(k, c, True, 0.9, 10) for k, c in enumerate(sizes)), 10, True, 0.0
    )
    calibration = load_calibration()
    plain = _finish("image", "data-free", [patch], calibration, True, 0.0, 0)
    drawn = _finish(
        "image", "data-free", [patch], calibration, True, 0.0, 0, (0.0, 0.0, math.log(4), 0.0, 0.0)
    )
    assert drawn.draw_shift == pytest.approx(math.log(4))
    # on the calibration parts every data-free weight lowered ROC AUC (bench.behaviour_replay weigh --data-free)
    assert DRAW_WEIGHT["data-free"] == 0.0 and drawn.score == pytest.approx(plain.score)
    assert DRAW_CENTRE["data-free"] > 0  # a clean model's candidate draws more than the median class there
