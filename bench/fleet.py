"""`airlock fleet`: models per minute on a local pool and on a local Ray, scheduling overhead, triage savings.

The same generated fleet (fixtures/fleet.py, served by the local Hub-speaking server) is scanned by
each executor with a fresh store: with header-first triage, then (local pool) with `--full-download`.
Scheduling overhead is the wall time per job of jobs that fail at once (a reference that does not
exist), through the real executor and store. Ray's start-up is timed apart from its throughput.
Each row carries the load average, since this machine is shared.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

from airlock.fleet.executors import Executor, Limits, LocalExecutor, RayExecutor
from airlock.fleet.jobs import Job
from airlock.fleet.runner import RunResult, run_fleet
from airlock.fleet.store import Key, SqliteStore
from airlock.policy import default_policy
from airlock.rules import load_rules
from fixtures.fleet import populate
from fixtures.hub_server import HubServer

FLEET = 36
LARGE = 8 << 20  # bytes of the large weights file in half of the repos
OVERHEAD_JOBS = 200
WORKERS = 2


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def _run(
    refs: list[str], executor: Executor, endpoint: str, folder: Path, *, triage: bool = True
) -> RunResult:
    policy = default_policy()
    key = Key(load_rules().version, policy.digest)
    store = SqliteStore(folder / f"store-{time.monotonic_ns()}.sqlite3")
    try:
        return run_fleet(
            refs,
            lambda r: Job(r, policy, endpoint=endpoint, triage=triage),
            executor,
            store,
            key,
            stream=open(os.devnull, "w"),  # closed with the process; progress is not measured
        )
    finally:
        store.close()


def _throughput(case: str, result: RunResult, seconds: float) -> dict[str, Any]:
    p = result.progress
    return {
        "case": case,
        "models": p.finished,
        "seconds": seconds,
        "models_per_min": f"{60 * p.finished / seconds:.1f}",
        "fail": p.failed,
        "errors": p.errors,
        "triage_decided": p.triaged,
        "bytes_total": p.bytes_total,
        "bytes_fetched_by_triage": p.bytes_fetched_by_triage,
        "bytes_saved_by_triage": p.bytes_saved,
        # an upper bound: models not decided by triage are downloaded whole, after their triage reads
        "bytes_downloaded": p.bytes_total - p.bytes_saved + p.bytes_fetched_by_triage
        if p.bytes_total
        else None,
        "load": _load(),
    }


def _overhead(case: str, executor: Executor, folder: Path) -> dict[str, Any]:
    refs = [f"./no-such-model-{i}" for i in range(OVERHEAD_JOBS)]
    start = time.perf_counter()
    result = _run(refs, executor, "http://127.0.0.1:9", folder)
    seconds = time.perf_counter() - start
    assert result.progress.errors == OVERHEAD_JOBS
    return {
        "case": case,
        "jobs": OVERHEAD_JOBS,
        "seconds": seconds,
        "ms_per_job": f"{1000 * seconds / OVERHEAD_JOBS:.1f}",
        "load": _load(),
    }


def _on_ray(refs: list[str], endpoint: str, folder: Path) -> list[dict[str, Any]]:
    from airlock.errors import AirlockError
    from airlock.fleet.executors import start_ray

    start = time.perf_counter()
    try:
        ray = start_ray(num_cpus=WORKERS, tries=3)
    except AirlockError as exc:  # keep the local rows
        return [{"case": "ray.init", "error": str(exc), "load": _load()}]
    rows: list[dict[str, Any]] = [
        {"case": f"ray.init(num_cpus={WORKERS})", "seconds": time.perf_counter() - start, "load": _load()}
    ]
    try:
        on_ray = RayExecutor(limits=Limits(timeout_s=300))
        start = time.perf_counter()
        result = _run(refs, on_ray, endpoint, folder)
        rows.append(_throughput(f"local Ray ({WORKERS} CPUs), triage", result, time.perf_counter() - start))
        rows.append(_overhead("local Ray: overhead per job", on_ray, folder))
    finally:
        ray.shutdown()
    return rows


def run(work: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    folder = Path(tempfile.mkdtemp(prefix="fleet-", dir=work))
    saved = {k: os.environ.get(k) for k in ("HF_HOME", "AIRLOCK_CACHE_DIR", "HF_ENDPOINT")}
    os.environ["HF_HOME"] = str(folder / "hf-home")
    os.environ["AIRLOCK_CACHE_DIR"] = str(folder / "airlock-cache")
    try:
        with HubServer() as hub:
            os.environ["HF_ENDPOINT"] = hub.url
            refs = [r.reference for r in populate(hub, FLEET, large=LARGE)]
            local = LocalExecutor(workers=WORKERS, limits=Limits(timeout_s=300))

            start = time.perf_counter()
            result = _run(refs, local, hub.url, folder)
            rows.append(
                _throughput(f"local pool ({WORKERS} procs), triage", result, time.perf_counter() - start)
            )
            start = time.perf_counter()
            result = _run(refs, local, hub.url, folder, triage=False)
            rows.append(
                _throughput(
                    f"local pool ({WORKERS} procs), full download", result, time.perf_counter() - start
                )
            )
            rows.append(_overhead("local pool: overhead per job", local, folder))

            rows += _on_ray(refs, hub.url, folder)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return rows
