"""What the two bill-of-materials renderers (CycloneDX, SPDX) share: the subject's facts and reference links."""

from __future__ import annotations

from dataclasses import replace

from airlock import licenses
from airlock.modelcard import ModelFacts
from airlock.report import Report

INFORMATION_URI = "https://github.com/model-airlock/model-airlock"
HUB_ENDPOINT = "https://huggingface.co"  # when a stored report does not say which endpoint it came from

# The Hub's licence names → SPDX ids live in signatures/licenses.toml (airlock.licenses): one table.
spdx_license_id = licenses.spdx_license_id


def subject_facts(report: Report, facts: ModelFacts | None) -> ModelFacts:
    """The facts the snapshot gave, or (rendering a stored report) what the report itself says."""
    target = report.target
    repo_id = target.extra.get("repo_id")
    base = facts or ModelFacts(name=repo_id or target.reference, repo_id=repo_id, revision=target.revision)
    endpoint = base.hub_endpoint or (HUB_ENDPOINT if target.source == "hf" else None)
    declared = target.extra.get("license")  # `airlock data --license`
    return replace(
        base,
        licenses=base.licenses or ((str(declared),) if declared else ()),
        name=base.name or target.reference,
        revision=base.revision or target.revision,
        hub_endpoint=endpoint,
    )


def is_dataset(report: Report) -> bool:
    return report.data is not None


def reference_url(ref: str) -> str | None:
    """Where a rule reference (ATLAS technique, OWASP Top 10 entry, CWE, CVE, GHSA, URL) is described."""
    if ref.startswith("AML."):
        return f"https://atlas.mitre.org/techniques/{ref}"
    if ref.startswith("CWE-"):
        return f"https://cwe.mitre.org/data/definitions/{ref[4:]}.html"
    if ref.startswith("CVE-"):
        return f"https://www.cve.org/CVERecord?id={ref}"
    if ref.startswith("GHSA-"):
        return f"https://github.com/advisories/{ref}"
    if ref.startswith("OWASP-ML"):
        return "https://owasp.org/www-project-machine-learning-security-top-10/"
    if ref.startswith("OWASP-LLM"):
        return "https://genai.owasp.org/llm-top-10/"
    if ref.startswith("https://"):
        return ref
    return None


def reference_source(ref: str) -> str:
    for prefix, source in (
        ("AML.", "MITRE ATLAS"),
        ("CWE-", "CWE"),
        ("CVE-", "CVE"),
        ("GHSA-", "GitHub Advisory Database"),
        ("OWASP-ML", "OWASP Machine Learning Security Top 10"),
        ("OWASP-LLM", "OWASP Top 10 for LLM Applications"),
    ):
        if ref.startswith(prefix):
            return source
    return "web"


def hub_url(facts: ModelFacts) -> str | None:
    """The Hub page of the model at the vetted commit (the endpoint the snapshot came from)."""
    if facts.repo_id is None or facts.hub_endpoint is None:
        return None
    url = f"{facts.hub_endpoint.rstrip('/')}/{facts.repo_id}"
    return f"{url}/tree/{facts.revision}" if facts.revision else url
