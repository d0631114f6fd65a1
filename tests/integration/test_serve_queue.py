"""The scan queue across crashes and replicas, on SQLite and on a real PostgreSQL server.

Real servers only: `airlock serve` in child processes on 127.0.0.1, a local Hub stand-in that holds a
download (`HubServer.stall`) so a scan is in flight for as long as the test needs, and a throwaway
PostgreSQL cluster (`fixtures.postgres`, Debian's binaries installed by `make postgres`; the
PostgreSQL cases skip only where those are absent).
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from safetensors.numpy import save

from airlock.service.db import Database
from fixtures import postgres
from fixtures.hub_server import HubRepo, HubServer
from fixtures.service import ServiceProcess
from tests.conftest import skip_without_postgres

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class World:
    hub: HubServer
    root: Path
    allowlist: Path
    pubkey: Path


def _weights(seed: int) -> dict[str, bytes]:
    return {
        "config.json": json.dumps({"model_type": "bert", "seed": seed}).encode(),
        "model.safetensors": save({"w": np.full((8, 8), seed, dtype=np.float32)}),
    }


def _airlock(*args: object) -> None:
    from airlock.cli.main import main

    with pytest.raises(SystemExit) as exit_info:
        main([str(a) for a in args])
    assert not exit_info.value.code


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("queue")
    local = root / "signed-model"
    local.mkdir()
    (local / "model.safetensors").write_bytes(_weights(0)["model.safetensors"])
    key, allowlist = root / "team.key", root / "allowlist.jsonl"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AIRLOCK_CACHE_DIR", str(root / "signer-cache"))
        _airlock("keygen", key)
        _airlock("sign", local, "--key", key, "--allowlist", allowlist)
    with HubServer() as hub:
        yield World(hub, root, allowlist, Path(f"{key}.pub"))


def _service(
    world: World, workdir: Path, db: str | None, *extra: str, env: dict[str, str] | None = None
) -> ServiceProcess:
    env = {"HF_ENDPOINT": world.hub.url, "HF_HOME": str(workdir / "hf-home"), **(env or {})}
    return ServiceProcess(world.allowlist, [world.pubkey], workdir, db=db, env=env, extra=list(extra))


def _wait(what: Callable[[], Any], timeout: float, message: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = what()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f} s: {message}")


def _scan(server: ServiceProcess, sid: str) -> dict[str, Any]:
    status, scan = server.json("GET", f"/v1/scans/{sid}")
    assert status == 200, scan
    return dict(scan)


def _finished_audit(db_url: str, sid: str) -> list[dict[str, Any]]:
    db = Database(db_url)
    try:
        assert db.verify_audit() is None
        return [row for row in db.audit_rows(10_000) if row["endpoint"] == "scan" and row["scan"] == sid]
    finally:
        db.close()


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_kill_9_during_a_scan_then_restart_finishes_the_job_exactly_once(
    engine: str, world: World, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    db = request.getfixturevalue("pg_server").database() if engine == "postgresql" else None
    repo = f"acme/crash-{engine}"
    sha = world.hub.add_repo(HubRepo(repo, _weights(1)))
    world.hub.stall(repo, "model.safetensors", 60.0)  # the first download hangs: the scan is in flight
    stalled = world.hub.stalled
    reference = f"hf://{repo}@{sha}"
    workdir = tmp_path / "server"
    with _service(world, workdir, db, "--scan-lease", "2") as first:
        answer = first.json("POST", "/v1/admissions", {"reference": reference})[1]
        assert answer["decision"] == "pending"
        sid = answer["scan"]
        _wait(lambda: world.hub.stalled > stalled, 60, "the scan's download to start")
        running = _scan(first, sid)
        assert (running["status"], running["attempts"]) == ("running", 1)
        first.kill()  # SIGKILL mid-scan: no shutdown handler runs, the job stays `running`
        db_url = first.db_url
    with _service(world, workdir, db, "--scan-lease", "2") as second:
        done = _wait(lambda: (s := _scan(second, sid))["status"] in ("done", "error") and s, 120, "the retry")
        assert (done["status"], done["verdict"], done["attempts"]) == ("done", "pass", 2), done
        assert done["worker"] != running["worker"]
        time.sleep(1.0)  # a duplicate would show up now: nothing else holds or claims the job
        assert len(_finished_audit(db_url, sid)) == 1
        assert _scan(second, sid)["attempts"] == 2
        again = second.json("POST", "/v1/admissions", {"reference": reference})[1]
        assert again["scan"] == sid and "waiting for a signer" in again["reason"]  # cached: no new scan


def test_a_shutdown_mid_scan_requeues_the_job_and_leaves_no_scratch(world: World, tmp_path: Path) -> None:
    """SIGTERM: the worker kills its scan, requeues it, removes the scan's temporary files, then exits."""
    repo = "acme/shutdown"
    sha = world.hub.add_repo(HubRepo(repo, _weights(2)))
    world.hub.stall(repo, "model.safetensors", 60.0)
    stalled = world.hub.stalled
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    server = _service(world, tmp_path / "server", None, "--scan-lease", "30", env={"TMPDIR": str(scratch)})
    with server:
        sid = server.json("POST", "/v1/admissions", {"reference": f"hf://{repo}@{sha}"})[1]["scan"]
        _wait(lambda: world.hub.stalled > stalled, 60, "the scan's download to start")
        assert [p.name.startswith("airlock-scan-") for p in scratch.iterdir()] == [True]
        db_url = server.db_url
        started = time.monotonic()
        server.signal(signal.SIGTERM)
        assert server.process is not None
        server.process.wait(timeout=30)
        assert time.monotonic() - started < 15  # not held for the lease, nor until the stall ends
    assert list(scratch.iterdir()) == []
    db = Database(db_url)
    try:
        job = db.scan(sid)
    finally:
        db.close()
    assert job is not None and (job.status, job.error) == ("queued", "interrupted by a shutdown")


def test_two_replicas_on_one_postgresql_take_distinct_jobs(
    pg_server: postgres.PostgresServer, world: World, tmp_path: Path
) -> None:
    db = pg_server.database()
    references = []
    for n in range(4):
        repo = f"acme/replica-{n}"
        sha = world.hub.add_repo(HubRepo(repo, _weights(10 + n)))
        world.hub.stall(repo, "model.safetensors", 1.5)  # each scan takes a while: both replicas get work
        references.append(f"hf://{repo}@{sha}")
    with (
        _service(world, tmp_path / "a", db, "--scan-lease", "5") as a,
        _service(world, tmp_path / "b", db, "--scan-lease", "5") as b,
    ):
        ids = []
        for n, reference in enumerate(references):
            replica = (a, b)[n % 2]
            ids.append(replica.json("POST", "/v1/admissions", {"reference": reference})[1]["scan"])
            # both replicas see the same queue: asking the other one finds the same scan
            assert (b, a)[n % 2].json("POST", "/v1/admissions", {"reference": reference})[1]["scan"] == ids[
                -1
            ]

        def all_done() -> list[dict[str, Any]] | None:
            scans = [_scan(a, sid) for sid in ids]
            return scans if all(s["status"] == "done" for s in scans) else None

        scans = _wait(all_done, 120, "four scans on two replicas")
    assert [s["attempts"] for s in scans] == [1, 1, 1, 1]
    processes = {s["worker"].rsplit("/", 1)[0] for s in scans}
    assert len(processes) == 2, scans  # both replicas scanned, neither took a job the other held
    for sid in ids:
        assert len(_finished_audit(db, sid)) == 1


def test_fail_open_is_per_namespace_and_logged_and_everything_else_fails_closed(
    world: World, tmp_path: Path
) -> None:
    skip_without_postgres()
    from tests.integration.test_serve import pod, review

    digest = json.loads(world.allowlist.read_text().splitlines()[1])["body"]["model"]
    pg = postgres.PostgresServer()  # its own server: this test stops it
    with pg, _service(world, tmp_path / "server", pg.database(), "--fail-open", "sandbox") as server:
        assert server.json("POST", "/v1/k8s/admit", review("u0", pod(digest), "sandbox"))[1]["response"][
            "allowed"
        ]
        pg.stop()  # the database goes away: no decision can be audited
        for _ in range(2):  # the first use of the dead connection, then a reconnect that fails
            status, answer = server.json("POST", "/v1/k8s/admit", review("u1", pod(digest), "sandbox"))
            assert status == 200, answer
            response = answer["response"]
            assert response["allowed"] is True and response["auditAnnotations"]["decision"] == "fail-open"
            assert "fail-open" in response["warnings"][0]
            status, _, _ = server.request("POST", "/v1/k8s/admit", review("u2", pod(digest), "prod"))
            assert status == 500  # fail closed: the API server applies failurePolicy: Fail
            assert server.request("POST", "/v1/admissions", {"reference": digest})[0] == 500
        assert server.get("/readyz", token=None)[0] == 503
        assert server.log.read_text().count("FAIL-OPEN: namespace sandbox") == 2
        pg.start()
        _wait(lambda: server.get("/readyz", token=None)[0] == 200, 30, "readiness after the restart")
        status, answer = server.json("POST", "/v1/k8s/admit", review("u3", pod(digest), "prod"))
        assert status == 200 and answer["response"]["allowed"] is True
