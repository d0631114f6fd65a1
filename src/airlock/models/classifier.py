"""The one model loader: which classifier a model folder holds, built without running code that ships with it.

`config.json` names a `model_type`; when `transformers` maps it to a stock image-classification or
sequence-classification class (and `architectures`, if present, agrees), that class is built from
the configuration and the weights are loaded into it: from safetensors, or from a pickle checkpoint
only when the caller says the static scan passed it (`weights_only=True`). Anything else is refused
with a reason, unless the user passes their own `--arch module:factory` (see `airlock.models.arch`).
Both `airlock scan --behavior` and `airlock data --model` load through `load_classifier`.
"""

from __future__ import annotations

from pathlib import Path

import torch

from airlock.errors import MissingDependency, ModelRefused
from airlock.models.image import ImageClassifier, build_image_classifier
from airlock.models.text import TextClassifier, build_text_classifier
from airlock.models.weights import load_into, load_stock, read_json, read_weights

Classifier = ImageClassifier | TextClassifier


def load_classifier(
    folder: Path,
    reference: str,
    *,
    arch: str | None = None,
    pickle_allowed: bool = False,
    device: torch.device | None = None,
    needed_for: str = "the behavioural scan (--behavior)",
) -> Classifier:
    """The image or text classifier in `folder`, frozen, on `device` (default: the CPU).

    `needed_for` names the feature that needs the model in the error raised when transformers is missing.
    """
    device = device or torch.device("cpu")
    config = read_json(
        folder, "config.json", reference
    )  # RemoteCodeRefused on auto_map, before anything else
    read_json(folder, "tokenizer_config.json", reference)
    if config is None:
        raise ModelRefused(
            reference, "no config.json: only stock transformers architectures (or --arch) can be loaded"
        )
    if arch is not None:
        from airlock.models.arch import build_custom

        module = build_custom(arch, config, folder)
        load_into(module, read_weights(folder, reference, pickle_allowed=pickle_allowed), reference, "custom")
        return build_image_classifier(folder, reference, config, module, "custom", device=device)
    try:
        import transformers
        from transformers.models.auto.modeling_auto import (
            MODEL_FOR_IMAGE_CLASSIFICATION_MAPPING_NAMES,
            MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES,
        )
    except ImportError:
        raise MissingDependency("transformers", "behavior", needed_for) from None
    model_type = str(config.get("model_type"))
    declared = (config.get("architectures") or [None])[0]
    image = MODEL_FOR_IMAGE_CLASSIFICATION_MAPPING_NAMES.get(model_type)
    text = MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES.get(model_type)
    chosen = next((name for name in (image, text) if name is not None and declared in (None, name)), None)
    if chosen is None:
        raise ModelRefused(
            reference,
            f"{model_type!r}/{declared!r} is not a stock transformers image or text "
            "classifier (pass --arch module:factory to build it with your own code)",
        )
    try:
        built = transformers.AutoConfig.for_model(**config)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise ModelRefused(reference, f"config.json does not describe a {chosen}: {exc}") from None
    module = load_stock(
        getattr(transformers, chosen), built, folder, reference, pickle_allowed=pickle_allowed
    )
    build = build_image_classifier if chosen == image else build_text_classifier
    return build(folder, reference, config, module, chosen, device=device)
