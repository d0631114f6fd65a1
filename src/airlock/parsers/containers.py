"""Opens an artifact the way loaders open it and yields what is inside, bounded at every step.

`expand` walks zip (PyTorch, TorchScript, NumPy .npz, Keras and plain), tar, gzip, bzip2, xz,
zlib (joblib's too), zstd, lz4 and 7z containers, nested, whatever the files are called, and
yields three kinds of item:

- `Leaf`: bytes that a loader reads as a pickle, an .npy or TorchScript code, with where they
  came from (`model.tar.gz:[gzip]:model/data.pkl`);
- `Anomaly`: something about a container that loaders disagree on or that is hostile (a CRC or
  header that does not match, a prefix, duplicate or climbing names, links, bombs, nesting);
- `Opened`: a container that was opened (TorchScript archives are worth a note of their own).

Every file and member that is not text and not already a pickle is also yielded a second time as
a `Leaf` of role `at-zero`: its bytes from 0 as the pickle that `pickle.load`/`torch.load`/`joblib.load`
would read (a GGUF, HDF5 or tar with a pickle in front is both).

Only the members that can carry code are read: their format is sniffed from their first bytes,
and PyTorch storage records are never read. Small members stay in memory, large ones are spooled
to an anonymous temporary file and memory-mapped. Every limit overrun is an `Anomaly`, never an
exception and never a silent skip.
"""

from __future__ import annotations

import bz2
import collections
import functools
import gzip
import io
import itertools
import lzma
import mmap
import re
import tarfile
import tempfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO

from .buffers import Buffer
from .errors import LimitExceeded, ParseError
from .formats import (
    CONTAINERS,
    HEAD_BYTES,
    PICKLE_BASED,
    TAIL_BYTES,
    TEXTUAL,
    ZIP_FAMILY,
    Format,
    detect,
    native_kind,
)
from .limits import Budget, Limits
from .pickle_walk import OPCODES, unpickles_from_zero
from .zip_members import METHODS, Member, iter_member, locate, read_directory

SPILL_BYTES = 64 << 20  # members larger than this are spooled to a temporary file
BOMB_FLOOR = 64 << 20  # below this size a high compression ratio is just redundant data (masks, padding)
READ_CHUNK = 1 << 20

TORCH_ZIPS = frozenset({Format.PYTORCH_ZIP, Format.TORCHSCRIPT})
WORTH_READING = PICKLE_BASED | CONTAINERS | {Format.NUMPY}
_STREAMS = frozenset(
    {Format.GZIP, Format.BZIP2, Format.XZ, Format.ZLIB, Format.ZSTD, Format.LZ4, Format.LZMA}
)
_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass(frozen=True, slots=True)
class Leaf:
    where: str  # artifact path, then ":<member>" per container level
    fmt: Format
    head: bytes  # its first HEAD_BYTES
    size: int
    reader: Callable[[], tuple[Buffer, int, int]]  # all of its bytes: (buffer, start, end)
    role: str = "file"  # file | member | decompressed | prefix | torchscript-code
    container: Format | None = None  # the zip it is a member of
    member: str = ""  # its name in that zip
    siblings: frozenset[str] = frozenset()  # every member name of that zip

    def read(self) -> tuple[Buffer, int, int]:
        """All of the leaf's bytes. May raise `LimitExceeded` when they must be decompressed again."""
        return self.reader()


@dataclass(frozen=True, slots=True)
class Anomaly:
    kind: str  # crc | header | prefix | duplicate | path | link | limit | depth | unreadable | native
    where: str
    message: str
    evidence: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Opened:
    where: str
    fmt: Format


Item = Leaf | Anomaly | Opened


def expand(buf: Buffer, where: str, fmt: Format, limits: Limits) -> Iterator[Item]:
    """Everything inside one artifact (`buf` holds its bytes, `fmt` is its detected format)."""
    budget = Budget(limits)
    try:
        yield from _node(buf, 0, len(buf), where, fmt, 0, budget, "file", None, "", frozenset())
    except LimitExceeded as exc:
        yield Anomaly("limit", where, f"inspection stopped: {exc}")


def _node(
    buf: Buffer,
    start: int,
    end: int,
    where: str,
    fmt: Format,
    depth: int,
    budget: Budget,
    role: str,
    container: Format | None,
    member: str,
    siblings: frozenset[str],
) -> Iterator[Item]:
    if start < end and buf[start] in OPCODES and _also_a_pickle(fmt, role):
        yield _leaf(buf, start, end, where, Format.PICKLE, "at-zero", container, member, siblings)
    if fmt not in CONTAINERS:
        yield _leaf(buf, start, end, where, fmt, role, container, member, siblings)
        return
    if depth >= budget.limits.max_nesting:
        yield Anomaly(
            "depth",
            where,
            f"{fmt} container nested {depth} levels deep: not opened",
            {"depth": depth, "limit": budget.limits.max_nesting},
        )
        return
    if (start, end) != (0, len(buf)):
        buf = _own(buf, start, end)
    yield Opened(where, fmt)
    if fmt in ZIP_FAMILY:
        yield from _zip(buf, where, fmt, depth, budget)
    elif fmt is Format.TAR:
        yield from _tar(buf, where, depth, budget)
    elif fmt is Format.SEVEN_ZIP:
        yield from _seven_zip(buf, where, depth, budget)
    else:
        yield from _stream(buf, where, fmt, depth, budget)


# --- zip --------------------------------------------------------------------------------------


def _zip(buf: Buffer, where: str, fmt: Format, depth: int, budget: Budget) -> Iterator[Item]:
    try:
        directory = read_directory(buf, budget.limits.max_entries)
    except ParseError as exc:
        yield Anomaly("unreadable", where, f"zip directory unreadable: {exc}")
        return
    if directory.prefix:
        yield Anomaly(
            "prefix",
            where,
            f"{directory.prefix} bytes precede the zip archive",
            {"prefix_bytes": directory.prefix},
        )
    if buf[:2] != b"PK":  # torch.load sees no zip magic and unpickles the file from byte 0
        yield _leaf(buf, 0, len(buf), where, Format.PICKLE, "prefix", fmt, "", frozenset())
    for text in directory.anomalies:
        yield Anomaly("header", where, text)
    names = [m.name for m in directory.members]
    yield from _names(where, names)
    yield from _overlaps(where, directory.members)
    siblings = frozenset(names)
    storage = _storage_records(names) if fmt in TORCH_ZIPS else frozenset()
    for entry in directory.members:
        inner = f"{where}:{entry.name}"
        if entry.is_symlink:
            yield Anomaly("link", inner, "a symbolic link stored in a zip", {"member": entry.name})
        if entry.is_dir or entry.name in storage:  # never read, so not counted against Limits.max_members
            continue
        budget.member()
        try:
            yield from _zip_member(buf, entry, inner, fmt, depth, budget, siblings)
        except LimitExceeded as exc:
            if exc.fatal:
                raise
            yield Anomaly("limit", inner, str(exc))


def _zip_member(
    buf: Buffer, entry: Member, where: str, fmt: Format, depth: int, budget: Budget, siblings: frozenset[str]
) -> Iterator[Item]:
    ratio = budget.limits.max_decompression_ratio
    if entry.size > BOMB_FLOOR and entry.size > ratio * max(1, entry.compressed_size):
        yield Anomaly(
            "limit",
            where,
            f"declares {entry.size} bytes from {entry.compressed_size}: a decompression bomb",
            {"size": entry.size, "compressed": entry.compressed_size},
        )
        return
    try:
        start, end, anomalies = locate(buf, entry)
    except ParseError as exc:
        yield Anomaly("unreadable", where, str(exc))
        return
    for text in anomalies:
        yield Anomaly("header", where, text, {"member": entry.name})
    if entry.method not in METHODS:
        yield Anomaly("unreadable", where, f"compression method {entry.method} cannot be inspected")
        return
    forced = _loader_format(entry.name, fmt)
    chunks = _Guard(iter_member(buf, entry, start, end))
    head, rest = _peek(chunks, HEAD_BYTES)
    kind = forced or _sniff(head, entry.size)
    if kind is Format.NATIVE:
        yield _native(where, head)
    if forced is None and kind not in WORTH_READING and not _member_unpickles(kind, head, entry.size):
        return
    if (
        kind is Format.NUMPY
    ):  # the header tells whether the rest is worth decompressing; let the scanner decide
        reread = functools.partial(_reread, buf, entry, start, end, budget)
        yield Leaf(where, kind, head[:HEAD_BYTES], entry.size, reread, "member", fmt, entry.name, siblings)
        return
    if entry.method == 0 and kind not in CONTAINERS:  # stored: leave the bytes where they are
        data, lo, hi = buf, start, end
    else:
        data = _collect(head, rest, budget, entry.compressed_size)
        lo, hi = 0, len(data)
    if chunks.error is not None:
        yield Anomaly("unreadable", where, f"{chunks.error}; the bytes before the error are analysed")
    crc = _crc(data, lo, hi)
    if chunks.error is None and crc != entry.crc:
        yield Anomaly(
            "crc",
            where,
            f"CRC mismatch: the directory says {entry.crc:08x}, the bytes give {crc:08x}",
            {"member": entry.name, "expected": f"{entry.crc:08x}", "actual": f"{crc:08x}"},
        )
    if forced is not None:
        role = "torchscript-code" if forced is Format.PYTHON else "member"
        yield _leaf(data, lo, hi, where, forced, role, fmt, entry.name, siblings)
        return
    yield from _node(
        data, lo, hi, where, _sniff_all(data, lo, hi), depth + 1, budget, "member", fmt, entry.name, siblings
    )


def _reread(buf: Buffer, entry: Member, start: int, end: int, budget: Budget) -> tuple[Buffer, int, int]:
    if entry.method == 0:
        return buf, start, end
    chunks = _Guard(iter_member(buf, entry, start, end))
    data = _collect(b"", chunks, budget, entry.compressed_size)
    return data, 0, len(data)


def _also_a_pickle(fmt: Format, role: str) -> bool:
    """Whether to read these bytes from 0 as a pickle as well as what they were detected as.

    Pickle formats already are; zips are covered by their `prefix` leaf (bytes from 0 that do not
    start with "PK": `torch.load` unpickles those); text is no loader's pickle."""
    return role in ("file", "member", "decompressed") and fmt not in PICKLE_BASED | TEXTUAL | ZIP_FAMILY


def _leaf(
    buf: Buffer,
    start: int,
    end: int,
    where: str,
    fmt: Format,
    role: str,
    container: Format | None,
    member: str,
    siblings: frozenset[str],
) -> Leaf:
    head = bytes(buf[start : min(end, start + HEAD_BYTES)])
    return Leaf(where, fmt, head, end - start, lambda: (buf, start, end), role, container, member, siblings)


def _loader_format(name: str, container: Format) -> Format | None:
    """What a PyTorch loader makes of a member by its name, whatever its bytes look like.

    PyTorch's reader (miniz) looks records up case-insensitively: `archive/DATA.PKL` is its data.pkl."""
    if container not in TORCH_ZIPS:
        return None
    if name.lower().endswith((".pkl", ".debug_pkl")):
        return Format.PICKLE
    if container is Format.TORCHSCRIPT and "/code/" in f"/{name}" and name.endswith(".py"):
        return Format.PYTHON
    return None


def _storage_records(names: list[str]) -> frozenset[str]:
    """Raw tensor storages (`archive/data/0`, `ts/constants/3`, `ts/.data/…`): never unpickled, never read."""
    stems = {n[:-4] + "/" for n in names if n.lower().endswith(".pkl")}
    stems |= {n.split("/", 1)[0] + "/.data/" for n in names if "/" in n}
    # one set lookup per name: a checkpoint of 100,000 tensors has 100,000 storage records
    return frozenset(n for n in names if (cut := n.rfind("/") + 1) and n[cut:].isdigit() and n[:cut] in stems)


def _overlaps(where: str, entries: tuple[Member, ...]) -> Iterator[Anomaly]:
    ordered = sorted(entries, key=lambda m: m.header_offset)
    for before, after in itertools.pairwise(ordered):
        if after.header_offset < before.header_offset + 30 + before.compressed_size:
            yield Anomaly(
                "limit",
                where,
                f"members {before.name!r} and {after.name!r} share bytes: "
                "overlapping entries are how non-recursive zip bombs multiply their data",
                {"members": [before.name, after.name]},
            )
            return


def _crc(data: Buffer, start: int, end: int) -> int:
    crc = 0
    for at in range(start, end, READ_CHUNK):
        crc = zlib.crc32(data[at : min(end, at + READ_CHUNK)], crc)
    return crc


# --- tar, 7z, compressed streams --------------------------------------------------------------


def _tar(buf: Buffer, where: str, depth: int, budget: Budget) -> Iterator[Item]:
    names: list[str] = []
    try:
        with tarfile.open(fileobj=_fileobj(buf), mode="r:") as tar:
            while (info := tar.next()) is not None:
                budget.member()
                inner = f"{where}:{info.name}"
                names.append(info.name)
                if info.issym() or info.islnk():
                    yield Anomaly(
                        "link",
                        inner,
                        f"a {'symbolic' if info.issym() else 'hard'} link to {info.linkname!r}",
                        {"member": info.name, "target": info.linkname},
                    )
                elif info.isdev() or info.isfifo():
                    yield Anomaly("link", inner, "a device or FIFO entry", {"member": info.name})
                if not info.isfile():
                    continue
                handle = tar.extractfile(info)
                if handle is None:
                    continue
                try:
                    chunks = iter(functools.partial(handle.read, READ_CHUNK), b"")
                    yield from _stream_member(
                        chunks, inner, info.size, 0, depth, budget, Format.TAR, info.name
                    )
                except LimitExceeded as exc:
                    if exc.fatal:
                        raise
                    yield Anomaly("limit", inner, str(exc))
    except (tarfile.TarError, EOFError, OSError, ValueError, UnicodeError) as exc:
        yield Anomaly("unreadable", where, f"tar archive unreadable: {type(exc).__name__}: {exc}")
    yield from _names(where, names)


def _seven_zip(buf: Buffer, where: str, depth: int, budget: Budget) -> Iterator[Item]:
    try:
        import py7zr
        from py7zr.io import Py7zIO, WriterFactory
    except ImportError:
        yield Anomaly("unreadable", where, "7z archives need py7zr, which is not installed: not inspected")
        return

    class Capture(Py7zIO):
        def __init__(self) -> None:
            self.spool, self.count, self.overflow = _Spool(), 0, False

        def write(self, s: bytes | bytearray) -> int:
            self.count += len(s)
            self.overflow = self.overflow or self.count > budget.limits.max_member_bytes
            if not self.overflow:
                self.spool.write(bytes(s))
            return len(s)

        def read(self, size: int | None = None) -> bytes:
            return b""

        def seek(self, offset: int, whence: int = 0) -> int:
            return 0

        def flush(self) -> None:
            pass

        def size(self) -> int:
            return self.count

    class Captures(WriterFactory):
        def __init__(self) -> None:
            self.products: dict[str, Capture] = {}

        def create(self, filename: str) -> Py7zIO:
            self.products[filename] = Capture()
            return self.products[filename]

    captures = Captures()
    try:
        remaining = max(0, budget.limits.max_total_bytes - budget.total)
        with py7zr.SevenZipFile(_fileobj(buf), mode="r", max_extract_size=remaining) as archive:
            infos = archive.list()
            yield from _names(where, [i.filename for i in infos])
            for info in infos:
                budget.member()
                if info.is_symlink:
                    yield Anomaly(
                        "link",
                        f"{where}:{info.filename}",
                        "a symbolic link stored in a 7z archive",
                        {"member": info.filename},
                    )
            archive.extract(factory=captures)
    except LimitExceeded:
        raise
    except Exception as exc:  # noqa: BLE001  py7zr raises many unrelated types on hostile input; all mean "unreadable"
        yield Anomaly("unreadable", where, f"7z archive unreadable: {type(exc).__name__}: {exc}")
        return
    for name, capture in captures.products.items():
        inner = f"{where}:{name}"
        if capture.overflow:
            yield Anomaly(
                "limit", inner, f"larger than {budget.limits.max_member_bytes} bytes when decompressed"
            )
            continue
        budget.spend(capture.count)
        data = capture.spool.buffer()
        yield from _node(
            data,
            0,
            len(data),
            inner,
            _sniff_all(data, 0, len(data)),
            depth + 1,
            budget,
            "member",
            None,
            "",
            frozenset(),
        )


def _stream(buf: Buffer, where: str, fmt: Format, depth: int, budget: Budget) -> Iterator[Item]:
    inner = f"{where}:[{fmt}]"
    try:
        reader = _decompressor(buf, fmt)
    except ImportError as exc:
        yield Anomaly(
            "unreadable",
            where,
            f"{fmt} streams need the {exc.name} module, which is not installed: not inspected",
        )
        return
    try:
        step = getattr(
            reader, "read1", reader.read
        )  # one decompression step at a time: an error keeps what came before
        yield from _stream_member(iter(lambda: step(READ_CHUNK), b""), inner, None, len(buf), depth, budget)
    except LimitExceeded as exc:
        if exc.fatal:
            raise
        yield Anomaly("limit", inner, str(exc))


def _stream_member(
    source: Iterator[bytes],
    where: str,
    size: int | None,
    compressed: int,
    depth: int,
    budget: Budget,
    container: Format | None = None,
    member: str = "",
) -> Iterator[Item]:
    """A tar member (`size` known) or a decompressed stream (`size` None), read if it can carry code."""
    chunks = _Guard(source)
    head, rest = _peek(chunks, HEAD_BYTES)
    known = size if size is not None else len(head) if len(head) < HEAD_BYTES else len(head) + 1
    kind = _sniff(head, known)
    if kind is Format.NATIVE:
        yield _native(where, head)
    if kind not in WORTH_READING and not _member_unpickles(kind, head, known):
        if chunks.error is not None:
            yield Anomaly("unreadable", where, chunks.error)
        return
    data = _collect(head, rest, budget, compressed)
    if chunks.error is not None:
        yield Anomaly("unreadable", where, f"{chunks.error}; the bytes before the error are analysed")
    role = "decompressed" if size is None else "member"
    yield from _node(
        data,
        0,
        len(data),
        where,
        _sniff_all(data, 0, len(data)),
        depth + 1,
        budget,
        role,
        container,
        member,
        frozenset(),
    )


def _member_unpickles(kind: Format, head: bytes, size: int) -> bool:
    """A member that is not worth reading as what it is, but whose first bytes act as a pickle."""
    return kind not in TEXTUAL and unpickles_from_zero(head, complete=size <= len(head))


def _decompressor(buf: Buffer, fmt: Format) -> IO[bytes]:
    source = _fileobj(buf)
    if fmt is Format.GZIP:
        return gzip.GzipFile(fileobj=source)
    if fmt is Format.BZIP2:
        return bz2.BZ2File(source)
    if fmt is Format.XZ:
        return lzma.LZMAFile(source, format=lzma.FORMAT_XZ)
    if fmt is Format.LZMA:
        return lzma.LZMAFile(source, format=lzma.FORMAT_ALONE)
    if fmt is Format.ZLIB:
        return _ZlibReader(buf, 21 if buf[:4] == b"ZF0x" else 0)
    if fmt is Format.ZSTD:
        import zstandard

        return zstandard.ZstdDecompressor().stream_reader(source)  # type: ignore[return-value]
    import lz4.frame

    return lz4.frame.LZ4FrameFile(source)  # type: ignore[return-value]


class _Guard(Iterator[bytes]):
    """Chunks from a decompressor; an error ends the chunks and is kept (what came before still counts)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self.error: str | None = None

    def __next__(self) -> bytes:
        if self.error is not None:
            raise StopIteration
        try:
            return next(self._chunks)
        except StopIteration:
            raise
        except Exception as exc:  # noqa: BLE001  every decompressor (zlib, bz2, lzma, zstd, lz4) raises its own types
            self.error = f"cannot be decompressed to its end: {type(exc).__name__}: {exc}"
            raise StopIteration from None


class _ZlibReader(io.RawIOBase):
    """A zlib stream (joblib's pre-0.10 files put "ZF" and a hex length before it), read in bounded steps."""

    def __init__(self, buf: Buffer, start: int) -> None:
        self._buf, self._pos = buf, start
        self._inflater = zlib.decompressobj()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        out = b""
        while not out and not self._inflater.eof:
            pending = self._inflater.unconsumed_tail
            if not pending:
                if self._pos >= len(self._buf):
                    raise EOFError("zlib stream ends before its end marker")
                pending = self._buf[self._pos : self._pos + (1 << 16)]
                self._pos += len(pending)
            out = self._inflater.decompress(pending, size if size > 0 else READ_CHUNK)
        return out


# --- shared helpers ---------------------------------------------------------------------------


def _names(where: str, names: list[str]) -> Iterator[Anomaly]:
    counts = collections.Counter(names)
    for name, count in counts.items():
        if count > 1:
            yield Anomaly(
                "duplicate",
                f"{where}:{name}",
                f"{count} members are named {name!r}: loaders disagree on which one counts",
                {"member": name, "count": count},
            )
    for name in counts:
        problem = _path_problem(name)
        if problem is not None:
            yield Anomaly("path", f"{where}:{name}", f"member name {name!r} {problem}", {"member": name})


def _path_problem(name: str) -> str | None:
    norm = name.replace("\\", "/")
    if norm.startswith("/") or _DRIVE.match(norm):
        return "is an absolute path"
    if ".." in norm.split("/"):
        return "climbs out of the extraction folder with '..'"
    return None


def _peek(chunks: Iterator[bytes], n: int) -> tuple[bytes, Iterator[bytes]]:
    parts: list[bytes] = []
    size = 0
    for chunk in chunks:
        parts.append(chunk)
        size += len(chunk)
        if size >= n:
            break
    return b"".join(parts), chunks


def _collect(head: bytes, rest: Iterator[bytes], budget: Budget, compressed: int) -> Buffer:
    """All the bytes of a member or stream, within the per-member, per-artifact, ratio and time limits."""
    spool = _Spool()
    ratio = budget.limits.max_decompression_ratio
    for chunk in itertools.chain((head,), rest):
        budget.spend(len(chunk))
        spool.write(chunk)
        if spool.size > budget.limits.max_member_bytes:
            raise LimitExceeded(
                f"larger than {budget.limits.max_member_bytes} bytes when decompressed", fatal=False
            )
        if compressed and spool.size > BOMB_FLOOR and spool.size > ratio * compressed:
            raise LimitExceeded(
                f"expands more than {ratio} times ({compressed} compressed bytes): a decompression bomb",
                fatal=False,
            )
    return spool.buffer()


class _Spool:
    """Bytes gathered in memory, or in an anonymous temporary file once they grow large."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._file: IO[bytes] | None = None
        self.size = 0

    def write(self, chunk: bytes) -> None:
        if self._file is None and self.size + len(chunk) > SPILL_BYTES:
            self._file = tempfile.TemporaryFile()  # noqa: SIM115  it outlives this call: buffer() maps it
            self._file.writelines(self._chunks)
            self._chunks = []
        if self._file is not None:
            self._file.write(chunk)
        else:
            self._chunks.append(chunk)
        self.size += len(chunk)

    def buffer(self) -> Buffer:
        if self._file is None:
            return b"".join(self._chunks)
        self._file.flush()
        view = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ)
        self._file.close()
        return view


def _own(buf: Buffer, start: int, end: int) -> Buffer:
    spool = _Spool()
    for at in range(start, end, READ_CHUNK):
        spool.write(buf[at : min(end, at + READ_CHUNK)])
    return spool.buffer()


def _fileobj(buf: Buffer) -> IO[bytes]:
    if isinstance(buf, mmap.mmap):
        return io.BufferedReader(_MappedFile(buf))
    return io.BytesIO(buf)


class _MappedFile(io.RawIOBase):
    """A read-only file over a memory map, with its own position (the map's is left alone)."""

    def __init__(self, view: mmap.mmap) -> None:
        self._view, self._pos = view, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, target: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._view[self._pos : self._pos + len(target)]
        target[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: len(self._view)}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos


def _native(where: str, head: bytes) -> Anomaly:
    kind = native_kind(head) or "native"
    return Anomaly(
        "native",
        where,
        f"a compiled {kind} library or executable inside the archive: native code that "
        "cannot be vetted, run by whatever extracts and loads it",
        {"native_kind": kind},
    )


def _sniff(head: bytes, size: int) -> Format:
    """The format of a member from its first bytes (enough for pickles, .npy and every archive)."""
    if size == 0:
        return Format.EMPTY
    return detect(head, head if size <= len(head) else b"", size)


def _sniff_all(data: Buffer, start: int, end: int) -> Format:
    size = end - start
    head = data[start : start + min(size, HEAD_BYTES)]
    tail = data[max(start, end - TAIL_BYTES) : end]

    def read(offset: int, length: int) -> bytes:
        return data[start + offset : start + min(size, offset + length)]

    return detect(head, tail, size, read) if size else Format.EMPTY
