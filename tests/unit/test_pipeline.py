"""The scan pipeline's own behaviour (beyond what the scanners and sources tests cover)."""

from __future__ import annotations

from pathlib import Path

import pytest

from airlock import pipeline
from airlock.pipeline import ScanOptions, scan


def test_scanners_prepare_before_the_files_are_hashed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """modelscan's worker is started before hashing when a file it may read is present, not otherwise."""
    import airlock.scanners.modelscan.worker as workers

    seen: list[bool] = []
    real_collect = pipeline.collect

    def collect(*args, **kwargs):
        seen.append(workers._idle is not None and workers._idle.alive())
        return real_collect(*args, **kwargs)

    monkeypatch.setattr(pipeline, "collect", collect)
    (tmp_path / "model.safetensors").write_bytes(b"\x02\0\0\0\0\0\0\0{}")
    (tmp_path / "config.json").write_text("{}")
    workers.stop_idle()
    scan(str(tmp_path), ScanOptions(use_cache=False))
    (tmp_path / "weights.bin").write_bytes(b"\0" * 4096)
    scan(str(tmp_path), ScanOptions(use_cache=False))
    assert seen == [False, True]


def test_scanners_that_work_elsewhere_get_every_uncached_artifact_before_any_scanner_runs(
    tmp_path: Path,
) -> None:
    from collections.abc import Iterator, Sequence
    from typing import ClassVar

    from airlock.artifacts import Artifact, collect
    from airlock.cache import SqliteCache
    from airlock.findings import Finding
    from airlock.formats import Format
    from airlock.rules import load_rules
    from airlock.scanning import ArtifactScanner, ScanContext, run_scanners
    from airlock.sources.interface import Snapshot, parse_reference

    log: list[tuple[str, tuple[str, ...]]] = []

    class Recorder(ArtifactScanner):
        name = "pickle_opcodes"
        version = "test"
        formats: ClassVar[frozenset[Format]] = frozenset({Format.TEXT})
        rules: ClassVar[frozenset[str]] = frozenset()

        def start(self, artifacts: Sequence[Artifact]) -> None:
            log.append(("start", tuple(a.path for a in artifacts)))

        def scan(self, artifact: Artifact, ctx: ScanContext) -> Iterator[Finding]:
            log.append(("scan", (artifact.path,)))
            return iter(())

    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text(f"plain text {name}\n")
    (tmp_path / "c.json").write_text("{}")
    files = [(p.name, p) for p in sorted(tmp_path.iterdir())]
    artifacts = collect(files)
    rules = load_rules()
    ctx = ScanContext(
        rules=rules,
        snapshot=Snapshot(parse_reference(str(tmp_path)), "local", tmp_path, tuple(files)),
        artifacts=artifacts,
    )
    cache = SqliteCache(tmp_path.parent / f"{tmp_path.name}-cache.sqlite3", rules.version)
    cache.put(next(a.sha256 for a in artifacts if a.path == "a.txt"), "pickle_opcodes", "test", [])

    class Other(Recorder):
        name = "numpy_arrays"

    run_scanners([Recorder(), Other()], ctx, cache)  # Other has nothing cached: it is started on both files
    assert log == [
        ("start", ("b.txt",)),
        ("start", ("a.txt", "b.txt")),
        ("scan", ("b.txt",)),
        ("scan", ("a.txt",)),
        ("scan", ("b.txt",)),
    ]
