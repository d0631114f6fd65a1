"""`airlock scan REF…`: fetch, take apart, judge, report. Exit 0 pass, 1 fail, 2 could not scan.

Several references (or `--from FILE`) are a batch: scanned in parallel processes, one combined report,
the worst exit code.
"""

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
        "scan",
        help="scan a model (hf://ORG/NAME[@REV], ORG/NAME[@REV], a folder or a file)",
        description="Scan one model, or several in parallel with one combined report and the worst exit code.",
    )
    p.add_argument(
        "reference",
        metavar="REF",
        nargs="*",
        help="hf://ORG/NAME[@REVISION], ORG/NAME[@REVISION], a folder or a file (several: a batch)",
    )
    p.add_argument(
        "--from",
        dest="from_file",
        type=Path,
        metavar="FILE",
        help="read more references from FILE, one per line (# comments; - for stdin)",
    )
    p.add_argument(
        "--jobs",
        "-j",
        type=int,
        metavar="N",
        help="batch: scan N models at a time, each in its own process (default: up to 4, one per core)",
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
    references = list(args.reference)
    if args.from_file is not None:
        from airlock.batch import read_references

        references += read_references(args.from_file)
    if not references:
        from airlock.errors import AirlockError

        raise AirlockError("no model to scan: give one or more REF, or --from FILE")
    if len(references) > 1 or args.from_file is not None:
        return _run_batch(args, references, policy)
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
        snapshot = resolve(references[0], options)
        report = scan_snapshot(snapshot, options)
    from airlock.cli._output import emit

    facts = None
    if args.format.is_bom:
        from airlock.modelcard import gather

        facts = gather(snapshot)
    renderer = args.format.renderer(color=args.output is None and sys.stdout.isatty(), facts=facts)
    emit(renderer.render(report), args.output)
    return ExitCode.PASSED if report.passed else ExitCode.FAILED


def _run_batch(args: argparse.Namespace, references: list[str], policy: Any) -> ExitCode:
    from airlock.batch import BatchItem, scan_many
    from airlock.cli._output import emit
    from airlock.errors import AirlockError
    from airlock.pipeline import ScanOptions
    from airlock.render.batch import render_batch

    if args.format.is_bom:
        raise AirlockError(f"--format {args.format} describes one model: scan the references one at a time")
    if args.jobs is not None and args.jobs < 1:
        raise AirlockError("--jobs must be at least 1")
    options = ScanOptions(
        policy=policy,
        include=tuple(args.include),
        exclude=tuple(args.exclude),
        use_cache=not args.no_cache,
        scanners=args.scanner,
        download_progress=False,
        behavior=_behavior.settings(args, None),
    )
    quiet = args.no_progress

    def done(item: BatchItem) -> None:
        if not quiet:
            why = f": {item.error}" if item.error else ""
            print(f"airlock: {item.decision:<5} {item.reference}{why}", file=sys.stderr, flush=True)

    result = scan_many(references, options, jobs=args.jobs, on_done=done)
    emit(render_batch(result, args.format, color=args.output is None and sys.stdout.isatty()), args.output)
    return result.exit_code


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
