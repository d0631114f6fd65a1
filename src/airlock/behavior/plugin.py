"""How behavioural scanners run inside `airlock scan --behavior`: after the static scan, sharing one session.

Behavioural scanners are opt-in (the registry marks them `opt_in`): the default static scan neither
runs them nor imports torch. When asked for, they run after the static scanners, because a pickle
checkpoint may only be read (with `weights_only=True`) once the static scan passed it. They share a
`Session`: the model is loaded once, the sample read once, one deadline covers them all, and
activation clustering hears which class trigger reversal blamed. They run on the one runner like any
check: a scanner that cannot apply raises `Skipped`, one whose time budget ran out raises
`Incomplete` (an `error` check), each after yielding the finding that says so. The scanners are
then required by the policy of this run, so an unfinished or impossible behavioural scan never passes.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from airlock.behavior.outcome import annotate
from airlock.behavior.settings import BehaviorSettings
from airlock.findings import Finding, Severity
from airlock.policy import Policy, apply_overrides
from airlock.scanning import CheckStatus, ScanContext, Scanner, ScanOutcome, SnapshotScanner, run_scanners

PICKLE_SCANNER = "pickle_opcodes"
PICKLE_WEIGHTS = "pytorch_model.bin"


@dataclass
class Session:
    """What the behavioural scanners of one scan share. Loading happens on first use, errors are kept."""

    settings: BehaviorSettings
    folder: Path
    reference: str
    pickle_allowed: bool
    deadline: float | None
    section: dict[str, Any] = field(default_factory=dict)  # the report's `behavior` section, filled in
    blamed: tuple[int, ...] = ()  # classes trigger reversal flagged
    candidate: tuple[int, float] | None = None  # trigger reversal's leading class and score, when unflagged
    _loaded: Any = None
    _sample: Any = None
    _sample_read: bool = False

    def classifier(self) -> Any:
        """The model as an `ImageClassifier` or `TextClassifier` (raises ModelRefused and friends)."""
        if self._loaded is None:
            from airlock.behavior.device import resolve_device
            from airlock.models.classifier import load_classifier

            self._loaded = load_classifier(
                self.folder,
                self.reference,
                arch=self.settings.arch,
                pickle_allowed=self.pickle_allowed,
                device=resolve_device(self.settings.device),
            )
        return self._loaded

    def sample(self) -> Any:
        """The clean sample (`ImageSample` / `TextSample`), or None in data-free mode."""
        if not self._sample_read:
            from airlock.behavior.samples import read_sample
            from airlock.models.text import TextClassifier

            clf = self.classifier()
            if self.settings.data is not None:
                self._sample = read_sample(
                    self.settings.data, clf.labels, text=isinstance(clf, TextClassifier)
                )
            self._sample_read = True
        return self._sample

    def out_of_time(self) -> bool:
        return self.deadline is not None and time.monotonic() > self.deadline


class BehaviouralScanner(SnapshotScanner):
    """A scanner that probes the loaded model; it runs only when asked for, after the static scan."""

    def __init__(self) -> None:
        self.session: Session | None = None
        self.summary: str | None = None  # a line for the check after a complete run (see `note`)

    def note(self) -> str | None:
        return self.summary

    def required(self, settings: BehaviorSettings) -> bool:
        """Whether this scan must have run for the verdict to pass."""
        return True


def session_for(
    ctx: ScanContext, settings: BehaviorSettings | None = None, *, pickle_allowed: bool = False
) -> Session:
    """A session over the snapshot of `ctx` (by default: no sample, no budget, safetensors only)."""
    settings = settings or BehaviorSettings()
    root = ctx.snapshot.root
    return Session(
        settings=settings,
        folder=root if root.is_dir() else root.parent,
        reference=ctx.snapshot.reference.raw,
        pickle_allowed=pickle_allowed,
        deadline=time.monotonic() + settings.time_budget if settings.time_budget is not None else None,
    )


def run_behavioural(
    scanners: Sequence[Scanner],
    ctx: ScanContext,
    static: ScanOutcome,
    settings: BehaviorSettings,
    policy: Policy,
) -> tuple[ScanOutcome, dict[str, Any] | None, Policy]:
    """Run the behavioural scanners after the static ones; return every check and finding, the
    `behavior` section, and the policy with the behavioural checks required."""
    session = session_for(ctx, settings, pickle_allowed=_static_passed(static, policy, PICKLE_WEIGHTS))
    behavioural = [s for s in scanners if isinstance(s, BehaviouralScanner)]
    for scanner in behavioural:
        scanner.session = session
    ran = run_scanners(behavioural, ctx)
    required = [
        s.name for s in behavioural if s.required(settings) and s.name not in policy.required_scanners
    ]
    findings = tuple(sorted((*static.findings, *ran.findings), key=Finding.sort_key))
    return (
        ScanOutcome(checks=(*static.checks, *ran.checks), findings=findings),
        annotate(session.section or None, ran.checks),
        replace(policy, required_scanners=(*policy.required_scanners, *required)),
    )


def _static_passed(static: ScanOutcome, policy: Policy, path: str) -> bool:
    """The pickle scanner ran, and nothing at or above the policy's failing severity names `path`."""
    if not any(c.scanner == PICKLE_SCANNER and c.status is CheckStatus.RAN for c in static.checks):
        return False
    findings = apply_overrides(policy, [f for f in static.findings if f.artifact == path])
    return not any(f.severity >= min(policy.fail_at, Severity.HIGH) for f in findings)
