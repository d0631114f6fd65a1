"""The scan pipeline: reference → snapshot → artifacts → scanners → policy → report.

This is the library entry point (`scan`); the CLI (and `airlock sign`, `airlock data --model`) are
thin layers over it. The scanners run on the one runner, `airlock.scanning.run_scanners`: the static
ones first, then (with `--behavior`) the opt-in behavioural ones the registry names.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from airlock import config
from airlock.artifacts import ProgressCallback, collect, file_size
from airlock.behavior.settings import BehaviorSettings
from airlock.policy import Policy, default_policy
from airlock.report import Report, build_report
from airlock.rules import load_rules
from airlock.scanning import NOTHING_TO_READ, CheckResult, CheckStatus, ScanContext, ScanOutcome, run_scanners
from airlock.sources.interface import Snapshot, parse_reference

if TYPE_CHECKING:
    from airlock.scanners import Registered


@dataclass(frozen=True)
class ScanOptions:
    policy: Policy = field(default_factory=default_policy)
    include: Sequence[str] = ()
    exclude: Sequence[str] = ()
    use_cache: bool = True
    scanners: Sequence[str] | None = None  # None = every registered scanner
    download_progress: bool = True
    hash_progress: Callable[[int], ProgressCallback | None] | None = None  # total bytes -> per-chunk callback
    hf_cache_dir: Path | None = None
    behavior: BehaviorSettings | None = None  # None = static scan only (behavioural scanners are opt-in)


def resolve(reference: str, options: ScanOptions) -> Snapshot:
    """Materialise the snapshot a reference names (downloading it if it is on the Hub)."""
    ref = parse_reference(reference)
    if ref.kind == "local":
        from airlock.sources.local import open_local

        return open_local(ref, include=options.include, exclude=options.exclude)
    from airlock.sources.hub import fetch_hub

    return fetch_hub(
        ref,
        include=options.include,
        exclude=options.exclude,
        cache_dir=options.hf_cache_dir,
        progress=options.download_progress,
    )


def selected_entries(names: Sequence[str] | None, *, behavior: bool = False) -> list[Registered]:
    """The named scanners, or every registered one (the opt-in behavioural ones only if `behavior`)."""
    from airlock.scanners import ENTRIES, entry

    if names is None:
        return [registered for registered in ENTRIES if behavior or not registered.opt_in]
    return [entry(name) for name in names]


def scan(reference: str, options: ScanOptions | None = None) -> Report:
    options = options or ScanOptions()
    snapshot = resolve(reference, options)
    return scan_snapshot(snapshot, options)


def scan_snapshot(snapshot: Snapshot, options: ScanOptions) -> Report:
    total = sum(file_size(loc) for _, loc in snapshot.files)
    progress = options.hash_progress(total) if options.hash_progress is not None else None
    rules = load_rules()
    entries = selected_entries(options.scanners, behavior=options.behavior is not None)
    early = {e.name: e.load()() for e in entries if e.prepares}
    names = [name for name, _ in snapshot.files]
    for scanner in early.values():
        scanner.warm_up(names)
    artifacts = collect(snapshot.files, progress=progress)
    present = {a.format for a in artifacts}
    idle = {e.name for e in entries if e.reads is not None and not e.reads & present}  # never even imported
    static = [early.get(e.name) or e.load()() for e in entries if not e.opt_in and e.name not in idle]
    behavioural = [
        e.load()() for e in entries if e.opt_in
    ]  # the registry says which scanners probe behaviour
    ctx = ScanContext(
        rules=rules,
        snapshot=snapshot,
        artifacts=artifacts,
        trusted_publishers=options.policy.trusted_publishers,
        blocked_publishers=options.policy.blocked_publishers,
        licenses=options.policy.licenses,
    )
    cache = None
    if options.use_cache:
        from airlock.cache import SqliteCache  # sqlite3 is only imported when the cache is used

        cache = SqliteCache(config.cache_dir() / "results.sqlite3", rules.version)
    try:
        outcome = run_scanners(static, ctx, cache)
    finally:
        if cache is not None:
            cache.close()
    ran = {check.scanner: check for check in outcome.checks}
    checks = tuple(
        ran.get(e.name) or CheckResult(e.name, CheckStatus.SKIPPED, 0.0, NOTHING_TO_READ)
        for e in entries
        if e.name in ran or e.name in idle
    )  # registry order, idle scanners included
    outcome = ScanOutcome(checks=checks, findings=outcome.findings)
    policy, behavior = options.policy, None
    if behavioural:  # after the static scan, which decides whether pickle weights may be read
        from airlock.behavior.plugin import run_behavioural

        outcome, behavior, policy = run_behavioural(
            behavioural, ctx, outcome, options.behavior or BehaviorSettings(), policy
        )
    extra: dict[str, object] = {}
    if snapshot.hub is not None:
        extra["repo_id"] = snapshot.hub.repo_id
        extra["requested_revision"] = snapshot.reference.revision
    if snapshot.ignored:
        extra["ignored"] = list(snapshot.ignored)
    return build_report(
        reference=snapshot.reference.raw,
        source=snapshot.source,
        revision=snapshot.revision,
        extra=extra,
        artifacts=artifacts,
        outcome=outcome,
        policy=policy,
        signatures_version=rules.version,
        behavior=behavior,
    )
