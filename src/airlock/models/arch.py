"""`--arch module:factory`: the extension point for architectures transformers does not ship.

The user names a factory in their own code, `FACTORY(config: dict) -> torch.nn.Module`; airlock
imports it from the user's environment, builds the module from the model's `config.json`, and
loads the safetensors weights into it (`airlock.models.image`). The factory is the user's trusted
code, never the model's: a module that would be imported from inside the scanned folder is refused
before it is imported.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from typing import Any

import torch

from airlock.errors import ArchRefused


def build_custom(spec: str, config: dict[str, Any], folder: Path) -> torch.nn.Module:
    """The `nn.Module` that the factory named by `spec` ("package.module:function") builds from `config`."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ArchRefused(spec, "must look like package.module:factory")
    try:
        found = importlib.util.find_spec(module_name)
    except (ImportError, ValueError) as exc:
        raise ArchRefused(spec, f"cannot find {module_name} ({exc})") from None
    if found is None:
        raise ArchRefused(spec, f"no module named {module_name!r} on the Python path")
    origin = Path(found.origin).resolve() if found.origin and found.has_location else None
    if origin is not None and origin.is_relative_to(folder.resolve()):
        raise ArchRefused(spec, f"{origin.name} ships with the scanned model; airlock never runs model code")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001  the user's code may fail in any way; say how
        raise ArchRefused(spec, f"importing {module_name} failed: {type(exc).__name__}: {exc}") from None
    factory = getattr(module, attribute, None)
    if not callable(factory):
        raise ArchRefused(spec, f"{module_name} has no callable {attribute!r}")
    try:
        built = factory(dict(config))
    except Exception as exc:  # noqa: BLE001
        raise ArchRefused(spec, f"{attribute}(config) failed: {type(exc).__name__}: {exc}") from None
    if not isinstance(built, torch.nn.Module):
        raise ArchRefused(
            spec, f"{attribute}(config) returned a {type(built).__name__}, not a torch.nn.Module"
        )
    return built
