"""The bar from which `airlock data --behavior` blames the reversal's class."""

from __future__ import annotations

import pytest

from airlock.behavior.outlier import CALIBRATED_ACCURACY
from airlock.behavior.reversal import Reversal
from airlock.data.behaviour_feed import BLAME_AT, BLAME_AT_UNCALIBRATED, blame_bar


def _reversal(mode: str, accuracy: float | None) -> Reversal:
    return Reversal("image", mode, (), (), True, 0.0, 400, accuracy=accuracy)


def test_a_sample_read_at_calibrated_accuracy_blames_at_the_verdicts_bar() -> None:
    assert blame_bar(_reversal("data", CALIBRATED_ACCURACY)) == BLAME_AT["data"] == 1.0
    assert blame_bar(_reversal("data", 0.97)) == 1.0


@pytest.mark.parametrize("accuracy", [0.0, 0.44, CALIBRATED_ACCURACY - 0.01])
def test_a_sample_the_model_misreads_asks_for_more(accuracy: float) -> None:
    assert blame_bar(_reversal("data", accuracy)) == BLAME_AT_UNCALIBRATED > BLAME_AT["data"]


def test_data_free_asks_for_more_than_the_verdict() -> None:
    assert blame_bar(_reversal("data-free", None)) == BLAME_AT["data-free"] > 1.0


def test_a_verdict_bar_over_the_blame_bar_is_the_one_that_holds() -> None:
    """Only a verdict's class is blamed, so a data-free verdict bar of 1.5 is the blame bar too."""
    raised = Reversal("image", "data-free", (), (), True, 0.0, 400, verdict_at=1.5)
    assert blame_bar(raised) == 1.5 > BLAME_AT["data-free"]
