"""`POST /v1/webhooks/huggingface`: Hub repo events for the models in the allowlist.

* the `X-Webhook-Secret` header must equal the configured secret (constant-time compare);
* a push (`event.scope` `repo.content`, action `update`) to a model repo that has an allowlist entry
  queues a scan of the new head commit (`repo.headSha`), so its decision is ready before anyone asks;
* a `move` or `delete` (`event.scope` `repo`) of an allowlisted repo is a namespace-reuse alert: once
  a name is free, anyone can publish under it, and every consumer that resolves the name gets their
  bytes. The alert is audited, counted (`airlock_namespace_reuse_alerts`) and logged; with
  `--hub-on-reuse revoke` the service also signs a revocation of every model digest allowlisted under
  that name and reloads the allowlist (the signed revocation then denies them everywhere);
* anything else is acknowledged and ignored.

Payload fields as the Hub documents them: `event.action`, `event.scope`, `repo.type`, `repo.name`,
`repo.headSha`, `movedTo.name`, `updatedRefs[].newSha`.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from airlock.allowlist.records import format_time, utc_now
from airlock.service.webhooks import WebhookMetrics, same_secret
from airlock.sources.interface import COMMIT_SHA, is_repo_id

if TYPE_CHECKING:
    from airlock.service.app import Service

log = logging.getLogger(__name__)
CALLER = "webhook:huggingface"


def hub_router(service: Service, counters: WebhookMetrics) -> APIRouter:
    router = APIRouter()
    settings = service.settings.webhooks

    @router.post("/v1/webhooks/huggingface", status_code=202)
    async def huggingface(request: Request) -> JSONResponse:
        if settings.hub_secret is None:
            raise HTTPException(404, "the Hugging Face webhook is not enabled (no secret configured)")
        if not same_secret(request.headers.get("x-webhook-secret"), settings.hub_secret):
            counters.events.labels("huggingface", "unauthorized").inc()
            raise HTTPException(401, "wrong or missing X-Webhook-Secret")
        try:
            body = json.loads(await request.body())
            event = _event(body)
        except ValueError as exc:
            counters.events.labels("huggingface", "invalid").inc()
            raise HTTPException(400, f"not a Hub webhook payload: {exc}") from None
        answer = await run_in_threadpool(_handle, service, counters, event)  # a revocation signs and writes
        counters.events.labels("huggingface", answer["status"]).inc()
        return JSONResponse(answer, status_code=200 if answer["status"] == "alert" else 202)

    return router


def _event(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ValueError("a JSON object is required")
    event, repo = body.get("event"), body.get("repo")
    if not isinstance(event, dict) or not isinstance(repo, dict):
        raise ValueError("`event` and `repo` objects are required")
    action, scope, name = event.get("action"), event.get("scope"), repo.get("name")
    if not all(isinstance(v, str) for v in (action, scope, name)):
        raise ValueError("`event.action`, `event.scope` and `repo.name` must be strings")
    head = repo.get("headSha")
    if head is None:
        refs = body.get("updatedRefs") or []
        mains = [r.get("newSha") for r in refs if isinstance(r, dict) and r.get("ref") == "refs/heads/main"]
        head = mains[0] if mains else None
    moved = body.get("movedTo")
    return {
        "action": action,
        "scope": scope,
        "type": repo.get("type", "model"),
        "repo": name,
        "head": head if isinstance(head, str) else None,
        "moved_to": moved.get("name") if isinstance(moved, dict) else None,
    }


def _allowlisted(service: Service, repo: str) -> list[str]:
    """The model digests allowlisted under `repo` (any revision), oldest first."""
    view = service.holder.current
    digests: dict[str, None] = {}
    for (name, _sha), entries in view.by_revision.items():
        if name == repo:
            for entry in entries:
                digests[entry.value.model] = None
    return list(digests)


def _handle(service: Service, counters: WebhookMetrics, event: dict[str, Any]) -> dict[str, Any]:
    repo = event["repo"]
    base = {"repo": repo, "action": event["action"], "scope": event["scope"]}
    if event["type"] != "model" or not is_repo_id(repo):
        return {"status": "ignored", "reason": "not a model repo", **base}
    digests = _allowlisted(service, repo)
    if not digests:
        return {"status": "ignored", "reason": "no allowlist entry for this repo", **base}
    scope, action = event["scope"], event["action"]
    if scope.startswith("repo.content") and action == "update":
        return _push(service, event, base)
    if scope == "repo" and action in ("move", "delete"):
        return _reuse(service, counters, event, digests, base)
    return {"status": "ignored", "reason": f"nothing to do on {scope}/{action}", **base}


def _push(service: Service, event: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    head = event["head"]
    if head is None or not COMMIT_SHA.match(head):
        return {"status": "ignored", "reason": "no head commit sha in the payload", **base}
    reference = f"hf://{event['repo']}@{head}"
    if (event["repo"], head) in service.holder.current.by_revision:
        return {
            "status": "ignored",
            "reason": "this commit is already in the allowlist",
            "reference": reference,
            **base,
        }
    scan, created = service.db.enqueue(reference)
    if created:
        service.workers.notify()
    service.db.audit(
        {
            "time": format_time(utc_now()),
            "caller": CALLER,
            "endpoint": "webhooks/huggingface",
            "event": "push",
            "reference": reference,
            "scan": scan.id,
            "queued": created,
            "counter": service.holder.current.counter,
        }
    )
    return {
        "status": "queued",
        "reference": reference,
        "scan": scan.id,
        "report": f"/v1/scans/{scan.id}",
        **base,
    }


def _reuse(
    service: Service,
    counters: WebhookMetrics,
    event: dict[str, Any],
    digests: list[str],
    base: dict[str, Any],
) -> dict[str, Any]:
    settings = service.settings.webhooks
    repo, action, moved_to = event["repo"], event["action"], event["moved_to"]
    what = f"moved to {moved_to}" if action == "move" else "deleted"
    reason = (
        f"namespace reuse risk: Hub repo {repo} was {what}; the name {repo} can now be registered by anyone"
    )
    log.warning("%s (%d allowlisted model(s); policy %s)", reason, len(digests), settings.hub_on_reuse)
    counters.reuse.labels(action, settings.hub_on_reuse).inc()
    revoked: list[str] = []
    problems: list[str] = []
    if settings.hub_on_reuse == "revoke":
        revoked, problems = _revoke(service, digests, reason)
    service.db.audit(
        {
            "time": format_time(utc_now()),
            "caller": CALLER,
            "endpoint": "webhooks/huggingface",
            "event": "namespace-reuse",
            "repo": repo,
            "action": action,
            "moved_to": moved_to,
            "policy": settings.hub_on_reuse,
            "digests": digests,
            "revoked": revoked,
            "problems": problems,
            "reason": reason,
            "counter": service.holder.current.counter,
        }
    )
    return {
        "status": "alert",
        "alert": "namespace-reuse",
        "reason": reason,
        "policy": settings.hub_on_reuse,
        "digests": digests,
        "revoked": revoked,
        "problems": problems,
        "counter": service.holder.current.counter,
        **base,
    }


def _revoke(service: Service, digests: list[str], reason: str) -> tuple[list[str], list[str]]:
    """Sign a revocation of each digest not yet revoked, then reload (verified like any reload)."""
    from airlock.allowlist.errors import AllowlistError
    from airlock.allowlist.keys import load_private
    from airlock.allowlist.signing import revoke

    key_path = service.settings.webhooks.hub_revoke_key
    assert key_path is not None  # checked at start-up
    revoked: list[str] = []
    problems: list[str] = []
    try:
        key = load_private(key_path)
    except AllowlistError as exc:
        return [], [str(exc)]
    already = service.holder.current.revoked
    for digest in digests:
        if digest in already:
            continue
        try:
            record = revoke(service.settings.allowlist, key, digest, reason)
        except AllowlistError as exc:
            problems.append(f"{digest}: {exc}")
            continue
        revoked.append(digest)
        log.warning("revoked %s as record %d: %s", digest, record.seq, reason)
    if revoked and not service.reload("namespace-reuse revocation"):
        problems.append("the allowlist with the revocations was refused on reload")
    return revoked, problems
