"""OpenSSF Model Signing (OMS): the boundary with the `model-signing` library, and its file layout.

An OMS signature is a Sigstore bundle whose DSSE envelope holds an in-toto statement: one resource
(relative path, sha256) per file, in the library's default per-file mode ("files", not shards).

- `sign_bundle` makes one with the library's own signer (private key, or key plus certificate
  chain) from the sha256 airlock already computed: a `hashing.Config` that returns the
  precomputed manifest stands in for the library's hashing pass, so nothing is read twice.
- `check_bundle` verifies an embedded bundle against one trusted key with `cryptography` alone
  (DSSE pre-authentication encoding, ECDSA, the statement's root digest). It is the check on
  `airlock verify`'s hot path, where importing the library (sigstore, TUF, requests: about 0.4 s)
  would cost more than hashing a small model.
- `read_signature_file` verifies a standalone `.sig` file with the library's own verifiers
  (public key, or certificate chain), for signatures other tools wrote.

Layout rules follow the library's verifier: `.git`, `.gitattributes`, `.github` and `.gitignore`
at the top are never resources, whatever the signature says; a single-file model is the resource
`.`; `ignore_paths` are path prefixes relative to the model folder.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from cryptography.hazmat.primitives import serialization

from airlock.allowlist.errors import AllowlistError, InvalidModelSignature, KeyFileError
from airlock.allowlist.keys import PublicKey, public_pem
from airlock.allowlist.records import pae
from airlock.sources.interface import Snapshot

GIT_PATHS: tuple[str, ...] = (
    ".git",
    ".gitattributes",
    ".github",
    ".gitignore",
)  # model-signing always skips these
IN_TOTO = "application/vnd.in-toto+json"
STATEMENT = "https://in-toto.io/Statement/v1"
PREDICATE = "https://model_signing/signature/v1.0"
BUNDLE_MEDIA_PREFIX = "application/vnd.dev.sigstore.bundle"


@dataclass(frozen=True)
class Layout:
    """How a snapshot looks to OMS: the model name, resource names, and what was left out."""

    model_name: str
    names: Mapping[str, str]  # airlock relative path -> OMS resource name (git paths left out)
    ignore_paths: tuple[str, ...]
    allow_symlinks: bool


@dataclass(frozen=True)
class OmsManifest:
    model_name: str
    resources: Mapping[str, str]  # resource name -> sha256 hex
    ignore_paths: tuple[str, ...]
    allow_symlinks: bool


def is_git_path(name: str) -> bool:
    return name.split("/", 1)[0] in GIT_PATHS


def layout(snapshot: Snapshot) -> Layout:
    symlinks = any(location.is_symlink() for _, location in snapshot.files)
    path = snapshot.reference.path
    if snapshot.reference.kind == "local" and path is not None and path.is_file():
        ((rel, _),) = snapshot.files
        return Layout(rel, {rel: "."}, GIT_PATHS, symlinks)
    included = [rel for rel, _ in snapshot.files]
    left_out = _left_out(snapshot.root, set(included))
    return Layout(
        model_name=snapshot.root.name,
        names={rel: rel for rel in included if not is_git_path(rel)},
        ignore_paths=tuple(sorted(set(GIT_PATHS) | set(left_out))),
        allow_symlinks=symlinks,
    )


def _left_out(root: Path, included: set[str]) -> list[str]:
    """The top-most paths under `root` that the snapshot does not include (to record as ignore_paths)."""
    prefixes = {rel.rsplit("/", i)[0] for rel in included for i in range(1, rel.count("/") + 1)}
    out: list[str] = []
    for folder, dirs, names in os.walk(root, followlinks=False):
        rel_folder = Path(folder).relative_to(root).as_posix()
        prefix = "" if rel_folder == "." else rel_folder + "/"
        keep = []
        for name in dirs:
            if prefix + name in prefixes:
                keep.append(name)
            else:
                out.append(prefix + name)
        dirs[:] = keep
        out += [prefix + n for n in names if prefix + n not in included]
    return [p for p in out if not is_git_path(p)]


def sign_bundle(
    hashes: Mapping[str, str],
    shape: Layout,
    key_path: Path,
    certificate: Path | None = None,
    chain: Sequence[Path] = (),
) -> dict[str, Any]:
    """An OMS bundle over `hashes` (resource name -> sha256 hex), signed by the library's signer."""
    from model_signing import hashing, manifest, signing
    from model_signing._hashing.hashing import Digest

    serialization_type = manifest.SerializationType.from_args(
        {
            "method": "files",
            "hash_type": "sha256",
            "allow_symlinks": shape.allow_symlinks,
            "ignore_paths": list(shape.ignore_paths),
        }
    )
    items = [
        manifest.FileManifestItem(path=PurePosixPath(name), digest=Digest("sha256", bytes.fromhex(sha)))
        for name, sha in sorted(hashes.items())
    ]
    precomputed = manifest.Manifest(shape.model_name, items, serialization_type)

    class Precomputed(hashing.Config):
        """The hashing pass already happened in airlock; hand the library its result."""

        def hash(self, model_path: Any, *, files_to_hash: Iterable[Any] | None = None) -> Any:
            return precomputed

    config = signing.Config().set_hashing_config(Precomputed())  # type: ignore[no-untyped-call]
    try:
        if certificate is not None:
            config.use_certificate_signer(
                private_key=key_path, signing_certificate=certificate, certificate_chain=chain
            )
        else:
            config.use_elliptic_key_signer(private_key=key_path)
        with tempfile.TemporaryDirectory(prefix="airlock-oms-") as tmp:
            out = Path(tmp) / "model.sig"
            config.sign(tmp, out)
            return dict(json.loads(out.read_text(encoding="utf-8")))
    except OSError as exc:
        raise KeyFileError(exc.filename or key_path, exc.strerror or str(exc)) from None
    except ValueError as exc:  # key/certificate mismatch, unreadable PEM
        raise AllowlistError(f"cannot make the OMS signature: {exc}") from None


def check_bundle(bundle: Mapping[str, Any], key: PublicKey) -> OmsManifest:
    """Verify an OMS bundle (public-key or certificate form) against `key`; return its manifest."""
    try:
        media = str(bundle["mediaType"])
        material = bundle["verificationMaterial"]
        envelope = bundle["dsseEnvelope"]
        payload = base64.b64decode(envelope["payload"], validate=True)
        signature = base64.b64decode(envelope["signatures"][0]["sig"], validate=True)
        payload_type = envelope["payloadType"]
    except (KeyError, IndexError, TypeError, binascii.Error, ValueError) as exc:
        raise InvalidModelSignature(f"not an OMS bundle ({type(exc).__name__}: {exc})") from None
    if not media.startswith(BUNDLE_MEDIA_PREFIX) or payload_type != IN_TOTO:
        raise InvalidModelSignature(f"not an OMS bundle (media type {media!r}, payload {payload_type!r})")
    hint = bundle_key_hint(bundle)
    if hint is not None and hint != key.keyid:
        raise InvalidModelSignature(
            f"the OMS signature names key {hint[:16]}…, not the entry's signer {key.keyid[:16]}…"
        )
    certified = _certificate_key(material)
    if certified is not None and certified != public_pem(key.key):
        raise InvalidModelSignature(
            f"the OMS signature's certificate is for another key than {key.keyid[:16]}…"
        )
    if not key.verify(signature, pae(IN_TOTO, payload)):
        raise InvalidModelSignature(f"the OMS signature does not verify with key {key.keyid[:16]}…")
    return statement_manifest(payload)


def _certificate_key(material: Mapping[str, Any]) -> bytes | None:
    """The PEM public key of a certificate bundle's signing certificate (None for a public-key bundle)."""
    chain = material.get("x509CertificateChain")
    if chain:
        from cryptography import x509

        try:
            leaf = x509.load_der_x509_certificate(base64.b64decode(chain["certificates"][0]["rawBytes"]))
        except (KeyError, IndexError, TypeError, ValueError, binascii.Error):
            raise InvalidModelSignature("the OMS bundle's certificate is unreadable") from None
        return leaf.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    return None


def bundle_key_hint(bundle: Mapping[str, Any]) -> str | None:
    """The key id a public-key bundle names (model-signing's `publicKey.hint`)."""
    try:
        hint = bundle["verificationMaterial"]["publicKey"]["hint"]
    except (KeyError, TypeError):
        return None
    return str(hint) if hint else None


def statement_manifest(payload: bytes) -> OmsManifest:
    """The manifest in an in-toto statement, after checking its root digest covers every resource."""
    try:
        statement = json.loads(payload)
        if statement["_type"] != STATEMENT or statement["predicateType"] != PREDICATE:
            raise ValueError(f"unsupported statement {statement['_type']!r} / {statement['predicateType']!r}")
        (subject,) = statement["subject"]
        predicate = statement["predicate"]
        serial = predicate["serialization"]
        if serial["method"] != "files" or serial["hash_type"] != "sha256":
            raise ValueError(
                f"airlock verifies per-file sha256 signatures, not {serial['method']}/{serial['hash_type']}"
            )
        root = hashlib.sha256()
        resources: dict[str, str] = {}
        for item in predicate["resources"]:
            if item["algorithm"] != "sha256":
                raise ValueError(f"resource {item['name']!r} uses {item['algorithm']}")
            root.update(bytes.fromhex(item["digest"]))
            resources[str(item["name"])] = str(item["digest"])
        if root.hexdigest() != subject["digest"]["sha256"]:
            raise ValueError("the root digest does not cover the listed resources")
        return OmsManifest(
            model_name=str(subject["name"]),
            resources=resources,
            ignore_paths=tuple(str(p) for p in serial.get("ignore_paths", ())),
            allow_symlinks=bool(serial["allow_symlinks"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidModelSignature(f"malformed OMS statement: {exc}") from None


def read_signature_file(path: Path, keys: Sequence[PublicKey], chain: Sequence[Path]) -> OmsManifest:
    """Verify a standalone OMS signature with model-signing's verifier: certificate chain, else key."""
    try:
        bundle = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise AllowlistError(f"{path}: cannot read the signature ({exc.strerror or exc})") from None
    except (ValueError, UnicodeDecodeError):
        raise InvalidModelSignature(f"{path}: not an OMS signature (not JSON)") from None
    from model_signing._signing import sign_certificate, sign_ec_key, sign_sigstore_pb

    if chain:
        verifier: Any = sign_certificate.Verifier(list(chain))
    else:
        hint = bundle_key_hint(bundle)
        candidates = [k for k in keys if hint is None or k.keyid == hint]
        if not candidates:
            raise InvalidModelSignature(
                f"{path}: signed by unknown key {hint[:16] if hint else '?'}… (pass its --pubkey)"
            )
        if candidates[0].path is None:
            raise AllowlistError("a public key file is needed to verify an OMS signature")
        verifier = sign_ec_key.Verifier(candidates[0].path)
    noise = io.StringIO()
    try:
        with redirect_stdout(noise):  # the library prints warnings about old bundle formats to stdout
            verified = verifier.verify(sign_sigstore_pb.Signature.read(path))
    except Exception as exc:  # noqa: BLE001  ValueError, InvalidSignature, pydantic, pyOpenSSL: "does not verify"
        raise InvalidModelSignature(f"{path}: {type(exc).__name__}: {exc}".rstrip(": ")) from None
    resources = {rd.identifier: rd.digest.digest_hex for rd in verified.resource_descriptors()}
    serial = verified.serialization_type
    if serial.get("method") != "files" or serial.get("hash_type") != "sha256":
        raise InvalidModelSignature(f"{path}: airlock verifies per-file sha256 signatures, not {serial}")
    return OmsManifest(
        verified.model_name,
        resources,
        tuple(serial.get("ignore_paths", ())),
        bool(serial.get("allow_symlinks")),
    )


def signature_files(model: Path, manifest: OmsManifest) -> list[tuple[str, Path]]:
    """The files model-signing's verifier would hash for `model`: (resource name, location)."""
    if model.is_file():
        return [(".", model)]
    ignored = [PurePosixPath(p) for p in (*manifest.ignore_paths, *GIT_PATHS)]
    found: list[tuple[str, Path]] = []
    for folder, dirs, names in os.walk(model, followlinks=False):
        rel_folder = PurePosixPath(Path(folder).relative_to(model).as_posix())
        dirs[:] = sorted(d for d in dirs if not _under(rel_folder / d, ignored))
        for name in sorted(names):
            rel = rel_folder / name
            if _under(rel, ignored):
                continue
            location = Path(folder) / name
            if location.is_symlink() and not manifest.allow_symlinks:
                raise InvalidModelSignature(f"{rel} is a symlink, which the signature does not allow")
            found.append((str(rel), location))
    return found


def _under(path: PurePosixPath, prefixes: Iterable[PurePosixPath]) -> bool:
    return any(path.is_relative_to(p) for p in prefixes)
