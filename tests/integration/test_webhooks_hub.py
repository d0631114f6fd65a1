"""`POST /v1/webhooks/huggingface` on a real `airlock serve`, with the local Hub holding the repos.

A push to an allowlisted repo (a new commit made on the local Hub) queues a scan of the new head that
runs to its verdict; a move or delete of an allowlisted repo raises the namespace-reuse alert, which
only flags with the default policy and signs a revocation with `--hub-on-reuse revoke`.
"""

from __future__ import annotations

import json
import shutil
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("fastapi")

from safetensors.numpy import save

from airlock.service.db import Database
from fixtures.hub_server import HubRepo, HubServer
from fixtures.service import ServiceProcess

pytestmark = pytest.mark.slow

SECRET = "hub-webhook-secret-0123456789"


def _files(seed: int) -> dict[str, bytes]:
    return {
        "config.json": json.dumps({"model_type": "bert", "seed": seed}).encode(),
        "model.safetensors": save({"dense.weight": np.full((8, 8), seed, dtype=np.float32)}),
    }


@dataclass(frozen=True)
class World:
    hub: HubServer
    root: Path
    key: Path
    allowlist: Path
    signed_sha: str
    stranger_sha: str


def _airlock(*args: object) -> int:
    from airlock.cli.main import main

    with pytest.raises(SystemExit) as exit_info:
        main([str(a) for a in args])
    return int(exit_info.value.code or 0)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("hub-hooks")
    with HubServer() as hub, pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_ENDPOINT", hub.url)
        mp.setenv("HF_HOME", str(root / "hf-home"))
        mp.setenv("AIRLOCK_CACHE_DIR", str(root / "signer-cache"))
        mp.delenv("HF_TOKEN", raising=False)
        signed = hub.add_repo(HubRepo("acme/tiny-bert", _files(1)))
        stranger = hub.add_repo(HubRepo("someone/else", _files(2)))
        key, allowlist = root / "team.key", root / "allowlist.jsonl"
        assert _airlock("keygen", key) == 0
        assert _airlock("sign", f"hf://acme/tiny-bert@{signed}", "--key", key, "--allowlist", allowlist) == 0
        yield World(hub, root, key, allowlist, signed, stranger)


def _service(world: World, name: str, extra: list[str]) -> ServiceProcess:
    served = world.root / f"{name}.jsonl"
    shutil.copy(world.allowlist, served)
    return ServiceProcess(
        served,
        [Path(f"{world.key}.pub")],
        world.root / name,
        extra=["--workers", "1", *extra],
        env={
            "HF_ENDPOINT": world.hub.url,
            "HF_HOME": str(world.root / f"{name}-hf-home"),
            "AIRLOCK_HUB_WEBHOOK_SECRET": SECRET,
        },
    )


@pytest.fixture(scope="module")
def server(world: World) -> Iterator[ServiceProcess]:
    with _service(world, "flag", []) as process:
        yield process


def payload(
    action: str, scope: str, repo: str, head: str | None, moved_to: str | None = None
) -> dict[str, Any]:
    """A Hub webhook payload (v3) as the Hub documents it."""
    body: dict[str, Any] = {
        "event": {"action": action, "scope": scope},
        "repo": {
            "type": "model",
            "name": repo,
            "id": "6366c000a2abcdf2fd69a080",
            "private": False,
            "url": {"web": f"https://hub.invalid/{repo}", "api": f"https://hub.invalid/api/models/{repo}"},
            "owner": {"id": "61d2000c3c2083e1c08af22d"},
        },
        "webhook": {"id": "6390e855e30d9209411de93b", "version": 3},
    }
    if head is not None:
        body["repo"]["headSha"] = head
        body["updatedRefs"] = [{"ref": "refs/heads/main", "oldSha": None, "newSha": head}]
    if moved_to is not None:
        body["movedTo"] = {"name": moved_to, "owner": {"id": "61d2000c3c2083e1c08af22e"}}
    return body


def post(server: ServiceProcess, body: Any, secret: str | None = SECRET) -> tuple[int, Any]:
    request = urllib.request.Request(
        server.url + "/v1/webhooks/huggingface", data=json.dumps(body).encode(), method="POST"
    )
    request.add_header("Content-Type", "application/json")
    if secret is not None:
        request.add_header("X-Webhook-Secret", secret)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _wait(what: Callable[[], Any], timeout: float, message: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := what():
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s: {message}")


def _audit(process: ServiceProcess, event: str) -> list[dict[str, Any]]:
    db = Database(f"sqlite://{process.db}")
    try:
        return [row for row in db.audit_rows(1000) if row.get("event") == event]
    finally:
        db.close()


def test_the_secret_header_is_required(server: ServiceProcess, world: World) -> None:
    body = payload("update", "repo.content", "acme/tiny-bert", world.signed_sha)
    assert post(server, body, secret=None)[0] == 401
    assert post(server, body, secret=SECRET[:-1] + "x")[0] == 401
    assert post(server, body, secret=SECRET + "x")[0] == 401
    assert post(server, {"not": "a payload"})[0] == 400


def test_a_push_to_an_allowlisted_repo_queues_a_scan_of_the_new_commit(
    server: ServiceProcess, world: World
) -> None:
    new_sha = world.hub.commit("acme/tiny-bert", _files(7))  # a real new commit on the local Hub
    status, answer = post(server, payload("update", "repo.content", "acme/tiny-bert", new_sha))
    assert status == 202, answer
    assert answer["status"] == "queued" and answer["reference"] == f"hf://acme/tiny-bert@{new_sha}"

    def done() -> dict[str, Any] | None:
        code, scan = server.json("GET", f"/v1/scans/{answer['scan']}")
        assert code == 200 and scan["status"] != "error", scan
        return scan if scan["status"] == "done" else None

    scan = _wait(done, 120, "the re-scan of the pushed commit")
    assert scan["verdict"] == "pass" and scan["report"]["target"]["revision"] == new_sha
    code, decision = server.json("POST", "/v1/admissions", {"reference": f"hf://acme/tiny-bert@{new_sha}"})
    assert code == 200 and decision["decision"] == "pending" and "scan passed" in decision["reason"]
    [row] = [r for r in _audit(server, "push") if r["reference"] == answer["reference"]]
    assert row["caller"] == "webhook:huggingface" and row["queued"] is True


def test_events_that_concern_no_allowlisted_model_are_ignored(server: ServiceProcess, world: World) -> None:
    status, answer = post(server, payload("update", "repo.content", "someone/else", world.stranger_sha))
    assert status == 202 and answer["status"] == "ignored"
    status, answer = post(server, payload("create", "discussion", "acme/tiny-bert", None))
    assert status == 202 and answer["status"] == "ignored"
    status, answer = post(server, payload("delete", "repo", "someone/else", None))
    assert status == 202 and answer["status"] == "ignored"


def test_a_moved_allowlisted_repo_is_flagged_and_stays_admitted_by_default(
    server: ServiceProcess, world: World
) -> None:
    status, answer = post(
        server, payload("move", "repo", "acme/tiny-bert", None, moved_to="acme-archive/tiny-bert")
    )
    assert status == 200, answer
    assert answer["alert"] == "namespace-reuse" and answer["policy"] == "flag" and answer["revoked"] == []
    assert "acme-archive/tiny-bert" in answer["reason"] and len(answer["digests"]) == 1
    metrics = server.get("/metrics")[2].decode()
    assert 'airlock_namespace_reuse_alerts_total{action="move",policy="flag"} 1.0' in metrics
    [row] = _audit(server, "namespace-reuse")
    assert row["repo"] == "acme/tiny-bert" and row["moved_to"] == "acme-archive/tiny-bert"
    code, decision = server.json(
        "POST", "/v1/admissions", {"reference": f"hf://acme/tiny-bert@{world.signed_sha}"}
    )
    assert code == 200 and decision["decision"] == "allowed"


def test_with_the_revoke_policy_a_deleted_repo_is_revoked(world: World) -> None:
    key = world.key
    with _service(world, "revoke", ["--hub-on-reuse", "revoke", "--hub-revoke-key", str(key)]) as process:
        ref = f"hf://acme/tiny-bert@{world.signed_sha}"
        assert process.json("POST", "/v1/admissions", {"reference": ref})[1]["decision"] == "allowed"
        status, answer = post(process, payload("delete", "repo", "acme/tiny-bert", None))
        assert status == 200, answer
        assert (
            answer["policy"] == "revoke" and answer["revoked"] == answer["digests"] and not answer["problems"]
        )
        code, decision = process.json("POST", "/v1/admissions", {"reference": ref})
        assert code == 200 and decision["decision"] == "denied"
        assert decision["reason"].startswith("revoked") and "namespace reuse" in decision["reason"]
        served = [json.loads(line) for line in (world.root / "revoke.jsonl").read_text().splitlines()[1:]]
        assert served[-1]["kind"] == "revocation"
        status, again = post(process, payload("delete", "repo", "acme/tiny-bert", None))
        assert status == 200 and again["revoked"] == []  # already revoked: nothing signed twice
