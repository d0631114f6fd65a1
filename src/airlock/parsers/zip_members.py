"""Zip archives read the way loaders read them, over a byte buffer, with every anomaly noted.

The central directory is found from the end record (and its zip64 record) the way Python's
`zipfile` and PyTorch's miniz reader find it, so any prefix before the archive is allowed. A
member's bytes are located from the directory to its local header; CRCs and local headers are
compared with the directory but never trusted or required (PyTorch does not check them either):
a disagreement is an anomaly to report, not a reason to skip the member. Decompression is
bounded by the caller through `iter_member`.
"""

from __future__ import annotations

import bz2
import mmap
import os
import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ._pickle_walk import Buffer

MAX_DIRECTORY_ENTRIES = 1_000_000  # a PyTorch zip holds one storage record per tensor
OUTPUT_CHUNK = 1 << 20  # at most this many decompressed bytes per step
INPUT_CHUNK = 1 << 16

_EOCD = b"PK\x05\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_EOCD = b"PK\x06\x06"
_CENTRAL = b"PK\x01\x02"
_LOCAL = b"PK\x03\x04"
_CENTRAL_ENTRY = struct.Struct("<4sBBBBHHHHIIIHHHHHII")
_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
REFUSED_FLAGS = {0x1: "encrypted", 0x20: "compressed patched data", 0x40: "strong encryption"}
METHODS = {0: "stored", 8: "deflate", 12: "bzip2"}


class ZipReadError(Exception):
    """The archive, or one member of it, cannot be read the way a loader would read it."""


@dataclass(frozen=True, slots=True)
class Member:
    name: str
    method: int
    compressed_size: int
    size: int
    crc: int
    header_offset: int  # absolute: the prefix is included
    flags: int = 0
    external_attr: int = 0
    create_system: int = 0

    @property
    def is_dir(self) -> bool:
        return self.name.endswith("/")

    @property
    def is_symlink(self) -> bool:
        return self.create_system == 3 and (self.external_attr >> 16) & 0o170000 == 0o120000


@dataclass(frozen=True, slots=True)
class Directory:
    members: tuple[Member, ...]
    prefix: int  # bytes before the archive proper (a self-extractor stub, or a polyglot's other half)
    anomalies: tuple[str, ...]


def read_directory(buf: Buffer) -> Directory:
    """The central directory of the zip archive that ends `buf`."""
    size = len(buf)
    search_from = max(0, size - (65535 + 22))
    at = buf.rfind(_EOCD, search_from)
    while at >= 0 and size - at < 22:
        at = buf.rfind(_EOCD, search_from, at)
    if at < 0:
        raise ZipReadError("no end-of-central-directory record")
    _, _, _, _, entries, cd_size, cd_offset, _ = struct.unpack_from("<4sHHHHIIH", buf, at)
    record_at = at
    loc = at - 20
    if loc >= 0 and buf[loc : loc + 4] == _ZIP64_LOCATOR and loc - 56 >= 0 and buf[loc - 56 : loc - 52] == _ZIP64_EOCD:
        record_at = loc - 56
        entries, cd_size, cd_offset = struct.unpack_from("<QQQ", buf, record_at + 32)
    if entries > MAX_DIRECTORY_ENTRIES:
        raise ZipReadError(f"the directory declares {entries} entries (limit {MAX_DIRECTORY_ENTRIES})")
    cd_start = record_at - cd_size
    prefix = cd_start - cd_offset
    if cd_start < 0 or prefix < 0:
        raise ZipReadError("the central directory lies outside the file")
    members, anomalies = _central_entries(buf, cd_start, record_at, prefix)
    if len(members) != entries:
        anomalies.append(f"the end record declares {entries} entries, the directory holds {len(members)}")
    return Directory(tuple(members), prefix, tuple(anomalies))


def _central_entries(buf: Buffer, pos: int, end: int, prefix: int) -> tuple[list[Member], list[str]]:
    members: list[Member] = []
    anomalies: list[str] = []
    while pos + 46 <= end and buf[pos : pos + 4] == _CENTRAL:
        (_, _, system, _, _, flags, method, _, _, crc, csize, usize, nlen, xlen, clen, _, _, external, offset) = (
            _CENTRAL_ENTRY.unpack_from(buf, pos)
        )
        raw_name = buf[pos + 46 : pos + 46 + nlen]
        extra = buf[pos + 46 + nlen : pos + 46 + nlen + xlen]
        usize, csize, offset = _zip64_fields(extra, usize, csize, offset)
        name = raw_name.decode("utf-8" if flags & 0x800 else "cp437", errors="replace")
        members.append(Member(name, method, csize, usize, crc, offset + prefix, flags, external, system))
        pos += 46 + nlen + xlen + clen
        if len(members) > MAX_DIRECTORY_ENTRIES:
            break
    if pos < end:
        anomalies.append(f"{end - pos} bytes of the central directory are not directory entries")
    return members, anomalies


def _zip64_fields(extra: bytes, usize: int, csize: int, offset: int) -> tuple[int, int, int]:
    pos = 0
    while pos + 4 <= len(extra):
        tag, length = struct.unpack_from("<HH", extra, pos)
        if tag == 0x0001:
            values = extra[pos + 4 : pos + 4 + length]
            cursor = 0
            fields = [usize, csize, offset]
            for i, value in enumerate(fields):
                if value == 0xFFFFFFFF and cursor + 8 <= len(values):
                    fields[i] = struct.unpack_from("<Q", values, cursor)[0]
                    cursor += 8
            return fields[0], fields[1], fields[2]
        pos += 4 + length
    return usize, csize, offset


def locate(buf: Buffer, member: Member) -> tuple[int, int, list[str]]:
    """(start, end) of the member's stored bytes, and how its local header disagrees with the directory."""
    at = member.header_offset
    if at < 0 or at + 30 > len(buf) or buf[at : at + 4] != _LOCAL:
        raise ZipReadError(f"{member.name}: no local header at offset {at}")
    _, _, flags, method, _, _, crc, csize, _, nlen, xlen = _LOCAL_HEADER.unpack_from(buf, at)
    local_name = buf[at + 30 : at + 30 + nlen].decode("utf-8" if flags & 0x800 else "cp437", errors="replace")
    start = at + 30 + nlen + xlen
    end = start + member.compressed_size
    if end > len(buf):
        raise ZipReadError(f"{member.name}: its data runs past the end of the file")
    anomalies: list[str] = []
    if local_name != member.name:
        anomalies.append(f"the local header names it {local_name!r}")
    if method != member.method:
        anomalies.append(f"the local header says compression method {method}, the directory {member.method}")
    for bit, what in REFUSED_FLAGS.items():
        if (flags | member.flags) & bit:
            anomalies.append(f"flag bit {bit:#x} ({what}) is set: strict readers refuse the member")
    if not flags & 0x8 and (crc, csize) != (member.crc, member.compressed_size) and csize != 0xFFFFFFFF:
        anomalies.append("the local header's CRC or size differs from the directory's")
    return start, end, anomalies


def iter_member(buf: Buffer, member: Member, start: int, end: int) -> Iterator[bytes]:
    """The member's decompressed bytes in chunks of at most OUTPUT_CHUNK; the caller bounds the total."""
    if member.method == 0:
        for at in range(start, end, OUTPUT_CHUNK):
            yield buf[at : min(end, at + OUTPUT_CHUNK)]
        return
    if member.method == 8:
        inflater = zlib.decompressobj(-15)
        try:
            for at in range(start, end, INPUT_CHUNK):
                data = buf[at : min(end, at + INPUT_CHUNK)]
                while data:
                    out = inflater.decompress(data, OUTPUT_CHUNK)
                    data = inflater.unconsumed_tail
                    if out:
                        yield out
            tail = inflater.flush()
        except zlib.error as exc:
            raise ZipReadError(f"{member.name}: deflate error: {exc}") from None
        if tail:
            yield tail
        return
    if member.method == 12:
        unbz = bz2.BZ2Decompressor()
        try:
            for at in range(start, end, INPUT_CHUNK):
                out = unbz.decompress(buf[at : min(end, at + INPUT_CHUNK)], OUTPUT_CHUNK)
                while True:
                    if out:
                        yield out
                    if unbz.needs_input or unbz.eof:
                        break
                    out = unbz.decompress(b"", OUTPUT_CHUNK)
        except (OSError, ValueError, EOFError) as exc:
            raise ZipReadError(f"{member.name}: bzip2 error: {exc}") from None
        return
    raise ZipReadError(f"{member.name}: compression method {member.method} is not supported")


def read_bounded(buf: Buffer, member: Member, *, max_bytes: int) -> tuple[bytes, list[str]]:
    """All of a member's bytes (at most `max_bytes`), with its anomalies (a CRC mismatch among them)."""
    start, end, anomalies = locate(buf, member)
    chunks: list[bytes] = []
    total = 0
    for chunk in iter_member(buf, member, start, end):
        total += len(chunk)
        if total > max_bytes:
            raise ZipReadError(f"{member.name}: larger than {max_bytes} bytes when decompressed")
        chunks.append(chunk)
    data = b"".join(chunks)
    crc = zlib.crc32(data)
    if crc != member.crc:
        anomalies.append(f"CRC mismatch: the directory says {member.crc:08x}, the bytes give {crc:08x}")
    return data, anomalies


@contextmanager
def mapped(path: Path) -> Iterator[Buffer]:
    """The file's bytes, memory-mapped read-only (pages are read only where a parser looks)."""
    with open(path, "rb") as fh:
        if os.fstat(fh.fileno()).st_size == 0:
            yield b""
            return
        view = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    try:
        yield view
    finally:
        view.close()


# Path-based helpers for scanners that need one or two members of a zip on disk.


def members(path: Path) -> tuple[list[Member], int]:
    """The central directory entries of a zip file (any prefix allowed) and the prefix length."""
    with mapped(path) as buf:
        directory = read_directory(buf)
    return list(directory.members), directory.prefix


def read_member(path: Path, member: Member, *, max_bytes: int) -> tuple[bytes, list[str]]:
    """A member's bytes (decompressed, at most `max_bytes`) and the anomalies a strict reader would reject."""
    with mapped(path) as buf:
        return read_bounded(buf, member, max_bytes=max_bytes)
