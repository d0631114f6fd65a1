"""The service's database: the audit log of decisions and the scan queue with its results.

One implementation over two engines, chosen by `--db`:
* `sqlite:///PATH` (the default): the standard library's sqlite3 in WAL mode; what follows
  `sqlite://` is the path, so `sqlite:///var/lib/airlock.db` is absolute. SQLite has one writer at a
  time, so a claim (`UPDATE … WHERE id = (SELECT … LIMIT 1)`) is atomic as it stands.
* `postgresql://…`: PostgreSQL through psycopg 3, so several replicas share one queue. A claim takes
  its row with `FOR UPDATE SKIP LOCKED`, so two replicas never take the same job.
`airlock.sqlstore` holds all that differs (connection, placeholders, column types, the claim's lock
clause, the audit lock); the statements are otherwise the same text. One connection per process is
shared by the request handlers and the workers under a lock: every statement is short.

Scan jobs carry a lease: the worker that claims one records itself as `owner` and renews
`lease_until` while the scan runs (`renew`). A job whose lease ran out (its process was killed) is
claimed again, with `attempts` counting the tries; `finish` and `fail` only apply for the owner and
attempt that holds the job, so a job is never finished twice, even by a worker that lost its lease.

The audit log is append-only and hash-chained: each row stores the sha256 of the row before it and of
its own canonical content, so an edited or deleted row breaks the chain (`verify_audit`). The head of
the chain is read inside the write transaction (under an advisory lock on PostgreSQL), so replicas
writing to one database extend one chain.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from airlock.allowlist.records import format_time, utc_now
from airlock.sqlstore import Connection, DatabaseError, connect

__all__ = ["Database", "DatabaseError", "Scan", "scan_id"]

GENESIS = "sha256:" + hashlib.sha256(b"airlock.audit/v1").hexdigest()
_LOCK_KEY = 0x41495231  # PostgreSQL advisory lock serialising audit appends and schema creation

_TABLES = """
CREATE TABLE IF NOT EXISTS audit (
    seq {serial} PRIMARY KEY,
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
    error TEXT,
    owner TEXT,            -- the worker holding (or that last held) the job
    lease_until {real}     -- unix time: a running job past it is claimed again
);
CREATE INDEX IF NOT EXISTS scans_status ON scans(status, created)
"""


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
    owner: str | None = None

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
            "worker": self.owner,
        }


def _create_schema(db: Connection) -> None:
    with db.transaction():  # replicas starting together must not race on CREATE TABLE
        db.lock(_LOCK_KEY)
        db.schema(_TABLES)
        if db.name == "sqlite":  # databases from 0.1.0
            columns = {row[1] for row in db.execute("PRAGMA table_info(scans)").fetchall()}
            for column, kind in (("owner", "TEXT"), ("lease_until", "REAL")):
                if column not in columns:
                    db.execute(f"ALTER TABLE scans ADD COLUMN {column} {kind}")


def scan_id(reference: str) -> str:
    """One id per canonical reference: the same model asked for twice is one scan."""
    return hashlib.sha256(reference.encode()).hexdigest()[:32]


class Database:
    def __init__(self, url: str) -> None:
        self._lock = threading.Lock()
        self._db = connect(url)
        try:
            _create_schema(self._db)
        except self._db.errors as exc:
            self._db.close()
            raise DatabaseError(f"{self._db.where}: cannot create the tables ({exc})") from None

    @property
    def engine(self) -> str:
        return self._db.name

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def ping(self) -> bool:
        try:
            with self._lock:
                self._db.execute("SELECT 1").fetchone()
        except self._db.errors:
            return False
        return True

    # -- audit ---------------------------------------------------------------------------------

    def audit(self, entry: Mapping[str, Any]) -> int:
        """Append `entry` to the chain; it is committed when this returns."""
        text = json.dumps(dict(entry), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        with self._lock, self._db.transaction():
            self._db.lock(_LOCK_KEY)
            row = self._db.execute("SELECT hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
            head = row[0] if row else GENESIS
            digest = "sha256:" + hashlib.sha256(f"{head}\n{text}".encode()).hexdigest()
            seq = self._db.execute(
                "INSERT INTO audit(entry, prev, hash) VALUES (?, ?, ?) RETURNING seq", (text, head, digest)
            ).fetchone()
            return int(seq[0])

    def audit_rows(self, limit: int = 100) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, entry, hash FROM audit ORDER BY seq DESC LIMIT ?", (limit,)
            ).fetchall()
        return [{"seq": seq, **json.loads(entry), "hash": digest} for seq, entry, digest in reversed(rows)]

    def verify_audit(self) -> int | None:
        """The seq of the first row that breaks the chain, or None when it is intact."""
        prev = GENESIS
        with self._lock:
            rows = self._db.execute("SELECT seq, entry, prev, hash FROM audit ORDER BY seq").fetchall()
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
            cur = self._db.execute(
                "INSERT INTO scans(id, reference, status, created) VALUES (?, ?, 'queued', ?) "
                "ON CONFLICT DO NOTHING",
                (sid, reference, format_time(utc_now())),
            )
            created = cur.rowcount == 1
        scan = self.scan(sid)
        assert scan is not None
        return scan, created

    def scan(self, sid: str) -> Scan | None:
        with self._lock:
            row = self._db.execute(f"SELECT {_COLUMNS} FROM scans WHERE id = ?", (sid,)).fetchone()
        return None if row is None else Scan(*row)

    def scan_for(self, reference: str) -> Scan | None:
        return self.scan(scan_id(reference))

    def claim(self, owner: str, lease_s: float) -> Scan | None:
        """Take the oldest queued scan (or a running one whose lease ran out) for `owner`, atomically."""
        now = time.time()
        with self._lock:
            row = self._db.execute(
                "UPDATE scans SET status = 'running', started = ?, attempts = attempts + 1, owner = ?, "
                "lease_until = ? WHERE id = (SELECT id FROM scans WHERE status = 'queued' "
                "OR (status = 'running' AND lease_until < ?) ORDER BY created, id LIMIT 1"
                f"{self._db.skip_locked}) RETURNING {_COLUMNS}",
                (format_time(utc_now()), owner, now + lease_s, now),
            ).fetchone()
        return None if row is None else Scan(*row)

    def renew(self, job: Scan, lease_s: float) -> bool:
        """Extend the lease of a job this worker holds; False when it holds it no more."""
        with self._lock:
            cur = self._db.execute(
                "UPDATE scans SET lease_until = ? WHERE id = ? AND owner = ? AND attempts = ? "
                "AND status = 'running'",
                (time.time() + lease_s, job.id, job.owner, job.attempts),
            )
            return cur.rowcount == 1

    def finish(self, job: Scan, *, verdict: str, digest: str | None, report: str) -> bool:
        """Record the result; False (and nothing written) when `job` is no longer this worker's."""
        with self._lock:
            cur = self._db.execute(
                "UPDATE scans SET status = 'done', finished = ?, verdict = ?, digest = ?, report = ?, "
                "error = NULL, lease_until = NULL "
                "WHERE id = ? AND owner = ? AND attempts = ? AND status = 'running'",
                (format_time(utc_now()), verdict, digest, report, job.id, job.owner, job.attempts),
            )
            return cur.rowcount == 1

    def fail(self, job: Scan, error: str, *, retry: bool) -> bool:
        with self._lock:
            cur = self._db.execute(
                "UPDATE scans SET status = ?, finished = ?, error = ?, lease_until = NULL "
                "WHERE id = ? AND owner = ? AND attempts = ? AND status = 'running'",
                (
                    "queued" if retry else "error",
                    format_time(utc_now()),
                    error,
                    job.id,
                    job.owner,
                    job.attempts,
                ),
            )
            return cur.rowcount == 1

    def depth(self) -> dict[str, int]:
        with self._lock:
            rows = self._db.execute("SELECT status, COUNT(*) FROM scans GROUP BY status").fetchall()
        return {str(status): int(count) for status, count in rows}


_COLUMNS = (
    "id, reference, status, created, started, finished, attempts, verdict, digest, report, error, owner"
)
