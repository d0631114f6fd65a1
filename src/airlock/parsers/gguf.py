"""GGUF metadata reader: a bounded, read-only parse of the header (key-values and tensor infos).

It follows llama.cpp's `gguf_init_from_file` (ggml/src/gguf.cpp) rule for rule, so that what it
calls malformed is what llama.cpp refuses, and it checks every count and length against the bytes
that are actually left in the file before it trusts it: the published GGUF heap overflows
(ggml#709, CVE-2025-53630, CVE-2026-27940) are counts and lengths that ask for more than is there.
Numeric arrays are skipped, not read; tensor data is never read. Versions 1 to 3, either byte order.
"""

from __future__ import annotations

import enum
import functools
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

MAGIC = b"GGUF"
MAX_STRING_LENGTH = 1 << 30  # llama.cpp's GGUF_MAX_STRING_LENGTH
MAX_ARRAY_ELEMENTS = 1 << 30  # GGUF_MAX_ARRAY_ELEMENTS
MAX_NAME = 64  # GGML_MAX_NAME: a tensor name must be shorter
MAX_DIMS = 4
DEFAULT_ALIGNMENT = 32
INT64_MAX = (1 << 63) - 1
SIZE_MAX = (1 << 64) - 1
CHUNK = 1 << 20

STRING, ARRAY = 8, 9
SCALARS = {
    0: "B",
    1: "b",
    2: "H",
    3: "h",
    4: "I",
    5: "i",
    6: "f",
    7: "B",
    10: "Q",
    11: "q",
    12: "d",
}  # type -> struct
UINT32 = 4
# ggml type -> (block size, bytes per block), as gguf-py's GGML_QUANT_SIZES; absent ids were removed.
GGML_TYPES: dict[int, tuple[int, int]] = {
    0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34), 9: (32, 40),
    10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176), 14: (256, 210), 15: (256, 292),
    16: (256, 66), 17: (256, 74), 18: (256, 98), 19: (256, 50), 20: (32, 18), 21: (256, 110), 22: (256, 82),
    23: (256, 136), 24: (1, 1), 25: (1, 2), 26: (1, 4), 27: (1, 8), 28: (1, 8), 29: (256, 56), 30: (1, 2),
    34: (256, 54), 35: (256, 66), 39: (32, 17), 40: (64, 36), 41: (128, 18),
}  # fmt: skip


class Fault(enum.StrEnum):
    MALFORMED = (
        "malformed"  # llama.cpp refuses it: truncated, bad version or type, duplicates, bad tensor info
    )
    ABSURD = (
        "absurd"  # a count or length beyond what the file holds or llama.cpp allows: the heap-overflow shape
    )
    LIMIT = "limit"  # beyond airlock's own parsing bounds: not vetted


@dataclass(frozen=True, slots=True)
class Problem:
    fault: Fault
    where: str  # "header", "metadata:<key>", "tensor:<name>"
    message: str


@dataclass(frozen=True, slots=True)
class KeyValue:
    key: str
    type: int  # the value type; ARRAY for arrays
    value: str | int | float | None  # scalars and strings; None for arrays
    count: int | None = None  # array length


@dataclass(frozen=True, slots=True)
class Tensor:
    name: str
    dims: tuple[int, ...]
    ggml_type: int
    offset: int  # relative to the data section
    nbytes: int


@dataclass(frozen=True)
class Header:
    version: int
    kvs: tuple[KeyValue, ...]  # as far as they could be read, even when `problem` is set
    tensors: tuple[Tensor, ...]
    alignment: int
    end: int  # where the tensor infos end (the data section starts at the next multiple of `alignment`)
    problem: Problem | None

    def strings(self, key: str) -> Iterator[KeyValue]:
        """Key-values named `key` or `key.<suffix>`."""
        return (kv for kv in self.kvs if kv.key == key or kv.key.startswith(key + "."))


class _Stop(Exception):
    def __init__(self, fault: Fault, where: str, message: str) -> None:
        super().__init__(message)
        self.problem = Problem(fault, where, message)


@dataclass
class _Reader:
    fh: BinaryIO
    size: int
    limit: int  # bytes of header airlock is willing to read
    order: str = "<"
    wide: bool = True  # v2+: 64-bit counts and lengths; v1: 32-bit
    pos: int = 0
    _buffer: bytes = b""
    _start: int = 0
    where: str = "header"

    @property
    def left(self) -> int:
        return self.size - self.pos

    def _window(self, n: int) -> int:
        """Make bytes [pos, pos + n) available in the buffer; return where they start in it."""
        end = self.pos + n
        if end > self.size:
            raise _Stop(
                Fault.MALFORMED,
                self.where,
                f"truncated: {n} bytes needed at byte {self.pos}, file ends at {self.size}",
            )
        if end > self.limit:
            raise _Stop(
                Fault.LIMIT, self.where, f"header runs past airlock's {self.limit}-byte parsing limit"
            )
        if not (self._start <= self.pos and end <= self._start + len(self._buffer)):
            self.fh.seek(self.pos)
            self._buffer, self._start = self.fh.read(max(n, CHUNK)), self.pos
        return self.pos - self._start

    def take(self, n: int) -> bytes:
        offset = self._window(n)
        self.pos += n
        return self._buffer[offset : offset + n]

    def skip_strings(self, n: int) -> None:
        """Skip an array of `n` strings, checking each length (the hot loop of a 256K-token vocabulary)."""
        word = 8 if self.wide else 4
        unpack = struct.Struct(self.order + ("Q" if self.wide else "I")).unpack_from
        pos, buffer, start = self.pos, self._buffer, self._start
        for _ in range(n):
            if pos < start or pos - start + word > len(buffer):
                self.pos = pos
                self._window(word)
                buffer, start = self._buffer, self._start
            (length,) = unpack(buffer, pos - start)
            pos += word
            if length > MAX_STRING_LENGTH or pos + length > self.size:
                self.pos = pos
                raise _Stop(
                    Fault.ABSURD,
                    self.where,
                    f"string length {length} exceeds the {min(self.left, MAX_STRING_LENGTH)} bytes allowed here",
                )
            pos += length
        self.pos = pos
        if pos > self.limit:
            raise _Stop(
                Fault.LIMIT, self.where, f"header runs past airlock's {self.limit}-byte parsing limit"
            )

    def skip(self, n: int) -> None:
        if n > self.left:
            raise _Stop(
                Fault.ABSURD, self.where, f"{n} bytes of values declared, only {self.left} left in the file"
            )
        if self.pos + n > self.limit:
            raise _Stop(
                Fault.LIMIT, self.where, f"header runs past airlock's {self.limit}-byte parsing limit"
            )
        self.pos += n

    def unpack(self, code: str) -> int | float:
        return struct.unpack(self.order + code, self.take(struct.calcsize(code)))[0]

    def count(self) -> int:
        return int(self.unpack("Q" if self.wide else "I"))

    def raw_string(self) -> bytes:
        length = self.count()
        if length > MAX_STRING_LENGTH or length > self.left:
            allowed = min(self.left, MAX_STRING_LENGTH)
            raise _Stop(
                Fault.ABSURD, self.where, f"string length {length} exceeds the {allowed} bytes allowed here"
            )
        return self.take(length)

    def string(self) -> str:
        return self.raw_string().decode("utf-8", errors="replace")


@functools.lru_cache(maxsize=8)
def read_header(location: Path, size: int, sha256: str, *, limit: int, max_entries: int) -> Header:
    """The header of the GGUF file at `location` (cached by content: two scanners read the same file)."""
    del sha256  # part of the cache key only
    with open(location, "rb") as fh:
        return parse(fh, size, limit=limit, max_entries=max_entries)


def parse(fh: BinaryIO, size: int, *, limit: int, max_entries: int) -> Header:
    reader = _Reader(fh, size, limit)
    state = _State()
    try:
        _header(reader, state, max_entries)
    except _Stop as stop:
        state.problem = stop.problem
    return Header(
        state.version, tuple(state.kvs), tuple(state.tensors), state.alignment, reader.pos, state.problem
    )


@dataclass
class _State:
    version: int = 0
    kvs: list[KeyValue] = field(default_factory=list)
    tensors: list[Tensor] = field(default_factory=list)
    alignment: int = DEFAULT_ALIGNMENT
    problem: Problem | None = None


def _header(r: _Reader, state: _State, max_entries: int) -> None:
    if r.take(4) != MAGIC:
        raise _Stop(Fault.MALFORMED, "header", "no GGUF magic")
    raw = r.take(4)
    little, big = struct.unpack("<I", raw)[0], struct.unpack(">I", raw)[0]
    if not (1 <= little <= 3 or 1 <= big <= 3):
        raise _Stop(Fault.MALFORMED, "header", f"unsupported GGUF version {little}")
    r.order = "<" if 1 <= little <= 3 else ">"
    state.version = little if r.order == "<" else big
    r.wide = state.version >= 2
    n_tensors, n_kv = r.count(), r.count()
    word = 8 if r.wide else 4
    _plausible("tensor count", n_tensors, r.left, word + 1 + 4 + 4 + 8, max_entries)
    _plausible("key-value count", n_kv, r.left, word + 1 + 4 + 1, max_entries)
    seen: set[str] = set()
    for index in range(n_kv):
        r.where = f"metadata:#{index}"
        key = r.string()
        r.where = f"metadata:{key}"
        if not key or key in seen:
            raise _Stop(Fault.MALFORMED, r.where, "empty key" if not key else f"duplicate key {key!r}")
        seen.add(key)
        state.kvs.append(_value(r, key, max_entries))
    state.alignment = _alignment(state.kvs)
    names: set[str] = set()
    for index in range(n_tensors):
        r.where = f"tensor:#{index}"
        state.tensors.append(_tensor(r, names))


def _plausible(what: str, n: int, left: int, smallest: int, max_entries: int) -> None:
    if n > INT64_MAX or n * smallest > left:
        raise _Stop(Fault.ABSURD, "header", f"{what} {n} cannot fit in the {left} bytes that follow")
    if n > max_entries:
        raise _Stop(Fault.LIMIT, "header", f"{what} {n} is over airlock's limit of {max_entries}")


def _value(r: _Reader, key: str, max_entries: int) -> KeyValue:
    kind = int(r.unpack("I"))
    if kind == STRING:
        return KeyValue(key, kind, r.string())
    if kind in SCALARS:
        return KeyValue(key, kind, r.unpack(SCALARS[kind]))
    if kind != ARRAY:
        raise _Stop(Fault.MALFORMED, r.where, f"unknown value type {kind}")
    element, n = int(r.unpack("I")), r.count()
    if n > MAX_ARRAY_ELEMENTS:
        raise _Stop(
            Fault.ABSURD, r.where, f"array of {n} elements, over llama.cpp's maximum of {MAX_ARRAY_ELEMENTS}"
        )
    if element == STRING:
        if n * (8 if r.wide else 4) > r.left:
            raise _Stop(
                Fault.ABSURD, r.where, f"array of {n} strings cannot fit in the {r.left} bytes that follow"
            )
        if n > max_entries:
            raise _Stop(
                Fault.LIMIT, r.where, f"array of {n} strings is over airlock's limit of {max_entries}"
            )
        r.skip_strings(n)
    elif element in SCALARS:
        r.skip(n * struct.calcsize(SCALARS[element]))
    else:
        what = "nested arrays" if element == ARRAY else f"unknown element type {element}"
        raise _Stop(Fault.MALFORMED, r.where, f"{what} (llama.cpp refuses them)")
    return KeyValue(key, ARRAY, None, n)


def _alignment(kvs: list[KeyValue]) -> int:
    found = next((kv for kv in kvs if kv.key == "general.alignment"), None)
    if found is None:
        return DEFAULT_ALIGNMENT
    value = found.value
    if found.type != UINT32 or not isinstance(value, int) or value == 0 or value & (value - 1):
        raise _Stop(
            Fault.MALFORMED,
            "metadata:general.alignment",
            f"alignment must be a power-of-two uint32, got {value!r}",
        )
    return value


def _tensor(r: _Reader, names: set[str]) -> Tensor:
    raw = r.raw_string()
    name = raw.decode("utf-8", errors="replace")
    r.where = f"tensor:{name}"
    if len(raw) >= MAX_NAME or name in names:
        problem = (
            "duplicate tensor name"
            if name in names
            else f"name of {len(raw)} bytes (llama.cpp allows {MAX_NAME - 1})"
        )
        raise _Stop(Fault.MALFORMED, r.where, problem)
    names.add(name)
    n_dims = int(r.unpack("I"))
    if n_dims > MAX_DIMS:
        raise _Stop(
            Fault.MALFORMED,
            r.where,
            f"{n_dims} dimensions (at most {MAX_DIMS}; more overflowed llama.cpp's ne[4], ggml#709)",
        )
    dims = tuple(r.count() for _ in range(n_dims))
    if any(d > INT64_MAX for d in dims):
        raise _Stop(Fault.MALFORMED, r.where, f"negative dimension in {dims}")
    elements = 1
    for d in dims:
        elements *= d
    if elements > INT64_MAX:
        raise _Stop(
            Fault.ABSURD, r.where, f"shape {list(dims)} has more than 2^63 elements (integer overflow)"
        )
    ggml_type = int(r.unpack("i"))
    block, type_size = GGML_TYPES.get(ggml_type, (0, 0))
    if not block:
        raise _Stop(Fault.MALFORMED, r.where, f"unknown or removed ggml type {ggml_type}")
    row = dims[0] if dims else 1
    if row % block:
        raise _Stop(
            Fault.MALFORMED, r.where, f"rows of {row} elements are not a multiple of the block size {block}"
        )
    nbytes = elements // block * type_size
    if nbytes > SIZE_MAX:
        raise _Stop(
            Fault.ABSURD, r.where, f"tensor of {nbytes} bytes does not fit a 64-bit size (integer overflow)"
        )
    offset = int(r.unpack("Q"))
    return Tensor(name, dims, ggml_type, offset, nbytes)
