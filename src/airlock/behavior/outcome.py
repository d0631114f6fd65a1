"""The one-line answer of the behavioural scan, the same in every summary (table, JSON, SARIF, HTML).

Three answers only: "backdoor suspected", "no backdoor found", and "not determined". "No backdoor
found" needs a probe that completed: a deciding check that was skipped, errored or ran out of time
(`--time-budget`) makes it "not determined", with the reason, and so does a class that stood out
short of the score a verdict needs in its mode (`behavior.lead`, AIR706: data-free on images).
Torch-free: renderers import it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from airlock.scanning import CheckResult

SUSPECTED, NOT_FOUND, NOT_DETERMINED = "backdoor suspected", "no backdoor found", "not determined"
CHECKS = ("trigger_reversal", "activation_clustering")


@dataclass(frozen=True)
class Outcome:
    answer: str  # SUSPECTED | NOT_FOUND | NOT_DETERMINED
    reason: str | None  # why not determined
    suspect: Any = None  # the blamed class's label (or index), when suspected

    @property
    def headline(self) -> str:
        if self.answer == SUSPECTED:
            return f"{SUSPECTED}, class {self.suspect}"
        if self.answer == NOT_DETERMINED:
            return f"{NOT_DETERMINED} ({self.reason})"
        return NOT_FOUND


def outcome(behavior: Mapping[str, Any] | None, checks: Sequence[CheckResult]) -> Outcome | None:
    """The answer for a report's `behavior` section and its checks; None when nothing behavioural ran."""
    ran = {c.scanner: c for c in checks if c.scanner in CHECKS}
    if behavior is None and not ran:
        return None
    primary = "trigger_reversal" if "trigger_reversal" in ran else "activation_clustering"
    unfinished = [
        c
        for c in ran.values()
        if str(c.status) == "error" or (c.scanner == primary and str(c.status) != "ran")
    ]
    why = "; ".join(f"{c.scanner} {c.status}" + (f": {c.reason}" if c.reason else "") for c in unfinished)
    if behavior is not None and behavior.get("backdoored"):
        return Outcome(SUSPECTED, None, behavior.get("suspect_label") or behavior.get("suspect_class"))
    if behavior is not None and (behavior.get("complete") is False or behavior.get("determined") is False):
        why = why or "the behavioural scan did not complete"
    if behavior is not None and behavior.get("lead"):  # flagged short of the mode's verdict bar (AIR706)
        why = why or (
            f"class {behavior.get('candidate_class')} scored {float(behavior.get('score', 0.0)):.2f} "
            f"{behavior.get('mode', '')}, short of the {float(behavior.get('threshold', 1.0)):g} a verdict "
            "needs: scan again with a labelled clean sample"
        )
    if behavior is None or why:
        return Outcome(NOT_DETERMINED, why or "no behavioural result")
    return Outcome(NOT_FOUND, None)


def annotate(behavior: dict[str, Any] | None, checks: Sequence[CheckResult]) -> dict[str, Any] | None:
    """The `behavior` section with `outcome` (and `outcome_reason`) set; a section is made when the
    checks ran but produced none (a refused model), so the JSON says "not determined" too."""
    found = outcome(behavior, checks)
    if found is None:
        return behavior
    section = dict(behavior) if behavior is not None else _empty()
    section["outcome"] = found.answer
    section["outcome_reason"] = found.reason
    if found.answer == NOT_DETERMINED:
        section["determined"] = False
    return section


def _empty() -> dict[str, Any]:
    return {
        "method": "none (the behavioural scan produced no result)",
        "score": 0.0,
        "backdoored": False,
        "suspect_class": None,
        "suspect_label": None,
        "complete": False,
        "determined": False,
        "per_class": [],
    }
