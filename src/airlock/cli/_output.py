"""Where a rendered report goes: stdout, or a file written atomically only once rendering succeeded."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from airlock.errors import AirlockError


def emit(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    target = output.expanduser()
    folder = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        try:
            os.unlink(tmp)  # type: ignore[possibly-undefined]
        except (OSError, UnboundLocalError):
            pass
        raise AirlockError(f"{target}: cannot write report ({exc.strerror or exc})") from None
