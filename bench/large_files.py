"""Large checkpoints: scan time as a ratio to `openssl dgst -sha256` of the same bytes, and to each peer.

Inputs (generated once into bench/results/work): a ~1 GiB safetensors file, a ~1 GiB PyTorch zip,
and a legacy (pre-zip) PyTorch file whose pickle is large (many small tensors). The hashing floor
is openssl: coreutils sha256sum is about 3x slower here and is not the floor.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench._timing import time_command
from bench.peers import PEERS, Outcome, Peer, selected
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


def _timed(peer: Peer, path: Path, repeats: int) -> tuple[Outcome, float]:
    """A tool's outcome and its median wall time; a run over 5 s is not repeated (ModelAudit takes minutes)."""
    samples: list[float] = []
    outcome = None
    for _ in range(repeats):
        start = time.perf_counter()
        outcome = peer.run(path, timeout=300)
        samples.append(time.perf_counter() - start)
        if samples[-1] > 5 or outcome.error:
            break
    assert outcome is not None
    return outcome, statistics.median(samples)


def pickle_heavy_vocabulary(path: Path, words: int = 400_000) -> Path:
    """A plain pickled vocabulary (word -> id), as old NLP repos ship it: every peer reads all of it."""
    if path.exists():
        return path
    import pickle
    import random

    rng = random.Random(0)
    vocab = {f"w{i}_" + "".join(rng.choice("abcdefghij") for _ in range(6)): i for i in range(words)}
    path.write_bytes(pickle.dumps(vocab, protocol=4))
    return path


def _own_check_seconds(path: Path, scanner: str) -> float | None:
    """How long airlock's own check took inside the scan (the report's per-check time)."""
    airlock = shutil.which("airlock", path=str(Path(sys.executable).parent))
    if airlock is None:
        return None
    done = subprocess.run(
        [airlock, "scan", str(path), "--no-cache", "--no-progress", "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        checks = json.loads(done.stdout)["checks"]
    except (ValueError, KeyError):
        return None
    return next((c["seconds"] for c in checks if c["scanner"] == scanner), None)


_PEAK = (
    "import resource, subprocess, sys\n"
    "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def _peak_mib(argv: list[str]) -> float:
    """The largest resident set of a command and the processes it waited for (its modelscan worker)."""
    done = subprocess.run([sys.executable, "-c", _PEAK, *argv], capture_output=True, text=True, check=True)
    return int(done.stdout.strip()) / 1024


def run(work: Path, runs: int = 3) -> list[dict[str, Any]]:
    openssl = shutil.which("openssl")
    inputs = {
        "safetensors 1 GiB": large_safetensors(work / "large.safetensors"),
        "pytorch zip 1 GiB": large_torch_zip(work / "large-zip.pt"),
        "legacy pytorch, 100k-tensor pickle": pickle_heavy_legacy(work / "pickle-heavy.pt"),
        "pickled vocabulary, 400k entries": pickle_heavy_vocabulary(work / "vocab.pkl"),
    }
    pickle_heavy = {"legacy pytorch, 100k-tensor pickle", "pickled vocabulary, 400k entries"}
    rows: list[dict[str, Any]] = []
    for label, path in inputs.items():
        floor = (
            time_command([openssl, "dgst", "-sha256", str(path)], runs=max(runs, 3))
            if openssl
            else float("nan")
        )
        row: dict[str, Any] = {"case": label, "bytes": path.stat().st_size, "openssl": floor}
        for peer in selected():
            if peer.name == "airlock@medium":
                continue
            outcome, seconds = _timed(peer, path, repeats=max(runs, 3))
            row[peer.name] = seconds if not outcome.error else None
            row[f"{peer.name}_detail"] = outcome.detail
        ours = row.get("airlock")
        if ours:
            row["airlock/openssl"] = ours / floor
            for peer in PEERS[2:]:
                theirs = row.get(peer.name)
                if theirs:
                    row[f"airlock/{peer.name}"] = ours / theirs
        airlock = shutil.which("airlock", path=str(Path(sys.executable).parent))
        if airlock:  # memory must not grow with the file: every byte streams through one hashing pass
            row["airlock_peak_mib"] = _peak_mib(
                [airlock, "scan", str(path), "--no-cache", "--no-progress", "--format", "json"]
            )
        if (
            label in pickle_heavy
        ):  # airlock's own pickle analysis, apart from the modelscan second opinion it also runs
            own = _own_check_seconds(path, "pickle_opcodes")
            row["airlock_pickle_check"] = own
            for peer in PEERS[2:]:
                theirs = row.get(peer.name)
                if own and theirs:
                    row[f"airlock_pickle_check/{peer.name}"] = own / theirs
        rows.append(row)
    return rows
