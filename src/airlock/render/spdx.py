"""SPDX 3.0.1 (JSON-LD) with the AI and Dataset profiles: the vetted model, its files, findings and verdict.

The subject is an `ai_AIPackage` (or, for `airlock data`, a `dataset_DatasetPackage`) that `contains`
every file (`software_File`, verified by sha256), is `trainedOn` the datasets its card names, a
`descendantOf` its base models, and `hasDeclaredLicense` its licence. Each finding is a
`security_Vulnerability` (with its CVE / CWE / ATLAS / OWASP ids as external identifiers) that the
affected file `hasAssociatedVulnerability`; the verdict is a review `Annotation` on the subject and its
`ai_safetyRiskAssessment`.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from airlock.findings import Finding, Severity
from airlock.modelcard import ModelFacts
from airlock.render.bom import hub_url, is_dataset, reference_url, spdx_license_id, subject_facts
from airlock.render.interface import Renderer
from airlock.report import Report
from airlock.rules import RuleSet, load_rules

CONTEXT = "https://spdx.org/rdf/3.0.1/spdx-context.jsonld"
SPEC_VERSION = "3.0.1"
CREATION = "_:creationinfo"
_RISK = {
    Severity.CRITICAL: "serious",
    Severity.HIGH: "high",
    Severity.MEDIUM: "medium",
    Severity.LOW: "low",
    Severity.INFO: "low",
}


class SpdxRenderer(Renderer):
    def __init__(self, facts: ModelFacts | None = None, rules: RuleSet | None = None) -> None:
        self.facts = facts
        self.rules = rules

    def render(self, report: Report) -> str:
        return json.dumps(self.document(report), indent=2) + "\n"

    def document(self, report: Report) -> dict[str, Any]:
        return _Graph(report, subject_facts(report, self.facts), self.rules or load_rules()).build()


class _Graph:
    def __init__(self, report: Report, facts: ModelFacts, rules: RuleSet) -> None:
        self.report, self.facts, self.rules = report, facts, rules
        self.base = f"urn:airlock:{uuid.uuid4()}#"
        self.nodes: list[dict[str, Any]] = []
        self.serial = 0

    def id(self, local: str) -> str:
        return self.base + local

    def add(self, kind: str, local: str, **props: Any) -> str:
        spdx_id = self.id(local)
        self.nodes.append({"type": kind, "spdxId": spdx_id, "creationInfo": CREATION, **props})
        return spdx_id

    def relate(self, source: str, relationship: str, targets: list[str]) -> None:
        if targets:
            self.serial += 1
            self.add(
                "Relationship",
                f"relationship-{self.serial}",
                **{"from": source},
                relationshipType=relationship,
                to=targets,
            )

    def build(self) -> dict[str, Any]:
        report, facts = self.report, self.facts
        created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        tool = self.id("tool-airlock")
        agent = self.id("agent-airlock")
        creation = {
            "type": "CreationInfo",
            "@id": CREATION,
            "specVersion": SPEC_VERSION,
            "created": created,
            "createdBy": [agent],
            "createdUsing": [tool],
        }
        self.nodes.append(creation)
        self.add(
            "Tool",
            "tool-airlock",
            name=f"airlock {report.tool_version} (signatures {report.signatures_version})",
        )
        self.add("Organization", "agent-airlock", name="airlock")
        subject = self._subject()
        files = {
            a.path: self._file(i, a.path, a.sha256, a.format, a.size) for i, a in enumerate(report.artifacts)
        }
        self.relate(subject, "contains", list(files.values()))
        self._lineage(subject)
        self._findings(subject, files)
        self._verdict(subject)
        elements = [n["spdxId"] for n in self.nodes if "spdxId" in n]
        profiles = [
            "core",
            "software",
            "security",
            "simpleLicensing",
            "dataset" if is_dataset(report) else "ai",
        ]
        if facts.datasets and not is_dataset(report):
            profiles.append("dataset")
        sbom = self.add(
            "software_Sbom",
            "sbom",
            name=f"airlock vetting of {facts.name}",
            rootElement=[subject],
            element=elements,
            software_sbomType=["analyzed"],
            profileConformance=profiles,
        )
        self.add(
            "SpdxDocument",
            "document",
            name=f"airlock vetting of {facts.name}",
            rootElement=[sbom],
            element=[*elements, sbom],
            profileConformance=profiles,
            dataLicense="https://spdx.org/licenses/CC0-1.0",
        )
        return {"@context": CONTEXT, "@graph": self.nodes}

    def _subject(self) -> str:
        report, facts = self.report, self.facts
        props: dict[str, Any] = {"name": facts.name or report.target.reference}
        if facts.revision:
            props["software_packageVersion"] = facts.revision
        url = hub_url(facts)
        props["software_downloadLocation"] = url or "NOASSERTION"
        if facts.author:
            props["suppliedBy"] = self.add("Organization", "supplier", name=facts.author)
        identifiers: list[dict[str, Any]] = [
            {
                "type": "ExternalIdentifier",
                "externalIdentifierType": "other",
                "identifier": report.target.digest,
                "issuingAuthority": "airlock (manifest digest)",
            }
        ]
        if facts.repo_id:
            identifiers.append(
                {
                    "type": "ExternalIdentifier",
                    "externalIdentifierType": "other",
                    "identifier": facts.repo_id,
                    "issuingAuthority": "Hugging Face Hub",
                }
            )
        props["externalIdentifier"] = identifiers
        if is_dataset(report):
            return self.add(
                "dataset_DatasetPackage",
                "subject",
                software_primaryPurpose="data",
                dataset_datasetType=["other"],
                **props,
            )
        if facts.task:
            props["ai_domain"] = [facts.task]
        if facts.architectures or facts.model_type:
            props["ai_typeOfModel"] = list(facts.architectures) or [facts.model_type]
        hyper = {
            "parameter_count": facts.parameters,
            "model_type": facts.model_type,
            "tensor_dtypes": ", ".join(facts.tensor_dtypes) or None,
            "library": facts.library,
        }
        entries = [
            {"type": "DictionaryEntry", "key": k, "value": str(v)} for k, v in hyper.items() if v is not None
        ]
        if entries:
            props["ai_hyperparameter"] = entries
        if facts.task:
            props["ai_informationAboutApplication"] = f"pipeline task: {facts.task}"
        max_sev = report.verdict.max_severity
        props["ai_safetyRiskAssessment"] = _RISK[max_sev] if max_sev is not None else "low"
        props["ai_autonomyType"] = "noAssertion"
        return self.add("ai_AIPackage", "subject", software_primaryPurpose="model", **props)

    def _file(self, index: int, path: str, sha256: str, fmt: str, size: int) -> str:
        return self.add(
            "software_File",
            f"file-{index}",
            name=path,
            software_primaryPurpose="file",
            verifiedUsing=[{"type": "Hash", "algorithm": "sha256", "hashValue": sha256}],
            comment=f"format {fmt}, {size} bytes",
        )

    def _lineage(self, subject: str) -> None:
        facts = self.facts
        licences = []
        for i, name in enumerate(facts.licenses):
            spdx = spdx_license_id(name)
            expression = spdx or "LicenseRef-" + "".join(c if c.isalnum() or c in ".-" else "-" for c in name)
            licences.append(
                self.add(
                    "simplelicensing_LicenseExpression",
                    f"license-{i}",
                    simplelicensing_licenseExpression=expression,
                )
            )
        self.relate(subject, "hasDeclaredLicense", licences)
        if is_dataset(self.report):
            return
        datasets = [
            self.add(
                "dataset_DatasetPackage",
                f"dataset-{i}",
                name=name,
                software_primaryPurpose="data",
                dataset_datasetType=["noAssertion"],
                software_downloadLocation="NOASSERTION",
            )
            for i, name in enumerate(facts.datasets)
        ]
        self.relate(subject, "trainedOn", datasets)
        bases = [
            self.add(
                "ai_AIPackage",
                f"base-{i}",
                name=name,
                software_primaryPurpose="model",
                software_downloadLocation="NOASSERTION",
            )
            for i, name in enumerate(facts.base_models)
        ]
        self.relate(subject, "descendantOf", bases)

    def _findings(self, subject: str, files: dict[str, str]) -> None:
        for i, finding in enumerate(self.report.findings):
            vulnerability = self._vulnerability(i, finding)
            affected = files.get(finding.artifact or "", subject)
            self.relate(affected, "hasAssociatedVulnerability", [vulnerability])

    def _vulnerability(self, index: int, finding: Finding) -> str:
        rule = self.rules.rules.get(finding.rule)
        references = list(dict.fromkeys([*(rule.references if rule else ()), *finding.references]))
        identifiers: list[dict[str, Any]] = [
            {
                "type": "ExternalIdentifier",
                "externalIdentifierType": "securityOther",
                "identifier": finding.rule,
                "issuingAuthority": "airlock",
            }
        ]
        for ref in references:
            if ref.startswith("https://"):
                continue
            kind = "cve" if ref.startswith("CVE-") else "securityOther"
            identifier: dict[str, Any] = {
                "type": "ExternalIdentifier",
                "externalIdentifierType": kind,
                "identifier": ref,
            }
            url = reference_url(ref)
            if url:
                identifier["identifierLocator"] = [url]
            identifiers.append(identifier)
        external = [
            {"type": "ExternalRef", "externalRefType": "securityAdvisory", "locator": [ref]}
            for ref in references
            if ref.startswith("https://")
        ]
        props: dict[str, Any] = {
            "name": f"{finding.rule} {rule.name}" if rule else finding.rule,
            "summary": finding.message,
            "comment": f"severity {finding.severity}; scanner {finding.scanner}; location {finding.location}",
            "externalIdentifier": identifiers,
        }
        if rule is not None and (rule.description or rule.summary):
            props["description"] = rule.description or rule.summary
        if external:
            props["externalRef"] = external
        return self.add("security_Vulnerability", f"finding-{index}", **props)

    def _verdict(self, subject: str) -> None:
        verdict = self.report.verdict
        max_sev = str(verdict.max_severity) if verdict.max_severity else "none"
        reasons = "; ".join(verdict.reasons) or "no finding at or above the policy's threshold"
        statement = (
            f"airlock verdict: {verdict.decision} (policy {verdict.policy}, max severity {max_sev}, "
            f"model digest {self.report.target.digest}): {reasons}"
        )
        self.add("Annotation", "verdict", annotationType="review", subject=subject, statement=statement)
