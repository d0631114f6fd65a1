"""`airlock data --model M --behavior`: the behavioural scan's trigger reversal on the same model,
and the class it blames judged at the lower poisoning thresholds (as `--suspect-class` would be).

A trigger reversal finds the class a backdoor sends inputs to from the model alone; the data checks
then know where to look. The reversal runs on the evaluation split (`--test`) when it holds images,
which a user keeps clean, never on the training set under vetting (its poisoned rows would carry
the very trigger being reversed); otherwise data-free, on inputs synthesised from the model. It runs
exactly as in `airlock scan --behavior` (same engine, thresholds, seed). A blamed class is judged at
lower thresholds, so blaming asks for more than the verdict does: a score of at least `BLAME_AT`.
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
# Fitted on the CALIBRATE and DEVELOP parts of `python -m bench data_heldout` only, at α = 0.05: clean
# glyph models reach behaviour scores of 1.25-1.52 (a thin-ring class every glyph model reaches with
# a small pattern), and blamed at that level the data check called 2 of 4 clean sets poisoned; the
# backdoored models whose class the reversal found scored 1.78 and more. The bar was 1.6 in both
# modes then; data-mode thresholds moved to α = 0.01 (×1.393, `airlock.behavior.outlier.ALPHA`), so
# the same gaps now score 1.393 times less there and its bar is 1.6 / 1.393. Data-free thresholds
# moved to α = 0.01 in signatures 2026.12.8 (×1.334 for a two-spacing gap among two families), so
# that bar is 1.6 / 1.334.
BLAME_AT = {"data": 1.15, "data-free": 1.2}


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
