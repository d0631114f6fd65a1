"""Sample `Report` objects for the renderer tests, built directly (no scan) from real rule data.

Findings take their severity, scanner and references from `signatures/rules/`, as
`ScanContext.finding` does, and verdicts come from the real policy, so the samples stay honest when
the rule data changes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from airlock.findings import Finding, RuleId
from airlock.policy import default_policy, evaluate
from airlock.report import ArtifactRecord, Report, Target
from airlock.rules import load_rules
from airlock.scanning import CheckResult, CheckStatus

HOSTILE = "<script>alert(1)</script> \"double\" 'single' & [/bold] [link=https://evil.example]x[/link]"
ATTRIBUTE_BREAKER = '"><img src=x onerror=alert(1)>'
SHA = "3f" * 20


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def finding(
    rule: str, artifact: str | None, location: str, message: str, evidence: Mapping[str, Any] | None = None
) -> Finding:
    """A finding whose severity, scanner and references come from the shipped rule data."""
    data = load_rules()[rule]
    return Finding(
        RuleId(rule),
        data.severity,
        data.scanner,
        artifact,
        location,
        message,
        dict(evidence or {}),
        data.references,
    )


def report(
    findings: tuple[Finding, ...] = (),
    checks: tuple[CheckResult, ...] | None = None,
    artifacts: tuple[ArtifactRecord, ...] | None = None,
    reference: str = "hf://acme/resnet-tiny@main",
) -> Report:
    """A Hub report with the default policy's verdict over `findings` and `checks`."""
    if checks is None:
        checks = (
            CheckResult("provenance", CheckStatus.RAN, 0.42),
            CheckResult("pickle_opcodes", CheckStatus.RAN, 0.125),
        )
    if artifacts is None:
        artifacts = (
            ArtifactRecord("config.json", 612, sha256("config"), "json"),
            ArtifactRecord("pytorch_model.bin", 1_048_576, sha256("weights"), "pytorch-zip"),
        )
    ordered = tuple(sorted(findings, key=Finding.sort_key))
    verdict = evaluate(default_policy(), ordered, {c.scanner: str(c.status) for c in checks})
    return Report(
        target=Target(
            reference,
            "hf",
            SHA,
            "sha256:" + sha256(reference),
            extra={"repo_id": "acme/resnet-tiny", "requested_revision": "main"},
        ),
        artifacts=artifacts,
        checks=checks,
        findings=ordered,
        verdict=verdict,
        signatures_version=load_rules().version,
    )


def failing_report() -> Report:
    """Every severity, a whole-model finding, evidence, and one broken and one skipped check."""
    findings = (
        finding(
            "AIR201",
            "pytorch_model.bin",
            "pytorch_model.bin:archive/data.pkl@opcode:42",
            "imports posix.system: runs a shell command",
            {"module": "posix", "name": "system", "opcode": 42},
        ),
        finding(
            "AIR202",
            "pytorch_model.bin",
            "pytorch_model.bin:archive/data.pkl@opcode:97",
            "imports acme_utils.Layer (not on the list of known-safe globals)",
        ),
        finding("AIR113", None, "repository", "the weights exist only as pytorch_model.bin (pickle)"),
        finding(
            "AIR101",
            None,
            "reference",
            f"main is mutable; scanned commit {SHA}: pin it as acme/resnet-tiny@{SHA}",
            {"requested": "main", "resolved": SHA},
        ),
        finding(
            "AIR109",
            None,
            "repository",
            "acme/resnet-tiny@3f3f3f3f3f3f by acme, last modified 2026-01-02",
            {"author": "acme", "downloads": 1234, "tags": ["vision", "pytorch"]},
        ),
    )
    checks = (
        CheckResult("provenance", CheckStatus.RAN, 0.42),
        CheckResult("pickle_opcodes", CheckStatus.ERROR, 0.031, "zip directory unreadable: truncated"),
        CheckResult("trigger_reversal", CheckStatus.SKIPPED, 0.0, "torch not installed"),
    )
    return report(findings, checks)


def passing_report() -> Report:
    """Only an informational finding, every check ran: the default policy passes it."""
    return report((finding("AIR109", None, "repository", "acme/resnet-tiny@3f3f3f3f3f3f by acme"),))


def hostile_report() -> Report:
    """Attacker-chosen text everywhere a model can put it: file names, messages, evidence, check reasons."""
    path = f"weights/{ATTRIBUTE_BREAKER} v1#final:%20.bin"
    findings = (
        finding(
            "AIR201",
            path,
            f"{path}:archive/data.pkl@opcode:7",
            f"imports {HOSTILE}",
            {"module": HOSTILE, "name": ATTRIBUTE_BREAKER},
        ),
        finding("AIR202", path, f"{path}:{HOSTILE}@opcode:9", ATTRIBUTE_BREAKER),
    )
    checks = (
        CheckResult("provenance", CheckStatus.RAN, 0.1),
        CheckResult("pickle_opcodes", CheckStatus.ERROR, 0.2, HOSTILE),
    )
    artifacts = (ArtifactRecord(path, 10, sha256(path), "pytorch-zip"),)
    return report(findings, checks, artifacts, reference=f"hf://acme/{ATTRIBUTE_BREAKER}")
