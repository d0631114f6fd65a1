"""A small, bounded protobuf wire-format reader for the graph scanners (ONNX, TF SavedModel).

It decodes only the wire format: tags, varints and length-delimited ranges over a buffer (usually
an mmap of the file, so nothing large is copied). Which field holds which message is the caller's
business. Every read is bounded: a field budget, a deadline and a nesting depth; a malformed or
hostile buffer raises `ParseError` (`LimitExceeded` at a bound), never anything else. Fields of a
wire type the caller does not expect are skipped, as protobuf parsers do with unknown fields.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from .buffers import Buffer
from .errors import ParseError
from .limits import Budget

VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5


class Field(NamedTuple):
    number: int
    wire: int
    value: int  # the integer for VARINT/FIXED*, the start offset for LENGTH
    end: int  # the end offset for LENGTH (exclusive), else the offset after the field


def varint(buf: Buffer, pos: int, end: int) -> tuple[int, int]:
    """The varint at `pos` and the offset after it."""
    value = shift = 0
    while pos < end:
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
        if shift >= 70:
            break
    raise ParseError("truncated or overlong varint", pos)


def fields(buf: Buffer, start: int, end: int, budget: Budget) -> Iterator[Field]:
    """The fields of the message occupying `buf[start:end]`, in order."""
    pos = start
    while pos < end:
        budget.step(pos)
        key, pos = varint(buf, pos, end)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise ParseError("field number 0", pos)
        if wire == VARINT:
            value, pos = varint(buf, pos, end)
            yield Field(number, wire, value, pos)
        elif wire == LENGTH:
            length, pos = varint(buf, pos, end)
            if length > end - pos:  # hand over what is there, so a truncated file is judged up to the cut
                yield Field(number, wire, pos, end)
                raise ParseError(
                    f"field {number} runs past its message ({length} bytes, {end - pos} left)", pos
                )
            yield Field(number, wire, pos, pos + length)
            pos += length
        elif wire in (FIXED64, FIXED32):
            size = 8 if wire == FIXED64 else 4
            if pos + size > end:
                raise ParseError(f"truncated fixed-width field {number}", pos)
            yield Field(number, wire, int.from_bytes(buf[pos : pos + size], "little"), pos + size)
            pos += size
        else:
            raise ParseError(f"unsupported wire type {wire} (field {number})", pos)


def text(buf: Buffer, item: Field, limit: int = 4096) -> str:
    """A length-delimited field as text (UTF-8, undecodable bytes replaced), cut at `limit` bytes."""
    return bytes(buf[item.value : min(item.end, item.value + limit)]).decode("utf-8", errors="replace")


def strings(buf: Buffer, start: int, end: int, number: int, budget: Budget, limit: int = 4096) -> list[str]:
    """Every length-delimited field `number` of the message `buf[start:end]`, as text."""
    return [
        text(buf, f, limit)
        for f in fields(buf, start, end, budget)
        if f.number == number and f.wire == LENGTH
    ]
