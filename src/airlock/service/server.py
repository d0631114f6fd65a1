"""Run the service with uvicorn: HTTPS when given a certificate, SIGHUP reloads the allowlist."""

from __future__ import annotations

import logging
import signal
import ssl
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from airlock.service.app import Service, create_app
from airlock.service.settings import Settings

log = logging.getLogger(__name__)


def serve(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    port: int = 8443,
    tls_cert: Path | None = None,
    tls_key: Path | None = None,
    client_ca: Path | None = None,
    log_level: str = "info",
) -> None:
    import uvicorn

    app = create_app(settings)
    service: Service = app.state.service

    def on_hangup(signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=service.reload, args=("SIGHUP",), daemon=True).start()

    signal.signal(signal.SIGHUP, on_hangup)
    mtls: dict[str, Any] = {}
    if client_ca is not None:  # ask for a client certificate, verify one that is offered
        from airlock.service.mtls import ClientCertProtocol

        mtls = {
            "ssl_ca_certs": str(client_ca),
            "ssl_cert_reqs": ssl.CERT_OPTIONAL,
            "http": ClientCertProtocol,
        }
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        ssl_certfile=str(tls_cert) if tls_cert else None,
        ssl_keyfile=str(tls_key) if tls_key else None,
        log_level=log_level,
        access_log=False,  # the audit log records decisions; an access log would repeat them
        lifespan="on",
        **mtls,
    )
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log.info(
        "serving allowlist %s (counter %d) on %s://%s:%d",
        settings.allowlist,
        service.holder.current.counter,
        "https" if tls_cert else "http",
        host,
        port,
    )
    uvicorn.Server(config).run()
