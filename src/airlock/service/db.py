"""The service's database: the audit log of decisions and the scan queue with its results.

SQLite (the standard library's sqlite3) in WAL mode; `--db sqlite:///PATH` names the file (what
follows `sqlite://` is the path, so `sqlite:///var/lib/airlock.db` is absolute). One connection is
shared by the request handlers and the workers under a lock: every statement is short.

The audit log is append-only and hash-chained: each row stores the sha256 of the row before it and of
its own canonical content, so an edited or deleted row breaks the chain (`verify_audit`).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from airlock.allowlist.records import format_time, utc_now
from airlock.errors import AirlockError

GENESIS = "sha256:" + hashlib.sha256(b"airlock.audit/v1").hexdigest()

_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY,
    entry TEXT NOT NULL,   -- canonical JSON: time, caller, endpoint, reference, decision, reason, ...
    prev TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS scans (
    id TEXT PRIMARY KEY,
    reference TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,  -- queued | running | done | error
    created TEXT NOT NULL,
    started TEXT,
    finished TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    verdict TEXT,          -- pass | fail (done)
    digest TEXT,
    report TEXT,           -- the JSON report (done)
    error TEXT
);
CREATE INDEX IF NOT EXISTS scans_status ON scans(status, created);
"""


class DatabaseError(AirlockError):
    pass


@dataclass(frozen=True)
class Scan:
    id: str
    reference: str
    status: str
    created: str
    started: str | None
    finished: str | None
    attempts: int
    verdict: str | None
    digest: str | None
    report: str | None
    error: str | None

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "reference": self.reference,
            "status": self.status,
            "created": self.created,
            "started": self.started,
            "finished": self.finished,
            "attempts": self.attempts,
            "verdict": self.verdict,
            "digest": self.digest,
            "error": self.error,
        }


def path_of(url: str) -> str:
    if not url.startswith("sqlite://"):
        raise DatabaseError(f"unsupported --db {url!r}: only sqlite:///PATH is supported")
    path = url.removeprefix("sqlite://")
    if not path:
        raise DatabaseError("--db sqlite:// needs a path: sqlite:///PATH")
    return path


def scan_id(reference: str) -> str:
    """One id per canonical reference: the same model asked for twice is one scan."""
    return hashlib.sha256(reference.encode()).hexdigest()[:32]


class Database:
    def __init__(self, url: str) -> None:
        path = path_of(url)
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=5.0)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise DatabaseError(f"{path}: cannot open the database ({exc})") from None
        self._lock = threading.Lock()
        row = self._conn.execute("SELECT hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        self._head = row[0] if row else GENESIS

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def ping(self) -> bool:
        try:
            with self._lock:
                self._conn.execute("SELECT 1").fetchone()
        except sqlite3.Error:
            return False
        return True

    # -- audit ---------------------------------------------------------------------------------

    def audit(self, entry: Mapping[str, Any]) -> int:
        text = json.dumps(dict(entry), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        with self._lock:
            digest = "sha256:" + hashlib.sha256(f"{self._head}\n{text}".encode()).hexdigest()
            cur = self._conn.execute(
                "INSERT INTO audit(entry, prev, hash) VALUES (?, ?, ?)", (text, self._head, digest)
            )
            self._head = digest
            return int(cur.lastrowid or 0)

    def audit_rows(self, limit: int = 100) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT seq, entry, hash FROM audit ORDER BY seq DESC LIMIT ?", (limit,)
            ).fetchall()
        return [{"seq": seq, **json.loads(entry), "hash": digest} for seq, entry, digest in reversed(rows)]

    def verify_audit(self) -> int | None:
        """The seq of the first row that breaks the chain, or None when it is intact."""
        prev = GENESIS
        with self._lock:
            rows = self._conn.execute("SELECT seq, entry, prev, hash FROM audit ORDER BY seq").fetchall()
        for seq, entry, recorded_prev, digest in rows:
            expected = "sha256:" + hashlib.sha256(f"{prev}\n{entry}".encode()).hexdigest()
            if recorded_prev != prev or digest != expected:
                return int(seq)
            prev = digest
        return None

    # -- scan queue ----------------------------------------------------------------------------

    def enqueue(self, reference: str) -> tuple[Scan, bool]:
        """The scan for `reference`, created (queued) if there was none; True when it was created."""
        sid = scan_id(reference)
        with self._lock:
            cur = self._conn.execute(
                "INSERT OR IGNORE INTO scans(id, reference, status, created) VALUES (?, ?, 'queued', ?)",
                (sid, reference, format_time(utc_now())),
            )
            created = cur.rowcount == 1
        scan = self.scan(sid)
        assert scan is not None
        return scan, created

    def scan(self, sid: str) -> Scan | None:
        with self._lock:
            row = self._conn.execute(f"SELECT {_COLUMNS} FROM scans WHERE id = ?", (sid,)).fetchone()
        return None if row is None else Scan(*row)

    def scan_for(self, reference: str) -> Scan | None:
        return self.scan(scan_id(reference))

    def claim(self) -> Scan | None:
        """Take the oldest queued scan and mark it running (atomically)."""
        with self._lock:
            row = self._conn.execute(
                "UPDATE scans SET status = 'running', started = ?, attempts = attempts + 1 "
                "WHERE id = (SELECT id FROM scans WHERE status = 'queued' ORDER BY created, id LIMIT 1) "
                f"RETURNING {_COLUMNS}",
                (format_time(utc_now()),),
            ).fetchone()
        return None if row is None else Scan(*row)

    def finish(self, sid: str, *, verdict: str, digest: str | None, report: str) -> None:
        with self._lock:
            self._conn.execute(
                "UPDATE scans SET status = 'done', finished = ?, verdict = ?, digest = ?, report = ?, "
                "error = NULL WHERE id = ?",
                (format_time(utc_now()), verdict, digest, report, sid),
            )

    def fail(self, sid: str, error: str, *, retry: bool) -> None:
        with self._lock:
            self._conn.execute(
                "UPDATE scans SET status = ?, finished = ?, error = ? WHERE id = ?",
                ("queued" if retry else "error", format_time(utc_now()), error, sid),
            )

    def requeue_interrupted(self) -> int:
        """Scans left `running` by a process that died go back to the queue (run at start-up)."""
        with self._lock:
            return self._conn.execute("UPDATE scans SET status = 'queued' WHERE status = 'running'").rowcount

    def depth(self) -> dict[str, int]:
        with self._lock:
            rows = self._conn.execute("SELECT status, COUNT(*) FROM scans GROUP BY status").fetchall()
        return {str(status): int(count) for status, count in rows}


_COLUMNS = "id, reference, status, created, started, finished, attempts, verdict, digest, report, error"
