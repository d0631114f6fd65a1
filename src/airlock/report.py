"""The report: the one serialisable record of a scan (`airlock.report/v1`).

`build_report` assembles it for `airlock scan` and `airlock data` alike: the checks' outcome, judged
by the policy. Renderers, CI, the allowlist and the benchmarks read it. `to_dict` produces exactly
the schema shipped in `airlock/schema/airlock.report.v1.json`; `from_dict` reads it back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from airlock import __version__
from airlock.artifacts import Artifact, model_digest
from airlock.errors import ReportError
from airlock.findings import Finding, Severity
from airlock.inventory import count
from airlock.policy import IDLE, Policy, Verdict, apply_overrides, evaluate
from airlock.scanning import NOTHING_TO_READ, CheckResult, CheckStatus, ScanOutcome
from airlock.waivers import apply_waivers, today

SCHEMA_ID = "airlock.report/v1"


def schema() -> dict[str, Any]:
    """The JSON Schema of the report, as shipped with the package."""
    text = resources.files("airlock").joinpath("schema/airlock.report.v1.json").read_text(encoding="utf-8")
    return json.loads(text)


@dataclass(frozen=True)
class Target:
    reference: str
    source: str  # "hf" | "local"
    revision: str | None
    digest: str
    extra: Mapping[str, Any] = field(default_factory=dict)  # repo_id, requested_revision, ignored patterns

    def to_dict(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "source": self.source,
            "revision": self.revision,
            "digest": self.digest,
            **self.extra,
        }


@dataclass(frozen=True)
class ArtifactRecord:
    path: str
    size: int
    sha256: str
    format: str

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "size": self.size, "sha256": self.sha256, "format": self.format}


@dataclass(frozen=True)
class Report:
    target: Target
    artifacts: tuple[ArtifactRecord, ...]
    checks: tuple[CheckResult, ...]
    findings: tuple[Finding, ...]
    verdict: Verdict
    signatures_version: str
    tool_version: str = __version__
    behavior: Mapping[str, Any] | None = None
    data: Mapping[str, Any] | None = None
    inventory: Mapping[str, int] | None = None  # files analysed / data / unidentified, models among them
    timestamp: str | None = None  # when the scan finished: UTC, ISO 8601 ("2026-12-05T13:24:48Z")

    @property
    def passed(self) -> bool:
        return self.verdict.passed

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_ID,
            "tool": {"name": "airlock", "version": self.tool_version, "signatures": self.signatures_version},
            **({"timestamp": self.timestamp} if self.timestamp is not None else {}),
            "target": self.target.to_dict(),
            "artifacts": [a.to_dict() for a in self.artifacts],
            "checks": [c.to_dict() for c in self.checks],
            "findings": [f.to_dict() for f in self.findings],
            "behavior": dict(self.behavior) if self.behavior is not None else None,
            "data": dict(self.data) if self.data is not None else None,
            "verdict": self.verdict.to_dict(),
            **({"inventory": dict(self.inventory)} if self.inventory is not None else {}),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, allow_nan=False) + "\n"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Report:
        if not isinstance(data, Mapping):
            raise ReportError(f"not an {SCHEMA_ID} report (a {type(data).__name__}, not a JSON object)")
        if data.get("schema") != SCHEMA_ID:
            raise ReportError(f"not an {SCHEMA_ID} report (schema={data.get('schema')!r})")
        try:
            target = dict(data["target"])
            core = {k: target.pop(k) for k in ("reference", "source", "revision", "digest")}
            verdict = data["verdict"]
            max_sev = verdict["max_severity"]
            if verdict["decision"] not in ("pass", "fail"):
                raise ValueError(f"verdict.decision must be pass or fail, not {verdict['decision']!r}")
            return cls(
                target=Target(**core, extra=target),
                artifacts=tuple(
                    ArtifactRecord(a["path"], a["size"], a["sha256"], a["format"]) for a in data["artifacts"]
                ),
                checks=tuple(
                    CheckResult(c["scanner"], CheckStatus(c["status"]), float(c["seconds"]), c.get("reason"))
                    for c in data["checks"]
                ),
                findings=tuple(Finding.from_dict(f) for f in data["findings"]),
                verdict=Verdict(
                    decision=verdict["decision"],
                    max_severity=None if max_sev == "none" else Severity.parse(max_sev),
                    policy=verdict["policy"],
                    reasons=tuple(verdict["reasons"]),
                ),
                signatures_version=data["tool"]["signatures"],
                tool_version=data["tool"]["version"],
                behavior=data.get("behavior"),
                data=data.get("data"),
                inventory=data.get("inventory"),
                timestamp=data.get("timestamp"),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ReportError(f"malformed {SCHEMA_ID} report: {type(exc).__name__}: {exc}") from None


def build_report(
    *,
    reference: str,
    source: str,
    revision: str | None,
    artifacts: Sequence[Artifact],
    outcome: ScanOutcome,
    policy: Policy,
    signatures_version: str,
    extra: Mapping[str, Any] | None = None,
    behavior: Mapping[str, Any] | None = None,
    data: Mapping[str, Any] | None = None,
) -> Report:
    """The report of a scan (of a model or a dataset): the policy's severities applied, then its verdict."""
    digests: dict[str | None, str] = {a.path: a.sha256 for a in artifacts}
    digests[None] = model_digest(artifacts).removeprefix("sha256:")
    findings = tuple(
        sorted(
            apply_waivers(policy.waivers, apply_overrides(policy, outcome.findings), digests, today()),
            key=Finding.sort_key,
        )
    )
    verdict = evaluate(policy, findings, check_statuses(outcome.checks))
    return Report(
        target=Target(
            reference=reference,
            source=source,
            revision=revision,
            digest=model_digest(artifacts),
            extra=dict(extra or {}),
        ),
        artifacts=tuple(ArtifactRecord(a.path, a.size, a.sha256, str(a.format)) for a in artifacts),
        checks=outcome.checks,
        findings=findings,
        verdict=verdict,
        signatures_version=signatures_version,
        behavior=behavior,
        data=data,
        inventory=count((a.path, a.format) for a in artifacts).to_dict(),
        timestamp=utc_timestamp(),
    )


def check_statuses(checks: Sequence[CheckResult]) -> dict[str, str]:
    """Each check's status as the policy reads it: `idle` for a scanner that had nothing to read."""
    return {
        c.scanner: IDLE if c.status is CheckStatus.SKIPPED and c.reason == NOTHING_TO_READ else str(c.status)
        for c in checks
    }


def utc_timestamp() -> str:
    """Now, in UTC, to the second: the form reports carry (`2026-12-05T13:24:48Z`)."""
    from datetime import UTC, datetime

    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
