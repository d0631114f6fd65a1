"""The fleet head: skip what the store says is done, run the rest, record each outcome as it comes.

Progress (done, failed, remaining, rate, ETA) goes to stderr and to a summary file rewritten after
each outcome, so an operator (or a dashboard) can follow a long run; the store is written once per
outcome, so a run stopped at any moment resumes with exactly what is missing.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from airlock.fleet.executors import Executor
from airlock.fleet.jobs import Job, Outcome
from airlock.fleet.store import Key, ResultStore


@dataclass
class Progress:
    total: int  # references in this run, skipped ones included
    skipped: int = 0
    passed: int = 0
    failed: int = 0  # ran, and the policy says fail
    errors: int = 0  # could not scan
    triaged: int = 0
    bytes_total: int = 0
    bytes_fetched_by_triage: int = 0
    bytes_saved: int = 0
    started: float = field(default_factory=time.monotonic)

    @property
    def finished(self) -> int:
        return self.passed + self.failed + self.errors

    @property
    def remaining(self) -> int:
        return self.total - self.skipped - self.finished

    def rate_per_min(self) -> float:
        elapsed = time.monotonic() - self.started
        return 60.0 * self.finished / elapsed if elapsed > 0 else 0.0

    def eta_s(self) -> float | None:
        rate = self.rate_per_min()
        return 60.0 * self.remaining / rate if rate > 0 else None

    def add(self, outcome: Outcome) -> None:
        triage = outcome.triage or {}
        if outcome.report is None:
            self.errors += 1
        elif outcome.report["verdict"]["decision"] == "pass":
            self.passed += 1
        else:
            self.failed += 1
        if triage.get("decided"):
            self.triaged += 1
            self.bytes_saved += int(triage.get("bytes_saved", 0))
        self.bytes_total += int(triage.get("bytes_total", 0))
        self.bytes_fetched_by_triage += int(triage.get("bytes_fetched", 0))

    def line(self) -> str:
        eta = self.eta_s()
        return (
            f"fleet: {self.finished}/{self.total - self.skipped} scanned ({self.passed} pass, {self.failed} fail, "
            f"{self.errors} error), {self.remaining} remaining, {self.skipped} already done, "
            f"{self.rate_per_min():.1f}/min, ETA {_duration(eta)}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "skipped_done": self.skipped,
            "passed": self.passed,
            "failed": self.failed,
            "errors": self.errors,
            "remaining": self.remaining,
            "elapsed_s": round(time.monotonic() - self.started, 3),
            "rate_per_min": round(self.rate_per_min(), 3),
            "eta_s": None if (eta := self.eta_s()) is None else round(eta, 1),
            "triage_decided": self.triaged,
            "bytes_total": self.bytes_total,
            "bytes_fetched_by_triage": self.bytes_fetched_by_triage,
            "bytes_saved_by_triage": self.bytes_saved,
        }


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


@dataclass(frozen=True)
class RunResult:
    run_id: str
    key: Key
    references: tuple[str, ...]
    progress: Progress


def run_fleet(
    references: Sequence[str],
    make_job: Any,
    executor: Executor,
    store: ResultStore,
    key: Key,
    *,
    summary: Path | None = None,
    stream: TextIO | None = None,
    interval_s: float = 2.0,
) -> RunResult:
    """Scan every reference not yet done under `key`; `make_job(reference) -> Job`."""
    unique = tuple(dict.fromkeys(references))
    run_id = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + uuid.uuid4().hex[:8]
    done = store.begin(run_id, key, unique)
    progress = Progress(total=len(unique), skipped=len(done))
    jobs: list[Job] = [make_job(r) for r in unique if r not in done]
    stream = stream if stream is not None else sys.stderr
    live = stream.isatty()
    last = 0.0

    def show(final: bool = False) -> None:
        nonlocal last
        now = time.monotonic()
        if not final and now - last < interval_s and progress.remaining:
            return
        last = now
        end = "\n" if final or not live else ""
        stream.write(("\r\x1b[K" if live else "") + progress.line() + end)
        stream.flush()

    def emit(outcome: Outcome) -> None:
        store.record(run_id, key, outcome.to_dict())
        progress.add(outcome)
        if summary is not None:
            _write_summary(summary, run_id, key, progress)
        show()

    show()
    if jobs:
        executor.run(jobs, emit)
    show(final=True)
    if summary is not None:
        _write_summary(summary, run_id, key, progress)
    return RunResult(run_id, key, unique, progress)


def _write_summary(path: Path, run_id: str, key: Key, progress: Progress) -> None:
    from airlock.allowlist.atomic import write_atomic

    document = {
        "schema": "airlock.fleet-progress/v1",
        "run_id": run_id,
        "rules_version": key.rules_version,
        "policy_digest": key.policy_digest,
        **progress.to_dict(),
    }
    write_atomic(path, (json.dumps(document, indent=2) + "\n").encode())
