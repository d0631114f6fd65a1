"""File hashing for verify: sha256 of every file on a thread pool, with a cache for unchanged files.

The cache maps a file's identity (device, inode) to its sha256, valid only while size, mtime_ns and
ctime_ns are all unchanged. mtime alone is not enough: anyone who can write the file can also set
its mtime back (`touch -r`), but the kernel moves ctime on every write and every mtime change, and
no system call sets it. A file whose timestamps are within `racy_ns` of the moment it was read is
hashed but not cached: a write in the same clock tick would not move its timestamps (git's "racy
clean" problem). The path is not part of the key, so a model folder that moved stays cached.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from airlock.artifacts import file_size
from airlock.errors import ArtifactError

log = logging.getLogger(__name__)

CHUNK = 1 << 20
RACY_NS = 2_000_000_000
_SCHEMA = """
CREATE TABLE IF NOT EXISTS hashes (
    file TEXT PRIMARY KEY,          -- "<st_dev>:<st_ino>"
    size INTEGER NOT NULL,
    mtime_ns TEXT NOT NULL,
    ctime_ns TEXT NOT NULL,
    sha256 TEXT NOT NULL
)
"""


@dataclass(frozen=True, slots=True)
class Stamp:
    """What must be unchanged for a cached hash to be reused."""

    file: str
    size: int
    mtime_ns: int
    ctime_ns: int

    @classmethod
    def of(cls, st: os.stat_result) -> Stamp:
        return cls(f"{st.st_dev}:{st.st_ino}", st.st_size, st.st_mtime_ns, st.st_ctime_ns)


@dataclass(frozen=True, slots=True)
class Hashed:
    size: int
    sha256: str


class HashCache:
    """SQLite under the airlock cache dir. A cache that cannot be used degrades to no cache."""

    def __init__(self, path: Path, racy_ns: int = RACY_NS) -> None:
        self.path = path
        self.racy_ns = racy_ns
        self._db: sqlite3.Connection | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(path, timeout=10)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(_SCHEMA)
            db.commit()
            self._db = db
        except (OSError, sqlite3.Error) as exc:
            log.warning("hash cache disabled: %s: %s", path, exc)

    def get(self, stamp: Stamp) -> str | None:
        if self._db is None:
            return None
        try:
            row = self._db.execute(
                "SELECT sha256 FROM hashes WHERE file=? AND size=? AND mtime_ns=? AND ctime_ns=?",
                (stamp.file, stamp.size, str(stamp.mtime_ns), str(stamp.ctime_ns)),
            ).fetchone()
        except sqlite3.Error as exc:
            log.warning("hash cache unreadable, hashing: %s", exc)
            return None
        return None if row is None else str(row[0])

    def put(self, stamp: Stamp, sha256: str, read_started_ns: int) -> None:
        if self._db is None or max(stamp.mtime_ns, stamp.ctime_ns) > read_started_ns - self.racy_ns:
            return
        try:
            self._db.execute(
                "INSERT OR REPLACE INTO hashes VALUES (?, ?, ?, ?, ?)",
                (stamp.file, stamp.size, str(stamp.mtime_ns), str(stamp.ctime_ns), sha256),
            )
        except sqlite3.Error as exc:
            log.warning("hash cache write failed: %s", exc)

    def commit(self) -> None:
        if self._db is not None:
            try:
                self._db.commit()
            except sqlite3.Error as exc:
                log.warning("hash cache write failed: %s", exc)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def hash_files(
    files: Sequence[tuple[str, Path]], cache: HashCache | None = None, workers: int | None = None
) -> dict[str, Hashed]:
    """size and sha256 of each (relative path, location), reusing the cache where it is safe."""
    results: dict[str, Hashed] = {}
    todo: list[tuple[str, Path]] = []
    for rel, location in files:
        cached = None
        if cache is not None:
            try:
                st = os.stat(location)
            except OSError as exc:
                raise ArtifactError(location, exc.strerror or str(exc)) from None
            stamp = Stamp.of(st)
            cached = cache.get(stamp)
            if cached is not None:
                results[rel] = Hashed(stamp.size, cached)
        if cached is None:
            todo.append((rel, location))
    if not todo:
        return results
    count = workers or min(len(todo), len(os.sched_getaffinity(0)), 8)
    todo.sort(key=lambda item: file_size(item[1]), reverse=True)  # largest first: no long tail
    with ThreadPoolExecutor(max_workers=max(1, count)) as pool:
        hashed = pool.map(lambda item: _hash(item[1]), todo)
        for (rel, _), (stamp, sha256, started) in zip(todo, hashed, strict=True):
            results[rel] = Hashed(stamp.size, sha256)
            if cache is not None:
                cache.put(stamp, sha256, started)
    if cache is not None:
        cache.commit()
    return results


def _hash(location: Path) -> tuple[Stamp, str, int]:
    started = time.time_ns()
    try:
        with open(location, "rb", buffering=0) as fh:
            before = Stamp.of(os.fstat(fh.fileno()))
            sha = hashlib.sha256()
            buffer = bytearray(CHUNK)
            view = memoryview(buffer)
            while n := fh.readinto(buffer):
                sha.update(view[:n])
            after = Stamp.of(os.fstat(fh.fileno()))
    except OSError as exc:
        raise ArtifactError(location, exc.strerror or str(exc)) from None
    if before != after:
        raise ArtifactError(location, "file changed while it was being hashed")
    return before, sha.hexdigest(), started
