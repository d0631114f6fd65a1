"""Admission references: what a caller may ask about, parsed without touching disk or network.

The service decides from the allowlist alone, so it accepts only references that name one immutable
model: a Hub repo pinned to a commit (`hf://ORG/NAME@<40-hex sha>` or `ORG/NAME@<sha>`) or a model
digest (`sha256:<64 hex>`). A branch or tag is refused with the way to pin it; a local path is
refused because the service never reads the file system on a caller's behalf.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from airlock.sources.interface import COMMIT_SHA, is_repo_id

MAX_REFERENCE = 512
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_PRINTABLE = re.compile(r"^[\x21-\x7e]+$")


class BadReference(ValueError):
    """Not a reference the service can decide on; the message says why (and how to pin)."""

    def __init__(self, why: str, *, unpinned: bool = False) -> None:
        super().__init__(why)
        self.unpinned = unpinned


@dataclass(frozen=True, slots=True)
class ModelRef:
    kind: Literal["hf", "digest"]
    raw: str
    repo_id: str | None = None
    revision: str | None = None  # a 40-hex commit sha
    digest: str | None = None

    @property
    def canonical(self) -> str:
        return f"hf://{self.repo_id}@{self.revision}" if self.kind == "hf" else str(self.digest)


def parse(raw: str) -> ModelRef:
    """Parse an admission reference, or raise `BadReference`."""
    text = raw.strip()
    if not text:
        raise BadReference("empty model reference")
    if len(text) > MAX_REFERENCE or not _PRINTABLE.match(text):
        raise BadReference(f"not a model reference (printable ASCII, at most {MAX_REFERENCE} characters)")
    if _DIGEST.match(text):
        return ModelRef("digest", raw, digest=text)
    body = text.removeprefix("hf://")
    repo, sep, revision = body.partition("@")
    if not is_repo_id(repo):
        raise BadReference(
            "not a model reference the service decides on: use hf://ORG/NAME@<commit sha> or "
            "sha256:<model digest> (local paths are never read)"
        )
    if not sep or not COMMIT_SHA.match(revision):
        what = f"revision {revision!r}" if sep else "no revision (the default branch)"
        raise BadReference(
            f"unpinned reference ({what}): a branch or tag can move to other bytes; pin it to a commit: "
            f"hf://{repo}@<40-hex commit sha> (`airlock scan hf://{repo}` shows the sha it resolves to)",
            unpinned=True,
        )
    return ModelRef("hf", raw, repo_id=repo, revision=revision)
