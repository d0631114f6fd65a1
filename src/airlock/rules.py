"""Rules: the versioned rule data in `signatures/`, loaded through importlib.resources.

A rule is data, not code: its id, kebab-case name, owning scanner, default severity, summary and
references (MITRE ATLAS technique ids, CWE, CVE) and a one-line remediation. Scanners refer to rules by id only.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from airlock.errors import RuleDataError
from airlock.findings import RuleId, Severity

_ID = re.compile(r"^AIR\d{3}$")
_NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_REFERENCE = re.compile(
    r"^(AML\.T\d{4}(\.\d{3})?|CWE-\d+|CVE-\d{4}-\d{4,}|GHSA(-[23456789cfghjmpqrvwx]{4}){3}|OWASP-(?:ML|LLM)\d{2}|https://\S+)$"
)


@dataclass(frozen=True, slots=True)
class Rule:
    id: RuleId
    name: str
    scanner: str
    severity: Severity
    summary: str
    description: str
    references: tuple[str, ...]
    remediation: str = ""  # one line: what a person does about a finding of this rule

    @property
    def frameworks(self) -> dict[str, list[str]]:
        """The references grouped by the framework they come from: MITRE ATLAS, OWASP ML/LLM Top 10, CWE."""
        return frameworks(self.references)


FRAMEWORKS = {"atlas": "AML.", "owasp": "OWASP-", "cwe": "CWE-"}


def frameworks(references: tuple[str, ...] | list[str]) -> dict[str, list[str]]:
    return {name: [r for r in references if r.startswith(prefix)] for name, prefix in FRAMEWORKS.items()}


@dataclass(frozen=True)
class RuleSet:
    version: str
    rules: Mapping[RuleId, Rule]

    def __getitem__(self, rule_id: str) -> Rule:
        try:
            return self.rules[RuleId(rule_id)]
        except KeyError:
            raise RuleDataError(f"rule {rule_id} is not defined in signatures/rules/") from None

    def __iter__(self) -> Iterator[Rule]:
        return iter(sorted(self.rules.values(), key=lambda r: r.id))

    def __len__(self) -> int:
        return len(self.rules)


def read_signature_text(name: str) -> str:
    """Text of one file shipped in `airlock.signatures` (works from a wheel and an editable install)."""
    return resources.files("airlock.signatures").joinpath(name).read_text(encoding="utf-8")


def read_signature_toml(name: str) -> dict[str, Any]:
    try:
        return tomllib.loads(read_signature_text(name))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RuleDataError(f"signatures/{name}: {exc}") from exc


RULES_FOLDER = "rules"  # one TOML file per check family: signatures/rules/<family>.toml


def rule_files() -> list[str]:
    """Names of the rule files shipped in signatures/rules/, sorted."""
    folder = resources.files("airlock.signatures").joinpath(RULES_FOLDER)
    return sorted(entry.name for entry in folder.iterdir() if entry.name.endswith(".toml"))


@functools.cache
def load_rules() -> RuleSet:
    """The shipped rule set (every file in signatures/rules/), validated once per process."""
    version = read_signature_text("VERSION").strip()
    rules: dict[RuleId, Rule] = {}
    names: set[str] = set()
    for name in rule_files():
        where = f"{RULES_FOLDER}/{name}"
        for rule_id, body in read_signature_toml(where).items():
            if RuleId(rule_id) in rules:
                raise RuleDataError(f"signatures/{where}: {rule_id} is defined twice")
            rules[RuleId(rule_id)] = _parse_rule(rule_id, body, names, where)
    if not rules:
        raise RuleDataError("signatures/rules/ holds no rules (a broken install?)")
    return RuleSet(version=version, rules=rules)


def _parse_rule(rule_id: str, body: Mapping[str, Any], seen_names: set[str], source: str = "rules") -> Rule:
    where = f"signatures/{source} [{rule_id}]"
    if not _ID.match(rule_id):
        raise RuleDataError(f"{where}: id must look like AIR123")
    missing = {"name", "scanner", "severity", "summary"} - body.keys()
    if missing:
        raise RuleDataError(f"{where}: missing {', '.join(sorted(missing))}")
    name = body["name"]
    if not _NAME.match(name) or name in seen_names:
        raise RuleDataError(f"{where}: name {name!r} must be unique kebab-case")
    seen_names.add(name)
    try:
        severity = Severity.parse(body["severity"])
    except ValueError as exc:
        raise RuleDataError(f"{where}: {exc}") from None
    references = tuple(body.get("references", ()))
    for ref in references:
        if not _REFERENCE.match(ref):
            raise RuleDataError(f"{where}: malformed reference {ref!r}")
    return Rule(
        id=RuleId(rule_id),
        name=name,
        scanner=body["scanner"],
        severity=severity,
        summary=body["summary"],
        description=body.get("description", "").strip(),
        references=references,
        remediation=str(body.get("remediation", "")).strip(),
    )
