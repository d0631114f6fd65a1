"""Scanner plug-ins (airlock.scanners): one module per check family, registered here and only here.

The registry names each scanner's module and the formats it reads, so a scan imports only the
scanners that have something to read (a safetensors-only model never imports the pickle walker or
the container code). tests/scanners/test_registry.py keeps `reads` honest against each class.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from airlock.errors import AirlockError
from airlock.formats import CONTAINERS, UNPICKLABLE, ZIP_FAMILY, Format

if TYPE_CHECKING:
    from airlock.scanning import Scanner


@dataclass(frozen=True)
class Registered:
    name: str
    module: str  # in this package: the same as `name` (tests/scanners/test_registry.py)
    cls: str
    reads: (
        frozenset[Format] | None
    )  # every format its `applies` may accept; None: it looks at the whole snapshot
    prepares: bool = False  # its `warm_up` must run before the files are hashed
    opt_in: bool = (
        False  # behavioural: only with `scan --behavior` or `--scanner NAME`, after the static ones
    )

    def load(self) -> type[Scanner]:
        return getattr(importlib.import_module(f"{__name__}.{self.module}"), self.cls)  # type: ignore[no-any-return]


_F = Format
# One scanner per line, in report order.
ENTRIES: tuple[Registered, ...] = (
    Registered("provenance", "provenance", "Provenance", None),
    Registered("file_claims", "file_claims", "FileClaims", None),
    Registered("licenses", "licenses", "Licenses", None),
    Registered("pickle_opcodes", "pickle_opcodes", "PickleOpcodes", UNPICKLABLE),
    Registered("numpy_arrays", "numpy_arrays", "NumpyArrays", frozenset({_F.NUMPY, _F.NUMPY_NPZ})),
    Registered("archives", "archives", "Archives", CONTAINERS),
    Registered("keras_config", "keras_config", "KerasConfig", frozenset({_F.KERAS_ZIP, _F.HDF5})),
    Registered("onnx_graph", "onnx_graph", "OnnxGraph", frozenset({_F.ONNX})),
    Registered("savedmodel_graph", "savedmodel_graph", "SavedModelGraph", frozenset({_F.TF_SAVEDMODEL})),
    Registered("custom_code", "custom_code", "CustomCode", None),
    Registered(
        "native_binaries", "native_binaries", "NativeBinaries", ZIP_FAMILY | {_F.NATIVE, _F.HDF5, _F.TAR}
    ),
    Registered(
        "safetensors_header",
        "safetensors_header",
        "SafetensorsHeader",
        frozenset({_F.SAFETENSORS, _F.UNKNOWN}),
    ),
    Registered("gguf_header", "gguf_header", "GgufHeader", frozenset({_F.GGUF})),
    # `*.jinja` is a template by its name whatever its bytes sniff as (JSON, NUL bytes, a magic number)
    Registered("chat_templates", "chat_templates", "ChatTemplates", frozenset(_F) - {_F.EMPTY}),
    # reads any format: it also hands files over under their own name and as pickles (a file's views)
    Registered("modelscan", "modelscan", "ModelscanSecondOpinion", frozenset(Format), prepares=True),
    Registered("trigger_reversal", "trigger_reversal", "TriggerReversal", None, opt_in=True),
    Registered("activation_clustering", "activation_clustering", "ActivationClustering", None, opt_in=True),
)


def entry(name: str) -> Registered:
    for registered in ENTRIES:
        if registered.name == name:
            return registered
    known = ", ".join(registered.name for registered in ENTRIES)
    raise AirlockError(f"unknown scanner {name!r} (known: {known})")


def __getattr__(attribute: str) -> object:
    """`REGISTRY`: every scanner class, in report order (imports them all; the pipeline does not use it)."""
    if attribute == "REGISTRY":
        return tuple(registered.load() for registered in ENTRIES)
    raise AttributeError(f"module {__name__!r} has no attribute {attribute!r}")
