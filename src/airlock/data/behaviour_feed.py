"""`airlock data --model M --behavior`: the behavioural scan's trigger reversal on the same model,
and the class it blames judged at the lower poisoning thresholds (as `--suspect-class` would be).

A trigger reversal finds the class a backdoor sends inputs to from the model alone; the data checks
then know where to look. The reversal runs on the evaluation split (`--test`) when it holds images,
which a user keeps clean, never on the training set under vetting (its poisoned rows would carry
the very trigger being reversed); otherwise data-free, on inputs synthesised from the model. It runs
exactly as in `airlock scan --behavior` (same engine, thresholds, seed). With `--test` images the
model reads as well as the thresholds' calibration models read theirs, the class a backdoored verdict
points at is blamed; elsewhere (data-free, or a sample read at under
`airlock.behavior.outlier.CALIBRATED_ACCURACY`), where clean models fail the verdict more often,
blaming asks for more than the verdict does (`blame_bar`). A blamed class is judged at lower
thresholds.
The blamed class's reversed trigger (of the deciding family) goes with it: `airlock.data.trigger_rows`
uses it to find the rows that carry it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from airlock.models.image import ImageClassifier

if TYPE_CHECKING:
    from airlock.behavior.reversal import Reversal

SEED = 0
# The score from which the reversal's class is blamed (`blame_bar`). Data-free: fitted on the CALIBRATE
# and DEVELOP parts of `python -m bench data_heldout` only, at α = 0.05, where clean glyph models
# reached 1.25-1.52 on a thin-ring class and, blamed there, had 2 of 4 clean sets called; the bar was
# 1.6, and is 1.6 / 1.334 since data-free thresholds moved to α = 0.01 (signatures 2026.12.8). With
# `--test` it was 1.6 / 1.393 = 1.15 (data-mode thresholds at α = 0.01). With the class draw
# (signatures 2026.12.10) the clean models of CALIBRATE-FRESH_32 that score over 1 all read their
# sample at under 70% (FRESH_20's imbalanced scenes ConvNeXt 1.08, FRESH_28's scenes RegNet-X 1.15,
# FRESH_32's 1.25), and blamed at 1.0 FRESH_28's clean set was called poisoned (84 rows), so under
# CALIBRATED_ACCURACY the 1.15 stays; at it or over, the verdict's bar, where two blends the data
# checks missed whole scored on their target (FRESH_32's strokes blend 1.11; FRESH_22's scenes blend
# 1.10 before the draw). On FRESH_33 and FRESH_34 (the latter written for it) no set moved
# (bench/HISTORY.md, "Blaming at the verdict's bar").
# Since signatures 2026.12.19 a data-free verdict itself needs more than 1.2 (`Reversal.verdict_at`,
# 1.5 on images), and only a verdict's class is blamed, so the larger of the two holds.
BLAME_AT = {"data": 1.0, "data-free": 1.2}
BLAME_AT_UNCALIBRATED = 1.15  # with `--test` images the model reads at under CALIBRATED_ACCURACY


def blame_bar(reversal: Reversal) -> float:
    """The score from which `reversal`'s class is blamed (never under its verdict's bar)."""
    from airlock.behavior.outlier import CALIBRATED_ACCURACY

    accuracy = reversal.accuracy  # None data-free
    if accuracy is not None and accuracy < CALIBRATED_ACCURACY:
        return max(BLAME_AT_UNCALIBRATED, reversal.verdict_at)
    return max(BLAME_AT[reversal.mode], reversal.verdict_at)


@dataclass(frozen=True)
class ReversedTrigger:
    label: int  # the blamed class
    family: str  # the family whose trigger decided (airlock.behavior.triggers.FAMILIES)
    arrays: dict[str, np.ndarray]  # its exported trigger for that class


def blame(
    clf: ImageClassifier, test: Path | None
) -> tuple[tuple[int, ...], dict[str, Any], ReversedTrigger | None]:
    """The classes the trigger reversal blames (none or one), the report's `data.behavior`, and the
    blamed class's reversed trigger."""
    from airlock.behavior.outcome import NOT_DETERMINED, NOT_FOUND, SUSPECTED
    from airlock.behavior.outlier import load_calibration
    from airlock.behavior.reversal import reverse_image
    from airlock.behavior.samples import ImageSample, read_sample
    from airlock.behavior.section import data_free_check

    sample = read_sample(test, clf.labels, text=False) if test is not None else None
    assert sample is None or isinstance(sample, ImageSample)
    reversal = reverse_image(clf, sample, load_calibration(), seed=SEED, deadline=None, progress=None)
    evidence = reversal.evidence
    candidate = evidence.suspect if evidence is not None else None
    suspect = candidate if reversal.backdoored else None
    bar = blame_bar(reversal)
    if reversal.backdoored:
        answer = SUSPECTED
    elif reversal.complete and not reversal.lead:
        answer = NOT_FOUND
    else:  # cut short, or a lead short of the mode's verdict bar (as in `scan --behavior`)
        answer = NOT_DETERMINED
    section: dict[str, Any] = {
        "mode": reversal.mode,
        "inputs": reversal.inputs,
        "score": round(reversal.score, 4),
        "backdoored": reversal.backdoored,
        "suspect_class": suspect,
        "candidate_class": candidate,
        "complete": reversal.complete,
        "outcome": answer,
        "lead": reversal.lead,
        "sample_accuracy": None if reversal.accuracy is None else round(reversal.accuracy, 4),
        "blame_at": bar,
        "data_free_check": data_free_check(reversal),  # a `--test` split read at under MISREAD_FLOOR
    }
    blamed = (suspect,) if suspect is not None and reversal.score >= bar else ()
    section["blamed"] = list(blamed)  # the decision, for renderers (the score above is rounded)
    decision = reversal.decision
    trigger = None
    if blamed and decision is not None:
        result = next((r for r in reversal.results if r.family == decision.family), None)
        found = next((c for c in result.classes if c.label == blamed[0]), None) if result else None
        if found is not None and found.arrays:
            trigger = ReversedTrigger(blamed[0], decision.family, dict(found.arrays))
    return blamed, section, trigger
