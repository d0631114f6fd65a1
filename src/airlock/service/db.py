"""The service's database: the audit log of decisions and the scan queue with its results.

One implementation over two engines, chosen by `--db`:
* `sqlite:///PATH` (the default): the standard library's sqlite3 in WAL mode; what follows
  `sqlite://` is the path, so `sqlite:///var/lib/airlock.db` is absolute. SQLite has one writer at a
  time, so a claim (`UPDATE … WHERE id = (SELECT … LIMIT 1)`) is atomic as it stands.
* `postgresql://…`: PostgreSQL through psycopg 3, so several replicas share one queue. A claim takes
  its row with `FOR UPDATE SKIP LOCKED`, so two replicas never take the same job.
`_Dialect` holds all that differs (connection, placeholders, schema, the claim's lock clause, the
audit lock); the statements are otherwise the same text. One connection per process is shared by
the request handlers and the workers under a lock: every statement is short.

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
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from airlock.allowlist.records import format_time, utc_now
from airlock.errors import AirlockError

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


class _Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class _Dialect:
    """What differs between the engines; the statements are written with `?` placeholders."""

    name = "sqlite"
    conn: Any  # sqlite3.Connection, or psycopg.Connection for PostgreSQL
    claim_lock = ""  # appended to the claim's sub-select
    errors: tuple[type[Exception], ...] = (sqlite3.Error,)

    def __init__(self, url: str) -> None:
        path = url.removeprefix("sqlite://")
        if not path:
            raise DatabaseError("--db sqlite:// needs a path: sqlite:///PATH")
        self.where = path
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=5.0)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> _Cursor:
        cursor: _Cursor = self.conn.execute(sql, tuple(params))
        return cursor

    def create_schema(self) -> None:
        with self.transaction():
            for statement in _TABLES.format(serial="INTEGER", real="REAL").split(";"):
                self.execute(statement)
            columns = {row[1] for row in self.execute("PRAGMA table_info(scans)").fetchall()}
            for column, kind in (("owner", "TEXT"), ("lease_until", "REAL")):  # databases from 0.1.0
                if column not in columns:
                    self.execute(f"ALTER TABLE scans ADD COLUMN {column} {kind}")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """A write transaction: BEGIN IMMEDIATE takes SQLite's write lock up front."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def lock_audit(self) -> None:
        """Inside a transaction: serialise appends to the chain (BEGIN IMMEDIATE already does)."""

    def close(self) -> None:
        self.conn.close()


class _Postgres(_Dialect):
    name = "postgresql"
    claim_lock = " FOR UPDATE SKIP LOCKED"

    def __init__(self, url: str) -> None:
        try:
            import psycopg
        except ImportError:
            raise DatabaseError(
                "--db postgresql://… needs psycopg: pip install 'model-airlock[serve]'"
            ) from None
        self.errors = (psycopg.Error,)
        self.where = url.split("@")[-1]  # host/db without the credentials, for messages
        self.url = url
        self.conn = self._connect()

    def _connect(self) -> Any:
        import psycopg

        return psycopg.connect(self.url, autocommit=True, connect_timeout=10)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> _Cursor:
        if self.conn.broken:  # lost (a server restart): open it again
            self.conn = self._connect()
        cursor: _Cursor = self.conn.execute(sql.replace("?", "%s"), tuple(params))
        return cursor

    def create_schema(self) -> None:
        with self.transaction():  # replicas starting together must not race on CREATE TABLE
            self.lock_audit()
            for statement in _TABLES.format(serial="BIGSERIAL", real="DOUBLE PRECISION").split(";"):
                self.execute(statement)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self.conn.broken:
            self.conn = self._connect()
        with self.conn.transaction():
            yield

    def lock_audit(self) -> None:
        self.execute("SELECT pg_advisory_xact_lock(?)", (_LOCK_KEY,))


def _dialect(url: str) -> _Dialect:
    if url.startswith("sqlite://"):
        return _Dialect(url)
    if url.startswith(("postgresql://", "postgres://")):
        return _Postgres(url)
    raise DatabaseError(f"unsupported --db {url.split('@')[-1]!r}: use sqlite:///PATH or postgresql://…")


def scan_id(reference: str) -> str:
    """One id per canonical reference: the same model asked for twice is one scan."""
    return hashlib.sha256(reference.encode()).hexdigest()[:32]


class Database:
    def __init__(self, url: str) -> None:
        self._lock = threading.Lock()
        try:
            self._db = _dialect(url)
        except (sqlite3.Error, OSError) as exc:
            raise DatabaseError(f"cannot open the database ({exc})") from None
        except DatabaseError:
            raise
        except Exception as exc:  # noqa: BLE001  psycopg's connection errors, imported lazily
            raise DatabaseError(f"cannot open the database ({type(exc).__name__}: {exc})") from None
        try:
            self._db.create_schema()
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
            self._db.lock_audit()
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
                f"{self._db.claim_lock}) RETURNING {_COLUMNS}",
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
