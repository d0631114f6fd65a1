"""CPU seconds, score, suspect class and verdict of the data-mode behavioural scan per held-out model.

`python -m bench.backdoor_timing OUT.json [NAME-PART ...]` scans the held-out shapes
(`bench.backdoor_shapes`, trained on first use) one after another in this process, with one torch
thread, exactly as `bench.backdoor.scan_behaviour` does (every scanner, data mode, seed 0), and
prints one JSON line per model: CPU seconds (`time.process_time`, so a busy machine inflates it less
than wall-clock time), the 1-minute load average, the behaviour section's score, suspect and
candidate class, per-family gaps and steps, and whether the verdict failed. The first model also
pays the imports.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any


def measure(picks: list[str]) -> list[dict[str, Any]]:
    import torch

    from airlock.behavior.settings import BehaviorSettings
    from airlock.pipeline import ScanOptions, scan
    from bench.backdoor import SEED, THREADS
    from bench.backdoor_shapes import HELDOUT_BACKDOORED, HELDOUT_CLEAN, heldout_model

    torch.set_num_threads(THREADS)
    rows = []
    for held in (*HELDOUT_BACKDOORED, *HELDOUT_CLEAN):
        if picks and not any(p in held.model.name for p in picks):
            continue
        built = heldout_model(held)
        options = ScanOptions(
            scanners=None,
            use_cache=False,
            download_progress=False,
            behavior=BehaviorSettings(data=built.sample, seed=SEED),
        )
        start, cpu = time.perf_counter(), time.process_time()
        report = scan(str(built.folder), options)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        section = report.behavior or {}
        row = {
            "model": held.model.name,
            "target": held.model.attack.target if held.model.backdoored else None,
            "score": section.get("score"),
            "suspect": section.get("suspect_class"),
            "candidate": section.get("candidate_class"),
            "verdict_failed": not report.passed,
            "families": {f["family"]: [f["gap"], f["steps"]] for f in section.get("families", [])},
            "clustering": (section.get("activation_clustering") or {}).get("suspect_classes", []),
            "cpu_seconds": round(cpu, 1),
            "wall_seconds": round(wall, 1),
            "load": round(os.getloadavg()[0], 2),
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print("usage: python -m bench.backdoor_timing OUT.json [NAME-PART ...]", file=sys.stderr)
        sys.exit(2)
    Path(sys.argv[1]).write_text(json.dumps(measure(sys.argv[2:]), indent=1))
