"""One fleet scan: a normal `airlock scan` of one reference, run wherever a worker runs it.

`run_job` is the one function both executors call (a local worker process, a Ray task). It never
raises: every outcome, a failure included, comes back as an `Outcome` (plain data, small: the JSON
report, never the downloaded files). Transient download errors are retried here, with backoff;
timeouts and dead workers are the executor's business.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from airlock.behavior.settings import BehaviorSettings
from airlock.errors import AirlockError, SourceError
from airlock.policy import Policy

# Test hook (see tests/integration/test_fleet.py): when set, each attempt writes `<dir>/<ref>.<pid>`
# and, on the first attempt of a reference containing AIRLOCK_FLEET_TEST_HOLD, waits so a test can
# kill the worker mid-task.
MARKER_ENV = "AIRLOCK_FLEET_TEST_MARKERS"
HOLD_ENV = "AIRLOCK_FLEET_TEST_HOLD"
HOLD_SECONDS = 30.0


@dataclass(frozen=True)
class Job:
    """Everything a worker needs to scan one reference (picklable; the HF token comes from the worker's env)."""

    reference: str
    policy: Policy
    endpoint: str | None = None  # the Hub endpoint (None: the worker's HF_ENDPOINT)
    behavior: BehaviorSettings | None = None
    cache_dir: str | None = None  # node-local download cache (None: the node's HF cache)
    keep_downloads: bool = False  # False: download into a per-job folder, removed after the scan
    triage: bool = True  # header-first triage before a full download (Hub references only)
    retries: int = 3  # extra attempts after a transient download error
    backoff_s: float = 1.0  # the first wait; doubled after each attempt


@dataclass
class Outcome:
    """What came of one job: a report (status "done") or one line of error (status "error")."""

    reference: str
    status: str  # "done" | "error"
    report: dict[str, Any] | None = None
    error: str | None = None
    attempts: int = 1  # download attempts inside this job
    seconds: float = 0.0
    node: str = ""
    pid: int = 0
    triage: dict[str, Any] = field(default_factory=dict)  # decided, bytes_total, bytes_fetched, …
    worker_retries: int = 0  # times the executor re-ran the job (dead worker)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def run_job(job: Job) -> Outcome:
    """Scan one reference; never raises (an unexpected error is an "error" outcome)."""
    start = time.monotonic()
    _test_hook(job.reference)
    attempts = 0
    triage: dict[str, Any] = {}
    try:
        while True:
            attempts += 1
            try:
                report, triage = _scan_once(job)
                break
            except SourceError as exc:
                if attempts > job.retries or not transient(exc):
                    raise
                time.sleep(job.backoff_s * 2 ** (attempts - 1))
    except AirlockError as exc:
        return _outcome(job, start, attempts, triage, error=exc.diagnostics().strip().splitlines()[0])
    except Exception as exc:  # noqa: BLE001  one broken scan must not stop the fleet; it is reported
        return _outcome(job, start, attempts, triage, error=f"internal error: {type(exc).__name__}: {exc}")
    return _outcome(job, start, attempts, triage, report=report)


def _outcome(
    job: Job,
    start: float,
    attempts: int,
    triage: dict[str, Any],
    *,
    report: dict[str, Any] | None = None,
    error: str | None = None,
) -> Outcome:
    return Outcome(
        reference=job.reference,
        status="done" if report is not None else "error",
        report=report,
        error=error,
        attempts=attempts,
        seconds=time.monotonic() - start,
        node=socket.gethostname(),
        pid=os.getpid(),
        triage=triage,
    )


def _scan_once(job: Job) -> tuple[dict[str, Any], dict[str, Any]]:
    from airlock.pipeline import ScanOptions, resolve, scan_snapshot
    from airlock.sources.interface import parse_reference

    ref = parse_reference(job.reference)
    options = ScanOptions(policy=job.policy, use_cache=False, download_progress=False, behavior=job.behavior)
    if ref.kind != "hf":
        return scan_snapshot(resolve(job.reference, options), options).to_dict(), {}
    from airlock import config
    from airlock.sources.hub import fetch_hub

    endpoint = job.endpoint or config.hf_endpoint()
    base = Path(job.cache_dir).expanduser() if job.cache_dir else config.hf_hub_cache()
    triage: dict[str, Any] = {}
    if job.triage:
        from airlock.fleet.triage import triage_reference

        try:
            decided, triage = triage_reference(ref, job.policy, endpoint, base)
        except SourceError:
            raise  # the Hub said no, or is down: the full download would hear the same (and is retried)
        except Exception as exc:  # noqa: BLE001  triage is a shortcut; when it breaks, the full scan decides
            decided, triage = None, {"error": f"{type(exc).__name__}: {exc}"[:300]}
        if decided is not None:
            return decided.to_dict(), triage
    base.mkdir(parents=True, exist_ok=True)
    cache = base if job.keep_downloads else Path(tempfile.mkdtemp(prefix="airlock-fleet-", dir=base))
    try:
        snapshot = fetch_hub(ref, cache_dir=cache, endpoint=endpoint, progress=False)
        report = scan_snapshot(snapshot, options)
    finally:
        if not job.keep_downloads:
            shutil.rmtree(cache, ignore_errors=True)
    return report.to_dict(), triage


def transient(exc: SourceError) -> bool:
    """Worth another try: a lost connection, an unreachable or overloaded server (5xx, 429, timeouts)."""
    from airlock.errors import DownloadFailed, SourceUnreachable

    if isinstance(exc, SourceUnreachable):
        return True
    if not isinstance(exc, DownloadFailed):
        return False  # not found, access denied, a bad revision: the same answer next time
    cause: BaseException | None = exc.__cause__
    while cause is not None:
        response = getattr(cause, "response", None)
        status = getattr(response, "status_code", None)
        if isinstance(status, int):
            return status >= 500 or status in (408, 429)
        cause = cause.__cause__ or cause.__context__
    return "no space left" not in str(exc)


def _test_hook(reference: str) -> None:
    """Write a marker naming this process; hold the first attempt of a chosen reference (tests only)."""
    markers = os.environ.get(MARKER_ENV)
    if not markers:
        return
    folder = Path(markers)
    stem = "".join(c if c.isalnum() else "_" for c in reference)
    first = not any(folder.glob(f"{stem}.*"))
    (folder / f"{stem}.{os.getpid()}").write_text(reference)
    hold = os.environ.get(HOLD_ENV)
    if first and hold and hold in reference:
        time.sleep(HOLD_SECONDS)
