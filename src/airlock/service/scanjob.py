"""One background scan in its own process: `python -m airlock.service.scanjob REF [--policy FILE]`.

The report goes to stdout as JSON (exit 0, whatever the verdict); a scan that could not run exits 2
with one line on stderr. A process per scan keeps the parsers' CPU time and memory off the server's
interpreter, and a crash in one scan off the service.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from airlock.errors import AirlockError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m airlock.service.scanjob")
    parser.add_argument("reference")
    parser.add_argument("--policy", type=Path)
    args = parser.parse_args(argv)
    from airlock.pipeline import ScanOptions, scan
    from airlock.policy import default_policy, load_policy

    try:
        policy = load_policy(args.policy) if args.policy else default_policy()
        report = scan(args.reference, ScanOptions(policy=policy, download_progress=False))
    except AirlockError as exc:
        sys.stderr.write(f"{exc.diagnostics().strip().splitlines()[0]}\n")
        return 2
    sys.stdout.write(report.to_json() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
