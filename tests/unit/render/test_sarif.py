"""SARIF renderer: valid against the official OASIS SARIF 2.1.0 schema, and shaped for GitHub code scanning.

The schema (tests/assets/sarif-schema-2.1.0.json, see tests/assets/README.md) checks structure; the
rest checks what GitHub needs and the schema does not enforce: rules for every result, usable
locations, stable fingerprints, `security-severity` scores, level mapping and the results limit.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import jsonschema
import pytest
from jsonschema.protocols import Validator

from airlock.findings import Finding, RuleId, Severity
from airlock.render.interface import OutputFormat
from airlock.render.sarif import MAX_RESULTS, SarifRenderer
from airlock.report import Report
from airlock.rules import load_rules
from tests.unit.render.samples import failing_report, finding, hostile_report, passing_report, report

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "assets" / "sarif-schema-2.1.0.json"

LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub reads security-severity as: over 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low.
SECURITY_SEVERITY_RANGE = {
    Severity.CRITICAL: (9.0, 10.0),
    Severity.HIGH: (7.0, 8.9),
    Severity.MEDIUM: (4.0, 6.9),
    Severity.LOW: (0.1, 3.9),
    Severity.INFO: (0.0, 3.9),
}


@pytest.fixture(scope="module")
def validator() -> Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def sarif(report_: Report) -> dict[str, Any]:
    text: str = SarifRenderer().render(report_)
    document: dict[str, Any] = json.loads(text)
    return document


def results_with_rules(document: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    for run in document["runs"]:
        rules = run["tool"]["driver"]["rules"]
        for result in run["results"]:
            yield result, rules[result["ruleIndex"]]


def test_the_asset_is_the_official_sarif_2_1_0_schema() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert "2.1.0" in schema["title"]
    assert (
        schema["id"]
        == "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
    )
    assert {"run", "result", "reportingDescriptor", "toolComponent"} <= schema["definitions"].keys()
    assert schema["required"] == ["version", "runs"]  # the root object is the sarifLog


def test_every_schema_reference_resolves_inside_the_file() -> None:
    text = SCHEMA_PATH.read_text(encoding="utf-8")
    schema = json.loads(text)
    refs = set(_values(schema, "$ref"))
    assert refs and all(ref.startswith("#/definitions/") for ref in refs)
    assert {ref.removeprefix("#/definitions/") for ref in refs} <= schema["definitions"].keys()


def _values(node: Any, key: str) -> Iterator[Any]:
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key:
                yield v
            yield from _values(v, key)
    elif isinstance(node, list):
        for item in node:
            yield from _values(item, key)


@pytest.mark.parametrize(
    "make",
    [failing_report, passing_report, hostile_report, report],
    ids=["failing", "passing", "hostile", "empty"],
)
def test_output_is_valid_sarif(make: Any, validator: Validator) -> None:
    document = sarif(make())
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]
    assert document["version"] == "2.1.0"
    assert len(document["runs"]) == 1


def test_the_validator_rejects_invalid_sarif(validator: Validator) -> None:
    document = sarif(failing_report())
    document["runs"][0]["results"][0]["level"] = "critical"
    assert not validator.is_valid(document)
    document = sarif(failing_report())
    document["runs"][0]["results"][0]["severity"] = "critical"  # results allow no unknown properties
    assert not validator.is_valid(document)


def test_the_output_format_choice_renders_sarif() -> None:
    report_ = failing_report()
    assert OutputFormat("sarif").renderer().render(report_) == SarifRenderer().render(report_)


def test_a_report_without_findings_is_an_empty_run(validator: Validator) -> None:
    run = sarif(report())["runs"][0]
    assert run["results"] == []
    assert run["tool"]["driver"]["rules"] == []
    validator.validate(sarif(report()))


def test_every_result_names_a_described_rule_by_id_and_index() -> None:
    document = sarif(failing_report())
    run = document["runs"][0]
    rule_ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    assert len(rule_ids) == len(set(rule_ids))
    assert sorted(rule_ids) == ["AIR101", "AIR109", "AIR113", "AIR201", "AIR202"]
    for result, rule in results_with_rules(document):
        assert result["ruleId"] in rule_ids
        assert rule["id"] == result["ruleId"]


def test_rules_carry_help_descriptions_and_a_numeric_security_severity() -> None:
    report_ = failing_report()
    severity = {f.rule: f.severity for f in report_.findings}
    for rule in sarif(report_)["runs"][0]["tool"]["driver"]["rules"]:
        assert rule["shortDescription"]["text"].strip()
        assert rule["help"]["text"].strip() and rule["help"]["markdown"].strip()
        assert rule["help"]["text"].endswith(f"What to do: {load_rules()[rule['id']].remediation}")
        score = rule["properties"]["security-severity"]
        assert isinstance(score, str)
        low, high = SECURITY_SEVERITY_RANGE[severity[rule["id"]]]
        assert low <= float(score) <= high, (rule["id"], score)
        assert rule["defaultConfiguration"]["level"] == LEVEL[severity[rule["id"]]]


def test_levels_follow_severity() -> None:
    report_ = failing_report()
    results = sarif(report_)["runs"][0]["results"]
    assert [r["level"] for r in results] == [LEVEL[f.severity] for f in report_.findings]
    assert {f.severity for f in report_.findings} == set(Severity) - {Severity.HIGH}
    raised = replace(
        finding("AIR202", "a.bin", "a.bin@opcode:1", "raised to high by a policy override"),
        severity=Severity.HIGH,
    )
    assert sarif(report((raised,)))["runs"][0]["results"][0]["level"] == "error"


def test_every_result_points_at_a_relative_artifact_uri() -> None:
    report_ = failing_report()
    first_artifact = report_.artifacts[0].path
    for result, f in zip(sarif(report_)["runs"][0]["results"], report_.findings, strict=True):
        assert result["locations"], result
        uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        parts = urlsplit(uri)
        assert not parts.scheme and not parts.netloc and not uri.startswith("/"), uri
        # whole-model findings point at the model's first file
        assert unquote(uri) == (f.artifact or first_artifact)
        assert result["message"]["text"] == f.message


def test_artifact_paths_become_valid_uri_references() -> None:
    document = sarif(hostile_report())
    path = hostile_report().artifacts[0].path
    run = document["runs"][0]
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]]
    uris.append(run["artifacts"][0]["location"]["uri"])
    for uri in uris:
        parts = urlsplit(uri)
        assert (parts.scheme, parts.netloc, parts.query, parts.fragment) == ("", "", "", ""), uri
        assert " " not in uri and '"' not in uri and "<" not in uri
        assert quote(unquote(uri), safe="/") == uri  # every '%' is an escape, none is literal
        assert unquote(uri) == path


def test_partial_fingerprints_are_stable_and_distinct() -> None:
    first = [r["partialFingerprints"] for r in sarif(failing_report())["runs"][0]["results"]]
    second = [r["partialFingerprints"] for r in sarif(failing_report())["runs"][0]["results"]]
    assert first == second
    assert all(fp and all(isinstance(v, str) and v for v in fp.values()) for fp in first)
    assert len({json.dumps(fp, sort_keys=True) for fp in first}) == len(first)


def test_checks_that_did_not_run_are_tool_notifications() -> None:
    invocation = sarif(failing_report())["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    notes = {n["descriptor"]["id"]: n for n in invocation["toolExecutionNotifications"]}
    assert set(notes) == {"pickle_opcodes", "trigger_reversal"}
    assert notes["pickle_opcodes"]["level"] == "error"
    assert "truncated" in notes["pickle_opcodes"]["message"]["text"]
    assert "torch not installed" in notes["trigger_reversal"]["message"]["text"]
    assert sarif(passing_report())["runs"][0]["invocations"][0]["executionSuccessful"] is True


def test_a_run_holds_at_most_25000_results_keeping_the_most_severe() -> None:
    assert MAX_RESULTS == 25_000
    many = tuple(finding("AIR202", "a.bin", f"a.bin@opcode:{i}", f"global {i}") for i in range(MAX_RESULTS))
    critical = finding("AIR201", "b.bin", "b.bin@opcode:1", "imports posix.system")
    run = SarifRenderer().document(report((*many, critical)))["runs"][0]
    assert len(run["results"]) == MAX_RESULTS
    assert "AIR201" in {r["ruleId"] for r in run["results"]}
    assert all(run["tool"]["driver"]["rules"][r["ruleIndex"]]["id"] == r["ruleId"] for r in run["results"])
    notes = run["invocations"][0]["toolExecutionNotifications"]
    omitted = [n for n in notes if "left out" in n["message"]["text"]]
    assert len(omitted) == 1 and omitted[0]["message"]["text"].startswith("1 ")


def test_a_rule_from_other_signatures_still_renders_valid_sarif(validator: Validator) -> None:
    """A report written by another airlock release may name a rule this release does not know."""
    foreign = Finding(
        RuleId("AIR777"),
        Severity.HIGH,
        "future_scanner",
        "model.bin",
        "model.bin@opcode:3",
        "something newer found this",
        {},
        ("AML.T0010",),
    )
    document = sarif(report((foreign,)))
    validator.validate(document)
    (result, rule) = next(results_with_rules(document))
    assert rule["id"] == result["ruleId"] == "AIR777"
    assert document["runs"][0]["originalUriBaseIds"]["MODELROOT"]["description"]["text"]
