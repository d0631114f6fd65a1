"""How the behavioural scan reports progress: a protocol the CLI implements with one bar per class.

The library never prints; it calls these methods, and `airlock scan --behavior` draws them on stderr.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol


class Progress(Protocol):
    def begin(self, phase: str, classes: Sequence[int], steps: int) -> None:
        """A phase (a trigger family, a synthesis, a token search) starts for these classes."""

    def step(self, phase: str, sizes: Mapping[int, float]) -> None:
        """One optimisation step for the classes in `sizes`, with each class's current trigger size."""

    def drop(self, phase: str, classes: Sequence[int]) -> None:
        """The schedule stopped optimising these classes."""

    def end(self, phase: str) -> None:
        """The phase is over."""
