"""The GGUF header: counts, lengths and tensor layout checked against the file; the tensor data is never read."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from airlock.artifacts import Artifact
from airlock.findings import Finding, Severity
from airlock.formats import Format, detect
from airlock.parsers.gguf import Fault, Header, Tensor, read_header
from airlock.scanning import ArtifactScanner, ScanContext

PAYLOAD_BYTES = 16
MAX_REPORTED = 20
SNIFF_BYTES = 64
RULE_OF_FAULT = {Fault.MALFORMED: "AIR421", Fault.ABSURD: "AIR422", Fault.LIMIT: "AIR425"}


def header_of(artifact: Artifact, ctx: ScanContext) -> Header:
    """The parsed header (`read_header` caches it by content: the chat-template scanner reads it too)."""
    return read_header(artifact.location, artifact.size, artifact.sha256,
                       limit=ctx.limits.max_header_bytes, max_entries=ctx.limits.max_entries)  # fmt: skip


class GgufHeader(ArtifactScanner):
    """Parses the GGUF header as llama.cpp does, bounded, and checks every count, length and offset against the file.

    ## Why it matters
    GGUF is the format of llama.cpp, Ollama, LM Studio and their forks, and its header has been their
    attack surface: key-value counts, string and array lengths, tensor shapes that make the loader
    allocate too little or absurdly much (ggml#709; CVE-2025-53630 and its bypass CVE-2026-27940) and
    tensor offsets that point outside the mapped data. The chat template in its metadata is vetted
    by the chat-template scanner.

    ## What it checks
    Magic, version 1-3 (either byte order), counts and lengths against the bytes that follow and
    llama.cpp's maxima (AIR422 when they ask for more: the heap-overflow shape); value types, nested
    arrays, duplicate keys, `general.alignment`, tensor names, dimensions, ggml types and block sizes
    (AIR421 when llama.cpp refuses them); a header larger than airlock's limits is AIR425. Tensor data
    inside the file, aligned, not overlapping and where llama.cpp expects it (AIR423); bytes after the
    last tensor, or between tensors beyond alignment padding (AIR424, high from 16 bytes on).

    ## Example
    `model.gguf` declaring 2^62 key-value pairs in a 200-byte file: AIR422 (high) at `model.gguf@header`.

    ## References
    - https://github.com/ggml-org/ggml/pull/709, https://github.com/ggml-org/llama.cpp/pull/19856
    - CVE-2025-53630, CVE-2026-27940, AML.T0010, CWE-190, CWE-122
    """

    name = "gguf_header"
    version = "1"
    formats: ClassVar[frozenset[Format]] = frozenset({Format.GGUF})
    rules: ClassVar[frozenset[str]] = frozenset({"AIR421", "AIR422", "AIR423", "AIR424", "AIR425"})

    def scan(self, artifact: Artifact, ctx: ScanContext) -> Iterator[Finding]:
        header = header_of(artifact, ctx)
        check = _Check(self.name, artifact, ctx)
        if header.problem is not None:
            problem = header.problem
            yield check.finding(
                RULE_OF_FAULT[problem.fault],
                problem.where,
                problem.message,
                {
                    "version": header.version,
                    "keys_read": len(header.kvs),
                    "tensors_read": len(header.tensors),
                },
            )
            return
        yield from check.layout(header)


@dataclass
class _Check:
    scanner: str
    artifact: Artifact
    ctx: ScanContext

    def finding(self, rule: str, where: str, message: str, evidence: dict[str, Any] | None = None,
                severity: Severity | None = None) -> Finding:  # fmt: skip
        location = f"{self.artifact.path}@{where}"
        return self.ctx.finding(rule, self.scanner, self.artifact.path, location, message, evidence, severity)

    def layout(self, header: Header) -> Iterator[Finding]:
        size, align = self.artifact.size, header.alignment
        data_start = _pad(header.end, align)
        if header.tensors and data_start > size:
            yield self.finding(
                "AIR421", "header", f"the data section would start at {data_start}, past the end of the file"
            )
            return
        data_len = size - data_start
        expected = 0
        reported = 0
        for tensor in header.tensors:
            problem = _placement(tensor, expected, align, data_len)
            expected += _pad(tensor.nbytes, align)
            if problem and reported < MAX_REPORTED:
                reported += 1
                yield self.finding(
                    "AIR423",
                    f"tensor:{tensor.name}",
                    f"tensor {tensor.name!r} {problem}",
                    {
                        "offset": tensor.offset,
                        "nbytes": tensor.nbytes,
                        "alignment": align,
                        "data_start": data_start,
                    },
                )
        yield from self._overlaps(header.tensors)
        yield from self._hidden(_hidden_regions(header.tensors, align, data_len), data_start)

    def _overlaps(self, tensors: tuple[Tensor, ...]) -> Iterator[Finding]:
        end, owner = 0, ""
        for tensor in sorted(tensors, key=lambda t: t.offset):
            if tensor.offset < end and tensor.nbytes:
                yield self.finding(
                    "AIR423",
                    f"tensor:{tensor.name}",
                    f"tensor {tensor.name!r} at {tensor.offset} overlaps {owner!r}, which ends at {end}",
                    {"offset": tensor.offset, "overlaps": owner},
                )
            if tensor.offset + tensor.nbytes > end:
                end, owner = tensor.offset + tensor.nbytes, tensor.name

    def _hidden(self, regions: list[tuple[int, int]], data_start: int) -> Iterator[Finding]:
        total = sum(b - a for a, b in regions)
        severity = Severity.HIGH if total >= PAYLOAD_BYTES else Severity.MEDIUM
        for begin, end in regions[:MAX_REPORTED]:
            offset = data_start + begin
            with open(self.artifact.location, "rb") as fh:
                fh.seek(offset)
                head = fh.read(min(SNIFF_BYTES, end - begin))
            yield self.finding("AIR424", f"byte:{offset}", f"{end - begin} bytes at {offset} that no tensor describes",
                               {"offset": offset, "length": end - begin, "hidden_total": total,
                                "looks_like": str(detect(head, head, len(head))), "head_hex": head[:32].hex()},
                               severity)  # fmt: skip


def _pad(n: int, align: int) -> int:
    return (n + align - 1) // align * align


def _placement(tensor: Tensor, expected: int, align: int, data_len: int) -> str | None:
    if tensor.offset % align:
        return f"starts at {tensor.offset}, not a multiple of the alignment {align}"
    if tensor.offset + tensor.nbytes > data_len:
        return f"ends at {tensor.offset + tensor.nbytes}, past the {data_len}-byte data section"
    if tensor.offset != expected:
        return f"starts at {tensor.offset}; llama.cpp expects {expected} and refuses the file"
    return None


def _hidden_regions(tensors: tuple[Tensor, ...], align: int, data_len: int) -> list[tuple[int, int]]:
    """Ranges of the data section that no tensor covers, alignment padding allowed."""
    regions: list[tuple[int, int]] = []
    cursor = 0
    for tensor in sorted(tensors, key=lambda t: t.offset):
        start = min(_pad(cursor, align), data_len)
        if tensor.offset > start:
            regions.append((start, min(tensor.offset, data_len)))
        cursor = max(cursor, min(tensor.offset + tensor.nbytes, data_len))
    start = _pad(cursor, align)
    if data_len > start:
        regions.append((start, data_len))
    return [(a, b) for a, b in regions if b > a]
