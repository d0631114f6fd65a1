"""Errors of the allowlist package: the job could not be done, or an allowlist was tampered with.

`AllowlistError` means "could not do the job" (a missing key, an unreadable file: exit 2).
`UntrustedAllowlist` is a refusal: the allowlist exists but cannot be trusted (exit 1).
"""

from __future__ import annotations

from pathlib import Path

from airlock.errors import AirlockError


class AllowlistError(AirlockError):
    """An allowlist, key or signature file could not be read, written or used."""


class KeyFileError(AllowlistError):
    def __init__(self, path: Path | str, why: str) -> None:
        super().__init__(f"{path}: {why}")
        self.path = str(path)


class UntrustedAllowlist(AllowlistError):
    """The allowlist cannot be trusted: edited, reordered, replayed, or signed by an unknown key."""

    def __init__(self, why: str, record: int | None = None) -> None:
        super().__init__(why)
        self.record = record


class InvalidModelSignature(AllowlistError):
    """An OMS model signature does not verify (bad signature, wrong key, inconsistent manifest)."""
