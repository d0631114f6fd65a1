"""HTML renderer: one self-contained page for the person who decides after a red build.

Inline CSS, inline SVG charts, pictures as `data:` URIs, no script, and a Content-Security-Policy that
forbids loading anything else, so the page opens offline and a hostile string from a scanned file can
neither run nor call out. Every value is escaped. The page reads top-down: the verdict and the reasons
that decided it; the findings grouped by severity and file, each with its rule's description,
references, what to do and the evidence; the behavioural and data sections (`html_scans`); the files
(those with findings marked) and the checks.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape

from airlock.behavior.outcome import outcome
from airlock.findings import Finding, Severity
from airlock.render.evidence import render_evidence
from airlock.render.html_scans import behavior_section, data_section
from airlock.render.interface import Renderer
from airlock.render.table import human_size
from airlock.report import Report
from airlock.rules import FRAMEWORKS, RuleSet, load_rules

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

_CSS = """
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;padding:1.5rem 2rem;color:#1d2330;max-width:1200px}
h1{font-size:1.35rem;margin:0 0 .2rem} h2{font-size:1.15rem;margin:1.8rem 0 .5rem;border-bottom:1px solid #d0d7de;padding-bottom:.2rem}
h3{font-size:1rem;margin:1.2rem 0 .4rem} h4{font-size:.9rem;margin:.9rem 0 .3rem;font-family:ui-monospace,monospace}
.meta{color:#57606a;font-family:ui-monospace,monospace;font-size:12px;word-break:break-all}
nav{margin:.6rem 0;font-size:13px} nav a{margin-right:.8rem}
#verdict{border-radius:6px;padding:.8rem 1rem;margin:1rem 0;border:2px solid}
#verdict.pass{border-color:#1a7f37;background:#dafbe1} #verdict.fail{border-color:#cf222e;background:#ffebe9}
.decision{font-size:1.6rem;font-weight:800;letter-spacing:.05em}
.pass .decision{color:#1a7f37}.fail .decision{color:#cf222e}
#verdict ul{margin:.3rem 0 0 1.2rem;padding:0}
table{border-collapse:collapse;width:100%;margin:.4rem 0 1rem}th,td{border-bottom:1px solid #d8dee4;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa;font-weight:600} td.num{text-align:right;font-variant-numeric:tabular-nums}
.mono,code{font-family:ui-monospace,monospace;font-size:12px;word-break:break-all}
.sev{font-weight:700;border-radius:3px;padding:0 .4rem;font-size:12px;text-transform:uppercase;white-space:nowrap}
.sev.critical{background:#cf222e;color:#fff}.sev.high{background:#ffebe9;color:#a40e26}.sev.medium{background:#fff8c5;color:#7d4e00}
.sev.low{background:#ddf4ff;color:#0550ae}.sev.info{background:#eaeef2;color:#57606a}
.finding{border:1px solid #d0d7de;border-left:5px solid #8c959f;border-radius:4px;padding:.5rem .8rem;margin:.5rem 0}
.finding.critical,.finding.high{border-left-color:#cf222e}.finding.medium{border-left-color:#bf8700}.finding.low{border-left-color:#0969da}
.finding.waived{opacity:.75;border-left-color:#8c959f;background:#f6f8fa}
.finding .head{display:flex;gap:.6rem;align-items:baseline;flex-wrap:wrap}
.finding .msg{font-weight:600}.rule-name{color:#57606a}
.waiver{background:#eaeef2;border-radius:3px;padding:.1rem .4rem;font-size:12px}
.fix{margin:.3rem 0}.fix b{color:#1a7f37}.refs{color:#57606a;font-size:12px}
dl.evidence{display:grid;grid-template-columns:max-content 1fr;gap:.1rem .8rem;margin:.3rem 0;font-size:13px}
dl.evidence dt{color:#57606a} dl.evidence dd{margin:0}
dd.call code{background:#fff8c5;padding:.1rem .3rem;font-size:13px}
pre{white-space:pre-wrap;font-size:12px;background:#f6f8fa;padding:.5rem;margin:.2rem 0;max-height:20rem;overflow:auto}
details>summary{cursor:pointer;color:#0969da}
details.group{margin:.8rem 0} details.group>summary{font-weight:600;color:#1d2330}
tr.flagged td:first-child{border-left:4px solid #cf222e}
.gallery{display:flex;flex-wrap:wrap;gap:.8rem}.gallery figure{margin:0;text-align:center;font-size:12px}
.gallery img,.evidence-picture{image-rendering:pixelated;border:1px solid #d0d7de;max-width:160px}
.gallery figure.suspect img{border:3px solid #cf222e}
.charts{display:flex;flex-wrap:wrap;gap:1rem}
svg.chart{font:11px system-ui,sans-serif;background:#fff} svg .chart-title{font-weight:600}
.tokens code{background:#fff8c5;padding:.1rem .3rem;margin-right:.3rem;font-size:13px}
.muted{color:#57606a} td.sha{font-size:11px;max-width:22rem}
"""


def _behaviour(report: Report) -> str:
    """The behavioural scan's answer under the verdict ("not determined" when the probe did not complete)."""
    found = outcome(report.behavior, report.checks)
    if found is None:
        return ""
    return f'<p id="behavior-outcome" class="{escape(found.answer.replace(" ", "-"))}"><b>Behaviour:</b> {escape(found.headline)}</p>'


class HtmlRenderer(Renderer):
    def __init__(self, rules: RuleSet | None = None) -> None:
        self.rules = rules

    def render(self, report: Report) -> str:
        rules = self.rules or load_rules()
        t = report.target
        sections = [
            _verdict(report),
            _findings(report, rules),
            behavior_section(report.behavior, report.checks) if report.behavior is not None else "",
            data_section(report.data) if report.data is not None else "",
            _files(report),
            _checks(report),
        ]
        nav = [("findings", "Findings")]
        nav += [("behavior", "Behaviour")] if report.behavior is not None else []
        nav += [("data", "Data")] if report.data is not None else []
        nav += [("files", "Files"), ("checks", "Checks")]
        links = "".join(f"<a href='#{anchor}'>{label}</a>" for anchor, label in nav)
        return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width">
<title>airlock: {escape(t.reference)}</title><style>{_CSS}</style></head>
<body>
<header><h1>airlock report: {escape(t.reference)}</h1>
<div class="meta">source {escape(t.source)} · revision {escape(t.revision or "n/a")} · digest {escape(t.digest)}<br>
airlock {escape(report.tool_version)} · signatures {escape(report.signatures_version)} · policy {escape(report.verdict.policy)}</div>
<nav>{links}</nav></header>
<main>{"".join(sections)}</main>
</body></html>
"""


_RULE_ID = re.compile(r"\bAIR\d{3}\b")


def _counts(findings: Sequence[Finding]) -> str:
    live = [f for f in findings if not f.waived]
    text = ", ".join(
        f"{sum(1 for f in live if f.severity is s)} {s}"
        for s in sorted(Severity, reverse=True)
        if any(f.severity is s for f in live)
    )
    waived = len(findings) - len(live)
    return (text or "no findings") + (f", {waived} waived" if waived else "")


def _verdict(report: Report) -> str:
    """The decision, then each reason with the rules it names linked to their findings."""
    v = report.verdict
    present = {f.rule for f in report.findings}

    def link(match: re.Match[str]) -> str:
        rule = match.group(0)
        return f"<a href='#rule-{rule}'>{rule}</a>" if rule in present else rule

    reasons = "".join(f"<li>{_RULE_ID.sub(link, escape(r))}</li>" for r in v.reasons)
    highest = str(v.max_severity) if v.max_severity is not None else "none"
    return (
        f"<section id='verdict' class='{'pass' if v.passed else 'fail'}'>"
        f"<div class='decision'>{escape(v.decision.upper())}</div>"
        f"<div>{escape(_counts(report.findings))} · highest counted severity {escape(highest)} · "
        f"policy {escape(v.policy)}</div>"
        f"<div><b>Decided by:</b><ul id='reasons'>{reasons}</ul></div>{_behaviour(report)}</section>"
    )


def _findings(report: Report, rules: RuleSet) -> str:
    if not report.findings:
        return "<section id='findings'><h2>Findings</h2><p>No findings.</p></section>"
    sizes = {a.path: a.size for a in report.artifacts}
    parts = ["<section id='findings'><h2>Findings</h2>"]
    anchored: set[str] = set()
    for severity in sorted(Severity, reverse=True):
        group = [f for f in report.findings if f.severity is severity]
        if not group:
            continue
        title = f"<span class='sev {severity}'>{severity}</span> {len(group)} finding(s)"
        # low and info findings are collapsed: they rarely decide, and they must not bury the rest
        folded = severity <= Severity.LOW
        parts.append(
            f"<details class='group' id='severity-{severity}'><summary>{title}</summary>"
            if folded
            else f"<h3 id='severity-{severity}'>{title}</h3>"
        )
        files = sorted({f.artifact for f in group}, key=lambda a: (a is None, a or ""))
        for artifact in files:
            here = [f for f in group if f.artifact == artifact]
            where = (
                f"{escape(artifact)} <span class='muted'>({human_size(sizes[artifact])})</span>"
                if artifact in sizes
                else escape(artifact)
                if artifact
                else "the model as a whole"
            )
            parts.append(f"<h4>{where}</h4>")
            for f in here:
                anchor = f" id='rule-{f.rule}'" if f.rule not in anchored else ""
                anchored.add(f.rule)
                parts.append(_finding(f, rules, anchor))
        parts.append("</details>" if folded else "")
    parts.append("</section>")
    return "".join(parts)


def _finding(f: Finding, rules: RuleSet, anchor: str) -> str:
    rule = rules.rules.get(f.rule)
    name = f"<span class='rule-name'>{escape(rule.name)}</span>" if rule else ""
    waiver = ""
    if f.waiver is not None:
        waiver = (
            f"<span class='waiver'>waived until {escape(str(f.waiver.get('expires')))}: "
            f"{escape(str(f.waiver.get('reason')))}</span>"
        )
    about = ""
    if rule is not None:
        description = (
            f"<details><summary>about {escape(rule.id)}</summary><p>{escape(rule.description)}</p></details>"
            if rule.description
            else ""
        )
        fix = (
            f"<div class='fix'><b>What to do:</b> {escape(rule.remediation)}</div>"
            if rule.remediation
            else ""
        )
        about = f"<div>{escape(rule.summary)}</div>{fix}{description}"
    evidence = (
        f"<details open><summary>evidence</summary>{render_evidence(f.evidence)}</details>"
        if f.evidence
        else ""
    )
    classes = f"finding {f.severity}" + (" waived" if f.waived else "")
    return (
        f"<article class='{classes}'{anchor}><div class='head'><span class='sev {f.severity}'>{f.severity}</span>"
        f"<b>{escape(f.rule)}</b>{name}<span class='mono'>{escape(f.location)}</span>{waiver}</div>"
        f"<div class='msg'>{escape(f.message)}</div>{about}{_references(f.references)}{evidence}</article>"
    )


def _references(references: Sequence[str]) -> str:
    """References as text (the page links nowhere): ATLAS, OWASP, CWE, then the rest (CVE, GHSA, URLs)."""
    if not references:
        return ""
    labels = {"atlas": "MITRE ATLAS", "owasp": "OWASP", "cwe": "CWE"}
    groups = [
        (labels[name], [r for r in references if r.startswith(prefix)]) for name, prefix in FRAMEWORKS.items()
    ]
    known = {r for _, refs in groups for r in refs}
    groups.append(("other", [r for r in references if r not in known]))
    text = " · ".join(f"{label}: {', '.join(refs)}" for label, refs in groups if refs)
    return f"<div class='refs'>{escape(text)}</div>"


def _files(report: Report) -> str:
    worst: dict[str, Severity] = {}
    count: dict[str, int] = {}
    for f in report.findings:
        if f.artifact is None or f.waived:
            continue
        count[f.artifact] = count.get(f.artifact, 0) + 1
        worst[f.artifact] = max(worst.get(f.artifact, Severity.INFO), f.severity)
    ordered = sorted(
        report.artifacts, key=lambda a: (a.path not in worst, -int(worst.get(a.path, 0)), a.path)
    )
    rows = "".join(
        f"<tr{' class=flagged' if a.path in worst else ''}><td class='mono'>{escape(a.path)}</td>"
        f"<td>{escape(a.format)}</td><td class='num' title='{a.size} bytes'>{human_size(a.size)}</td>"
        + (
            f"<td><span class='sev {worst[a.path]}'>{worst[a.path]}</span> {count[a.path]}</td>"
            if a.path in worst
            else "<td class='muted'>none</td>"
        )
        + f"<td class='mono sha'>{escape(a.sha256)}</td></tr>"  # in full: a waiver names it
        for a in ordered
    )
    total = human_size(sum(a.size for a in report.artifacts))
    return (
        f"<section id='files'><h2>Files</h2><p>{len(report.artifacts)} file(s), {total}; "
        f"{len(worst)} with findings (marked, listed first).</p>"
        "<table id='artifacts'><thead><tr><th>path</th><th>format</th><th>size</th><th>findings</th>"
        f"<th>sha256</th></tr></thead><tbody>{rows}</tbody></table></section>"
    )


def _checks(report: Report) -> str:
    rows = "".join(
        f"<tr><td>{escape(c.scanner)}</td><td>{escape(str(c.status))}</td><td class='num'>{c.seconds:.3f}</td>"
        f"<td>{escape(c.reason or '')}</td></tr>"
        for c in report.checks
    )
    return (
        "<section id='checks'><h2>Checks</h2><table><thead><tr><th>scanner</th><th>status</th><th>seconds</th>"
        f"<th>reason</th></tr></thead><tbody>{rows}</tbody></table></section>"
    )
