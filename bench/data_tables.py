"""`airlock data` on clean real-world-like tables it was not tuned on (fixtures.tables_eval), and on a
few poisoned ones: per table, the verdict, the poisoning outcome (poisoned / inconclusive / clear),
the high findings, the rows `--write-clean` would drop, and the leads an inconclusive check gives
(candidate classes, rows repeating another row's features under another label; conflict rows
shown are capped at 50). The target is no clean table
failing and no clean rows dropped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def outcome(path: Path, label: str) -> dict[str, Any]:
    """What `airlock data PATH --label-column LABEL` (raw features) concludes about one table."""
    from airlock.data.pipeline import VetOptions, vet

    report = vet(path, VetOptions(label_column=label, label_column_given=True))
    data = report.data or {}
    poisoning = [f for f in report.findings if f.scanner == "data_poisoning"]
    if any(f.rule == "AIR801" for f in poisoning):
        state = "poisoned"
    elif any(f.rule == "AIR802" for f in poisoning):
        state = "inconclusive"
    else:
        state = "clear"
    return {
        "verdict": report.verdict.decision,
        "poisoning": state,
        "high": ",".join(sorted({f.rule for f in report.findings if str(f.severity) in ("high", "critical")}))
        or "-",
        "dropped": len(data.get("flagged", [])),
        "flagged_rows": list(data.get("flagged", [])),
        "candidates": len(data.get("candidate_classes", [])),
        "conflicts": next(
            (int(f.evidence.get("conflicting_duplicates", 0)) for f in poisoning if f.rule == "AIR802"), 0
        ),
        "conflict_rows": list(data.get("conflicting_duplicates", [])),
        "rows": int(data.get("rows", 0)),
    }


def run(work: Path) -> list[dict[str, Any]]:
    from fixtures.tables_eval import all_tables

    folder = work / "data_tables"
    folder.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    clean_failed = clean_flagged = 0
    clean_total = 0
    for table in all_tables():
        result = outcome(table.write(folder / f"{table.name}.csv"), table.label)
        dropped = set(result.pop("flagged_rows"))
        conflict_rows = set(result.pop("conflict_rows"))
        row: dict[str, Any] = {"case": table.name, **result}
        if table.poisoned:
            row["poisoned_rows"] = len(table.poisoned)
            row["poison_dropped"] = len(dropped & set(table.poisoned))
            row["poison_in_conflicts"] = len(conflict_rows & set(table.poisoned))
        else:
            clean_total += 1
            clean_failed += result["verdict"] != "pass"
            clean_flagged += result["poisoning"] == "poisoned"
        rows.append(row)
    rows.append(
        {
            "case": "clean tables",
            "tables": clean_total,
            "failed": clean_failed,
            "poisoning_claimed": clean_flagged,
        }
    )
    return rows
