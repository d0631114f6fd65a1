"""Checks, and the one runner that runs them.

A check is a `Scanner`: an `ArtifactScanner` looks at one file at a time (its results are cached by
the file's sha256), a `TargetScanner` looks at the scan's target as a whole (a `SnapshotScanner`
at the model, a data check at the dataset). `run_scanners` is the only place that times a check and
records its outcome: `ran`; `skipped` when the check raises `Skipped` (it does not apply); `error`
when it raises `Incomplete` (it started but could not finish) or breaks, a break also giving an
AIR901 finding. Never a crash, never a silent pass: the policy decides what a skipped or broken
check means, and an `error` never counts as ran.
"""

from __future__ import annotations

import enum
import time
import traceback
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from airlock.artifacts import Artifact
from airlock.findings import Finding, RuleId, Severity
from airlock.formats import Format
from airlock.parsers.limits import (
    Limits as Limits,  # the readers' bounds; the engine hands them to every scanner
)
from airlock.rules import RuleSet
from airlock.sources.interface import Snapshot

if TYPE_CHECKING:
    from airlock.policy import LicensePolicy

NOTHING_TO_READ = "no artifact in a format it reads"  # the reason an artifact scanner is skipped
INCOMPLETE = "incomplete: "  # how the reason of a check that raised `Incomplete` begins


class CheckStatus(enum.StrEnum):
    RAN = "ran"
    SKIPPED = "skipped"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class CheckResult:
    scanner: str
    status: CheckStatus
    seconds: float
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "scanner": self.scanner,
            "status": str(self.status),
            "seconds": round(self.seconds, 6),
            "reason": self.reason,
        }


class Skipped(Exception):  # an outcome, not an error
    """Raised by a check that does not apply (to this target, or this artifact); the message says why.

    Findings the check yielded before raising are kept (e.g. the finding that says why it could not
    apply). The check is recorded as `skipped`, which a policy that requires it counts as not ran."""


class Incomplete(Exception):  # an outcome, not a crash
    """Raised by a check that started but could not finish (a time budget ran out, …); the message says
    why. Findings yielded before it are kept; the check is recorded as `error` ("incomplete: …"), so a
    policy that requires it fails closed. No AIR901: the check itself says what is missing."""


class CheckContext:
    """What every check may consult: the rules, and the one finding factory.

    Subclasses are dataclasses that declare `rules` as a field (`ScanContext` for a model,
    `airlock.data.checks.Workspace` for a dataset). While `run_scanners` runs a check, `running`
    names it, so a finding can only be made in the name of the check that is running."""

    rules: RuleSet
    subject: ClassVar[str] = "model"  # where a finding about the target as a whole points
    running: str | None = None

    def finding(
        self,
        rule: str,
        scanner: str,
        artifact: str | None,
        location: str,
        message: str,
        evidence: Mapping[str, Any] | None = None,
        severity: Severity | None = None,
    ) -> Finding:
        """A finding whose severity and references come from the rule data (unless `severity` is given)."""
        data = self.rules[rule]
        if self.running is not None and scanner != self.running:
            raise AssertionError(f"a finding in the name of {scanner} while {self.running} runs")
        if data.scanner != scanner:
            raise AssertionError(f"{scanner} emitted {rule}, which belongs to {data.scanner}")
        return Finding(
            rule=RuleId(rule),
            severity=severity if severity is not None else data.severity,
            scanner=scanner,
            artifact=artifact,
            location=location,
            message=message,
            evidence=dict(evidence or {}),
            references=data.references,
        )


@dataclass
class ScanContext(CheckContext):
    """What a model scanner may consult besides the artifact: the rules, the snapshot, bounds, settings."""

    rules: RuleSet
    snapshot: Snapshot
    artifacts: Sequence[Artifact]
    limits: Limits = field(default_factory=Limits)
    trusted_publishers: frozenset[str] = frozenset()
    blocked_publishers: frozenset[str] = frozenset()
    licenses: LicensePolicy | None = None  # the policy's [licenses]; None when it has none


class Scanner(ABC):
    """One family of checks. Subclasses never print; they yield findings."""

    name: ClassVar[str]
    version: ClassVar[str]  # bump when results change; it is part of the cache key
    rules: ClassVar[frozenset[str]]  # every rule id this scanner may emit (a test keeps this honest)
    noun: ClassVar[str] = "scanner"  # what the AIR901 message calls it

    def warm_up(self, files: Sequence[str]) -> None:  # noqa: B027  an optional hook; most scanners need none
        """Start slow preparation for a snapshot whose files (relative paths) are about to be hashed.

        Must return at once: the hashing pass holds the interpreter, so slow work belongs in another
        process (see the modelscan bridge), not on a thread here."""

    def note(self) -> str | None:
        """A line for the report's check after a run (e.g. time spent outside this process)."""
        return None


class ArtifactScanner(Scanner):
    formats: ClassVar[frozenset[Format]]

    def applies(self, artifact: Artifact) -> bool:
        return artifact.format in self.formats

    def context_key(self, ctx: ScanContext) -> str:
        """What this scanner's results depend on besides an artifact's bytes (e.g. which other files the
        snapshot holds); part of the result-cache key. Empty for a scanner that reads only the artifact."""
        return ""

    def start(self, artifacts: Sequence[Artifact]) -> None:
        """Begin work on these artifacts elsewhere (another process) before `scan` is called for each.

        Called once, right after hashing, with the artifacts it applies to that are not in the cache."""

    @abstractmethod
    def scan(self, artifact: Artifact, ctx: ScanContext) -> Iterator[Finding]:
        """Yield findings for `artifact`. Raise `Skipped` when it does not apply, otherwise only when the
        scanner itself broke."""


class TargetScanner(Scanner):
    """A check over the target as a whole: run once, with the context of its kind of scan."""

    @abstractmethod
    def scan_target(self, ctx: CheckContext) -> Iterator[Finding]:
        """Yield findings; raise `Skipped` or `Incomplete` to say it did not (fully) run."""


class SnapshotScanner(TargetScanner):
    def scan_target(self, ctx: CheckContext) -> Iterator[Finding]:
        if not isinstance(ctx, ScanContext):
            raise TypeError(f"{self.name} scans a model snapshot, not a {type(ctx).__name__}")
        return self.scan_snapshot(ctx)

    @abstractmethod
    def scan_snapshot(self, ctx: ScanContext) -> Iterator[Finding]:
        """Yield findings about the snapshot as a whole."""


class ResultCache(ABC):
    """Where artifact-scanner results are remembered (see `airlock.cache`)."""

    @abstractmethod
    def get(self, sha256: str, scanner: str, version: str) -> list[Finding] | None: ...

    @abstractmethod
    def put(self, sha256: str, scanner: str, version: str, findings: Sequence[Finding]) -> None: ...


@dataclass(frozen=True)
class ScanOutcome:
    checks: tuple[CheckResult, ...]
    findings: tuple[Finding, ...]


def run_scanners(
    scanners: Iterable[Scanner], ctx: CheckContext, cache: ResultCache | None = None
) -> ScanOutcome:
    """Run each check once, in order: one `CheckResult` per check, every finding sorted (the one runner).

    Artifact scanners (which need a `ScanContext`) are first told about every uncached artifact they
    will read, so work in other processes starts at once; their results go through `cache`."""
    checks: list[CheckResult] = []
    findings: list[Finding] = []
    scanners = list(scanners)
    for scanner in scanners:
        if isinstance(scanner, ArtifactScanner):
            _start(scanner, _model_context(scanner, ctx), cache)
    for scanner in scanners:
        ctx.running = scanner.name
        try:
            if isinstance(scanner, TargetScanner):
                check, found = _run_target_scanner(scanner, ctx)
            elif isinstance(scanner, ArtifactScanner):
                check, found = _run_artifact_scanner(scanner, _model_context(scanner, ctx), cache)
            else:
                raise TypeError(f"{type(scanner).__name__} is neither an artifact nor a target scanner")
        finally:
            ctx.running = None
        checks.append(check)
        findings.extend(found)
    return ScanOutcome(checks=tuple(checks), findings=tuple(sorted(findings, key=Finding.sort_key)))


def _model_context(scanner: Scanner, ctx: CheckContext) -> ScanContext:
    if not isinstance(ctx, ScanContext):
        raise TypeError(f"{scanner.name} scans model artifacts, not a {type(ctx).__name__}")
    return ctx


@dataclass(frozen=True)
class _Attempt:
    """One call of a check: what it yielded, and how it ended."""

    status: CheckStatus
    findings: list[Finding]
    reason: str | None = None


def _attempt(
    scanner: Scanner, ctx: CheckContext, artifact: Artifact | None, body: Callable[[], Iterable[Finding]]
) -> _Attempt:
    found: list[Finding] = []
    try:
        for finding in body():  # one at a time: what came before a Skipped/Incomplete is kept
            found.append(finding)
    except Skipped as skip:
        return _Attempt(CheckStatus.SKIPPED, found, str(skip))
    except Incomplete as cut:
        return _Attempt(CheckStatus.ERROR, found, f"{INCOMPLETE}{cut}"[:2000])
    except Exception as exc:  # noqa: BLE001  a broken check is recorded, never a crash
        return _Attempt(
            CheckStatus.ERROR, [_broken(scanner, ctx, artifact, exc)], f"{type(exc).__name__}: {exc}"[:2000]
        )
    return _Attempt(CheckStatus.RAN, found)


def _start(scanner: ArtifactScanner, ctx: ScanContext, cache: ResultCache | None) -> None:
    """Let a scanner that works in another process begin on every artifact at once."""
    version = _cache_version(scanner, ctx)
    todo = [
        a
        for a in ctx.artifacts
        if scanner.applies(a) and (cache is None or cache.get(a.sha256, scanner.name, version) is None)
    ]
    if not todo:
        return
    try:
        scanner.start(todo)
    except Exception:  # noqa: BLE001  only a head start: `scan` asks again and reports what breaks
        return


def _cache_version(scanner: ArtifactScanner, ctx: ScanContext) -> str:
    key = scanner.context_key(ctx)
    return f"{scanner.version}+{key}" if key else scanner.version


def _run_target_scanner(scanner: TargetScanner, ctx: CheckContext) -> tuple[CheckResult, list[Finding]]:
    start = time.perf_counter()
    done = _attempt(scanner, ctx, None, lambda: scanner.scan_target(ctx))
    seconds = time.perf_counter() - start
    reason = done.reason if done.status is not CheckStatus.RAN else scanner.note()
    return CheckResult(scanner.name, done.status, seconds, reason), done.findings


def _run_artifact_scanner(
    scanner: ArtifactScanner, ctx: ScanContext, cache: ResultCache | None
) -> tuple[CheckResult, list[Finding]]:
    start = time.perf_counter()
    targets = [a for a in ctx.artifacts if scanner.applies(a)]
    if not targets:
        return CheckResult(scanner.name, CheckStatus.SKIPPED, 0.0, NOTHING_TO_READ), []
    found: list[Finding] = []
    errors: list[str] = []
    skipped: list[str] = []
    cached = 0
    version = _cache_version(scanner, ctx)
    for artifact in targets:
        hit = cache.get(artifact.sha256, scanner.name, version) if cache is not None else None
        if hit is not None:
            cached += 1
            found.extend(_rebind(f, artifact.path) for f in hit)
            continue
        done = _attempt(scanner, ctx, artifact, partial(scanner.scan, artifact, ctx))
        found.extend(done.findings)
        if done.status is CheckStatus.ERROR:
            errors.append(f"{artifact.path}: {done.reason}")
        elif done.status is CheckStatus.SKIPPED:
            skipped.append(f"{artifact.path}: {done.reason}")
        elif cache is not None:
            cache.put(artifact.sha256, scanner.name, version, done.findings)
    seconds = time.perf_counter() - start
    if errors:
        return CheckResult(scanner.name, CheckStatus.ERROR, seconds, "; ".join(errors)[:2000]), found
    if len(skipped) == len(targets):
        return CheckResult(scanner.name, CheckStatus.SKIPPED, seconds, "; ".join(skipped)[:2000]), found
    reason = f"{cached} of {len(targets)} from cache" if cached else None
    if cached < len(targets):
        reason = "; ".join(part for part in (reason, scanner.note()) if part) or None
    return CheckResult(scanner.name, CheckStatus.RAN, seconds, reason), found


def _rebind(finding: Finding, path: str) -> Finding:
    """A cached finding belongs to the bytes; give it the path those bytes have in this snapshot."""
    if finding.artifact == path:
        return finding
    location = finding.location
    if finding.artifact and location.startswith(finding.artifact):
        location = path + location[len(finding.artifact) :]
    return Finding(
        finding.rule,
        finding.severity,
        finding.scanner,
        path,
        location,
        finding.message,
        finding.evidence,
        finding.references,
    )


def _broken(scanner: Scanner, ctx: CheckContext, artifact: Artifact | None, exc: Exception) -> Finding:
    """AIR901: the check broke, so what it was to look at is unvetted (only the runner makes this one)."""
    where = artifact.path if artifact is not None else None
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    rule = ctx.rules["AIR901"]
    return Finding(
        rule=RuleId("AIR901"),
        severity=rule.severity,
        scanner=scanner.name,
        artifact=where,
        location=where or ctx.subject,
        message=f"{scanner.noun} {scanner.name} failed: {type(exc).__name__}: {exc}"[:300],
        evidence={"exception": type(exc).__name__, "at": f"{frame.filename}:{frame.lineno}" if frame else ""},
        references=rule.references,
    )
