"""`python -m bench [startup|throughput]`: run benchmarks, print a table, save JSON under bench/results/."""

from __future__ import annotations

import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

from bench import startup, throughput

SUITES = {"startup": startup.run, "throughput": throughput.run}


def main(argv: list[str]) -> int:
    names = argv or list(SUITES)
    unknown = [n for n in names if n not in SUITES]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(SUITES)}", file=sys.stderr)
        return 2
    root = Path(__file__).resolve().parent
    work = root / "results" / "work"
    work.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"machine": platform.platform(), "python": platform.python_version(),
                               "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    for name in names:
        rows = SUITES[name](work)
        results[name] = rows
        print(f"\n## {name}")
        for row in rows:
            extra = f"  ×{row['ratio']:.2f}" if "ratio" in row else ""
            value = f"{row['seconds']:.3f} s" if "seconds" in row else row.get("skipped", "")
            print(f"{row['case']:<45} {value}{extra}")
    out = root / "results" / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(results, indent=2))
    print(f"\nsaved {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
