"""Scanners and the pipeline that runs them.

Two kinds of plug-in share one base: an `ArtifactScanner` looks at one file at a time (its results
are cached by the file's sha256), a `SnapshotScanner` looks at the model as a whole (provenance).
A scanner that raises is recorded as an `error` check plus an AIR901 finding: never a crash, never
a silent pass. The policy, not the pipeline, decides what a skipped or broken scanner means.
"""

from __future__ import annotations

import enum
import time
import traceback
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from airlock.artifacts import Artifact
from airlock.findings import Finding, RuleId, Severity
from airlock.formats import Format
from airlock.parsers.limits import (
    Limits as Limits,  # the readers' bounds; the engine hands them to every scanner
)
from airlock.rules import RuleSet
from airlock.sources.interface import Snapshot

NOTHING_TO_READ = "no artifact in a format it reads"  # the reason an artifact scanner is skipped


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
        return {"scanner": self.scanner, "status": str(self.status), "seconds": round(self.seconds, 6), "reason": self.reason}


@dataclass
class ScanContext:
    """What a scanner may consult besides the artifact: the rules, the snapshot, bounds, settings."""

    rules: RuleSet
    snapshot: Snapshot
    artifacts: Sequence[Artifact]
    limits: Limits = field(default_factory=Limits)
    trusted_publishers: frozenset[str] = frozenset()
    blocked_publishers: frozenset[str] = frozenset()

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
        """A finding whose severity and references come from the rule data (severity may be raised)."""
        data = self.rules[rule]
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


class Scanner(ABC):
    """One family of checks. Subclasses never print; they yield findings."""

    name: ClassVar[str]
    version: ClassVar[str]  # bump when results change; it is part of the cache key
    rules: ClassVar[frozenset[str]]  # every rule id this scanner may emit (a test keeps this honest)

    def warm_up(self, files: Sequence[str]) -> None:
        """Start slow preparation for a snapshot whose files (relative paths) are about to be hashed.

        Must return at once: the hashing pass holds the interpreter, so slow work belongs in another
        process (see the modelscan bridge), not on a thread here."""


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
        """Yield findings for `artifact`. Raise only when the scanner itself broke."""

    def note(self) -> str | None:
        """A line for the report's check after a run (e.g. time spent outside this process)."""
        return None


class SnapshotScanner(Scanner):
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
    scanners: Iterable[Scanner], ctx: ScanContext, cache: ResultCache | None = None
) -> ScanOutcome:
    checks: list[CheckResult] = []
    findings: list[Finding] = []
    scanners = list(scanners)
    for scanner in scanners:
        if isinstance(scanner, ArtifactScanner):
            _start(scanner, ctx, cache)
    for scanner in scanners:
        if isinstance(scanner, SnapshotScanner):
            check, found = _run_snapshot_scanner(scanner, ctx)
        elif isinstance(scanner, ArtifactScanner):
            check, found = _run_artifact_scanner(scanner, ctx, cache)
        else:
            raise TypeError(f"{type(scanner).__name__} is neither an artifact nor a snapshot scanner")
        checks.append(check)
        findings.extend(found)
    return ScanOutcome(checks=tuple(checks), findings=tuple(sorted(findings, key=Finding.sort_key)))


def _start(scanner: ArtifactScanner, ctx: ScanContext, cache: ResultCache | None) -> None:
    """Let a scanner that works in another process begin on every artifact at once."""
    version = _cache_version(scanner, ctx)
    todo = [a for a in ctx.artifacts if scanner.applies(a)
            and (cache is None or cache.get(a.sha256, scanner.name, version) is None)]
    if not todo:
        return
    try:
        scanner.start(todo)
    except Exception:  # noqa: BLE001  only a head start: `scan` asks again and reports what breaks
        return


def _cache_version(scanner: ArtifactScanner, ctx: ScanContext) -> str:
    key = scanner.context_key(ctx)
    return f"{scanner.version}+{key}" if key else scanner.version


def _run_snapshot_scanner(scanner: SnapshotScanner, ctx: ScanContext) -> tuple[CheckResult, list[Finding]]:
    start = time.perf_counter()
    try:
        found = list(scanner.scan_snapshot(ctx))
    except Exception as exc:  # noqa: BLE001  a broken scanner is recorded, never a crash
        return _broken(scanner, ctx, None, exc, time.perf_counter() - start)
    return CheckResult(scanner.name, CheckStatus.RAN, time.perf_counter() - start), found


def _run_artifact_scanner(
    scanner: ArtifactScanner, ctx: ScanContext, cache: ResultCache | None
) -> tuple[CheckResult, list[Finding]]:
    start = time.perf_counter()
    targets = [a for a in ctx.artifacts if scanner.applies(a)]
    if not targets:
        return CheckResult(scanner.name, CheckStatus.SKIPPED, 0.0, NOTHING_TO_READ), []
    found: list[Finding] = []
    errors: list[str] = []
    cached = 0
    version = _cache_version(scanner, ctx)
    for artifact in targets:
        hit = cache.get(artifact.sha256, scanner.name, version) if cache is not None else None
        if hit is not None:
            cached += 1
            found.extend(_rebind(f, artifact.path) for f in hit)
            continue
        try:
            result = list(scanner.scan(artifact, ctx))
        except Exception as exc:  # noqa: BLE001  a broken scanner is recorded, never a crash
            _, broken = _broken(scanner, ctx, artifact, exc, 0.0)
            found.extend(broken)
            errors.append(f"{artifact.path}: {type(exc).__name__}: {exc}")
            continue
        found.extend(result)
        if cache is not None:
            cache.put(artifact.sha256, scanner.name, version, result)
    seconds = time.perf_counter() - start
    if errors:
        return CheckResult(scanner.name, CheckStatus.ERROR, seconds, "; ".join(errors)[:2000]), found
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
        finding.rule, finding.severity, finding.scanner, path, location, finding.message,
        finding.evidence, finding.references,
    )


def _broken(
    scanner: Scanner, ctx: ScanContext, artifact: Artifact | None, exc: Exception, seconds: float
) -> tuple[CheckResult, list[Finding]]:
    where = artifact.path if artifact is not None else None
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    finding = Finding(
        rule=RuleId("AIR901"),
        severity=ctx.rules["AIR901"].severity,
        scanner=scanner.name,
        artifact=where,
        location=where or "model",
        message=f"scanner {scanner.name} failed: {type(exc).__name__}: {exc}"[:300],
        evidence={"exception": type(exc).__name__, "at": f"{frame.filename}:{frame.lineno}" if frame else ""},
        references=ctx.rules["AIR901"].references,
    )
    reason = f"{type(exc).__name__}: {exc}"[:2000]
    return CheckResult(scanner.name, CheckStatus.ERROR, seconds, reason), [finding]
