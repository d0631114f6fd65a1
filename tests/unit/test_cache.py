"""Result cache: a re-scan of unchanged bytes reuses findings; --no-cache and damage fall back to scanning."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from airlock import config
from airlock.pipeline import ScanOptions, scan
from fixtures import pickles


def _pickle_check(report):
    return next(c for c in report.checks if c.scanner == "pickle_opcodes")


def test_second_scan_comes_from_the_cache_with_the_same_findings(generated, tmp_path: Path) -> None:
    evil = generated(pickles.os_system_canary)
    first = scan(str(evil))
    second = scan(str(evil))
    assert _pickle_check(second).reason == "1 of 1 from cache"
    assert [f.to_dict() for f in first.findings] == [f.to_dict() for f in second.findings]


def test_cached_findings_follow_the_bytes_to_a_new_path(generated, tmp_path: Path) -> None:
    evil = generated(pickles.os_system_canary)
    scan(str(evil))
    moved = tmp_path / "renamed.bin"
    shutil.copy(evil, moved)
    report = scan(str(moved))
    assert _pickle_check(report).reason == "1 of 1 from cache"
    assert {f.artifact for f in report.findings if f.rule == "AIR201"} == {"renamed.bin"}
    assert [f.location for f in report.findings if f.rule == "AIR201"] == ["renamed.bin@opcode:2"]


def test_no_cache_rescans(generated) -> None:
    evil = generated(pickles.os_system_canary)
    scan(str(evil))
    report = scan(str(evil), ScanOptions(use_cache=False))
    assert _pickle_check(report).reason is None


def test_a_damaged_cache_database_does_not_break_the_scan(generated, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AIRLOCK_CACHE_DIR", str(tmp_path / "c"))
    (tmp_path / "c").mkdir()
    (config.cache_dir() / "results.sqlite3").write_bytes(b"this is not a database" * 100)
    report = scan(str(generated(pickles.os_system_canary)))
    assert [f.rule for f in report.findings if f.rule == "AIR201"] == ["AIR201"]


def test_a_poisoned_cache_row_is_ignored(generated, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AIRLOCK_CACHE_DIR", str(tmp_path / "c2"))
    evil = generated(pickles.os_system_canary)
    scan(str(evil))
    db = sqlite3.connect(config.cache_dir() / "results.sqlite3")
    db.execute("UPDATE results SET findings = 'not json'")
    db.commit()
    db.close()
    report = scan(str(evil))
    assert [f.rule for f in report.findings if f.rule == "AIR201"] == ["AIR201"]
