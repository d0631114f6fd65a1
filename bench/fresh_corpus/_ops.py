"""Pickle opcode assembly for the fresh corpus (written independently of fixtures/pickles.py)."""

from __future__ import annotations

import io
import pickle
import struct
from collections.abc import Callable

P2 = b"\x80\x02"
P4 = b"\x80\x04"
P5 = b"\x80\x05"


class Call:
    """Pickles as `func(*args)`: the real pickler writes the REDUCE."""

    def __init__(self, func: Callable[..., object], *args: object) -> None:
        self.func, self.args = func, args

    def __reduce__(self) -> tuple[Callable[..., object], tuple[object, ...]]:
        return self.func, self.args


def dumps(value: object, protocol: int = 4) -> bytes:
    return pickle.dumps(value, protocol=protocol)


def s(text: str) -> bytes:
    """A unicode string push (SHORT_BINUNICODE or BINUNICODE)."""
    raw = text.encode()
    if len(raw) < 256:
        return b"\x8c" + bytes([len(raw)]) + raw
    return b"X" + struct.pack("<I", len(raw)) + raw


def glob(module: str, name: str) -> bytes:
    """Text GLOBAL opcode (any protocol)."""
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def sglob(module: str, name: str) -> bytes:
    """STACK_GLOBAL from two pushed strings (protocol 4 resolves dotted names)."""
    return s(module) + s(name) + b"\x93"


def lit(value: object) -> bytes:
    """Opcodes pushing `value` (protocol 3, no memo, no PROTO/STOP), for splicing into a hand-built pickle."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=3)
    pickler.fast = True
    pickler.dump(value)
    return buffer.getvalue()[2:-1]


def call(func: bytes, *args: bytes) -> bytes:
    """`func(*args)`: MARK args TUPLE REDUCE."""
    return func + b"(" + b"".join(args) + b"tR"
