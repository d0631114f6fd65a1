"""The native_binaries scanner: compiled libraries and executables (ELF, PE, Mach-O) shipped with a model.

Format detection tells them apart by their headers, whatever the file is called; this scanner reads
a few header fields (what kind of file, for which machine) as evidence. Nothing is loaded or run.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import ClassVar

from airlock.artifacts import Artifact
from airlock.findings import Finding
from airlock.formats import HEAD_BYTES, Format, native_kind
from airlock.scanning import ArtifactScanner, ScanContext

RULE = "AIR630"
# Formats that `detect` settles before it looks for a native header, and that can hide one in
# front: zips (loaders skip a prefix), HDF5 (its superblock may sit after a 512-byte user block), tar.
POLYGLOT_HOSTS = frozenset({Format.ZIP, Format.PYTORCH_ZIP, Format.TORCHSCRIPT, Format.KERAS_ZIP,
                            Format.NUMPY_NPZ, Format.HDF5, Format.TAR})  # fmt: skip
SNIFF_BYTES = 4096  # how much of a polyglot host is read to look for a native header

ELF_TYPES = {1: "relocatable object", 2: "executable", 3: "shared object", 4: "core dump"}
ELF_MACHINES = {
    3: "x86",
    8: "MIPS",
    20: "PowerPC",
    21: "PowerPC64",
    40: "ARM",
    62: "x86-64",
    183: "AArch64",
    243: "RISC-V",
}
PE_MACHINES = {0x14C: "x86", 0x8664: "x86-64", 0x1C0: "ARM", 0x1C4: "ARM Thumb-2", 0xAA64: "ARM64"}
MACHO_TYPES = {1: "object", 2: "executable", 6: "dynamic library", 8: "bundle"}
MACHO_CPUS = {
    7: "x86",
    0x01000007: "x86-64",
    12: "ARM",
    0x0100000C: "ARM64",
    18: "PowerPC",
    0x01000012: "PowerPC64",
}


class NativeBinaries(ArtifactScanner):
    """Reports compiled libraries and executables (ELF, PE, Mach-O) that ship with a model.

    ## Why it matters
    airlock vets what a loader reads (pickles, configs, graphs, Python source); it cannot vet
    machine code. A model that needs native code gets it in through the repository: an ONNX model
    whose custom-domain operators (AIR522) run only once a custom-op library is registered, a
    Python extension module (`name.cpython-311-x86_64-linux-gnu.so`, `.pyd`) that an import picks up
    from the model folder, a `ctypes` or `torch.ops.load_library` call in modeling code. Shipping the
    library is what turns an inert custom operator into code that runs when the model is loaded.

    ## What it checks
    Every file whose bytes start with an ELF, PE (an `MZ` header whose `e_lfanew` points at a PE
    signature) or Mach-O header (thin or universal, either byte order), whatever its name: AIR630
    (high), once per file, with the kind of file and the machine as evidence. A zip, HDF5 or tar
    file that starts with such a header (a polyglot, which loaders open as the container and the
    dynamic linker as a library) is reported too.

    ## Example
    `libevil_ops.so` beside an ONNX model whose nodes use the domain `com.evil.ops`: AIR630 (high)
    at `libevil_ops.so@header`, an ELF shared object.

    ## References
    - AML.T0010, AML.T0011, CWE-829, CWE-506
    """

    name = "native_binaries"
    version = "1"
    formats: ClassVar[frozenset[Format]] = frozenset({Format.NATIVE})
    rules: ClassVar[frozenset[str]] = frozenset({RULE})

    def __init__(self) -> None:
        self._polyglots: dict[tuple[str, str], bool] = {}  # (path, sha256) -> starts with a native header

    def applies(self, artifact: Artifact) -> bool:
        if artifact.format is Format.NATIVE:
            return True
        if artifact.format not in POLYGLOT_HOSTS:
            return False
        key = (artifact.path, artifact.sha256)
        if key not in self._polyglots:
            self._polyglots[key] = native_kind(_head(artifact, SNIFF_BYTES)) is not None
        return self._polyglots[key]

    def scan(self, artifact: Artifact, ctx: ScanContext) -> Iterator[Finding]:
        head = _head(artifact, HEAD_BYTES)
        kind = native_kind(head)
        if kind is None:  # changed on disk since it was hashed: nothing to report from these bytes
            return
        what, machine = describe(kind, head)
        label = f"{kind} {what}" + (f" ({machine})" if machine else "")
        host = (
            ""
            if artifact.format is Format.NATIVE
            else f", in front of a file that loaders open as {artifact.format}"
        )
        yield ctx.finding(
            RULE,
            self.name,
            artifact.path,
            f"{artifact.path}@header",
            f"{label}{host}: native code ships with the model, and airlock cannot vet it",
            {"kind": kind, "type": what, "machine": machine, "detected_as": str(artifact.format)},
        )


def _head(artifact: Artifact, size: int) -> bytes:
    with open(artifact.location, "rb") as fh:
        return fh.read(size)


def describe(kind: str, head: bytes) -> tuple[str, str | None]:
    """(file type, machine) from the header `native_kind` recognised; fields it cannot read are generic."""
    if kind == "ELF":
        order = "<" if head[5] == 1 else ">"
        if len(head) < 20:
            return "file", None
        e_type, e_machine = struct.unpack_from(order + "HH", head, 16)
        return ELF_TYPES.get(e_type, f"file of type {e_type}"), ELF_MACHINES.get(
            e_machine, f"machine {e_machine}"
        )
    if kind == "PE":
        (offset,) = struct.unpack_from("<I", head, 0x3C)
        if len(head) < offset + 24:
            return "file", None
        machine, characteristics = struct.unpack_from("<H16xH", head, offset + 4)
        what = "DLL" if characteristics & 0x2000 else "executable"
        return what, PE_MACHINES.get(machine, f"machine {machine:#x}")
    if head[:4] in (b"\xca\xfe\xba\xbe", b"\xca\xfe\xba\xbf", b"\xbe\xba\xfe\xca", b"\xbf\xba\xfe\xca"):
        order = ">" if head[0] == 0xCA else "<"
        (arches,) = struct.unpack_from(order + "I", head, 4)
        return "universal binary", f"{arches} architecture(s)"
    order = ">" if head[0] == 0xFE else "<"
    cputype, _, filetype = struct.unpack_from(order + "III", head, 4)
    return MACHO_TYPES.get(filetype, f"file of type {filetype}"), MACHO_CPUS.get(cputype, f"cpu {cputype:#x}")
