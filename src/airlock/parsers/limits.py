"""The bounds every reader honours (`Limits`) and what one artifact's reading has left of them (`Budget`).

An overrun raises `LimitExceeded`: the plug-in turns it into a finding, never a hang or a partial pass.
`airlock.scanning.Limits` is this class; a scan's `ScanContext.limits` is the one instance all its
readers consult. Constants that are facts of a format (llama.cpp's GGUF maxima, the .npy magic)
stay in their reader; bounds airlock chooses live here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from .errors import LimitExceeded


@dataclass(frozen=True)
class Limits:
    """Bounds every parser honours; an overrun is a finding, never a hang."""

    max_header_bytes: int = 100 << 20
    max_entries: int = 1_000_000  # also: zip central-directory records read
    max_depth: int = 64
    max_decompression_ratio: int = 200
    max_nesting: int = 4
    seconds_per_artifact: float = 120.0
    # containers (archives, compressed streams)
    max_member_bytes: int = 4 << 30  # one member or stream, decompressed
    max_total_bytes: int = 16 << 30  # decompressed, per artifact
    max_members: int = 100_000  # members read (raw tensor storages are not)
    # .npy
    max_npy_header: int = (
        1 << 16
    )  # np.load refuses more than 10000 bytes unless allow_pickle=True lifts the limit
    # format sniffing (on the bytes the hashing pass holds)
    max_sniff_directory_bytes: int = 64 << 20  # a bigger zip directory is not read for sniffing
    max_sniff_zip_entries: int = 200_000
    max_sniff_source_bytes: int = (
        1 << 20
    )  # Python/JSON files up to this size are parsed to confirm the format

    @property
    def max_steps(self) -> int:
        """Fields or opcodes one artifact's walk may read."""
        return self.max_entries * 20


DEFAULT_LIMITS = Limits()


@dataclass
class Budget:
    """What reading one artifact may still spend: steps (fields, opcodes), bytes, members, time and depth.

    Each reader spends what it counts; the messages name the reader's own unit, since they end up in findings.
    """

    limits: Limits = DEFAULT_LIMITS
    steps: int | None = None  # None: `limits.max_steps`
    deadline: float | None = None  # None: `limits.seconds_per_artifact` from now
    total: int = 0  # bytes decompressed
    members: int = 0  # container members read
    _ticks: int = field(default=0, repr=False)

    def __post_init__(self) -> None:
        if self.steps is None:
            self.steps = self.limits.max_steps
        if self.deadline is None:
            self.deadline = time.monotonic() + self.limits.seconds_per_artifact

    @property
    def seconds(self) -> float:
        return self.limits.seconds_per_artifact

    def expired(self) -> bool:
        assert self.deadline is not None
        return time.monotonic() > self.deadline

    # protobuf fields
    def step(self, offset: int) -> None:
        """One field read; the clock is checked every 4096."""
        assert self.steps is not None
        self.steps -= 1
        self._ticks += 1
        if self.steps < 0:
            raise LimitExceeded("field budget exhausted", offset)
        if not self._ticks & 0xFFF and self.expired():
            raise LimitExceeded(f"time budget of {self.seconds:.0f} s exhausted", offset)

    def nested(self, level: int, offset: int) -> None:
        if level > self.limits.max_depth:
            raise LimitExceeded(f"nesting deeper than {self.limits.max_depth}", offset)

    # containers
    def spend(self, n: int) -> None:
        """`n` more bytes decompressed."""
        self.total += n
        if self.total > self.limits.max_total_bytes:
            raise LimitExceeded(
                f"more than {self.limits.max_total_bytes} bytes decompressed from one artifact"
            )
        if self.expired():
            raise LimitExceeded(f"time limit of {self.seconds:g}s reached")

    def member(self) -> None:
        """One more container member read."""
        self.members += 1
        if self.members > self.limits.max_members:
            raise LimitExceeded(f"more than {self.limits.max_members} archive members")
        self.spend(0)
