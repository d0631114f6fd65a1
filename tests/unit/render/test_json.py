"""JSON renderer and `Report` serialisation: the `airlock.report/v1` contract CI and the service read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from jsonschema.protocols import Validator

from airlock import report as report_module
from airlock.errors import ReportError
from airlock.render.interface import OutputFormat
from airlock.render.json import JsonRenderer
from airlock.report import SCHEMA_ID, Report
from tests.unit.render.samples import failing_report, hostile_report, passing_report, report

REPO = Path(__file__).resolve().parents[3]
PACKAGED_SCHEMA = REPO / "src" / "airlock" / "schema" / "airlock.report.v1.json"
SHARED_SCHEMA = REPO.parent / "shared" / "schema" / "airlock.report.v1.json"

SAMPLES = pytest.mark.parametrize(
    "make",
    [failing_report, passing_report, hostile_report, report],
    ids=["failing", "passing", "hostile", "empty"],
)


@pytest.fixture(scope="module")
def validator() -> Validator:
    schema = report_module.schema()
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


@SAMPLES
def test_output_validates_against_the_shipped_schema(make: Any, validator: Validator) -> None:
    document = json.loads(JsonRenderer().render(make()))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
    assert not errors
    assert document["schema"] == SCHEMA_ID


def test_the_validator_rejects_a_broken_report(validator: Validator) -> None:
    document = failing_report().to_dict()
    document["findings"][0]["severity"] = "catastrophic"
    assert not validator.is_valid(document)


def test_whole_model_findings_serialise_artifact_as_null() -> None:
    findings = json.loads(JsonRenderer().render(failing_report()))["findings"]
    assert {f["rule"] for f in findings if f["artifact"] is None} == {"AIR101", "AIR109", "AIR113"}


def test_the_output_format_choice_renders_json() -> None:
    report_ = failing_report()
    assert OutputFormat("json").renderer().render(report_) == report_.to_json()
    assert report_.to_json().endswith("}\n")


def test_schema_returns_the_packaged_file() -> None:
    assert report_module.schema() == json.loads(PACKAGED_SCHEMA.read_text(encoding="utf-8"))


@pytest.mark.skipif(not SHARED_SCHEMA.is_file(), reason="no shared/ checkout beside the repository")
def test_packaged_schema_is_the_shared_contract_byte_for_byte() -> None:
    assert PACKAGED_SCHEMA.read_bytes() == SHARED_SCHEMA.read_bytes()


@SAMPLES
def test_from_dict_round_trips(make: Any) -> None:
    original = make()
    document = json.loads(original.to_json())
    again = Report.from_dict(document)
    assert again.to_dict() == document
    assert again == original


def _broken(path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    document = failing_report().to_dict()
    node: Any = document
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return document


def _without(key: str) -> dict[str, Any]:
    document = failing_report().to_dict()
    del document[key]
    return document


MALFORMED: dict[str, Any] = {
    "null": None,
    "list": [],
    "string": "airlock.report/v1",
    "other schema": _broken(("schema",), "airlock.report/v0"),
    "no target": _without("target"),
    "no verdict": _without("verdict"),
    "target not an object": _broken(("target",), "hf://acme/x"),
    "findings not a list": _broken(("findings",), None),
    "finding not an object": _broken(("findings", 0), "AIR201"),
    "finding without message": {
        **failing_report().to_dict(),
        "findings": [{"rule": "AIR201", "severity": "critical", "scanner": "x", "location": "l"}],
    },
    "unknown severity": _broken(("findings", 0, "severity"), "catastrophic"),
    "severity not a string": _broken(("findings", 0, "severity"), 4),
    "unknown check status": _broken(("checks", 0, "status"), "maybe"),
    "seconds not a number": _broken(("checks", 0, "seconds"), "fast"),
    "max_severity null": _broken(("verdict", "max_severity"), None),
    "unknown decision": _broken(("verdict", "decision"), "allow"),
    "artifact without sha256": {
        **failing_report().to_dict(),
        "artifacts": [{"path": "a", "size": 1, "format": "x"}],
    },
}


@pytest.mark.parametrize("document", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_input_raises_report_error(document: Any) -> None:
    with pytest.raises(ReportError):
        Report.from_dict(document)
