"""Where the behavioural scan computes: CUDA when available (or asked for), else the CPU; never required."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

from airlock.behavior.settings import DeviceChoice
from airlock.errors import AirlockError


def resolve_device(choice: DeviceChoice) -> torch.device:
    """The torch device for `--device auto|cpu|cuda` (auto: CUDA if present, else the CPU)."""
    available = torch.cuda.is_available()
    if choice is DeviceChoice.CUDA and not available:
        raise AirlockError("--device cuda: no CUDA device is available (use --device auto or cpu)")
    if choice is DeviceChoice.CPU or not available:
        return torch.device("cpu")
    return torch.device("cuda")


@contextmanager
def deterministic(seed: int) -> Iterator[None]:
    """Seeded torch with deterministic kernels inside the block, so the same seed gives the same
    report; the process's previous settings come back afterwards."""
    was_deterministic = torch.are_deterministic_algorithms_enabled()
    was_benchmark = torch.backends.cudnn.benchmark
    state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(was_deterministic)
        torch.backends.cudnn.benchmark = was_benchmark
        torch.random.set_rng_state(state)
