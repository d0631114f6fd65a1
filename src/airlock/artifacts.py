"""Artifacts: the files of a snapshot, each read exactly once.

One streaming pass per file computes its size, sha256 and (for small files) its git blob sha1,
and keeps the head and tail bytes that format detection needs. Every scanner shares the result;
nothing re-hashes. Files are hashed on a small thread pool: hashlib releases the GIL.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from airlock.errors import ArtifactError
from airlock.formats import HEAD_BYTES, TAIL_BYTES, Format, detect

CHUNK = 1 << 20  # at least TAIL_BYTES: the last two chunks always hold the tail
GIT_SHA1_MAX = 16 << 20  # files the Hub may store outside LFS are small; hash those with git's sha1 too
ProgressCallback = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class Artifact:
    path: str  # relative to the snapshot root, forward slashes
    size: int
    sha256: str
    format: Format
    location: Path  # where the bytes are on disk (may be a resolved symlink into a cache)
    git_sha1: str | None = None  # sha1(b"blob <size>\0" + bytes), for files up to GIT_SHA1_MAX

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "size": self.size, "sha256": self.sha256, "format": str(self.format)}


def read_artifact(relpath: str, location: Path, progress: ProgressCallback | None = None) -> Artifact:
    """Hash and identify one file in a single streaming pass."""
    try:
        with open(location, "rb", buffering=0) as fh:
            size = os.fstat(fh.fileno()).st_size
            sha = hashlib.sha256()
            git = hashlib.sha1(f"blob {size}\0".encode()) if size <= GIT_SHA1_MAX else None
            buffers = (bytearray(CHUNK), bytearray(CHUNK))
            lengths = [0, 0]
            head = b""
            current = 0
            total = 0
            while True:
                view = memoryview(buffers[current])
                n = _fill(fh, view)
                if not n:
                    break
                chunk = view[:n]
                sha.update(chunk)
                if git is not None:
                    git.update(chunk)
                if len(head) < HEAD_BYTES:
                    head += bytes(chunk[: HEAD_BYTES - len(head)])
                lengths[current] = n
                current ^= 1
                total += n
                if progress is not None:
                    progress(n)
            older, newest = current, current ^ 1  # `current` is the buffer that would be filled next
            tail = bytes(buffers[older][: lengths[older]]) + bytes(buffers[newest][: lengths[newest]])
            tail = tail[-TAIL_BYTES:]
            if total != size:
                raise ArtifactError(
                    location, f"file changed while reading ({size} bytes expected, {total} read)"
                )

            def read_at(offset: int, length: int) -> bytes:
                return os.pread(fh.fileno(), min(length, max(0, size - offset)), offset)

            fmt = detect(head, tail, size, read_at)
    except ArtifactError:
        raise
    except OSError as exc:
        raise ArtifactError(location, exc.strerror or str(exc)) from exc
    return Artifact(
        path=relpath,
        size=size,
        sha256=sha.hexdigest(),
        format=fmt,
        location=location,
        git_sha1=git.hexdigest() if git is not None else None,
    )


def _fill(fh: io.RawIOBase, view: memoryview) -> int:
    """Read until `view` is full or the file ends. One read may return less than asked (FUSE and
    network file systems do), and the tail is only complete if every chunk but the last is full."""
    filled = 0
    while filled < len(view):
        n = fh.readinto(view[filled:])
        if not n:
            break
        filled += n
    return filled


def collect(
    files: Iterable[tuple[str, Path]], *, workers: int = 2, progress: ProgressCallback | None = None
) -> tuple[Artifact, ...]:
    """Artifacts for (relative path, location) pairs, sorted by path."""
    items = sorted(files)
    if len(items) <= 1 or workers <= 1:
        return tuple(read_artifact(rel, loc, progress) for rel, loc in items)
    from concurrent.futures import ThreadPoolExecutor  # a one-file scan does without it

    with ThreadPoolExecutor(max_workers=workers) as pool:
        # largest first, so one big file does not start last
        order = sorted(items, key=lambda it: file_size(it[1]), reverse=True)
        results = list(pool.map(lambda it: read_artifact(it[0], it[1], progress), order))
    return tuple(sorted(results, key=lambda a: a.path))


def file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def manifest(artifacts: Sequence[Artifact]) -> bytes:
    """The canonical manifest: one JSON object per file (path, size, sha256), sorted by path."""
    lines = [
        json.dumps(
            {"path": a.path, "sha256": a.sha256, "size": a.size}, sort_keys=True, separators=(",", ":")
        )
        for a in sorted(artifacts, key=lambda a: a.path)
    ]
    return ("\n".join(lines) + "\n").encode()


def model_digest(artifacts: Sequence[Artifact]) -> str:
    """`sha256:<hex>` over the canonical manifest: same bytes, same digest, wherever they sit."""
    return "sha256:" + hashlib.sha256(manifest(artifacts)).hexdigest()
