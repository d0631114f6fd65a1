"""Bearer tokens: read from a file (one per line) or `AIRLOCK_TOKENS` (comma-separated).

Every token is compared in constant time, all of them on every request, so timing says nothing
about which one nearly matched. Tokens are never logged; a caller is named by a short hash of its.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from airlock.errors import AirlockError

ENV = "AIRLOCK_TOKENS"
MIN_LENGTH = 16


class TokenError(AirlockError):
    pass


def load_tokens(token_file: Path | None) -> tuple[str, ...]:
    if token_file is not None:
        try:
            lines = token_file.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise TokenError(f"{token_file}: cannot read the token file ({exc.strerror or exc})") from None
        tokens = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    else:
        tokens = [t.strip() for t in os.environ.get(ENV, "").split(",") if t.strip()]
    if not tokens:
        raise TokenError(f"no API token: pass --token-file FILE or set {ENV} (the service never runs open)")
    short = [t for t in tokens if len(t) < MIN_LENGTH]
    if short:
        raise TokenError(f"{len(short)} API token(s) shorter than {MIN_LENGTH} characters")
    return tuple(tokens)


class Tokens:
    def __init__(self, tokens: Sequence[str]) -> None:
        self._tokens = tuple(t.encode() for t in tokens)

    def caller(self, authorization: str | None) -> str | None:
        """`token:<hash prefix>` for a valid `Bearer` header, else None."""
        if not authorization or not authorization.startswith("Bearer "):
            return None
        offered = authorization[len("Bearer ") :].strip().encode()
        ok = False
        for token in self._tokens:
            ok |= hmac.compare_digest(offered, token)
        if not ok:
            return None
        return "token:" + hashlib.sha256(offered).hexdigest()[:12]


def scope_cert_name(scope: Mapping[str, Any]) -> str | None:
    """The name of the client certificate the TLS layer verified (`airlock.service.mtls`), if any."""
    tls = (scope.get("extensions") or {}).get("tls") or {}
    name = tls.get("client_cert_name")
    return name if isinstance(name, str) else None
