"""References and snapshots: what the user asked for, and the files that answer it.

A `Reference` is parsed from the command line; a source turns it into a `Snapshot` (a root folder,
the files in it, and for the Hub the commit sha and the Hub's own record of every file).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from airlock.errors import InvalidReference, LocalPathError

SourceKind = Literal["hf", "local"]

# The Hub's repo-id rules: ORG/NAME, word characters, '-', '.', no '--' or '..', no leading/trailing '-' or '.'.
_PART = r"[A-Za-z0-9_](?:[A-Za-z0-9_.\-]{0,94}[A-Za-z0-9_])?"
_REPO_ID = re.compile(rf"^{_PART}/{_PART}$")
COMMIT_SHA = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True, slots=True)
class Reference:
    raw: str
    kind: SourceKind
    repo_id: str | None = None
    revision: str | None = None  # as the user wrote it: a branch, tag or sha; None = default branch
    path: Path | None = None

    @property
    def pinned(self) -> bool:
        return self.revision is not None and bool(COMMIT_SHA.match(self.revision))


@dataclass(frozen=True, slots=True)
class HubFile:
    """The Hub's record of one file at a commit."""

    path: str
    size: int | None
    blob_id: str | None  # git blob sha1 (of the LFS pointer for LFS files)
    lfs_sha256: str | None = None
    security: Mapping[str, Any] | None = None  # the Hub's per-file scan status, when it gives one


@dataclass(frozen=True)
class HubMetadata:
    repo_id: str
    endpoint: str
    requested_revision: str | None
    sha: str
    files: Mapping[str, HubFile]
    info: Mapping[str, Any] = field(default_factory=dict)  # author, dates, gated, card data, security status
    from_cache_only: bool = False  # True when no Hub API was consulted (offline, or a local cache folder)


@dataclass(frozen=True)
class Snapshot:
    reference: Reference
    source: SourceKind
    root: Path
    files: tuple[tuple[str, Path], ...]  # (relative posix path, location on disk)
    revision: str | None = None
    hub: HubMetadata | None = None
    ignored: tuple[str, ...] = ()  # patterns whose matches were left out of the snapshot
    outside_links: tuple[
        tuple[str, str], ...
    ] = ()  # (relative path, where it leads) of symlinks out of the folder


def is_repo_id(text: str) -> bool:
    return bool(_REPO_ID.match(text)) and "--" not in text and ".." not in text


def parse_reference(raw: str) -> Reference:
    """`hf://ORG/NAME[@REV]`, a path that exists, or `ORG/NAME[@REV]` when no such path exists."""
    text = raw.strip()
    if not text:
        raise InvalidReference(raw, "empty model reference")
    if text.startswith("hf://"):
        return _hub_reference(raw, text[len("hf://") :])
    path = Path(text).expanduser()
    if path.exists() or path.is_symlink():
        return Reference(raw=raw, kind="local", path=path)
    repo, _, _ = text.partition("@")
    if is_repo_id(repo) and not text.startswith((".", "/", "~")):
        return _hub_reference(raw, text)
    raise LocalPathError(
        text, "no such file or directory (and not a Hub reference: hf://ORG/NAME[@REVISION])"
    )


def _hub_reference(raw: str, body: str) -> Reference:
    repo, sep, revision = body.partition("@")
    if not is_repo_id(repo):
        raise InvalidReference(raw, "not a valid Hub repo id (expected ORG/NAME[@REVISION])")
    if sep and not revision:
        raise InvalidReference(raw, "empty revision after '@'")
    return Reference(raw=raw, kind="hf", repo_id=repo, revision=revision or None)
