"""One background scan in its own process: `python -m airlock.service.scanjob REF [--policy FILE]`.

REF is what the pipeline scans, or an MLflow model version (`models:/NAME/VERSION`), downloaded with
MLflow's client from `MLFLOW_TRACKING_URI` into a temporary folder that is gone after the scan.

The report goes to stdout as JSON (exit 0, whatever the verdict); a scan that could not run exits 2
with one line on stderr. A process per scan keeps the parsers' CPU time and memory off the server's
interpreter, and a crash in one scan off the service.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from airlock.errors import AirlockError
from airlock.sources.mlflow import is_model_version

if TYPE_CHECKING:
    from airlock.pipeline import ScanOptions
    from airlock.report import Report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m airlock.service.scanjob")
    parser.add_argument("reference")
    parser.add_argument("--policy", type=Path)
    args = parser.parse_args(argv)
    from airlock.pipeline import ScanOptions, scan
    from airlock.policy import default_policy, load_policy

    try:
        policy = load_policy(args.policy) if args.policy else default_policy()
        options = ScanOptions(policy=policy, download_progress=False)
        if is_model_version(args.reference):  # an MLflow registry webhook queued it
            report = _scan_mlflow(args.reference, options)
        else:
            report = scan(args.reference, options)
    except AirlockError as exc:
        sys.stderr.write(f"{exc.diagnostics().strip().splitlines()[0]}\n")
        return 2
    sys.stdout.write(report.to_json() + "\n")
    return 0


def _scan_mlflow(reference: str, options: ScanOptions) -> Report:
    from airlock.pipeline import scan_snapshot
    from airlock.sources.mlflow import fetch_mlflow

    with tempfile.TemporaryDirectory(prefix="airlock-mlflow-") as folder:
        return scan_snapshot(fetch_mlflow(reference, Path(folder)), options)


if __name__ == "__main__":
    sys.exit(main())
