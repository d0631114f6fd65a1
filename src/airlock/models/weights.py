"""Weights and configuration of a model to load, read without running anything that ships with them.

Weights come from `*.safetensors` (tensors only, by construction). A pickle checkpoint
(`pytorch_model.bin`) is read only when the caller says the static scan passed it, and then with
`torch.load(weights_only=True)`, which unpickles tensors and containers and refuses any other
global. A tokenizer configuration that names its own classes (`auto_map`) is refused like a model
configuration that does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from airlock.errors import ModelRefused, RemoteCodeRefused

MAX_CONFIG_BYTES = 1 << 20
PICKLE_WEIGHTS = "pytorch_model.bin"


def read_json(folder: Path, name: str, reference: str) -> dict[str, Any] | None:
    """A small JSON object shipped with the model, or None when the file is absent."""
    path = folder / name
    if not path.is_file():
        return None
    if path.stat().st_size > MAX_CONFIG_BYTES:
        raise ModelRefused(reference, f"{name} is larger than 1 MiB")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelRefused(reference, f"{name} is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ModelRefused(reference, f"{name} is not a JSON object")
    if "auto_map" in data:
        raise RemoteCodeRefused(reference, name)
    return data


def read_weights(folder: Path, reference: str, *, pickle_allowed: bool) -> dict[str, Any]:
    """The state dict: every `*.safetensors` file, else a pickle checkpoint the static scan passed."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    files = sorted(folder.glob("*.safetensors"))
    if files:
        state: dict[str, Any] = {}
        for file in files:
            try:
                state.update(load_file(str(file)))
            except (SafetensorError, OSError, ValueError) as exc:
                raise ModelRefused(reference, f"{file.name} cannot be read as safetensors ({exc})") from None
        return state
    pickled = folder / PICKLE_WEIGHTS
    if pickled.is_file():
        if not pickle_allowed:
            raise ModelRefused(
                reference, f"{PICKLE_WEIGHTS} did not pass the static scan; it is never unpickled"
            )
        import pickle

        import torch

        try:
            loaded = torch.load(str(pickled), map_location="cpu", weights_only=True)
        except (pickle.UnpicklingError, RuntimeError, OSError, EOFError) as exc:
            raise ModelRefused(reference, f"{PICKLE_WEIGHTS} holds more than weights ({exc})") from None
        if isinstance(loaded, dict) and all(isinstance(v, torch.Tensor) for v in loaded.values()):
            return dict(loaded)
        raise ModelRefused(reference, f"{PICKLE_WEIGHTS} is not a state dict of tensors")
    raise ModelRefused(reference, "no *.safetensors (or pytorch_model.bin) weights")


def load_stock(model_class: Any, config: Any, folder: Path, reference: str, *, pickle_allowed: bool) -> Any:
    """A stock transformers model built from `config` with the folder's weights, through
    `from_pretrained` (so checkpoint key conversions apply) on a staging folder that holds only the
    configuration and the safetensors weights: no other file the model ships is ever looked at.
    A pickle checkpoint the static scan passed is converted to safetensors there first."""
    import tempfile

    from safetensors.torch import save_file
    from transformers.utils import logging

    with tempfile.TemporaryDirectory(prefix="airlock-weights-") as staging:
        staged = Path(staging)
        (staged / "config.json").write_text(config.to_json_string(), encoding="utf-8")
        shipped = sorted(folder.glob("*.safetensors"))
        if (folder / "model.safetensors.index.json").is_file():
            shipped.append(folder / "model.safetensors.index.json")
        if any(f.suffix == ".safetensors" for f in shipped):
            _fits(model_class, config, _stored_elements(shipped, reference), reference)
            for file in shipped:
                (staged / file.name).symlink_to(file.resolve())
        else:
            state = read_weights(folder, reference, pickle_allowed=pickle_allowed)
            _fits(model_class, config, sum(v.numel() for v in state.values()), reference)
            save_file(
                {k: v.contiguous().clone() for k, v in state.items()}, str(staged / "model.safetensors")
            )
        verbosity, bars = logging.get_verbosity(), logging.is_progress_bar_enabled()
        logging.set_verbosity_error()
        logging.disable_progress_bar()
        try:
            module, info = model_class.from_pretrained(
                staged, config=config, use_safetensors=True, local_files_only=True, output_loading_info=True
            )
        except (OSError, ValueError, RuntimeError, KeyError, TypeError) as exc:
            raise ModelRefused(reference, f"weights do not load into {model_class.__name__}: {exc}") from None
        finally:
            logging.set_verbosity(verbosity)
            if bars:
                logging.enable_progress_bar()
    wrong = [
        *info.get("missing_keys", ()),
        *(str(m[0]) if isinstance(m, tuple) else str(m) for m in info.get("mismatched_keys", ())),
    ]
    if wrong:
        raise ModelRefused(
            reference,
            f"weights do not match {model_class.__name__} ({len(wrong)} missing or "
            f"mismatched: {', '.join(sorted(wrong)[:4])})",
        )
    return module


def _stored_elements(files: list[Path], reference: str) -> int:
    """How many numbers the safetensors files hold, from their headers (no tensor is read)."""
    from safetensors import SafetensorError, safe_open

    total = 0
    for file in files:
        if file.suffix != ".safetensors":
            continue
        try:
            with safe_open(str(file), framework="pt") as handle:
                for key in handle.keys():  # noqa: SIM118  safe_open handles are not iterable
                    shape = handle.get_slice(key).get_shape()
                    total += int(np.prod(shape, dtype=np.int64)) if shape else 1
        except (SafetensorError, OSError, ValueError) as exc:
            raise ModelRefused(reference, f"{file.name} cannot be read as safetensors ({exc})") from None
    return total


def _fits(model_class: Any, config: Any, stored: int, reference: str) -> None:
    """Refuse an architecture larger than the weights that ship with it, sized on the meta device
    before anything is allocated: a hostile config.json cannot make airlock allocate what its
    weights do not back."""
    import torch

    try:
        with torch.device("meta"):
            wanted = sum(p.numel() for p in model_class(config).parameters())
    except (TypeError, ValueError, KeyError, AttributeError, RuntimeError) as exc:
        raise ModelRefused(
            reference, f"config.json does not build {model_class.__name__} ({type(exc).__name__}: {exc})"
        ) from None
    if wanted > stored:
        raise ModelRefused(
            reference,
            f"weights do not match {model_class.__name__} from config.json (it has "
            f"{wanted:,} parameters, the weights hold {stored:,} numbers)",
        )


def load_into(module: Any, state: dict[str, Any], reference: str, architecture: str) -> None:
    """Load `state` into `module`, refusing weights that do not fit it (missing or unexpected keys)."""
    try:
        missing, unexpected = module.load_state_dict(state, strict=False)
    except RuntimeError as exc:  # shape mismatches
        raise ModelRefused(
            reference, f"weights do not fit {architecture}: {str(exc).splitlines()[0]}"
        ) from None
    # tied or buffer-only keys (position ids) may legitimately be absent from a checkpoint
    missing = [m for m in missing if not m.endswith(("position_ids", "token_type_ids"))]
    if missing or unexpected:
        shown = ", ".join([*missing, *unexpected][:4])
        raise ModelRefused(
            reference,
            f"weights do not match {architecture} ({len(missing)} missing, "
            f"{len(unexpected)} unexpected: {shown})",
        )
