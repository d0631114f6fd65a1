"""Sign and verify time on a 1 GiB model (four 256 MiB safetensors files), as a ratio to `openssl dgst`.

The floor is one `openssl dgst -sha256` process over the same four files. `airlock sign` scans
(one hashing pass, two threads), makes the OMS signature and appends; `sign --report` skips the
scan. `airlock verify` hashes only (one thread per core); a warm verify reads the sha256 of
unchanged files from the hash cache. Commands run in interleaved rounds, so a machine whose load
changes during the run slows every case alike; each figure is the median over the rounds.
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.throughput import large_safetensors

PARTS = 4
PART_SIZE = 256 << 20


def model(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(PARTS):
        large_safetensors(folder / f"model-{i + 1:05d}-of-{PARTS:05d}.safetensors", PART_SIZE)
    (folder / "config.json").write_text('{"model_type": "bert"}\n')
    return folder


def run(work: Path, rounds: int = 5) -> list[dict[str, Any]]:
    openssl = shutil.which("openssl")
    if openssl is None:
        return [{"case": "allowlist", "skipped": "openssl not found"}]
    folder = model(work / "allowlist-model")
    files = sorted(str(p) for p in folder.iterdir())
    size = sum(Path(f).stat().st_size for f in files)
    os.environ["AIRLOCK_CACHE_DIR"] = str(work / "airlock-cache")
    airlock = str(Path(sys.executable).parent / "airlock")
    key, allowlist, report = (
        work / "allowlist-bench.key",
        work / "allowlist-bench.jsonl",
        work / "allowlist-report.json",
    )
    if not key.exists():
        subprocess.run([airlock, "keygen", str(key)], check=True, stdout=subprocess.DEVNULL)
    allowlist.unlink(missing_ok=True)
    subprocess.run(
        [airlock, "scan", str(folder), "--format", "json", "-o", str(report), "--no-progress"], check=True
    )
    sign = [airlock, "sign", str(folder), "--key", str(key), "--allowlist", str(allowlist)]
    verify = [airlock, "verify", str(folder), "--allowlist", str(allowlist), "--pubkey", f"{key}.pub"]
    cases = {
        f"openssl dgst -sha256 ({size / (1 << 30):.2f} GiB, {PARTS} files)": [
            openssl,
            "dgst",
            "-sha256",
            *files,
        ],
        "airlock sign (scan, OMS, append)": sign,
        "airlock sign --report (hash cache, OMS, append)": [*sign, "--report", str(report)],
        "airlock verify, no hash cache": [*verify, "--no-cache"],
        "airlock verify, warm hash cache": verify,
    }
    timings = _interleaved(list(cases.values()), rounds)
    (floor, floor_cpu), load = timings[0], os.getloadavg()[0]
    return [
        {
            "case": case,
            "seconds": wall,
            "ratio": wall / floor,
            "cpu_seconds": cpu,
            "cpu/openssl": cpu / floor_cpu,
            "load_avg": f"{load:.1f}",
        }
        for case, (wall, cpu) in zip(cases, timings, strict=True)
    ]


def _interleaved(commands: Sequence[Sequence[str]], rounds: int) -> list[tuple[float, float]]:
    """Median wall and CPU (user + system) seconds of each command over `rounds` rounds, after a warm-up.

    CPU time is the steadier figure on a shared machine: other processes lengthen wall time, not work done."""
    walls: list[list[float]] = [[] for _ in commands]
    cpus: list[list[float]] = [[] for _ in commands]
    for round_number in range(rounds + 1):
        for i, argv in enumerate(commands):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run(list(argv), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            wall = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if round_number:
                walls[i].append(wall)
                cpus[i].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return [(statistics.median(w), statistics.median(c)) for w, c in zip(walls, cpus, strict=True)]
