"""The gap statistic, its calibration data, and the decision over trigger families."""

from __future__ import annotations

import math

import pytest

from airlock.behavior.outlier import ALPHA, Outlier, combine, decide, erlang_quantile, gap, load_calibration
from airlock.errors import RuleDataError

A = ALPHA["data-free"]  # the α these cases were written for


def test_gap_is_the_log_ratio_of_the_two_smallest_triggers() -> None:
    suspect, value = gap({0: 0.05, 1: 0.004, 2: 0.04, 3: 0.06}, reached={0, 1, 2, 3})
    assert suspect == 1
    assert value == pytest.approx(math.log(0.04 / 0.004))


def test_gap_is_scale_free() -> None:
    costs = {0: 0.05, 1: 0.004, 2: 0.04}
    assert gap(costs, {0, 1, 2})[1] == pytest.approx(
        gap({k: 1000 * v for k, v in costs.items()}, {0, 1, 2})[1]
    )


def test_only_a_successful_trigger_can_be_the_suspect() -> None:
    # class 1's trigger is smallest but never worked: class 2 leads, and 1's size bounds the gap
    suspect, value = gap({0: 0.05, 1: 0.001, 2: 0.01}, reached={0, 2})
    assert suspect == 2
    assert value == 0.0


def test_no_successful_trigger_means_nothing_stands_out() -> None:
    assert gap({0: 0.5, 1: 0.1}, reached=set())[1] == 0.0
    assert gap({0: 0.5}, reached={0}) == (-1, 0.0)


def test_the_family_that_stands_out_most_decides() -> None:
    patch = Outlier("patch", suspect=3, gap=0.9, threshold=0.6)
    blend = Outlier("blend", suspect=3, gap=0.5, threshold=0.2)
    assert decide([patch, blend]) is blend
    assert blend.ratio == pytest.approx(2.5)
    assert decide([]) is None


def test_shipped_calibration_covers_every_kind_mode_and_family() -> None:
    calibration = load_calibration()
    for mode in ("data", "data-free"):
        for family in ("patch", "blend", "warp"):
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


def test_erlang_quantile_matches_the_exponential_tail_for_one_family() -> None:
    assert erlang_quantile(1, A / 3) == pytest.approx(math.log(3 / A), rel=1e-6)
    two = erlang_quantile(2, A / 3)
    assert math.exp(-two) * (1 + two) == pytest.approx(A / 3, rel=1e-6)
    assert combine([], 3, A) is None


def test_alpha_acts_through_the_thresholds_one_family_scores_its_ratio_in_either_mode() -> None:
    assert ALPHA["data"] < ALPHA["data-free"]  # data mode: a smaller share of clean models flagged
    patch = Outlier("patch", suspect=4, gap=0.9, threshold=0.6)
    for alpha in ALPHA.values():
        evidence = combine([patch], 3, alpha)
        assert evidence is not None and evidence.score == pytest.approx(1.5, rel=1e-6)
