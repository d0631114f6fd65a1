"""A modelscan process that answers one JSON line per file path, in the order they were sent.

modelscan runs outside airlock's process for two reasons: its import (h5py, numpy: ~0.15 s) and its
work happen on the other core while airlock hashes and parses (no GIL between them), and a crash
inside it (libhdf5 can be crashed by a hostile file) ends the worker, never airlock.

One idle worker is kept per process (`take` / `give_back`), so a warm-up before hashing and a
later scan in the same process share it.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

SCRIPT = (
    "import json, logging, os, sys, time\n"
    "logging.disable(logging.CRITICAL)\n"
    "answers = os.fdopen(os.dup(1), 'w')\n"
    "sys.stdout = sys.stderr  # stray prints from modelscan cannot corrupt the answers\n"
    "from modelscan.modelscan import ModelScan\n"
    "for line in sys.stdin:\n"
    "    start = time.perf_counter()\n"
    "    try:\n"
    "        result = ModelScan().scan(json.loads(line))\n"
    "    except Exception as exc:\n"
    "        result = {'errors': [{'description': f'modelscan raised {type(exc).__name__}: {exc}'}]}\n"
    "    answer = {'result': result, 'seconds': time.perf_counter() - start}\n"
    "    answers.write(json.dumps(answer, default=str) + '\\n')\n"
    "    answers.flush()\n"
)


class WorkerGone(Exception):
    """The worker died or stopped answering; the message says which, for the file it was reading."""


class Worker:
    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-c", SCRIPT],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self._pending = b""

    def send(self, path: Path) -> None:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(str(path)).encode() + b"\n")
            self.process.stdin.flush()
        except OSError as exc:
            raise WorkerGone(self._how_it_ended()) from exc

    def receive(self, timeout: float) -> tuple[dict[str, Any], float]:
        """The next answer (modelscan's result, its seconds); WorkerGone if none comes within `timeout`."""
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        fd = self.process.stdout.fileno()
        while b"\n" not in self._pending:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                self.close()
                raise WorkerGone(f"modelscan did not finish within {timeout:g} s")
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                raise WorkerGone(self._how_it_ended())
            self._pending += chunk
        line, _, self._pending = self._pending.partition(b"\n")
        try:
            answer = json.loads(line)
        except ValueError:
            answer = None
        if not isinstance(answer, dict) or not isinstance(answer.get("result"), dict):
            return {"errors": [{"description": "modelscan printed no readable result"}]}, 0.0
        return answer["result"], float(answer.get("seconds") or 0.0)

    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()

    def _how_it_ended(self) -> str:
        try:
            code = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.close()
            return "modelscan stopped answering"
        how = f"signal {-code}" if code < 0 else f"exit {code}"
        return f"modelscan crashed on this file ({how})"


_lock = threading.Lock()
_idle: Worker | None = None


def prestart() -> None:
    """Start the idle worker now if there is none (returns at once; it imports modelscan on its own)."""
    global _idle
    with _lock:
        if _idle is None or not _idle.alive():
            _idle = Worker()


def take() -> Worker:
    """The idle worker (started if there is none), now owned by the caller."""
    global _idle
    with _lock:
        worker, _idle = _idle, None
    return worker if worker is not None and worker.alive() else Worker()


def give_back(worker: Worker) -> None:
    """Keep a worker with nothing outstanding for the next scan, or stop it."""
    global _idle
    with _lock:
        if _idle is None and worker.alive():
            _idle = worker
            return
    worker.close()


def stop_idle() -> None:
    global _idle
    with _lock:
        worker, _idle = _idle, None
    if worker is not None:
        worker.close()


atexit.register(stop_idle)
