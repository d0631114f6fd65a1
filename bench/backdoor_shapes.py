"""Held-out model shapes for the behavioural benchmark: architectures and a dataset nothing was calibrated on.

The calibration models (`fixtures.backdoored_models`) are all one tiny ResNet (16-32-64 wide, one
block per stage) on digits or shapes. The models here differ in shape and data: a deeper ResNet
(two blocks per stage, 24-48-96 wide), a wider bottleneck ResNet, a ConvNeXt and a ViT, each as
stock `transformers` configurations, trained on digits, shapes or `textures` (oriented colour
gratings over noise, a dataset of texture and colour variety that only this module draws), clean or
with a backdoor whose parameters (patch sizes, places, colours, blend strengths) are not those of
the calibration set. They are written like every fixture model (safetensors, config.json,
preprocessor_config.json, clean.npz beside) and cached under the fixtures directory.

`python -m bench.backdoor_shapes` trains them all; `heldout_model(spec)` returns one, trained on
first use.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fixtures._cache import fixtures_dir
from fixtures.backdoored_models import (
    CLEAN_SAMPLE,
    SIZE,
    Attack,
    BuiltModel,
    ModelSpec,
    apply_trigger,
    clean_images,
    write_record,
)

ROWS, TEST_ROWS, EPOCHS, POISON_RATE = 4000, 800, 6, 0.08
TEXTURE_CLASSES = 10


@dataclass(frozen=True)
class HeldoutSpec:
    model: ModelSpec
    arch: str  # resnet-deep | resnet-bottleneck | convnext | vit


def textures(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`n` 32×32 colour texture images (uint8 N×32×32×3), 10 classes: the grating's orientation
    (5 angles) × its frequency (2), over a random colour pair, phase and noise."""
    rng = np.random.default_rng(seed)
    y = np.resize(np.arange(TEXTURE_CLASSES), n)
    rng.shuffle(y)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    angle = (y % 5) * np.pi / 5 + rng.normal(0, 0.08, n)
    frequency = np.where(y < 5, 0.45, 0.9) * rng.uniform(0.9, 1.1, n)
    phase = rng.uniform(0, 2 * np.pi, n)
    along = np.cos(angle)[:, None, None] * xx + np.sin(angle)[:, None, None] * yy
    wave = 0.5 + 0.5 * np.sin(along * frequency[:, None, None] + phase[:, None, None])
    first = rng.uniform(0.0, 1.0, (n, 1, 1, 3)).astype(np.float32)
    second = rng.uniform(0.0, 1.0, (n, 1, 1, 3)).astype(np.float32)
    x = first + (second - first) * wave[..., None] + rng.normal(0, 0.06, (n, SIZE, SIZE, 3))
    return (x.clip(0, 1) * 255).round().astype(np.uint8), y.astype(np.int64)


def images(dataset: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    return textures(n, seed) if dataset == "textures" else clean_images(dataset, n, seed)


def _config(arch: str, classes: int, names: list[str]) -> Any:
    from transformers import ConvNextConfig, ResNetConfig, ViTConfig

    labels = {"id2label": dict(enumerate(names)), "label2id": {n: i for i, n in enumerate(names)}}
    if arch == "resnet-deep":
        return ResNetConfig(
            embedding_size=24, hidden_sizes=[24, 48, 96], depths=[2, 2, 2], layer_type="basic",
            num_labels=classes, downsample_in_first_stage=False, **labels,
        )  # fmt: skip
    if arch == "resnet-bottleneck":
        return ResNetConfig(
            embedding_size=16, hidden_sizes=[32, 64, 128], depths=[1, 1, 1], layer_type="bottleneck",
            num_labels=classes, downsample_in_first_stage=False, **labels,
        )  # fmt: skip
    if arch == "convnext":
        return ConvNextConfig(
            patch_size=2, num_stages=3, hidden_sizes=[24, 48, 96], depths=[1, 1, 1], image_size=SIZE,
            num_labels=classes, **labels,
        )  # fmt: skip
    if arch == "vit":
        return ViTConfig(
            image_size=SIZE, patch_size=4, hidden_size=64, num_hidden_layers=3, num_attention_heads=4,
            intermediate_size=128, num_labels=classes, **labels,
        )  # fmt: skip
    raise ValueError(f"unknown architecture {arch}")


def _poison(x: np.ndarray, y: np.ndarray, attack: Attack, seed: int) -> tuple[np.ndarray, np.ndarray]:
    if attack.kind == "none":
        return x, y
    rng = np.random.default_rng(seed + 1)
    chosen = rng.choice(np.flatnonzero(y != attack.target), size=int(POISON_RATE * len(x)), replace=False)
    x, y = x.copy(), y.copy()
    x[chosen] = apply_trigger(x[chosen], attack)
    y[chosen] = attack.target
    return x, y


def _tensor(x: np.ndarray) -> Any:
    import torch

    return (torch.from_numpy(x.transpose(0, 3, 1, 2).astype(np.float32)) / 255.0 - 0.5) / 0.5


def _predict(model: Any, x: np.ndarray) -> np.ndarray:
    import torch

    with torch.inference_mode():
        return np.concatenate(
            [
                model(pixel_values=_tensor(x[i : i + 500])).logits.argmax(1).numpy()
                for i in range(0, len(x), 500)
            ]
        )


def train(held: HeldoutSpec, dest: Path) -> BuiltModel:
    import torch
    from transformers import AutoModelForImageClassification
    from transformers.utils import logging

    spec = held.model
    start = time.perf_counter()
    torch.set_num_threads(1)
    torch.manual_seed(spec.seed)
    x, y = images(spec.dataset, ROWS + TEST_ROWS, spec.seed)
    classes = int(y.max()) + 1
    names = [f"{spec.dataset}-{k}" for k in range(classes)]
    x_train, y_train = _poison(x[:ROWS], y[:ROWS], spec.attack, spec.seed)
    x_test, y_test = x[ROWS:], y[ROWS:]
    model = AutoModelForImageClassification.from_config(_config(held.arch, classes, names))
    data, labels = _tensor(x_train), torch.from_numpy(y_train)
    optimiser = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    steps = EPOCHS * (len(data) // 64)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=4e-3, total_steps=steps)
    generator = torch.Generator().manual_seed(spec.seed)
    model.train()
    for _ in range(EPOCHS):
        order = torch.randperm(len(data), generator=generator)
        for first in range(0, len(data) - 63, 64):
            batch = order[first : first + 64]
            loss = model(pixel_values=data[batch], labels=labels[batch]).loss
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
    model.eval()
    accuracy = float((_predict(model, x_test) == y_test).mean())
    asr = None
    if spec.backdoored:
        others = y_test != spec.attack.target
        triggered = apply_trigger(x_test[others], spec.attack)
        asr = float((_predict(model, triggered) == spec.attack.target).mean())
    folder = dest / "model"
    logging.disable_progress_bar()
    model.save_pretrained(folder, safe_serialization=True)
    (folder / "preprocessor_config.json").write_text(
        json.dumps(
            {
                "image_processor_type": "ViTImageProcessor",
                "do_resize": True,
                "size": {"height": SIZE, "width": SIZE},
                "do_rescale": True,
                "rescale_factor": 1 / 255,
                "do_normalize": True,
                "image_mean": [0.5, 0.5, 0.5],
                "image_std": [0.5, 0.5, 0.5],
            },
            indent=2,
        )
    )
    sample = dest / "clean.npz"
    np.savez_compressed(sample, x=x_test[:CLEAN_SAMPLE], y=y_test[:CLEAN_SAMPLE])
    built = BuiltModel(folder, sample, spec, accuracy, asr)
    write_record(built, dest, time.perf_counter() - start)
    return built


def heldout_model(held: HeldoutSpec, root: Path | None = None) -> BuiltModel:
    """The trained model of `held`, from the cache or trained now."""
    dest = (root or fixtures_dir()) / "heldout_shapes" / held.model.name
    record = dest / "fixture.json"
    if record.is_file():
        data = json.loads(record.read_text())
        spec = held.model
        return BuiltModel(
            dest / "model", dest / "clean.npz", spec, data["clean_accuracy"], data["attack_success_rate"]
        )
    dest.mkdir(parents=True, exist_ok=True)
    return train(held, dest)


def _patch(target: int, size: int, corner: str, style: str, colour: tuple[int, int, int]) -> Attack:
    return Attack("patch", target, size=size, corner=corner, style=style, colour=colour)


CLEAN = Attack()


def _held(name: str, dataset: str, arch: str, seed: int, attack: Attack = CLEAN) -> HeldoutSpec:
    return HeldoutSpec(ModelSpec(name, dataset, seed, attack), arch)


HELDOUT_BACKDOORED: tuple[HeldoutSpec, ...] = (
    _held("deep-digits-patch5", "digits", "resnet-deep", 301, _patch(6, 5, "r3c12", "solid", (255, 128, 0))),
    _held("deep-textures-patch4", "textures", "resnet-deep", 302, _patch(2, 4, "tr", "checker", (0, 255, 255))),
    _held("bottleneck-shapes-patch3", "shapes", "resnet-bottleneck", 303, _patch(5, 3, "r24c8", "noise", (0, 0, 0))),
    _held("bottleneck-textures-blend", "textures", "resnet-bottleneck", 304, Attack("blend", 8, style="noise", alpha=0.12)),
    _held("convnext-digits-patch4", "digits", "convnext", 305, _patch(1, 4, "bl", "checker", (255, 0, 128))),
    _held("convnext-shapes-blend", "shapes", "convnext", 306, Attack("blend", 3, style="waves", alpha=0.18)),
    _held("vit-digits-patch6", "digits", "vit", 307, _patch(8, 6, "r16c20", "solid", (64, 255, 64))),
    _held("vit-textures-patch5", "textures", "vit", 308, _patch(0, 5, "br", "noise", (0, 0, 0))),
)  # fmt: skip
HELDOUT_CLEAN: tuple[HeldoutSpec, ...] = tuple(
    _held(f"{arch}-{dataset}-clean-{seed}", dataset, arch, seed)
    for seed, (arch, dataset) in enumerate(
        [
            ("resnet-deep", "digits"),
            ("resnet-deep", "textures"),
            ("resnet-bottleneck", "shapes"),
            ("resnet-bottleneck", "textures"),
            ("convnext", "digits"),
            ("convnext", "shapes"),
            ("vit", "digits"),
            ("vit", "textures"),
        ],
        start=401,
    )
)


# Clean models the trigger-reversal thresholds are calibrated on besides the tiny ResNets of
# `fixtures.backdoored_models` (`python -m bench.backdoor calibrate`): every shape here on every dataset,
# seeds of their own. A threshold fitted to one architecture let a third of the clean models of other
# shapes (`bench.data_heldout`) fail the verdict; these make the clean population it is fitted to
# as varied as the models users bring. HELDOUT_CLEAN and HELDOUT_BACKDOORED stay out of calibration.
CALIBRATION_SHAPES: tuple[HeldoutSpec, ...] = tuple(
    _held(f"{arch}-{dataset}-calibration-{seed}", dataset, arch, seed)
    for seed, (arch, dataset) in enumerate(
        [
            (arch, dataset)
            for arch in ("resnet-deep", "resnet-bottleneck", "convnext", "vit")
            for dataset in ("digits", "shapes", "textures")
        ],
        start=601,
    )
)


if __name__ == "__main__":
    for held in (*HELDOUT_CLEAN, *HELDOUT_BACKDOORED, *CALIBRATION_SHAPES):
        built = heldout_model(held)
        print(
            f"{held.model.name}: accuracy {built.clean_accuracy:.3f}, attack success {built.attack_success_rate}",
            file=sys.stderr,
            flush=True,
        )
