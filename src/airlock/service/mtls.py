"""mTLS client certificates for the Kubernetes endpoint: the verified certificate's name in the scope.

With `--client-ca FILE` the TLS layer asks every client for a certificate (optional: bearer tokens
keep working) and verifies one that is offered against that CA; a certificate that does not verify
ends the handshake. uvicorn does not put the peer certificate in the ASGI scope, so this protocol
(uvicorn's httptools protocol, plus two lines) adds the ASGI TLS extension's `client_cert_name` (the
subject's common name) for connections whose certificate verified. Only `/v1/k8s/admit` accepts it
in place of a token (the API server authenticates to webhooks with a client certificate).
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


def client_cert_name(transport: asyncio.BaseTransport) -> str | None:
    """The common name of the client's verified certificate, or None (no certificate, no TLS)."""
    ssl_object = transport.get_extra_info("ssl_object")
    if not isinstance(ssl_object, ssl.SSLObject | ssl.SSLSocket):
        return None
    peer = ssl_object.getpeercert()  # a dict only for a certificate that verified
    if not peer:
        return None
    subject: Any = peer.get("subject", ())  # ((("commonName", "name"),), …)
    for rdn in subject:
        for key, value in rdn:
            if key == "commonName":
                return str(value)
    return "(no common name)"


class ClientCertProtocol(HttpToolsProtocol):
    _cert_name: str | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._cert_name = client_cert_name(transport)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._cert_name is not None:
            scope: Any = self.scope
            scope["extensions"] = {"tls": {"client_cert_name": self._cert_name}}
