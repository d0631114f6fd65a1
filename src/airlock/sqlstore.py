"""One SQL connection over SQLite or PostgreSQL: what the service's database and the fleet's store share.

`connect(url)` gives a `Connection` for
* `sqlite://PATH`: the standard library's sqlite3 in WAL mode; what follows `sqlite://` is the path,
  so `sqlite:///var/lib/airlock.db` is absolute and `sqlite://airlock.db` relative. SQLite has one
  writer at a time: `transaction()` takes the write lock up front (BEGIN IMMEDIATE).
* `postgresql://…` (or `postgres://…`): PostgreSQL through psycopg 3 (imported only then), in
  autocommit mode with explicit transactions; a connection lost to a server restart is opened again.

Statements are written once, with `?` placeholders and `ON CONFLICT` upserts, which both engines
take; what differs (placeholders, column types, row locks, advisory locks, the driver's errors) is
here. Column types in a schema are written `{serial}`, `{real}` and `{bigint}` (`schema`), because
PostgreSQL's REAL and INTEGER are 4 bytes where SQLite's are 8.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar, Protocol

from airlock.errors import AirlockError


class DatabaseError(AirlockError):
    pass


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Connection:
    """A SQLite connection; `Postgres` overrides what differs."""

    name = "sqlite"
    conn: Any  # sqlite3.Connection, or psycopg.Connection for PostgreSQL
    skip_locked = ""  # appended to a sub-select that claims one row
    types: ClassVar[dict[str, str]] = {"serial": "INTEGER", "real": "REAL", "bigint": "INTEGER"}
    errors: tuple[type[Exception], ...] = (sqlite3.Error,)

    def __init__(self, url: str, *, busy_timeout_s: float = 5.0) -> None:
        path = url.removeprefix("sqlite://")
        if not path:
            raise DatabaseError("sqlite:// needs a path: sqlite:///PATH")
        self.where = path
        if path != ":memory:":
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(
            Path(path).expanduser() if path != ":memory:" else path,
            check_same_thread=False,
            isolation_level=None,
            timeout=busy_timeout_s,
        )
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        cursor: Cursor = self.conn.execute(sql, tuple(params))
        return cursor

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.conn.executemany(sql, [tuple(r) for r in rows])

    def schema(self, ddl: str) -> None:
        """Run `;`-separated DDL with its `{serial}`, `{real}` and `{bigint}` column types filled in."""
        for statement in ddl.format(**self.types).split(";"):
            if statement.strip():
                self.execute(statement)

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

    def lock(self, key: int) -> None:
        """Inside a transaction: serialise with other writers holding `key` (BEGIN IMMEDIATE already does)."""

    def close(self) -> None:
        self.conn.close()


class Postgres(Connection):
    name = "postgresql"
    skip_locked = " FOR UPDATE SKIP LOCKED"
    types: ClassVar[dict[str, str]] = {"serial": "BIGSERIAL", "real": "DOUBLE PRECISION", "bigint": "BIGINT"}

    def __init__(self, url: str, *, option: str = "--db") -> None:
        try:
            import psycopg
        except ImportError:
            raise DatabaseError(
                f"{option} postgresql://… needs psycopg: pip install 'psycopg[binary]'"
            ) from None
        self.errors = (psycopg.Error,)
        self.where = url.split("@")[-1]  # host/db without the credentials, for messages
        self.url = url
        self.conn = self._connect()

    def _connect(self) -> Any:
        import psycopg

        return psycopg.connect(self.url, autocommit=True, connect_timeout=10)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        if self.conn.broken:  # lost (a server restart): open it again
            self.conn = self._connect()
        cursor: Cursor = self.conn.execute(sql.replace("?", "%s"), tuple(params))
        return cursor

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if self.conn.broken:
            self.conn = self._connect()
        with self.conn.cursor() as cursor:
            cursor.executemany(sql.replace("?", "%s"), [tuple(r) for r in rows])

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self.conn.broken:
            self.conn = self._connect()
        with self.conn.transaction():
            yield

    def lock(self, key: int) -> None:
        self.execute("SELECT pg_advisory_xact_lock(?)", (key,))


def connect(url: str, *, option: str = "--db", busy_timeout_s: float = 5.0) -> Connection:
    """The connection `url` names; a `DatabaseError` (one line, no credentials) when it cannot be opened."""
    where = url.removeprefix("sqlite://") if url.startswith("sqlite://") else url.split("@")[-1]
    try:
        if url.startswith("sqlite://"):
            return Connection(url, busy_timeout_s=busy_timeout_s)
        if url.startswith(("postgresql://", "postgres://")):
            return Postgres(url, option=option)
    except (sqlite3.Error, OSError) as exc:
        raise DatabaseError(f"{where}: cannot open the SQLite database ({one_line(exc)})") from None
    except DatabaseError:
        raise
    except Exception as exc:  # noqa: BLE001  psycopg's connection errors, imported lazily
        raise DatabaseError(
            f"{where}: cannot open the PostgreSQL database ({type(exc).__name__}: {one_line(exc)})"
        ) from None
    raise DatabaseError(f"unsupported {option} {where!r}: use sqlite:///PATH or postgresql://…")


def one_line(exc: BaseException) -> str:
    """A driver's message on one line (libpq's span several)."""
    return " ".join(str(exc).split())
