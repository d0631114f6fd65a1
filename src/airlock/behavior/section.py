"""The report's `behavior` section and the evidence of behavioural findings, built from a `Reversal`.

Numbers are rounded (4 significant places for sizes, 4 decimals for rates and scores) so that the
same seed gives byte-identical reports; the reversed trigger goes in as arrays (at most
`MAX_SIDE`² per channel) and as PNG data URIs (`images`) for the HTML report, which also gets one small
picture of every class's reversed trigger (`per_class[i][family]["image"]`, image families only).

Every wall-clock number of the behavioural scan sits in one object, `behavior.timings` (seconds of
the whole reversal, of each family, of activation clustering): those differ from run to run by
nature; everything else in the section is a function of the model, the sample and the seed (and
of the `--time-budget`, when one cut the run short). Comparing two reports therefore means
dropping `behavior.timings`, the runner's `checks[].seconds` and the report's `timestamp`, nothing more.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from airlock.behavior.engine import ClassTrigger
from airlock.behavior.images import main_picture, pictures
from airlock.behavior.outlier import DRAW_CENTRE, DRAW_WEIGHT
from airlock.behavior.reversal import Reversal
from airlock.behavior.triggers import cost_unit, judged_by

MAX_SIDE = 64
MAX_PICTURED_CLASSES = 64  # per-class trigger pictures (for the HTML report) only up to this many classes
FAMILY_METHODS = {
    "patch": "mask+pattern (Neural Cleanse)",
    "blend": "additive full-image pattern",
    "warp": "smooth warp",
    "token": "gradient-guided token search (HotFlip)",
}


def method(reversal: Reversal) -> str:
    families = ", ".join(FAMILY_METHODS[r.family] for r in reversal.results) or "none finished"
    return f"trigger-reversal/1: {families}; all classes batched, K-Arm schedule; gap outlier test"


def _class_draw(reversal: Reversal) -> dict[str, Any] | None:
    if reversal.draw is None:
        return None
    shift = reversal.draw_shift
    return {
        "draw": [round(d, 4) for d in reversal.draw],
        "shift": round(shift, 4) if shift is not None else None,
        "weight": DRAW_WEIGHT[reversal.mode],
        "centre": DRAW_CENTRE[reversal.mode],
    }


def trigger_of(reversal: Reversal) -> ClassTrigger | None:
    """The reversed trigger of the class the deciding family singled out."""
    decision = reversal.decision
    if decision is None:
        return None
    result = next(r for r in reversal.results if r.family == decision.family)
    return next(c for c in result.classes if c.label == decision.suspect)


def reversal_section(
    reversal: Reversal, labels: Mapping[int, str], *, tokens: list[str] | None, device: str, calibration: str
) -> dict[str, Any]:
    decision, trigger, evidence = reversal.decision, trigger_of(reversal), reversal.evidence
    suspect = decision.suspect if decision is not None and reversal.backdoored else None
    section: dict[str, Any] = {
        "method": method(reversal),
        "mode": reversal.mode,
        "score": round(reversal.score, 4),
        "backdoored": reversal.backdoored,
        "suspect_class": suspect,
        "suspect_label": labels.get(suspect) if suspect is not None else None,
        "candidate_class": decision.suspect if decision is not None else None,
        "threshold": reversal.verdict_at,  # the score a verdict needs (1, or more data-free on images)
        # flagged over 1 but short of that: a class to scan again with a labelled sample (AIR706)
        "lead": reversal.lead,
        "complete": reversal.complete,
        # a run cut short that found nothing has not shown the model clean: `backdoored` is then
        # false only because the report's schema wants a boolean; `determined` says it is no answer
        "determined": determined(reversal),
        "agreeing_families": [o.family for o in evidence.families] if evidence is not None else [],
        # how far the other classes' inputs lean to each class (`outlier.class_draw`); the score adds
        # weight × (the candidate's shift − centre)
        "class_draw": _class_draw(reversal),
        # with data, the share of the labelled sample the model reads right (AIR705 under
        # `outlier.CALIBRATED_ACCURACY`); null data-free or without labels
        "sample_accuracy": round(reversal.accuracy, 4) if reversal.accuracy is not None else None,
        # under `outlier.MISREAD_FLOOR` with a score over 1: the data-free scan, which must flag the
        # same class for a verdict (`Reversal.backdoored`); null otherwise
        "data_free_check": data_free_check(reversal),
        "kind": reversal.kind,
        "rows": reversal.rows,
        "evaluated_on": reversal.inputs,
        "device": device,
        "calibration": calibration,
        "families": [
            {
                "family": o.family,
                "suspect": o.suspect,
                "gap": round(o.gap, 4),
                "threshold": o.threshold,
                "ratio": round(o.ratio, 4),
                "unit": cost_unit(o.family),
                "judged_by": judged_by(o.family),
                "spacings": o.spacings,
                **_run_facts(reversal, o.family),
            }
            for o in reversal.outliers
        ],
        "per_class": _per_class(reversal, labels),
        "timings": {
            "trigger_reversal": round(reversal.seconds, 2),
            **{r.family: round(r.seconds, 2) for r in reversal.results},
        },
    }
    if trigger is not None and decision is not None:
        section["trigger"] = trigger_evidence(trigger, decision.family, tokens)
        section["attack_success_rate"] = round(trigger.asr, 4)
        section["images"] = pictures(trigger.arrays) if decision.family != "token" else {}
    return section


def data_free_check(reversal: Reversal) -> dict[str, Any] | None:
    """The data-free scan a misread sample's score over 1 was checked against (`Reversal.corroboration`):
    its score, class, whether it flags and agrees; None where none ran. The report's and AIR705's."""
    alone = reversal.corroboration
    if alone is None:
        return None
    evidence = alone.evidence
    return {
        "score": round(alone.score, 4),
        "candidate_class": evidence.suspect if evidence is not None else None,
        "flagged": alone.flagged,
        "agrees": reversal.agrees,
        "seconds": round(alone.seconds, 2),
    }


def determined(reversal: Reversal) -> bool:
    """Whether the run answered the question: it finished, or it found a backdoor before it stopped."""
    return reversal.complete or reversal.backdoored


def trigger_evidence(trigger: ClassTrigger, family: str, tokens: list[str] | None) -> dict[str, Any]:
    """The reversed trigger as JSON: family, class, size, success rate, and its arrays or tokens."""
    out: dict[str, Any] = {
        "family": family,
        "class": trigger.label,
        "size": _round(trigger.cost),
        "unit": cost_unit(family),
        "attack_success_rate": round(trigger.asr, 4),
    }
    if tokens is not None:
        out["tokens"] = tokens
    else:
        out["arrays"] = {
            key: np.round(_shrink(value).astype(np.float64), 3).tolist()
            for key, value in trigger.arrays.items()
        }
    return out


def _run_facts(reversal: Reversal, family: str) -> dict[str, Any]:
    result = next(r for r in reversal.results if r.family == family)
    return {"steps": result.steps, "batch": result.batch, "complete": result.complete}


def _per_class(reversal: Reversal, labels: Mapping[int, str]) -> list[dict[str, Any]]:
    rows: dict[int, dict[str, Any]] = {k: {"class": k, "label": name} for k, name in labels.items()}
    for result in reversal.results:
        pictured = result.family != "token" and len(result.classes) <= MAX_PICTURED_CLASSES
        for c in result.classes:
            entry: dict[str, Any] = {
                "size": _round(c.cost),
                "reached": c.reached,
                "attack_success_rate": round(c.asr, 4),
                "steps": c.steps,
            }
            images = {k: _shrink(v) for k, v in c.arrays.items() if v.ndim >= 2} if pictured else {}
            picture = main_picture(images) if images else None
            if picture is not None:
                entry["image"] = picture
            rows.setdefault(c.label, {"class": c.label, "label": str(c.label)})[result.family] = entry
    return [rows[k] for k in sorted(rows)]


def _shrink(array: np.ndarray) -> np.ndarray:
    step = max(1, -(-max(array.shape[:2]) // MAX_SIDE))
    return array[::step, ::step]


def _round(value: float) -> float:
    return float(f"{value:.4g}")
