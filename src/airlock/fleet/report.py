"""The fleet report: one row per model, counts by verdict and by rule, worst first, what changed.

Built from the results store (so a report can be written for a run that was interrupted and resumed),
rendered as JSON (`airlock.fleet/v1`), Markdown or a self-contained HTML page, and exported as CSV or
Parquet (pyarrow, from the `data` extra) for analysis.
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from airlock.errors import AirlockError
from airlock.findings import Severity
from airlock.fleet.store import Key, ResultStore, Row

SCHEMA_ID = "airlock.fleet/v1"
COLUMNS = (
    "reference", "status", "decision", "max_severity", "rules", "digest", "error", "attempts", "seconds",
    "triaged", "bytes_total", "bytes_fetched", "previous_decision", "changed",
)  # fmt: skip


def _rank(row: dict[str, Any]) -> tuple[int, int, str]:
    """Worst first: failed verdicts by severity, then errors, then passes."""
    if row["status"] == "error":
        return (1, 0, row["reference"])
    severity = row["max_severity"]
    level = Severity.parse(severity) if severity and severity != "none" else -1
    return (0 if row["decision"] == "fail" else 2, -int(level), row["reference"])


def build(store: ResultStore, key: Key, references: Sequence[str], run_id: str = "") -> dict[str, Any]:
    """The fleet report of `references` under `key`, with each one's verdict under the previous key."""
    rows: list[dict[str, Any]] = []
    for row in store.rows(key, references):
        before = store.previous(row.reference, key) if row.status == "done" else None
        rows.append(_as_dict(row, before))
    rows.sort(key=_rank)
    done = [r for r in rows if r["status"] == "done"]
    by_rule: Counter[str] = Counter(rule for r in done for rule in r["rules"])
    return {
        "schema": SCHEMA_ID,
        "run_id": run_id,
        "rules_version": key.rules_version,
        "policy_digest": key.policy_digest,
        "counts": {
            "models": len(rows),
            "pass": sum(r["decision"] == "pass" for r in done),
            "fail": sum(r["decision"] == "fail" for r in done),
            "error": sum(r["status"] == "error" for r in rows),
            "pending": sum(r["status"] == "pending" for r in rows),
            "triage_decided": sum(bool(r["triaged"]) for r in rows),
            "bytes_total": sum(r["bytes_total"] for r in rows),
            "bytes_saved_by_triage": sum(r["bytes_total"] - r["bytes_fetched"] for r in rows if r["triaged"]),
        },
        "by_rule": dict(sorted(by_rule.items(), key=lambda kv: (-kv[1], kv[0]))),
        "changed": [r for r in rows if r["changed"]],
        "models": rows,
    }


def _as_dict(row: Row, before: Row | None) -> dict[str, Any]:
    previous = before.decision if before is not None else None
    return {
        "reference": row.reference,
        "status": row.status,
        "decision": row.decision,
        "max_severity": row.max_severity,
        "rules": list(row.rules),
        "digest": row.digest,
        "error": row.error,
        "attempts": row.attempts,
        "seconds": round(row.seconds, 3),
        "triaged": row.triaged,
        "bytes_total": row.bytes_total,
        "bytes_fetched": row.bytes_fetched,
        "previous_decision": previous,
        "previous_rules_version": before.rules_version if before is not None else None,
        "changed": previous is not None and previous != row.decision,
    }


def exit_code(document: dict[str, Any]) -> int:
    """The worst of the models' exit codes: 2 if any could not be scanned, 1 if any failed, else 0."""
    counts = document["counts"]
    if counts["error"] or counts["pending"]:
        return 2
    return 1 if counts["fail"] else 0


def render(document: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(document, indent=2) + "\n"
    if fmt == "markdown":
        return _markdown(document)
    if fmt == "html":
        return _html(document)
    raise AirlockError(f"unknown fleet report format {fmt!r} (json, markdown, html)")


def _cells(row: dict[str, Any]) -> list[str]:
    verdict = row["decision"] or row["status"]
    note = row["error"] or ", ".join(row["rules"])
    if row["triaged"]:
        note = f"{note} (decided from headers)"
    return [row["reference"], verdict, row["max_severity"] or "", note]


def _markdown(document: dict[str, Any]) -> str:
    def esc(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    c = document["counts"]
    lines = [
        "# airlock fleet report",
        "",
        f"Rules {document['rules_version']}, policy `{document['policy_digest'][:19]}`.",
        "",
        f"{c['models']} models: {c['pass']} pass, {c['fail']} fail, {c['error']} could not be scanned"
        + (f", {c['pending']} pending" if c["pending"] else "")
        + f". {c['triage_decided']} decided from remote headers, "
        f"{c['bytes_saved_by_triage']} bytes not downloaded.",
        "",
        "## Findings by rule",
        "",
        "| rule | models |",
        "| --- | --- |",
        *(f"| {rule} | {n} |" for rule, n in document["by_rule"].items()),
        "",
    ]
    if document["changed"]:
        lines += ["## Changed since the last run", "", "| model | before | now |", "| --- | --- | --- |"]
        lines += [
            f"| {esc(r['reference'])} | {r['previous_decision']} ({r['previous_rules_version']}) | {r['decision']} |"
            for r in document["changed"]
        ]
        lines.append("")
    lines += [
        "## Models, worst first",
        "",
        "| model | verdict | severity | why |",
        "| --- | --- | --- | --- |",
    ]
    lines += ["| " + " | ".join(esc(cell) for cell in _cells(r)) + " |" for r in document["models"]]
    return "\n".join(lines) + "\n"


_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}"
    "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}"
    ".fail{color:#b00020;font-weight:600}.pass{color:#1b7f3b}.error{color:#a15c00}"
)


def _html(document: dict[str, Any]) -> str:
    e = html.escape
    c = document["counts"]

    def table(head: Sequence[str], body: Sequence[Sequence[str]], classes: Sequence[str] = ()) -> str:
        rows = "".join(
            f'<tr class="{e(classes[i]) if i < len(classes) else ""}">'
            + "".join(f"<td>{e(cell)}</td>" for cell in cells)
            + "</tr>"
            for i, cells in enumerate(body)
        )
        return (
            "<table><thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in head) + f"</tr></thead>{rows}</table>"
        )

    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>airlock fleet report</title>",
        f"<style>{_STYLE}</style></head><body><h1>airlock fleet report</h1>",
        (
            f"<p>Rules {e(document['rules_version'])}, policy <code>{e(document['policy_digest'][:19])}</code>. "
            f"{c['models']} models: {c['pass']} pass, {c['fail']} fail, {c['error']} could not be scanned. "
            f"{c['triage_decided']} decided from remote headers ({c['bytes_saved_by_triage']} bytes not downloaded).</p>"
        ),
        "<h2>Findings by rule</h2>",
        table(["rule", "models"], [[k, str(v)] for k, v in document["by_rule"].items()]),
    ]
    if document["changed"]:
        parts += [
            "<h2>Changed since the last run</h2>",
            table(
                ["model", "before", "now"],
                [
                    [r["reference"], str(r["previous_decision"]), str(r["decision"])]
                    for r in document["changed"]
                ],
            ),
        ]
    models = document["models"]
    parts += [
        "<h2>Models, worst first</h2>",
        table(
            ["model", "verdict", "severity", "why"],
            [_cells(r) for r in models],
            [r["decision"] or r["status"] for r in models],
        ),
        "</body></html>\n",
    ]
    return "".join(parts)


def export(document: dict[str, Any], path: Path) -> None:
    """One row per model as CSV (`.csv`) or Parquet (`.parquet`, needs pyarrow)."""
    rows = [{col: _flat(r.get(col)) for col in COLUMNS} for r in document["models"]]
    if path.suffix == ".parquet":
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise AirlockError("a Parquet export needs pyarrow: pip install 'model-airlock[data]'") from None
        table = (
            pa.Table.from_pylist(rows) if rows else pa.table({c: pa.array([], pa.string()) for c in COLUMNS})
        )
        pq.write_table(table, path)
        return
    if path.suffix != ".csv":
        raise AirlockError(f"{path}: export to .csv or .parquet")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    from airlock.allowlist.atomic import write_atomic

    write_atomic(path, buffer.getvalue().encode())


def _flat(value: Any) -> Any:
    return " ".join(value) if isinstance(value, list) else value
