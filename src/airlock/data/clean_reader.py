"""How a small network trained on the clean `--test` split alone reads each training row's label.

Dirty-label poison is another class's image carrying a trigger, filed under the target. The model
under test learned the trigger, so in its own features many such rows sit among the target's clean
rows: the clean reference (`reference`) matches them and the boundary that flags a called class's
rows leaves them. A network that never saw a trigger reads such a row by its content, as the class
it was drawn from, and a clean row of the class as the class.

Three networks are trained: the full one on every reference row, which reads the training rows,
and one on each half of the reference (alternate rows of each class, `folds`), each reading the
other half, the rows it never trained on. A training row's conformal p-value is the share of its
class's reference rows, so read, given as little of the label or less (`reference.label_pvalues`).
A half network, trained on half as many images, reads clean rows less surely than the full one, so
a clean training row's p-value leans high and fewer than READ_ALPHA of a class's clean rows fall
under it: the test errs towards missing poison, not towards flagging clean rows. (Reading each
training row with one of the half networks makes the p-values exactly uniform instead, and so flags
READ_ALPHA of every called class's clean rows: bench/HISTORY.md.) Only a row the full network also
reads as another class (its label under `poisoning.LOW_CONFIDENCE`) is flagged, so a task every
network reads perfectly, where the readings all sit at the same ceiling and their order is noise,
flags nothing. A relabelled row the full network reads as its source class gets the smallest
p-value. On scenes, where a network of 200 images reads under half of the clean rows right, the
reference rows read poorly too and few training rows fall below them: the test loses power there,
not precision.

A clean-label set's poison is the target's own images, which this network reads as the target
(those first mixed with another class's image partly as that class): it cannot tell that family
apart. So it adds rows to a class another route called, corroborates the class the reference singles
out short of its bar, and calls a class alone only at the reference's own bar where the reference
leans to the class too and no other route called one (`poisoning.READ_AWAY`). The network reads
images at READ_SIDE pixels at most (larger images are scaled down), so its cost does not grow with
the image size or the split's rows: three trainings of STEPS steps, 25-33 CPU seconds on a 2,500-row
set (bench/HISTORY.md), made for every image set vetted with `--model` and `--test`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

READ_SIDE = 32  # images are read at most this many pixels a side (area-scaled down)
STEPS = 300  # optimiser steps per network
BATCH = 64
SHIFT = 3  # the training images are shifted by up to this many pixels each step
LEARNING_RATE = 3e-3  # the one-cycle schedule's peak (Adam)
WEIGHT_DECAY = 5e-4
SMOOTHING = 0.1  # label smoothing: 200 images overfit a network quickly
READ_ROWS = 512  # rows read at once


class Readers:
    """Three networks trained on the clean split's images: `full` on every row, and one per fold
    (`folds`), so that each reference row is read by the network of the other fold, which never
    trained on it."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, classes: int, *, seed: int = 0) -> None:
        from airlock.behavior.device import deterministic

        x = _tensor(images)
        fold = folds(labels)
        known = np.flatnonzero(fold >= 0)
        with deterministic(seed):
            self.full = _train(x[known], labels[known], classes, seed)
            self.halves = [_train(x[fold == k], labels[fold == k], classes, seed + 1 + k) for k in range(2)]

    def read_training(self, chunks: Iterable[tuple[int, np.ndarray]], labels: np.ndarray) -> np.ndarray:
        """Per training row (`chunks`: each chunk's first row number and its images) the probability
        the full network gives its label."""
        out = np.zeros(len(labels), dtype=np.float64)
        for start, images in chunks:
            rows = slice(start, start + len(images))
            out[rows] = _read(self.full, images, labels[rows])
        return out

    def read_reference(self, images: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """Per clean-split row (the images the networks trained on) the probability the network of the
        other fold gives its label; NaN where the label is not a training class."""
        out = np.full(len(labels), np.nan)
        fold = folds(labels)
        for k, network in enumerate(self.halves):
            unseen = fold == 1 - k
            out[unseen] = _read(network, images[unseen], labels[unseen])
        return out


def folds(labels: np.ndarray) -> np.ndarray:
    """Per clean-split row its fold, 0 or 1: alternate rows of each class, so each fold holds every
    class (-1 for a row whose label is not a training class)."""
    out = np.full(len(labels), -1, dtype=np.int64)
    for label in np.unique(labels[labels >= 0]):
        rows = np.flatnonzero(labels == label)
        out[rows] = np.arange(len(rows)) % 2
    return out


def _read(network: torch.nn.Module, images: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per image the probability `network` gives its label (0 for a label outside its classes)."""
    import torch

    from airlock.behavior.device import deterministic

    out = np.zeros(len(images), dtype=np.float64)
    with deterministic(0), torch.no_grad():  # one thread: the same sums, the same p-values
        for start in range(0, len(images), READ_ROWS):
            part = slice(start, start + READ_ROWS)
            probabilities = network(_tensor(images[part])).softmax(dim=-1).double().numpy()
            label = labels[part]
            known = np.flatnonzero((label >= 0) & (label < probabilities.shape[1]))
            out[start + known] = probabilities[known, label[known]]
    return out


def scaled(images: np.ndarray) -> np.ndarray:
    """N×H×W×C images in [0, 1] as float32, scaled down (area) to at most READ_SIDE pixels a side: what
    the networks read."""
    import torch
    import torch.nn.functional as F

    x = np.ascontiguousarray(images, dtype=np.float32)
    height, width = x.shape[1:3]
    if max(height, width) <= READ_SIDE:
        return x
    ratio = READ_SIDE / max(height, width)
    size = (max(1, round(height * ratio)), max(1, round(width * ratio)))
    small = F.interpolate(torch.from_numpy(x.transpose(0, 3, 1, 2)), size=size, mode="area")
    return np.ascontiguousarray(small.numpy().transpose(0, 2, 3, 1))


def _tensor(images: np.ndarray) -> torch.Tensor:
    """N×H×W×C images in [0, 1] (`scaled` first) as the N×C×h×w float tensor the networks take."""
    import torch

    return torch.from_numpy(np.ascontiguousarray(scaled(images).transpose(0, 3, 1, 2)))


def _network(classes: int, channels: int) -> torch.nn.Module:
    import torch.nn as nn

    def block(inputs: int, outputs: int, stride: int) -> list[nn.Module]:
        return [nn.Conv2d(inputs, outputs, 3, stride, 1, bias=False), nn.BatchNorm2d(outputs), nn.ReLU()]

    return nn.Sequential(
        *block(channels, 16, 1),
        *block(16, 32, 2),
        *block(32, 32, 1),
        *block(32, 64, 2),
        *block(64, 64, 1),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(64, classes),
    )


def _train(x: torch.Tensor, labels: np.ndarray, classes: int, seed: int) -> torch.nn.Module:
    import torch
    import torch.nn.functional as F

    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    network = _network(classes, x.shape[1])
    y = torch.from_numpy(labels.astype(np.int64))
    optimiser = torch.optim.Adam(network.parameters(), LEARNING_RATE, weight_decay=WEIGHT_DECAY)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, LEARNING_RATE, total_steps=STEPS)
    network.train()
    for _ in range(STEPS):
        batch = torch.randint(len(y), (BATCH,), generator=generator)
        loss = F.cross_entropy(network(_shifted(x[batch], generator)), y[batch], label_smoothing=SMOOTHING)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
    network.eval()
    return network


def _shifted(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """The batch shifted by one random offset of up to SHIFT pixels each way (edges replicated)."""
    import torch
    import torch.nn.functional as F

    height, width = x.shape[2:]
    padded = F.pad(x, (SHIFT, SHIFT, SHIFT, SHIFT), mode="replicate")
    dx, dy = (int(v) for v in torch.randint(0, 2 * SHIFT + 1, (2,), generator=generator))
    return padded[:, :, dy : dy + height, dx : dx + width]
