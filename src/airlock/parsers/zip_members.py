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
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .buffers import Buffer, mapped
from .errors import LimitExceeded, ParseError
from .limits import DEFAULT_LIMITS

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

Reader = Callable[[int, int], bytes]  # (offset, length) -> bytes, bounded by the caller


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


def read_directory(buf: Buffer, max_entries: int = DEFAULT_LIMITS.max_entries) -> Directory:
    """The central directory of the zip archive that ends `buf`."""
    size = len(buf)
    search_from = max(0, size - (65535 + 22))
    at = buf.rfind(_EOCD, search_from)
    while at >= 0 and size - at < 22:
        at = buf.rfind(_EOCD, search_from, at)
    if at < 0:
        raise ParseError("no end-of-central-directory record")
    _, _, _, _, entries, cd_size, cd_offset, _ = struct.unpack_from("<4sHHHHIIH", buf, at)
    record_at = at
    loc = at - 20
    if (
        loc >= 0
        and buf[loc : loc + 4] == _ZIP64_LOCATOR
        and loc - 56 >= 0
        and buf[loc - 56 : loc - 52] == _ZIP64_EOCD
    ):
        record_at = loc - 56
        entries, cd_size, cd_offset = struct.unpack_from("<QQQ", buf, record_at + 32)
    if entries > max_entries:  # a PyTorch zip holds one storage record per tensor
        raise LimitExceeded(f"the directory declares {entries} entries (limit {max_entries})")
    cd_start = record_at - cd_size
    prefix = cd_start - cd_offset
    if cd_start < 0 or prefix < 0:
        raise ParseError("the central directory lies outside the file")
    members, anomalies = central_entries(buf, cd_start, record_at, prefix, max_entries)
    if len(members) != entries:
        anomalies.append(f"the end record declares {entries} entries, the directory holds {len(members)}")
    return Directory(tuple(members), prefix, tuple(anomalies))


def central_entries(
    buf: Buffer, pos: int, end: int, prefix: int, max_entries: int
) -> tuple[list[Member], list[str]]:
    """The directory records in `buf[pos:end]` (at most `max_entries` + 1), and the bytes after them that are not records."""
    members: list[Member] = []
    anomalies: list[str] = []
    while pos + 46 <= end and buf[pos : pos + 4] == _CENTRAL:
        (
            _,
            _,
            system,
            _,
            _,
            flags,
            method,
            _,
            _,
            crc,
            csize,
            usize,
            nlen,
            xlen,
            clen,
            _,
            _,
            external,
            offset,
        ) = _CENTRAL_ENTRY.unpack_from(buf, pos)
        raw_name = buf[pos + 46 : pos + 46 + nlen]
        extra = buf[pos + 46 + nlen : pos + 46 + nlen + xlen]
        usize, csize, offset = _zip64_fields(extra, usize, csize, offset)
        name = raw_name.decode("utf-8" if flags & 0x800 else "cp437", errors="replace")
        members.append(Member(name, method, csize, usize, crc, offset + prefix, flags, external, system))
        pos += 46 + nlen + xlen + clen
        if len(members) > max_entries:
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
        raise ParseError(f"{member.name}: no local header at offset {at}")
    _, _, flags, method, _, _, crc, csize, _, nlen, xlen = _LOCAL_HEADER.unpack_from(buf, at)
    local_name = buf[at + 30 : at + 30 + nlen].decode("utf-8" if flags & 0x800 else "cp437", errors="replace")
    start = at + 30 + nlen + xlen
    end = start + member.compressed_size
    if end > len(buf):
        raise ParseError(f"{member.name}: its data runs past the end of the file")
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
            raise ParseError(f"{member.name}: deflate error: {exc}") from None
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
            raise ParseError(f"{member.name}: bzip2 error: {exc}") from None
        return
    raise ParseError(f"{member.name}: compression method {member.method} is not supported")


def read_bounded(buf: Buffer, member: Member, *, max_bytes: int) -> tuple[bytes, list[str]]:
    """All of a member's bytes (at most `max_bytes`), with its anomalies (a CRC mismatch among them)."""
    start, end, anomalies = locate(buf, member)
    chunks: list[bytes] = []
    total = 0
    for chunk in iter_member(buf, member, start, end):
        total += len(chunk)
        if total > max_bytes:
            raise ParseError(f"{member.name}: larger than {max_bytes} bytes when decompressed")
        chunks.append(chunk)
    data = b"".join(chunks)
    crc = zlib.crc32(data)
    if crc != member.crc:
        anomalies.append(f"CRC mismatch: the directory says {member.crc:08x}, the bytes give {crc:08x}")
    return data, anomalies


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


# Sniffing: the member names of a zip from the bytes the hashing pass holds (its tail), for `formats.detect`.


@dataclass(frozen=True, slots=True)
class ZipDirectory:
    """Names from a zip central directory, and where the archive starts (non-zero for prefixed zips)."""

    names: tuple[str, ...]
    prefix: int


def zip_directory(tail: bytes, size: int, read: Reader | None = None) -> ZipDirectory | None:
    """Parse the central directory the way loaders do: from the end-of-central-directory record back.

    Returns None when the bytes hold no usable end record. Any prefix before the archive is allowed.
    """
    at = tail.rfind(_EOCD, max(0, len(tail) - (65535 + 22)))
    while at >= 0 and len(tail) - at < 22:
        at = tail.rfind(_EOCD, 0, at)
    if at < 0:
        return None
    (_, _, _, _, entries, cd_size, cd_offset, _) = struct.unpack("<4sHHHHIIH", tail[at : at + 22])
    eocd_abs = size - len(tail) + at
    # Like Python's zipfile, use a zip64 end record whenever its locator is there, whatever the
    # 32-bit fields say: torch.save always writes one, so the directory ends 76 bytes before the EOCD.
    found = _zip64_directory(tail, at, size, read)
    if found is not None:
        entries, cd_size, cd_offset, eocd_abs = found
    if entries > DEFAULT_LIMITS.max_sniff_zip_entries or cd_size > DEFAULT_LIMITS.max_sniff_directory_bytes:
        return None
    cd_start = eocd_abs - cd_size  # where the directory actually is; differs from cd_offset by the prefix
    prefix = cd_start - cd_offset
    if cd_start < 0 or prefix < 0:
        return None
    tail_start = size - len(tail)
    if cd_start >= tail_start:
        blob = tail[cd_start - tail_start : cd_start - tail_start + cd_size]
    elif read is not None:
        blob = read(cd_start, cd_size)
    else:
        return None
    names = _central_names(blob, entries)
    if names is None:
        return None
    return ZipDirectory(names=tuple(names), prefix=prefix)


def _zip64_directory(
    tail: bytes, eocd_at: int, size: int, read: Reader | None
) -> tuple[int, int, int, int] | None:
    loc = eocd_at - 20
    if loc < 0 or tail[loc : loc + 4] != b"PK\x06\x07":
        return None
    (_, _, record_offset, _) = struct.unpack("<4sIQI", tail[loc : loc + 20])
    tail_start = size - len(tail)
    # the zip64 end record sits right before the locator; its stored offset ignores any prefix
    rec_at = loc - 56
    if rec_at < 0 or tail[rec_at : rec_at + 4] != b"PK\x06\x06":
        if read is None or record_offset >= size:
            return None
        record = read(record_offset, 56)
        rec_abs = record_offset
    else:
        record = tail[rec_at : rec_at + 56]
        rec_abs = tail_start + rec_at
    if len(record) < 56 or record[:4] != b"PK\x06\x06":
        return None
    (_, _, _, _, _, _, _, entries, cd_size, cd_offset) = struct.unpack("<4sQHHIIQQQQ", record[:56])
    return entries, cd_size, cd_offset, rec_abs


def _central_names(blob: bytes, entries: int) -> list[str] | None:
    found, _ = central_entries(blob, 0, len(blob), 0, entries)
    names = [member.name for member in found[:entries]]
    return names if len(names) == entries else names or None
