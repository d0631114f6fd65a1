"""Policy: what fails a verdict. A TOML file; the built-in default is documented in the README.

```toml
name = "team-default"
fail_at = "high"                   # findings at or above this severity fail the verdict
required_scanners = ["provenance"] # each must have run (not skipped, not broken)
[publishers]
trusted = ["google", "meta-llama"] # organisations you trust (others get an info finding)
blocked = ["evil-org"]             # organisations that always fail
[severity]                          # per-rule overrides: raise, lower, or "ignore"
AIR107 = "info"
[code]                              # Python files shipped with models that you reviewed
approved = ["sha256:<hex>"]         # their custom_code findings drop to info
[licenses]                          # licence ids: SPDX ids or the Hub's (signatures/licenses.toml)
allow = ["Apache-2.0", "MIT"]       # when given, any other licence is refused (AIR461)
deny = ["CC-BY-NC-4.0", "llama2"]   # always refused (AIR461)
unknown = "fail"                    # no licence named, or none airlock can name: AIR462 high ("warn": low)
```
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from airlock.errors import PolicyError
from airlock.findings import Finding, RuleId, Severity
from airlock.rules import RuleSet
from airlock.waivers import EXPIRED_RULE, Waiver, parse_waivers

DEFAULT_REQUIRED = ("provenance",)  # what the built-in policy of `airlock scan` requires


def default_policy_text(name: str = "default", required_scanners: Sequence[str] = DEFAULT_REQUIRED) -> str:
    """The built-in policy as TOML (its digest is the policy's identity in reports)."""
    required = ", ".join(json.dumps(s) for s in required_scanners)
    return (
        f'name = {json.dumps(name)}\nfail_at = "high"\nrequired_scanners = [{required}]\n'
        "[publishers]\ntrusted = []\nblocked = []\n[severity]\n"
    )


DEFAULT_POLICY_TEXT = default_policy_text()

_IGNORE = "ignore"


@dataclass(frozen=True)
class LicensePolicy:
    """`[licenses]`: canonical licence ids (airlock.licenses) allowed and denied, and what unknown means."""

    allow: frozenset[str] = frozenset()  # empty: every licence not denied
    deny: frozenset[str] = frozenset()
    unknown: str = "fail"  # "fail" | "warn"

    def refuses(self, license_id: str) -> str | None:
        """Why the policy refuses this licence, or None."""
        if license_id in self.deny:
            return "denied by the policy"
        if self.allow and license_id not in self.allow:
            return "not on the policy's allow list"
        return None


@dataclass(frozen=True)
class Policy:
    name: str
    fail_at: Severity
    required_scanners: tuple[str, ...]
    trusted_publishers: frozenset[str]
    blocked_publishers: frozenset[str]
    overrides: Mapping[str, Severity | None] = field(default_factory=dict)  # None = ignore the rule
    approved_code: frozenset[str] = frozenset()  # sha256 hex digests of reviewed Python files
    waivers: tuple[Waiver, ...] = ()
    licenses: LicensePolicy | None = None  # None: no licence policy (AIR461/AIR462 are not raised)
    digest: str = ""  # sha256 of the policy text

    def label(self) -> str:
        return f"{self.name} ({self.digest[:19]})" if self.digest else self.name


@dataclass(frozen=True)
class Verdict:
    decision: str  # "pass" | "fail"
    max_severity: Severity | None
    policy: str
    reasons: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return self.decision == "pass"

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision": self.decision,
            "max_severity": str(self.max_severity) if self.max_severity is not None else "none",
            "policy": self.policy,
            "reasons": list(self.reasons),
        }


def default_policy(
    required_scanners: Sequence[str] = DEFAULT_REQUIRED,
    *,
    name: str = "default",
    source: str = "built-in default",
) -> Policy:
    """The built-in policy: fail at high, require `required_scanners` (`airlock data` requires none)."""
    return parse_policy(default_policy_text(name, required_scanners), source)


def load_policy(path: Path, rules: RuleSet | None = None) -> Policy:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(str(path), exc.strerror or str(exc)) from None
    except UnicodeDecodeError:
        raise PolicyError(str(path), "not UTF-8 text") from None
    return parse_policy(text, str(path), rules)


def parse_policy(text: str, source: str, rules: RuleSet | None = None) -> Policy:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(source, f"invalid TOML: {exc}") from None
    known = {"name", "fail_at", "required_scanners", "publishers", "severity", "code", "licenses", "waivers"}
    unknown = set(raw) - known
    if unknown:
        raise PolicyError(
            source, f"unknown key(s) {', '.join(sorted(unknown))} (known: {', '.join(sorted(known))})"
        )
    try:
        fail_at = Severity.parse(str(raw.get("fail_at", "high")))
    except ValueError as exc:
        raise PolicyError(source, f"fail_at: {exc}") from None
    required = raw.get("required_scanners", ["provenance"])
    publishers = raw.get("publishers", {})
    if not isinstance(required, list) or not all(isinstance(s, str) for s in required):
        raise PolicyError(source, "required_scanners must be a list of scanner names")
    if not isinstance(publishers, dict):
        raise PolicyError(source, "[publishers] must be a table")
    overrides: dict[str, Severity | None] = {}
    for rule_id, value in raw.get("severity", {}).items():
        if rules is not None and RuleId(rule_id) not in rules.rules:
            raise PolicyError(source, f"[severity] names unknown rule {rule_id}")
        if str(value).lower() == _IGNORE:
            overrides[rule_id] = None
            continue
        try:
            overrides[rule_id] = Severity.parse(str(value))
        except ValueError as exc:
            raise PolicyError(source, f"[severity] {rule_id}: {exc}") from None
    return Policy(
        name=str(raw.get("name", Path(source).stem if source.endswith(".toml") else source)),
        fail_at=fail_at,
        required_scanners=tuple(required),
        trusted_publishers=_names(publishers.get("trusted", []), source),
        blocked_publishers=_names(publishers.get("blocked", []), source),
        overrides=overrides,
        approved_code=_approved(raw.get("code", {}), source),
        waivers=parse_waivers(raw.get("waivers", []), source, rules.rules if rules is not None else None),
        digest="sha256:" + hashlib.sha256(text.encode()).hexdigest(),
        licenses=_licenses(raw["licenses"], source) if "licenses" in raw else None,
    )


def _names(value: Any, source: str) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PolicyError(source, "publisher lists must be lists of organisation names")
    return frozenset(v.lower() for v in value)


def _approved(value: Any, source: str) -> frozenset[str]:
    """`[code] approved`: sha256 digests (`sha256:<hex>` or bare hex) of Python files someone reviewed."""
    if not isinstance(value, dict) or set(value) - {"approved"}:
        raise PolicyError(source, "[code] must be a table with one key, approved")
    digests = value.get("approved", [])
    if not isinstance(digests, list) or not all(isinstance(d, str) for d in digests):
        raise PolicyError(source, "[code] approved must be a list of sha256 digests")
    out: set[str] = set()
    for digest in digests:
        hexdigest = digest.lower().removeprefix("sha256:")
        if len(hexdigest) != 64 or not all(c in "0123456789abcdef" for c in hexdigest):
            raise PolicyError(source, f"[code] approved: {digest!r} is not a sha256 digest")
        out.add(hexdigest)
    return frozenset(out)


_UNKNOWN_MODES = ("fail", "warn")


def _licenses(value: Any, source: str) -> LicensePolicy:
    """`[licenses]`: every name must be a licence signatures/licenses.toml knows (any spelling of it)."""
    from airlock.licenses import catalog

    if not isinstance(value, dict):
        raise PolicyError(source, "[licenses] must be a table (allow, deny, unknown)")
    extra = set(value) - {"allow", "deny", "unknown"}
    if extra:
        raise PolicyError(
            source, f"[licenses]: unknown key(s) {', '.join(sorted(extra))} (known: allow, deny, unknown)"
        )
    known = catalog()
    lists: dict[str, frozenset[str]] = {}
    for key in ("allow", "deny"):
        names = value.get(key, [])
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise PolicyError(source, f"[licenses] {key} must be a list of licence ids")
        ids = set()
        for name in names:
            license = known.identify(name)
            if license is None:
                why = "names no licence" if known.is_placeholder(name) else "is not a licence airlock knows"
                raise PolicyError(
                    source,
                    f"[licenses] {key}: {name!r} {why} (use an SPDX id or a model licence id from "
                    "signatures/licenses.toml, e.g. Apache-2.0, llama3.1, openrail++)",
                )
            ids.add(license.id)
        lists[key] = frozenset(ids)
    both = lists["allow"] & lists["deny"]
    if both:
        raise PolicyError(source, f"[licenses] {', '.join(sorted(both))} is both allowed and denied")
    unknown = value.get("unknown", "fail")
    if unknown not in _UNKNOWN_MODES:
        raise PolicyError(source, f'[licenses] unknown must be "fail" or "warn", not {unknown!r}')
    return LicensePolicy(lists["allow"], lists["deny"], unknown)


APPROVED_SCANNER = (
    "custom_code"  # whose findings `[code] approved` covers (evidence["sha256"] names the file)
)


def approve_code(policy: Policy, finding: Finding) -> Finding:
    """The finding at info if it is about a Python file the policy approved by sha256, else unchanged."""
    if (
        not policy.approved_code
        or finding.scanner != APPROVED_SCANNER
        or finding.evidence.get("sha256") not in policy.approved_code
    ):
        return finding
    evidence = {
        **finding.evidence,
        "approved": "approved by policy",
        "severity_before_approval": str(finding.severity),
    }
    return Finding(
        finding.rule,
        Severity.INFO,
        finding.scanner,
        finding.artifact,
        finding.location,
        finding.message,
        evidence,
        finding.references,
    )


def apply_overrides(policy: Policy, findings: Sequence[Finding]) -> tuple[Finding, ...]:
    """Findings with the policy's code approvals and per-rule severities applied (ignored rules dropped)."""
    out: list[Finding] = []
    for f in findings:
        approved = approve_code(policy, f)
        if approved is not f:  # a reviewed file: its approval wins over per-rule severities
            out.append(approved)
            continue
        if f.rule not in policy.overrides:
            out.append(f)
            continue
        severity = policy.overrides[f.rule]
        if severity is None:
            continue
        out.append(
            Finding(f.rule, severity, f.scanner, f.artifact, f.location, f.message, f.evidence, f.references)
        )
    return tuple(sorted(out, key=Finding.sort_key))


IDLE = "idle"  # a check status for the verdict: skipped because nothing in the snapshot is for it


def evaluate(policy: Policy, findings: Sequence[Finding], check_status: Mapping[str, str]) -> Verdict:
    """Decide pass/fail. `check_status` maps scanner name to ran/skipped/error, or `idle`. Waived findings do not count.

    A required scanner satisfies the policy when it ran, or when it was idle: the snapshot held nothing
    in a format it reads (a pickle scanner on a safetensors-only model), so there was nothing to vet.
    """
    reasons: list[str] = []
    waived = [f for f in findings if f.waived]
    findings = [f for f in findings if not f.waived]
    max_severity = max((f.severity for f in findings), default=None)
    failing = [f for f in findings if f.severity >= policy.fail_at]
    if failing:
        by_rule: dict[str, int] = {}
        for f in failing:
            by_rule[f.rule] = by_rule.get(f.rule, 0) + 1
        listed = ", ".join(f"{rule}×{n}" if n > 1 else rule for rule, n in sorted(by_rule.items()))
        reasons.append(f"{len(failing)} finding(s) at or above {policy.fail_at}: {listed}")
    for name in policy.required_scanners:
        status = check_status.get(name)
        if status not in ("ran", IDLE):
            reasons.append(f"required scanner {name} {'did not run' if status is None else status}")
    notes = _waiver_notes(waived, [f for f in findings if f.rule == EXPIRED_RULE])
    if not reasons:
        below = f"; highest severity {max_severity}" if max_severity is not None else ""
        reasons.append(f"no finding at or above {policy.fail_at}{below}")
        return Verdict("pass", max_severity, policy.label(), (*reasons, *notes))
    return Verdict("fail", max_severity, policy.label(), (*reasons, *notes))


def _waiver_notes(waived: Sequence[Finding], expired: Sequence[Finding]) -> list[str]:
    notes: list[str] = []
    if waived:
        rules = ", ".join(sorted({f.rule for f in waived}))
        notes.append(f"{len(waived)} finding(s) waived by the policy, not counted: {rules}")
    if expired:
        rules = ", ".join(sorted({str(f.evidence["waiver"]["rule"]) for f in expired}))
        notes.append(f"{len(expired)} waiver(s) expired and no longer apply: {rules}")
    return notes
