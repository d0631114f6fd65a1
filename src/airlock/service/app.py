"""The FastAPI application: admissions, the Kubernetes webhook, scans, health, readiness, metrics.

Every endpoint except /healthz and /readyz needs `Authorization: Bearer <token>`, the OpenAPI
document included; /v1/k8s/admit also takes a client certificate verified by `--client-ca` (mTLS).
Decisions come from the allowlist in memory and the database; nothing here downloads or scans (the
workers do, off the request path). Every decision is written to the hash-chained audit log before it
is answered. An error while deciding answers 500 (fail closed), except for AdmissionReviews from a
namespace named by `--fail-open`, which are admitted with a warning and logged.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, MutableMapping
from contextlib import asynccontextmanager
from typing import Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from airlock.allowlist.keys import trusted
from airlock.allowlist.records import format_time, utc_now
from airlock.service import k8s
from airlock.service.auth import Tokens, scope_cert_name
from airlock.service.db import Database
from airlock.service.decide import admit
from airlock.service.holder import AllowlistHolder
from airlock.service.metrics import Metrics
from airlock.service.references import MAX_REFERENCE
from airlock.service.settings import Settings
from airlock.service.webhooks import Webhooks
from airlock.service.workers import Workers

log = logging.getLogger(__name__)

_SCAN_ID = re.compile(r"^[0-9a-f]{32}$")
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class AdmissionQuery(BaseModel):
    reference: str = Field(
        max_length=MAX_REFERENCE, description="hf://ORG/NAME@<commit sha> or sha256:<digest>"
    )


class AdmissionAnswer(BaseModel):
    decision: Literal["allowed", "denied", "pending"]
    reason: str
    reference: str
    digest: str | None
    counter: int = Field(description="the counter (version) of the allowlist that decided")
    record: int | None = Field(description="the allowlist record that decided, if one did")
    scan: str | None
    report: str | None = Field(description="link to the scan and its report, when there is one")


class Service:
    """Everything one running instance holds."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.tokens = Tokens(settings.tokens)
        self.holder = AllowlistHolder(
            settings.allowlist, trusted(list(settings.pubkeys)), min_counter=settings.min_counter
        )
        self.db = Database(settings.db)
        self.workers = Workers(self.db, settings.workers, settings.policy, lease_s=settings.lease_s)
        self.metrics = Metrics(
            queue_depth=lambda: float(
                sum(v for k, v in self.db.depth().items() if k in ("queued", "running"))
            ),
            allowlist_counter=lambda: float(self.holder.current.counter),
            reload_refused=lambda: 1.0 if self.holder.refused else 0.0,
        )

    def reload(self, why: str) -> bool:
        ok = self.holder.reload(why)
        self.metrics.reloads.labels("accepted" if ok else "refused").inc()
        return ok


def create_app(settings: Settings) -> FastAPI:
    service = Service(settings)
    webhooks = Webhooks(service)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service.workers.start()
        service.holder.watch(settings.reload_interval)
        webhooks.start()
        yield
        webhooks.stop()
        service.holder.stop()
        service.workers.stop()

    app = FastAPI(
        title="airlock",
        summary="Admission decisions from the signed allowlist",
        lifespan=lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.service = service

    async def caller(request: Request) -> str:
        # async: a plain `def` dependency runs in the thread pool, a thread hop on every request
        # (about half of an allowlisted decision's CPU time)
        who = service.tokens.caller(request.headers.get("authorization"))
        if who is None:
            raise HTTPException(
                401, "a valid bearer token is required", headers={"WWW-Authenticate": "Bearer"}
            )
        return who

    async def k8s_caller(request: Request) -> str:
        """A bearer token, or a client certificate verified by the TLS layer (`--client-ca`)."""
        who = service.tokens.caller(request.headers.get("authorization"))
        if who is None:
            name = scope_cert_name(request.scope)
            if name is not None:
                return f"cert:{name}"
            raise HTTPException(
                401,
                "a valid bearer token or client certificate is required",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return who

    @app.post("/v1/admissions", response_model=AdmissionAnswer)
    async def admissions(query: AdmissionQuery, who: str = Depends(caller)) -> dict[str, Any]:
        started = time.perf_counter()
        result = admit(
            query.reference,
            service.holder.current,
            service.db,
            utc_now(),
            unknown=settings.unknown,
            enqueued=service.workers.notify,
        )
        answer = result.to_dict()
        service.db.audit({"time": format_time(utc_now()), "caller": who, "endpoint": "admissions", **answer})
        service.metrics.decisions.labels("admissions", result.decision).inc()
        service.metrics.latency.labels("admissions").observe(time.perf_counter() - started)
        return answer

    @app.post("/v1/k8s/admit")
    async def k8s_admit(request: Request, who: str = Depends(k8s_caller)) -> JSONResponse:
        started = time.perf_counter()
        try:
            body = json.loads(await request.body())
            request_part = k8s.request_of(body)
        except (ValueError, k8s.BadReview) as exc:
            raise HTTPException(400, f"not a valid AdmissionReview: {exc}") from None
        namespace = request_part.get("namespace")
        try:
            outcome, response = _review(body, request_part, who)
        except Exception as exc:
            if not isinstance(namespace, str) or namespace not in settings.fail_open:
                raise  # fail closed: 500, and the API server applies failurePolicy: Fail
            outcome, response = "fail-open", k8s.fail_open(request_part["uid"], namespace, exc)
            log.warning(
                "FAIL-OPEN: namespace %s admitted AdmissionReview %s (%s) although the service failed: %s",
                namespace,
                request_part["uid"],
                who,
                exc,
            )
            try:  # the audit log may be what failed; when it is not, it records the fail-open too
                service.db.audit(
                    {
                        "time": format_time(utc_now()),
                        "caller": who,
                        "endpoint": "k8s",
                        "uid": request_part["uid"],
                        "namespace": namespace,
                        "decision": "fail-open",
                        "error": response["response"]["auditAnnotations"]["error"],
                    }
                )
            except Exception:  # noqa: BLE001  already logged above; the answer stands
                pass
        service.metrics.decisions.labels("k8s", outcome).inc()
        service.metrics.latency.labels("k8s").observe(time.perf_counter() - started)
        return JSONResponse(response)

    def _review(body: Any, request_part: Mapping[str, Any], who: str) -> tuple[str, dict[str, Any]]:
        done = k8s.review(
            body,
            service.holder.current,
            service.db,
            utc_now(),
            settings.modes,
            enqueued=service.workers.notify,
        )
        found = request_part.get("object")
        obj: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
        response = done.response["response"]
        outcome = (
            "allowed"
            if response["allowed"] and "reasons" not in response["auditAnnotations"]
            else ("warned" if response["allowed"] else "denied")
        )
        service.db.audit(
            {
                "time": format_time(utc_now()),
                "caller": who,
                "endpoint": "k8s",
                "uid": request_part["uid"],
                "namespace": request_part.get("namespace"),
                "kind": (request_part.get("kind") or {}).get("kind"),
                "name": (obj.get("metadata") or {}).get("name") or request_part.get("name"),
                "operation": request_part.get("operation"),
                "mode": done.mode,
                "dry_run": done.dry_run,
                "decision": outcome,
                "counter": service.holder.current.counter,
                "models": [a.to_dict() for a in done.admissions],
            }
        )
        return outcome, done.response

    @app.get("/v1/scans/{scan_id}", response_model=None)
    def scan(scan_id: str, format: Literal["json", "html"] = "json", who: str = Depends(caller)) -> Response:
        if not _SCAN_ID.match(scan_id):
            raise HTTPException(404, "no such scan")
        found = service.db.scan(scan_id)
        if found is None:
            raise HTTPException(404, "no such scan")
        if format == "html":
            if found.report is None:
                raise HTTPException(409, f"scan {found.status}: no report yet")
            from airlock.render.html import HtmlRenderer
            from airlock.report import Report

            page = HtmlRenderer().render(Report.from_dict(json.loads(found.report)))
            return HTMLResponse(
                page, headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"}
            )
        document = found.summary()
        document["report"] = None if found.report is None else json.loads(found.report)
        return JSONResponse(document)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        view = service.holder.current
        refused = service.holder.refused
        db_ok = service.db.ping()
        document = {
            "ready": db_ok,
            "allowlist": {
                "id": view.id,
                "counter": view.counter,
                "verified": True,
                "loaded": service.holder.loaded_at,
                "reload_refused": None
                if refused is None
                else {"time": refused.time, "reason": refused.reason},
            },
            "db": "ok" if db_ok else "unreachable",
        }
        return JSONResponse(document, status_code=200 if db_ok else 503)

    @app.get("/metrics")
    async def metrics(who: str = Depends(caller)) -> Response:
        return Response(service.metrics.exposition(), media_type="text/plain; version=0.0.4; charset=utf-8")

    @app.get("/openapi.json", include_in_schema=False)
    def openapi(who: str = Depends(caller)) -> JSONResponse:
        return JSONResponse(app.openapi())

    webhooks.attach(app)  # authenticated by the sender's signature or secret, not a bearer token
    app.add_middleware(BodyLimit, limit=settings.max_body)
    return app


class BodyLimit:
    """Refuse request bodies over `limit` bytes with 413, by Content-Length or as they stream in."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and (not value.isdigit() or int(value) > self.limit):
                await _too_large(send, self.limit)
                return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await _too_large(send, self.limit)


class _TooLarge(Exception):
    pass


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps({"detail": f"request body over {limit} bytes"}).encode()
    await send(
        {"type": "http.response.start", "status": 413, "headers": [(b"content-type", b"application/json")]}
    )
    await send({"type": "http.response.body", "body": body})
