"""HTML renderer: one self-contained page (inline CSS, no scripts, every value escaped)."""

from __future__ import annotations

import json
from html import escape

from airlock.behavior.outcome import outcome
from airlock.findings import Severity
from airlock.render.interface import Renderer
from airlock.report import Report

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#1d2330;max-width:1200px}
h1{font-size:1.4rem;margin:0 0 .3rem} .meta{color:#555;font-family:ui-monospace,monospace;font-size:12px}
.verdict{display:inline-block;padding:.3rem .8rem;border-radius:4px;font-weight:700;color:#fff;margin:.8rem 0}
.pass{background:#1a7f37}.fail{background:#cf222e}
table{border-collapse:collapse;width:100%;margin:.6rem 0 1.4rem}th,td{border-bottom:1px solid #ddd;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f5f7} td.mono{font-family:ui-monospace,monospace;font-size:12px;word-break:break-all}
.sev{font-weight:700;border-radius:3px;padding:0 .35rem}.critical{background:#cf222e;color:#fff}.high{color:#cf222e}
.medium{color:#9a6700}.low{color:#0969da}.info{color:#666}
details pre{white-space:pre-wrap;font-size:12px;background:#f6f8fa;padding:.5rem}
"""


def _behaviour(report: Report) -> str:
    """The behavioural scan's answer under the verdict ("not determined" when the probe did not complete)."""
    found = outcome(report.behavior, report.checks)
    if found is None:
        return ""
    return f'\n<p id="behavior" class="{escape(found.answer.replace(" ", "-"))}">behaviour: {escape(found.headline)}</p>'


class HtmlRenderer(Renderer):
    def render(self, report: Report) -> str:
        t = report.target
        v = report.verdict
        rows = (
            "".join(
                f"<tr><td><span class='sev {f.severity}'>{escape(str(f.severity))}</span></td>"
                f"<td>{escape(f.rule)}</td><td class='mono'>{escape(f.location)}</td><td>{escape(f.message)}"
                + (
                    f"<details><summary>evidence</summary><pre>{escape(json.dumps(dict(f.evidence), indent=1, default=str))}</pre></details>"
                    if f.evidence
                    else ""
                )
                + "</td></tr>"
                for f in report.findings
            )
            or "<tr><td colspan='4'>No findings.</td></tr>"
        )
        artifacts = "".join(
            f"<tr><td class='mono'>{escape(a.path)}</td><td>{escape(a.format)}</td><td>{a.size}</td>"
            f"<td class='mono'>{escape(a.sha256)}</td></tr>"
            for a in report.artifacts
        )
        checks = "".join(
            f"<tr><td>{escape(c.scanner)}</td><td>{escape(str(c.status))}</td><td>{c.seconds:.3f}</td>"
            f"<td>{escape(c.reason or '')}</td></tr>"
            for c in report.checks
        )
        counts = (
            ", ".join(
                f"{sum(1 for f in report.findings if f.severity is s)} {s}"
                for s in sorted(Severity, reverse=True)
                if any(f.severity is s for f in report.findings)
            )
            or "no findings"
        )
        return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>airlock: {escape(t.reference)}</title><style>{_CSS}</style></head>
<body>
<h1>airlock report: {escape(t.reference)}</h1>
<div class="meta">source {escape(t.source)} · revision {escape(t.revision or "n/a")} · digest {escape(t.digest)}<br>
airlock {escape(report.tool_version)} · signatures {escape(report.signatures_version)} · policy {escape(v.policy)}</div>
<div id="verdict" class="verdict {escape(v.decision)}">{escape(v.decision.upper())}</div>
<p>{escape(counts)}: {escape("; ".join(v.reasons))}</p>{_behaviour(report)}
<h2>Findings</h2>
<table id="findings"><thead><tr><th>severity</th><th>rule</th><th>where</th><th>message</th></tr></thead><tbody>{rows}</tbody></table>
<h2>Checks</h2>
<table id="checks"><thead><tr><th>scanner</th><th>status</th><th>seconds</th><th>reason</th></tr></thead><tbody>{checks}</tbody></table>
<h2>Files</h2>
<table id="artifacts"><thead><tr><th>path</th><th>format</th><th>bytes</th><th>sha256</th></tr></thead><tbody>{artifacts}</tbody></table>
</body></html>
"""
