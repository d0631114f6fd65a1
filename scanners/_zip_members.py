"""Read zip members the way loaders do: from the central directory to each local header, tolerating
wrong CRCs and flags (PyTorch's reader does not check them), with bounded decompression.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from airlock.formats import TAIL_BYTES, zip_directory


@dataclass(frozen=True, slots=True)
class Member:
    name: str
    method: int
    compressed_size: int
    size: int
    crc: int
    header_offset: int  # absolute, prefix included


class ZipReadError(Exception):
    pass


def members(path: Path) -> tuple[list[Member], int]:
    """The central directory entries of a zip file (any prefix allowed) and the prefix length."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        fh.seek(max(0, size - TAIL_BYTES))
        tail = fh.read()

        def read_at(offset: int, length: int) -> bytes:
            fh.seek(offset)
            return fh.read(length)

        directory = zip_directory(tail, size, read_at)
        if directory is None:
            raise ZipReadError("no readable central directory")
        out: list[Member] = []
        eocd = tail.rfind(b"PK\x05\x06")
        _, _, _, _, entries, cd_size, cd_offset, _ = struct.unpack("<4sHHHHIIH", tail[eocd : eocd + 22])
        blob = read_at(cd_offset + directory.prefix, cd_size) if cd_size != 0xFFFFFFFF else b""
        pos = 0
        while pos + 46 <= len(blob) and blob[pos : pos + 4] == b"PK\x01\x02":
            (method, _, _, crc, csize, usize, nlen, xlen, clen) = struct.unpack("<HHHIIIHHH", blob[pos + 10 : pos + 34])
            (offset,) = struct.unpack("<I", blob[pos + 42 : pos + 46])
            name = blob[pos + 46 : pos + 46 + nlen].decode("utf-8", errors="replace")
            out.append(Member(name, method, csize, usize, crc, offset + directory.prefix))
            pos += 46 + nlen + xlen + clen
        if not out:
            out = [Member(n, -1, 0, 0, 0, -1) for n in directory.names]
        return out, directory.prefix


def read_member(path: Path, member: Member, *, max_bytes: int) -> tuple[bytes, list[str]]:
    """The member's bytes (decompressed, at most `max_bytes`) and any anomalies a strict reader would reject."""
    anomalies: list[str] = []
    with open(path, "rb") as fh:
        fh.seek(member.header_offset)
        header = fh.read(30)
        if len(header) < 30 or header[:4] != b"PK\x03\x04":
            raise ZipReadError(f"{member.name}: no local header at offset {member.header_offset}")
        (flags, method, _, _, crc, csize, usize, nlen, xlen) = struct.unpack("<HHHHIIIHH", header[6:30])
        if method != member.method and member.method != -1:
            anomalies.append(f"compression method differs between local header ({method}) and directory ({member.method})")
        if flags & 0x1:
            anomalies.append("encrypted flag set")
        fh.seek(member.header_offset + 30 + nlen + xlen)
        compressed = member.compressed_size if member.method != -1 else csize
        raw = fh.read(min(compressed, max_bytes + 1) if method == 0 else compressed)
    if method == 0:
        data = raw[:max_bytes]
    elif method == 8:
        inflater = zlib.decompressobj(-15)
        try:
            data = inflater.decompress(raw, max_bytes + 1)
        except zlib.error as exc:
            raise ZipReadError(f"{member.name}: deflate error: {exc}") from None
    else:
        raise ZipReadError(f"{member.name}: unsupported compression method {method}")
    if len(data) > max_bytes:
        raise ZipReadError(f"{member.name}: larger than {max_bytes} bytes when decompressed")
    if zlib.crc32(data) != member.crc and member.method != -1:
        anomalies.append(f"CRC mismatch (directory says {member.crc:08x}, bytes give {zlib.crc32(data):08x})")
    return data, anomalies
