"""`POST /v1/webhooks/mlflow`: MLflow model-registry webhooks (MLflow 3.3 and later).

MLflow signs each delivery as the Standard Webhooks convention does: the headers `X-MLflow-Delivery-Id`,
`X-MLflow-Timestamp` (Unix seconds) and `X-MLflow-Signature` = `v1,` + base64(HMAC-SHA256(secret,
"{delivery id}.{timestamp}.{raw body}")). The endpoint checks the signature in constant time, refuses
a timestamp outside the replay window and a delivery id it has already accepted within that window,
then, for `model_version.created`, queues a scan of `models:/NAME/VERSION` (the scan job downloads the
version's artifacts through MLflow's artifact API) and tags the version `airlock.status=pending`.

A write-back thread follows the queued scans. When one is done it sets the version's tags
`airlock.verdict` (pass|fail), `airlock.digest` and `airlock.report` (a link to the report), and moves
the alias (`vetted` by default) to the version only when the verdict is pass; a scan that could not
run is tagged `airlock.verdict=error` with `airlock.error`. The pending tag is the durable record: on
start-up the thread picks up every version still tagged pending, so a restart loses no write-back.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import threading
import time
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from airlock.allowlist.records import format_time, utc_now
from airlock.service.db import scan_id
from airlock.service.webhooks import WebhookMetrics
from airlock.sources.mlflow import model_version

if TYPE_CHECKING:
    from airlock.service.app import Service

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-MLflow-Signature"
TIMESTAMP_HEADER = "X-MLflow-Timestamp"
DELIVERY_HEADER = "X-MLflow-Delivery-Id"
CALLER = "webhook:mlflow"
TAG_STATUS, TAG_SCAN, TAG_VERDICT, TAG_DIGEST, TAG_REPORT, TAG_ERROR = (
    "airlock.status",
    "airlock.scan",
    "airlock.verdict",
    "airlock.digest",
    "airlock.report",
    "airlock.error",
)


def signature(secret: str, delivery_id: str, timestamp: str, body: bytes) -> str:
    """The `X-MLflow-Signature` value MLflow sends for this delivery."""
    signed = f"{delivery_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


class Deliveries:
    """Delivery ids accepted within the replay window (older ones are refused by their timestamp)."""

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def first_time(self, delivery_id: str, now: float) -> bool:
        with self._lock:
            for old in [d for d, t in self._seen.items() if t < now - 2 * self.window_s]:
                del self._seen[old]
            if delivery_id in self._seen:
                return False
            self._seen[delivery_id] = now
            return True


class MlflowHooks:
    def __init__(self, service: Service, counters: WebhookMetrics) -> None:
        self.service = service
        self.counters = counters
        self.settings = service.settings.webhooks
        self.deliveries = Deliveries(self.settings.replay_window_s)
        self._pending: dict[str, tuple[str, str]] = {}  # scan id -> (model name, version)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if self.settings.mlflow_tracking_uri:
            # the scan jobs (child processes) download through MLflow's client, which reads this
            os.environ["MLFLOW_TRACKING_URI"] = self.settings.mlflow_tracking_uri

    @property
    def enabled(self) -> bool:
        return self.settings.mlflow_secret is not None and bool(self.settings.mlflow_tracking_uri)

    # -- the endpoint ------------------------------------------------------------------------------

    def router(self) -> APIRouter:
        router = APIRouter()

        @router.post("/v1/webhooks/mlflow", status_code=202)
        async def mlflow(request: Request) -> JSONResponse:
            if not self.enabled:
                raise HTTPException(404, "the MLflow webhook is not enabled (no secret or tracking URI)")
            body = await request.body()
            self._authenticate(request, body)
            try:
                payload = json.loads(body)
                entity, action, data = payload["entity"], payload["action"], payload["data"]
            except (ValueError, KeyError, TypeError) as exc:
                self.counters.events.labels("mlflow", "invalid").inc()
                raise HTTPException(400, f"not an MLflow webhook payload ({exc})") from None
            if (entity, action) != ("model_version", "created"):
                self.counters.events.labels("mlflow", "ignored").inc()
                return JSONResponse({"status": "ignored", "event": f"{entity}.{action}"}, status_code=202)
            try:
                reference = model_version(str(data["name"]), str(data["version"]))
            except (KeyError, TypeError, ValueError) as exc:
                self.counters.events.labels("mlflow", "invalid").inc()
                raise HTTPException(400, f"not a model version ({exc})") from None
            answer = await run_in_threadpool(
                self._queue, reference, str(data["name"]), str(data["version"]), request
            )
            self.counters.events.labels("mlflow", "queued").inc()
            return JSONResponse(answer, status_code=202)

        return router

    def _authenticate(self, request: Request, body: bytes) -> None:
        secret = self.settings.mlflow_secret
        assert secret is not None
        delivery = request.headers.get(DELIVERY_HEADER)
        stamp = request.headers.get(TIMESTAMP_HEADER)
        offered = request.headers.get(SIGNATURE_HEADER)
        if not delivery or not stamp or not offered:
            self._refuse(
                "unauthorized", f"{SIGNATURE_HEADER}, {TIMESTAMP_HEADER} and {DELIVERY_HEADER} are required"
            )
        assert delivery is not None and stamp is not None and offered is not None
        expected = signature(secret, delivery, stamp, body)
        ok = False
        for candidate in offered.split():  # several signatures are allowed (key rotation)
            ok |= hmac.compare_digest(candidate.encode(), expected.encode())
        if not ok:
            self._refuse("unauthorized", "the signature does not match")
        now = time.time()
        if not stamp.isdigit() or abs(now - int(stamp)) > self.settings.replay_window_s:
            self._refuse(
                "stale", f"the timestamp is outside the {self.settings.replay_window_s:.0f} s window"
            )
        if not self.deliveries.first_time(delivery, now):
            self._refuse("replayed", f"delivery {delivery} was already accepted")

    def _refuse(self, outcome: str, why: str) -> None:
        self.counters.events.labels("mlflow", outcome).inc()
        log.warning("MLflow webhook refused: %s", why)
        raise HTTPException(401, f"webhook refused: {why}")

    def _queue(self, reference: str, name: str, version: str, request: Request) -> dict[str, Any]:
        service = self.service
        scan, created = service.db.enqueue(reference)
        if created:
            service.workers.notify()
        service.db.audit(
            {
                "time": format_time(utc_now()),
                "caller": CALLER,
                "endpoint": "webhooks/mlflow",
                "event": "model_version.created",
                "delivery": request.headers.get(DELIVERY_HEADER),
                "reference": reference,
                "scan": scan.id,
                "queued": created,
                "counter": service.holder.current.counter,
            }
        )
        try:
            self._client().set_model_version_tag(name, version, TAG_STATUS, "pending")
            self._client().set_model_version_tag(name, version, TAG_SCAN, scan.id)
        except Exception as exc:  # noqa: BLE001  MLflow unreachable: the write-back retries from memory
            log.warning("MLflow: cannot tag %s pending (%s)", reference, exc)
        with self._lock:
            self._pending[scan.id] = (name, version)
        return {"status": "queued", "reference": reference, "scan": scan.id, "report": self._link(scan.id)}

    # -- the write-back ----------------------------------------------------------------------------

    def start(self) -> None:
        if not self.enabled:
            return
        self._thread = threading.Thread(target=self._loop, name="mlflow-writeback", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _client(self) -> Any:
        from mlflow import MlflowClient

        return MlflowClient(tracking_uri=self.settings.mlflow_tracking_uri)

    def _link(self, sid: str) -> str:
        return f"{self.settings.public_url}/v1/scans/{sid}"

    def _loop(self) -> None:
        recovered = False
        while True:
            if not recovered:
                recovered = self._recover()
            self._round()
            if self._stop.wait(self.settings.writeback_interval_s):
                return

    def _round(self) -> None:
        with self._lock:
            pending = dict(self._pending)
        for sid, (name, version) in pending.items():
            try:
                if self._write_back(sid, name, version):
                    with self._lock:
                        self._pending.pop(sid, None)
            except Exception as exc:  # noqa: BLE001  MLflow down: keep it pending, retry next round
                log.warning("MLflow write-back of %s v%s failed (%s); will retry", name, version, exc)

    def _recover(self) -> bool:
        """Pick up the versions a previous run tagged pending (the tags are the durable queue)."""
        try:
            found = self._client().search_model_versions(f"tags.`{TAG_STATUS}` = 'pending'")
        except Exception as exc:  # noqa: BLE001  retried on the next round
            log.warning("MLflow: cannot list pending model versions (%s)", exc)
            return False
        with self._lock:
            for mv in found:
                self._pending.setdefault(
                    scan_id(model_version(mv.name, str(mv.version))), (mv.name, str(mv.version))
                )
        return True

    def _write_back(self, sid: str, name: str, version: str) -> bool:
        """Write the finished scan's verdict to MLflow; False while the scan is still queued or running."""
        scan = self.service.db.scan(sid)
        if scan is None or scan.status in ("queued", "running"):
            return scan is None  # a scan this database never had: nothing will ever finish it
        client = self._client()
        if scan.status == "done":
            client.set_model_version_tag(name, version, TAG_VERDICT, str(scan.verdict))
            client.set_model_version_tag(name, version, TAG_DIGEST, str(scan.digest))
            client.set_model_version_tag(name, version, TAG_REPORT, self._link(sid))
            if scan.verdict == "pass":
                client.set_registered_model_alias(name, self.settings.mlflow_alias, version)
        else:
            client.set_model_version_tag(name, version, TAG_VERDICT, "error")
            client.set_model_version_tag(name, version, TAG_ERROR, str(scan.error)[:500])
        client.set_model_version_tag(name, version, TAG_STATUS, "done")
        self.service.db.audit(
            {
                "time": format_time(utc_now()),
                "caller": CALLER,
                "endpoint": "webhooks/mlflow",
                "event": "write-back",
                "reference": scan.reference,
                "scan": sid,
                "verdict": scan.verdict if scan.status == "done" else "error",
                "digest": scan.digest,
                "alias": self.settings.mlflow_alias if scan.verdict == "pass" else None,
            }
        )
        log.info("MLflow: %s v%s tagged %s", name, version, scan.verdict or "error")
        return True
