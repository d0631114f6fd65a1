"""Batch scans: several references, scanned in parallel processes, one combined result.

Each reference is scanned by `airlock.pipeline.scan` in its own worker process (a crash or a stuck
library in one model's scan cannot take the others down); the workers share the result cache (SQLite
in WAL mode), so a file two models share is analysed once. The combined exit code is the worst one:
an error (2) over a failing verdict (1) over a pass (0).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from airlock.errors import AirlockError
from airlock.exitcodes import ExitCode
from airlock.pipeline import ScanOptions
from airlock.report import Report

BATCH_SCHEMA_ID = "airlock.batch/v1"
DEFAULT_JOBS = 4


@dataclass(frozen=True)
class BatchItem:
    """One reference's outcome: a report, or the one-line reason it could not be scanned."""

    reference: str
    report: Report | None
    error: str | None = None

    @property
    def exit_code(self) -> ExitCode:
        if self.report is None:
            return ExitCode.ERROR
        return ExitCode.PASSED if self.report.passed else ExitCode.FAILED

    @property
    def decision(self) -> str:
        return "error" if self.report is None else self.report.verdict.decision


@dataclass(frozen=True)
class BatchResult:
    items: tuple[BatchItem, ...]

    @property
    def exit_code(self) -> ExitCode:
        return max((item.exit_code for item in self.items), default=ExitCode.PASSED)

    @property
    def decision(self) -> str:
        return {ExitCode.PASSED: "pass", ExitCode.FAILED: "fail", ExitCode.ERROR: "error"}[self.exit_code]

    def counts(self) -> dict[str, int]:
        decisions = [item.decision for item in self.items]
        return {key: decisions.count(key) for key in ("pass", "fail", "error")}


def read_references(path: Path) -> list[str]:
    """References from a file (or `-` for stdin): one per line; blank lines and `#` comments skipped."""
    import sys

    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AirlockError(f"--from {path}: cannot read ({exc})") from None
    refs = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    return [ref for ref in refs if ref]


def scan_many(
    references: Sequence[str],
    options: ScanOptions,
    *,
    jobs: int | None = None,
    on_done: Callable[[BatchItem], None] | None = None,
) -> BatchResult:
    """Scan every reference (duplicates once each), at most `jobs` at a time; results in input order."""
    unique = list(dict.fromkeys(references))
    if not unique:
        raise AirlockError("no model to scan: give one or more REF, or --from FILE")
    workers = max(1, min(jobs or min(DEFAULT_JOBS, os.cpu_count() or 1), len(unique)))
    # progress bars are the parent's business; a worker has no terminal of its own
    options = replace(
        options,
        download_progress=False,
        hash_progress=None,
        behavior=replace(options.behavior, progress=None) if options.behavior is not None else None,
    )
    done: dict[str, BatchItem] = {}
    context = multiprocessing.get_context("spawn")  # no inherited threads or torch state
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_ignore_interrupts)
    try:
        futures = {pool.submit(_scan_one, ref, options): ref for ref in unique}
        for future in as_completed(futures):
            ref = futures[future]
            try:
                report_dict, error = future.result()
            except Exception as exc:  # noqa: BLE001  a worker that died is that model's error, not the batch's
                report_dict, error = None, f"internal error: {type(exc).__name__}: {exc}"
            item = BatchItem(ref, Report.from_dict(report_dict) if report_dict is not None else None, error)
            done[ref] = item
            if on_done is not None:
                on_done(item)
    except BaseException:  # Ctrl-C (or an error here): stop the workers now, not after their scans
        for process in list(getattr(pool, "_processes", {}).values()):
            process.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return BatchResult(tuple(done[ref] for ref in unique))


def _ignore_interrupts() -> None:
    """In a worker: Ctrl-C is the parent's to handle (it stops the workers), not a traceback per worker."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _scan_one(reference: str, options: ScanOptions) -> tuple[dict[str, Any] | None, str | None]:
    """In a worker process: the report as its JSON form, or the one-line reason it could not be made."""
    from airlock.pipeline import scan

    try:
        return scan(reference, options).to_dict(), None
    except AirlockError as exc:
        return None, exc.diagnostics().strip().splitlines()[0]
    except Exception as exc:  # noqa: BLE001  one model's internal error must not lose the others' reports
        return None, f"internal error: {type(exc).__name__}: {exc}"


def batch_dict(result: BatchResult, timestamp: str) -> dict[str, Any]:
    """The combined JSON report (`airlock.batch/v1`): a summary, then every model's report or error."""
    from airlock import __version__
    from airlock.rules import load_rules

    return {
        "schema": BATCH_SCHEMA_ID,
        "tool": {"name": "airlock", "version": __version__, "signatures": load_rules().version},
        "timestamp": timestamp,
        "summary": {
            "decision": result.decision,
            "exit_code": int(result.exit_code),
            "models": len(result.items),
            **result.counts(),
        },
        "results": [
            {
                "reference": item.reference,
                "decision": item.decision,
                "exit_code": int(item.exit_code),
                "error": item.error,
                "report": item.report.to_dict() if item.report is not None else None,
            }
            for item in result.items
        ],
    }
