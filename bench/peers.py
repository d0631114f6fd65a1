"""How each peer is run from the command line, and how its answer is read.

Every tool is run the way a user runs it (its console script), so start-up cost counts for all.
A sample is "flagged" when the tool says it is unsafe; an error or a crash is recorded apart.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Outcome:
    flagged: bool
    error: bool
    seconds: float
    detail: str = ""


@dataclass(frozen=True)
class Peer:
    name: str
    argv: tuple[str, ...]  # {path} is replaced by the sample path
    unsafe_codes: frozenset[int]
    error_codes: frozenset[int]
    files_only: bool = False  # given a folder, run once per file and combine

    def available(self) -> bool:
        return _exe(self.argv[0]) is not None

    def run(self, path: Path, timeout: float = 300) -> Outcome:
        if self.files_only and path.is_dir():
            parts = [self._run_one(f, timeout) for f in sorted(path.rglob("*")) if f.is_file()]
            return Outcome(
                any(p.flagged for p in parts),
                any(p.error for p in parts),
                sum(p.seconds for p in parts),
                "; ".join(p.detail for p in parts if p.flagged or p.error)[:200],
            )
        return self._run_one(path, timeout)

    def _run_one(self, path: Path, timeout: float) -> Outcome:
        exe = _exe(self.argv[0])
        assert exe is not None
        argv = [exe, *(a.replace("{path}", str(path)) for a in self.argv[1:])]
        start = time.perf_counter()
        try:
            with tempfile.TemporaryDirectory() as scratch:  # fickling writes safety_results.json into the cwd
                done = subprocess.run(
                    argv, capture_output=True, text=True, timeout=timeout, check=False, cwd=scratch
                )
        except subprocess.TimeoutExpired:
            return Outcome(False, True, time.perf_counter() - start, "timeout")
        seconds = time.perf_counter() - start
        code = done.returncode
        tail = (done.stdout + done.stderr).strip().splitlines()[-1:] or [""]
        return Outcome(
            code in self.unsafe_codes,
            code in self.error_codes or code < 0,
            seconds,
            f"exit {code}: {tail[0][:120]}",
        )


def _exe(name: str) -> str | None:
    return shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)


PEERS: tuple[Peer, ...] = (
    Peer(
        "airlock",
        ("airlock", "scan", "{path}", "--no-cache", "--no-progress", "--format", "json"),
        frozenset({1}),
        frozenset({2}),
    ),
    # the same scan with the policy failing at medium: counts what airlock reports but lets pass by default
    Peer(
        "airlock@medium",
        (
            "airlock",
            "scan",
            "{path}",
            "--no-cache",
            "--no-progress",
            "--format",
            "json",
            "--fail-at",
            "medium",
        ),
        frozenset({1}),
        frozenset({2}),
    ),
    Peer("modelscan", ("modelscan", "-p", "{path}"), frozenset({1}), frozenset({2, 3})),
    Peer("picklescan", ("picklescan", "-p", "{path}"), frozenset({1}), frozenset({2})),
    Peer(
        "fickling", ("fickling", "--check-safety", "{path}"), frozenset({1}), frozenset({2}), files_only=True
    ),
    Peer("modelaudit", ("modelaudit", "scan", "{path}", "--no-cache"), frozenset({1}), frozenset({2})),
)


def selected() -> list[Peer]:
    """The installed peers, narrowed by AIRLOCK_BENCH_TOOLS (comma-separated names) when it is set."""
    wanted = {name.strip() for name in os.environ.get("AIRLOCK_BENCH_TOOLS", "").split(",") if name.strip()}
    return [p for p in PEERS if p.available() and (not wanted or p.name in wanted)]
