"""Safe writes: an exclusive lock on the file's folder, and replace-by-rename of a fully written copy.

A writer holds an fcntl.flock on the folder that holds FILE (released by the kernel even when the
process is killed), reads the current file, writes the new version to a temp file in the same folder,
fsyncs it, and renames it over the old one (then fsyncs the folder). Readers never see a half-written
file, and a writer killed at any point leaves the previous version intact. Locking the folder, whose
inode the rename never replaces, leaves no `.lock` file behind; writers of other files in the same
folder wait for each other, which costs nothing at the rate allowlists change. The new file is
readable by others (0644 under the usual umask): allowlists and signatures are shared by design.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from airlock.allowlist.errors import AllowlistError

LOCK_TIMEOUT_S = 120.0


@contextmanager
def locked(path: Path, timeout: float = LOCK_TIMEOUT_S) -> Iterator[None]:
    """Hold the exclusive lock for `path`; waits up to `timeout` seconds for another writer."""
    target = path.parent if str(path.parent) else Path(".")
    try:
        fd = os.open(target, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise AllowlistError(f"{target}: cannot open the folder to lock it ({exc.strerror or exc})") from None
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise AllowlistError(f"{target}: cannot lock ({exc.strerror or exc})") from None
                if time.monotonic() >= deadline:
                    raise AllowlistError(
                        f"{path}: still locked by another airlock process after {timeout:.0f} s"
                    ) from None
                time.sleep(0.05)
        _remove_stale_temps(path)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def write_atomic(path: Path, data: bytes) -> None:
    """Replace `path` with `data`: the old content or the new, never a mix. Call it under `locked`."""
    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(path), suffix=".tmp", dir=folder)
    except OSError as exc:
        raise AllowlistError(f"{path}: cannot write ({exc.strerror or exc})") from None
    try:
        try:
            os.fchmod(fd, shareable_mode())
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        _fsync_folder(folder)
    except OSError as exc:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        raise AllowlistError(f"{path}: cannot write ({exc.strerror or exc})") from None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _temp_prefix(path: Path) -> str:
    return f".{path.name}."


def _remove_stale_temps(path: Path) -> None:
    """Temp files left by a writer that died mid-write. Only a lock holder may call this."""
    folder = path.parent if str(path.parent) else Path(".")
    prefix = _temp_prefix(path)
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        if name.startswith(prefix) and name.endswith(".tmp"):
            with contextlib.suppress(OSError):
                os.unlink(folder / name)


def shareable_mode() -> int:
    """0666 less the process umask (0644 under the usual 022): what `open()` would have created.

    `tempfile.mkstemp` creates 0600, which a rename keeps; reports, allowlists and signatures are
    meant to be read by the next CI job or another user. Private keys are written elsewhere, 0600.
    """
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask
