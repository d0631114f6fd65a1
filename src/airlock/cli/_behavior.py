"""The behavioural options of `airlock scan` and their progress display (one bar per class with an ETA, on stderr)."""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from airlock.behavior.settings import BehaviorSettings, DeviceChoice

ONLY_WITH_BEHAVIOR = ("data", "arch", "time_budget")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--behavior",
        action="store_true",
        help="also probe the model's behaviour for backdoors (trigger reversal, activation clustering)",
    )
    p.add_argument(
        "--data",
        type=Path,
        metavar="PATH",
        help="clean sample for --behavior: .npz (x, y), image folder, or CSV with text,label "
        "(default: data-free, inputs synthesised from the model)",
    )
    add_arch(p)
    p.add_argument(
        "--time-budget",
        type=float,
        metavar="SECONDS",
        help="stop --behavior after this long and report it as incomplete",
    )
    p.add_argument(
        "--device",
        type=DeviceChoice,
        choices=list(DeviceChoice),
        default=DeviceChoice.AUTO,
        help="where --behavior computes (default: auto = CUDA if available, else CPU)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of --behavior (same seed, same report)")


def add_arch(p: argparse.ArgumentParser) -> None:
    """`--arch`, shared by `airlock scan --behavior` and `airlock data --model` (one loader serves both)."""
    p.add_argument(
        "--arch",
        metavar="MODULE:FACTORY",
        help="build the architecture with your own code: FACTORY(config dict) -> nn.Module",
    )


def settings(args: argparse.Namespace, progress: Any) -> BehaviorSettings | None:
    """The behavioural settings the arguments ask for, or None for a static scan."""
    if not args.behavior:
        given = [
            f"--{name.replace('_', '-')}" for name in ONLY_WITH_BEHAVIOR if getattr(args, name) is not None
        ]
        if given:
            from airlock.errors import AirlockError

            raise AirlockError(f"{', '.join(given)} only apply with --behavior")
        return None
    from airlock import extras
    from airlock.errors import AirlockError

    extras.require("behavior", "--behavior", extras.BEHAVIOR)
    if args.time_budget is not None and args.time_budget <= 0:
        raise AirlockError("--time-budget must be a positive number of seconds")
    if args.device is DeviceChoice.CUDA:
        from airlock.behavior.device import resolve_device

        resolve_device(args.device)  # fails now, with one line, when there is no CUDA device
    return BehaviorSettings(
        data=args.data,
        arch=args.arch,
        time_budget=args.time_budget,
        device=args.device,
        seed=args.seed,
        progress=progress,
    )


class _Bars:
    """`airlock.behavior.progress.Progress` drawn with rich: one bar per class and phase."""

    def __init__(self, bar: Any) -> None:
        self.bar = bar
        self.tasks: dict[int, Any] = {}

    def begin(self, phase: str, classes: Sequence[int], steps: int) -> None:
        self.tasks = {k: self.bar.add_task(f"{phase:<9} class {k}", total=steps, size="") for k in classes}

    def step(self, phase: str, sizes: Mapping[int, float]) -> None:
        for k, size in sizes.items():
            self.bar.update(self.tasks[k], advance=1, size=f"{size:.4g}")

    def drop(self, phase: str, classes: Sequence[int]) -> None:
        for k in classes:
            self.bar.update(self.tasks[k], size="set aside")
            self.bar.stop_task(self.tasks[k])

    def end(self, phase: str) -> None:
        for task in self.tasks.values():
            self.bar.remove_task(task)
        self.tasks = {}


@contextmanager
def progress(enabled: bool) -> Iterator[_Bars | None]:
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    # the ETA is the phase's step budget at the current pace: an upper bound, since a phase stops
    # early once its leading class settles
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("size {task.fields[size]}"),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        yield _Bars(bar)
