"""Waivers: a person's written, dated decision to accept one finding, as trivy's and pip-audit's ignores.

A waiver names a rule and the sha256 of the artifact it was raised on (the model digest for a finding
about the whole model), optionally the exact location, with a reason and an expiry date. It lives in
the policy file:

```toml
[[waivers]]
rule = "AIR202"
sha256 = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
location = "data.pkl@opcode:42"      # optional: only this finding, not every AIR202 in the file
reason = "reviewed: a stored reference to our own tokenizer class"
expires = 2027-03-31                 # a TOML date (or "2027-03-31"); applies through that day (UTC)
```

A waived finding stays in the report, marked with its waiver, and does not count toward the verdict.
Past its expiry a waiver no longer applies: the finding counts again and an AIR902 finding says which
waiver lapsed. A waiver without a reason or an expiry date is a policy error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from airlock.errors import PolicyError
from airlock.findings import Finding, RuleId
from airlock.rules import load_rules

EXPIRED_RULE = RuleId("AIR902")
_KEYS = {"rule", "sha256", "location", "reason", "expires"}


@dataclass(frozen=True, slots=True)
class Waiver:
    rule: RuleId
    sha256: str  # hex, lower case, no prefix
    location: str | None
    reason: str
    expires: dt.date

    def matches(self, finding: Finding, sha256: str | None) -> bool:
        return (
            finding.rule == self.rule
            and sha256 == self.sha256
            and (self.location is None or finding.location == self.location)
        )

    def expired(self, today: dt.date) -> bool:
        return today > self.expires

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "sha256": "sha256:" + self.sha256,
            "location": self.location,
            "reason": self.reason,
            "expires": self.expires.isoformat(),
        }


def parse_waivers(
    value: Any, source: str, known_rules: Mapping[RuleId, Any] | None = None
) -> tuple[Waiver, ...]:
    """The `[[waivers]]` array of a policy file; any malformed entry is a PolicyError."""
    if not isinstance(value, list) or not all(isinstance(w, dict) for w in value):
        raise PolicyError(source, "waivers must be an array of tables ([[waivers]])")
    return tuple(_parse_one(raw, f"waivers[{i}]", source, known_rules) for i, raw in enumerate(value))


def _parse_one(
    raw: dict[str, Any], where: str, source: str, known_rules: Mapping[RuleId, Any] | None
) -> Waiver:
    unknown = set(raw) - _KEYS
    if unknown:
        raise PolicyError(source, f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    missing = [k for k in ("rule", "sha256", "reason", "expires") if k not in raw]
    if missing:
        raise PolicyError(source, f"{where}: missing {', '.join(missing)} (every waiver needs all four)")
    rule = raw["rule"]
    if not isinstance(rule, str) or (known_rules is not None and RuleId(rule) not in known_rules):
        raise PolicyError(source, f"{where}: unknown rule {rule!r}")
    digest = raw["sha256"]
    hexdigest = digest.lower().removeprefix("sha256:") if isinstance(digest, str) else ""
    if len(hexdigest) != 64 or not all(c in "0123456789abcdef" for c in hexdigest):
        raise PolicyError(source, f"{where}: sha256 {digest!r} is not a sha256 digest")
    reason = raw["reason"]
    if not isinstance(reason, str) or not reason.strip():
        raise PolicyError(source, f"{where}: reason must say why the finding is accepted")
    location = raw.get("location")
    if location is not None and (not isinstance(location, str) or not location):
        raise PolicyError(source, f"{where}: location must be a non-empty string")
    return Waiver(RuleId(rule), hexdigest, location, reason.strip(), _date(raw["expires"], where, source))


def _date(value: Any, where: str, source: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise PolicyError(source, f"{where}: expires must be a date such as 2027-03-31, not {value!r}")


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def apply_waivers(
    waivers: Sequence[Waiver],
    findings: Sequence[Finding],
    digests: Mapping[str | None, str],
    when: dt.date,
) -> tuple[Finding, ...]:
    """`findings` with live waivers attached, plus one AIR902 finding per expired waiver that matched.

    `digests` maps an artifact path (None for the model as a whole) to its sha256 hex digest.
    """
    if not waivers:
        return tuple(findings)
    out: list[Finding] = []
    lapsed: list[tuple[Waiver, Finding]] = []
    for finding in findings:
        sha = digests.get(finding.artifact)
        matching = [w for w in waivers if w.matches(finding, sha)]
        live = next((w for w in matching if not w.expired(when)), None)
        if live is not None:
            out.append(replace(finding, waiver=live.to_dict()))
            continue
        out.append(finding)
        lapsed.extend((w, finding) for w in matching)
    out.extend(_expired_finding(w, f) for w, f in lapsed)
    return tuple(out)


def _expired_finding(waiver: Waiver, finding: Finding) -> Finding:
    rule = load_rules()[EXPIRED_RULE]
    return Finding(
        EXPIRED_RULE,
        rule.severity,
        rule.scanner,
        finding.artifact,
        finding.location,
        f"the waiver for {waiver.rule} here expired on {waiver.expires.isoformat()}; the finding counts again",
        {"waiver": waiver.to_dict(), "finding": finding.message},
        rule.references,
    )
