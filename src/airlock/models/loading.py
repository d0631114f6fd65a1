"""A stock image classifier built from `config.json` + safetensors, used as a feature extractor.

Features are the input of the model's last linear layer (the classification head): the pooled or
[CLS] representation that the head reads, for every stock architecture.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from airlock.data.errors import MissingDependency
from airlock.errors import AirlockError

MAX_CONFIG_BYTES = 1 << 20
BATCH = 256


class ModelRefused(AirlockError):
    """A model that airlock will not load (remote code, unknown architecture, failed static scan)."""

    def __init__(self, reference: str, why: str) -> None:
        super().__init__(f"model {reference}: {why}")
        self.reference = reference


def read_config(folder: Path, reference: str) -> dict[str, Any]:
    path = folder / "config.json"
    if not path.is_file():
        raise ModelRefused(reference, "no config.json: only stock transformers architectures can give features")
    if path.stat().st_size > MAX_CONFIG_BYTES:
        raise ModelRefused(reference, "config.json is larger than 1 MiB")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelRefused(reference, f"config.json is not valid JSON ({exc})") from None
    if not isinstance(config, dict):
        raise ModelRefused(reference, "config.json is not a JSON object")
    if "auto_map" in config:
        raise ModelRefused(reference, "config.json asks for remote code (auto_map); airlock never runs model code")
    return config


@dataclass
class FeatureModel:
    """A loaded image classifier and the way its inputs are prepared."""

    module: Any  # torch.nn.Module, in eval mode
    head: Any  # its last torch.nn.Linear, whose input is the feature
    channels: int
    mean: np.ndarray
    std: np.ndarray
    architecture: str

    def features(self, images: np.ndarray) -> np.ndarray:
        """Penultimate activations (float32 N×D) of float32 N×H×W×C images in [0, 1]."""
        import torch

        if images.shape[3] != self.channels:
            images = np.repeat(images, self.channels, axis=3) if images.shape[3] == 1 else images.mean(axis=3, keepdims=True)
        x = (images - self.mean) / self.std
        captured: list[Any] = []
        hook = self.head.register_forward_hook(lambda _m, inputs, _o: captured.append(inputs[0].detach()))
        out: list[np.ndarray] = []
        try:
            with torch.inference_mode():
                for start in range(0, len(x), BATCH):
                    captured.clear()
                    batch = torch.from_numpy(np.ascontiguousarray(x[start : start + BATCH].transpose(0, 3, 1, 2)))
                    self.module(pixel_values=batch.float())
                    out.append(captured[-1].reshape(len(batch), -1).float().numpy())
        finally:
            hook.remove()
        return np.concatenate(out).astype(np.float32)


def load_image_classifier(folder: Path, reference: str) -> FeatureModel:
    """Build the stock architecture that `config.json` names and load its weights (never its code)."""
    config_data = read_config(folder, reference)
    try:
        import torch
        import transformers
        from transformers.models.auto.modeling_auto import MODEL_FOR_IMAGE_CLASSIFICATION_MAPPING_NAMES
    except ImportError:
        raise MissingDependency("transformers", "behavior", "--model") from None
    model_type = config_data.get("model_type")
    expected = MODEL_FOR_IMAGE_CLASSIFICATION_MAPPING_NAMES.get(str(model_type))
    architectures = config_data.get("architectures") or [expected]
    if expected is None or architectures[0] != expected:
        raise ModelRefused(reference, f"{model_type!r}/{architectures[0]!r} is not a stock transformers image "
                                      "classifier (text models are not supported for features yet)")
    try:
        config = transformers.AutoConfig.for_model(**config_data)
        architecture = getattr(transformers, expected)
        with torch.device("meta"):  # shapes only: a hostile config cannot make us allocate its sizes
            wanted = {k: tuple(v.shape) for k, v in architecture(config).state_dict().items()}
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise ModelRefused(reference, f"config.json does not build {expected} ({type(exc).__name__}: {exc})") from None
    state = _weights(folder, reference)
    differing = sorted(k for k in wanted.keys() | state.keys() if wanted.get(k) != _shape(state.get(k)))
    if differing:
        raise ModelRefused(reference, f"weights do not match {expected} from config.json ({len(differing)} "
                                      f"tensors missing, extra or of another shape: {', '.join(differing[:3])})")
    module = architecture(config)
    module.load_state_dict(state, strict=True)
    module.eval()
    linear = [m for m in module.modules() if isinstance(m, torch.nn.Linear)]
    if not linear:
        raise ModelRefused(reference, f"{expected} has no linear head to read features from")
    channels = int(getattr(config, "num_channels", 3))
    mean, std = _normalisation(folder, channels, reference)
    return FeatureModel(module, linear[-1], channels, mean, std, expected)


def _shape(tensor: Any) -> tuple[int, ...] | None:
    return tuple(tensor.shape) if tensor is not None else None


def _weights(folder: Path, reference: str) -> dict[str, Any]:
    from safetensors.torch import load_file

    files = sorted(folder.glob("*.safetensors"))
    if files:
        state: dict[str, Any] = {}
        for file in files:
            state.update(load_file(str(file)))
        return state
    pickled = folder / "pytorch_model.bin"
    if pickled.is_file():  # the static scan passed it before we get here
        import torch

        loaded = torch.load(str(pickled), map_location="cpu", weights_only=True)
        if isinstance(loaded, dict):
            return loaded
    raise ModelRefused(reference, "no model.safetensors (or pytorch_model.bin) weights")


def _normalisation(folder: Path, channels: int, reference: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and std from preprocessor_config.json (0 and 1 when there is none)."""
    mean, std = np.zeros(channels, np.float32), np.ones(channels, np.float32)
    path = folder / "preprocessor_config.json"
    if not path.is_file():
        return mean, std
    try:
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise ValueError("larger than 1 MiB")
        pre = json.loads(path.read_text(encoding="utf-8"))
        mean = np.resize(np.asarray(pre.get("image_mean", mean), np.float32), channels)
        std = np.resize(np.asarray(pre.get("image_std", std), np.float32), channels)
    except (ValueError, TypeError, AttributeError, UnicodeDecodeError) as exc:
        raise ModelRefused(reference, f"preprocessor_config.json is malformed ({exc})") from None
    return mean, np.where(std == 0, 1.0, std).astype(np.float32)
