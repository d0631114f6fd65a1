"""Findings: what a scanner reports, and how severe it is.

Findings are plain frozen values. Checks create them (through their context's `finding`, see
`airlock.scanning.CheckContext`, which takes the severity and references from the rule data unless a
severity is given); the policy reads them; renderers print them.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NewType

RuleId = NewType("RuleId", str)


class Severity(enum.IntEnum):
    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    def __str__(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            names = ", ".join(str(s) for s in cls)
            raise ValueError(f"unknown severity {text!r} (one of {names})") from None


@dataclass(frozen=True, slots=True)
class Finding:
    rule: RuleId
    severity: Severity
    scanner: str
    artifact: str | None  # path relative to the snapshot root; None for the model as a whole
    location: str  # e.g. "archive/data.pkl@opcode:118"
    message: str  # one line, no trailing period
    evidence: Mapping[str, Any] = field(default_factory=dict)
    references: tuple[str, ...] = ()
    waiver: Mapping[str, Any] | None = None  # the policy waiver that accepts this finding (airlock.waivers)

    @property
    def waived(self) -> bool:
        return self.waiver is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": str(self.severity),
            "scanner": self.scanner,
            "artifact": self.artifact,
            "location": self.location,
            "message": self.message,
            "evidence": dict(self.evidence),
            "references": list(self.references),
            **({"waiver": dict(self.waiver)} if self.waiver is not None else {}),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        return cls(
            rule=RuleId(data["rule"]),
            severity=Severity.parse(data["severity"]),
            scanner=data["scanner"],
            artifact=data.get("artifact"),
            location=data["location"],
            message=data["message"],
            evidence=dict(data.get("evidence") or {}),
            references=tuple(data.get("references") or ()),
            waiver=data.get("waiver"),
        )

    def sort_key(self) -> tuple[int, str, str, str]:
        return (-int(self.severity), self.artifact or "", self.rule, self.location)
