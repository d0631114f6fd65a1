"""Where the behavioural scan computes: CUDA when available (or asked for), else the CPU; never required."""

from __future__ import annotations

import os
import warnings
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
def deterministic(seed: int) -> Iterator[list[str]]:
    """Seeded torch with deterministic kernels on one CPU thread inside the block, so the same seed
    gives the same report; the process's previous settings come back afterwards.

    One thread, because the CPU kernels split their sums by thread count, and on a busy machine the
    count that runs is not always the one asked for: the last bits of a gradient then differ, and
    an optimisation of a hundred steps turns those bits into a different trigger and score.

    On CUDA some backward kernels (grid sampling, interpolation, adaptive pooling) have no
    deterministic version and add in whatever order their threads finish: torch warns and runs them
    anyway. The block yields a list that collects those warnings, so the report can say that
    such a run is not reproducible bit for bit (`behavior.reproducible`); on the CPU it stays empty."""
    was_deterministic = torch.are_deterministic_algorithms_enabled()
    was_benchmark = torch.backends.cudnn.benchmark
    was_threads = torch.get_num_threads()
    state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False
    torch.set_num_threads(1)
    if torch.cuda.is_available():
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # deterministic cuBLAS reductions
    unreproducible: list[str] = []
    try:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            yield unreproducible
        unreproducible += sorted({str(w.message).split(".")[0] for w in seen if _nondeterministic(w)})
        for w in seen:
            if not _nondeterministic(w):
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    finally:
        torch.set_num_threads(was_threads)
        torch.use_deterministic_algorithms(was_deterministic)
        torch.backends.cudnn.benchmark = was_benchmark
        torch.random.set_rng_state(state)


def _nondeterministic(w: warnings.WarningMessage) -> bool:
    return "does not have a deterministic implementation" in str(w.message)
