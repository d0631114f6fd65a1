"""The shipped rule data is well-formed: ids, names, severities, references."""

from __future__ import annotations

import re
import tomllib

import pytest

from airlock.errors import RuleDataError
from airlock.rules import _parse_rule, load_rules, read_signature_text, rule_files


def test_rules_load_and_have_a_version() -> None:
    rules = load_rules()
    assert re.fullmatch(r"\d{4}\.\d+\.\d+", rules.version)
    assert len(rules) >= 19


def test_every_rule_has_atlas_or_cwe_references() -> None:
    for rule in load_rules():
        assert rule.references, rule.id
        assert rule.summary and not rule.summary.endswith(".")


def test_every_rule_says_what_to_do() -> None:
    for rule in load_rules():
        assert rule.remediation and "\n" not in rule.remediation, rule.id


def test_ids_and_names_are_unique_across_files() -> None:
    ids: list[str] = []
    names: list[str] = []
    for name in rule_files():
        raw = tomllib.loads(read_signature_text(f"rules/{name}"))
        ids += list(raw)
        names += [body["name"] for body in raw.values()]
    assert len(ids) == len(set(ids))
    assert len(names) == len(set(names))


@pytest.mark.parametrize(
    "body, problem",
    [
        ({"name": "x", "scanner": "s", "severity": "urgent", "summary": "s"}, "unknown severity"),
        ({"name": "Bad_Name", "scanner": "s", "severity": "low", "summary": "s"}, "kebab-case"),
        ({"name": "x", "scanner": "s", "severity": "low"}, "missing summary"),
        (
            {"name": "x", "scanner": "s", "severity": "low", "summary": "s", "references": ["ATLAS-1"]},
            "malformed reference",
        ),
    ],
)
def test_malformed_rules_are_rejected(body: dict, problem: str) -> None:
    with pytest.raises(RuleDataError, match=problem):
        _parse_rule("AIR999", body, set())


def test_every_rule_maps_to_atlas_owasp_and_cwe() -> None:
    """Security teams report against MITRE ATLAS, the OWASP ML / LLM Top 10 and CWE: no rule may lack one."""
    unmapped = {rule.id: name for rule in load_rules() for name, ids in rule.frameworks.items() if not ids}
    assert not unmapped, unmapped
    owasp = re.compile(r"^OWASP-(ML(0[1-9]|10)|LLM(0[1-9]|10))$")  # ML Top 10 (2023), LLM Top 10 (2025)
    for rule in load_rules():
        assert all(owasp.match(ref) for ref in rule.frameworks["owasp"]), rule.id
