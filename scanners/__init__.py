"""Scanner plug-ins (airlock.scanners): one module per check family, registered here and only here."""

from __future__ import annotations

from airlock.errors import AirlockError
from airlock.scanning import Scanner

from .activation_clustering import ActivationClustering
from .archives import Archives
from .chat_templates import ChatTemplates
from .custom_code import CustomCode
from .gguf_header import GgufHeader
from .keras_config import KerasConfig
from .native_binaries import NativeBinaries
from .numpy_arrays import NumpyArrays
from .onnx_graph import OnnxGraph
from .pickle_opcodes import PickleOpcodes
from .provenance import Provenance
from .safetensors_header import SafetensorsHeader
from .savedmodel_graph import SavedModelGraph
from .second_opinion import ModelscanSecondOpinion
from .trigger_reversal import TriggerReversal

# One class per line, in report order.
REGISTRY: tuple[type[Scanner], ...] = (
    Provenance,
    PickleOpcodes,
    NumpyArrays,
    Archives,
    KerasConfig,
    OnnxGraph,
    SavedModelGraph,
    CustomCode,
    NativeBinaries,
    SafetensorsHeader,
    GgufHeader,
    ChatTemplates,
    ModelscanSecondOpinion,
    # behavioural (opt_in: only with `scan --behavior` or `--scanner NAME`; they run after the static ones)
    TriggerReversal,
    ActivationClustering,
)


def by_name(name: str) -> type[Scanner]:
    for cls in REGISTRY:
        if cls.name == name:
            return cls
    known = ", ".join(cls.name for cls in REGISTRY)
    raise AirlockError(f"unknown scanner {name!r} (known: {known})")
