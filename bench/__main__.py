"""`python -m bench [startup|throughput|fleet|…]`: run benchmarks, print a table, save JSON under bench/results/."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from bench import (
    allowlist,
    backdoor,
    behaviour_heldout,
    data_heldout,
    data_poisoning,
    data_tables,
    detection,
    fleet,
    fresh_detection,
    large_files,
    service,
    startup,
    throughput,
)

SUITES = {
    "startup": startup.run,
    "throughput": throughput.run,
    "detection": detection.run,
    "fresh_detection": fresh_detection.run,
    "large_files": large_files.run,
    "allowlist": allowlist.run,
    "data_poisoning": data_poisoning.run,
    "data_heldout": data_heldout.run,
    "backdoor": backdoor.run,
    "behaviour_heldout": behaviour_heldout.run,
    "data_tables": data_tables.run,
    "service": service.run,
    "fleet": fleet.run,
}


def main(argv: list[str]) -> int:
    names = argv or list(SUITES)
    unknown = [n for n in names if n not in SUITES]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(SUITES)}", file=sys.stderr)
        return 2
    root = Path(__file__).resolve().parent
    _compile_bytecode(root.parent)
    work = root / "results" / "work"
    work.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "machine": platform.platform(),
        "python": platform.python_version(),
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    out = root / "results" / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json"
    failed = []
    for name in names:
        print(f"\n## {name}", flush=True)
        try:
            rows = SUITES[name](work)
        except Exception as exc:  # noqa: BLE001  one broken suite must not lose the others' results
            failed.append(name)
            rows = [{"case": name, "error": f"{type(exc).__name__}: {exc}"}]
            traceback.print_exc()
        results[name] = rows
        for row in rows:
            print(_line(row), flush=True)
        out.write_text(json.dumps(results, indent=2))  # after every suite: a long run keeps what it measured
    print(f"\nsaved {out}")
    return 1 if failed else 0


def _compile_bytecode(repo: Path) -> None:
    """Time airlock as it runs when installed from a wheel: pip compiles bytecode at install time, and
    an editable install run with PYTHONDONTWRITEBYTECODE (set on this machine) would otherwise compile
    every module on every start (about 0.1 s). The peers come from wheels and have theirs."""
    folders = [str(repo / name) for name in ("src", "scanners", "signatures", "fixtures", "bench")]
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", *folders], stdout=subprocess.DEVNULL, check=False
    )


def _line(row: dict[str, Any]) -> str:
    """`case  key=value …`, seconds to 3 places and ratios to 2; `_detail` keys only on errors."""
    parts = []
    for key, value in row.items():
        if key == "case" or key.endswith(("_detail", "_samples")):
            continue
        if isinstance(value, float):
            if key.endswith("rate"):
                value = f"{value:.0%}"
            elif key.endswith("_mib"):
                value = f"{value:.0f}MiB"
            else:
                value = f"{value:.2f}x" if "/" in key or key == "ratio" else f"{value:.3f}s"
        parts.append(f"{key}={value}")
    lists = [
        f"    {key}: {', '.join(value)}" for key, value in row.items() if key.endswith("_samples") and value
    ]
    return "\n".join([f"{row['case']:<40} " + "  ".join(parts), *lists])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
