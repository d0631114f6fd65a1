"""Scan time of a large checkpoint as a ratio to `openssl dgst -sha256` of the same bytes (the floor).

Every byte is hashed once; a warm re-scan (unchanged bytes, result cache) costs only that hashing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

from bench._timing import time_command

GIB = 1 << 30


def large_safetensors(path: Path, size: int = GIB) -> Path:
    """A ~1 GiB safetensors file written in pieces (bounded memory)."""
    if path.exists() and path.stat().st_size >= size:
        return path
    import json
    import struct

    per_tensor = 64 << 20
    count = max(1, size // per_tensor)
    header: dict[str, Any] = {}
    offset = 0
    for i in range(count):
        header[f"layer{i}.weight"] = {
            "dtype": "F32",
            "shape": [per_tensor // 4],
            "data_offsets": [offset, offset + per_tensor],
        }
        offset += per_tensor
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    rng = np.random.default_rng(0)
    with open(path, "wb") as fh:
        fh.write(struct.pack("<Q", len(raw)) + raw)
        fh.writelines(rng.standard_normal(per_tensor // 4, dtype=np.float32).tobytes() for _ in range(count))
    return path


def run(work: Path, runs: int = 3) -> list[dict[str, Any]]:
    openssl = shutil.which("openssl")
    if openssl is None:
        return [{"case": "throughput", "skipped": "openssl not found"}]
    model = large_safetensors(work / "large.safetensors")
    airlock = str(Path(sys.executable).parent / "airlock")
    env_cache = work / "airlock-cache"
    os.environ["AIRLOCK_CACHE_DIR"] = str(env_cache)
    floor = time_command([openssl, "dgst", "-sha256", str(model)], runs=runs)
    cold = time_command(
        [airlock, "scan", str(model), "--no-cache", "--format", "json", "--no-progress"], runs=runs
    )
    subprocess.run(
        [airlock, "scan", str(model), "--format", "json", "--no-progress"],
        stdout=subprocess.DEVNULL,
        check=False,
    )
    warm = time_command([airlock, "scan", str(model), "--format", "json", "--no-progress"], runs=runs)
    size = model.stat().st_size
    return [
        {"case": f"openssl dgst -sha256 ({size / GIB:.2f} GiB)", "seconds": floor, "ratio": 1.0},
        {"case": "airlock scan, no cache", "seconds": cold, "ratio": cold / floor},
        {"case": "airlock scan, warm cache", "seconds": warm, "ratio": warm / floor},
    ]
