"""The fleet's results store: what each reference came to, and each model's report, kept across runs.

Two tables. `results` holds one report per (model digest, rules version, policy digest): the same
bytes judged by the same rules under the same policy are recorded once, whichever reference or retry
brought them (an idempotent upsert). `refs` holds each reference's status per (reference, rules version,
policy digest): pending, done or error, with the digest it resolved to. A run marks its references
pending first, so an interrupted run resumes with what is not done; a re-run skips what is done.

`ResultStore` is the interface; `SqlStore` implements it on SQLite (the default, a file) or PostgreSQL
(a `postgresql://` URL: several heads, or a team, can share one store) with the same statements,
through the connection layer the service's database uses (`airlock.sqlstore`).
"""

from __future__ import annotations

import json
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from airlock.sqlstore import DatabaseError, connect, one_line


@dataclass(frozen=True)
class Key:
    """What a result depends on besides the model: the rules and the policy."""

    rules_version: str
    policy_digest: str


@dataclass(frozen=True)
class Row:
    """One reference's latest state under one key."""

    reference: str
    status: str  # "pending" | "done" | "error"
    digest: str | None
    decision: str | None  # "pass" | "fail" for done rows
    max_severity: str | None
    rules: tuple[str, ...]  # rule ids of the findings at or above low
    error: str | None
    attempts: int
    seconds: float
    triaged: bool
    bytes_total: int
    bytes_fetched: int
    run_id: str
    updated_at: float
    rules_version: str
    policy_digest: str


class ResultStore(ABC):
    """Where a fleet records its results (one writer: the head)."""

    @abstractmethod
    def begin(self, run_id: str, key: Key, references: Sequence[str]) -> set[str]:
        """Record the run and its references (new ones as pending); return those already done under `key`."""

    @abstractmethod
    def record(self, run_id: str, key: Key, outcome: dict[str, Any]) -> None:
        """Record one outcome (`airlock.fleet.jobs.Outcome.to_dict()`); idempotent."""

    @abstractmethod
    def rows(self, key: Key, references: Iterable[str] | None = None) -> list[Row]:
        """The rows under `key` (for `references` only, when given)."""

    @abstractmethod
    def previous(self, reference: str, key: Key) -> Row | None:
        """The most recent done row of `reference` under another key (other rules or policy)."""

    @abstractmethod
    def report(self, digest: str, key: Key) -> dict[str, Any] | None: ...

    @abstractmethod
    def close(self) -> None: ...


def open_store(url: str | Path) -> ResultStore:
    """`postgresql://…`, `sqlite://PATH` (`sqlite:///abs` is absolute, as for `serve --db`) or a path."""
    text = str(url)
    if "://" not in text:
        text = f"sqlite://{Path(text).expanduser()}"
    return SqlStore(text)


_LOCK_KEY = 0x41495246  # PostgreSQL advisory lock serialising schema creation by heads starting together
_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    digest TEXT NOT NULL, rules_version TEXT NOT NULL, policy_digest TEXT NOT NULL,
    reference TEXT NOT NULL, decision TEXT NOT NULL, max_severity TEXT NOT NULL,
    report TEXT NOT NULL, recorded_at {real} NOT NULL,
    PRIMARY KEY (digest, rules_version, policy_digest)
);
CREATE TABLE IF NOT EXISTS refs (
    reference TEXT NOT NULL, rules_version TEXT NOT NULL, policy_digest TEXT NOT NULL,
    status TEXT NOT NULL, digest TEXT, decision TEXT, max_severity TEXT, rules TEXT NOT NULL DEFAULT '[]',
    error TEXT, attempts INTEGER NOT NULL DEFAULT 0, seconds {real} NOT NULL DEFAULT 0,
    triaged INTEGER NOT NULL DEFAULT 0, bytes_total {bigint} NOT NULL DEFAULT 0,
    bytes_fetched {bigint} NOT NULL DEFAULT 0, run_id TEXT NOT NULL, updated_at {real} NOT NULL,
    PRIMARY KEY (reference, rules_version, policy_digest)
);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, rules_version TEXT NOT NULL, policy_digest TEXT NOT NULL,
    started_at {real} NOT NULL, references_total INTEGER NOT NULL
)
"""
_ROW_COLUMNS = (
    "reference, status, digest, decision, max_severity, rules, error, attempts, seconds, triaged, "
    "bytes_total, bytes_fetched, run_id, updated_at, rules_version, policy_digest"
)


class SqlStore(ResultStore):
    """The store on SQLite or PostgreSQL (`airlock.sqlstore`): the same statements on both."""

    def __init__(self, url: str) -> None:
        self._db = connect(url, option="--store", busy_timeout_s=30.0)
        try:
            with self._db.transaction():
                self._db.lock(_LOCK_KEY)
                self._db.schema(_SCHEMA)
        except self._db.errors as exc:
            self._db.close()
            raise DatabaseError(
                f"{self._db.where}: cannot open the results store ({one_line(exc)})"
            ) from None

    @property
    def engine(self) -> str:
        return self._db.name

    def begin(self, run_id: str, key: Key, references: Sequence[str]) -> set[str]:
        now = time.time()
        with self._db.transaction():
            self._db.execute(
                "INSERT INTO runs VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (run_id, key.rules_version, key.policy_digest, now, len(references)),
            )
            self._db.executemany(
                "INSERT INTO refs (reference, rules_version, policy_digest, status, run_id, updated_at)"
                " VALUES (?, ?, ?, 'pending', ?, ?) ON CONFLICT DO NOTHING",
                [(r, key.rules_version, key.policy_digest, run_id, now) for r in references],
            )
        done = self._db.execute(
            "SELECT reference FROM refs WHERE rules_version = ? AND policy_digest = ? AND status = 'done'",
            (key.rules_version, key.policy_digest),
        ).fetchall()
        return {r for (r,) in done} & set(references)

    def record(self, run_id: str, key: Key, outcome: dict[str, Any]) -> None:
        report = outcome.get("report")
        triage = outcome.get("triage") or {}
        digest = decision = severity = None
        rules: list[str] = []
        if report is not None:
            digest = report["target"]["digest"]
            decision = report["verdict"]["decision"]
            severity = report["verdict"]["max_severity"]
            rules = sorted({f["rule"] for f in report["findings"] if f["severity"] != "info"})
        now = time.time()
        with self._db.transaction():  # one transaction: the result and the reference's status together
            if report is not None:
                self._db.execute(
                    "INSERT INTO results VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    (
                        digest,
                        key.rules_version,
                        key.policy_digest,
                        outcome["reference"],
                        decision,
                        severity,
                        json.dumps(report, separators=(",", ":")),
                        now,
                    ),
                )
            self._db.execute(
                "INSERT INTO refs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (reference, rules_version, policy_digest) DO UPDATE SET"
                " status = excluded.status, digest = excluded.digest, decision = excluded.decision,"
                " max_severity = excluded.max_severity, rules = excluded.rules, error = excluded.error,"
                " attempts = excluded.attempts, seconds = excluded.seconds, triaged = excluded.triaged,"
                " bytes_total = excluded.bytes_total, bytes_fetched = excluded.bytes_fetched,"
                " run_id = excluded.run_id, updated_at = excluded.updated_at",
                (
                    outcome["reference"],
                    key.rules_version,
                    key.policy_digest,
                    outcome["status"],
                    digest,
                    decision,
                    severity,
                    json.dumps(rules),
                    outcome.get("error"),
                    int(outcome.get("attempts", 1)) + int(outcome.get("worker_retries", 0)),
                    float(outcome.get("seconds", 0.0)),
                    int(bool(triage.get("decided"))),
                    int(triage.get("bytes_total", 0)),
                    int(triage.get("bytes_fetched", 0)),
                    run_id,
                    now,
                ),
            )

    def rows(self, key: Key, references: Iterable[str] | None = None) -> list[Row]:
        found = self._db.execute(
            f"SELECT {_ROW_COLUMNS} FROM refs WHERE rules_version = ? AND policy_digest = ? ORDER BY reference",
            (key.rules_version, key.policy_digest),
        ).fetchall()
        rows = [_row(r) for r in found]
        if references is not None:
            wanted = set(references)
            rows = [r for r in rows if r.reference in wanted]
        return rows

    def previous(self, reference: str, key: Key) -> Row | None:
        found = self._db.execute(
            f"SELECT {_ROW_COLUMNS} FROM refs WHERE reference = ? AND status = 'done'"
            " AND NOT (rules_version = ? AND policy_digest = ?) ORDER BY updated_at DESC LIMIT 1",
            (reference, key.rules_version, key.policy_digest),
        ).fetchone()
        return _row(found) if found is not None else None

    def report(self, digest: str, key: Key) -> dict[str, Any] | None:
        found = self._db.execute(
            "SELECT report FROM results WHERE digest = ? AND rules_version = ? AND policy_digest = ?",
            (digest, key.rules_version, key.policy_digest),
        ).fetchone()
        return json.loads(found[0]) if found is not None else None

    def count_results(self, key: Key) -> int:
        (n,) = self._db.execute(
            "SELECT COUNT(*) FROM results WHERE rules_version = ? AND policy_digest = ?",
            (key.rules_version, key.policy_digest),
        ).fetchone()
        return int(n)

    def close(self) -> None:
        self._db.close()


class SqliteStore(SqlStore):
    """The store in the SQLite file at `path`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(f"sqlite://{path}")


def _row(r: Sequence[Any]) -> Row:
    return Row(
        reference=r[0],
        status=r[1],
        digest=r[2],
        decision=r[3],
        max_severity=r[4],
        rules=tuple(json.loads(r[5] or "[]")),
        error=r[6],
        attempts=int(r[7]),
        seconds=float(r[8]),
        triaged=bool(r[9]),
        bytes_total=int(r[10]),
        bytes_fetched=int(r[11]),
        run_id=r[12],
        updated_at=float(r[13]),
        rules_version=r[14],
        policy_digest=r[15],
    )
