"""Result cache: artifact-scanner findings keyed by (sha256, scanner, scanner version, signatures version).

SQLite under the user cache dir, so re-scanning an unchanged 10 GB checkpoint costs only the
hashing. A cache that cannot be opened or written degrades to no cache (with a log line), never
to a failed or a wrong scan.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path

from airlock.findings import Finding
from airlock.scanning import ResultCache

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    sha256 TEXT NOT NULL,
    scanner TEXT NOT NULL,
    version TEXT NOT NULL,
    signatures TEXT NOT NULL,
    findings TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (sha256, scanner, version, signatures)
)
"""


class SqliteCache(ResultCache):
    def __init__(self, path: Path, signatures_version: str) -> None:
        self.path = path
        self.signatures = signatures_version
        self._db: sqlite3.Connection | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(path, timeout=10, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(_SCHEMA)
            db.commit()
            self._db = db
        except (OSError, sqlite3.Error) as exc:
            log.warning("result cache disabled: %s: %s", path, exc)

    def get(self, sha256: str, scanner: str, version: str) -> list[Finding] | None:
        if self._db is None:
            return None
        try:
            row = self._db.execute(
                "SELECT findings FROM results WHERE sha256=? AND scanner=? AND version=? AND signatures=?",
                (sha256, scanner, version, self.signatures),
            ).fetchone()
            if row is None:
                return None
            return [Finding.from_dict(item) for item in json.loads(row[0])]
        except (sqlite3.Error, ValueError, KeyError, TypeError) as exc:
            log.warning("result cache entry unreadable, rescanning: %s", exc)
            return None

    def put(self, sha256: str, scanner: str, version: str, findings: Sequence[Finding]) -> None:
        if self._db is None:
            return
        try:
            self._db.execute(
                "INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?, ?)",
                (
                    sha256,
                    scanner,
                    version,
                    self.signatures,
                    json.dumps([f.to_dict() for f in findings]),
                    time.time(),
                ),
            )
            self._db.commit()
        except sqlite3.Error as exc:
            log.warning("result cache write failed: %s", exc)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
