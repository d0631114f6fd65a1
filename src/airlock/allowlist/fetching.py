"""Verify-then-download: fetch a pinned Hub snapshot, check it against the allowlist, then hand it over.

The KServe storage-initializer path (`airlock fetch-verified`). The snapshot is downloaded by the real
`huggingface_hub` client into a staging folder beside (or, for a mount point, inside) DEST, its files
are re-hashed by `verify` (the same code as `airlock verify`), and only an admitted model is moved into
DEST by rename. On any refusal the staging folder is removed and DEST holds nothing.

DEST that does not exist yet is created by one atomic rename of the staged folder. DEST that exists
(KServe mounts an empty volume at /mnt/models, which cannot be renamed over) must be empty; the model
is staged in a hidden folder inside it, on the same file system, and its top-level entries are renamed
into place once it is admitted.
"""

from __future__ import annotations

import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from airlock.allowlist.keys import TrustedKeys
from airlock.allowlist.verifying import Decision, VerifyOptions, verify
from airlock.errors import AirlockError, SourceError
from airlock.sources.interface import Reference, parse_reference

Why = Literal[
    "unpinned",
    "unsupported",
    "dest",
    "download",
    "untrusted-allowlist",
    "not-allowlisted",
    "digest-mismatch",
    "revoked",
    "expired",
    "refused",
]


class Refused(AirlockError):
    """The model was not handed over; `why` names the kind of refusal, the message says the rest."""

    def __init__(self, why: Why, message: str) -> None:
        super().__init__(f"refused ({why}): {message}")
        self.why = why


@dataclass(frozen=True)
class Fetched:
    reference: str
    dest: Path
    digest: str
    files: int
    reason: str


def hub_reference(raw: str) -> Reference:
    """A pinned `hf://ORG/NAME@<sha>`; KServe's `hf://ORG/NAME:<sha>` spelling is accepted too."""
    text = raw.strip()
    if not text.startswith("hf://"):
        raise Refused("unsupported", f"{raw!r}: only hf://ORG/NAME@<commit sha> references are fetched")
    body = text.removeprefix("hf://")
    if "@" not in body and body.count(":") == 1:
        body = body.replace(":", "@")
    try:
        reference = parse_reference(f"hf://{body}")
    except AirlockError as exc:
        raise Refused("unsupported", exc.diagnostics()) from None
    if not reference.pinned:
        what = f"revision {reference.revision!r}" if reference.revision else "no revision"
        raise Refused(
            "unpinned",
            f"{raw} has {what}: a branch or tag can move to other bytes; pin it: "
            f"hf://{reference.repo_id}@<40-hex commit sha>",
        )
    return reference


def fetch_verified(
    raw: str, dest: Path, allowlist: Path, trusted: TrustedKeys, *, min_counter: int = 0
) -> Fetched:
    """Download `raw`, verify it, move it into `dest`; raise `Refused` (DEST left empty) otherwise."""
    reference = hub_reference(raw)
    staging, into_existing = _staging(dest)
    try:
        model = _download(reference, staging)
        decision = verify(
            str(model), allowlist, trusted, VerifyOptions(min_counter=min_counter, use_cache=False)
        )
        if not decision.admitted:
            raise _refusal(decision, reference)
        count = sum(1 for p in model.rglob("*") if p.is_file())
        if into_existing:
            for entry in sorted(model.iterdir()):
                os.replace(entry, dest / entry.name)
        else:
            os.replace(model, dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    assert decision.digest is not None
    return Fetched(raw, dest, decision.digest, count, decision.reason)


def _staging(dest: Path) -> tuple[Path, bool]:
    token = secrets.token_hex(6)
    if dest.exists() or dest.is_symlink():
        if not dest.is_dir() or dest.is_symlink():
            raise Refused("dest", f"{dest} exists and is not a folder")
        if any(dest.iterdir()):
            raise Refused("dest", f"{dest} is not empty: refusing to mix a verified model with other files")
        staging = dest / f".airlock-staging-{token}"
        into_existing = True
    else:
        if not dest.parent.is_dir():
            raise Refused("dest", f"{dest.parent} does not exist")
        staging = dest.parent / f".{dest.name}.airlock-staging-{token}"
        into_existing = False
    try:
        staging.mkdir(mode=0o700)
    except OSError as exc:
        raise Refused("dest", f"cannot create {staging}: {exc.strerror or exc}") from None
    return staging, into_existing


def _download(reference: Reference, staging: Path) -> Path:
    """Fetch the snapshot into a client cache under `staging`, then lay its files out as plain files."""
    from airlock.sources.hub import fetch_hub

    cache = staging / "hub-cache"
    try:
        snapshot = fetch_hub(reference, cache_dir=cache, progress=False)
    except SourceError as exc:
        raise Refused("download", exc.diagnostics()) from None
    model = staging / "model"
    model.mkdir()
    for rel, location in snapshot.files:
        target = model / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        blob = location.resolve()
        try:
            os.link(blob, target)
        except OSError:
            shutil.copyfile(blob, target)
    shutil.rmtree(cache, ignore_errors=True)
    return model


def _refusal(decision: Decision, reference: Reference) -> Refused:
    reason = decision.reason
    if reason.startswith("revoked"):
        return Refused("revoked", reason)
    if reason.startswith("expired"):
        return Refused("expired", reason)
    if decision.allowlist is None:
        return Refused("untrusted-allowlist", reason)
    pinned = f"hf://{reference.repo_id}@{reference.revision}"
    if decision.changes and any(e.value.reference == pinned for e in decision.allowlist.entries()):
        return Refused(
            "digest-mismatch",
            f"the downloaded files are not the allowlisted ones for {pinned} (got {decision.digest}): {reason}",
        )
    if reason.startswith("not in the allowlist"):
        return Refused("not-allowlisted", reason)
    return Refused("refused", reason)
