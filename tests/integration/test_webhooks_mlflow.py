"""The MLflow registry webhook against a real MLflow tracking server (SQLite backend) started here.

The webhook is registered in MLflow itself, so MLflow delivers `model_version.created` to the running
`airlock serve` with its own HMAC signature; the service scans the version's artifacts (downloaded
through MLflow's artifact API) and writes the verdict back. The tests read the tags and the alias
through `MlflowClient`. Signature, replay and staleness refusals are checked with deliveries signed
exactly as MLflow signs them (its own `_generate_hmac_signature`).
"""

from __future__ import annotations

import contextlib
import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("mlflow")

from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.webhooks.delivery import _generate_hmac_signature
from safetensors.numpy import save

from airlock.service.db import Database
from airlock.service.webhooks_mlflow import signature
from fixtures import pickles
from fixtures.mlflow_server import MlflowServer
from fixtures.service import ServiceProcess

pytestmark = pytest.mark.slow

SECRET = "mlflow-webhook-secret-0123456789"


@dataclass(frozen=True)
class World:
    mlflow: MlflowServer
    service: ServiceProcess
    client: MlflowClient
    root: Path
    allowlist: Path
    pubkey: Path


def _service(root: Path, allowlist: Path, pubkey: Path, mlflow_url: str) -> ServiceProcess:
    return ServiceProcess(
        allowlist,
        [pubkey],
        root / "service",
        extra=["--workers", "1", "--public-url", "https://airlock.example.test"],
        env={"AIRLOCK_MLFLOW_WEBHOOK_SECRET": SECRET, "MLFLOW_TRACKING_URI": mlflow_url},
    )


def _airlock(*args: object) -> int:
    from airlock.cli.main import main

    with pytest.raises(SystemExit) as exit_info:
        main([str(a) for a in args])
    return int(exit_info.value.code or 0)


def _wait(what: Callable[[], Any], timeout: float, message: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := what():
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout:.0f} s: {message}")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("mlflow-hooks")
    local = root / "signed-model"
    local.mkdir()
    (local / "model.safetensors").write_bytes(save({"w": np.zeros((2, 2), dtype=np.float32)}))
    key, allowlist = root / "team.key", root / "allowlist.jsonl"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AIRLOCK_CACHE_DIR", str(root / "signer-cache"))
        assert _airlock("keygen", key) == 0
        assert _airlock("sign", local, "--key", key, "--allowlist", allowlist) == 0
    pubkey = Path(f"{key}.pub")
    with MlflowServer(root / "mlflow") as server, _service(root, allowlist, pubkey, server.url) as service:
        client = MlflowClient(tracking_uri=server.url)
        client.create_webhook(
            name="airlock",
            url=f"{service.url}/v1/webhooks/mlflow",
            events=["model_version.created"],
            secret=SECRET,
        )
        yield World(server, service, client, root, allowlist, pubkey)


def _log_model(world: World, name: str, files: dict[str, bytes]) -> tuple[str, str]:
    """A run whose `model` artifacts are `files` (uploaded through the tracking server): (source, run id)."""
    folder = world.root / f"upload-{name}-{uuid.uuid4().hex[:6]}"
    folder.mkdir()
    for rel, data in files.items():
        (folder / rel).write_bytes(data)
    client = world.client
    experiment = client.get_experiment_by_name("airlock") or client.get_experiment(
        client.create_experiment("airlock")
    )
    run = client.create_run(experiment.experiment_id)
    client.log_artifacts(run.info.run_id, str(folder), "model")
    client.set_terminated(run.info.run_id)
    return f"{run.info.artifact_uri}/model", run.info.run_id


def _tags(world: World, name: str, version: str) -> dict[str, str] | None:
    tags = dict(world.client.get_model_version(name, version).tags)
    return tags if tags.get("airlock.status") == "done" else None


def _vetted(world: World, name: str) -> str | None:
    try:
        return str(world.client.get_model_version_by_alias(name, "vetted").version)
    except MlflowException:
        return None


def test_a_registered_version_is_scanned_and_tagged_and_only_a_pass_moves_the_alias(world: World) -> None:
    client = world.client
    clean = {"model.safetensors": save({"dense.weight": np.ones((4, 4), dtype=np.float32)})}
    evil_dir = world.root / "evil"
    evil_dir.mkdir()
    evil = {"model.pkl": pickles.os_system_canary(evil_dir).read_bytes()}

    client.create_registered_model("classifier")
    source, run_id = _log_model(world, "clean", clean)
    v1 = client.create_model_version("classifier", source, run_id=run_id).version
    tags = _wait(lambda: _tags(world, "classifier", v1), 180, "the verdict of version 1 written back")
    assert tags["airlock.verdict"] == "pass"
    assert tags["airlock.digest"].startswith("sha256:")
    assert tags["airlock.report"] == f"https://airlock.example.test/v1/scans/{tags['airlock.scan']}"
    assert _vetted(world, "classifier") == str(v1)

    source, run_id = _log_model(world, "evil", evil)
    v2 = client.create_model_version("classifier", source, run_id=run_id).version
    tags = _wait(lambda: _tags(world, "classifier", v2), 180, "the verdict of version 2 written back")
    assert tags["airlock.verdict"] == "fail"
    assert _vetted(world, "classifier") == str(v1)  # a failing version never takes the alias

    status, scan = world.service.json("GET", f"/v1/scans/{tags['airlock.scan']}")
    assert status == 200 and scan["reference"] == f"models:/classifier/{v2}"
    assert "AIR201" in {f["rule"] for f in scan["report"]["findings"]}
    db = Database(f"sqlite://{world.service.db}")
    try:
        deliveries = [r for r in db.audit_rows(1000) if r.get("event") == "model_version.created"]
    finally:
        db.close()
    assert {r["reference"] for r in deliveries} == {f"models:/classifier/{v1}", f"models:/classifier/{v2}"}
    assert all(r["delivery"] for r in deliveries)  # MLflow's own delivery ids: it delivered them itself


def _post(world: World, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    request = urllib.request.Request(f"{world.service.url}/v1/webhooks/mlflow", data=body, method="POST")
    for name, value in {"Content-Type": "application/json", **headers}.items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _delivery(
    secret: str = SECRET, stamp: float | None = None, version: str = "99"
) -> tuple[bytes, dict[str, str]]:
    """A `model_version.created` delivery built and signed the way MLflow's delivery code does it."""
    payload = {
        "entity": "model_version",
        "action": "created",
        "timestamp": "2026-12-05T00:00:00+00:00",
        "data": {"name": "manual", "version": version, "source": "models:/m-1", "run_id": None, "tags": {}},
    }
    text = json.dumps(payload)
    delivery, timestamp = str(uuid.uuid4()), str(int(stamp if stamp is not None else time.time()))
    headers = {
        "X-MLflow-Delivery-Id": delivery,
        "X-MLflow-Timestamp": timestamp,
        "X-MLflow-Signature": _generate_hmac_signature(secret, delivery, timestamp, text),
    }
    return text.encode(), headers


def test_our_signature_is_mlflows() -> None:
    body, headers = _delivery()
    ours = signature(SECRET, headers["X-MLflow-Delivery-Id"], headers["X-MLflow-Timestamp"], body)
    assert ours == headers["X-MLflow-Signature"]


def test_a_wrong_signature_is_refused(world: World) -> None:
    body, headers = _delivery(secret="not-the-secret-0123456789")
    assert _post(world, body, headers)[0] == 401
    body, headers = _delivery()
    assert _post(world, body + b" ", headers)[0] == 401  # the body changed after signing
    assert _post(world, body, {k: v for k, v in headers.items() if k != "X-MLflow-Signature"})[0] == 401


def test_a_replayed_or_stale_delivery_is_refused(world: World) -> None:
    body, headers = _delivery(version="100")
    status, answer = _post(world, body, headers)
    assert status == 202 and answer["reference"] == "models:/manual/100"
    status, answer = _post(world, body, headers)
    assert status == 401 and "already accepted" in answer["detail"]
    body, headers = _delivery(stamp=time.time() - 3600, version="101")
    status, answer = _post(world, body, headers)
    assert status == 401 and "window" in answer["detail"]
    metrics = world.service.get("/metrics")[2].decode()
    assert 'airlock_webhook_events_total{outcome="replayed",source="mlflow"} 1.0' in metrics


def test_a_restart_between_delivery_and_verdict_loses_no_write_back(world: World) -> None:
    """The pending tag is the durable record: a new process picks the version up and writes it back."""
    client = world.client
    source, run_id = _log_model(
        world, "late", {"model.safetensors": save({"w": np.ones(3, dtype=np.float32)})}
    )
    version = client.create_model_version("classifier", source, run_id=run_id).version

    def delivered() -> bool:
        return "airlock.status" in client.get_model_version("classifier", version).tags

    _wait(delivered, 60, "MLflow's delivery of the new version")
    world.service.stop()  # the scan may be queued, running or done; the old process is gone either way
    with contextlib.suppress(MlflowException):  # in case the old process wrote back before it stopped
        client.delete_model_version_tag("classifier", version, "airlock.verdict")
    client.set_model_version_tag("classifier", version, "airlock.status", "pending")
    with _service(world.root, world.allowlist, world.pubkey, world.mlflow.url):
        tags = _wait(lambda: _tags(world, "classifier", version), 180, "the write-back after the restart")
    assert tags["airlock.verdict"] == "pass"
    assert _vetted(world, "classifier") == str(version)
