"""The service database's queue and audit semantics, the same assertions on SQLite and PostgreSQL.

PostgreSQL is a real throwaway server (`fixtures.postgres`); its cases skip only where Debian's
binaries are absent (`make postgres` installs them as root).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from airlock.service.db import Database, DatabaseError


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite://{tmp_path / 'db.sqlite3'}"
    return str(request.getfixturevalue("pg_server").database())


def test_an_unsupported_database_url_is_a_clear_error() -> None:
    with pytest.raises(DatabaseError, match="use sqlite:///PATH or postgresql://") as raised:
        Database("mysql://root:secret@localhost/db")
    assert "secret" not in str(raised.value)  # credentials in the URL stay out of messages


def test_one_scan_per_reference_claimed_by_one_worker_and_fenced(url: str) -> None:
    a, b = Database(url), Database(url)  # two connections: two replicas
    try:
        first, created = a.enqueue("hf://acme/x@" + "1" * 40)
        again, created_again = b.enqueue("hf://acme/x@" + "1" * 40)
        assert created and not created_again and first.id == again.id
        job = a.claim("replica-a", 30.0)
        assert job is not None and (job.status, job.attempts, job.owner) == ("running", 1, "replica-a")
        assert b.claim("replica-b", 30.0) is None  # held: nobody else takes it
        assert a.renew(job, 30.0)
        assert a.finish(job, verdict="pass", digest="sha256:" + "0" * 64, report="{}")
        assert not a.finish(job, verdict="fail", digest=None, report="{}")  # finished once only
        done = b.scan(job.id)
        assert done is not None and (done.status, done.verdict) == ("done", "pass")
    finally:
        a.close()
        b.close()


def test_a_job_whose_lease_ran_out_is_claimed_again_and_its_old_worker_is_fenced_off(url: str) -> None:
    a, b = Database(url), Database(url)
    try:
        a.enqueue("sha256:" + "2" * 64)
        lost = a.claim("dead-worker", 0.2)
        assert lost is not None
        time.sleep(0.3)
        retry = b.claim("live-worker", 30.0)
        assert retry is not None and retry.id == lost.id and retry.attempts == 2
        assert not a.renew(lost, 30.0)  # the old worker learns it lost the job...
        assert not a.finish(lost, verdict="pass", digest=None, report="{}")  # ...and cannot record it
        assert not a.fail(lost, "late", retry=True)
        assert b.finish(retry, verdict="fail", digest=None, report="{}")
        assert a.depth() == {"done": 1}
    finally:
        a.close()
        b.close()


def test_the_audit_chain_spans_connections_and_breaks_on_an_edit(url: str) -> None:
    a, b = Database(url), Database(url)
    try:
        for n in range(6):
            (a, b)[n % 2].audit({"n": n, "decision": "allowed"})
        assert a.verify_audit() is None
        assert [row["n"] for row in b.audit_rows(100)] == list(range(6))
        a._db.execute(
            "UPDATE audit SET entry = ? WHERE seq = (SELECT MIN(seq) FROM audit) + 2", ('{"n":99}',)
        )
        broken = b.verify_audit()
        assert broken is not None and broken == a.audit_rows(100)[2]["seq"]
    finally:
        a.close()
        b.close()
