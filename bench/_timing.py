"""Wall-clock timing of whole commands, median of several runs."""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Sequence


def time_command(argv: Sequence[str], *, runs: int = 5, ok_codes: Sequence[int] = (0,)) -> float:
    """Median wall seconds of `argv` over `runs` runs (after one warm-up run)."""
    samples: list[float] = []
    for i in range(runs + 1):
        start = time.perf_counter()
        done = subprocess.run(list(argv), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
        elapsed = time.perf_counter() - start
        if done.returncode not in ok_codes:
            raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.decode()[-300:]}")
        if i:
            samples.append(elapsed)
    return statistics.median(samples)
