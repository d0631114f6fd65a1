"""A labelled sample the model reads at under MISREAD_FLOOR: its score alone is no verdict."""

from __future__ import annotations

import pytest

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


def _scored(mode: str, ratio: float, *, verdict_at: float, accuracy: float | None = None, corroboration=None):
    """A reversal whose one patch outlier scores `ratio`, with the calibration's verdict bar."""
    outliers = (Outlier("patch", 3, ratio, 1.0, 1),)
    return Reversal(
        "image", mode, (), outliers, True, 0.0, 400, accuracy=accuracy, corroboration=corroboration,
        verdict_at=verdict_at,
    )  # fmt: skip


def test_a_data_free_score_over_1_but_short_of_the_verdict_bar_is_a_lead_not_a_verdict() -> None:
    lead = _scored("data-free", 1.2, verdict_at=1.5)
    assert lead.flagged and lead.lead and not lead.backdoored
    verdict = _scored("data-free", 1.6, verdict_at=1.5)
    assert verdict.backdoored and not verdict.lead
    quiet = _scored("data-free", 0.9, verdict_at=1.5)
    assert not (quiet.flagged or quiet.lead or quiet.backdoored)


def test_a_data_free_lead_still_corroborates_a_misread_samples_class() -> None:
    """The data-free scan's flag over 1 is corroboration, not a verdict: its own bar does not apply."""
    alone = _scored("data-free", 1.2, verdict_at=1.5)
    reversal = _scored("data", 2.0, verdict_at=1.0, accuracy=MISREAD_FLOOR - 0.1, corroboration=alone)
    assert reversal.agrees and reversal.backdoored


def test_the_shipped_calibration_raises_the_bar_data_free_on_images_only() -> None:
    from airlock.behavior.outlier import load_calibration

    calibration = load_calibration()
    assert calibration.verdict_at("image", "data-free") > 1.0
    assert calibration.verdict_at("image", "data") == 1.0
    assert calibration.verdict_at("text", "data-free") == calibration.verdict_at("text", "data") == 1.0


def test_a_verdict_bar_under_1_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from airlock.behavior import outlier
    from airlock.errors import RuleDataError
    from airlock.rules import read_signature_toml

    shipped = read_signature_toml(outlier.CALIBRATION_FILE)
    monkeypatch.setattr(
        "airlock.rules.read_signature_toml",
        lambda name: {**shipped, "verdict": {"image": {"data-free": 0.8}}},
    )
    with pytest.raises(RuleDataError, match="under 1"):
        outlier.load_calibration()
