"""Scanner plug-ins (airlock.scanners): one module per check family, registered here and only here."""

from __future__ import annotations

from airlock.errors import AirlockError
from airlock.scanning import Scanner

from .archives import Archives
from .chat_templates import ChatTemplates
from .gguf_header import GgufHeader
from .numpy_arrays import NumpyArrays
from .pickle_opcodes import PickleOpcodes
from .provenance import Provenance
from .safetensors_header import SafetensorsHeader
from .second_opinion import ModelscanSecondOpinion

# One class per line, in report order.
REGISTRY: tuple[type[Scanner], ...] = (
    Provenance,
    PickleOpcodes,
    NumpyArrays,
    Archives,
    SafetensorsHeader,
    GgufHeader,
    ChatTemplates,
    ModelscanSecondOpinion,
)


def by_name(name: str) -> type[Scanner]:
    for cls in REGISTRY:
        if cls.name == name:
            return cls
    known = ", ".join(cls.name for cls in REGISTRY)
    raise AirlockError(f"unknown scanner {name!r} (known: {known})")
