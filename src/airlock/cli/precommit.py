"""`airlock precommit FILE…`: the pre-commit hook. Scans the model files among the files given.

pre-commit passes every added or changed file; which of them are models is decided from their bytes
(a pickle named `notes.txt` is scanned, a Python file named `model.bin` is not a model), so the hook
needs no list of extensions. Each model file is scanned on its own, in parallel; exit 1 when any fails.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from airlock.exitcodes import ExitCode


def register(commands: Any) -> None:
    p = commands.add_parser("precommit", help="scan the model files among FILE… (the pre-commit hook)")
    p.add_argument("files", nargs="*", type=Path, metavar="FILE", help="files of the commit (any kind)")
    p.add_argument(
        "--policy", type=Path, metavar="FILE", help="policy TOML (default: built-in, fails at high)"
    )
    p.add_argument("--fail-at", metavar="SEVERITY", help="override the policy's failing severity")
    p.add_argument("--jobs", "-j", type=int, metavar="N", help="scan N files at a time (default: up to 4)")
    p.set_defaults(handler=run)


def model_files(files: list[Path]) -> list[Path]:
    """The files whose bytes make them something airlock takes apart as a model (weights, graphs, archives)."""
    from airlock.artifacts import read_artifact
    from airlock.formats import CONTAINERS
    from airlock.inventory import is_model

    chosen = []
    for path in files:
        if not path.is_file() or path.is_symlink():
            continue
        artifact = read_artifact(path.name, path)
        if is_model(path.name, artifact.format) or artifact.format in CONTAINERS:
            chosen.append(path)
    return chosen


def run(args: argparse.Namespace) -> ExitCode:
    from dataclasses import replace

    from airlock.batch import scan_many
    from airlock.errors import PolicyError
    from airlock.findings import Severity
    from airlock.pipeline import ScanOptions
    from airlock.policy import default_policy, load_policy
    from airlock.render.batch import render_batch
    from airlock.render.interface import OutputFormat
    from airlock.rules import load_rules

    chosen = model_files(args.files)
    if not chosen:
        return ExitCode.PASSED
    policy = load_policy(args.policy, load_rules()) if args.policy else default_policy()
    if args.fail_at:
        try:
            policy = replace(policy, fail_at=Severity.parse(args.fail_at))
        except ValueError as exc:
            raise PolicyError("--fail-at", str(exc)) from None
    options = ScanOptions(policy=policy, download_progress=False)
    result = scan_many([str(p) for p in chosen], options, jobs=args.jobs)
    sys.stdout.write(render_batch(result, OutputFormat.TABLE, color=sys.stdout.isatty()))
    return result.exit_code
