"""What a dotted name in a pickle resolves to, from data built ahead of time (tools/build_resolution.py).

The loader imports `module` and walks `name` with getattr, so the object reached is decided by the
installed packages, not by the spelling: `torch.serialization` + `os.system` is `posix.system`. The
resolution data records, for the packages loaders have installed, which module attributes are other
modules and which names are re-exports of objects defined elsewhere. Nothing is imported here.
"""

from __future__ import annotations

import functools
import gzip
import json
from dataclasses import dataclass
from importlib import resources

DATA_FILE = "pickle-resolution.json.gz"


@dataclass(frozen=True, slots=True)
class Resolved:
    """Where `module` + `name` leads. `canonical` is the defining module and qualified name;
    `hops` lists the aliases walked through (empty when the spelling already was canonical)."""

    canonical: str
    hops: tuple[str, ...]
    known: bool  # the starting module is one the data knows (otherwise `canonical` is the spelling)


@dataclass(frozen=True)
class ResolutionData:
    modules: frozenset[str]
    module_aliases: dict[str, str]
    objects: dict[str, str]
    built_with: dict[str, str]

    def resolve(self, module: str, name: str) -> Resolved:
        spelled = f"{module}.{name}"
        if module not in self.modules:
            return Resolved(spelled, (), False)
        current = module
        hops: list[str] = []
        parts = name.split(".")
        for index, part in enumerate(parts):
            key = f"{current}.{part}"
            if key in self.module_aliases:
                current = self.module_aliases[key]
                hops.append(f"{key} is module {current}")
            elif key in self.objects:
                target = self.objects[key]
                hops.append(f"{key} is {target}")
                rest = parts[index + 1 :]
                return Resolved(".".join([target, *rest]), tuple(hops), True)
            else:
                current = key
        return Resolved(current, tuple(hops), True)


@functools.cache
def resolution_data() -> ResolutionData:
    raw = resources.files("airlock.signatures").joinpath(DATA_FILE).read_bytes()
    data = json.loads(gzip.decompress(raw))
    return ResolutionData(
        modules=frozenset(data["modules"]),
        module_aliases=data["module_aliases"],
        objects=data["objects"],
        built_with=data["built_with"],
    )


def resolve(module: str, name: str) -> Resolved:
    """Resolve `module` + `name` with the shipped data (loaded on first use, ~0.2 s)."""
    return resolution_data().resolve(module, name)
