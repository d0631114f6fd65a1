"""The hash cache: reused only for files whose size, mtime and ctime are unchanged since they were hashed."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

from airlock.allowlist.hashcache import HashCache, Stamp, hash_files


def _files(root: Path) -> list[tuple[str, Path]]:
    return sorted((p.relative_to(root).as_posix(), p) for p in root.rglob("*") if p.is_file())


def test_hashes_match_hashlib_with_and_without_threads(tmp_path: Path) -> None:
    for i in range(5):
        (tmp_path / f"f{i}.bin").write_bytes(os.urandom(1 << 20) * (i + 1) + b"tail")
    expected = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in tmp_path.iterdir()}
    for workers in (1, 2, 4):
        got = hash_files(_files(tmp_path), workers=workers)
        assert {k: v.sha256 for k, v in got.items()} == expected
        assert got["f0.bin"].size == (1 << 20) + 4


def _poison(cache: HashCache, path: Path) -> None:
    """Plant a wrong hash for `path` under its current stamp: only a cache hit would return it."""
    cache.put(Stamp.of(path.stat()), "0" * 64, time.time_ns() + cache.racy_ns)
    cache.commit()


def test_an_unchanged_file_is_served_from_the_cache(tmp_path: Path) -> None:
    model = tmp_path / "m"
    model.mkdir()
    (model / "w.bin").write_bytes(b"weights")
    cache = HashCache(tmp_path / "hashes.sqlite3", racy_ns=0)
    _poison(cache, model / "w.bin")
    assert hash_files(_files(model), cache)["w.bin"].sha256 == "0" * 64


def test_a_same_size_edit_with_the_mtime_put_back_is_still_seen(tmp_path: Path) -> None:
    model = tmp_path / "m"
    model.mkdir()
    weights = model / "w.bin"
    weights.write_bytes(b"weights-A")
    cache = HashCache(tmp_path / "hashes.sqlite3", racy_ns=0)
    before = weights.stat()
    hash_files(_files(model), cache)
    assert cache.get(Stamp.of(before)) == hashlib.sha256(b"weights-A").hexdigest()  # it was cached
    time.sleep(0.05)  # past the file system's timestamp granularity
    weights.write_bytes(b"weights-B")
    os.utime(weights, ns=(before.st_atime_ns, before.st_mtime_ns))  # what `touch -r` would do
    assert weights.stat().st_mtime_ns == before.st_mtime_ns and weights.stat().st_size == before.st_size
    assert hash_files(_files(model), cache)["w.bin"].sha256 == hashlib.sha256(b"weights-B").hexdigest()


def test_a_file_hashed_within_the_racy_window_is_not_cached(tmp_path: Path) -> None:
    (tmp_path / "w.bin").write_bytes(b"fresh")
    cache = HashCache(tmp_path / "hashes.sqlite3")  # default window: 2 s
    hash_files([("w.bin", tmp_path / "w.bin")], cache)
    assert cache.get(Stamp.of((tmp_path / "w.bin").stat())) is None


def test_a_broken_cache_degrades_to_hashing(tmp_path: Path) -> None:
    (tmp_path / "hashes.sqlite3").mkdir()  # not a database
    (tmp_path / "w.bin").write_bytes(b"x")
    cache = HashCache(tmp_path / "hashes.sqlite3")
    assert (
        hash_files([("w.bin", tmp_path / "w.bin")], cache)["w.bin"].sha256 == hashlib.sha256(b"x").hexdigest()
    )
