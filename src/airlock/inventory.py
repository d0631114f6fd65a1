"""What a snapshot holds, counted: files analysed, inventoried as data, left unidentified; models among them.

Every report carries these counts (`Report.inventory`), so a scan that recognised nothing as a model
says so in its summary line. The file_claims scanner turns the same facts into findings.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from airlock.formats import CONTAINERS, MODEL_FORMATS, Format, claimed_formats

# Files whose content airlock takes apart (weights, graphs, containers, code, compiled code).
ANALYSED = MODEL_FORMATS | CONTAINERS | {Format.NATIVE, Format.PYTHON}
DATA = frozenset({Format.JSON, Format.TEXT, Format.EMPTY})  # hashed and listed; templates looked for


def is_model(path: str, fmt: Format) -> bool:
    """A model artifact: a model format by its bytes, or a raw blob its name truthfully claims (`.bin`, `.tflite`)."""
    if fmt in MODEL_FORMATS:
        return True
    claimed = claimed_formats(path)
    return claimed is not None and fmt in claimed and fmt is not Format.EMPTY


@dataclass(frozen=True)
class Inventory:
    files: int
    models: int
    analysed: int
    data: int
    unidentified: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "models": self.models,
            "analysed": self.analysed,
            "data": self.data,
            "unidentified": self.unidentified,
        }


def count(files: Iterable[tuple[str, Format]]) -> Inventory:
    """The inventory of (path, detected format) pairs; analysed + data + unidentified = files."""
    files = list(files)
    formats = [fmt for _, fmt in files]
    return Inventory(
        files=len(files),
        models=sum(is_model(path, fmt) for path, fmt in files),
        analysed=sum(fmt in ANALYSED for fmt in formats),
        data=sum(fmt in DATA for fmt in formats),
        unidentified=sum(fmt not in ANALYSED and fmt not in DATA for fmt in formats),
    )
