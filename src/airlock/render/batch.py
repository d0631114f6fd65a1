"""Combined output of a batch scan: one document covering every model, in each report format.

Each format composes the single-model renderers through their public API: JSON nests each
`airlock.report/v1` report, SARIF gives each model its own run, Markdown nests each model's section
under a summary table, HTML is an index page embedding each model's own self-contained page, and the
terminal gets each model's table followed by a row per model.
"""

from __future__ import annotations

import io
import json
from html import escape
from typing import Any

from airlock.batch import BatchItem, BatchResult, batch_dict
from airlock.errors import AirlockError
from airlock.render.interface import OutputFormat
from airlock.report import Report, utc_timestamp

_ICON = {"pass": "✅", "fail": "❌", "error": "⚠️"}


def render_batch(result: BatchResult, fmt: OutputFormat, *, color: bool = False) -> str:
    match fmt:
        case OutputFormat.JSON:
            return json.dumps(batch_dict(result, utc_timestamp()), indent=2, allow_nan=False) + "\n"
        case OutputFormat.SARIF:
            return json.dumps(sarif(result), indent=2) + "\n"
        case OutputFormat.MARKDOWN:
            return markdown(result)
        case OutputFormat.HTML:
            return html(result)
        case OutputFormat.TABLE:
            return table(result, color=color)
        case _:
            raise AirlockError(f"--format {fmt} describes one model: scan the references one at a time")


def _highest(item: BatchItem) -> str:
    if item.report is None:
        return "-"
    return str(item.report.verdict.max_severity or "none")


def sarif(result: BatchResult) -> dict[str, Any]:
    """One SARIF log, one run per model (a model that could not be scanned: a run that says why)."""
    from airlock.render.sarif import INFORMATION_URI, SARIF_SCHEMA, SarifRenderer

    renderer = SarifRenderer()
    runs: list[dict[str, Any]] = []
    for item in result.items:
        if item.report is not None:
            runs.extend(renderer.document(item.report)["runs"])
            continue
        runs.append(
            {
                "tool": {"driver": {"name": "airlock", "informationUri": INFORMATION_URI, "rules": []}},
                "automationDetails": {"id": f"airlock/{item.reference}/"},
                "results": [],
                "invocations": [
                    {
                        "executionSuccessful": False,
                        "toolExecutionNotifications": [
                            {"level": "error", "message": {"text": f"{item.reference}: {item.error}"}}
                        ],
                    }
                ],
            }
        )
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": runs}


def markdown(result: BatchResult) -> str:
    from airlock.render.markdown import escape as md
    from airlock.render.markdown import section

    counts = result.counts()
    out = [
        (
            f"## {_ICON[result.decision]} airlock: {result.decision.upper()}, {len(result.items)} models "
            f"({counts['pass']} passed, {counts['fail']} failed, {counts['error']} could not be scanned)"
        ),
        "",
        "| model | verdict | highest severity | findings | digest |",
        "| --- | --- | --- | --- | --- |",
    ]
    for item in result.items:
        r = item.report
        found = str(_live(r)) if r is not None else md(item.error or "")
        digest = f"`{r.target.digest[:19]}…`" if r is not None else ""
        out.append(
            f"| {md(item.reference)} | {_ICON[item.decision]} {item.decision} | {_highest(item)} | {found} | {digest} |"
        )
    for item in result.items:
        out.append("")
        if item.report is not None:
            out.append(section(item.report, level=3))
        else:
            out += [f"### {_ICON['error']} airlock: ERROR {md(item.reference)}", "", md(item.error or "")]
    return "\n".join(out).rstrip() + "\n"


_INDEX_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#1d2330;max-width:1300px}
table{border-collapse:collapse;width:100%;margin:.6rem 0 1.4rem}th,td{border-bottom:1px solid #ddd;padding:.35rem .5rem;text-align:left}
th{background:#f4f5f7}.pass{color:#1a7f37;font-weight:700}.fail{color:#cf222e;font-weight:700}.error{color:#9a6700;font-weight:700}
section{margin:1.5rem 0}iframe{width:100%;height:80vh;border:1px solid #ddd}
"""


def html(result: BatchResult) -> str:
    """An index page: a row per model, then each model's own report page, embedded (`srcdoc`, sandboxed)."""
    from airlock.render.html import HtmlRenderer

    renderer = HtmlRenderer()
    rows, sections = [], []
    for n, item in enumerate(result.items):
        anchor = f"model-{n}"
        r = item.report
        rows.append(
            f"<tr><td><a href='#{anchor}'>{escape(item.reference)}</a></td>"
            f"<td class='{item.decision}'>{item.decision.upper()}</td><td>{escape(_highest(item))}</td>"
            f"<td>{_live(r) if r is not None else escape(item.error or '')}</td></tr>"
        )
        body = (
            f"<iframe title='{escape(item.reference)}' sandbox='allow-scripts' "
            f"srcdoc='{escape(renderer.render(r), quote=True)}'></iframe>"
            if r is not None
            else f"<p class='error'>{escape(item.error or '')}</p>"
        )
        sections.append(f"<section id='{anchor}'><h2>{escape(item.reference)}</h2>{body}</section>")
    counts = result.counts()
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; style-src 'unsafe-inline'; "
        "img-src data:; script-src 'unsafe-inline'; frame-src 'self' about: data:\">"
        f"<title>airlock: {len(result.items)} models</title><style>{_INDEX_CSS}</style></head><body>"
        f"<h1>airlock: <span class='{result.decision}'>{result.decision.upper()}</span>, "
        f"{len(result.items)} models</h1>"
        f"<p>{counts['pass']} passed, {counts['fail']} failed, {counts['error']} could not be scanned.</p>"
        "<table><tr><th>model</th><th>verdict</th><th>highest severity</th><th>findings</th></tr>"
        + "".join(rows)
        + "</table>"
        + "".join(sections)
        + "</body></html>\n"
    )


def table(result: BatchResult, *, color: bool = False) -> str:
    """Each model's terminal report, then one row per model and the combined verdict."""
    from rich.console import Console
    from rich.table import Table

    from airlock.render.table import TableRenderer

    parts = [
        TableRenderer(color=color).render(item.report) for item in result.items if item.report is not None
    ]
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=120,
        force_terminal=color,
        no_color=not color,
        highlight=False,
        markup=False,
        emoji=False,
    )
    summary = Table(title=None)
    for column in ("model", "verdict", "highest", "findings / error"):
        summary.add_column(column, overflow="fold")
    for item in result.items:
        r = item.report
        summary.add_row(
            item.reference,
            item.decision.upper(),
            _highest(item),
            str(_live(r)) if r is not None else item.error or "",
        )
    console.print(summary)
    counts = result.counts()
    console.print(
        f"{result.decision.upper()}  {len(result.items)} models: {counts['pass']} passed, "
        f"{counts['fail']} failed, {counts['error']} could not be scanned"
    )
    return "\n".join([*parts, buffer.getvalue()])


def _live(report: Report) -> int:
    """Findings that count: waived ones stay in each model's section but not in the summary row."""
    return sum(1 for f in report.findings if not f.waived)
