"""SARIF 2.1.0 renderer, shaped for GitHub code scanning.

Every rule the report uses is described in `tool.driver.rules` (from signatures/), each result
points at the artifact by its relative path, carries a stable fingerprint, and maps severity to
both a SARIF `level` and GitHub's `security-severity` score.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import quote

from airlock.behavior.outcome import outcome
from airlock.findings import Finding, Severity
from airlock.render.interface import Renderer
from airlock.report import Report
from airlock.rules import RuleSet, load_rules

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://github.com/model-airlock/model-airlock"
MAX_RESULTS = 25_000  # GitHub code scanning rejects a run with more results than this

_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
_SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}


class SarifRenderer(Renderer):
    def __init__(self, rules: RuleSet | None = None) -> None:
        self.rules = rules

    def render(self, report: Report) -> str:
        return json.dumps(self.document(report), indent=2) + "\n"

    def document(self, report: Report) -> dict[str, Any]:
        rules = self.rules or load_rules()
        kept = tuple(report.findings)
        if len(kept) > MAX_RESULTS:  # keep the most severe
            kept = tuple(sorted(kept, key=Finding.sort_key)[:MAX_RESULTS])
        used = sorted({f.rule for f in kept})
        index = {rule_id: i for i, rule_id in enumerate(used)}
        fallback_uri = _model_uri(report)
        run: dict[str, Any] = {
            "tool": {
                "driver": {
                    "name": "airlock",
                    "version": report.tool_version,
                    "semanticVersion": report.tool_version,
                    "informationUri": INFORMATION_URI,
                    "rules": [_rule(rules, rule_id, kept) for rule_id in used],
                    "properties": {"signatures": report.signatures_version},
                }
            },
            "automationDetails": {"id": f"airlock/{report.target.reference}/"},
            "originalUriBaseIds": {
                "MODELROOT": {"description": {"text": "the root of the scanned model snapshot"}}
            },
            "artifacts": [
                {
                    "location": {"uri": _uri(a.path), "uriBaseId": "MODELROOT"},
                    "length": a.size,
                    "hashes": {"sha-256": a.sha256},
                    "properties": {"format": a.format},
                }
                for a in report.artifacts
            ],
            "results": [_result(f, index[f.rule], fallback_uri) for f in kept],
            "invocations": [_invocation(report, omitted=len(report.findings) - len(kept))],
            "properties": {
                "target": report.target.to_dict(),
                "verdict": report.verdict.to_dict(),
                **_behaviour(report),
            },
        }
        return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def _behaviour(report: Report) -> dict[str, Any]:
    """The behavioural scan's answer ("not determined" when the probe did not complete), if it ran."""
    found = outcome(report.behavior, report.checks)
    return {} if found is None else {"behavior": {"outcome": found.answer, "summary": found.headline}}


def _rule(rules: RuleSet, rule_id: str, findings: tuple[Finding, ...]) -> dict[str, Any]:
    if rule_id not in rules.rules:  # a report written with other signatures: describe it from its findings
        sample = next(f for f in findings if f.rule == rule_id)
        return {
            "id": rule_id,
            "shortDescription": {"text": sample.message},
            "help": {"text": f"{rule_id} is not in signatures {rules.version}; see the report's evidence"},
            "defaultConfiguration": {"level": _LEVEL[sample.severity]},
            "properties": {
                "tags": ["security", "ml-supply-chain", *sample.references],
                "security-severity": _SECURITY_SEVERITY[sample.severity],
            },
        }
    rule = rules[rule_id]
    help_text = rule.description or rule.summary
    fix = f"\n\nWhat to do: {rule.remediation}" if rule.remediation else ""
    tags = ["security", "ml-supply-chain", *rule.references]
    return {
        "id": rule.id,
        "name": "".join(part.capitalize() for part in rule.name.split("-")),
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": help_text},
        "help": {
            "text": help_text + fix,
            "markdown": f"**{rule.id} {rule.name}**\n\n{help_text}"
            + fix.replace("What to do:", "**What to do:**"),
        },
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        "properties": {
            "tags": tags,
            "security-severity": _SECURITY_SEVERITY[rule.severity],
            "frameworks": rule.frameworks,
            "precision": "high",
            "problem.severity": "error" if rule.severity >= Severity.HIGH else "warning",
        },
    }


def _result(finding: Finding, rule_index: int, fallback_uri: str) -> dict[str, Any]:
    uri = _uri(finding.artifact) if finding.artifact else fallback_uri
    fingerprint = hashlib.sha256(
        "\0".join((finding.rule, finding.artifact or "", finding.location, finding.message)).encode()
    ).hexdigest()
    result: dict[str, Any] = {
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "level": _LEVEL[finding.severity],
        "message": {"text": finding.message},
        "locations": [
            {
                "physicalLocation": {"artifactLocation": {"uri": uri, "uriBaseId": "MODELROOT"}},
                "logicalLocations": [{"fullyQualifiedName": finding.location, "kind": "member"}],
            }
        ],
        "partialFingerprints": {"airlockFinding/v1": fingerprint},
        "properties": {
            "severity": str(finding.severity),
            "security-severity": _SECURITY_SEVERITY[finding.severity],
            "scanner": finding.scanner,
            "evidence": _jsonable(finding.evidence),
            "references": list(finding.references),
        },
    }
    if finding.waiver is not None:  # accepted by a policy waiver: a suppression that GitHub shows as such
        result["suppressions"] = [
            {
                "kind": "external",
                "status": "accepted",
                "justification": str(finding.waiver.get("reason", "")),
                "properties": {"expires": finding.waiver.get("expires"), "waiver": _jsonable(finding.waiver)},
            }
        ]
    return result


def _invocation(report: Report, omitted: int) -> dict[str, Any]:
    notes = [
        {
            "level": "error" if str(c.status) == "error" else "note",
            "message": {"text": f"{c.scanner} {c.status}: {c.reason or ''}".strip()},
            "descriptor": {"id": c.scanner},
        }
        for c in report.checks
        if str(c.status) != "ran"
    ]
    if omitted:
        notes.append(
            {
                "level": "warning",
                "message": {
                    "text": f"{omitted} least severe finding(s) left out: a run holds at most "
                    f"{MAX_RESULTS} results; the JSON report has them all"
                },
            }
        )
    return {
        "executionSuccessful": all(str(c.status) != "error" for c in report.checks),
        **({"endTimeUtc": report.timestamp} if report.timestamp is not None else {}),
        "toolExecutionNotifications": notes,
    }


def _model_uri(report: Report) -> str:
    """Where findings about the whole model point: the first artifact (a real file of the model)."""
    return _uri(report.artifacts[0].path) if report.artifacts else "."


def _uri(path: str) -> str:
    """A relative URI reference for an artifact path: spaces, '#', '%', '?' and ':' percent-encoded.

    Unencoded, "v1 final.bin" is no URI at all, "a#b.bin" loses everything after '#', and "c:x.bin" reads
    as a URI with scheme "c".
    """
    return quote(path, safe="/")


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))
