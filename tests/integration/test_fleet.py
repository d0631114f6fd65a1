"""`airlock fleet` against the local Hub-speaking server: a local process pool and a real local Ray.

One server holds a generated fleet (benign and malicious repos), a repo that always stalls, and a
flaky one (503 twice, then fine). The Ray tests share one `ray.init(num_cpus=2)` for the module; the
killed-worker test finds the worker through the marker file the task writes under a test hook, kills
it, and checks the scan ran again and was recorded once. Everything is bounded: seconds-long
timeouts, a stall cut short when the server stops.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from airlock.fleet import report as fleet_report
from airlock.fleet.executors import Limits, LocalExecutor, RayExecutor, Resources
from airlock.fleet.jobs import HOLD_ENV, MARKER_ENV, Job, Outcome
from airlock.fleet.runner import run_fleet
from airlock.fleet.store import Key, SqliteStore
from airlock.policy import default_policy, parse_policy
from airlock.rules import load_rules
from fixtures import postgres
from fixtures.fleet import FleetRepo, populate, repo_files
from fixtures.hub_server import HubRepo, HubServer
from fixtures.service import free_port
from tests.conftest import assert_valid_report

FLEET_SIZE = 50
# per-repo limit: the stalled repo must hit it, the others must not. At 8 s an ordinary repo of the
# Ray run timed out on this 2-core machine at load 4.5 (other jobs running); 20 s leaves room.
TIMEOUT_S = 20.0


@pytest.fixture(scope="module")
def hub() -> Iterator[HubServer]:
    with HubServer() as server:
        yield server


@pytest.fixture(scope="module")
def fleet(hub: HubServer) -> list[FleetRepo]:
    return populate(hub, FLEET_SIZE)


@pytest.fixture(scope="module")
def stalled(hub: HubServer) -> str:
    sha = hub.add_repo(HubRepo("slow/stalls", repo_files("benign", "slow/stalls", 0)))
    hub.stall_repo("slow/stalls", 120.0)  # cut short when the server stops
    return f"hf://slow/stalls@{sha}"


@pytest.fixture
def env(hub: HubServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    monkeypatch.delenv("HF_TOKEN", raising=False)


def _flaky(hub: HubServer, name: str, failures: int) -> str:
    repo_id = f"flaky/{name}"
    sha = hub.add_repo(HubRepo(repo_id, repo_files("benign", repo_id, 0)))
    hub.fail_requests(repo_id, failures)
    return f"hf://{repo_id}@{sha}"


def _job(hub: HubServer, **extra):
    policy = extra.pop("policy", default_policy())
    return lambda ref: Job(ref, policy, endpoint=hub.url, backoff_s=0.2, **extra)


def _key(policy=None) -> Key:
    return Key(load_rules().version, (policy or default_policy()).digest)


def _decisions(store: SqliteStore, key: Key) -> dict[str, str | None]:
    return {r.reference: r.decision if r.status == "done" else r.status for r in store.rows(key)}


# -- local executor ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_local_pool_scans_triages_times_out_retries_and_resumes(
    env, hub: HubServer, fleet: list[FleetRepo], stalled: str, tmp_path: Path, report_schema
) -> None:
    chosen = fleet[:7]
    flaky = _flaky(hub, "local", failures=2)
    refs = [r.reference for r in chosen] + [stalled, flaky]
    store = SqliteStore(tmp_path / "fleet.sqlite3")
    key = _key()
    executor = LocalExecutor(workers=2, limits=Limits(timeout_s=TIMEOUT_S, max_retries=1))
    summary = tmp_path / "summary.json"

    result = run_fleet(refs, _job(hub), executor, store, key, summary=summary)

    decisions = _decisions(store, key)
    assert {r.reference: decisions[r.reference] for r in chosen} == {r.reference: r.expected for r in chosen}
    rows = {r.reference: r for r in store.rows(key)}
    assert rows[stalled].status == "error" and "timed out" in (rows[stalled].error or "")
    assert rows[flaky].decision == "pass" and rows[flaky].attempts == 3  # two 503s, retried with backoff
    for repo in chosen:  # the malicious ones were decided from their headers, without the large file
        row = rows[repo.reference]
        assert row.triaged == (repo.expected == "fail"), repo
        if row.triaged:
            assert row.bytes_fetched < 512 << 10 < row.bytes_total
            report = store.report(row.digest or "", key)
            assert report is not None
            assert_valid_report(report, report_schema)
    progress = json.loads(summary.read_text())
    assert (progress["passed"], progress["errors"], progress["remaining"]) == (
        result.progress.passed,
        1,
        0,
    )
    assert progress["bytes_saved_by_triage"] > 2 * (1 << 20)

    ran: list[str] = []

    class Counting(LocalExecutor):
        def run(self, jobs, emit):
            ran.extend(j.reference for j in jobs)
            super().run(jobs, emit)

    again = run_fleet(refs, _job(hub), Counting(workers=1, limits=Limits(timeout_s=1.0)), store, key)
    assert ran == [stalled]  # done ones are skipped; the failed one is tried again
    assert again.progress.skipped == len(refs) - 1
    store.close()


def test_an_interrupted_run_resumes_with_what_is_missing(
    env, hub: HubServer, fleet: list[FleetRepo], tmp_path: Path
) -> None:
    refs = [r.reference for r in fleet[:6]]
    store = SqliteStore(tmp_path / "fleet.sqlite3")
    key = _key()

    class Interrupted(LocalExecutor):
        def run(self, jobs, emit):
            seen = []

            def stop_after_two(outcome: Outcome) -> None:
                emit(outcome)
                seen.append(outcome)
                if len(seen) == 2:
                    raise KeyboardInterrupt

            super().run(jobs, stop_after_two)

    with pytest.raises(KeyboardInterrupt):
        run_fleet(refs, _job(hub), Interrupted(workers=2), store, key)
    statuses = [r.status for r in store.rows(key)]
    assert statuses.count("done") == 2 and statuses.count("pending") == 4

    resumed = run_fleet(refs, _job(hub), LocalExecutor(workers=2), store, key)
    assert resumed.progress.skipped == 2 and resumed.progress.finished == 4
    assert _decisions(store, key) == {r.reference: r.expected for r in fleet[:6]}
    store.close()


def test_a_new_policy_reports_changed_verdicts_and_exports(
    env, hub: HubServer, fleet: list[FleetRepo], tmp_path: Path, cli
) -> None:
    overlap = next(r for r in fleet if r.kind == "overlap_large")
    benign = next(r for r in fleet if r.kind == "benign")
    listing = tmp_path / "refs.txt"
    listing.write_text(f"# two models\n{overlap.reference}\n\n{benign.reference}\n")
    store = tmp_path / "fleet.sqlite3"
    common = ("fleet", "--from", listing, "--store", store, "--workers", "1", "--timeout", "60")
    first = cli(*common, "--format", "json")
    assert first.code == 1, first.err
    assert first.json()["counts"] == first.json()["counts"] | {"models": 2, "pass": 1, "fail": 1, "error": 0}

    lenient = tmp_path / "lenient.toml"
    lenient.write_text(
        'name = "lenient"\nfail_at = "high"\nrequired_scanners = ["provenance"]\n[severity]\nAIR403 = "low"\n'
    )
    parse_policy(lenient.read_text(), str(lenient))  # a valid policy
    out = tmp_path / "report.html"
    second = cli(
        *common, "--policy", lenient, "--format", "html", "--output", out, "--export", tmp_path / "rows.csv"
    )
    assert second.code == 0, second.err
    page = out.read_text()
    assert "Changed since the last run" in page and overlap.reference in page and "<script" not in page
    with open(tmp_path / "rows.csv", newline="") as fh:
        rows = {r["reference"]: r for r in csv.DictReader(fh)}
    assert (
        rows[overlap.reference]["previous_decision"] == "fail"
        and rows[overlap.reference]["changed"] == "True"
    )
    assert rows[benign.reference]["changed"] == "False"

    markdown = cli(
        *common, "--policy", lenient, "--format", "markdown", "--export", tmp_path / "rows.parquet"
    )
    assert markdown.code == 0 and "## Changed since the last run" in markdown.out
    pq = pytest.importorskip("pyarrow.parquet")
    assert pq.read_table(tmp_path / "rows.parquet").num_rows == 2


def test_bad_fleet_input_is_one_clear_line(cli, tmp_path: Path) -> None:
    nothing = cli("fleet", "--store", tmp_path / "s.sqlite3")
    assert nothing.code == 2 and "no references" in nothing.err
    unreachable = f"postgresql://airlock:hunter2@127.0.0.1:{free_port()}/airlock"
    postgres = cli("fleet", "x/y", "--store", unreachable)
    assert postgres.code == 2 and "PostgreSQL" in postgres.err and len(postgres.err.strip().splitlines()) == 1
    assert "hunter2" not in postgres.err


def test_a_fleet_on_postgresql_skips_done_work_and_records_nothing_twice(
    env, hub: HubServer, fleet: list[FleetRepo], pg_server: postgres.PostgresServer, tmp_path: Path, cli
) -> None:
    import psycopg

    chosen = [fleet[i] for i in (0, 2, 3, 4, 5)]  # two benign, three decided by triage
    listing = tmp_path / "refs.txt"
    listing.write_text("".join(f"{r.reference}\n" for r in chosen))
    url = pg_server.database()
    args = (
        "fleet",
        "--from",
        listing,
        "--store",
        url,
        "--workers",
        "2",
        "--timeout",
        "60",
        "--format",
        "json",
    )
    first = cli(*args)
    assert first.code == 1, first.err
    document = first.json()
    assert {m["reference"]: m["decision"] for m in document["models"]} == {
        r.reference: r.expected for r in chosen
    }

    again = cli(*args)
    assert again.code == 1 and "0/0 scanned" in again.err and f"{len(chosen)} already done" in again.err
    assert again.json()["models"] == document["models"] and again.json()["run_id"] != document["run_id"]
    with psycopg.connect(url) as db:
        refs = db.execute("SELECT run_id, status, COUNT(*) FROM refs GROUP BY run_id, status").fetchall()
        assert refs == [(document["run_id"], "done", len(chosen))]  # written by the first run only
        results = db.execute("SELECT COUNT(*), COUNT(DISTINCT digest) FROM results").fetchone()
        assert results == (len(chosen), len(chosen))
        assert db.execute("SELECT COUNT(*) FROM runs").fetchone() == (2,)


def test_hub_query_pins_listed_models(env, hub: HubServer, fleet: list[FleetRepo]) -> None:
    from airlock.fleet.refs import hub_query

    pinned = hub_query("author:fleet", limit=5)
    assert pinned == [r.reference for r in sorted(fleet, key=lambda r: r.repo_id)[:5]]
    assert hub_query("gguf-absurd", limit=100) == [
        r.reference for r in fleet if r.kind == "gguf_absurd_large"
    ]


# -- Ray --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ray_cluster(hub: HubServer) -> Iterator[object]:
    pytest.importorskip("ray")
    from airlock.fleet.executors import start_ray

    ray = start_ray(num_cpus=2, tries=3)  # a loaded machine can need more than Ray's 30 s to start a node
    yield ray
    ray.shutdown()


@pytest.mark.slow
def test_fifty_repos_on_local_ray_from_the_command_line(
    env, ray_cluster, hub: HubServer, fleet: list[FleetRepo], stalled: str, tmp_path: Path, cli
) -> None:
    flaky = _flaky(hub, "ray", failures=2)
    listing = tmp_path / "refs.txt"
    listing.write_text("\n".join([r.reference for r in fleet] + [stalled, flaky]) + "\n")
    store = tmp_path / "fleet.sqlite3"
    args = ("fleet", "--executor", "ray", "--from", listing, "--store", store, "--timeout", str(TIMEOUT_S))
    result = cli(*args, "--format", "json", "--summary", tmp_path / "summary.json")
    assert result.code == 2, result.err  # the stalled repo could not be scanned
    document = result.json()
    models = {m["reference"]: m for m in document["models"]}
    errors = {m["error"] for m in models.values() if m["error"]}
    assert {r.reference: models[r.reference]["decision"] for r in fleet} == {
        r.reference: r.expected for r in fleet
    }, errors
    assert models[stalled]["status"] == "error" and "timed out" in models[stalled]["error"]
    assert models[flaky]["decision"] == "pass" and models[flaky]["attempts"] >= 3
    malicious = sum(r.expected == "fail" for r in fleet)
    assert document["counts"]["fail"] == malicious == document["counts"]["triage_decided"]
    assert document["by_rule"]["AIR403"] and document["by_rule"]["AIR422"] and document["by_rule"]["AIR201"]
    assert [m["decision"] for m in document["models"][:malicious]] == ["fail"] * malicious  # worst first
    assert "fleet:" in result.err and "ETA" in result.err

    again = cli(
        *args, "--format", "json", "--timeout", "2"
    )  # done ones are skipped; only the stalled one runs
    assert again.code == 2 and "1 remaining" in again.err.splitlines()[0]
    with sqlite3.connect(store) as db:
        assert db.execute("SELECT COUNT(*) FROM refs").fetchone()[0] == len(fleet) + 2


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["local", "ray"])
def test_a_killed_worker_is_retried_and_recorded_once(
    kind: str,
    env,
    request: pytest.FixtureRequest,
    hub: HubServer,
    fleet: list[FleetRepo],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if kind == "ray":
        request.getfixturevalue("ray_cluster")
    victim = fleet[0]  # benign: a full scan, so the retry does the whole job again
    refs = [victim.reference]
    markers = tmp_path / "markers"
    markers.mkdir()
    monkeypatch.setenv(MARKER_ENV, str(markers))
    monkeypatch.setenv(HOLD_ENV, victim.repo_id)
    killed: list[int] = []

    def kill_the_holder() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not killed:
            for marker in markers.iterdir():
                if marker.read_text() == victim.reference:
                    pid = int(marker.name.rsplit(".", 1)[1])
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                    return
            time.sleep(0.05)

    store = SqliteStore(tmp_path / "fleet.sqlite3")
    key = _key()
    outcomes: list[Outcome] = []
    limits = Limits(timeout_s=90.0, max_retries=2)
    executor: LocalExecutor | RayExecutor = (
        LocalExecutor(workers=1, limits=limits)
        if kind == "local"
        else RayExecutor(limits=limits, resources=Resources(num_cpus=1))
    )
    killer = threading.Thread(target=kill_the_holder)
    killer.start()

    class Recording:
        def run(self, jobs, emit):
            def record(outcome: Outcome) -> None:
                outcomes.append(outcome)
                emit(outcome)

            executor.run(jobs, record)

    run_fleet(refs, _job(hub), Recording(), store, key)  # type: ignore[arg-type]
    killer.join()

    assert killed, "the held task never wrote its marker"
    tries = sorted(
        int(m.name.rsplit(".", 1)[1]) for m in markers.iterdir() if m.read_text() == victim.reference
    )
    assert len(tries) == 2 and killed[0] in tries
    mine = [o for o in outcomes if o.reference == victim.reference]
    assert len(mine) == 1 and mine[0].status == "done" and mine[0].pid != killed[0]
    rows = [r for r in store.rows(key) if r.reference == victim.reference]
    assert len(rows) == 1 and rows[0].decision == "pass"
    assert store.count_results(key) == 1  # one result per model digest, however many tries
    store.close()


def test_fleet_report_renders_worst_first(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.sqlite3")
    key = Key("r1", "p1")
    store.begin("run", key, ["a", "b", "c"])
    report = {
        "target": {"digest": "sha256:1"},
        "verdict": {"decision": "fail", "max_severity": "critical"},
        "findings": [{"rule": "AIR201", "severity": "critical"}],
    }
    store.record("run", key, {"reference": "b", "status": "done", "report": report})
    store.record("run", key, {"reference": "a", "status": "error", "error": "boom | <b>"})
    document = fleet_report.build(store, key, ["a", "b", "c"])
    assert [m["reference"] for m in document["models"]] == ["b", "a", "c"]
    assert fleet_report.exit_code(document) == 2
    assert "boom \\| <b>" in fleet_report.render(document, "markdown")
    assert "boom | &lt;b&gt;" in fleet_report.render(document, "html")
    store.close()


# -- header-first triage ----------------------------------------------------------------------------


def _triage(hub: HubServer, repo_id: str, files: dict[str, bytes], tmp_path: Path):
    from airlock.fleet.triage import triage_reference
    from airlock.sources.interface import parse_reference

    sha = hub.add_repo(HubRepo(repo_id, files))
    return triage_reference(parse_reference(f"hf://{repo_id}@{sha}"), default_policy(), hub.url, tmp_path)


def test_triage_decides_from_a_header_without_the_weights(env, hub: HubServer, tmp_path: Path) -> None:
    from fixtures.fleet import overlapping_safetensors

    big = overlapping_safetensors(4 << 20)
    report, facts = _triage(hub, "triage/overlap", {"model.safetensors": big}, tmp_path)
    assert report is not None and not report.passed
    assert [f.rule for f in report.findings if f.severity >= 3] == ["AIR403"]
    assert facts["decided"] and facts["bytes_fetched"] < 1024 and facts["bytes_saved"] > len(big) - 1024
    assert report.target.digest.startswith("sha256:") and report.artifacts[0].size == len(big)


def test_triage_reads_eight_bytes_of_an_absurd_length(env, hub: HubServer, tmp_path: Path) -> None:
    import struct

    absurd = struct.pack("<Q", 1 << 40) + b'{"a":1}' + bytes(2 << 20)
    report, facts = _triage(hub, "triage/absurd", {"model.safetensors": absurd}, tmp_path)
    assert report is not None and {f.rule for f in report.findings} == {"AIR401"}
    assert facts["bytes_fetched"] <= 64


def test_triage_leaves_clean_headers_and_bad_listings_to_the_full_scan(
    env, hub: HubServer, tmp_path: Path
) -> None:
    from fixtures.fleet import benign_weights

    clean, facts = _triage(hub, "triage/clean", {"model.safetensors": benign_weights(2 << 20)}, tmp_path)
    assert clean is None and not facts["decided"] and facts["headers_read"] == ["model.safetensors"]

    sha = hub.add_repo(HubRepo("triage/tampered", repo_files("pickle_beside_large", "triage/tampered", 0)))
    hub.corrupt("triage/tampered", "training_args.bin")  # the bytes no longer match the listed sha256
    from airlock.fleet.triage import triage_reference
    from airlock.sources.interface import parse_reference

    ref = parse_reference(f"hf://triage/tampered@{sha}")
    assert triage_reference(ref, default_policy(), hub.url, tmp_path)[0] is None
