"""The one check runner (`airlock.scanning.run_scanners`): fail-closed outcomes, the finding factory,
and the result cache it reads through.

A check that breaks must give an `error` check and an AIR901 finding, and either alone must fail the
verdict; these tests are written so that losing either (or the signatures version from the cache
key) makes them fail.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from airlock.artifacts import Artifact, collect
from airlock.cache import SqliteCache
from airlock.findings import Finding, Severity
from airlock.formats import Format
from airlock.policy import Policy, default_policy, parse_policy
from airlock.report import Report, build_report
from airlock.rules import RuleSet, load_rules
from airlock.scanning import (
    ArtifactScanner,
    CheckStatus,
    Incomplete,
    ScanContext,
    Scanner,
    ScanOutcome,
    Skipped,
    SnapshotScanner,
    run_scanners,
)
from airlock.sources.interface import Snapshot, parse_reference


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_rules()


def _model(folder: Path) -> tuple[Snapshot, list[Artifact]]:
    folder.mkdir(exist_ok=True)
    (folder / "notes.txt").write_text("plain text\n")
    (folder / "config.json").write_text("{}")
    files = tuple((p.name, p) for p in sorted(folder.iterdir()))
    return Snapshot(parse_reference(str(folder)), "local", folder, files), collect(files)


def _context(folder: Path, rules: RuleSet) -> ScanContext:
    snapshot, artifacts = _model(folder)
    return ScanContext(rules=rules, snapshot=snapshot, artifacts=artifacts)


def _report(ctx: ScanContext, outcome: ScanOutcome, policy: Policy) -> Report:
    return build_report(
        reference=ctx.snapshot.reference.raw,
        source="local",
        revision=None,
        artifacts=ctx.artifacts,
        outcome=outcome,
        policy=policy,
        signatures_version=ctx.rules.version,
    )


def _check(outcome: ScanOutcome | Report, name: str) -> Any:
    return next(c for c in outcome.checks if c.scanner == name)


class BrokenArtifactScanner(ArtifactScanner):
    name = "archives"  # a real scanner name: its rules exist, a policy may require it
    version = "test"
    formats: ClassVar[frozenset[Format]] = frozenset({Format.TEXT})
    rules: ClassVar[frozenset[str]] = frozenset()

    def scan(self, artifact: Artifact, ctx: ScanContext) -> Iterator[Finding]:
        raise ValueError("the parser fell over")


class BrokenSnapshotScanner(SnapshotScanner):
    name = "provenance"
    version = "test"
    rules: ClassVar[frozenset[str]] = frozenset()

    def scan_snapshot(self, ctx: ScanContext) -> Iterator[Finding]:
        yield ctx.finding("AIR101", self.name, None, "model", "yielded before the break")
        raise RuntimeError("lookup failed")


# --- a raising check: error + AIR901, and the verdict fails ------------------------------------------


def test_a_raising_artifact_scanner_is_an_error_with_air901_and_fails_the_verdict(
    tmp_path: Path, rules: RuleSet
) -> None:
    ctx = _context(tmp_path / "m", rules)
    outcome = run_scanners([BrokenArtifactScanner()], ctx)
    check = _check(outcome, "archives")
    assert check.status is CheckStatus.ERROR
    assert check.reason == "notes.txt: ValueError: the parser fell over"
    assert [(f.rule, f.scanner, f.artifact, f.location, f.severity) for f in outcome.findings] == [
        ("AIR901", "archives", "notes.txt", "notes.txt", Severity.HIGH)
    ]
    assert outcome.findings[0].message == "scanner archives failed: ValueError: the parser fell over"
    assert outcome.findings[0].evidence["exception"] == "ValueError"
    verdict = _report(ctx, outcome, default_policy(())).verdict  # nothing required: AIR901 alone fails it
    assert verdict.decision == "fail" and verdict.reasons == ("1 finding(s) at or above high: AIR901",)


def test_a_raising_snapshot_scanner_is_an_error_with_air901_and_fails_the_verdict(
    tmp_path: Path, rules: RuleSet
) -> None:
    ctx = _context(tmp_path / "m", rules)
    outcome = run_scanners([BrokenSnapshotScanner()], ctx)
    check = _check(outcome, "provenance")
    assert check.status is CheckStatus.ERROR and check.reason == "RuntimeError: lookup failed"
    assert [(f.rule, f.artifact, f.location) for f in outcome.findings] == [("AIR901", None, "model")]
    assert outcome.findings[0].message == "scanner provenance failed: RuntimeError: lookup failed"
    assert not _report(ctx, outcome, default_policy(())).passed


def test_an_error_status_alone_fails_a_policy_that_requires_the_check(tmp_path: Path, rules: RuleSet) -> None:
    """With AIR901 ignored by the policy, the `error` status still fails the verdict (fail closed)."""
    ctx = _context(tmp_path / "m", rules)
    policy = parse_policy(
        'required_scanners = ["archives", "provenance"]\n[severity]\nAIR901 = "ignore"\n', "test"
    )
    report = _report(ctx, run_scanners([BrokenArtifactScanner(), BrokenSnapshotScanner()], ctx), policy)
    assert report.findings == ()
    assert report.verdict.reasons == ("required scanner archives error", "required scanner provenance error")
    assert not report.passed


def test_a_broken_scanner_beside_a_working_one_breaks_only_itself(tmp_path: Path, rules: RuleSet) -> None:
    from airlock.scanners.provenance import Provenance

    ctx = _context(tmp_path / "m", rules)
    outcome = run_scanners([BrokenArtifactScanner(), Provenance()], ctx)
    assert [(c.scanner, str(c.status)) for c in outcome.checks] == [
        ("archives", "error"),
        ("provenance", "ran"),
    ]


def test_a_scan_whose_scanners_break_fails_end_to_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through `airlock.pipeline.scan`: a real artifact and a real snapshot scanner, made to raise."""
    from airlock.pipeline import ScanOptions, scan
    from airlock.scanners.provenance import Provenance
    from airlock.scanners.safetensors_header import SafetensorsHeader

    def boom(*args: object) -> Iterator[Finding]:
        raise OSError("disk on fire")

    monkeypatch.setattr(SafetensorsHeader, "scan", boom)
    monkeypatch.setattr(Provenance, "scan_snapshot", boom)
    (tmp_path / "model.safetensors").write_bytes(b"\x02\0\0\0\0\0\0\0{}")
    report = scan(
        str(tmp_path),
        ScanOptions(
            use_cache=False, scanners=["provenance", "safetensors_header"], policy=default_policy(())
        ),
    )
    assert [(c.scanner, str(c.status)) for c in report.checks] == [
        ("provenance", "error"),
        ("safetensors_header", "error"),
    ]
    assert sorted((f.rule, f.scanner, f.location) for f in report.findings) == [
        ("AIR901", "provenance", "model"),
        ("AIR901", "safetensors_header", "model.safetensors"),
    ]
    assert not report.passed


def _table(folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    rows = ["age,income,label"] + [f"{20 + i % 30},{1000 + 37 * i % 900},{i % 2}" for i in range(60)]
    path = folder / "train.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_a_raising_data_check_is_an_error_with_air901_and_fails_the_verdict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airlock.data import pipeline as data_pipeline
    from airlock.data.checks import DATA_CHECKS, DataCheck, Workspace

    class Exploding(DataCheck):
        name = "privacy"
        version = "test"
        rules: ClassVar[frozenset[str]] = frozenset()

        def run(self, ws: Workspace) -> Iterator[Finding]:
            raise KeyError("no such column")

    monkeypatch.setattr(
        data_pipeline, "DATA_CHECKS", (*[c for c in DATA_CHECKS if c.name != "privacy"], Exploding)
    )
    report = data_pipeline.vet(_table(tmp_path / "d"))
    check = _check(report, "privacy")
    assert check.status is CheckStatus.ERROR and check.reason == "KeyError: 'no such column'"
    broken = [f for f in report.findings if f.rule == "AIR901"]
    assert [(f.scanner, f.artifact, f.location) for f in broken] == [("privacy", None, "dataset")]
    assert broken[0].message == "check privacy failed: KeyError: 'no such column'"
    assert not report.passed and report.verdict.reasons == ("1 finding(s) at or above high: AIR901",)
    assert _check(report, "target_leakage").status is CheckStatus.RAN  # the others still ran


# --- Skipped and Incomplete --------------------------------------------------------------------------


class Refusing(SnapshotScanner):
    name = "trigger_reversal"
    version = "test"
    rules: ClassVar[frozenset[str]] = frozenset({"AIR703"})

    def scan_snapshot(self, ctx: ScanContext) -> Iterator[Finding]:
        yield ctx.finding("AIR703", self.name, "config.json", "model", "needs remote code")
        raise Skipped("the architecture needs remote code")


class RunningOutOfTime(SnapshotScanner):
    name = "trigger_reversal"
    version = "test"
    rules: ClassVar[frozenset[str]] = frozenset({"AIR702"})

    def scan_snapshot(self, ctx: ScanContext) -> Iterator[Finding]:
        yield ctx.finding("AIR702", self.name, None, "model", "behavioural scan incomplete")
        raise Incomplete("time budget of 1 s ran out")


def test_skipped_keeps_what_was_yielded_and_gives_no_air901(tmp_path: Path, rules: RuleSet) -> None:
    ctx = _context(tmp_path / "m", rules)
    outcome = run_scanners([Refusing()], ctx)
    check = _check(outcome, "trigger_reversal")
    assert check.status is CheckStatus.SKIPPED and check.reason == "the architecture needs remote code"
    assert [f.rule for f in outcome.findings] == ["AIR703"]
    required = parse_policy(
        'required_scanners = ["trigger_reversal"]\n[severity]\nAIR703 = "ignore"\n', "test"
    )
    assert _report(ctx, outcome, required).verdict.reasons == ("required scanner trigger_reversal skipped",)


def test_incomplete_is_an_error_that_fails_closed_when_required(tmp_path: Path, rules: RuleSet) -> None:
    ctx = _context(tmp_path / "m", rules)
    outcome = run_scanners([RunningOutOfTime()], ctx)
    check = _check(outcome, "trigger_reversal")
    assert check.status is CheckStatus.ERROR and check.reason == "incomplete: time budget of 1 s ran out"
    assert [f.rule for f in outcome.findings] == ["AIR702"]  # the check's own finding, not AIR901
    required = parse_policy(
        'required_scanners = ["trigger_reversal"]\n[severity]\nAIR702 = "ignore"\n', "test"
    )
    report = _report(ctx, outcome, required)
    assert not report.passed and report.verdict.reasons == ("required scanner trigger_reversal error",)
    assert _report(ctx, outcome, default_policy(())).passed is (ctx.rules["AIR702"].severity < Severity.HIGH)


def test_a_skipped_artifact_is_not_cached_and_all_skipped_is_a_skipped_check(
    tmp_path: Path, rules: RuleSet
) -> None:
    class NotForMe(BrokenArtifactScanner):
        def scan(self, artifact: Artifact, ctx: ScanContext) -> Iterator[Finding]:
            raise Skipped("not a template")

    ctx = _context(tmp_path / "m", rules)
    cache = SqliteCache(tmp_path / "cache.sqlite3", rules.version)
    outcome = run_scanners([NotForMe()], ctx, cache)
    assert str(_check(outcome, "archives").status) == "skipped"
    assert _check(outcome, "archives").reason == "notes.txt: not a template"
    assert cache.get(ctx.artifacts[1].sha256, "archives", "test") is None
    cache.close()


# --- the finding factory -----------------------------------------------------------------------------


def test_an_explicit_severity_is_honoured_even_info(tmp_path: Path, rules: RuleSet) -> None:
    from airlock.data.checks import Workspace
    from airlock.data.loading import open_dataset
    from airlock.data.pipeline import calibration

    assert rules["AIR841"].severity > Severity.INFO and rules["AIR101"].severity > Severity.INFO
    ctx = _context(tmp_path / "m", rules)
    made = ctx.finding("AIR101", "provenance", None, "model", "m", severity=Severity.INFO)
    assert made.severity is Severity.INFO
    assert ctx.finding("AIR101", "provenance", None, "model", "m").severity is rules["AIR101"].severity
    ws = Workspace(
        rules=rules,
        artifact="train.csv",
        train=open_dataset(_table(tmp_path / "d")),
        test=None,
        section={},
        calibration=calibration(),
    )
    assert (
        ws.finding("AIR841", "privacy", ws.artifact, "column x", "m", {}, Severity.INFO).severity
        is Severity.INFO
    )


def test_a_finding_must_belong_to_the_running_check(tmp_path: Path, rules: RuleSet) -> None:
    class Impostor(SnapshotScanner):
        name = "provenance"
        version = "test"
        rules: ClassVar[frozenset[str]] = frozenset()

        def scan_snapshot(self, ctx: ScanContext) -> Iterator[Finding]:
            yield ctx.finding(self.rule, self.scanner, None, "model", "m")

    ctx = _context(tmp_path / "m", rules)
    for rule, scanner, why in (
        ("AIR201", "provenance", "which belongs to pickle_opcodes"),
        ("AIR201", "pickle_opcodes", "while provenance runs"),
    ):
        impostor = Impostor()
        impostor.rule, impostor.scanner = rule, scanner  # type: ignore[attr-defined]
        outcome = run_scanners([impostor], ctx)
        assert (
            str(_check(outcome, "provenance").status) == "error"
            and why in _check(outcome, "provenance").reason
        )
        assert [f.rule for f in outcome.findings] == ["AIR901"]
    assert ctx.running is None


def test_the_data_default_is_the_default_policy_without_required_scanners() -> None:
    from airlock.data.pipeline import data_policy

    scan_default, data_default = default_policy(), data_policy()
    assert scan_default.required_scanners == ("provenance",) and data_default.required_scanners == ()
    assert (scan_default.fail_at, scan_default.overrides) == (data_default.fail_at, data_default.overrides)
    assert data_default.name == "data-default" and data_default.digest != scan_default.digest


# --- the result cache --------------------------------------------------------------------------------


class Counting(ArtifactScanner):
    name = "chat_templates"
    version = "1"
    formats: ClassVar[frozenset[Format]] = frozenset({Format.TEXT})
    rules: ClassVar[frozenset[str]] = frozenset()
    key = ""

    def __init__(self) -> None:
        self.scanned: list[str] = []

    def context_key(self, ctx: ScanContext) -> str:
        return self.key

    def scan(self, artifact: Artifact, ctx: ScanContext) -> Iterator[Finding]:
        self.scanned.append(artifact.path)
        yield ctx.finding(
            "AIR601", self.name, artifact.path, f"{artifact.path}@template", "a finding to remember"
        )


def _run(ctx: ScanContext, db: Path, signatures: str, scanner: Scanner) -> ScanOutcome:
    cache = SqliteCache(db, signatures)
    try:
        return run_scanners([scanner], ctx, cache)
    finally:
        cache.close()


def test_the_cache_hits_only_for_the_same_scanner_version_context_and_signatures(
    tmp_path: Path, rules: RuleSet
) -> None:
    ctx = _context(tmp_path / "m", rules)
    db = tmp_path / "results.sqlite3"

    def rescanned(signatures: str, version: str = "1", key: str = "") -> bool:
        scanner = Counting()
        scanner.version, scanner.key = version, key  # type: ignore[misc]
        outcome = _run(ctx, db, signatures, scanner)
        assert [f.rule for f in outcome.findings] == ["AIR601"]  # from the scan or from the cache alike
        assert _check(outcome, "chat_templates").reason == (None if scanner.scanned else "1 of 1 from cache")
        return scanner.scanned == ["notes.txt"]

    assert rescanned("sig-1")  # first time: scanned and stored
    assert not rescanned("sig-1")  # same everything: from the cache
    assert rescanned("sig-2")  # new signatures version: a miss
    assert rescanned("sig-1", version="2")  # new scanner version: a miss
    assert rescanned("sig-1", key="other-files")  # new context (what else the snapshot holds): a miss
    assert not rescanned("sig-2") and not rescanned("sig-1", version="2")  # each stored under its own key


def test_the_sqlite_cache_keys_by_signatures_version(tmp_path: Path) -> None:
    db = tmp_path / "results.sqlite3"
    finding = Finding("AIR201", Severity.CRITICAL, "pickle_opcodes", "a.bin", "a.bin@opcode:2", "m")  # type: ignore[arg-type]
    old = SqliteCache(db, "2024.1")
    old.put("ab" * 32, "pickle_opcodes", "3", [finding])
    assert old.get("ab" * 32, "pickle_opcodes", "3") == [finding]
    old.close()
    new = SqliteCache(db, "2024.2")
    assert new.get("ab" * 32, "pickle_opcodes", "3") is None
    assert new.get("ab" * 32, "pickle_opcodes", "4") is None
    new.put("ab" * 32, "pickle_opcodes", "3", [])
    assert new.get("ab" * 32, "pickle_opcodes", "3") == []
    new.close()
    again = SqliteCache(db, "2024.1")
    assert again.get("ab" * 32, "pickle_opcodes", "3") == [finding]  # the old entry is intact
    again.close()


def test_a_cached_result_is_never_one_of_a_broken_run(tmp_path: Path, rules: RuleSet) -> None:
    """An artifact whose scan raised is not stored: the next run scans it again (and breaks again)."""
    ctx = _context(tmp_path / "m", rules)
    db = tmp_path / "results.sqlite3"
    for _ in range(2):
        outcome = _run(ctx, db, rules.version, BrokenArtifactScanner())
        assert str(_check(outcome, "archives").status) == "error"
        assert [f.rule for f in outcome.findings] == ["AIR901"]
