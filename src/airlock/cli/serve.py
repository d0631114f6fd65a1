"""`airlock serve`: the admission service (HTTP API and Kubernetes webhook) over a signed allowlist.

Needs the `serve` extra (FastAPI, uvicorn, prometheus_client). Runs until interrupted; exit 2 when
it cannot start (no token, an allowlist that does not verify, a database it cannot open).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from airlock.errors import AirlockError
from airlock.exitcodes import ExitCode
from airlock.service import webhooks


class ServeUnavailable(AirlockError):
    pass


def register(commands: Any) -> None:
    p = commands.add_parser("serve", help="run the admission service (HTTP API and Kubernetes webhook)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8443, help="port (default 8443)")
    p.add_argument("--allowlist", type=Path, required=True, metavar="FILE", help="the signed allowlist")
    p.add_argument(
        "--pubkey",
        type=Path,
        action="append",
        required=True,
        metavar="KEY",
        help="public key of a signer you trust (repeatable)",
    )
    p.add_argument("--policy", type=Path, metavar="FILE", help="policy TOML for background scans")
    p.add_argument(
        "--db",
        metavar="URL",
        help="the audit log and scan queue: sqlite:///PATH (default: serve.sqlite3 in the airlock cache) "
        "or postgresql://USER@HOST/DB (replicas share one queue; the password from PGPASSWORD or ~/.pgpass)",
    )
    p.add_argument(
        "--scan-lease",
        type=float,
        default=30.0,
        metavar="S",
        help="seconds a scan job stays with a worker that stopped renewing it (killed) before a retry",
    )
    p.add_argument(
        "--fail-open",
        action="append",
        default=[],
        metavar="NAMESPACE",
        help="admit this namespace's AdmissionReviews, with a warning, when the service fails "
        "(repeatable; logged at every use; every other namespace fails closed)",
    )
    p.add_argument("--tls-cert", type=Path, metavar="FILE", help="serve HTTPS with this certificate (PEM)")
    p.add_argument("--tls-key", type=Path, metavar="FILE", help="the certificate's private key (PEM)")
    p.add_argument(
        "--client-ca",
        type=Path,
        metavar="FILE",
        help="accept client certificates issued by this CA (PEM) in place of a token on /v1/k8s/admit (mTLS)",
    )
    p.add_argument("--workers", type=int, default=1, metavar="N", help="background scan workers (default 1)")
    p.add_argument(
        "--token-file",
        type=Path,
        metavar="FILE",
        help="API bearer tokens, one per line (else AIRLOCK_TOKENS, comma-separated)",
    )
    p.add_argument(
        "--unknown",
        choices=["pending", "deny"],
        default="pending",
        help="answer for a model not in the allowlist on /v1/admissions (a scan is queued either way)",
    )
    p.add_argument(
        "--mode",
        choices=["enforce", "warn"],
        default="enforce",
        help="Kubernetes webhook mode for namespaces without --namespace-mode (default enforce)",
    )
    p.add_argument(
        "--namespace-mode",
        action="append",
        default=[],
        metavar="NS=MODE",
        help="webhook mode (enforce|warn) for one namespace (repeatable)",
    )
    p.add_argument(
        "--min-counter", type=int, default=0, metavar="N", help="refuse an allowlist below counter N"
    )
    p.add_argument(
        "--reload-interval",
        type=float,
        default=2.0,
        metavar="S",
        help="seconds between allowlist file checks",
    )
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    webhooks.register_options(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> ExitCode:
    try:
        from airlock.service.server import serve
    except ImportError as exc:
        raise ServeUnavailable(
            f"`airlock serve` needs the serve extra: pip install 'model-airlock[serve]' ({exc.name} is missing)"
        ) from None
    from airlock import config
    from airlock.service.auth import load_tokens
    from airlock.service.k8s import Modes
    from airlock.service.settings import Settings

    if (args.tls_cert is None) != (args.tls_key is None):
        raise ServeUnavailable("--tls-cert and --tls-key go together")
    if args.client_ca is not None and args.tls_cert is None:
        raise ServeUnavailable(
            "--client-ca needs --tls-cert and --tls-key (client certificates come with TLS)"
        )
    namespaces = {}
    for item in args.namespace_mode:
        name, sep, mode = item.partition("=")
        if not sep or not name or mode not in ("enforce", "warn"):
            raise ServeUnavailable(f"--namespace-mode {item!r}: expected NAMESPACE=enforce|warn")
        namespaces[name] = mode
    if args.workers < 0:
        raise ServeUnavailable("--workers must be 0 or more")
    if not args.scan_lease > 0:
        raise ServeUnavailable("--scan-lease must be above 0")
    settings = Settings(
        allowlist=args.allowlist,
        pubkeys=tuple(args.pubkey),
        tokens=load_tokens(args.token_file),
        db=args.db or f"sqlite://{config.cache_dir() / 'serve.sqlite3'}",
        policy=args.policy,
        unknown=args.unknown,
        modes=Modes(args.mode, namespaces),
        workers=args.workers,
        min_counter=args.min_counter,
        reload_interval=args.reload_interval,
        webhooks=webhooks.from_args(args, tuple(args.pubkey)),
        lease_s=args.scan_lease,
        fail_open=frozenset(args.fail_open),
    )
    serve(
        settings,
        host=args.host,
        port=args.port,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        client_ca=args.client_ca,
        log_level=args.log_level,
    )
    return ExitCode.PASSED
