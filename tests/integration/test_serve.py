"""`airlock serve` as a real server (uvicorn in a child process on 127.0.0.1) over a signed allowlist.

A local Hub (`fixtures.hub_server`) holds the models: one signed into the allowlist, one unknown
that the service scans in the background, one that carries a pickle payload. Decisions, auth, the
Kubernetes AdmissionReview round trip, metrics, reports and allowlist reloads are checked over HTTP.
"""

from __future__ import annotations

import json
import shutil
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

from airlock.service.db import Database, scan_id
from fixtures import pickles
from fixtures.hub_server import HubRepo, HubServer
from fixtures.service import TOKEN, ServiceProcess, self_signed

pytestmark = pytest.mark.slow


def _files(seed: int) -> dict[str, bytes]:
    weights = save({"dense.weight": np.full((8, 8), seed, dtype=np.float32)})
    return {
        "config.json": json.dumps({"model_type": "bert", "seed": seed}).encode(),
        "model.safetensors": weights,
    }


@dataclass(frozen=True)
class World:
    hub: HubServer
    root: Path
    key: Path
    allowlist: Path
    at_counter_1: Path
    signed_sha: str
    digest: str
    local_digest: str
    unknown_sha: str
    evil_sha: str


def _airlock(*args: object) -> int:
    from airlock.cli.main import main

    with pytest.raises(SystemExit) as exit_info:
        main([str(a) for a in args])
    return int(exit_info.value.code or 0)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("serve")
    with HubServer() as hub, pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_ENDPOINT", hub.url)
        mp.setenv("HF_HOME", str(root / "hf-home"))
        mp.setenv("AIRLOCK_CACHE_DIR", str(root / "signer-cache"))
        mp.delenv("HF_TOKEN", raising=False)
        signed_sha = hub.add_repo(HubRepo("acme/tiny-bert", _files(1)))
        unknown_sha = hub.add_repo(HubRepo("acme/newcomer", _files(2)))
        evil = root / "evil"
        evil.mkdir()
        payload = pickles.os_system_canary(evil).read_bytes()
        evil_sha = hub.add_repo(HubRepo("mallory/evil", {"config.json": b"{}", "pytorch_model.bin": payload}))
        local = root / "local-model"
        local.mkdir()
        (local / "model.safetensors").write_bytes(_files(3)["model.safetensors"])
        key, allowlist = root / "team.key", root / "allowlist.jsonl"
        assert _airlock("keygen", key) == 0
        assert (
            _airlock("sign", f"hf://acme/tiny-bert@{signed_sha}", "--key", key, "--allowlist", allowlist) == 0
        )
        shutil.copy(allowlist, root / "at-counter-1.jsonl")
        assert _airlock("sign", local, "--key", key, "--allowlist", allowlist) == 0
        records = [json.loads(line) for line in allowlist.read_text().splitlines()[1:]]
        yield World(
            hub,
            root,
            key,
            allowlist,
            root / "at-counter-1.jsonl",
            signed_sha,
            records[0]["body"]["model"],
            records[1]["body"]["model"],
            unknown_sha,
            evil_sha,
        )


@pytest.fixture(scope="module")
def server(world: World) -> Iterator[ServiceProcess]:
    """The service over HTTPS with a self-signed certificate that the test client verifies."""
    served = world.root / "served.jsonl"
    shutil.copy(world.allowlist, served)
    with ServiceProcess(
        served,
        [Path(f"{world.key}.pub")],
        world.root / "server",
        extra=["--namespace-mode", "staging=warn", "--workers", "1"],
        env={"HF_ENDPOINT": world.hub.url, "HF_HOME": str(world.root / "server-hf-home")},
        tls=self_signed(world.root / "tls"),
    ) as process:
        yield process


def _admit(server: ServiceProcess, reference: str) -> dict[str, Any]:
    status, answer = server.json("POST", "/v1/admissions", {"reference": reference})
    assert status == 200, answer
    return answer


def _wait(what: Callable[[], Any], timeout: float, message: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = what()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s: {message}")


def _scan_done(server: ServiceProcess, sid: str) -> dict[str, Any] | None:
    status, scan = server.json("GET", f"/v1/scans/{sid}")
    assert status == 200, scan
    if scan["status"] == "error":
        raise AssertionError(f"scan failed: {scan['error']}")
    return scan if scan["status"] == "done" else None


def review(uid: str, obj: dict[str, Any], namespace: str = "prod", dry_run: bool = False) -> dict[str, Any]:
    group, _, version = obj["apiVersion"].rpartition("/")
    return {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": {"group": group, "version": version, "kind": obj["kind"]},
            "resource": {"group": group, "version": version, "resource": obj["kind"].lower() + "s"},
            "namespace": namespace,
            "operation": "CREATE",
            "userInfo": {"username": "alice"},
            "object": obj,
            "dryRun": dry_run,
        },
    }


def isvc(uri: str) -> dict[str, Any]:
    return {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {"name": "bert", "namespace": "prod"},
        "spec": {"predictor": {"model": {"modelFormat": {"name": "huggingface"}, "storageUri": uri}}},
    }


def pod(model: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "runner", "annotations": {"airlock.dev/model": model}},
        "spec": {"containers": [{"name": "c", "image": "runner:1"}]},
    }


# -- auth ------------------------------------------------------------------------------------------


def _routes(world: World, tmp_path: Path) -> list[tuple[str, str]]:
    """Every (method, path) the application serves, read from the application itself: a route added
    later is covered without editing this test. Path parameters get a well-formed dummy value."""
    import re

    from airlock.service.app import create_app
    from airlock.service.settings import Settings

    settings = Settings(
        allowlist=world.allowlist,
        pubkeys=(Path(f"{world.key}.pub"),),
        tokens=(TOKEN,),
        db=f"sqlite://{tmp_path / 'routes.sqlite3'}",
    )
    app = create_app(settings)
    try:
        found = [
            (method, re.sub(r"\{[^}]+\}", "0" * 32, route.path))
            for route in app.routes
            for method in sorted(getattr(route, "methods", None) or ())
            if method != "HEAD"
        ]
    finally:
        app.state.service.db.close()
    assert ("POST", "/v1/k8s/admit") in found and ("GET", "/openapi.json") in found
    return found


def test_only_health_and_readiness_answer_without_credentials(
    server: ServiceProcess, world: World, tmp_path: Path
) -> None:
    public = {"/healthz", "/readyz"}
    for path in public:
        assert server.get(path, token=None)[0] == 200
    bearer = []
    for method, path in _routes(world, tmp_path):
        if path in public:
            continue
        for token in (None, "wrong-token-0123456789abcdef"):
            status, headers, _ = server.request(method, path, {"reference": "x"}, token=token)
            assert status in (401, 403), (method, path, token, status)
            if headers.get("www-authenticate", headers.get("WWW-Authenticate")) == "Bearer":
                bearer.append((method, path))
    assert {("POST", "/v1/admissions"), ("POST", "/v1/k8s/admit"), ("GET", "/metrics")} <= set(bearer)
    for method, path in bearer:  # the right token gets past authentication on each of them
        assert server.request(method, path, {"reference": "x"})[0] not in (401, 403), (method, path)
    status, document = server.json("GET", "/openapi.json")
    assert status == 200 and {"/v1/admissions", "/v1/k8s/admit", "/v1/scans/{scan_id}"} <= set(
        document["paths"]
    )


def test_the_webhook_serves_https_that_only_a_client_trusting_its_certificate_accepts(
    server: ServiceProcess,
) -> None:
    import ssl
    import urllib.error
    import urllib.request

    assert server.url.startswith("https://")
    with pytest.raises(urllib.error.URLError) as refused:  # the system's CAs do not know it
        urllib.request.urlopen(server.url + "/healthz", timeout=10, context=ssl.create_default_context())
    assert isinstance(refused.value.reason, ssl.SSLCertVerificationError)
    with pytest.raises((urllib.error.URLError, ConnectionError)):  # no plain HTTP on the TLS port
        urllib.request.urlopen(server.url.replace("https://", "http://") + "/healthz", timeout=10)


# -- /v1/admissions --------------------------------------------------------------------------------


def test_a_signed_pinned_model_is_allowed_with_its_digest_and_counter(
    server: ServiceProcess, world: World
) -> None:
    for reference in (f"hf://acme/tiny-bert@{world.signed_sha}", f"acme/tiny-bert@{world.signed_sha}"):
        answer = _admit(server, reference)
        assert answer["decision"] == "allowed", answer
        assert (answer["digest"], answer["counter"], answer["record"]) == (world.digest, 2, 1)
    by_digest = _admit(server, world.local_digest)
    assert (by_digest["decision"], by_digest["record"]) == ("allowed", 2)


def test_unpinned_references_are_denied_with_how_to_pin(server: ServiceProcess) -> None:
    for reference in ("hf://acme/tiny-bert", "hf://acme/tiny-bert@main", "acme/tiny-bert@v1.0"):
        answer = _admit(server, reference)
        assert answer["decision"] == "denied", answer
        assert (
            "unpinned" in answer["reason"] and "hf://acme/tiny-bert@<40-hex commit sha>" in answer["reason"]
        )
    local = _admit(server, "/etc/passwd")
    assert local["decision"] == "denied" and "local paths are never read" in local["reason"]
    status, _ = server.json("POST", "/v1/admissions", {"reference": "x" * 600})
    assert status == 422


def test_an_unknown_model_is_pending_scanned_in_the_background_and_reported(
    server: ServiceProcess, world: World
) -> None:
    reference = f"hf://acme/newcomer@{world.unknown_sha}"
    first = _admit(server, reference)
    assert first["decision"] == "pending" and first["scan"] == scan_id(reference)
    assert first["report"] == f"/v1/scans/{first['scan']}"
    again = _admit(server, reference)  # asked twice: one scan
    assert again["scan"] == first["scan"]
    scan = _wait(lambda: _scan_done(server, first["scan"]), 240, "background scan of the newcomer")
    assert scan["verdict"] == "pass" and scan["attempts"] == 1
    assert scan["report"]["target"]["revision"] == world.unknown_sha
    assert scan["digest"] == scan["report"]["target"]["digest"]
    after = _admit(server, reference)
    assert after["decision"] == "pending" and "waiting for a signer" in after["reason"]
    status, headers, page = server.get(f"/v1/scans/{first['scan']}?format=html")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert b"<html" in page and b"acme/newcomer" in page


def test_a_model_whose_scan_fails_is_denied(server: ServiceProcess, world: World) -> None:
    reference = f"hf://mallory/evil@{world.evil_sha}"
    first = _admit(server, reference)
    assert first["decision"] == "pending"
    scan = _wait(lambda: _scan_done(server, first["scan"]), 240, "background scan of the evil model")
    assert scan["verdict"] == "fail"
    assert "AIR201" in {f["rule"] for f in scan["report"]["findings"]}
    after = _admit(server, reference)
    assert after["decision"] == "denied" and "failed the policy" in after["reason"]


# -- /v1/k8s/admit ---------------------------------------------------------------------------------


def _review(server: ServiceProcess, body: dict[str, Any]) -> dict[str, Any]:
    status, answer = server.json("POST", "/v1/k8s/admit", body)
    assert status == 200, answer
    assert (answer["apiVersion"], answer["kind"]) == ("admission.k8s.io/v1", "AdmissionReview")
    assert answer["response"]["uid"] == body["request"]["uid"]
    return answer["response"]


def test_admission_review_allows_an_allowlisted_inference_service_and_pod(
    server: ServiceProcess, world: World
) -> None:
    allowed = _review(server, review("uid-isvc-ok", isvc(f"hf://acme/tiny-bert@{world.signed_sha}")))
    assert allowed["allowed"] is True and "warnings" not in allowed
    assert allowed["auditAnnotations"]["decision"] == "allowed"
    assert allowed["auditAnnotations"]["allowlist-counter"] == "2"
    assert _review(server, review("uid-pod-ok", pod(world.local_digest)))["allowed"] is True


def test_admission_review_denies_unknown_and_unpinned_and_queues_the_unknown(
    server: ServiceProcess, world: World
) -> None:
    world.hub.commit("acme/tiny-bert", _files(4))
    sha = world.hub.commit("acme/tiny-bert", _files(5))
    denied = _review(server, review("uid-isvc-new", isvc(f"hf://acme/tiny-bert@{sha}")))
    assert denied["allowed"] is False and denied["status"]["code"] == 403
    assert "not in the allowlist" in denied["status"]["message"]
    status, scan = server.json("GET", f"/v1/scans/{scan_id(f'hf://acme/tiny-bert@{sha}')}")
    assert status == 200 and scan["reference"] == f"hf://acme/tiny-bert@{sha}"
    unpinned = _review(server, review("uid-pod-branch", pod("hf://acme/tiny-bert@main")))
    assert unpinned["allowed"] is False and "pin it to a commit" in unpinned["status"]["message"]


def test_warn_mode_admits_with_warnings_and_audit_annotations(server: ServiceProcess) -> None:
    warned = _review(server, review("uid-warn", pod("hf://acme/tiny-bert"), namespace="staging"))
    assert warned["allowed"] is True
    assert warned["warnings"] and "warn mode" in warned["warnings"][0] and "unpinned" in warned["warnings"][0]
    assert warned["auditAnnotations"]["mode"] == "warn"
    assert warned["auditAnnotations"]["decision"] == "denied"


def test_a_dry_run_decides_but_never_queues(server: ServiceProcess, world: World) -> None:
    sha = world.hub.commit("acme/newcomer", _files(6))
    reference = f"hf://acme/newcomer@{sha}"
    denied = _review(server, review("uid-dry", isvc(reference), dry_run=True))
    assert denied["allowed"] is False
    assert server.get(f"/v1/scans/{scan_id(reference)}")[0] == 404


def test_a_malformed_review_is_refused(server: ServiceProcess) -> None:
    status, _ = server.json(
        "POST", "/v1/k8s/admit", {"kind": "AdmissionReview", "apiVersion": "admission.k8s.io/v1beta1"}
    )
    assert status == 400
    assert _oversized_post(server, "/v1/k8s/admit", 2 * 1024 * 1024) == 413


def _oversized_post(server: ServiceProcess, path: str, size: int) -> int:
    """POST `size` bytes; the server may answer 413 and close before the body is sent, so a broken
    pipe while sending is expected and the answer is read afterwards."""
    import http.client
    from urllib.parse import urlsplit

    url = urlsplit(server.url)
    connection = (
        http.client.HTTPSConnection(url.hostname, url.port, timeout=30, context=server.ssl_context)
        if server.ssl_context
        else http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    )
    try:
        connection.putrequest("POST", path)
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", str(size))
        connection.putheader("Authorization", f"Bearer {TOKEN}")
        connection.endheaders()
        try:
            connection.send(b"x" * size)
        except (BrokenPipeError, ConnectionResetError):
            pass
        return connection.getresponse().status
    finally:
        connection.close()


# -- metrics and audit -----------------------------------------------------------------------------


def test_metrics_count_decisions_and_the_audit_log_is_chained(server: ServiceProcess, world: World) -> None:
    _admit(server, f"hf://acme/tiny-bert@{world.signed_sha}")
    _admit(server, "hf://acme/tiny-bert@main")
    status, _, body = server.get("/metrics")
    text = body.decode()
    assert status == 200
    assert 'airlock_admission_decisions_total{decision="allowed",endpoint="admissions"}' in text
    assert 'airlock_admission_decisions_total{decision="denied",endpoint="admissions"}' in text
    assert 'airlock_admission_latency_seconds_bucket{endpoint="admissions",le="0.01"}' in text
    assert "airlock_scan_queue_depth " in text
    assert "airlock_allowlist_counter 2.0" in text
    db = Database(f"sqlite://{server.db}")
    try:
        rows = db.audit_rows(1000)
        assert db.verify_audit() is None
    finally:
        db.close()
    assert any(r["decision"] == "allowed" and r["digest"] == world.digest for r in rows)
    assert all(
        r["caller"].startswith("worker:" if r["endpoint"] == "scan" else "token:")
        and "test-token" not in json.dumps(r)
        for r in rows
    )
    assert any(r["endpoint"] == "scan" and r["decision"] == "pass" for r in rows)  # scans' verdicts too


# -- allowlist reload --------------------------------------------------------------------------------


def test_reload_refuses_tampered_and_rolled_back_allowlists_and_keeps_the_last_good(
    world: World, tmp_path: Path
) -> None:
    served = tmp_path / "allowlist.jsonl"
    shutil.copy(world.allowlist, served)
    pub = Path(f"{world.key}.pub")
    with ServiceProcess(served, [pub], tmp_path / "server", extra=["--reload-interval", "3600"]) as server:
        allowed = f"hf://acme/tiny-bert@{world.signed_sha}"

        def refused() -> str | None:
            return server.json("GET", "/readyz", token=None)[1]["allowlist"]["reload_refused"]

        lines = served.read_text().splitlines()
        tampered = json.loads(lines[1])
        tampered["body"]["reference"] = "hf://acme/tiny-bert@" + "0" * 40
        served.write_text("\n".join([lines[0], json.dumps(tampered), *lines[2:]]) + "\n")
        server.signal(signal.SIGHUP)
        why = _wait(refused, 20, "a refused reload after SIGHUP")
        assert "tampered" in why["reason"]
        status, ready = server.json("GET", "/readyz", token=None)
        assert status == 200 and ready["allowlist"]["counter"] == 2
        assert _admit(server, allowed)["decision"] == "allowed"
        assert "airlock_allowlist_reload_refused 1.0" in server.get("/metrics")[2].decode()

        shutil.copy(world.at_counter_1, served)  # correctly signed, but older
        server.signal(signal.SIGHUP)
        _wait(lambda: "rollback" in (refused() or {}).get("reason", ""), 20, "a refused rollback")
        assert _admit(server, world.local_digest)["decision"] == "allowed"  # record 2 still in service

        good = tmp_path / "good.jsonl"
        shutil.copy(world.allowlist, good)
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("AIRLOCK_CACHE_DIR", str(tmp_path / "signer-cache"))
            assert (
                _airlock(
                    "allowlist",
                    "revoke",
                    world.digest,
                    "--allowlist",
                    good,
                    "--key",
                    world.key,
                    "--reason",
                    "found a backdoor",
                )
                == 0
            )
        shutil.copy(good, served)
        server.signal(signal.SIGHUP)
        _wait(lambda: refused() is None, 20, "the good allowlist accepted")
        answer = _admit(server, allowed)
        assert answer["decision"] == "denied" and "found a backdoor" in answer["reason"]
        assert answer["counter"] == 3


# -- property-based: the served OpenAPI document ------------------------------------------------------


def test_every_operation_of_the_served_openapi_document_holds_under_generated_requests(
    server: ServiceProcess,
) -> None:
    """Schemathesis generates requests from the document the service serves (valid and invalid ones)
    and checks no answer is a server error and every documented answer matches its schema. Bounded:
    a fixed number of examples per operation and a time budget for the whole test."""
    schemathesis = pytest.importorskip("schemathesis")
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import response_schema_conformance

    status, document = server.json("GET", "/openapi.json")
    assert status == 200
    schema = schemathesis.openapi.from_dict(document)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    verify = str(server.workdir.parent / "tls" / "tls.crt")
    budget = time.monotonic() + 90
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.label for op in operations} >= {"POST /v1/admissions", "GET /v1/scans/{scan_id}"}
    calls: list[int] = []
    for operation in operations:
        if time.monotonic() > budget:
            break

        @settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def check(case: Any) -> None:
            case.call_and_validate(
                base_url=server.url,
                headers=headers,
                verify=verify,
                checks=[not_a_server_error, response_schema_conformance],
            )
            calls.append(1)

        check()
    assert len(calls) >= 2 * len(operations)


# -- mTLS ------------------------------------------------------------------------------------------


def test_a_client_certificate_from_the_trusted_ca_replaces_the_token_on_the_webhook_only(
    world: World, tmp_path: Path
) -> None:
    import ssl
    import urllib.error

    from fixtures.service import client_certificate

    server_cert = self_signed(tmp_path / "tls")
    ca, cert, key = client_certificate(tmp_path / "clients", "kube-apiserver")
    _, stranger_cert, stranger_key = client_certificate(tmp_path / "others", "stranger")

    def client(pair: tuple[Path, Path] | None) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(server_cert[0]))
        if pair is not None:
            context.load_cert_chain(str(pair[0]), str(pair[1]))
        return context

    with ServiceProcess(
        world.allowlist,
        [Path(f"{world.key}.pub")],
        tmp_path / "server",
        tls=server_cert,
        extra=["--client-ca", str(ca)],
    ) as server:
        body = review("uid-mtls", pod(world.local_digest))
        status, _, answer = server.request(
            "POST", "/v1/k8s/admit", body, token=None, context=client((cert, key))
        )
        assert status == 200 and json.loads(answer)["response"]["allowed"] is True
        assert server.request("POST", "/v1/k8s/admit", body, token=None, context=client(None))[0] == 401
        assert server.request("POST", "/v1/k8s/admit", body)[0] == 200  # the token still works
        for path in ("/v1/admissions", "/metrics"):  # the certificate is for the webhook alone
            method = "POST" if path == "/v1/admissions" else "GET"
            status, _, _ = server.request(
                method, path, {"reference": world.digest}, token=None, context=client((cert, key))
            )
            assert status == 401, path
        with pytest.raises(
            (urllib.error.URLError, ConnectionError, ssl.SSLError)
        ):  # another CA's: no handshake
            server.request(
                "POST", "/v1/k8s/admit", body, token=None, context=client((stranger_cert, stranger_key))
            )
    db = Database(f"sqlite://{server.db}")
    try:
        callers = {row["caller"] for row in db.audit_rows(100)}
    finally:
        db.close()
    assert "cert:kube-apiserver" in callers
