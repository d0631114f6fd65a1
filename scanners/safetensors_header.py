"""The safetensors header, parsed the way the safetensors loader parses it; the tensor data is never read."""

from __future__ import annotations

import ast
import json
import math
import re
import struct
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO, ClassVar

from airlock.artifacts import Artifact
from airlock.findings import Finding, Severity
from airlock.formats import Format, detect
from airlock.parsers import pysource
from airlock.scanning import ArtifactScanner, ScanContext

LOADER_MAX_HEADER = 100_000_000  # safetensors' MAX_HEADER_SIZE
SERDE_MAX_DEPTH = 127  # serde_json refuses nesting of 128 levels and more
U64_MAX = (1 << 64) - 1
PAYLOAD_BYTES = 16  # hidden regions from this size on can hold a payload (a pickle that runs a shell is ~40)
METADATA_MAX_BYTES = 1 << 20
METADATA_MAX_ENTRIES = 1024
METADATA_HUGE_BYTES = (
    16 << 20
)  # no checkpoint needs this; parsers that hold the header whole need ~10x it in memory
LONG_VALUE = 64 << 10
MAX_REPORTED = 20  # findings of one kind per file; the evidence of the last says how many more
SNIFF_BYTES = 64
DTYPE_BITS = {
    "BOOL": 8, "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8,
    "F8_E4M3FNUZ": 8, "F8_E5M2FNUZ": 8, "I16": 16, "U16": 16, "F16": 16, "BF16": 16, "I32": 32, "U32": 32,
    "F32": 32, "C64": 64, "F64": 64, "I64": 64, "U64": 64,
}  # fmt: skip
TENSOR_FIELDS = ("dtype", "shape", "data_offsets")
# Looks like code (AIR406, low) without naming an execution primitive: an import statement, a shebang, a shell path.
_CODE = re.compile(
    r"__import__|(?<![\w.])(?:eval|exec|compile)\s*\(|\bos\.(?:system|popen)|\bsubprocess\b|<script\b"
    r"|(?m:^\s*(?:import\s+[\w.]+(?:\s+as\s+\w+)?\s*(?:[;#]|$)|from\s+[\w.]+\s+import\s+[\w*(]))"
    r"|^#!/|/bin/(?:ba)?sh\b|\bpowershell\b|\bpickle\.loads?\b|\bbase64\.b64decode\b|\bcurl\s+-|\bwget\s"
)
_URL = re.compile(r"\b(?:https?|ftp)://\S+")

# -- AIR408: a metadata value that names an execution primitive ------------------------------------------
PYTHON_MAX_CHARS = 64 << 10  # values up to this size are parsed as Python; longer ones are matched by pattern
PYTHON_BUDGET = 4 << 20  # characters parsed as Python per file (a hostile header cannot make vetting slow)
NESTED_DEPTH = 2  # string constants inside a parsed value (a JSON config) are vetted this deep
_OS_EXEC = r"system|popen[234]?|exec[lv]p?e?|spawn[lv]p?e?|posix_spawnp?|startfile"
_UNPICKLE = r"loads?|Unpickler"
# Module -> its attributes that run a process, evaluate code, import a module by name or unpickle.
_PRIMITIVES: dict[str, re.Pattern[str]] = {
    module: re.compile(pattern)
    for modules, pattern in (
        (("os", "posix", "nt"), _OS_EXEC),
        (("subprocess",), r"run|call|check_call|check_output|Popen|getoutput|getstatusoutput"),
        (("pty",), r"spawn"),
        (("builtins", "__builtin__"), r"eval|exec|execfile|compile|__import__"),
        (("importlib",), r"import_module|__import__"),
        (("runpy",), r"run_path|run_module"),
        (("pickle", "cPickle", "_pickle", "dill", "cloudpickle", "joblib"), _UNPICKLE),
        (("marshal",), r"loads?"),
        (("ctypes",), r"CDLL|PyDLL|WinDLL|cdll|pydll|windll"),
    )
    for module in modules
}
_BARE_CALLS = frozenset(
    {"eval", "exec", "execfile", "compile", "__import__"}
)  # builtins that run or import code
_GADGETS = frozenset({"__builtins__", "__globals__", "__subclasses__", "__code__"})  # roads to the above
_PROCESS_MODULES = frozenset(
    {"subprocess", "pty", "runpy"}
)  # importing one of these is only ever for running
_PRIMITIVE_NAMES = frozenset(
    {"eval", "exec", "compile", "__import__", "system", "popen", "import_module", "loads"}
)
# Every construct AIR408 reports names one of these words; a value without any is not parsed at all.
_EXEC_HINT = re.compile(
    r"__\w+__|\b(?:eval|exec\w*|compile|getattr|os|posix|nt|subprocess|pty|builtins|importlib|runpy|c?[pP]ickle|_pickle"
    r"|dill|cloudpickle|joblib|marshal|ctypes|system|popen\w*|spawn\w*|startfile|import_module|run_path|run_module"
    r"|Unpickler|CDLL|sh|bash|zsh|powershell|python[\d.]*)\b"
)
# The same primitives in text that does not parse as Python, plus shell commands that run what they are given.
_EXEC_PATTERN = re.compile(
    r"(?<![\w.])(?:__import__|eval|exec|execfile|compile)\(\s*[^\s)]"
    r"|\b(?:os|posix|nt)\s*\.\s*(?:" + _OS_EXEC + r")\b"
    r"|\bsubprocess\s*\.\s*(?:run|call|check_call|check_output|Popen|getoutput|getstatusoutput)\b"
    r"|\b(?:c?[pP]ickle|_pickle|dill|cloudpickle|marshal)\s*\.\s*loads?\s*\("
    r"|\bimportlib\s*\.\s*import_module\s*\(|\brunpy\s*\.\s*run_(?:path|module)\b|\bpty\s*\.\s*spawn\b"
    r"|\bbuiltins\s*\.\s*(?:eval|exec|compile|__import__)\b|__builtins__|__globals__|__subclasses__"
    r"|\|\s*(?:sudo\s+)?(?:/(?:usr/)?bin/)?(?:ba|z|da)?sh\b|\b(?:ba|z|da)?sh\s+-c\s|\bpython[\d.]*\s+-c\s"
    r"|\bpowershell(?:\.exe)?\s+(?:-\w+\s+)*-(?:e|ec|enc|encodedcommand)\s"
)


class _Object(list):  # type: ignore[type-arg]
    """A JSON object as its (key, value) pairs, in order, duplicates kept (serde and Python differ on them)."""


class _NotUsize:
    """A JSON number that serde_json would not read as a usize (negative, -0, fractional, over 2^64-1)."""


NOT_USIZE = _NotUsize()


class Rejected(Exception):
    """The safetensors loader refuses the header; the message says why, as one line."""


@dataclass(frozen=True, slots=True)
class _Tensor:
    name: str
    dtype: str
    shape: tuple[int, ...]
    begin: int
    end: int


class SafetensorsHeader(ArtifactScanner):
    """Parses a safetensors header as the loader does, and reports what the loader rejects or the file hides.

    ## Why it matters
    safetensors carries no code, so the attacks on it are about bytes and parsers. A header the loader
    accepts can still hide data: bytes after the last tensor or between tensors (the reference loader
    refuses them since it checks that the tensors cover the data section exactly, but ComfyUI's own
    reader, older releases and hand-written readers ignore them, so a payload or a second file format
    rides along), or duplicate keys, where the loader keeps the last definition and another reader the
    first. A header the loader rejects is not a loadable model at all.

    ## What it checks
    The 8-byte little-endian length (at most 100,000,000 bytes, within the file), a UTF-8 JSON object as
    strict as serde_json (no NaN, no lone surrogates, nesting under 128), `__metadata__` a string-to-string
    map, each tensor's dtype, shape and `data_offsets`, shape × dtype size equal to the span, offsets
    inside the file: AIR401 when the loader would refuse the file. Bytes no tensor covers (trailing data,
    gaps, spans larger than their tensor) are AIR402: high from 16 bytes on, which is room for a payload.
    Overlapping tensors are AIR403 (high: the loader refuses them, other readers alias one tensor into
    another); what parsers read differently (duplicate tensor or metadata keys, of which the loader keeps
    the last; a dtype written as the enum map `{"F32": null}`) AIR404; more than 1 MiB or 1024 entries
    of metadata AIR405 (low; high over 16 MiB, a denial-of-service shape); a metadata value that names an
    execution primitive (`__import__('os').system(...)`, `subprocess.run`, `eval(`, `pickle.loads`, a pipe
    into a shell; parsed as Python when it is Python, so a dotted module name or JSON is not code) AIR408;
    other values that look like code, URLs, very long values and tensor fields the loader ignores AIR406;
    a header too large for airlock to vet AIR407 (high: it was not parsed to the end). A file whose
    declared length does not fit (so format detection does not call it safetensors) but whose bytes go
    on as a JSON object is vetted too. Only the header is read, never the tensor data (a few bytes of a
    hidden region are sniffed to say what they look like).

    ## Example
    `model.safetensors` whose tensors end 2 KiB before the file does, and those 2 KiB are a pickle:
    AIR402 (high) at `model.safetensors@byte:<where they start>`, evidence `looks_like: pickle`.

    ## References
    - https://github.com/huggingface/safetensors (format and `read_metadata`)
    - https://github.com/Comfy-Org/ComfyUI/issues/15599 (a reader that accepts trailing bytes)
    - AML.T0010, CWE-20, CWE-436
    """

    name = "safetensors_header"
    version = "2"
    formats: ClassVar[frozenset[Format]] = frozenset({Format.SAFETENSORS})
    rules: ClassVar[frozenset[str]] = frozenset({f"AIR40{n}" for n in range(1, 9)})

    def applies(self, artifact: Artifact) -> bool:
        # Format detection only says "safetensors" when the declared length fits the file; a JSON object
        # after a length that does not fit is still a safetensors header (a broken or hostile one).
        return artifact.format in self.formats or (
            artifact.format is Format.UNKNOWN and _shaped_like(artifact)
        )

    def scan(self, artifact: Artifact, ctx: ScanContext) -> Iterator[Finding]:
        with open(artifact.location, "rb") as fh:
            yield from _Check(self.name, artifact, ctx, fh).run()


@dataclass
class _Check:
    scanner: str
    artifact: Artifact
    ctx: ScanContext
    fh: BinaryIO

    def finding(self, rule: str, where: str, message: str, evidence: dict[str, Any] | None = None,
                severity: Severity | None = None) -> Finding:  # fmt: skip
        location = f"{self.artifact.path}@{where}"
        return self.ctx.finding(rule, self.scanner, self.artifact.path, location, message, evidence, severity)

    def run(self) -> Iterator[Finding]:
        size = self.artifact.size
        length = struct.unpack("<Q", self.fh.read(8))[0] if size >= 8 else None
        if length is None or length > LOADER_MAX_HEADER or 8 + length > size:
            yield self.finding(
                "AIR401", "header", _length_problem(length, size), {"declared": length, "file_size": size}
            )
            return
        raw = self.fh.read(length)
        members = raw.count(b":")  # an upper bound on JSON members, counted before building any of them
        if members > self.ctx.limits.max_entries:
            yield self.finding(
                "AIR407",
                "header",
                f"header of {length} bytes has up to {members} members, more than airlock vets",
                {"limit": self.ctx.limits.max_entries},
            )
            return
        try:
            document = parse_header(raw)
        except Rejected as exc:
            yield self.finding(
                "AIR401", "header", f"the loader rejects the header: {exc}", {"header_length": length}
            )
            return
        tensors, metadata, findings = self._structure(document)
        yield from findings
        if metadata is not None:
            yield from self._metadata(metadata)
        if tensors is not None:
            yield from self._geometry(tensors, size - 8 - length, 8 + length)

    def _structure(
        self, document: _Object
    ) -> tuple[list[_Tensor] | None, list[tuple[str, str]] | None, list[Finding]]:
        found: list[Finding] = []
        metadata_entries = [v for k, v in document if k == "__metadata__"]
        entries = [(k, v) for k, v in document if k != "__metadata__"]
        if len(metadata_entries) > 1:
            found.append(
                self.finding(
                    "AIR401",
                    "header:__metadata__",
                    "the loader rejects the header: duplicate field `__metadata__`",
                )
            )
            return None, None, found
        metadata: list[tuple[str, str]] | None = []
        if metadata_entries and metadata_entries[0] is not None:
            metadata, problem = _metadata_pairs(metadata_entries[0])
            if problem:
                found.append(
                    self.finding("AIR401", "header:__metadata__", f"the loader rejects the header: {problem}")
                )
                metadata = None
        for key, count in _repeated(k for k, _ in metadata or ()):
            values = [v[:80] for k, v in metadata or () if k == key]
            found.append(
                self.finding(
                    "AIR404",
                    f"header:__metadata__:{key}",
                    f"metadata key {key!r} appears {count} times; the loader keeps the last",
                    {"values": values},
                )
            )
        for name, count in _repeated(k for k, _ in entries):
            found.append(
                self.finding(
                    "AIR404",
                    f"header:tensor:{name}",
                    f"tensor {name!r} is defined {count} times; the loader keeps the last, other readers may keep the first",
                    {"definitions": [json.dumps(_plain(v))[:200] for k, v in entries if k == name]},
                )
            )
        tensors: list[_Tensor] = []
        rejected = 0
        for name, info in dict(entries).items():
            tensor, problem, unknown = _tensor(name, info)
            if tensor is not None and isinstance(dict(info)["dtype"], _Object):
                found.append(
                    self.finding(
                        "AIR404",
                        f"header:tensor:{name}",
                        f"tensor {name!r} writes its dtype as the map {{{tensor.dtype!r}: null}}, which the loader "
                        "accepts and other readers do not",
                        {"dtype": tensor.dtype},
                    )
                )
            if unknown:
                found.append(
                    self.finding(
                        "AIR406",
                        f"header:tensor:{name}",
                        f"tensor {name!r} carries fields the loader ignores: {', '.join(unknown)[:120]}",
                        {"fields": unknown[:20]},
                    )
                )
            if problem:
                rejected += 1
                if rejected <= MAX_REPORTED:
                    found.append(
                        self.finding(
                            "AIR401",
                            f"header:tensor:{name}",
                            f"the loader rejects tensor {name!r}: {problem}",
                        )
                    )
            elif tensor is not None:
                tensors.append(tensor)
        return (None if rejected else tensors), metadata, found

    def _geometry(self, tensors: list[_Tensor], data_len: int, data_start: int) -> Iterator[Finding]:
        ordered = sorted(tensors, key=lambda t: (t.begin, t.end))
        reported = 0
        cursor = span_end = 0
        owner = ""
        regions: list[tuple[int, int, str]] = []
        for t in ordered:
            problem, nbytes = _span_problem(t, data_len)
            if problem:
                reported += 1
                if reported <= MAX_REPORTED:
                    yield self.finding(
                        "AIR401",
                        f"header:tensor:{t.name}",
                        f"the loader rejects tensor {t.name!r}: {problem}",
                        {"dtype": t.dtype, "shape": list(t.shape), "data_offsets": [t.begin, t.end]},
                    )
            if t.begin < span_end:
                yield self.finding(
                    "AIR403",
                    f"header:tensor:{t.name}",
                    f"tensor {t.name!r} [{t.begin}, {t.end}) overlaps {owner!r}, which ends at {span_end}",
                    {"tensor": t.name, "overlaps": owner, "data_offsets": [t.begin, t.end]},
                )
            if t.begin > cursor:
                regions.append((cursor, min(t.begin, data_len), "slack" if cursor < span_end else "gap"))
            cursor = max(cursor, min(t.begin + min(nbytes, t.end - t.begin), data_len))
            if t.end > span_end:
                span_end, owner = t.end, t.name
        if data_len > cursor:
            regions.append((cursor, data_len, "slack" if cursor < span_end else "trailing"))
        yield from self._hidden([(a, b, k) for a, b, k in regions if b > a], data_start)

    def _hidden(self, regions: list[tuple[int, int, str]], data_start: int) -> Iterator[Finding]:
        total = sum(b - a for a, b, _ in regions)
        severity = Severity.HIGH if total >= PAYLOAD_BYTES else Severity.MEDIUM
        for index, (begin, end, kind) in enumerate(regions[:MAX_REPORTED]):
            offset = data_start + begin
            self.fh.seek(offset)
            head = self.fh.read(min(SNIFF_BYTES, end - begin))
            evidence = {"offset": offset, "length": end - begin, "kind": kind, "hidden_total": total,
                        "looks_like": str(detect(head, head, len(head))), "head_hex": head[:32].hex(),
                        "loader": "the reference loader refuses files whose tensors do not cover the data exactly; "
                                  "other readers skip these bytes"}  # fmt: skip
            if index == MAX_REPORTED - 1 and len(regions) > MAX_REPORTED:
                evidence["more_regions"] = len(regions) - MAX_REPORTED
            yield self.finding(
                "AIR402",
                f"byte:{offset}",
                f"{end - begin} {kind} bytes at {offset} that no tensor describes",
                evidence,
                severity,
            )

    def _metadata(self, metadata: list[tuple[str, str]]) -> Iterator[Finding]:
        size = sum(len(k.encode()) + len(v.encode()) for k, v in metadata)
        if size > METADATA_MAX_BYTES or len(metadata) > METADATA_MAX_ENTRIES:
            huge = size > METADATA_HUGE_BYTES
            message = f"metadata of {len(metadata)} entries and {size} bytes"
            if huge:
                message += f", over {METADATA_HUGE_BYTES >> 20} MiB: readers that load the header whole need ~10x that in memory"
            yield self.finding("AIR405", "header:__metadata__", message,
                               {"entries": len(metadata), "bytes": size,
                                "limits": {"entries": METADATA_MAX_ENTRIES, "bytes": METADATA_MAX_BYTES,
                                           "high_from_bytes": METADATA_HUGE_BYTES}},
                               Severity.HIGH if huge else None)  # fmt: skip
        finder = _ExecFinder()
        executes = suspicious = 0
        for key, value in metadata:
            primitive = finder.find(value) if executes < MAX_REPORTED else None
            if primitive is not None:
                executes += 1
                yield self.finding(
                    "AIR408",
                    f"header:__metadata__:{key}",
                    f"metadata value {key!r} names an execution primitive: {primitive}",
                    {"match": primitive, "length": len(value)},
                )
                continue
            code, url = _CODE.search(value), _URL.search(value)
            if not (code or url or len(value) >= LONG_VALUE) or suspicious >= MAX_REPORTED:
                continue
            suspicious += 1
            what = (
                "looks like code" if code else ("holds a URL" if url else f"is {len(value)} characters long")
            )
            match = code or url
            yield self.finding(
                "AIR406",
                f"header:__metadata__:{key}",
                f"metadata value {key!r} {what}",
                {"match": match.group(0)[:120] if match else None, "length": len(value)},
                Severity.LOW if code else None,
            )


def _shaped_like(artifact: Artifact) -> bool:
    with open(artifact.location, "rb") as fh:
        head = fh.read(SNIFF_BYTES)
    return len(head) > 9 and head[8:].lstrip(b" \t\r\n")[:1] == b"{"


def parse_header(raw: bytes) -> _Object:
    """The header as serde_json reads it into safetensors' types, or `Rejected` with the loader's reason."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Rejected(f"not UTF-8 at byte {exc.start}") from None
    try:
        document = json.loads(text, object_pairs_hook=_Object, parse_int=_parse_int, parse_float=_parse_float,
                              parse_constant=_parse_constant)  # fmt: skip
    except RecursionError:
        raise Rejected("nested too deeply") from None
    except ValueError as exc:
        raise Rejected(f"invalid JSON: {exc}"[:200]) from None
    if not isinstance(document, _Object):
        raise Rejected(f"the header is a JSON {type(document).__name__}, not an object")
    _check_tree(document)
    return document


def _check_tree(document: _Object) -> None:
    """Depth under serde_json's limit; no string with a lone surrogate (serde_json refuses both)."""
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > SERDE_MAX_DEPTH:
            raise Rejected(f"nesting deeper than {SERDE_MAX_DEPTH} levels")
        items = [p for pair in value for p in pair] if isinstance(value, _Object) else value
        for item in items:
            if isinstance(item, (list, _Object)):
                stack.append((item, depth + 1))
            elif isinstance(item, str) and not item.isascii() and not _encodable(item):
                raise Rejected("a string holds a lone UTF-16 surrogate escape")


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _parse_int(text: str) -> int | _NotUsize:
    value = int(text)
    if text.startswith("-") or value > U64_MAX:
        _parse_float(text)  # serde reads it as an f64, and refuses infinity
        return NOT_USIZE
    return value


def _parse_float(text: str) -> _NotUsize:
    if math.isinf(float(text)):
        raise ValueError(f"number out of range: {text[:20]}")
    return NOT_USIZE


def _parse_constant(text: str) -> None:
    raise ValueError(f"{text} is not JSON")


def _length_problem(length: int | None, size: int) -> str:
    if length is None:
        return f"the loader rejects the file: {size} bytes, too small for the 8-byte header length"
    if length > LOADER_MAX_HEADER:
        return f"the header declares {length} bytes, over the loader's {LOADER_MAX_HEADER}-byte limit"
    return f"the header declares {length} bytes, but only {size - 8} follow the length"


def _metadata_pairs(value: Any) -> tuple[list[tuple[str, str]], str | None]:
    if not isinstance(value, _Object):
        return [], f"`__metadata__` is a {_kind(value)}, not a map"
    bad = next((k for k, v in value if not isinstance(v, str)), None)
    return list(value), (f"metadata value {bad!r} is not a string" if bad is not None else None)


def _tensor(name: str, info: Any) -> tuple[_Tensor | None, str | None, list[str]]:
    """The tensor, or why the loader refuses its entry; plus the fields the loader ignores."""
    if not isinstance(info, _Object):
        return None, f"its entry is a {_kind(info)}, not an object", []
    counts = Counter(k for k, _ in info)
    unknown = sorted(k for k in counts if k not in TENSOR_FIELDS)
    fields = dict(info)
    if any(counts[f] > 1 for f in TENSOR_FIELDS):
        return None, "a field is given twice", unknown
    missing = [f for f in TENSOR_FIELDS if f not in fields]
    if missing:
        return None, f"missing field {missing[0]}", unknown
    dtype, shape, offsets = fields["dtype"], fields["shape"], fields["data_offsets"]
    if isinstance(dtype, _Object) and len(dtype) == 1 and dtype[0][1] is None:
        dtype = dtype[0][0]  # serde also reads an enum variant written as {"F32": null}
    if not isinstance(dtype, str) or dtype not in DTYPE_BITS:
        return None, f"unknown dtype {dtype!r}", unknown
    if not isinstance(shape, list) or not all(_usize(d) for d in shape):
        return None, "shape is not a list of non-negative integers", unknown
    if not isinstance(offsets, list) or len(offsets) != 2 or not all(_usize(o) for o in offsets):
        return None, "data_offsets is not a pair of non-negative integers", unknown
    return _Tensor(name, dtype, tuple(shape), offsets[0], offsets[1]), None, unknown


def _span_problem(t: _Tensor, data_len: int) -> tuple[str | None, int]:
    """Why the loader's validation refuses the tensor's offsets, and its size in bytes per shape and dtype
    (the span itself where that size cannot be computed)."""
    elements = 1
    for d in t.shape:
        elements *= d
        if elements > U64_MAX:
            return f"shape {list(t.shape)} overflows a 64-bit element count", t.end - t.begin
    bits = elements * DTYPE_BITS[t.dtype]
    if bits > U64_MAX:
        return f"shape {list(t.shape)} of {t.dtype} overflows a 64-bit size", t.end - t.begin
    if bits % 8:
        return f"{elements} {t.dtype} values do not end on a byte boundary", t.end - t.begin
    nbytes = bits // 8
    if t.end < t.begin:
        return f"data_offsets [{t.begin}, {t.end}] end before they begin", nbytes
    if t.end > data_len:
        return f"data_offsets end at {t.end}, past the {data_len}-byte data section", nbytes
    if t.end - t.begin != nbytes:
        return (
            f"shape {list(t.shape)} of {t.dtype} is {nbytes} bytes, data_offsets span {t.end - t.begin}",
            nbytes,
        )
    return None, nbytes


def _plain(value: Any) -> Any:
    """Parsed JSON back in plain Python types, for evidence (the last of duplicate keys wins, as in the loader)."""
    if isinstance(value, _Object):
        return {k: _plain(v) for k, v in value}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return None if value is NOT_USIZE else value


def _usize(value: Any) -> bool:
    return type(value) is int and 0 <= value <= U64_MAX


def _kind(value: Any) -> str:
    return {_Object: "object", list: "list", str: "string", type(None): "null", bool: "boolean"}.get(
        type(value), "number"
    )


def _repeated(keys: Iterator[str]) -> list[tuple[str, int]]:
    return [(k, n) for k, n in Counter(keys).items() if n > 1]


@dataclass
class _ExecFinder:
    """Finds the execution primitive a metadata value names: parsed as Python when it is Python (calls,
    attribute chains and imports that reach a shell, an evaluator, a module importer or an unpickler),
    else matched by pattern. A dotted name that reaches none (`networks.lora`), JSON, prose: nothing."""

    budget: int = PYTHON_BUDGET

    def find(self, value: str, depth: int = 0) -> str | None:
        if not _EXEC_HINT.search(value):
            return None
        if len(value) <= min(PYTHON_MAX_CHARS, self.budget):
            self.budget -= len(value)
            try:
                return self._in_tree(value, pysource.parse(value), depth)
            except (pysource.Unparseable, RecursionError):
                pass
        match = _EXEC_PATTERN.search(value)
        return value[match.start() : match.start() + 120].split("\n", 1)[0].strip() if match else None

    def _in_tree(self, source: str, tree: ast.Module, depth: int) -> str | None:
        for node in ast.walk(tree):
            if _names_primitive(node):
                return (ast.get_source_segment(source, node) or type(node).__name__)[:120]
            if depth < NESTED_DEPTH and isinstance(node, ast.Constant) and isinstance(node.value, str):
                found = self.find(node.value, depth + 1)
                if found:
                    return found
        return None


def _names_primitive(node: ast.AST) -> bool:
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Name) and func.id in _BARE_CALLS:
            return True
        if isinstance(func, ast.Name) and func.id == "getattr" and len(node.args) >= 2:
            target, attribute = _dotted(node.args[0]), node.args[1]
            named = isinstance(attribute, ast.Constant) and attribute.value in _PRIMITIVE_NAMES
            return named or (target is not None and (target[0] in _PRIMITIVES or target[0] in _GADGETS))
        return isinstance(func, ast.Attribute) and _names_primitive(func)
    if isinstance(node, ast.Attribute):
        if node.attr in _GADGETS:
            return True
        parts = _dotted(node)
        return (
            parts is not None
            and len(parts) >= 2
            and parts[0] in _PRIMITIVES
            and _PRIMITIVES[parts[0]].fullmatch(parts[-1]) is not None
        )
    if isinstance(node, ast.Name):
        return node.id in _GADGETS
    if isinstance(node, ast.Import):  # `import subprocess`, or an exec-capable module under another name
        roots = [(a.name.split(".")[0], a.asname) for a in node.names]
        return any(root in _PROCESS_MODULES or (alias and root in _PRIMITIVES) for root, alias in roots)
    if isinstance(node, ast.ImportFrom) and node.module:  # `from os import system`
        pattern = _PRIMITIVES.get(node.module.split(".")[0])
        return pattern is not None and any(a.name == "*" or pattern.fullmatch(a.name) for a in node.names)
    return False


def _dotted(node: ast.AST) -> list[str] | None:
    """`os.path.join` as ['os', 'path', 'join']; `__import__('os').system` as ['os', 'system']."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    elif isinstance(node, ast.Call) and (module := _imported(node)):
        parts.append(module)
    else:
        return None
    return parts[::-1]


def _imported(call: ast.Call) -> str | None:
    """The module that `__import__('os')` or `importlib.import_module('os')` returns (its top-level name)."""
    func = call.func
    name = func.id if isinstance(func, ast.Name) else (func.attr if isinstance(func, ast.Attribute) else None)
    if name not in ("__import__", "import_module") or not call.args:
        return None
    first = call.args[0]
    return (
        first.value.split(".")[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str)
        else None
    )
