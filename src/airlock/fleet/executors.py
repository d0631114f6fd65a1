"""Executors: where the fleet's jobs run. A local process pool, or tasks on a Ray cluster.

Both run the same function (`airlock.fleet.jobs.run_job`) and give the head the same things: one
`Outcome` per job, in completion order. Both enforce the per-scan timeout from the head (the worker
running a scan past it is killed) and re-run a job whose worker died, up to `max_retries` times.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from airlock.errors import AirlockError
from airlock.fleet.jobs import HOLD_ENV, MARKER_ENV, Job, Outcome, run_job

Emit = Callable[[Outcome], None]

# Environment a Ray worker needs from the head (a node may not have it): the Hub to talk to, the
# token for private repos, the canary folder of the tests, and the test hooks.
FORWARDED_ENV = ("HF_ENDPOINT", "HF_TOKEN", "AIRLOCK_CANARY_DIR", MARKER_ENV, HOLD_ENV)


@dataclass(frozen=True)
class Resources:
    """What one scan asks of a node (Ray's resource hints; the local pool uses `workers` only)."""

    num_cpus: float = 1.0
    memory_bytes: int | None = None
    num_gpus: float = 0.0


@dataclass(frozen=True)
class Limits:
    timeout_s: float | None = 600.0  # per scan, download included; None = no limit
    max_retries: int = 2  # re-runs of a job whose worker died


class Executor(ABC):
    @abstractmethod
    def run(self, jobs: Sequence[Job], emit: Emit) -> None:
        """Run every job; call `emit` once per job, on the calling thread, as each finishes."""

    def close(self) -> None:  # noqa: B027  optional
        """Release what the executor started."""


def _timed_out(job: Job, seconds: float, limit: float) -> Outcome:
    return Outcome(
        reference=job.reference, status="error", error=f"timed out after {limit:g} s", seconds=seconds
    )


def _worker_died(job: Job, why: str, retries: int) -> Outcome:
    return Outcome(
        reference=job.reference,
        status="error",
        error=f"worker died ({why}) on every one of {retries + 1} tries",
        worker_retries=retries,
    )


# -- local ------------------------------------------------------------------------------------------


def _local_worker(inbox: Any, outbox: Any, slot: int) -> None:
    """A pool process: run the jobs it is handed, one at a time, until it is handed None."""
    while True:
        item = inbox.get()
        if item is None:
            return
        index, job = item
        outbox.put(("start", slot, index, None))  # the timeout counts from here, not from the hand-over
        outbox.put(("done", slot, index, run_job(job)))


@dataclass
class _Slot:
    process: Any
    inbox: Any
    index: int | None = None  # the job it runs
    started: float | None = None  # when the worker began it


@dataclass
class LocalExecutor(Executor):
    """A pool of worker processes on this machine (spawned: they share nothing with the head)."""

    workers: int = 2
    limits: Limits = field(default_factory=Limits)

    def run(self, jobs: Sequence[Job], emit: Emit) -> None:
        context = multiprocessing.get_context("spawn")
        outbox = context.Queue()
        todo = list(range(len(jobs)))[::-1]  # popped from the end: first job first
        retries = dict.fromkeys(range(len(jobs)), 0)
        slots: list[_Slot] = []

        def start(slot_no: int) -> _Slot:
            inbox = context.Queue()
            process = context.Process(target=_local_worker, args=(inbox, outbox, slot_no), daemon=True)
            process.start()
            return _Slot(process, inbox)

        try:
            slots = [start(n) for n in range(max(1, min(self.workers, len(jobs))))]
            pending = len(jobs)
            while pending:
                for slot in slots:
                    if slot.index is None and todo:
                        slot.index, slot.started = todo.pop(), None
                        slot.inbox.put((slot.index, jobs[slot.index]))
                try:
                    kind, slot_no, index, outcome = outbox.get(timeout=0.2)
                except queue.Empty:
                    pass
                else:
                    if slots[slot_no].index != index:
                        pass  # a late message about a job already given up on
                    elif kind == "start":
                        slots[slot_no].started = time.monotonic()
                    else:
                        slots[slot_no].index = None
                        outcome.worker_retries = retries[index]
                        emit(outcome)
                        pending -= 1
                now = time.monotonic()
                for n, slot in enumerate(slots):
                    if slot.index is None:
                        if not slot.process.is_alive():
                            slots[n] = start(n)
                        continue
                    index = slot.index
                    limit = self.limits.timeout_s
                    if limit is not None and slot.started is not None and now - slot.started > limit:
                        _stop(slot.process)
                        slots[n] = start(n)
                        emit(_timed_out(jobs[index], now - slot.started, limit))
                        pending -= 1
                    elif not slot.process.is_alive():
                        why = f"exit code {slot.process.exitcode}"
                        slots[n] = start(n)
                        if retries[index] < self.limits.max_retries:
                            retries[index] += 1
                            todo.append(index)  # next in line
                        else:
                            emit(_worker_died(jobs[index], why, retries[index]))
                            pending -= 1
        finally:
            for slot in slots:
                if slot.process.is_alive():
                    slot.inbox.put(None)
            for slot in slots:
                slot.process.join(timeout=2)
                _stop(slot.process)


def _stop(process: Any) -> None:
    if process.is_alive():
        process.kill()
        process.join(timeout=5)


# -- Ray --------------------------------------------------------------------------------------------


class _Clock:
    """A Ray actor where each task notes when it started (so the timeout excludes queueing and worker start)."""

    def __init__(self) -> None:
        self.started: dict[str, float] = {}

    def start(self, reference: str) -> None:
        self.started[reference] = time.time()

    def starts(self) -> dict[str, float]:
        return self.started


def _ray_job(job: Job, clock: Any, env: Mapping[str, str]) -> Outcome:
    """Run the job with the head's environment (set per task: Ray reuses its started workers as they are)."""
    clock.start.remote(job.reference)  # a retry after a dead worker starts its clock again
    saved = {k: os.environ.get(k) for k in FORWARDED_ENV}
    for k in FORWARDED_ENV:
        os.environ.pop(k, None)
    os.environ.update(env)
    try:
        return run_job(job)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@dataclass
class RayExecutor(Executor):
    """Each job a Ray task with resource hints; Ray re-runs a task whose worker died (`max_retries`).

    `address` None starts a local Ray instance (`num_cpus` of this machine); "auto" or
    "ray://host:port" joins an existing cluster. Tasks return the outcome (the JSON report), never
    files: downloads stay in each node's cache.
    """

    address: str | None = None
    resources: Resources = field(default_factory=Resources)
    limits: Limits = field(default_factory=Limits)
    num_cpus: int | None = None  # only for a local instance
    _started: bool = False

    def connect(self) -> Any:
        try:
            import ray
        except ImportError:
            raise AirlockError(
                "--executor ray needs Ray: pip install 'model-airlock[fleet]' (or use --executor local)"
            ) from None
        if not ray.is_initialized():
            start_ray(self.address, self.num_cpus if self.address is None else None)
            self._started = True
        return ray

    def slots(self, ray: Any) -> int:
        cpus = float(ray.cluster_resources().get("CPU", 1))
        per = max(self.resources.num_cpus, 0.01)
        return max(1, int(cpus // per))

    def run(self, jobs: Sequence[Job], emit: Emit) -> None:
        ray = self.connect()
        env = {k: os.environ[k] for k in FORWARDED_ENV if os.environ.get(k)}
        options: dict[str, Any] = {
            "num_cpus": self.resources.num_cpus,
            "num_gpus": self.resources.num_gpus,
            "max_retries": self.limits.max_retries,  # a dead worker's task runs again (elsewhere if it can)
            "retry_exceptions": False,  # run_job never raises; an exception here is not worth a retry
        }
        if self.resources.memory_bytes:
            options["memory"] = self.resources.memory_bytes
        task = ray.remote(_ray_job).options(**options)
        clock = ray.remote(num_cpus=0)(_Clock).remote()
        window = 2 * self.slots(ray)  # enough queued to keep every slot busy, few enough to stop early
        todo = list(range(len(jobs)))[::-1]
        running: dict[Any, int] = {}
        limit = self.limits.timeout_s
        checked = 0.0
        while todo or running:
            while todo and len(running) < window:
                index = todo.pop()
                running[task.remote(jobs[index], clock, env)] = index
            ready, _ = ray.wait(list(running), num_returns=1, timeout=0.2)
            for ref in ready:
                emit(self._result(ray, ref, jobs[running.pop(ref)]))
            if limit is None or time.monotonic() - checked < 1.0:
                continue
            checked = time.monotonic()
            starts = ray.get(clock.starts.remote())
            now = time.time()
            for ref, index in list(running.items()):
                began = starts.get(jobs[index].reference)
                if began is not None and now - began > limit:
                    ray.cancel(ref, force=True)  # kills the worker process; a cancelled task is not retried
                    running.pop(ref)
                    emit(_timed_out(jobs[index], now - began, limit))
        ray.kill(clock)

    def _result(self, ray: Any, ref: Any, job: Job) -> Outcome:
        try:
            outcome = ray.get(ref)
        except ray.exceptions.RayError as exc:  # the worker died more times than max_retries, …
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            return _worker_died(job, f"{type(exc).__name__}: {first[:200]}", self.limits.max_retries)
        assert isinstance(outcome, Outcome)
        return outcome

    def close(self) -> None:
        if self._started:
            import ray

            ray.shutdown()
            self._started = False


def start_ray(address: str | None = None, num_cpus: int | None = None, tries: int = 2) -> Any:
    """`ray.init` quietly; a local start is tried again once (Ray gives a starting node 30 s, which a
    loaded machine can exceed). Returns the `ray` module."""
    import ray

    for attempt in range(1, tries + 1):
        try:
            ray.init(
                address=address,
                num_cpus=num_cpus,
                include_dashboard=False,
                log_to_driver=False,
                configure_logging=False,
            )
            return ray
        except Exception as exc:
            ray.shutdown()
            if address is not None or attempt == tries:
                raise AirlockError(f"Ray did not start: {type(exc).__name__}: {exc}") from exc
    return ray


def make_executor(
    kind: str,
    *,
    workers: int,
    limits: Limits,
    resources: Resources,
    address: str | None = None,
) -> Executor:
    if kind == "local":
        return LocalExecutor(workers=workers, limits=limits)
    if kind == "ray":
        return RayExecutor(address=address, resources=resources, limits=limits, num_cpus=workers)
    raise AirlockError(f"unknown executor {kind!r} (local or ray)")
