"""Straightforward Neural Cleanse, the baseline of `python -m bench backdoor`.

As published (Wang et al., S&P 2019) and as its reference code runs it (bolunwang/backdoor,
`visualizer.py` with the GTSRB example's parameters): one class at a time; a mask and a pattern in
tanh space, initialised at random; Adam (lr 0.1, betas 0.5/0.9); batches of 32; an "epoch" is one
pass over the clean sample; λ starts at 0, is set to 1e-3 once the attack succeeds (≥ 99%) for
5 epochs, then is multiplied by 2 after 5 successful epochs and divided by 2^1.5 after 5 failing
ones; the smallest mask (L1, summed over pixels) of an epoch whose success rate reached 99% is
kept; stop when that best mask has not shrunk for 25 epochs after λ has both risen and fallen, or
after 1000 epochs. The outlier test is the MAD anomaly index of the smallest mask (flagged above 2).

Only the model's frozen forward pass is shared with airlock (the same loaded `ImageClassifier`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

BATCH = 32
LR = 0.1
EPOCHS = 1000
INIT_COST = 1e-3
THRESHOLD = 0.99
PATIENCE = 5
MULTIPLIER_UP, MULTIPLIER_DOWN = 2.0, 2.0**1.5
EARLY_STOP_PATIENCE = 5 * PATIENCE
CONSISTENCY = 1.4826


@dataclass(frozen=True)
class NeuralCleanseResult:
    norms: tuple[float, ...]  # L1 norm of the best mask, per class
    anomaly_index: float  # of the smallest norm
    suspect: int
    epochs: tuple[int, ...]
    seconds: float

    @property
    def flagged(self) -> bool:
        return self.anomaly_index > 2.0


def neural_cleanse(
    model: object, images: torch.Tensor, classes: int, *, seed: int = 0
) -> NeuralCleanseResult:
    """Reverse every class's trigger one after the other, then apply the MAD outlier test."""
    start = time.perf_counter()
    generator = torch.Generator().manual_seed(seed)
    norms, epochs = [], []
    for target in range(classes):
        norm, used = _reverse_one(model, images, target, generator)
        norms.append(norm)
        epochs.append(used)
    values = np.asarray(norms)
    median = float(np.median(values))
    mad = CONSISTENCY * float(np.median(np.abs(values - median))) or 1e-12
    suspect = int(values.argmin())
    return NeuralCleanseResult(
        tuple(norms),
        abs(float(values[suspect]) - median) / mad,
        suspect,
        tuple(epochs),
        time.perf_counter() - start,
    )


def _reverse_one(
    model: object, images: torch.Tensor, target: int, generator: torch.Generator
) -> tuple[float, int]:
    _, channels, height, width = images.shape
    mask_tanh = torch.atanh((torch.rand((1, 1, height, width), generator=generator) - 0.5) * (2 - 1e-7))
    pattern_tanh = torch.atanh(
        (torch.rand((1, channels, height, width), generator=generator) - 0.5) * (2 - 1e-7)
    )
    mask_tanh.requires_grad_(True)
    pattern_tanh.requires_grad_(True)
    optimiser = torch.optim.Adam([mask_tanh, pattern_tanh], lr=LR, betas=(0.5, 0.9))
    cost, best = 0.0, math.inf
    set_counter = up_counter = down_counter = early_counter = 0
    up_flag = down_flag = False
    early_best = math.inf
    epoch = 0
    for epoch in range(1, EPOCHS + 1):  # noqa: B007  returned after the loop: how many epochs ran
        order = torch.randperm(len(images), generator=generator)
        hits, seen, regs = 0, 0, []
        for first in range(0, len(images), BATCH):
            x = images[order[first : first + BATCH]]
            mask = torch.tanh(mask_tanh) / (2 - 1e-7) + 0.5
            pattern = torch.tanh(pattern_tanh) / (2 - 1e-7) + 0.5
            logits = model((1 - mask) * x + mask * pattern)  # type: ignore[operator]
            target_vector = torch.full((len(x),), target)
            reg = mask.abs().sum()
            loss = F.cross_entropy(logits, target_vector) + cost * reg
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            hits += int((logits.argmax(dim=-1) == target).sum())
            seen += len(x)
            regs.append(float(reg.detach()))
        rate, reg_mean = hits / seen, float(np.mean(regs))
        if rate >= THRESHOLD and reg_mean < best:
            best = reg_mean
        if best < math.inf:
            early_counter = early_counter + 1 if best >= early_best else 0
        early_best = min(best, early_best)
        if down_flag and up_flag and early_counter >= EARLY_STOP_PATIENCE:
            break
        if cost == 0 and rate >= THRESHOLD:
            set_counter += 1
            if set_counter >= PATIENCE:
                cost, up_counter, down_counter, up_flag, down_flag = INIT_COST, 0, 0, False, False
        else:
            set_counter = 0
        if rate >= THRESHOLD:
            up_counter, down_counter = up_counter + 1, 0
        else:
            up_counter, down_counter = 0, down_counter + 1
        if up_counter >= PATIENCE:
            up_counter, cost, up_flag = 0, cost * MULTIPLIER_UP, True
        elif down_counter >= PATIENCE:
            down_counter, cost, down_flag = 0, cost / MULTIPLIER_DOWN, True
    if best == math.inf:
        with torch.no_grad():
            best = float((torch.tanh(mask_tanh) / (2 - 1e-7) + 0.5).sum())
    return best, epoch
