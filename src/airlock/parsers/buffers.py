"""What the readers read: a byte buffer, usually a read-only memory map of the file."""

from __future__ import annotations

import mmap
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

Buffer = bytes | bytearray | memoryview | mmap.mmap  # indexable (-> int), sliceable


@contextmanager
def mapped(path: Path) -> Iterator[Buffer]:
    """The file's bytes, memory-mapped read-only (pages are read only where a parser looks; an empty file gives b"")."""
    with open(path, "rb") as fh:
        if os.fstat(fh.fileno()).st_size == 0:
            yield b""
            return
        view = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    try:
        yield view
    finally:
        view.close()
