"""What the user asked of the behavioural scan: sample, architecture, time budget, device, seed.

Kept free of torch so that the pipeline and the CLI can carry it without importing anything heavy.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path

from airlock.behavior.progress import Progress


class DeviceChoice(enum.StrEnum):
    AUTO = "auto"  # CUDA when available, else the CPU
    CPU = "cpu"
    CUDA = "cuda"


@dataclass(frozen=True)
class BehaviorSettings:
    data: Path | None = (
        None  # a clean sample (.npz x/y, image folder, or CSV with text/label); None = data-free
    )
    arch: str | None = None  # "module:factory" building the nn.Module the weights are loaded into
    time_budget: float | None = None  # seconds for the whole behavioural scan; None = no limit
    device: DeviceChoice = DeviceChoice.AUTO
    seed: int = 0
    progress: Progress | None = field(default=None, compare=False)
