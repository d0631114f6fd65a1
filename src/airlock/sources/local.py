"""Local source: a single file or a folder (recursively), read in place.

A folder that is a Hugging Face cache snapshot (`models--ORG--NAME/snapshots/<sha>`) also yields
the Hub metadata the cache itself records: the repo id, the commit, and each file's blob name,
which is the LFS sha256 (or the git blob sha1 for small files) that the provenance scanner checks.
"""

from __future__ import annotations

import fnmatch
import os
import re
import stat
from collections.abc import Sequence
from pathlib import Path

from airlock.errors import LocalPathError
from airlock.sources.interface import COMMIT_SHA, HubFile, HubMetadata, Reference, Snapshot

DEFAULT_IGNORES: tuple[str, ...] = (".git/*", ".cache/huggingface/*")
MAX_FILES = 100_000
_CACHE_REPO = re.compile(r"^models--(?P<org>[^/]+?)--(?P<name>[^/]+)$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def open_local(reference: Reference, *, include: Sequence[str] = (), exclude: Sequence[str] = ()) -> Snapshot:
    assert reference.path is not None
    path = reference.path
    try:
        st = path.stat()
    except FileNotFoundError:
        raise LocalPathError(path, "no such file or directory (or a dangling symlink)") from None
    except OSError as exc:
        raise LocalPathError(path, exc.strerror or str(exc)) from None
    if stat.S_ISREG(st.st_mode):
        _check_readable(path)
        return Snapshot(reference=reference, source="local", root=path.parent, files=((path.name, path),))
    if not stat.S_ISDIR(st.st_mode):
        raise LocalPathError(path, "not a regular file or folder")
    ignores = DEFAULT_IGNORES + tuple(exclude)
    files = walk_files(path, include=tuple(include), ignores=ignores)
    if not files:
        raise LocalPathError(path, "empty folder: no files to scan")
    hub = hub_cache_metadata(path, files)
    # In a Hugging Face cache snapshot every file links to ../../blobs: the repo folder is the boundary.
    boundary = path.resolve().parent.parent if hub is not None else path.resolve()
    return Snapshot(
        reference=reference,
        source="local",
        root=path,
        files=files,
        hub=hub,
        ignored=ignores,
        outside_links=links_out_of(path, boundary, ignores),
    )


def walk_files(
    root: Path, *, include: tuple[str, ...], ignores: tuple[str, ...]
) -> tuple[tuple[str, Path], ...]:
    """Regular files under `root` as (relative posix path, location), filtered by glob patterns."""
    found: list[tuple[str, Path]] = []

    def on_error(exc: OSError) -> None:
        raise LocalPathError(exc.filename or root, exc.strerror or str(exc))

    for folder, dirs, names in os.walk(root, onerror=on_error, followlinks=False):
        dirs.sort()
        rel_folder = Path(folder).relative_to(root).as_posix()
        prefix = "" if rel_folder == "." else rel_folder + "/"
        dirs[:] = [d for d in dirs if not matches(prefix + d + "/", ignores)]
        for name in sorted(names):
            rel = prefix + name
            if matches(rel, ignores) or (include and not matches(rel, include)):
                continue
            location = Path(folder) / name
            try:
                st = location.stat()
            except FileNotFoundError:
                raise LocalPathError(location, "dangling symlink (an incomplete download?)") from None
            except OSError as exc:
                raise LocalPathError(location, exc.strerror or str(exc)) from None
            if not stat.S_ISREG(st.st_mode):
                raise LocalPathError(
                    location, "not a regular file (fifo, socket or device): refusing to read it"
                )
            _check_readable(location)
            found.append((rel, location))
            if len(found) > MAX_FILES:
                raise LocalPathError(root, f"more than {MAX_FILES} files: point airlock at the model folder")
    return tuple(found)


def links_out_of(root: Path, boundary: Path, ignores: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """Symbolic links under `root` (to files or folders) that resolve outside `boundary`, with where they lead.

    A loader that follows one (ONNX external data, a tokenizer's vocabulary, an asset folder) reads
    or overwrites a file the model's author chose on the user's machine."""
    found: list[tuple[str, str]] = []
    for folder, dirs, names in os.walk(root, followlinks=False):
        rel_folder = Path(folder).relative_to(root).as_posix()
        prefix = "" if rel_folder == "." else rel_folder + "/"
        dirs[:] = sorted(d for d in dirs if not matches(prefix + d + "/", ignores))
        for name in sorted([*dirs, *names]):
            location = Path(folder) / name
            if not location.is_symlink() or matches(prefix + name, ignores):
                continue
            target = Path(os.path.realpath(location))
            if not target.is_relative_to(boundary):
                found.append((prefix + name, str(target)))
    return tuple(found)


def matches(relpath: str, patterns: Sequence[str]) -> bool:
    """Glob match on the relative posix path; `dir/*` also matches everything below `dir/`."""
    for pattern in patterns:
        if fnmatch.fnmatchcase(relpath, pattern):
            return True
        if pattern.endswith("/*") and relpath.startswith(pattern[:-1]):
            return True
    return False


def _check_readable(path: Path) -> None:
    if not os.access(path, os.R_OK):
        raise LocalPathError(path, "permission denied")


def hub_cache_metadata(root: Path, files: Sequence[tuple[str, Path]]) -> HubMetadata | None:
    """Hub metadata for a `models--ORG--NAME/snapshots/<sha>` folder, from the cache layout alone."""
    parts = root.absolute().parts
    if len(parts) < 3 or parts[-2] != "snapshots" or not COMMIT_SHA.match(parts[-1]):
        return None
    repo = _CACHE_REPO.match(parts[-3])
    if repo is None:
        return None
    records: dict[str, HubFile] = {}
    for rel, location in files:
        if not location.is_symlink():
            continue
        blob = Path(os.readlink(location)).name
        if _SHA256.match(blob):
            records[rel] = HubFile(path=rel, size=None, blob_id=None, lfs_sha256=blob)
        elif COMMIT_SHA.match(blob):
            records[rel] = HubFile(path=rel, size=None, blob_id=blob)
    return HubMetadata(
        repo_id=f"{repo['org']}/{repo['name']}",
        endpoint="",
        requested_revision=parts[-1],
        sha=parts[-1],
        files=records,
        from_cache_only=True,
    )
