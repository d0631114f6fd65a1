"""`airlock scan REF`: fetch, take apart, judge, report. Exit 0 pass, 1 fail, 2 could not scan."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from airlock.cli import _behavior
from airlock.exitcodes import ExitCode
from airlock.render.interface import add_format_argument


def register(commands: Any) -> None:
    p = commands.add_parser(
        "scan", help="scan a model (hf://ORG/NAME[@REV], ORG/NAME[@REV], a folder or a file)"
    )
    p.add_argument(
        "reference", metavar="REF", help="hf://ORG/NAME[@REVISION], ORG/NAME[@REVISION], a folder or a file"
    )
    p.add_argument(
        "--policy", type=Path, metavar="FILE", help="policy TOML (default: built-in, fails at high)"
    )
    p.add_argument("--fail-at", metavar="SEVERITY", help="override the policy's failing severity")
    add_format_argument(p)
    p.add_argument(
        "--output", "-o", type=Path, metavar="FILE", help="write the report here instead of stdout"
    )
    p.add_argument(
        "--include", action="append", default=[], metavar="GLOB", help="only files matching (repeatable)"
    )
    p.add_argument(
        "--exclude", action="append", default=[], metavar="GLOB", help="skip files matching (repeatable)"
    )
    p.add_argument("--scanner", action="append", metavar="NAME", help="run only these scanners (repeatable)")
    p.add_argument("--no-cache", action="store_true", help="ignore and do not fill the result cache")
    p.add_argument("--no-progress", action="store_true", help="no progress bars on stderr")
    _behavior.add_arguments(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> ExitCode:
    from airlock.findings import Severity
    from airlock.pipeline import ScanOptions, resolve, scan_snapshot
    from airlock.policy import Policy, default_policy, load_policy
    from airlock.rules import load_rules

    policy: Policy = load_policy(args.policy, load_rules()) if args.policy else default_policy()
    if args.fail_at:
        from dataclasses import replace

        from airlock.errors import PolicyError

        try:
            policy = replace(policy, fail_at=Severity.parse(args.fail_at))
        except ValueError as exc:
            raise PolicyError("--fail-at", str(exc)) from None
    show_progress = not args.no_progress and sys.stderr.isatty()
    with (
        _hash_progress(show_progress) as progress,
        _behavior.progress(show_progress and args.behavior) as bars,
    ):
        options = ScanOptions(
            policy=policy,
            include=tuple(args.include),
            exclude=tuple(args.exclude),
            use_cache=not args.no_cache,
            scanners=args.scanner,
            download_progress=not args.no_progress,
            hash_progress=progress,
            behavior=_behavior.settings(args, bars),
        )
        snapshot = resolve(args.reference, options)
        report = scan_snapshot(snapshot, options)
    from airlock.cli._output import emit

    facts = None
    if args.format.is_bom:
        from airlock.modelcard import gather

        facts = gather(snapshot)
    renderer = args.format.renderer(color=args.output is None and sys.stdout.isatty(), facts=facts)
    emit(renderer.render(report), args.output)
    return ExitCode.PASSED if report.passed else ExitCode.FAILED


@contextmanager
def _hash_progress(enabled: bool) -> Iterator[Callable[[int], Callable[[int], None] | None] | None]:
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    with Progress(
        TextColumn("hashing"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:

        def start(total: int) -> Callable[[int], None] | None:
            if total < (64 << 20):
                return None
            task = bar.add_task("hash", total=total)
            return lambda n: bar.advance(task, n)

        yield start
