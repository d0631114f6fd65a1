"""What a snapshot says about the model it holds: the facts a bill of materials carries as a model card.

Read from the Hub's record (when the snapshot came from the Hub), the README's YAML front matter,
`config.json`, and the safetensors headers (tensor shapes, for the parameter count). Every read is
bounded and nothing is executed: YAML goes through the safe loader, JSON through `json`, and of a
safetensors file only the header is read. A file that is missing, too large or malformed is simply
not a source of facts; vetting it is the scanners' job.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from airlock.sources.interface import Snapshot

MAX_CARD_BYTES = 256 << 10  # README front matter is read from the first 256 KiB
MAX_CONFIG_BYTES = 1 << 20
MAX_HEADER_BYTES = 16 << 20  # safetensors headers larger than this are not counted
MAX_TENSORS = 200_000


@dataclass(frozen=True)
class ModelFacts:
    """The model-card facts of one snapshot; a field is empty when no source says it."""

    name: str | None = None
    architectures: tuple[str, ...] = ()
    model_type: str | None = None
    task: str | None = None
    library: str | None = None
    datasets: tuple[str, ...] = ()
    base_models: tuple[str, ...] = ()
    licenses: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    parameters: int | None = None  # summed over the safetensors headers
    author: str | None = None
    repo_id: str | None = None
    revision: str | None = None
    hub_endpoint: str | None = None
    tensor_dtypes: tuple[str, ...] = ()
    extra: Mapping[str, str] = field(default_factory=dict)


def gather(snapshot: Snapshot) -> ModelFacts:
    """The facts of a snapshot, from the Hub record, the card front matter, config.json and safetensors headers."""
    files = dict(snapshot.files)
    card: dict[str, Any] = {}
    if "README.md" in files:
        card = front_matter(files["README.md"])
    info: Mapping[str, Any] = snapshot.hub.info if snapshot.hub is not None else {}
    hub_card = info.get("card_data") or {}
    if isinstance(hub_card, Mapping):
        card = {**hub_card, **card}  # the file in the snapshot is what was vetted; it wins
    config = _json_object(files["config.json"]) if "config.json" in files else {}
    parameters, dtypes = _count_parameters(
        loc for name, loc in snapshot.files if name.endswith(".safetensors")
    )
    repo_id = snapshot.hub.repo_id if snapshot.hub is not None else None
    return ModelFacts(
        name=repo_id or _name(card, snapshot),
        architectures=_strings(config.get("architectures")),
        model_type=_string(config.get("model_type")),
        task=_string(card.get("pipeline_tag")) or _string(info.get("pipeline_tag")),
        library=_string(card.get("library_name")) or _string(info.get("library_name")),
        datasets=_strings(card.get("datasets")),
        base_models=_strings(card.get("base_model")),
        licenses=_strings(card.get("license")) or _strings(card.get("license_name")),
        languages=_strings(card.get("language")),
        parameters=parameters,
        author=_string(info.get("author")) or (repo_id.split("/")[0] if repo_id else None),
        repo_id=repo_id,
        revision=snapshot.revision,
        hub_endpoint=snapshot.hub.endpoint if snapshot.hub is not None else None,
        tensor_dtypes=dtypes,
    )


def front_matter(path: Path) -> dict[str, Any]:
    """The YAML front matter of a model card (`---` … `---` at the top), or {} when it has none."""
    import yaml

    text = _read(path, MAX_CARD_BYTES).decode("utf-8", errors="replace")
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return {}
    try:
        end = next(i for i, line in enumerate(lines[1:], 1) if line.strip() == "---")
    except StopIteration:
        return {}
    try:
        data = yaml.safe_load("\n".join(lines[1:end]))
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


def safetensors_parameters(path: Path) -> tuple[int, frozenset[str]] | None:
    """Elements and dtypes of the tensors a safetensors header declares; None when it cannot be read."""
    with open(path, "rb") as fh:
        head = fh.read(8)
        if len(head) < 8:
            return None
        length = struct.unpack("<Q", head)[0]
        if length > MAX_HEADER_BYTES:
            return None
        raw = fh.read(length)
    try:
        header = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if not isinstance(header, dict) or len(header) > MAX_TENSORS:
        return None
    total, dtypes = 0, set()
    for name, tensor in header.items():
        if name == "__metadata__" or not isinstance(tensor, dict):
            continue
        shape = tensor.get("shape")
        if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
            return None
        total += math.prod(shape)
        if isinstance(tensor.get("dtype"), str):
            dtypes.add(tensor["dtype"])
    return total, frozenset(dtypes)


def _count_parameters(paths: Iterable[Path]) -> tuple[int | None, tuple[str, ...]]:
    total: int | None = None
    dtypes: set[str] = set()
    for path in paths:
        try:
            counted = safetensors_parameters(path)
        except OSError:
            counted = None
        if counted is None:
            continue
        total = (total or 0) + counted[0]
        dtypes |= counted[1]
    return total, tuple(sorted(dtypes))


def _read(path: Path, limit: int) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read(limit)
    except OSError:
        return b""


def _json_object(path: Path) -> dict[str, Any]:
    raw = _read(path, MAX_CONFIG_BYTES + 1)
    if len(raw) > MAX_CONFIG_BYTES:
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def _name(card: Mapping[str, Any], snapshot: Snapshot) -> str:
    readme = dict(snapshot.files).get("README.md")
    title = card_title(readme) if readme is not None else None
    return _string(card.get("model_name")) or title or snapshot.root.name or snapshot.reference.raw


def card_title(path: Path) -> str | None:
    """The model card's first level-one heading (`# all-MiniLM-L6-v2`), after any front matter."""
    text = _read(path, MAX_CARD_BYTES).decode("utf-8", errors="replace")
    in_front_matter = text.startswith("---")
    for i, line in enumerate(text.splitlines()):
        if in_front_matter:
            in_front_matter = i == 0 or line.strip() != "---"
            continue
        if line.startswith("# ") and line[2:].strip():
            return line[2:].strip()[:200]
    return None


def _string(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return ()
    return tuple(dict.fromkeys(v.strip() for v in value if isinstance(v, str) and v.strip()))
