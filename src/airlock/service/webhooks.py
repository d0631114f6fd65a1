"""Registry webhooks (MLflow, Hugging Face Hub): their settings, their secrets, and their wiring.

A webhook sender cannot present the service's bearer token (neither MLflow nor the Hub lets a webhook
carry an Authorization header), so these two endpoints authenticate by the sender's own credential
instead: MLflow's HMAC-SHA256 signature, the Hub's `X-Webhook-Secret`. An endpoint whose secret is
not configured answers 404: it is off, never open. Secrets come from a file or the environment and
are compared in constant time; they never reach a log or a repr.

The endpoints themselves live in `webhooks_hub` and `webhooks_mlflow` (FastAPI routers); this module
stays free of FastAPI so that `Settings` can hold `WebhookSettings` without importing it.
"""

from __future__ import annotations

import argparse
import hmac
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from airlock.errors import AirlockError

if TYPE_CHECKING:
    from fastapi import FastAPI

    from airlock.service.app import Service

HUB_SECRET_ENV = "AIRLOCK_HUB_WEBHOOK_SECRET"
MLFLOW_SECRET_ENV = "AIRLOCK_MLFLOW_WEBHOOK_SECRET"
OnReuse = Literal["flag", "revoke"]


class WebhookConfigError(AirlockError):
    pass


@dataclass(frozen=True)
class WebhookSettings:
    hub_secret: str | None = field(default=None, repr=False)
    hub_on_reuse: OnReuse = "flag"  # a moved or deleted allowlisted repo: alert only, or also revoke
    hub_revoke_key: Path | None = None  # signs the revocations (its public key must be trusted)
    mlflow_secret: str | None = field(default=None, repr=False)
    mlflow_tracking_uri: str | None = None
    mlflow_alias: str = "vetted"  # moved to a model version only when its scan passed
    replay_window_s: float = 300.0  # MLflow deliveries older (or newer) than this are refused
    public_url: str = ""  # prefix of the report links written back to MLflow
    writeback_interval_s: float = 1.0


def secret_from(path: Path | None, env: str) -> str | None:
    """The secret in `path` (first line), else in the environment variable `env`, else None."""
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8").strip().splitlines()
        except OSError as exc:
            raise WebhookConfigError(
                f"{path}: cannot read the webhook secret ({exc.strerror or exc})"
            ) from None
        value = text[0].strip() if text else ""
    else:
        value = os.environ.get(env, "").strip()
    if not value:
        return None
    if len(value) < 16:
        raise WebhookConfigError(f"the webhook secret from {path or env} is shorter than 16 characters")
    return value


def same_secret(offered: str | None, expected: str) -> bool:
    return offered is not None and hmac.compare_digest(offered.encode(), expected.encode())


def register_options(p: argparse.ArgumentParser) -> None:
    """The `airlock serve` options of the webhooks."""
    p.add_argument(
        "--hub-webhook-secret-file",
        type=Path,
        metavar="FILE",
        help=f"enables POST /v1/webhooks/huggingface with this X-Webhook-Secret (else ${HUB_SECRET_ENV})",
    )
    p.add_argument(
        "--hub-on-reuse",
        choices=["flag", "revoke"],
        default="flag",
        help="a moved or deleted allowlisted Hub repo: alert (flag) or also revoke its entries",
    )
    p.add_argument(
        "--hub-revoke-key",
        type=Path,
        metavar="KEY",
        help="private key that signs those revocations (--hub-on-reuse revoke; its .pub must be a --pubkey)",
    )
    p.add_argument(
        "--mlflow-webhook-secret-file",
        type=Path,
        metavar="FILE",
        help=f"enables POST /v1/webhooks/mlflow with this HMAC secret (else ${MLFLOW_SECRET_ENV})",
    )
    p.add_argument(
        "--mlflow-tracking-uri",
        metavar="URI",
        default=os.environ.get("MLFLOW_TRACKING_URI"),
        help="the MLflow tracking server the scans read from and write verdicts to (else $MLFLOW_TRACKING_URI)",
    )
    p.add_argument(
        "--mlflow-alias", default="vetted", help="alias moved to a version that passed (default vetted)"
    )
    p.add_argument(
        "--replay-window",
        type=float,
        default=300.0,
        metavar="S",
        help="webhook timestamp window (default 300)",
    )
    p.add_argument("--public-url", default="", metavar="URL", help="this service's URL, for report links")


def from_args(args: argparse.Namespace, pubkeys: tuple[Path, ...]) -> WebhookSettings:
    settings = WebhookSettings(
        hub_secret=secret_from(args.hub_webhook_secret_file, HUB_SECRET_ENV),
        hub_on_reuse=args.hub_on_reuse,
        hub_revoke_key=args.hub_revoke_key,
        mlflow_secret=secret_from(args.mlflow_webhook_secret_file, MLFLOW_SECRET_ENV),
        mlflow_tracking_uri=args.mlflow_tracking_uri or None,
        mlflow_alias=args.mlflow_alias,
        replay_window_s=args.replay_window,
        public_url=args.public_url.rstrip("/"),
    )
    check(settings, pubkeys)
    return settings


def check(settings: WebhookSettings, pubkeys: tuple[Path, ...]) -> None:
    """Refuse to start with a revoke policy that could not sign a revocation the service would accept."""
    if settings.hub_on_reuse != "revoke":
        return
    if settings.hub_revoke_key is None:
        raise WebhookConfigError("--hub-on-reuse revoke needs --hub-revoke-key KEY")
    from airlock.allowlist.keys import load_private, trusted

    key = load_private(settings.hub_revoke_key)
    if key.public.keyid not in trusted(pubkeys):
        raise WebhookConfigError(
            f"{settings.hub_revoke_key}: its public key is not a --pubkey, so the service would refuse "
            "the revocations it signs"
        )


class WebhookMetrics:
    def __init__(self, registry: Any) -> None:
        from prometheus_client import Counter

        self.events = Counter(
            "airlock_webhook_events",
            "Webhook deliveries by source and outcome",
            ["source", "outcome"],
            registry=registry,
        )
        self.reuse = Counter(
            "airlock_namespace_reuse_alerts",
            "Allowlisted Hub repos moved or deleted (the old name can then be taken by someone else)",
            ["action", "policy"],
            registry=registry,
        )


class Webhooks:
    """The routers and the MLflow write-back thread of one service."""

    def __init__(self, service: Service) -> None:
        from airlock.service.webhooks_hub import hub_router
        from airlock.service.webhooks_mlflow import MlflowHooks

        counters = WebhookMetrics(service.metrics.registry)
        self.mlflow = MlflowHooks(service, counters)
        self.routers = [hub_router(service, counters), self.mlflow.router()]

    def attach(self, app: FastAPI) -> None:
        for router in self.routers:
            app.include_router(router)

    def start(self) -> None:
        self.mlflow.start()

    def stop(self) -> None:
        self.mlflow.stop()
