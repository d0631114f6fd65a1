"""Trigger families: parametrised input transformations, one candidate trigger per target class.

Every family holds the parameters of K candidate triggers at once (one per class), so a single
batched forward pass tries all candidate classes; `apply` stamps the triggers of some classes on a
batch of images, `cost` measures how large each trigger is (the quantity whose smallness betrays a
backdoor), and `export` returns one class's trigger as arrays for the report.

- `patch` (Neural Cleanse): x' = (1 − m)·x + m·p with a mask m (H×W) and a pattern p (C×H×W);
  cost = mean of m (the share of the image the trigger covers).
- `blend` (global, additive): x' = clip(x + δ) with a full-image δ; cost = RMS of δ in pixel units
  (0…1). Finds blended and other spread-out triggers a small mask cannot express.
- `warp` (global, geometric): x' = x sampled through a smooth displacement field (bicubic from a
  coarse grid); cost = RMS displacement in pixels. Finds warping triggers (WaNet-style). Judged by
  success, not size (`judged_by`): within its displacement limit no warp trigger reaches the target
  success rate, so the class a warp of that size sends the most inputs to is the suspect.

Images are float tensors N×C×H×W in [0, 1]; the model normalises them itself.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F

WARP_GRID = 4  # control points per side of the warp field


class TriggerFamily(ABC):
    """K candidate triggers of one family; parameters live on `device` and are optimised in place."""

    name: ClassVar[str]
    # What singles out a class: "size", the smallest trigger that reaches the target success rate
    # (`outlier.gap`), or "success", the largest success rate a trigger within the family's limit
    # reaches (`outlier.success_gap`), for a family whose limit no trigger reaches the rate within.
    judged_by: ClassVar[str] = "size"

    def __init__(
        self, classes: int, shape: tuple[int, int, int], generator: torch.Generator, device: torch.device
    ) -> None:
        self.classes, self.shape, self.device = classes, shape, device

    @abstractmethod
    def parameters(self) -> list[torch.Tensor]:
        """The tensors to optimise; row k of each belongs to class k."""

    @abstractmethod
    def apply(self, x: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        """Triggered copies of `x` (B×C×H×W) for each class in `rows`: len(rows)×B×C×H×W."""

    @abstractmethod
    def cost(self, rows: torch.Tensor) -> torch.Tensor:
        """The size of the triggers of `rows` (differentiable), one number each."""

    @abstractmethod
    def export(self, row: int) -> dict[str, np.ndarray]:
        """One class's trigger as float32 arrays (H×W mask, H×W×C pattern, …) for the report."""

    @staticmethod
    @abstractmethod
    def stamp(arrays: dict[str, np.ndarray], images: np.ndarray) -> np.ndarray:
        """An exported trigger (`export`) applied to images N×H×W×C in [0, 1], as `apply` would."""

    def state(self, row: int) -> list[torch.Tensor]:
        return [p[row].detach().clone() for p in self.parameters()]

    def restore(self, row: int, state: list[torch.Tensor]) -> None:
        with torch.no_grad():
            for p, saved in zip(self.parameters(), state, strict=True):
                p[row] = saved


def _uniform(
    shape: tuple[int, ...], low: float, high: float, generator: torch.Generator, device: torch.device
) -> torch.Tensor:
    values = torch.rand(shape, generator=generator) * (high - low) + low
    return values.to(device).requires_grad_(True)


class PatchTrigger(TriggerFamily):
    name = "patch"

    def __init__(
        self, classes: int, shape: tuple[int, int, int], generator: torch.Generator, device: torch.device
    ) -> None:
        super().__init__(classes, shape, generator, device)
        c, h, w = shape
        self.mask_logit = _uniform((classes, 1, h, w), -3.0, -1.0, generator, device)
        self.pattern_logit = _uniform((classes, c, h, w), -2.0, 2.0, generator, device)

    def parameters(self) -> list[torch.Tensor]:
        return [self.mask_logit, self.pattern_logit]

    def apply(self, x: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        mask = torch.sigmoid(self.mask_logit[rows]).unsqueeze(1)
        pattern = torch.sigmoid(self.pattern_logit[rows]).unsqueeze(1)
        return (1 - mask) * x.unsqueeze(0) + mask * pattern

    def cost(self, rows: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.mask_logit[rows]).mean(dim=(1, 2, 3))

    def export(self, row: int) -> dict[str, np.ndarray]:
        with torch.no_grad():
            mask = torch.sigmoid(self.mask_logit[row, 0]).cpu().numpy()
            pattern = torch.sigmoid(self.pattern_logit[row]).permute(1, 2, 0).cpu().numpy()
        return {"mask": mask.astype(np.float32), "pattern": pattern.astype(np.float32)}

    @staticmethod
    def stamp(arrays: dict[str, np.ndarray], images: np.ndarray) -> np.ndarray:
        mask = arrays["mask"][None, ..., None]
        stamped: np.ndarray = (1 - mask) * images + mask * arrays["pattern"][None]
        return stamped.astype(np.float32)


class BlendTrigger(TriggerFamily):
    name = "blend"
    LIMIT = 0.5  # the largest change of one pixel value

    def __init__(
        self, classes: int, shape: tuple[int, int, int], generator: torch.Generator, device: torch.device
    ) -> None:
        super().__init__(classes, shape, generator, device)
        self.delta_logit = _uniform((classes, *shape), -0.1, 0.1, generator, device)

    def parameters(self) -> list[torch.Tensor]:
        return [self.delta_logit]

    def _delta(self, rows: torch.Tensor) -> torch.Tensor:
        return self.LIMIT * torch.tanh(self.delta_logit[rows])

    def apply(self, x: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        return (x.unsqueeze(0) + self._delta(rows).unsqueeze(1)).clamp(0, 1)

    def cost(self, rows: torch.Tensor) -> torch.Tensor:
        return self._delta(rows).pow(2).mean(dim=(1, 2, 3)).add(1e-12).sqrt()

    def export(self, row: int) -> dict[str, np.ndarray]:
        with torch.no_grad():
            delta = self._delta(torch.tensor([row], device=self.device))[0].permute(1, 2, 0).cpu().numpy()
        return {"delta": delta.astype(np.float32)}

    @staticmethod
    def stamp(arrays: dict[str, np.ndarray], images: np.ndarray) -> np.ndarray:
        stamped: np.ndarray = np.clip(images + arrays["delta"][None], 0.0, 1.0)
        return stamped.astype(np.float32)


class WarpTrigger(TriggerFamily):
    name = "warp"
    # Judged by success. With a clean sample no warp trigger reached the target success rate within
    # LIMIT on any of 171 models (145 held-out models of `bench.data_heldout`, CALIBRATE to FRESH_8
    # less some of FRESH_3/FRESH_4, and 26 calibration models), so its size gap was 0 on every one,
    # warp backdoors included; the class whose 2 px warp reached the most success was the planted
    # target on 14 of their 15 warp backdoors. (Per-class sizes and rates of every family, collected
    # once with every family run; not a bench command.)
    judged_by = "success"
    # The largest displacement, in pixels (warping backdoors move pixels by about one). Warps of
    # 2.5-3.5 px mean strength (fixtures.heldout) cannot be expressed within it, so no warp class is
    # ever reached on them. A 6 px limit (warp thresholds recalibrated) found the two warp backdoors
    # of the CALIBRATE and DEVELOP parts of `bench.data_heldout`, but on the unseen FRESH_2 part it
    # found no warp backdoor the 2 px run missed and failed a clean model data-free, so it was not kept.
    LIMIT = 2.0

    def __init__(
        self, classes: int, shape: tuple[int, int, int], generator: torch.Generator, device: torch.device
    ) -> None:
        super().__init__(classes, shape, generator, device)
        _, h, w = shape
        self.field_logit = _uniform((classes, 2, WARP_GRID, WARP_GRID), -0.05, 0.05, generator, device)
        ys, xs = torch.meshgrid(torch.linspace(-1, 1, h), torch.linspace(-1, 1, w), indexing="ij")
        self.identity = torch.stack([xs, ys], dim=-1).to(device)  # H×W×2, (x, y) as grid_sample wants
        self.pixel = torch.tensor([2.0 / max(w - 1, 1), 2.0 / max(h - 1, 1)], device=device)

    def parameters(self) -> list[torch.Tensor]:
        return [self.field_logit]

    def _displacement(self, rows: torch.Tensor) -> torch.Tensor:
        """k×H×W×2 displacements in pixels."""
        _, h, w = self.shape
        coarse = self.LIMIT * torch.tanh(self.field_logit[rows])
        return F.interpolate(coarse, size=(h, w), mode="bicubic", align_corners=True).permute(0, 2, 3, 1)

    def apply(self, x: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        k, b = len(rows), len(x)
        grid = self.identity + self._displacement(rows) * self.pixel  # k×H×W×2
        grid = grid.unsqueeze(1).expand(k, b, *grid.shape[1:]).reshape(k * b, *grid.shape[1:])
        images = x.unsqueeze(0).expand(k, *x.shape).reshape(k * b, *x.shape[1:])
        warped = F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=True)
        return warped.reshape(k, b, *x.shape[1:])

    def cost(self, rows: torch.Tensor) -> torch.Tensor:
        return self._displacement(rows).pow(2).sum(dim=-1).mean(dim=(1, 2)).add(1e-12).sqrt()

    def export(self, row: int) -> dict[str, np.ndarray]:
        with torch.no_grad():
            field = self._displacement(torch.tensor([row], device=self.device))[0].cpu().numpy()
        return {"displacement": field.astype(np.float32)}

    @staticmethod
    def stamp(arrays: dict[str, np.ndarray], images: np.ndarray) -> np.ndarray:
        n, h, w, _ = images.shape
        ys, xs = torch.meshgrid(torch.linspace(-1, 1, h), torch.linspace(-1, 1, w), indexing="ij")
        pixel = torch.tensor([2.0 / max(w - 1, 1), 2.0 / max(h - 1, 1)])
        grid = torch.stack([xs, ys], dim=-1) + torch.from_numpy(arrays["displacement"]) * pixel
        x = torch.from_numpy(np.ascontiguousarray(images, np.float32)).permute(0, 3, 1, 2)
        warped = F.grid_sample(
            x, grid.expand(n, h, w, 2), mode="bilinear", padding_mode="border", align_corners=True
        )
        return warped.permute(0, 2, 3, 1).numpy().astype(np.float32)


FAMILIES: dict[str, type[TriggerFamily]] = {
    cls.name: cls for cls in (PatchTrigger, BlendTrigger, WarpTrigger)
}


def judged_by(family: str) -> str:
    """What a family's gap compares: trigger "size" or "success" (`TriggerFamily.judged_by`)."""
    return FAMILIES[family].judged_by if family in FAMILIES else "size"


def cost_unit(family: str) -> str:
    """What a family's cost measures, for the report."""
    return {
        "patch": "share of the image under the mask",
        "blend": "RMS change of a pixel value (0…1)",
        "warp": "RMS displacement in pixels",
        "token": "target-class cross-entropy with the trigger",
    }[family]
