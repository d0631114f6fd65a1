"""`--format cyclonedx|spdx`: bills of materials validated against the official schemas.

CycloneDX 1.6 through cyclonedx-python-lib's strict JSON validator; SPDX 3.0.1 against the SPDX 3.0.1
JSON schema in tests/assets (provenance in tests/assets/README.md). A passing real checkpoint
(all-MiniLM-L6-v2), a failing generated one, and a failing dataset.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from fixtures import datasets, pickles
from fixtures.real_models import minilm_dir

ASSETS = Path(__file__).resolve().parents[1] / "assets"


def assert_valid_cyclonedx(document: dict[str, Any]) -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(document), all_errors=True)
    assert errors is None, [str(e)[:500] for e in errors]


@pytest.fixture(scope="module")
def spdx_schema() -> dict[str, Any]:
    return json.loads((ASSETS / "spdx-schema-3.0.1.json").read_text(encoding="utf-8"))


def assert_valid_spdx(document: dict[str, Any], schema: dict[str, Any]) -> None:
    import jsonschema

    errors = [
        f"{list(e.path)}: {e.message[:300]}"
        for e in jsonschema.Draft202012Validator(schema).iter_errors(document)
    ]
    assert errors == []


def by_type(document: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [node for node in document["@graph"] if node["type"] == kind]


def test_real_checkpoint_cyclonedx_is_a_valid_ml_bom_with_its_model_card(cli) -> None:
    result = cli("scan", minilm_dir(), "--format", "cyclonedx", "--no-progress")
    assert result.code == 0, result.err
    bom = result.json()
    assert_valid_cyclonedx(bom)
    model = bom["metadata"]["component"]
    assert model["type"] == "machine-learning-model"
    assert model["name"] == "all-MiniLM-L6-v2"  # the card's title (a local folder has no repo id)
    assert model["licenses"] == [{"license": {"id": "Apache-2.0"}}]
    params = model["modelCard"]["modelParameters"]
    assert params["task"] == "sentence-similarity"
    assert params["modelArchitecture"] == "BertModel" and params["architectureFamily"] == "bert"
    assert {"type": "dataset", "name": "ms_marco"} in params["datasets"]
    card_props = {p["name"]: p["value"] for p in model["modelCard"]["properties"]}
    assert (
        card_props["airlock:parameter_count"] == "22713728"
    )  # BERT-base vocab × 384 × 6 layers, from the header
    files = {c["name"]: c for c in bom["components"]}
    digest = hashlib.sha256((minilm_dir() / "model.safetensors").read_bytes()).hexdigest()
    assert files["model.safetensors"]["hashes"] == [{"alg": "SHA-256", "content": digest}]
    assert bom["dependencies"][0] == {
        "ref": "subject",
        "dependsOn": [c["bom-ref"] for c in bom["components"]],
    }
    verdict = {p["name"]: p["value"] for p in bom["metadata"]["properties"]}
    assert verdict["airlock:verdict"] == "pass"
    assert all(v["ratings"][0]["severity"] not in ("high", "critical") for v in bom["vulnerabilities"])


def test_malicious_checkpoint_cyclonedx_carries_the_findings_as_vulnerabilities(cli, generated) -> None:
    result = cli("scan", generated(pickles.os_system_canary), "--format", "cyclonedx", "--no-progress")
    assert result.code == 1
    bom = result.json()
    assert_valid_cyclonedx(bom)
    assert {p["name"]: p["value"] for p in bom["metadata"]["properties"]}["airlock:verdict"] == "fail"
    air201 = next(v for v in bom["vulnerabilities"] if v["id"] == "AIR201")
    assert air201["ratings"][0]["severity"] == "critical"
    assert 502 in air201["cwes"]
    assert air201["affects"] == [{"ref": "file:model.pkl"}]
    ids = {r["id"] for r in air201["references"]}
    assert {"AML.T0010.003", "OWASP-ML06", "OWASP-LLM03"} <= ids
    props = {p["name"]: p["value"] for p in air201["properties"]}
    assert props["airlock:location"] == "model.pkl@opcode:2"
    assert "OWASP-ML06" in props["airlock:owasp"]


def test_real_checkpoint_spdx_validates_with_the_ai_profile(cli, spdx_schema) -> None:
    result = cli("scan", minilm_dir(), "--format", "spdx", "--no-progress")
    assert result.code == 0, result.err
    doc = result.json()
    assert_valid_spdx(doc, spdx_schema)
    [model] = by_type(doc, "ai_AIPackage")
    assert model["ai_typeOfModel"] == ["BertModel"]
    assert {"type": "DictionaryEntry", "key": "parameter_count", "value": "22713728"} in model[
        "ai_hyperparameter"
    ]
    assert model["ai_safetyRiskAssessment"] in ("low", "medium")
    [document] = by_type(doc, "SpdxDocument")
    assert {"ai", "dataset", "software"} <= set(document["profileConformance"])
    relations = {(r["from"], r["relationshipType"]) for r in by_type(doc, "Relationship")}
    assert (model["spdxId"], "trainedOn") in relations and (
        model["spdxId"],
        "hasDeclaredLicense",
    ) in relations
    [licence] = by_type(doc, "simplelicensing_LicenseExpression")
    assert licence["simplelicensing_licenseExpression"] == "Apache-2.0"
    files = {f["name"]: f for f in by_type(doc, "software_File")}
    assert files["model.safetensors"]["verifiedUsing"][0]["algorithm"] == "sha256"
    [verdict] = by_type(doc, "Annotation")
    assert verdict["statement"].startswith("airlock verdict: pass")


def test_malicious_checkpoint_spdx_links_findings_to_the_file(cli, generated, spdx_schema) -> None:
    result = cli("scan", generated(pickles.os_system_canary), "--format", "spdx", "--no-progress")
    assert result.code == 1
    doc = result.json()
    assert_valid_spdx(doc, spdx_schema)
    [model] = by_type(doc, "ai_AIPackage")
    assert model["ai_safetyRiskAssessment"] == "serious"
    vulns = {v["spdxId"]: v for v in by_type(doc, "security_Vulnerability")}
    air201 = next(v for v in vulns.values() if v["name"].startswith("AIR201"))
    assert {"AML.T0010.003", "CWE-502", "OWASP-ML06"} <= {
        i["identifier"] for i in air201["externalIdentifier"]
    }
    [pkl] = [f for f in by_type(doc, "software_File") if f["name"] == "model.pkl"]
    links = [r for r in by_type(doc, "Relationship") if r["relationshipType"] == "hasAssociatedVulnerability"]
    assert any(r["from"] == pkl["spdxId"] and air201["spdxId"] in r["to"] for r in links)
    assert by_type(doc, "Annotation")[0]["statement"].startswith("airlock verdict: fail")


def test_the_spdx_schema_rejects_what_it_should(cli, spdx_schema) -> None:
    """The shipped schema is not vacuous: an unknown relationship type fails it."""
    import jsonschema

    doc = cli("scan", minilm_dir(), "--format", "spdx", "--no-progress").json()
    by_type(doc, "Relationship")[0]["relationshipType"] = "isVettedBy"
    assert list(jsonschema.Draft202012Validator(spdx_schema).iter_errors(doc))


def test_dataset_boms_use_the_dataset_profile(cli, generated, spdx_schema) -> None:
    train = generated(datasets.tabular)
    args = ("data", train, "--test", train.with_name("test.csv"), "--no-progress", "--format")
    cdx = cli(*args, "cyclonedx")
    assert cdx.code == 1
    bom = cdx.json()
    assert_valid_cyclonedx(bom)
    assert bom["metadata"]["component"]["type"] == "data"
    assert any(v["id"] == "AIR841" for v in bom["vulnerabilities"])
    spdx = cli(*args, "spdx")
    doc = spdx.json()
    assert_valid_spdx(doc, spdx_schema)
    [subject] = by_type(doc, "dataset_DatasetPackage")
    assert subject["software_primaryPurpose"] == "data"
    assert not by_type(doc, "ai_AIPackage")


def test_dataset_boms_carry_the_declared_licence(cli, generated, spdx_schema) -> None:
    train = generated(datasets.tabular)
    args = ("data", train, "--license", "cc-by-nc-4.0", "--no-progress", "--format")
    bom = cli(*args, "cyclonedx").json()
    assert_valid_cyclonedx(bom)
    assert bom["metadata"]["component"]["licenses"] == [{"license": {"id": "CC-BY-NC-4.0"}}]
    doc = cli(*args, "spdx").json()
    assert_valid_spdx(doc, spdx_schema)
    [licence] = by_type(doc, "simplelicensing_LicenseExpression")
    assert licence["simplelicensing_licenseExpression"] == "CC-BY-NC-4.0"
    report = cli(*args, "json").json()
    assert report["target"]["license"] == "CC-BY-NC-4.0"
    bad = cli("data", str(train), "--license", "cc-by-nc", "--no-progress")
    assert bad.code == 2 and "not a licence airlock knows" in bad.err
