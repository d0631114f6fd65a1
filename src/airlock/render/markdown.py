"""Markdown renderer, for CI job summaries and pull-request comments (GitHub-flavoured).

The verdict comes first, then the findings grouped by severity (most severe first), then the detail a
reviewer opens on demand (evidence, checks, files) inside collapsed `<details>` blocks. Everything
taken from the scanned model (file names, pickle globals, messages) is escaped: it cannot add
markup, links or HTML to the page it lands on.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from typing import Any

from airlock.findings import Finding, Severity
from airlock.render.interface import Renderer
from airlock.render.table import summary_lines
from airlock.report import Report

MAX_ROWS_PER_SEVERITY = 200  # a job summary is capped at 1 MiB; the JSON report keeps every finding
MAX_EVIDENCE_CHARS = 1500
_ICON = {True: "✅", False: "❌"}
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|~!])")  # inline markup; < and > are HTML-escaped


class MarkdownRenderer(Renderer):
    def render(self, report: Report) -> str:
        return section(report, level=2) + "\n"


def section(report: Report, *, level: int = 2) -> str:
    """One report as Markdown, its heading at `level` (a combined batch page nests them one deeper)."""
    verdict = report.verdict
    h = "#" * level
    out = [
        f"{h} {_ICON[verdict.passed]} airlock: {verdict.decision.upper()} {escape(report.target.reference)}",
        "",
        (
            f"**Verdict: {verdict.decision}** (policy {escape(verdict.policy)}, highest severity "
            f"{verdict.max_severity or 'none'})"
        ),
        "",
    ]
    out += [f"- {escape(reason)}" for reason in verdict.reasons]
    out += ["", summary_table(report)]
    notes = [f"> {escape(line.strip())}" for line in summary_lines(report)]
    out += ["", *notes] if notes else []
    live = [f for f in report.findings if not f.waived]
    for severity in sorted(Severity, reverse=True):
        group = [f for f in live if f.severity is severity]
        if group:
            out += ["", f"{h}# {str(severity).capitalize()} ({len(group)})", "", *_findings_table(group)]
    waived = [f for f in report.findings if f.waived]
    if waived:
        out += ["", f"{h}# Waived ({len(waived)})", "", *_findings_table(waived)]
    if not report.findings:
        out += ["", "No findings."]
    out += ["", *_evidence(report), *_checks(report), *_files(report)]
    return "\n".join(out).rstrip() + "\n"


def summary_table(report: Report) -> str:
    """Target, digest, files and the count per severity: a two-column table."""
    t = report.target
    live = [f for f in report.findings if not f.waived]
    counts = {s: sum(1 for f in live if f.severity is s) for s in sorted(Severity, reverse=True)}
    found = ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "none"
    if len(live) < len(report.findings):
        found += f" ({len(report.findings) - len(live)} waived)"
    rows = [
        ("target", f"{escape(t.reference)} ({t.source}{'@' + escape(t.revision) if t.revision else ''})"),
        ("digest", f"`{t.digest}`"),
        ("files", f"{len(report.artifacts)} ({size(sum(a.size for a in report.artifacts))})"),
        ("findings", found),
        ("airlock", f"{escape(report.tool_version)}, signatures {escape(report.signatures_version)}"),
    ]
    return "\n".join(["| | |", "| --- | --- |", *(f"| {k} | {v} |" for k, v in rows)])


def _findings_table(findings: list[Finding]) -> list[str]:
    rows = ["| rule | file | where | message |", "| --- | --- | --- | --- |"]
    for f in findings[:MAX_ROWS_PER_SEVERITY]:
        message = escape(f.message)
        if f.waiver is not None:
            message += escape(f" (waived until {f.waiver.get('expires')}: {f.waiver.get('reason')})")
        rows.append(
            f"| {escape(f.rule)} | {escape(f.artifact or '(model)')} | {escape(f.location)} | {message} |"
        )
    if len(findings) > MAX_ROWS_PER_SEVERITY:
        rows.append(f"| … | | | {len(findings) - MAX_ROWS_PER_SEVERITY} more in the JSON report |")
    return rows


def _evidence(report: Report) -> list[str]:
    shown = [f for f in sorted(report.findings, key=Finding.sort_key) if f.evidence or f.references]
    if not shown:
        return []
    out = [f"<details><summary>Evidence ({len(shown)} findings)</summary>", ""]
    for f in shown[:MAX_ROWS_PER_SEVERITY]:
        refs = f" ({', '.join(map(escape, f.references))})" if f.references else ""
        out.append(f"**{escape(f.rule)}** {escape(f.location)}{refs}")
        if f.evidence:
            out.append(f"<pre>{html.escape(_clip(_json(f.evidence)), quote=False)}</pre>")
        out.append("")
    out += ["</details>", ""]
    return out


def _checks(report: Report) -> list[str]:
    out = [f"<details><summary>Checks ({len(report.checks)})</summary>", ""]
    out += ["| scanner | status | seconds | reason |", "| --- | --- | --- | --- |"]
    for c in report.checks:
        out.append(f"| {escape(c.scanner)} | {c.status} | {c.seconds:.2f} | {escape(c.reason or '')} |")
    return [*out, "", "</details>", ""]


def _files(report: Report) -> list[str]:
    flagged = {f.artifact for f in report.findings}
    out = [f"<details><summary>Files ({len(report.artifacts)})</summary>", ""]
    out += ["| file | size | format | sha256 | findings |", "| --- | --- | --- | --- | --- |"]
    for a in report.artifacts[: MAX_ROWS_PER_SEVERITY * 5]:
        mark = "⚠️" if a.path in flagged else ""
        out.append(
            f"| {escape(a.path)} | {size(a.size)} | {escape(a.format)} | `{a.sha256[:16]}…` | {mark} |"
        )
    return [*out, "", "</details>", ""]


def escape(text: str) -> str:
    """`text` as inert Markdown: HTML escaped, Markdown punctuation backslash-escaped, on one line."""
    text = "".join(
        ch.encode("unicode_escape").decode("ascii") if unicodedata.category(ch) in ("Cc", "Cf") else ch
        for ch in str(text)
    )
    return _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))


def size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def _json(value: Any) -> str:
    return json.dumps(value, indent=1, default=str, ensure_ascii=False)


def _clip(text: str) -> str:
    if len(text) <= MAX_EVIDENCE_CHARS:
        return text
    return (
        text[:MAX_EVIDENCE_CHARS] + f"\n… {len(text) - MAX_EVIDENCE_CHARS} more characters in the JSON report"
    )
