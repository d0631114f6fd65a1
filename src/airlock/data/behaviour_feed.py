"""`airlock data --model M --behavior`: the behavioural scan's trigger reversal on the same model,
and the class it blames judged at the lower poisoning thresholds (as `--suspect-class` would be).

A trigger reversal finds the class a backdoor sends inputs to from the model alone; the data checks
then know where to look. The reversal runs on the evaluation split (`--test`) when it holds images,
which a user keeps clean, never on the training set under vetting (its poisoned rows would carry
the very trigger being reversed); otherwise data-free, on inputs synthesised from the model. It runs
exactly as in `airlock scan --behavior` (same engine, thresholds, seed). With `--test` the class a
backdoored verdict points at is blamed; data-free, where clean models fail the verdict more often,
blaming asks for more than the verdict does: a score of at least `BLAME_AT`. A blamed class is
judged at lower thresholds.
The blamed class's reversed trigger (of the deciding family) goes with it: `airlock.data.trigger_rows`
uses it to find the rows that carry it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from airlock.models.image import ImageClassifier

SEED = 0
# The score from which the reversal's class is blamed, by mode. Data-free: fitted on the CALIBRATE and
# DEVELOP parts of `python -m bench data_heldout` only, at α = 0.05, where clean glyph models reached
# 1.25-1.52 on a thin-ring class and, blamed there, had 2 of 4 clean sets called; the bar was 1.6,
# and is 1.6 / 1.334 since data-free thresholds moved to α = 0.01 (signatures 2026.12.8). With a
# labelled sample (`--test`) the bar is the verdict's own (a score over 1): the 1.15 it had (1.6 /
# 1.393) came from those scores before the class draw, and with the draw (signatures 2026.12.10) one
# clean model of the 214 of CALIBRATE-FRESH_32 scored between 1 and 1.15 (FRESH_20's scenes ConvNeXt
# on classes of unequal size, 1.08), while two backdoors whose sets the data checks missed whole
# scored there on their target (FRESH_22's scenes blend 1.10, FRESH_32's strokes blend 1.11).
# Measured on FRESH_34, written for it (bench/HISTORY.md).
BLAME_AT = {"data": 1.0, "data-free": 1.2}


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

    sample = read_sample(test, clf.labels, text=False) if test is not None else None
    assert sample is None or isinstance(sample, ImageSample)
    reversal = reverse_image(clf, sample, load_calibration(), seed=SEED, deadline=None, progress=None)
    evidence = reversal.evidence
    candidate = evidence.suspect if evidence is not None else None
    suspect = candidate if reversal.backdoored else None
    section: dict[str, Any] = {
        "mode": reversal.mode,
        "inputs": reversal.inputs,
        "score": round(reversal.score, 4),
        "backdoored": reversal.backdoored,
        "suspect_class": suspect,
        "candidate_class": candidate,
        "complete": reversal.complete,
        "outcome": SUSPECTED if reversal.backdoored else NOT_FOUND if reversal.complete else NOT_DETERMINED,
        "blame_at": BLAME_AT[reversal.mode],
    }
    blamed = (suspect,) if suspect is not None and reversal.score >= BLAME_AT[reversal.mode] else ()
    decision = reversal.decision
    trigger = None
    if blamed and decision is not None:
        result = next((r for r in reversal.results if r.family == decision.family), None)
        found = next((c for c in result.classes if c.label == blamed[0]), None) if result else None
        if found is not None and found.arrays:
            trigger = ReversedTrigger(blamed[0], decision.family, dict(found.arrays))
    return blamed, section, trigger
