"""Scan workers: threads that take queued scans from the database and run each in a child process.

Nothing here runs on a request: an admission only enqueues (`Database.enqueue` is idempotent per
reference, so many callers asking for one model make one scan). A scan that cannot run is retried
up to `MAX_ATTEMPTS` times, then kept as `error` with its reason.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
from pathlib import Path

from airlock.service.db import Database, Scan

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
SCAN_TIMEOUT_S = 1800.0


class Workers:
    def __init__(self, db: Database, count: int, policy: Path | None = None) -> None:
        self.db = db
        self.count = count
        self.policy = policy
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        requeued = self.db.requeue_interrupted()
        if requeued:
            log.warning("%d scan(s) interrupted by a restart are queued again", requeued)
        for n in range(self.count):
            thread = threading.Thread(target=self._loop, name=f"scan-worker-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)
        self._wake.set()

    def notify(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            job = self.db.claim()
            if job is None:
                self._wake.wait(2.0)
                self._wake.clear()
                continue
            self._run(job)

    def _run(self, job: Scan) -> None:
        command = [sys.executable, "-m", "airlock.service.scanjob", job.reference]
        if self.policy is not None:
            command += ["--policy", str(self.policy)]
        log.info("scan %s: %s (attempt %d)", job.id, job.reference, job.attempts)
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=SCAN_TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired:
            self._failed(job, f"the scan ran past {SCAN_TIMEOUT_S:.0f} s")
            return
        if done.returncode != 0:
            why = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
            self._failed(job, why)
            return
        try:
            report = json.loads(done.stdout)
            verdict = str(report["verdict"]["decision"])
            digest = report["target"].get("digest")
        except (ValueError, KeyError, TypeError) as exc:
            self._failed(job, f"the scan printed no report ({exc})")
            return
        self.db.finish(job.id, verdict=verdict, digest=digest, report=done.stdout)
        log.info("scan %s: %s", job.id, verdict)

    def _failed(self, job: Scan, why: str) -> None:
        retry = job.attempts < MAX_ATTEMPTS
        log.warning("scan %s failed (%s)%s", job.id, why, "; retrying" if retry else "")
        self.db.fail(job.id, why, retry=retry)
