"""Large checkpoints: scan time as a ratio to `openssl dgst -sha256` of the same bytes, and to each peer.

Inputs (generated once into bench/results/work): a ~1 GiB safetensors file, a ~1 GiB PyTorch zip,
and a legacy (pre-zip) PyTorch file whose pickle is large (many small tensors). The hashing floor
is openssl: coreutils sha256sum is about 3x slower here and is not the floor.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from bench._timing import time_command
from bench.peers import PEERS
from bench.throughput import GIB, large_safetensors


def large_torch_zip(path: Path, size: int = GIB) -> Path:
    if path.exists() and path.stat().st_size >= size * 0.95:
        return path
    import torch

    per = 64 << 20
    torch.save({f"layer{i}.weight": torch.randn(per // 4) for i in range(size // per)}, path)
    return path


def pickle_heavy_legacy(path: Path, tensors: int = 100_000) -> Path:
    if path.exists():
        return path
    import torch

    state = {f"block{i // 100}.sub{i % 100}.weight": torch.zeros(4) for i in range(tensors)}
    torch.save(state, path, _use_new_zipfile_serialization=False)
    return path


def run(work: Path, runs: int = 1) -> list[dict[str, Any]]:
    openssl = shutil.which("openssl")
    inputs = {
        "safetensors 1 GiB": large_safetensors(work / "large.safetensors"),
        "pytorch zip 1 GiB": large_torch_zip(work / "large-zip.pt"),
        "legacy pytorch, 100k-tensor pickle": pickle_heavy_legacy(work / "pickle-heavy.pt"),
    }
    rows: list[dict[str, Any]] = []
    for label, path in inputs.items():
        floor = time_command([openssl, "dgst", "-sha256", str(path)], runs=max(runs, 3)) if openssl else float("nan")
        row: dict[str, Any] = {"case": label, "bytes": path.stat().st_size, "openssl": floor}
        for peer in PEERS:
            if not peer.available() or peer.name == "airlock@medium":
                continue
            start = time.perf_counter()
            outcome = peer.run(path, timeout=300)
            row[peer.name] = time.perf_counter() - start if not outcome.error else None
            row[f"{peer.name}_detail"] = outcome.detail
        ours = row.get("airlock")
        if ours:
            row["airlock/openssl"] = ours / floor
            for peer in PEERS[2:]:
                theirs = row.get(peer.name)
                if theirs:
                    row[f"airlock/{peer.name}"] = ours / theirs
        rows.append(row)
    return rows
