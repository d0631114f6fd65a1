"""What `airlock serve` was started with (the CLI builds it; tests build it directly)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from airlock.service.decide import Unknown
from airlock.service.k8s import Modes
from airlock.service.webhooks import WebhookSettings

MAX_BODY = 1024 * 1024  # an AdmissionReview of a large Pod fits; anything bigger is refused (413)


@dataclass(frozen=True)
class Settings:
    allowlist: Path
    pubkeys: tuple[Path, ...]
    tokens: tuple[str, ...]
    db: str
    policy: Path | None = None
    unknown: Unknown = "pending"
    modes: Modes = field(default_factory=Modes)
    workers: int = 1  # background scan workers (each scan runs in its own child process)
    min_counter: int = 0
    reload_interval: float = 2.0  # seconds between checks of the allowlist file
    max_body: int = MAX_BODY
    webhooks: WebhookSettings = field(default_factory=WebhookSettings)  # MLflow and Hub webhooks
    lease_s: float = 30.0  # a scan job's lease: how long a killed worker's job waits before a retry
    # namespaces whose AdmissionReviews are admitted (with a warning, logged) when the service errs;
    # every other namespace fails closed (HTTP 500, and the API server's failurePolicy: Fail)
    fail_open: frozenset[str] = frozenset()
