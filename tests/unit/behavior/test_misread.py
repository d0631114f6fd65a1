"""A labelled sample the model reads at under MISREAD_FLOOR: its score alone is no verdict."""

from __future__ import annotations

from airlock.behavior.outlier import MISREAD_FLOOR, Outlier
from airlock.behavior.reversal import Reversal
from airlock.data.behaviour_feed import BLAME_AT_UNCALIBRATED

STRONG = 9.0  # a gap this far over its threshold scores well over 1 alone


def _reversal(
    mode: str,
    accuracy: float | None,
    suspect: int | None,
    corroboration: Reversal | None = None,
    kind: str = "image",
) -> Reversal:
    outliers = (Outlier("patch", suspect, STRONG, 1.0, 1),) if suspect is not None else ()
    return Reversal(kind, mode, (), outliers, True, 0.0, 400, accuracy=accuracy, corroboration=corroboration)


def test_a_misread_sample_scores_but_does_not_flag_alone() -> None:
    reversal = _reversal("data", MISREAD_FLOOR - 0.1, 3)
    assert reversal.misread and reversal.score > BLAME_AT_UNCALIBRATED
    assert not reversal.backdoored and not reversal.agrees


def test_the_data_free_scan_flagging_the_same_class_makes_it_a_flag() -> None:
    alone = _reversal("data-free", None, 3)
    assert alone.backdoored
    assert _reversal("data", MISREAD_FLOOR - 0.1, 3, alone).backdoored


def test_the_data_free_scan_flagging_another_class_or_nothing_does_not() -> None:
    for alone in (_reversal("data-free", None, 5), _reversal("data-free", None, None)):
        reversal = _reversal("data", MISREAD_FLOOR - 0.1, 3, alone)
        assert reversal.score > 1.0 and not reversal.agrees and not reversal.backdoored


def test_from_the_floor_up_and_data_free_the_score_decides_alone() -> None:
    assert not _reversal("data", MISREAD_FLOOR, 3).misread
    assert _reversal("data", MISREAD_FLOOR, 3).backdoored
    assert _reversal("data-free", None, 3).backdoored  # data-free: nothing to misread


def test_a_text_classifier_is_judged_by_its_score_alone() -> None:
    """The rule was measured on image classifiers only, and only they get the data-free check."""
    text = _reversal("data", MISREAD_FLOOR - 0.1, 3, kind="text")
    assert not text.misread and text.backdoored
