"""Scan workers: threads that take queued scans from the database and run each in a child process.

Nothing here runs on a request: an admission only enqueues (`Database.enqueue` is idempotent per
reference, so many callers asking for one model make one scan). A worker claims a job with a lease
of `lease_s` seconds and renews it every third of that while the scan runs; a job whose worker died
(`kill -9`, a lost node) is claimed again by any replica once its lease runs out, and a worker that
finds its lease taken kills its scan and writes nothing. A scan that cannot run is retried up to
`MAX_ATTEMPTS` times, then kept as `error` with its reason. Each finished scan is written to the
audit log once, by the worker whose `finish` took effect.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from airlock.allowlist.records import format_time, utc_now
from airlock.service.db import Database, Scan

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
SCAN_TIMEOUT_S = 1800.0
LEASE_S = 30.0


def worker_name() -> str:
    """Who holds a job: host, process and a random part (a restarted process with the same pid differs)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Workers:
    def __init__(
        self, db: Database, count: int, policy: Path | None = None, *, lease_s: float = LEASE_S
    ) -> None:
        self.db = db
        self.count = count
        self.policy = policy
        self.lease_s = lease_s
        self.name = worker_name()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for n in range(self.count):
            thread = threading.Thread(target=self._loop, args=(f"{self.name}/{n}",), daemon=True)
            thread.start()
            self._threads.append(thread)
        self._wake.set()

    def notify(self) -> None:
        self._wake.set()

    def stop(self, wait_s: float = 10.0) -> None:
        """Stop taking jobs, kill running scans (they are requeued) and wait for their cleanup."""
        self._stop.set()
        self._wake.set()
        deadline = time.monotonic() + wait_s
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _loop(self, owner: str) -> None:
        poll = min(2.0, self.lease_s / 3)
        while not self._stop.is_set():
            try:
                job = self.db.claim(owner, self.lease_s)
            except Exception as exc:  # noqa: BLE001  the database may be away for a while; keep polling
                log.warning("cannot claim a scan (%s); retrying", exc)
                job = None
            if job is None:
                self._wake.wait(poll)
                self._wake.clear()
                continue
            self._run(job)

    def _run(self, job: Scan) -> None:
        if job.attempts > MAX_ATTEMPTS:  # its workers kept dying mid-scan: do not take the next one down
            self.db.fail(job, f"interrupted {job.attempts - 1} times", retry=False)
            return
        log.info("scan %s: %s (attempt %d, %s)", job.id, job.reference, job.attempts, job.owner)
        # The child's temporary files (downloads, staged weights) live in a folder this thread owns
        # and removes, so a scan killed for a shutdown, a lost lease or a timeout leaves nothing.
        with tempfile.TemporaryDirectory(prefix="airlock-scan-", ignore_cleanup_errors=True) as scratch:
            finished = self._child(job, scratch)
        if finished is not None:
            self._record(job, *finished)

    def _child(self, job: Scan, scratch: str) -> tuple[int, str, str] | None:
        """Run the scan in a child process; its exit status and output, or None where it was stopped."""
        command = [sys.executable, "-m", "airlock.service.scanjob", job.reference]
        if self.policy is not None:
            command += ["--policy", str(self.policy)]
        env = {**os.environ, "TMPDIR": scratch}
        child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        deadline = time.monotonic() + SCAN_TIMEOUT_S
        renewed = time.monotonic()
        while True:
            try:  # a short wait, so a shutdown stops the child within a second
                stdout, stderr = child.communicate(timeout=min(1.0, self.lease_s / 3))
                return child.returncode, stdout, stderr
            except subprocess.TimeoutExpired:
                pass
            held = True
            if time.monotonic() - renewed >= self.lease_s / 3:
                held = self.db.renew(job, self.lease_s)
                renewed = time.monotonic()
            if held and not self._stop.is_set() and time.monotonic() <= deadline:
                continue
            child.kill()
            child.communicate()
            if not held:
                log.warning("scan %s: lease lost to another worker; dropped", job.id)
            elif self._stop.is_set():
                self.db.fail(job, "interrupted by a shutdown", retry=True)
            else:
                self._failed(job, f"the scan ran past {SCAN_TIMEOUT_S:.0f} s")
            return None

    def _record(self, job: Scan, returncode: int, stdout: str, stderr: str) -> None:
        if returncode != 0:
            why = (stderr.strip().splitlines() or [f"exit {returncode}"])[-1]
            self._failed(job, why)
            return
        try:
            report = json.loads(stdout)
            verdict = str(report["verdict"]["decision"])
            digest = report["target"].get("digest")
        except (ValueError, KeyError, TypeError) as exc:
            self._failed(job, f"the scan printed no report ({exc})")
            return
        if not self.db.finish(job, verdict=verdict, digest=digest, report=stdout):
            log.warning("scan %s: finished after its lease was taken; the result is dropped", job.id)
            return
        self.db.audit(
            {
                "time": format_time(utc_now()),
                "caller": f"worker:{job.owner}",
                "endpoint": "scan",
                "scan": job.id,
                "reference": job.reference,
                "attempt": job.attempts,
                "decision": verdict,
                "digest": digest,
            }
        )
        log.info("scan %s: %s", job.id, verdict)

    def _failed(self, job: Scan, why: str) -> None:
        retry = job.attempts < MAX_ATTEMPTS
        log.warning("scan %s failed (%s)%s", job.id, why, "; retrying" if retry else "")
        self.db.fail(job, why, retry=retry)
