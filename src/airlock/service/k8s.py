"""The Kubernetes ValidatingAdmissionWebhook: AdmissionReview (admission.k8s.io/v1) in and out.

Which models an object names:
* a KServe `InferenceService`: `storageUri` and `storageUris` (strings, or objects with `uri`) of
  `spec.predictor` / `transformer` / `explainer`, including their framework sub-specs;
* anything else (a Pod, a Deployment, a Job…): the `airlock.dev/model` annotation on the object or
  on its pod template (comma-separated for several models).

An object that names no model is admitted. One that names any model that is not `allowed` is denied
in `enforce` mode, or admitted with warnings in `warn` mode; the audit annotations say which in both.
A dry run decides the same way but never queues a scan. When deciding fails, the app answers 500
(the API server's failurePolicy applies), or `fail_open` for a namespace configured so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from airlock.service.db import Database
from airlock.service.decide import Admission, admit
from airlock.service.view import AllowlistView

API_VERSION = "admission.k8s.io/v1"
ANNOTATION = "airlock.dev/model"
COMPONENTS = ("predictor", "transformer", "explainer")
Mode = Literal["enforce", "warn"]


class BadReview(ValueError):
    """Not an AdmissionReview this webhook can answer (the API server then applies failurePolicy)."""


@dataclass(frozen=True)
class Modes:
    default: Mode = "enforce"
    namespaces: Mapping[str, Mode] = field(default_factory=dict)

    def of(self, namespace: str | None) -> Mode:
        return self.namespaces.get(namespace or "", self.default)


@dataclass(frozen=True)
class Review:
    response: dict[str, Any]
    admissions: tuple[Admission, ...]
    mode: Mode
    dry_run: bool


def model_references(obj: Mapping[str, Any]) -> list[str]:
    """The model references an object names (in order, without repeats)."""
    found: list[str] = []
    if obj.get("kind") == "InferenceService":
        spec = obj.get("spec") or {}
        for name in COMPONENTS:
            component = spec.get(name)
            if isinstance(component, Mapping):
                found.extend(_storage_uris(component))
    found.extend(_annotated(obj))
    template = ((obj.get("spec") or {}).get("template")) if isinstance(obj.get("spec"), Mapping) else None
    if isinstance(template, Mapping):
        found.extend(_annotated(template))
    return list(dict.fromkeys(found))


def review(
    body: Any,
    view: AllowlistView,
    db: Database,
    now: datetime,
    modes: Modes,
    *,
    enqueued: Callable[[], None] | None = None,
) -> Review:
    request = request_of(body)
    uid = request["uid"]
    namespace = request.get("namespace")
    mode = modes.of(namespace if isinstance(namespace, str) else None)
    dry_run = request.get("dryRun") is True
    obj = request.get("object")
    if request.get("operation") == "DELETE" or not isinstance(obj, Mapping):
        return Review(_response(uid, True, None, [], {"decision": "allowed"}), (), mode, dry_run)
    references = model_references(obj)
    admissions = tuple(
        admit(ref, view, db, now, unknown="deny", queue=not dry_run, enqueued=enqueued) for ref in references
    )
    refused = [a for a in admissions if a.decision != "allowed"]
    audit = {
        "decision": "denied" if refused else "allowed",
        "mode": mode,
        "allowlist-counter": str(view.counter),
        "models": ",".join(references)[:1000] or "none",
    }
    if refused:
        audit["reasons"] = "; ".join(f"{a.reference}: {a.reason}" for a in refused)[:2000]
    reasons = [f"airlock: {a.reference}: {a.reason}" for a in refused]
    if not refused:
        warnings = [] if references else ["airlock: this object names no model (nothing to check)"]
        return Review(_response(uid, True, None, warnings, audit), admissions, mode, dry_run)
    if mode == "warn":
        warnings = [f"airlock (warn mode, admitted anyway): {a.reference}: {a.reason}" for a in refused]
        return Review(_response(uid, True, None, warnings, audit), admissions, mode, dry_run)
    message = "; ".join(reasons)
    return Review(_response(uid, False, message, [], audit), admissions, mode, dry_run)


def fail_open(uid: str, namespace: str, error: BaseException) -> dict[str, Any]:
    """The answer in a fail-open namespace when the service could not decide: admitted, and said so."""
    why = f"{type(error).__name__}: {error}"[:500]
    audit = {"decision": "fail-open", "mode": "fail-open", "error": why}
    warning = f"airlock fail-open: namespace {namespace} admitted without a decision ({why})"
    return _response(uid, True, None, [warning], audit)


def request_of(body: Any) -> Mapping[str, Any]:
    """The `request` of an AdmissionReview this webhook answers, or raise `BadReview`."""
    if not isinstance(body, Mapping) or body.get("kind") != "AdmissionReview":
        raise BadReview("not an AdmissionReview")
    if body.get("apiVersion") != API_VERSION:
        raise BadReview(
            f"unsupported AdmissionReview version {body.get('apiVersion')!r} (want {API_VERSION})"
        )
    request = body.get("request")
    if not isinstance(request, Mapping) or not isinstance(request.get("uid"), str) or not request["uid"]:
        raise BadReview("the AdmissionReview has no request.uid")
    return request


def _response(
    uid: str, allowed: bool, message: str | None, warnings: list[str], audit: Mapping[str, str]
) -> dict[str, Any]:
    response: dict[str, Any] = {"uid": uid, "allowed": allowed, "auditAnnotations": dict(audit)}
    if message is not None:
        response["status"] = {"code": 403, "reason": "Forbidden", "message": message}
    if warnings:
        response["warnings"] = [w[:256] for w in warnings]
    return {"apiVersion": API_VERSION, "kind": "AdmissionReview", "response": response}


def _storage_uris(component: Mapping[str, Any]) -> Iterator[str]:
    specs = [component, *(v for v in component.values() if isinstance(v, Mapping))]
    for spec in specs:
        uri = spec.get("storageUri")
        if isinstance(uri, str):
            yield uri
        uris = spec.get("storageUris")
        if isinstance(uris, list):
            for item in uris:
                if isinstance(item, str):
                    yield item
                elif isinstance(item, Mapping) and isinstance(item.get("uri"), str):
                    yield item["uri"]


def _annotated(obj: Mapping[str, Any]) -> Iterator[str]:
    metadata = obj.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, Mapping) else None
    value = annotations.get(ANNOTATION) if isinstance(annotations, Mapping) else None
    if isinstance(value, str):
        yield from (part.strip() for part in value.split(",") if part.strip())
