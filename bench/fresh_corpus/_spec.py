"""What one sample is before it is built: name, class, description, reference, loader and writer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# writer(folder, marker): write the sample into `folder` (its own, empty) and return the path a
# loader opens; `marker` is the absolute canary path its payload creates if ever run.
Writer = Callable[[Path, str], Path]


@dataclass(frozen=True)
class Spec:
    name: str
    weakness_class: int
    description: str
    reference: str
    loader: str  # a key of verify.LOADERS, or "none" for samples with no payload to fire
    write: Writer


def shell(marker: str) -> str:
    return f"touch {marker}"


def python(marker: str) -> str:
    return f"open({marker!r}, 'w').close()"


def put(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path
