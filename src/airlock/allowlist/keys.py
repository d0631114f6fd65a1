"""Signing keys: ECDSA key pairs in PEM files, their key ids, and the set of keys a verifier trusts.

Keys are ECDSA on NIST P-256 (P-384 and P-521 load too), the curves the OpenSSF Model Signing
library accepts for private-key signing; it has no Ed25519 support. A key id is the sha256 of the
public key's PEM (SubjectPublicKeyInfo), the same value model-signing writes as the public-key hint
of its bundles, so one id names a key in both places.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NewType

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from airlock.allowlist.errors import KeyFileError

KeyId = NewType("KeyId", str)
_CURVES: dict[str, hashes.HashAlgorithm] = {
    "secp256r1": hashes.SHA256(),
    "secp384r1": hashes.SHA384(),
    "secp521r1": hashes.SHA512(),
}  # as model-signing pairs them


@dataclass(frozen=True)
class PublicKey:
    key: ec.EllipticCurvePublicKey
    keyid: KeyId
    path: Path | None = None

    def verify(self, signature: bytes, message: bytes) -> bool:
        try:
            self.key.verify(signature, message, ec.ECDSA(_hash_for(self.key)))
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class PrivateKey:
    key: ec.EllipticCurvePrivateKey
    path: Path
    public: PublicKey

    def sign(self, message: bytes) -> bytes:
        return self.key.sign(message, ec.ECDSA(_hash_for(self.key.public_key())))


TrustedKeys = Mapping[KeyId, PublicKey]


def public_pem(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def key_id(key: ec.EllipticCurvePublicKey) -> KeyId:
    """sha256 hex of the PEM public key: model-signing's `publicKey.hint`."""
    return KeyId(hashlib.sha256(public_pem(key)).hexdigest())


def generate(path: Path, *, force: bool = False) -> PublicKey:
    """Write a new P-256 private key to `path` (mode 600) and its public key to `path`.pub."""
    pub_path = public_path(path)
    if not force:
        for existing in (path, pub_path):
            if existing.exists() or existing.is_symlink():
                raise KeyFileError(existing, "already exists (use --force to overwrite)")
    private = ec.generate_private_key(ec.SECP256R1())
    secret = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    _write_new(path, secret, 0o600, overwrite=force)
    _write_new(pub_path, public_pem(private.public_key()), 0o644, overwrite=force)
    return PublicKey(private.public_key(), key_id(private.public_key()), pub_path)


def public_path(private_path: Path) -> Path:
    return private_path.with_name(private_path.name + ".pub")


def _write_new(path: Path, data: bytes, mode: int, *, overwrite: bool) -> None:
    """Create `path` with `mode` from the start (never briefly world-readable), atomically.

    Without `overwrite` the file is linked into place, which fails if something appeared there since
    the check above: a key is never silently replaced."""
    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise KeyFileError(path, exc.strerror or str(exc)) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), mode)
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)
    except FileExistsError:
        raise KeyFileError(path, "already exists (use --force to overwrite)") from None
    except OSError as exc:
        raise KeyFileError(path, exc.strerror or str(exc)) from None
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)


def load_private(path: Path) -> PrivateKey:
    data = _read(path)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise KeyFileError(
            path, "the private key is encrypted; airlock needs an unencrypted key (mode 600)"
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise KeyFileError(path, "not a PEM private key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise KeyFileError(path, f"not an ECDSA key ({type(key).__name__}); create one with `airlock keygen`")
    _check_curve(path, key.public_key())
    public = PublicKey(key.public_key(), key_id(key.public_key()), None)
    return PrivateKey(key, path, public)


def load_public(path: Path) -> PublicKey:
    data = _read(path)
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        hint = " (that is a private key: pass the .pub file)" if b"PRIVATE KEY" in data else ""
        raise KeyFileError(path, f"not a PEM public key{hint}") from None
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise KeyFileError(path, f"not an ECDSA public key ({type(key).__name__})")
    _check_curve(path, key)
    return PublicKey(key, key_id(key), path)


def trusted(paths: Iterable[Path]) -> dict[KeyId, PublicKey]:
    """The keys a verifier trusts, by key id."""
    keys = {}
    for path in paths:
        key = load_public(path)
        keys[key.keyid] = key
    return keys


def _read(path: Path) -> bytes:
    try:
        return path.expanduser().read_bytes()
    except OSError as exc:
        raise KeyFileError(path, exc.strerror or str(exc)) from None


def _check_curve(path: Path, key: ec.EllipticCurvePublicKey) -> None:
    if key.curve.name not in _CURVES:
        raise KeyFileError(path, f"curve {key.curve.name} is not supported (use P-256: `airlock keygen`)")


def _hash_for(key: ec.EllipticCurvePublicKey) -> hashes.HashAlgorithm:
    return _CURVES[key.curve.name]
