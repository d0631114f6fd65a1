"""CycloneDX 1.6 ML-BOM (JSON): the vetted model, its files, its provenance, the findings and the verdict.

The model (or, for `airlock data`, the dataset) is the BOM's subject (`metadata.component`): a
`machine-learning-model` component with a model card built from the card data and config, or a `data`
component. Every file is a `file` component with its sha256, which the subject depends on. The Hub
provenance is an external reference plus `huggingface:*` properties; each finding is a vulnerability
(rule id, rating, CWE ids, ATLAS / OWASP / CVE references) affecting the file it was found in; the
verdict is a set of `airlock:*` properties on the BOM.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from airlock import licenses
from airlock.findings import Finding, Severity
from airlock.modelcard import ModelFacts
from airlock.render.bom import (
    INFORMATION_URI,
    hub_url,
    is_dataset,
    reference_source,
    reference_url,
    spdx_license_id,
    subject_facts,
)
from airlock.render.interface import Renderer
from airlock.report import Report
from airlock.rules import RuleSet, frameworks, load_rules

SPEC_VERSION = "1.6"
SUBJECT_REF = "subject"
_SCORE = {
    Severity.CRITICAL: 9.5,
    Severity.HIGH: 8.0,
    Severity.MEDIUM: 5.5,
    Severity.LOW: 3.0,
    Severity.INFO: 0.0,
}


class CycloneDxRenderer(Renderer):
    def __init__(self, facts: ModelFacts | None = None, rules: RuleSet | None = None) -> None:
        self.facts = facts
        self.rules = rules

    def render(self, report: Report) -> str:
        return json.dumps(self.document(report), indent=2) + "\n"

    def document(self, report: Report) -> dict[str, Any]:
        rules = self.rules or load_rules()
        facts = subject_facts(report, self.facts)
        files = [
            {
                "type": "file",
                "bom-ref": _file_ref(a.path),
                "name": a.path,
                "hashes": [{"alg": "SHA-256", "content": a.sha256}],
                "properties": _props({"airlock:format": a.format, "airlock:size": str(a.size)}),
            }
            for a in report.artifacts
        ]
        return {
            "bomFormat": "CycloneDX",
            "specVersion": SPEC_VERSION,
            "serialNumber": uuid.uuid4().urn,
            "version": 1,
            "metadata": {
                "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
                "tools": {
                    "components": [
                        {
                            "type": "application",
                            "name": "airlock",
                            "version": report.tool_version,
                            "externalReferences": [{"type": "website", "url": INFORMATION_URI}],
                            "properties": _props({"airlock:signatures": report.signatures_version}),
                        }
                    ]
                },
                "component": _subject(report, facts),
                "properties": _verdict(report),
            },
            "components": files,
            "dependencies": [
                {"ref": SUBJECT_REF, "dependsOn": [f["bom-ref"] for f in files]},
                *({"ref": f["bom-ref"]} for f in files),
            ],
            "vulnerabilities": [_vulnerability(i, f, rules) for i, f in enumerate(report.findings)],
        }


def _subject(report: Report, facts: ModelFacts) -> dict[str, Any]:
    component: dict[str, Any] = {
        "type": "data" if is_dataset(report) else "machine-learning-model",
        "bom-ref": SUBJECT_REF,
        "name": facts.name or report.target.reference,
    }
    if facts.revision:
        component["version"] = facts.revision
    if facts.author:
        component["author"] = facts.author
    if facts.licenses:
        component["licenses"] = [_license(name) for name in facts.licenses]
    if facts.base_models:
        component["pedigree"] = {
            "ancestors": [{"type": "machine-learning-model", "name": base} for base in facts.base_models]
        }
    url = hub_url(facts)
    if url:
        component["externalReferences"] = [
            {"type": "distribution", "url": url, "comment": "the Hub repository at the vetted commit"}
        ]
    props = {
        "airlock:reference": report.target.reference,
        "airlock:source": report.target.source,
        "airlock:digest": report.target.digest,
        "huggingface:repo_id": facts.repo_id,
        "huggingface:commit": facts.revision if report.target.source == "hf" else None,
        "huggingface:author": facts.author if report.target.source == "hf" else None,
        "huggingface:library": facts.library,
    }
    component["properties"] = _props(props)
    if is_dataset(report):
        component["data"] = [{"type": "dataset", "name": component["name"]}]
    else:
        component["modelCard"] = _model_card(facts)
    return component


def _model_card(facts: ModelFacts) -> dict[str, Any]:
    parameters: dict[str, Any] = {}
    if facts.task:
        parameters["task"] = facts.task
    if facts.model_type:
        parameters["architectureFamily"] = facts.model_type
    if facts.architectures:
        parameters["modelArchitecture"] = ", ".join(facts.architectures)
    if facts.datasets:
        parameters["datasets"] = [{"type": "dataset", "name": name} for name in facts.datasets]
    card: dict[str, Any] = {"modelParameters": parameters}
    props = {
        "airlock:parameter_count": str(facts.parameters) if facts.parameters is not None else None,
        "airlock:tensor_dtypes": ", ".join(facts.tensor_dtypes) or None,
        "airlock:languages": ", ".join(facts.languages) or None,
    }
    if any(props.values()):
        card["properties"] = _props(props)
    return card


def _license(name: str) -> dict[str, Any]:
    spdx = spdx_license_id(name)
    if spdx:
        return {"license": {"id": spdx}}
    known = licenses.catalog().identify(name)  # a model licence without an SPDX id: its full name
    return {"license": {"name": known.name if known is not None else name}}


def _verdict(report: Report) -> list[dict[str, str]]:
    verdict = report.verdict
    props = [
        {"name": "airlock:verdict", "value": verdict.decision},
        {
            "name": "airlock:max_severity",
            "value": str(verdict.max_severity) if verdict.max_severity else "none",
        },
        {"name": "airlock:policy", "value": verdict.policy},
        {"name": "airlock:signatures", "value": report.signatures_version},
        {"name": "airlock:digest", "value": report.target.digest},
    ]
    props += [{"name": "airlock:reason", "value": reason} for reason in verdict.reasons]
    props += [{"name": f"airlock:check:{c.scanner}", "value": str(c.status)} for c in report.checks]
    return props


def _vulnerability(index: int, finding: Finding, rules: RuleSet) -> dict[str, Any]:
    rule = rules.rules.get(finding.rule)
    references = list(dict.fromkeys([*(rule.references if rule else ()), *finding.references]))
    mapped = frameworks(references)
    vulnerability: dict[str, Any] = {
        "bom-ref": f"finding-{index}",
        "id": finding.rule,
        "source": {"name": "airlock", "url": INFORMATION_URI},
        "ratings": [
            {
                "source": {"name": "airlock"},
                "score": _SCORE[finding.severity],
                "severity": str(finding.severity),
                "method": "other",
            }
        ],
        "description": finding.message,
        "affects": [{"ref": _file_ref(finding.artifact) if finding.artifact else SUBJECT_REF}],
        "properties": _props(
            {
                "airlock:rule_name": rule.name if rule else None,
                "airlock:scanner": finding.scanner,
                "airlock:location": finding.location,
                "airlock:evidence": json.dumps(finding.evidence, default=str, sort_keys=True)[:4096],
                "airlock:atlas": ", ".join(mapped["atlas"]) or None,
                "airlock:owasp": ", ".join(mapped["owasp"]) or None,
            }
        ),
    }
    if rule is not None:
        vulnerability["detail"] = rule.description or rule.summary
    cwes = [int(ref[4:]) for ref in mapped["cwe"]]
    if cwes:
        vulnerability["cwes"] = cwes
    linked = [ref for ref in references if not ref.startswith(("CWE-", "https://"))]
    if linked:
        vulnerability["references"] = [{"id": ref, "source": _source(ref)} for ref in linked]
    advisories = [ref for ref in references if ref.startswith("https://")]
    if advisories:
        vulnerability["advisories"] = [{"url": url} for url in advisories]
    return vulnerability


def _source(ref: str) -> dict[str, str]:
    source = {"name": reference_source(ref)}
    url = reference_url(ref)
    if url:
        source["url"] = url
    return source


def _file_ref(path: str) -> str:
    return f"file:{path}"


def _props(values: dict[str, str | None]) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in values.items() if value]
