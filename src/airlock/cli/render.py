"""`airlock render REPORT.json`: turn a saved JSON report (one model, or a batch) into another format.

A CI job scans once (`--format json -o report.json`) and renders the SARIF upload and the Markdown job
summary from that file, instead of scanning again per format. Exit 0 once rendered, 2 when the file is
not an airlock report; the verdict's exit code is the scan's job.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from airlock.exitcodes import ExitCode
from airlock.render.interface import OutputFormat, add_format_argument


def register(commands: Any) -> None:
    p = commands.add_parser("render", help="render a saved JSON report (or batch) in another format")
    p.add_argument(
        "report", type=Path, metavar="REPORT", help="a JSON report written by airlock scan or data"
    )
    add_format_argument(
        p,
        (OutputFormat.TABLE, OutputFormat.JSON, OutputFormat.SARIF, OutputFormat.HTML, OutputFormat.MARKDOWN),
        default=OutputFormat.MARKDOWN,
    )
    p.add_argument("--output", "-o", type=Path, metavar="FILE", help="write here instead of stdout")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> ExitCode:
    from airlock.batch import BATCH_SCHEMA_ID, BatchItem, BatchResult
    from airlock.cli._output import emit
    from airlock.errors import ReportError
    from airlock.report import Report

    try:
        document = json.loads(args.report.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReportError(f"{args.report}: cannot read a JSON report ({exc})") from None
    color = args.output is None and sys.stdout.isatty()
    if isinstance(document, dict) and document.get("schema") == BATCH_SCHEMA_ID:
        from airlock.render.batch import render_batch

        try:
            items = tuple(
                BatchItem(r["reference"], Report.from_dict(r["report"]) if r["report"] else None, r["error"])
                for r in document["results"]
            )
        except (KeyError, TypeError) as exc:
            raise ReportError(f"{args.report}: malformed {BATCH_SCHEMA_ID} document ({exc})") from None
        emit(render_batch(BatchResult(items), args.format, color=color), args.output)
        return ExitCode.PASSED
    report = Report.from_dict(document)
    emit(args.format.renderer(color=color).render(report), args.output)
    return ExitCode.PASSED
