"""Where command output goes: stdout, or a file written atomically only once the text is complete."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from airlock.allowlist.atomic import shareable_mode
from airlock.errors import AirlockError


def emit(text: str, output: Path | None, what: str = "report") -> None:
    """`text` to stdout, or atomically to `output` (a reader never sees half a file)."""
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    write_atomically(text, output, what)


def write_atomically(text: str, target: Path, what: str) -> None:
    """Write through a temporary file in the same folder, fsync it, then rename it into place."""
    target = target.expanduser()
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(
            prefix=f".{target.name}.", dir=target.parent if str(target.parent) else "."
        )
        os.fchmod(fd, shareable_mode())
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        raise AirlockError(f"{target}: cannot write {what} ({exc.strerror or exc})") from None
