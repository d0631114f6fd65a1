"""Start-up cost: `--help` and a static scan of a small file, airlock beside modelscan.

A CI job vetting a repo of hundreds of files pays this per call. airlock's target is well under
0.5 s for both (heavy libraries load only inside the checks that need them).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

from bench._timing import time_command
from fixtures import pickles


def run(work: Path, runs: int = 7) -> list[dict[str, Any]]:
    bindir = Path(sys.executable).parent
    airlock = str(bindir / "airlock")
    evil = pickles.os_system_canary(work)
    rows: list[dict[str, Any]] = [
        {"case": "airlock --help", "seconds": time_command([airlock, "--help"], runs=runs)},
        {
            "case": "airlock scan small pickle",
            "seconds": time_command(
                [airlock, "scan", str(evil), "--no-cache", "--format", "json"], runs=runs, ok_codes=(1,)
            ),
        },
    ]
    modelscan = shutil.which("modelscan", path=str(bindir))
    if modelscan:
        peers = [
            {"case": "modelscan --help", "seconds": time_command([modelscan, "--help"], runs=runs)},
            {
                "case": "modelscan -p small pickle",
                "seconds": time_command([modelscan, "-p", str(evil)], runs=runs, ok_codes=(0, 1, 2, 3, 4)),
            },
        ]
        for ours, theirs in zip(rows, peers, strict=True):
            ours["ratio"] = ours["seconds"] / theirs["seconds"]  # airlock time as a share of modelscan's
            theirs["ratio"] = 1.0
        rows += peers
    return rows
