"""File formats, told apart by their bytes (magic numbers and container structure), never by name.

`detect` looks only at what the streaming hash pass already holds (the head and the tail of the
file) plus, for a zip whose central directory is larger than the tail, one bounded extra read.
"""

from __future__ import annotations

import ast
import codecs
import enum
import io
import json
import lzma
import re
import struct
import zlib

from . import protobuf, pysource
from .errors import ParseError
from .limits import DEFAULT_LIMITS, Budget
from .zip_members import Reader as Reader
from .zip_members import zip_directory

HEAD_BYTES = 1 << 16  # kept from the start of every file
TAIL_BYTES = 1 << 20  # kept from the end of every file (zip central directories live there)
MAX_SOURCE_SNIFF = DEFAULT_LIMITS.max_sniff_source_bytes


class Format(enum.StrEnum):
    PYTORCH_ZIP = "pytorch-zip"
    TORCHSCRIPT = "torchscript"
    PYTORCH_LEGACY = "pytorch-legacy"
    PICKLE = "pickle"
    JOBLIB = "joblib"
    NUMPY = "numpy"
    NUMPY_NPZ = "numpy-npz"
    SAFETENSORS = "safetensors"
    HDF5 = "hdf5"
    KERAS_ZIP = "keras-v3"
    ONNX = "onnx"
    GGUF = "gguf"
    TF_SAVEDMODEL = "tf-savedmodel"
    JSON = "json"
    PYTHON = "python"
    NATIVE = "native-binary"  # ELF, PE or Mach-O: a compiled library or executable
    ZIP = "zip"
    TAR = "tar"
    GZIP = "gzip"
    BZIP2 = "bz2"
    XZ = "xz"
    SEVEN_ZIP = "7z"
    ZLIB = "zlib"
    ZSTD = "zstd"
    LZ4 = "lz4"
    LZMA = "lzma"  # the legacy .lzma ("alone") container: joblib's ("lzma", N) compressor writes it
    TEXT = "text"
    EMPTY = "empty"
    UNKNOWN = "unknown"


# Formats that can carry executable payloads when loaded (pickle-based or code-bearing).
PICKLE_BASED = frozenset(
    {Format.PYTORCH_ZIP, Format.TORCHSCRIPT, Format.PYTORCH_LEGACY, Format.PICKLE, Format.JOBLIB}
)
WEIGHT_FORMATS = PICKLE_BASED | frozenset(
    {
        Format.SAFETENSORS,
        Format.HDF5,
        Format.KERAS_ZIP,
        Format.ONNX,
        Format.GGUF,
        Format.NUMPY,
        Format.NUMPY_NPZ,
    }
)
ARCHIVES = frozenset(
    {
        Format.ZIP,
        Format.TAR,
        Format.GZIP,
        Format.BZIP2,
        Format.XZ,
        Format.SEVEN_ZIP,
        Format.ZLIB,
        Format.ZSTD,
        Format.LZ4,
        Format.LZMA,
    }
)
# Zip-based formats (each is a zip archive a loader opens), and every format that holds other files.
ZIP_FAMILY = frozenset(
    {Format.ZIP, Format.PYTORCH_ZIP, Format.TORCHSCRIPT, Format.NUMPY_NPZ, Format.KERAS_ZIP}
)
CONTAINERS = ZIP_FAMILY | ARCHIVES
# Formats no loader of pickles is pointed at. Every other file may be handed to `pickle.load`,
# `torch.load` or `joblib.load`, which read from byte 0 whatever the file is.
TEXTUAL = frozenset({Format.JSON, Format.PYTHON, Format.TEXT, Format.EMPTY})
UNPICKLABLE = frozenset(Format) - TEXTUAL

# Pickled PyTorch legacy files start with the pickled magic number 0x1950a86a20f9469cfc6c (LONG1, 10 bytes).
_TORCH_LEGACY_MAGIC = b"\x8a\x0a" + (0x1950A86A20F9469CFC6C).to_bytes(10, "little")
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_JOBLIB_PROTOCOL0 = (
    b"cjoblib.numpy_pickle\nNumpyArrayWrapper\n"  # the GLOBAL a protocol-0 joblib dump opens with
)


def detect(head: bytes, tail: bytes, size: int, read: Reader | None = None) -> Format:
    """The format of a file whose first bytes are `head` and last bytes are `tail`."""
    if size == 0:
        return Format.EMPTY
    simple = _by_magic(head, size)
    if simple is not None:
        return simple
    directory = zip_directory(tail, size, read)
    if directory is not None:
        return _zip_kind(directory.names)
    if head.startswith(b"PK\x03\x04"):
        return Format.ZIP  # a zip with a damaged or missing central directory is still a zip to a loader
    if native_kind(head) is not None:  # after the zip checks: a zip behind a native stub still loads as a zip
        return Format.NATIVE
    if _looks_like_pickle(head, size):
        return _pickle_kind(head)
    if head[:1] and head[0] in _PICKLE_OPENERS and _JOBLIB_PROTOCOL0 in head:
        return Format.JOBLIB  # joblib at protocol 0: array bytes sit between the opcodes, so no clean parse
    proto = _protobuf_kind(head)
    if proto is not None:
        return proto
    return _text_kind(head, size)


def _by_magic(head: bytes, size: int) -> Format | None:
    if head.startswith(b"\x93NUMPY"):
        return Format.NUMPY
    if head.startswith(b"GGUF"):
        return Format.GGUF
    for offset in (0, 512, 1024, 2048, 4096, 8192, 16384, 32768):
        if head[offset : offset + 8] == _HDF5_MAGIC:
            return Format.HDF5
    if head.startswith(b"\x1f\x8b"):
        return Format.GZIP
    if head.startswith(b"BZh") and len(head) > 3 and head[3:4] in b"123456789":
        return Format.BZIP2
    if head.startswith(b"\xfd7zXZ\x00"):
        return Format.XZ
    if head.startswith(b"7z\xbc\xaf\x27\x1c"):
        return Format.SEVEN_ZIP
    if head.startswith(b"\x28\xb5\x2f\xfd"):
        return Format.ZSTD
    if head.startswith(b"\x04\x22\x4d\x18"):
        return Format.LZ4
    if _looks_like_lzma_alone(head):
        return Format.LZMA
    if len(head) >= 262 and head[257:262] == b"ustar":
        return Format.TAR
    if _looks_like_safetensors(head, size):
        return Format.SAFETENSORS
    if _looks_like_zlib(head) or (head.startswith(b"ZF0x") and _looks_like_zlib(head[21:])):
        return Format.ZLIB  # "ZF" + a 19-character hex length: joblib's pre-0.10 compressed files
    return None


_ELF_MAGIC = b"\x7fELF"
_MACHO_MAGICS = frozenset(
    {b"\xfe\xed\xfa\xce", b"\xce\xfa\xed\xfe", b"\xfe\xed\xfa\xcf", b"\xcf\xfa\xed\xfe"}
)
_FAT_MAGICS = {
    b"\xca\xfe\xba\xbe": ">",
    b"\xca\xfe\xba\xbf": ">",
    b"\xbe\xba\xfe\xca": "<",
    b"\xbf\xba\xfe\xca": "<",
}
# Java class files also open with 0xCAFEBABE; their version (major >= 45) reads as a larger arch count.
MAX_FAT_ARCHES = 20


def native_kind(head: bytes) -> str | None:
    """The kind of compiled code `head` starts with: "ELF", "PE" or "Mach-O"; None for anything else.

    A PE file needs the DOS header's `e_lfanew` to point at "PE\\0\\0" inside `head` (plenty of files
    start with "MZ"); a Mach-O universal binary needs 1 to MAX_FAT_ARCHES architectures whose table fits.
    """
    if head.startswith(_ELF_MAGIC):
        return (
            "ELF" if len(head) >= 6 and head[4] in (1, 2) and head[5] in (1, 2) else None
        )  # class, byte order
    if head.startswith(b"MZ") and len(head) >= 0x40:
        (pe_offset,) = struct.unpack_from("<I", head, 0x3C)
        return "PE" if head[pe_offset : pe_offset + 4] == b"PE\0\0" else None
    magic = head[:4]
    if magic in _MACHO_MAGICS:
        return "Mach-O" if len(head) >= 28 else None  # the 32-bit mach_header
    if magic in _FAT_MAGICS and len(head) >= 8:
        (arches,) = struct.unpack_from(_FAT_MAGICS[magic] + "I", head, 4)
        entry = 32 if magic[3] == 0xBF or magic[0] == 0xBF else 20  # fat_arch_64 or fat_arch
        return "Mach-O" if 1 <= arches <= MAX_FAT_ARCHES and len(head) >= 8 + arches * entry else None
    return None


def _looks_like_zlib(head: bytes) -> bool:
    """A zlib header (deflate, 32 KiB window, no preset dictionary) whose stream inflates without error."""
    if len(head) < 2 or head[0] != 0x78 or head[1] not in (0x01, 0x5E, 0x9C, 0xDA):
        return False  # "x^" alone is also how "x^2 + y^2" starts: the inflate below tells them apart
    try:
        zlib.decompressobj().decompress(head, 1 << 16)
    except zlib.error:
        return False
    return True


def _looks_like_lzma_alone(head: bytes) -> bool:
    """The .lzma header joblib recognises (`]\\x00\\x00`: lc=3, lp=0, pb=2 and a dictionary of at least
    64 KiB, what every preset writes), whose stream starts decoding without error."""
    if len(head) < 14 or not head.startswith(b"]\x00\x00") or head[13] != 0:  # a range coder starts with 0
        return False
    try:
        lzma.LZMADecompressor(lzma.FORMAT_ALONE).decompress(head, 1 << 10)
    except lzma.LZMAError:
        return False
    return True


def _looks_like_safetensors(head: bytes, size: int) -> bool:
    if len(head) < 10:
        return False
    (length,) = struct.unpack("<Q", head[:8])
    if length < 2 or length > size - 8:
        return False
    return head[8:9] == b"{" or (head[8:9] == b" " and head[8:].lstrip(b" ")[:1] == b"{")


def _zip_kind(names: tuple[str, ...]) -> Format:
    base = {
        n.rsplit("/", 1)[-1].lower() for n in names
    }  # PyTorch's miniz reader finds records case-insensitively
    if "data.pkl" in base:
        if "constants.pkl" in base or any("/code/" in f"/{n}" for n in names):
            return Format.TORCHSCRIPT
        return Format.PYTORCH_ZIP
    if "constants.pkl" in base:
        return Format.TORCHSCRIPT
    if {"config.json", "metadata.json"} <= set(names):
        return Format.KERAS_ZIP
    if names and all(n.endswith(".npy") for n in names if not n.endswith("/")):
        return Format.NUMPY_NPZ
    return Format.ZIP


# First bytes of a header-less pickle (protocols 0 and 1), plus PROTO (0x80) for "\x80\x00"/"\x80\x01".
_PICKLE_OPENERS = frozenset(b"(]})cNI\x88\x89KLMJFGSUVXTBCe.\x8c\x95\x94\x80\x8a\x8b\x8d\x8e\x96\x8f")
_PICKLE_OP_BUDGET = 4096  # this many clean opcodes in a row is a pickle, whatever comes after
# Opcodes that build containers, import, call or memoize: what a pickler writes and prose does not.
_PICKLE_EVIDENCE = frozenset(
    {
        "GLOBAL", "STACK_GLOBAL", "REDUCE", "BUILD", "INST", "OBJ", "NEWOBJ", "NEWOBJ_EX", "SETITEM",
        "SETITEMS", "APPEND", "APPENDS", "TUPLE", "DICT", "LIST", "EMPTY_DICT", "EMPTY_LIST", "PUT",
        "BINPUT", "LONG_BINPUT", "MEMOIZE",
    }
)  # fmt: skip


def _looks_like_pickle(head: bytes, size: int) -> bool:
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        return True
    if not head or head[0] not in _PICKLE_OPENERS:
        return False
    return _parses_as_pickle(head, complete=size <= len(head))


def _parses_as_pickle(head: bytes, *, complete: bool) -> bool:
    """Header-less pickles: accept if the opcodes parse to STOP (what `pickle.load` needs), or, for a
    file longer than the head, if they parse cleanly until the head cuts the last argument off.

    Text that merely starts with opcode letters ("Very good", "cos") fails at an unknown opcode
    before the end, or never reaches STOP.
    """
    import pickletools  # only files that no magic number identified get here

    stream = io.BytesIO(head)
    ops = 0
    evidence = False
    try:
        for opcode, _, _ in pickletools.genops(stream):
            ops += 1
            evidence = evidence or opcode.name in _PICKLE_EVIDENCE
            if opcode.name == "STOP":
                return ops > 1
            if ops >= _PICKLE_OP_BUDGET:
                return evidence
    except Exception:  # noqa: BLE001  pickletools raises assorted errors; where it stopped is the answer
        if evidence and b"NumpyArrayWrapper" in head[: stream.tell()]:
            return True  # joblib: array bytes follow a wrapper's BUILD inline, which no opcode reader expects
        return not complete and evidence and stream.tell() >= len(head)
    return False


def _pickle_kind(head: bytes) -> Format:
    if _TORCH_LEGACY_MAGIC in head[:32]:
        return Format.PYTORCH_LEGACY
    if b"joblib.numpy_pickle" in head or b"NumpyArrayWrapper" in head:
        return Format.JOBLIB
    return Format.PICKLE


def _protobuf_fields(head: bytes, limit: int = 12) -> list[tuple[int, int, int | bytes]] | None:
    """Top-level (field, wire type, value) triples; None if the bytes do not read as protobuf.

    A length-delimited field that runs past the head ends the list (the rest lies beyond the head)."""
    found: list[tuple[int, int, int | bytes]] = []
    cut = False
    try:
        for item in protobuf.fields(head, 0, len(head), Budget(steps=limit)):
            if item.wire == protobuf.VARINT:
                found.append((item.number, item.wire, item.value))
            elif item.wire == protobuf.LENGTH:
                found.append((item.number, item.wire, head[item.value : min(item.end, item.value + 64)]))
                cut = item.end == len(head)
            else:
                return None
            if len(found) == limit:
                break
    except ParseError:
        if not (found and cut):
            return None
    return found or None


def _protobuf_kind(head: bytes) -> Format | None:
    if not head or head[0] != 0x08:
        return None
    fields = _protobuf_fields(head)
    if not fields or fields[0][:2] != (1, 0):
        return None
    first = fields[0][2]
    assert isinstance(first, int)
    numbers = {f for f, _, _ in fields}
    if first == 1 and len(fields) > 1 and fields[1][0] == 2 and isinstance(fields[1][2], bytes):
        payload = fields[1][2]
        if payload[:1] == b"\x0a" and (b"tensorflow" in head or b"serve" in head or b"Placeholder" in head):
            return Format.TF_SAVEDMODEL
    onnx_fields = {1, 2, 3, 4, 5, 6, 7, 8, 14, 20, 25, 26}
    # producer_name, producer_version and domain are short printable strings, never messages
    strings = all(isinstance(v, bytes) and _printable(v) for f, _, v in fields if f in (2, 3, 4))
    if 1 <= first <= 20 and numbers <= onnx_fields and numbers & {2, 7, 8} and strings:
        return Format.ONNX
    return None


def _printable(raw: bytes) -> bool:
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(raw)  # a character cut at 64 bytes is fine
    except UnicodeDecodeError:
        return False
    return text.isprintable()


def _text_kind(head: bytes, size: int) -> Format:
    if b"\x00" in head:
        return Format.UNKNOWN
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if size > len(head) and exc.start >= len(head) - 4:
            text = head[: exc.start].decode("utf-8")  # a multi-byte character cut at the head boundary
        else:
            return Format.UNKNOWN
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped[:1] in ("{", "[") and _is_json(stripped, complete=size <= len(head)):
        return Format.JSON
    if size <= MAX_SOURCE_SNIFF and size <= len(head) and _is_python(text):
        return Format.PYTHON
    if size > len(head) and _python_prefix(text):
        return Format.PYTHON
    return Format.TEXT


def _is_json(text: str, *, complete: bool) -> bool:
    """The whole document parses; or, for the head of a longer file, it parses up to where it was cut."""
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        if complete:
            return False
        # cut inside a string, or inside a token or between tokens at the very end: a JSON prefix.
        # A vocab.txt that opens with "[PAD]" fails at its second character instead.
        return exc.msg.startswith("Unterminated string") or exc.pos >= len(text) - 8
    except RecursionError:  # nesting deeper than the json module can follow: no loader reads it either
        return False
    return True


def _is_python(text: str) -> bool:
    try:
        tree = pysource.parse(text)
    except pysource.Unparseable:
        return False
    definitions = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    return any(isinstance(node, definitions) for node in tree.body)


_TOP_LEVEL_STATEMENT = re.compile(r"^(?:def |async def |class |@|import |from )", re.MULTILINE)
_PREFIX_CUTS = 4


def _python_prefix(text: str) -> bool:
    """A large file: its head must parse as Python up to the start of one of its last top-level statements.

    Several cuts are tried because one may fall inside a docstring or a bracketed expression.
    """
    starts = [m.start() for m in _TOP_LEVEL_STATEMENT.finditer(text) if m.start() > 0]
    return any(_is_python(text[:cut]) for cut in reversed(starts[-_PREFIX_CUTS:]))


# --- what a file's name promises ------------------------------------------------------------------

MODEL_FORMATS = WEIGHT_FORMATS | frozenset({Format.TF_SAVEDMODEL})
# Compressed streams joblib.load (and pandas.read_pickle) open by themselves: a pickle inside.
_JOBLIB_STREAMS = frozenset({Format.ZLIB, Format.GZIP, Format.BZIP2, Format.XZ, Format.LZMA, Format.LZ4})
_PICKLES = frozenset({Format.PICKLE, Format.JOBLIB, Format.PYTORCH_LEGACY})

# The formats a loader that picks files by name accepts for each model-format suffix. UNKNOWN where
# the suffix also names formats airlock does not parse (raw weight blobs: OpenVINO, CTranslate2 and
# GGML `.bin`, ONNX-style protobufs, TFLite flatbuffers, Flax msgpack).
NAME_CLAIMS: dict[str, frozenset[Format]] = {
    ".safetensors": frozenset({Format.SAFETENSORS}),
    ".bin": PICKLE_BASED | {Format.UNKNOWN},  # torch.load: zip, legacy or plain pickle; or a raw blob
    ".pt": PICKLE_BASED,  # torch.load (TorchScript included), or pickle.load on a plain pickle
    ".pth": PICKLE_BASED,
    ".ckpt": PICKLE_BASED,
    ".pkl": PICKLE_BASED | _JOBLIB_STREAMS,  # pickle, joblib (compressed too), torch.save (fastai export.pkl)
    ".pickle": PICKLE_BASED | _JOBLIB_STREAMS,
    ".joblib": _PICKLES | _JOBLIB_STREAMS,
    ".npy": frozenset({Format.NUMPY}),
    ".npz": frozenset({Format.NUMPY_NPZ, Format.ZIP}),  # np.savez with no arrays has no .npy member
    ".h5": frozenset({Format.HDF5}),
    ".hdf5": frozenset({Format.HDF5}),
    ".keras": frozenset({Format.KERAS_ZIP}),
    ".onnx": frozenset({Format.ONNX}),
    ".gguf": frozenset({Format.GGUF}),
    ".pb": frozenset({Format.TF_SAVEDMODEL, Format.UNKNOWN}),  # a SavedModel, or a frozen GraphDef
    ".tflite": frozenset({Format.UNKNOWN}),  # a flatbuffer, which airlock does not identify
    ".msgpack": frozenset({Format.UNKNOWN}),  # Flax weights
    ".mar": frozenset({Format.ZIP}),  # a TorchServe archive
}


# joblib.dump picks a compressor from these suffixes (`model.joblib.lzma`: the "alone" format, detected
# by its header).
_JOBLIB_COMPRESSED = {
    ".z": Format.ZLIB,
    ".gz": Format.GZIP,
    ".bz2": Format.BZIP2,
    ".xz": Format.XZ,
    ".lzma": Format.LZMA,
    ".lz4": Format.LZ4,
}


def claimed_formats(name: str) -> frozenset[Format] | None:
    """The formats a file's name promises to a loader that keys on it; None if it promises no model format."""
    base = name.rsplit("/", 1)[-1].lower()
    stem, _, suffix = base.rpartition(".")
    if not stem:
        return None
    inner = stem[stem.rfind(".") :] if "." in stem[1:] else ""
    if f".{suffix}" in _JOBLIB_COMPRESSED and inner in (".pkl", ".pickle", ".joblib"):
        return frozenset({_JOBLIB_COMPRESSED[f".{suffix}"]})
    return NAME_CLAIMS.get(f".{suffix}")


def starts_like_pickle(head: bytes, *, binary: bool) -> bool:
    """Whether `pickle.load` would start executing these bytes: a PROTO opcode, or (for an unidentified
    binary, `binary`) any opcode a header-less pickle opens with; otherwise opcodes that parse up to an
    import (GLOBAL, STACK_GLOBAL, INST), which is what a pickle truncated or padded after its payload
    looks like (`pickle.load` runs what it read before it fails)."""
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        return True
    if not head or head[0] not in _PICKLE_OPENERS:
        return False
    if binary:
        return True
    import pickletools

    try:
        for ops, (opcode, _, _) in enumerate(pickletools.genops(io.BytesIO(head[:4096]))):
            if opcode.name in ("GLOBAL", "STACK_GLOBAL", "INST"):
                return True
            if opcode.name == "STOP" or ops > 256:
                return False
    except Exception:  # noqa: BLE001  pickletools raises assorted errors: not a pickle prefix
        return False
    return False
