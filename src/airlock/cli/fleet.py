"""`airlock fleet REF…`: scan many models (locally or on Ray), record them in a store, report the fleet.

Exit 0 when every model passed, 1 when any failed its policy, 2 when any could not be scanned.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from airlock.cli import _behavior
from airlock.exitcodes import ExitCode
from airlock.render.interface import OutputFormat, add_format_argument


def register(commands: Any) -> None:
    p = commands.add_parser("fleet", help="scan many models on a local pool or a Ray cluster, resumably")
    p.add_argument("reference", metavar="REF", nargs="*", help="model references (as for `airlock scan`)")
    p.add_argument("--from", dest="from_file", type=Path, metavar="FILE", help="one reference per line")
    p.add_argument(
        "--hub-query",
        metavar="QUERY",
        help="models listed by the Hub: author:NAME (an organisation or user) or a search term; pinned to commits",
    )
    p.add_argument("--limit", type=int, default=100, help="at most this many models from --hub-query (100)")
    p.add_argument("--executor", choices=("local", "ray"), default="local", help="where scans run (local)")
    p.add_argument("--address", metavar="ADDR", help="an existing Ray cluster (auto, ray://HOST:PORT)")
    p.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="local processes, or CPUs of a local Ray"
    )
    p.add_argument(
        "--store", default=None, metavar="URL", help="results store: a SQLite path, sqlite:///PATH or "
        "postgresql://… (default: fleet.sqlite3 in airlock's cache folder)"
    )  # fmt: skip
    p.add_argument("--policy", type=Path, metavar="FILE", help="policy TOML (default: built-in)")
    add_format_argument(
        p, (OutputFormat.MARKDOWN, OutputFormat.JSON, OutputFormat.HTML), default=OutputFormat.MARKDOWN
    )
    p.add_argument(
        "--output", "-o", type=Path, metavar="FILE", help="write the fleet report here, not stdout"
    )
    p.add_argument("--export", type=Path, metavar="FILE", help="one row per model: FILE.csv or FILE.parquet")
    p.add_argument(
        "--summary", type=Path, metavar="FILE", help="progress as JSON, rewritten after each model"
    )
    p.add_argument("--timeout", type=float, default=600.0, metavar="SECONDS", help="per scan (600)")
    p.add_argument("--retries", type=int, default=3, help="retries of a transient download error (3)")
    p.add_argument("--max-retries", type=int, default=2, help="re-runs of a scan whose worker died (2)")
    p.add_argument("--num-cpus", type=float, default=1.0, help="Ray: CPUs per scan (1)")
    p.add_argument("--memory", type=float, metavar="GIB", help="Ray: memory per scan in GiB")
    p.add_argument(
        "--num-gpus", type=float, metavar="N", help="Ray: GPUs per scan (default: 1 with --behavior if the cluster has GPUs)"
    )  # fmt: skip
    p.add_argument(
        "--cache-dir", metavar="DIR", help="download cache on each node (default: the node's HF cache)"
    )
    p.add_argument(
        "--keep-downloads", action="store_true", help="keep each model in the cache after its scan"
    )
    p.add_argument(
        "--full-download", action="store_true", help="no header-first triage: download every model"
    )
    _behavior.add_arguments(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> ExitCode:
    from functools import partial

    from airlock import config
    from airlock.errors import AirlockError
    from airlock.fleet import refs
    from airlock.fleet import report as fleet_report
    from airlock.fleet.executors import Limits, Resources, make_executor
    from airlock.fleet.jobs import Job
    from airlock.fleet.runner import run_fleet
    from airlock.fleet.store import Key, open_store
    from airlock.policy import default_policy, load_policy
    from airlock.rules import load_rules

    rules = load_rules()
    policy = load_policy(args.policy, rules) if args.policy else default_policy()
    behavior = _behavior.settings(args, None)
    if args.timeout <= 0 or args.retries < 0 or args.max_retries < 0 or args.workers < 1:
        raise AirlockError(
            "--timeout and --workers must be positive, --retries and --max-retries not negative"
        )
    references = refs.collect(args.reference, args.from_file, args.hub_query, limit=args.limit)
    num_gpus = args.num_gpus if args.num_gpus is not None else (1.0 if behavior is not None else 0.0)
    resources = Resources(
        num_cpus=args.num_cpus,
        memory_bytes=int(args.memory * (1 << 30)) if args.memory else None,
        num_gpus=num_gpus,
    )
    executor = make_executor(
        args.executor,
        workers=args.workers,
        limits=Limits(timeout_s=args.timeout, max_retries=args.max_retries),
        resources=resources,
        address=args.address,
    )
    make_job = partial(
        Job,
        policy=policy,
        endpoint=config.hf_endpoint(),
        behavior=behavior,
        cache_dir=args.cache_dir,
        keep_downloads=args.keep_downloads,
        triage=not args.full_download,
        retries=args.retries,
    )
    key = Key(rules.version, policy.digest)
    store = open_store(args.store or config.cache_dir() / "fleet.sqlite3")
    try:
        if args.executor == "ray" and behavior is not None and args.num_gpus is None:
            _fit_gpus(executor, resources)
        result = run_fleet(references, make_job, executor, store, key, summary=args.summary)
        document = fleet_report.build(store, key, result.references, result.run_id)
    finally:
        executor.close()
        store.close()
    if args.export is not None:
        fleet_report.export(document, args.export)
    from airlock.cli._output import emit

    emit(fleet_report.render(document, args.format), args.output, "fleet report")
    return ExitCode(fleet_report.exit_code(document))


def _fit_gpus(executor: Any, resources: Any) -> None:
    """With --behavior and no --num-gpus, ask for a GPU only where the cluster has one (else CPU scans)."""
    ray = executor.connect()
    if not ray.cluster_resources().get("GPU"):
        from dataclasses import replace

        executor.resources = replace(resources, num_gpus=0.0)
        print("airlock: fleet: no GPU in the Ray cluster; behavioural scans run on CPUs", file=sys.stderr)
