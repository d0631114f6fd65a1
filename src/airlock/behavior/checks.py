"""The two behavioural checks as findings: trigger reversal (AIR70x) and activation clustering (AIR71x).

The scanner plug-ins in `airlock.scanners` are thin wrappers over these functions. Every outcome is
recorded by the runner: a model that cannot be probed gives a finding and then `Skipped` (a skipped
check with its reason), a time budget that runs out gives AIR702/AIR712 and then `Incomplete` (an
`error` check), never a silent pass.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from airlock.behavior.plugin import BehaviouralScanner, Session
from airlock.errors import DatasetError, MissingDependency, ModelRefused, RemoteCodeRefused
from airlock.findings import Finding, Severity
from airlock.scanning import Incomplete, ScanContext, Skipped

if TYPE_CHECKING:
    from airlock.behavior.clustering import ClassSplit

PROBLEMS = (ModelRefused, MissingDependency, DatasetError)
SHOWN_ROWS = 50
# Trigger reversal's leading class, unflagged but at this share of its threshold or more, and activation
# clustering flagging that same class at its own threshold: neither alone is a verdict, together they
# are one. Clean models' trigger-reversal scores mostly sit below it (bench.backdoor, held-out shapes),
# and a clustering flag on a clean model falls on the same class only by a 1-in-K chance.
JOINT_FLOOR = 0.75


def trigger_reversal(scanner: BehaviouralScanner, ctx: ScanContext, session: Session) -> Iterator[Finding]:
    from airlock.behavior.device import deterministic
    from airlock.behavior.outlier import CALIBRATED_ACCURACY, MISREAD_FLOOR, load_calibration
    from airlock.behavior.reversal import reverse_image, reverse_text
    from airlock.behavior.section import reversal_section, trigger_evidence, trigger_of
    from airlock.models.text import TextClassifier

    name = scanner.name
    scanner.summary = None
    try:
        clf = session.classifier()
        sample = session.sample()
    except RemoteCodeRefused as exc:
        yield ctx.finding("AIR703", name, exc.file, "model", str(exc))
        raise Skipped(str(exc)) from None
    except PROBLEMS as exc:
        yield ctx.finding("AIR704", name, None, "model", exc.diagnostics())
        raise Skipped(exc.diagnostics()) from None
    calibration = load_calibration()
    settings = session.settings
    text = isinstance(clf, TextClassifier)
    with deterministic(settings.seed) as unreproducible:
        run = reverse_text if text else reverse_image
        reversal = run(
            clf,
            sample,
            calibration,
            seed=settings.seed,
            deadline=session.deadline,  # type: ignore[arg-type]
            progress=settings.progress,
        )
    decision, trigger = reversal.decision, trigger_of(reversal)
    tokens = (
        [clf.tokenizer.id_to_token(int(i)) for i in trigger.arrays["token_ids"]] if text and trigger else None
    )
    section = reversal_section(
        reversal, clf.labels, tokens=tokens, device=str(clf.device), calibration=calibration.version
    )
    session.section.update(section)
    session.section[
        "reproducible"
    ] = not unreproducible  # False: a CUDA kernel without a deterministic version ran
    if unreproducible:
        session.section["unreproducible_kernels"] = unreproducible
    if decision is not None and not reversal.backdoored and reversal.complete and not reversal.misread:
        session.candidate = (decision.suspect, reversal.score)
    if reversal.accuracy is not None and reversal.accuracy < CALIBRATED_ACCURACY:
        yield ctx.finding(
            "AIR705",
            name,
            None,
            "sample",
            f"the model reads the labelled clean sample at {reversal.accuracy:.0%} accuracy, under the "
            f"{CALIBRATED_ACCURACY:.0%} the behavioural thresholds were calibrated at, so its score is less "
            "certain"
            + (
                f"; under {MISREAD_FLOOR:.0%} a flag also needs the data-free scan to flag the same class"
                + (f" ({_corroboration(check)})" if (check := section["data_free_check"]) else "")
                if reversal.misread
                else ""
            )
            + ": is the sample of the model's task, and do its labels match the model's classes?",
            {
                "accuracy": round(reversal.accuracy, 4),
                "calibrated_at": CALIBRATED_ACCURACY,
                "floor": MISREAD_FLOOR,
                "corroborated": reversal.agrees if reversal.corroboration is not None else None,
            },
        )
    # what a finding on the deciding class says of it (AIR701, AIR706)
    label = clf.labels.get(decision.suspect, str(decision.suspect)) if decision is not None else ""
    named = {"class": decision.suspect if decision is not None else None, "label": label}
    named |= {"score": section["score"], "mode": reversal.mode}
    if reversal.backdoored and decision is not None and trigger is not None:
        session.blamed = (decision.suspect,)
        yield ctx.finding(
            "AIR701",
            name,
            None,
            f"class {decision.suspect} ({label})",
            f"class {label} {_answers(decision.family)} "
            f"(gap {decision.gap:.2f}; {_families(section['agreeing_families'])}: {reversal.score:.1f}× the clean "
            f"threshold); it flips {trigger.asr:.0%} of {reversal.inputs}",
            {
                **named,
                "gap": round(decision.gap, 4),
                "threshold": decision.threshold,
                "agreeing_families": section["agreeing_families"],
                "trigger": trigger_evidence(trigger, decision.family, tokens),
            },
        )
    if reversal.lead and decision is not None:
        yield ctx.finding(
            "AIR706",
            name,
            None,
            f"class {decision.suspect} ({label})",
            f"class {label} scores {reversal.score:.2f} {reversal.mode}: over the families' thresholds, "
            f"short of the {reversal.verdict_at:g} a {reversal.mode} verdict needs (clean models of other "
            "datasets reach it); scan again with a labelled clean sample (--data) to decide",
            {**named, "verdict_at": reversal.verdict_at},
        )
    if not reversal.complete:
        done = ", ".join(f"{r.family} ({r.steps} steps)" for r in reversal.results) or "nothing"
        why = f"time budget of {settings.time_budget:g} s ran out; done: {done}"
        yield ctx.finding(
            "AIR702",
            name,
            None,
            "model",
            f"behavioural scan incomplete: {why}",
            {"budget_seconds": settings.time_budget, "done": [r.family for r in reversal.results]},
        )
        raise Incomplete(why)
    scanner.summary = (
        f"{reversal.mode} mode; score {reversal.score:.2f} (a verdict above {reversal.verdict_at:g})"
    )


def _corroboration(check: dict[str, Any]) -> str:
    """What the data-free scan of a misread sample's model said (`section.data_free_check`), for AIR705."""
    said = f"it scored {check['score']:.2f}"
    said += f" for class {check['candidate_class']}" if check["candidate_class"] is not None else ""
    return said + (", the same class: flagged" if check["agrees"] else ", so not flagged")


def _answers(family: str) -> str:
    from airlock.behavior.triggers import judged_by

    if judged_by(family) == "success":
        return (
            f"answers to a {family} trigger of the largest allowed size far more often than any other class"
        )
    return f"answers to a {family} trigger far smaller than any other class needs"


def _families(names: list[str]) -> str:
    return f"the {names[0]} family" if len(names) == 1 else f"the {' and '.join(names)} families agree"


def activation_clustering(
    scanner: BehaviouralScanner, ctx: ScanContext, session: Session
) -> Iterator[Finding]:
    from airlock.behavior.clustering import METHOD, cluster
    from airlock.behavior.device import deterministic
    from airlock.behavior.outlier import load_calibration
    from airlock.models.text import TextClassifier

    name = scanner.name
    if session.settings.data is None:
        raise Skipped("needs a labelled sample (--data)")
    if session.out_of_time():
        why = f"time budget of {session.settings.time_budget:g} s ran out before it started"
        yield ctx.finding("AIR712", name, None, "sample", f"activation clustering did not run: {why}")
        raise Incomplete(why)
    try:
        clf = session.classifier()
        sample = session.sample()
    except PROBLEMS as exc:
        yield ctx.finding(
            "AIR712", name, None, "sample", f"activation clustering could not run: {exc.diagnostics()}"
        )
        raise Skipped(exc.diagnostics()) from None
    calibration = load_calibration()
    start = time.perf_counter()
    with deterministic(session.settings.seed):
        kind = "text" if isinstance(clf, TextClassifier) else "image"
        found = cluster(
            clf,
            sample,
            threshold=calibration.clustering[kind],
            blamed=session.blamed,
            blamed_factor=calibration.blamed_factor,
            seed=session.settings.seed,
        )
    corroborated = _corroborated(session, found.classes)
    joint = _joint(session, found.classes, calibration.clustering[kind])
    if joint is not None:  # the two weaker signals agree: one decision, a backdoor in that class
        session.section.update(
            backdoored=True,
            suspect_class=joint.label,
            suspect_label=joint.name,
            decided_by=["trigger_reversal", "activation_clustering"],
        )
    if (
        not session.section
    ):  # trigger reversal did not run: the clustering fills the section, but alone decides nothing
        top = max(found.classes, key=lambda c: c.ratio, default=None)
        poisoned = top is not None and top.poisoned
        session.section.update(
            {
                "method": METHOD,
                "mode": "data",
                "score": round(found.score, 4),
                "backdoored": False,
                "suspect_class": top.label if poisoned and top else None,
                "suspect_label": top.name if poisoned and top else None,
                "per_class": [],
            }
        )
    session.section["activation_clustering"] = {
        **found.section(),
        "corroborated": [c.label for c in corroborated],
    }
    session.section.setdefault("timings", {})["activation_clustering"] = round(time.perf_counter() - start, 2)
    for c in found.classes:
        if c.poisoned:
            agrees = c in corroborated or c is joint
            yield ctx.finding(
                "AIR711",
                name,
                None,
                f"class {c.label} ({c.name})",
                f"class {c.name}: {len(c.suspects)} of {c.size} samples form a separate cluster in the model's "
                f"activations ({c.ratio:.1f}× the separation of the other classes); "
                + (
                    "trigger reversal points at the same class"
                    if c in corroborated
                    else "trigger reversal's leading class is the same (below its own threshold): together, "
                    "a backdoor"
                    if c is joint
                    else "trigger reversal does not point at it, so this alone is not a backdoor verdict"
                ),
                {
                    "class": c.label,
                    "label": c.name,
                    "flagged": len(c.suspects),
                    "size": c.size,
                    "separation": round(c.separation, 3),
                    "ratio": round(c.ratio, 3),
                    "silhouette": round(c.silhouette, 3),
                    "relative_size": round(c.relative_size, 3),
                    "corroborated_by_trigger_reversal": agrees,
                    "rows": c.suspects[:SHOWN_ROWS].tolist(),
                },
                severity=None if agrees else Severity.LOW,
            )


def _corroborated(session: Session, classes: tuple[ClassSplit, ...]) -> list[ClassSplit]:
    """The flagged classes trigger reversal blamed too. Only these make AIR711 high: clustering alone
    is weaker evidence (a clean class of a small sample can split along its ordinary variation) and
    never fails the verdict on its own (AIR711 is then low). A trigger-reversal candidate below its
    threshold only counts from JOINT_FLOOR up (`_joint`)."""
    return [c for c in classes if c.poisoned and c.label in session.blamed]


def _joint(session: Session, classes: tuple[ClassSplit, ...], threshold: float) -> ClassSplit | None:
    """The class both checks point at when neither decides alone (see JOINT_FLOOR), or None."""
    if session.blamed or session.candidate is None:
        return None
    label, score = session.candidate
    return next(
        (c for c in classes if c.label == label and c.ratio >= threshold and score >= JOINT_FLOOR), None
    )
