"""The fleet's results store, the same assertions on SQLite and PostgreSQL.

PostgreSQL is a real throwaway server for the module (`fixtures.postgres`), a fresh database per
test; its cases skip only where Debian's binaries are absent (`make postgres` installs them as root).
"""

from __future__ import annotations

import csv
import time
from pathlib import Path
from typing import Any

import pytest

from airlock.fleet import report as fleet_report
from airlock.fleet.store import Key, SqliteStore, SqlStore, open_store
from airlock.sqlstore import DatabaseError
from fixtures import postgres
from fixtures.service import free_port

KEY = Key("2026.12.1", "sha256:policy-a")
LENIENT = Key("2026.12.1", "sha256:policy-b")


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite://{tmp_path / 'fleet.sqlite3'}"
    return str(request.getfixturevalue("pg_server").database())


def _report(
    digest: str, decision: str, severity: str = "none", rules: tuple[str, ...] = ()
) -> dict[str, Any]:
    return {
        "target": {"digest": digest},
        "verdict": {"decision": decision, "max_severity": severity},
        "findings": [{"rule": r, "severity": severity} for r in rules]
        + [{"rule": "AIR000", "severity": "info"}],
    }


def _done(reference: str, report: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"reference": reference, "status": "done", "report": report, **extra}


def test_a_result_is_recorded_once_per_model_rules_and_policy(url: str) -> None:
    first, second = SqlStore(url), SqlStore(url)  # two heads on one store
    try:
        assert first.begin("run-1", KEY, ["hf://a/x@1", "hf://b/x@1"]) == set()
        same = _report("sha256:" + "1" * 64, "fail", "critical", ("AIR201",))
        first.record("run-1", KEY, _done("hf://a/x@1", same))
        first.record("run-1", KEY, _done("hf://a/x@1", same, attempts=2))  # a retry's late duplicate
        second.record("run-1", KEY, _done("hf://b/x@1", same))  # another reference to the same bytes
        second.record("run-1", LENIENT, _done("hf://b/x@1", _report(same["target"]["digest"], "pass")))
        assert first.count_results(KEY) == 1 and first.count_results(LENIENT) == 1
        rows = {r.reference: r for r in second.rows(KEY)}
        assert [(r.status, r.decision, r.rules) for r in rows.values()] == [("done", "fail", ("AIR201",))] * 2
        assert rows["hf://a/x@1"].attempts == 2  # the reference's row is an upsert: the latest outcome
        assert first.report(same["target"]["digest"], KEY) == same
        lenient = first.report(same["target"]["digest"], LENIENT)
        assert lenient is not None and lenient["verdict"]["decision"] == "pass"
        assert first.report("sha256:" + "9" * 64, KEY) is None
    finally:
        first.close()
        second.close()


def test_an_interrupted_run_resumes_with_what_is_not_done(url: str) -> None:
    refs = [f"hf://org/m{i}@{i}" for i in range(5)]
    store = SqlStore(url)
    try:
        assert store.begin("run-1", KEY, refs) == set()
        store.record("run-1", KEY, _done(refs[0], _report("sha256:0", "pass")))
        store.record("run-1", KEY, {"reference": refs[1], "status": "error", "error": "timed out after 8 s"})
        store.close()  # the head dies here

        store = SqlStore(url)
        assert store.begin("run-2", KEY, refs) == {refs[0]}  # errors and pending ones run again
        statuses = {r.reference: (r.status, r.run_id) for r in store.rows(KEY)}
        assert statuses[refs[0]] == ("done", "run-1") and statuses[refs[1]][0] == "error"
        assert [statuses[r] for r in refs[2:]] == [("pending", "run-1")] * 3  # marked once, by the first run
        store.record("run-2", KEY, _done(refs[1], _report("sha256:1", "pass")))
        assert store.begin("run-3", KEY, refs[:3]) == {refs[0], refs[1]}
        assert [r.reference for r in store.rows(KEY, refs[1:3])] == refs[1:3]
        assert store.begin("run-4", LENIENT, refs) == set()  # another policy: everything again
    finally:
        store.close()


def test_wide_numbers_and_times_round_trip(url: str) -> None:
    """Bytes past 2**31 and unix times to the millisecond (PostgreSQL's INTEGER and REAL would not)."""
    store = SqlStore(url)
    try:
        store.begin("run", KEY, ["big"])
        before = time.time()
        triage = {"decided": True, "bytes_total": 70 << 30, "bytes_fetched": 3 << 30}
        store.record(
            "run", KEY, _done("big", _report("sha256:b", "fail", "high"), triage=triage, seconds=0.125)
        )
        (row,) = store.rows(KEY)
        assert (row.triaged, row.bytes_total, row.bytes_fetched, row.seconds) == (
            True,
            70 << 30,
            3 << 30,
            0.125,
        )
        assert before <= row.updated_at <= time.time()
    finally:
        store.close()


def test_changed_verdicts_and_the_exports_come_from_the_store(url: str, tmp_path: Path) -> None:
    store = SqlStore(url)
    refs = ["hf://org/overlap@1", "hf://org/benign@2"]
    try:
        store.begin("strict", KEY, refs)
        store.record("strict", KEY, _done(refs[0], _report("sha256:o", "fail", "high", ("AIR403",))))
        store.record("strict", KEY, _done(refs[1], _report("sha256:b", "pass")))
        time.sleep(0.01)
        store.begin("lenient", LENIENT, refs)
        store.record("lenient", LENIENT, _done(refs[0], _report("sha256:o", "pass", "low", ("AIR403",))))
        store.record("lenient", LENIENT, _done(refs[1], _report("sha256:b", "pass")))
        previous = store.previous(refs[0], LENIENT)
        assert previous is not None and (previous.decision, previous.policy_digest) == (
            "fail",
            KEY.policy_digest,
        )
        assert store.previous("hf://never/seen@3", LENIENT) is None
        document = fleet_report.build(store, LENIENT, refs, "lenient")
    finally:
        store.close()
    assert [(c["reference"], c["previous_decision"], c["decision"]) for c in document["changed"]] == [
        (refs[0], "fail", "pass")
    ]
    fleet_report.export(document, tmp_path / "rows.csv")
    with open(tmp_path / "rows.csv", newline="") as fh:
        exported = {r["reference"]: r for r in csv.DictReader(fh)}
    assert (exported[refs[0]]["changed"], exported[refs[1]]["changed"]) == ("True", "False")
    pq = pytest.importorskip("pyarrow.parquet")
    fleet_report.export(document, tmp_path / "rows.parquet")
    assert sorted(pq.read_table(tmp_path / "rows.parquet").column("reference").to_pylist()) == sorted(refs)


def test_store_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for url, path in (
        ("plain.sqlite3", tmp_path / "plain.sqlite3"),
        (f"sqlite://{tmp_path}/abs.sqlite3", tmp_path / "abs.sqlite3"),  # sqlite:///… is absolute
        ("sqlite://rel/x.sqlite3", tmp_path / "rel" / "x.sqlite3"),
    ):
        store = open_store(url)
        assert isinstance(store, SqlStore) and store.engine == "sqlite" and path.is_file(), url
        store.close()
    SqliteStore(tmp_path / "nested" / "s.sqlite3").close()
    with pytest.raises(DatabaseError, match="unsupported --store 'localhost/db'"):
        open_store("mysql://root:secret@localhost/db")
    (tmp_path / "not-a-db").write_bytes(b"x" * 4096)
    with pytest.raises(DatabaseError, match="not-a-db: cannot open the SQLite database"):
        open_store(tmp_path / "not-a-db")


def test_an_unreachable_postgresql_is_one_line_without_the_password() -> None:
    pytest.importorskip("psycopg")
    with pytest.raises(DatabaseError) as raised:
        open_store(f"postgresql://fleet:hunter2@127.0.0.1:{free_port()}/fleet")
    message = str(raised.value)
    assert "cannot open the PostgreSQL database" in message and "127.0.0.1" in message
    assert "hunter2" not in message and "\n" not in message


def test_the_postgresql_store_is_postgresql(pg_server: postgres.PostgresServer) -> None:
    store = open_store(pg_server.database())
    try:
        assert isinstance(store, SqlStore) and store.engine == "postgresql"
    finally:
        store.close()
