"""An image classifier as a differentiable function of pixels, for the behavioural scan.

The module is a stock `transformers` image-classification architecture built from `config.json`
(or, with `--arch module:factory`, an `nn.Module` the user's own code builds), with its weights
loaded from safetensors (`airlock.models.weights`) and every parameter frozen. Inputs are float images N×C×H×W in [0, 1];
the normalisation of `preprocessor_config.json` (`image_mean`, `image_std`) is applied inside, so
triggers are optimised in pixel space. Nothing the model ships is executed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from airlock.errors import ModelRefused
from airlock.models.heads import freeze, head_input
from airlock.models.weights import read_json


@dataclass
class ImageClassifier:
    module: torch.nn.Module  # eval mode, parameters frozen
    architecture: str
    channels: int
    size: tuple[int, int] | None  # (height, width) the preprocessor resizes to, if it says
    mean: torch.Tensor  # 1×C×1×1
    std: torch.Tensor
    labels: dict[int, str]  # id2label
    device: torch.device

    @property
    def classes(self) -> int:
        return len(self.labels)

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        """Logits of images N×C×H×W in [0, 1]."""
        out = (
            self.module(pixel_values=(images - self.mean) / self.std)
            if self.architecture != "custom"
            else self.module((images - self.mean) / self.std)
        )
        return out.logits if hasattr(out, "logits") else out

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """The input of the last linear layer (the penultimate representation), N×D."""
        return head_input(self.module, lambda: self(images), len(images))

    def features_and_stage(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """From one forward pass: the head input (`features`) and the backbone's last feature map
        averaged over its positions, N×C, as it is before the head normalises and pools it. The two
        are the same where the head only pools (ResNet, RegNet); they differ where a norm sits between
        (ConvNeXt's LayerNorm rescales each row, and poisoned rows that stand apart in the last stage
        can sit among the clean ones after it). The map is the output of the base model's `encoder`,
        caught by a hook (asking for every hidden state would hold all of them for a whole batch); a
        model without an encoder or whose last state is not a 4-D map (a ViT's tokens, a custom
        `--arch` module) gives its head input for both."""
        base = getattr(self.module, "base_model", None) if self.architecture != "custom" else None
        encoder = getattr(base, "encoder", None)
        if not isinstance(encoder, torch.nn.Module):
            head = self.features(images)
            return head, head
        caught: list[object] = []
        hook = encoder.register_forward_hook(lambda _m, _inputs, out: caught.append(out))
        try:
            head = self.features(images)
        finally:
            hook.remove()
        out = caught[-1] if caught else None
        last = getattr(out, "last_hidden_state", None)
        if last is None and isinstance(out, tuple) and out:
            last = out[0]
        if isinstance(last, torch.Tensor) and last.dim() == 4 and last.shape[0] == len(images):
            return head, last.mean(dim=(2, 3))
        return head, head


def build_image_classifier(
    folder: Path,
    reference: str,
    config: dict[str, Any],
    module: torch.nn.Module,
    architecture: str,
    *,
    device: torch.device,
) -> ImageClassifier:
    """Freeze `module` (its weights already loaded) and read the preprocessing the model declares."""
    freeze(module, device)
    if not any(isinstance(m, torch.nn.Linear) for m in module.modules()):
        raise ModelRefused(reference, f"{architecture} has no linear classification head")
    channels = int(config.get("num_channels", 3))
    pre = read_json(folder, "preprocessor_config.json", reference) or {}
    mean = _vector(pre.get("image_mean"), channels, 0.0, reference)
    std = _vector(pre.get("image_std"), channels, 1.0, reference)
    std = np.where(std == 0, 1.0, std)
    id2label = config.get("id2label") or {str(i): str(i) for i in range(int(config.get("num_labels", 2)))}
    labels = {int(k): str(v) for k, v in id2label.items()}
    return ImageClassifier(
        module=module,
        architecture=architecture,
        channels=channels,
        size=_size(pre, config),
        mean=torch.tensor(mean, dtype=torch.float32, device=device).reshape(1, -1, 1, 1),
        std=torch.tensor(std, dtype=torch.float32, device=device).reshape(1, -1, 1, 1),
        labels=dict(sorted(labels.items())),
        device=device,
    )


def _vector(value: Any, channels: int, default: float, reference: str) -> np.ndarray:
    """A per-channel normalisation; one that is there but not numbers is refused (features under a
    wrong normalisation would be meaningless)."""
    try:
        array = np.asarray(value if value is not None else [default], dtype=np.float32).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise ModelRefused(reference, f"preprocessor_config.json is malformed ({exc})") from None
    return np.resize(array, channels) if array.size else np.full(channels, default, np.float32)


def _size(pre: dict[str, Any], config: dict[str, Any]) -> tuple[int, int] | None:
    size = pre.get("crop_size") or pre.get("size")
    if isinstance(size, dict) and "height" in size and "width" in size:
        return int(size["height"]), int(size["width"])
    if isinstance(size, dict) and "shortest_edge" in size:
        return int(size["shortest_edge"]), int(size["shortest_edge"])
    if isinstance(size, int):
        return size, size
    if isinstance(config.get("image_size"), int):
        return int(config["image_size"]), int(config["image_size"])
    return None
