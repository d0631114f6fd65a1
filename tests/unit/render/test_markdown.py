"""Markdown renderer: the verdict first, findings grouped by severity, detail collapsed, nothing hostile live."""

from __future__ import annotations

import re

from airlock.render.interface import OutputFormat
from airlock.render.markdown import MAX_ROWS_PER_SEVERITY, MarkdownRenderer, escape
from tests.unit.render.samples import (
    ATTRIBUTE_BREAKER,
    HOSTILE,
    failing_report,
    finding,
    hostile_report,
    passing_report,
    report,
)


def headings(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("#")]


def test_the_verdict_comes_first() -> None:
    failing = MarkdownRenderer().render(failing_report())
    first = failing.splitlines()[0]
    assert first.startswith("## ❌ airlock: FAIL ")
    passing = MarkdownRenderer().render(passing_report())
    assert passing.splitlines()[0].startswith("## ✅ airlock: PASS ")
    reasons = failing_report().verdict.reasons
    assert all(escape(r) in failing.split("### ")[0] for r in reasons)


def test_findings_are_grouped_by_severity_most_severe_first() -> None:
    report_ = failing_report()
    text = MarkdownRenderer().render(report_)
    present = sorted({f.severity for f in report_.findings}, reverse=True)
    groups = [h for h in headings(text) if h.startswith("### ")]
    assert groups == [
        f"### {str(s).capitalize()} ({sum(f.severity is s for f in report_.findings)})" for s in present
    ]
    for f in report_.findings:  # each finding sits under its own severity's heading
        section = text.split(f"### {str(f.severity).capitalize()} (")[1].split("\n### ")[0]
        assert f"| {escape(f.rule)} |" in section


def test_detail_is_collapsed() -> None:
    text = MarkdownRenderer().render(failing_report())
    assert text.count("<details>") == text.count("</details>") >= 2
    assert "<summary>Checks (" in text and "<summary>Files (" in text
    assert "<summary>Evidence (" in text
    assert text.index("<details>") > text.index("### ")  # the findings come before any detail


def test_hostile_names_cannot_add_markup() -> None:
    text = MarkdownRenderer().render(hostile_report())
    assert "<script>" not in text and "<img" not in text
    assert "&lt;script&gt;" in text
    assert "](https" not in text  # no live link: the brackets are escaped
    # a table row stays a table row: a "|" from the model is escaped, every row has the header's cells
    for line in text.splitlines():
        if line.startswith("| ") and "rule" not in line:
            assert len(re.findall(r"(?<!\\)\|", line)) in (3, 5, 6), line
    assert escape(HOSTILE) in text and escape(ATTRIBUTE_BREAKER) in text


def test_many_findings_are_capped_per_severity() -> None:
    many = report(tuple(finding("AIR213", "m.pkl", f"m.pkl@opcode:{i}", f"call {i}") for i in range(250)))
    text = MarkdownRenderer().render(many)
    rows = [line for line in text.splitlines() if line.startswith("| AIR213 |")]
    assert len(rows) == MAX_ROWS_PER_SEVERITY
    assert f"{250 - MAX_ROWS_PER_SEVERITY} more in the JSON report" in text


def test_markdown_is_one_of_the_formats() -> None:
    assert OutputFormat.parse("markdown") is OutputFormat.MARKDOWN
    assert OutputFormat.parse("md") is OutputFormat.MARKDOWN
    assert OutputFormat.parse("text") is OutputFormat.TABLE
    assert isinstance(OutputFormat.MARKDOWN.renderer(), MarkdownRenderer)
