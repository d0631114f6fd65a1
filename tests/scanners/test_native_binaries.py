"""native_binaries: ELF, PE and Mach-O files shipped with a model, whatever they are named, and their look-alikes."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from airlock.artifacts import read_artifact
from airlock.findings import Severity
from airlock.formats import Format
from airlock.pipeline import ScanOptions, scan
from airlock.report import Report
from airlock.scanning import CheckStatus
from fixtures import graph_files
from fixtures.graph_files import elf_header, macho_fat_header, macho_header, pe_header
from tests.conftest import Generated


def _scan(path: Path, scanners: list[str] | None = None) -> Report:
    return scan(str(path), ScanOptions(use_cache=False, scanners=scanners or ["native_binaries"]))


@pytest.mark.parametrize(
    "name, data, kind, what, machine",
    [
        ("libops.so", elf_header(), "ELF", "shared object", "x86-64"),
        ("weights.bin", elf_header(2, 20, bits=32, order=">"), "ELF", "executable", "PowerPC"),
        ("tokenizer.model", pe_header(), "PE", "DLL", "x86-64"),
        ("setup.exe.txt", pe_header(0xAA64, dll=False), "PE", "executable", "ARM64"),
        ("model.safetensors", macho_header(), "Mach-O", "dynamic library", "ARM64"),
        ("vocab.json", macho_header(18, 2, order=">"), "Mach-O", "executable", "PowerPC"),
        ("README.md", macho_fat_header(), "Mach-O", "universal binary", "2 architecture(s)"),
    ],
)
def test_every_native_kind_is_reported_high_whatever_its_name(
    name: str, data: bytes, kind: str, what: str, machine: str, tmp_path: Path
) -> None:
    (tmp_path / name).write_bytes(data + bytes(64))
    report = _scan(tmp_path)
    assert [(f.rule, f.severity, f.location) for f in report.findings] == [
        ("AIR630", Severity.HIGH, f"{name}@header")
    ]
    evidence = report.findings[0].evidence
    assert (evidence["kind"], evidence["type"], evidence["machine"], evidence["detected_as"]) == (
        kind,
        what,
        machine,
        "native-binary",
    )


def test_the_custom_op_library_beside_an_onnx_model_fails_the_default_policy(generated: Generated) -> None:
    report = scan(
        str(generated(graph_files.onnx_custom_domain)), ScanOptions(use_cache=False, download_progress=False)
    )
    found = {(f.rule, f.severity, f.location) for f in report.findings}
    assert ("AIR630", Severity.HIGH, "libevil_ops.so@header") in found
    assert ("AIR522", Severity.MEDIUM, "model.onnx#graph.node[0]") in found  # the domain alone stays medium
    assert not report.passed
    assert [f.rule for f in report.findings if f.severity >= Severity.HIGH] == ["AIR630"]


def _java_class() -> bytes:
    """The start of a Java 8 class file: 0xCAFEBABE, minor 0, major 52, then the constant pool."""
    return b"\xca\xfe\xba\xbe\x00\x00\x00\x34\x00\x1d\x0a\x00\x06\x00\x0f\x09" + bytes(48)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(
            b"MZ is the signature of DOS executables, and of this note about them.\n" * 4, id="mz-text"
        ),
        pytest.param(pe_header()[:0x80] + b"NE\0\0" + bytes(20), id="mz-without-pe-signature"),
        pytest.param(
            pe_header(pe_offset=0x80)[:0x3C] + (1 << 20).to_bytes(4, "little") + bytes(0x80),
            id="e_lfanew-past-the-file",
        ),
        pytest.param(_java_class(), id="java-class"),
        pytest.param(b"\xca\xfe\xba\xbe\x00\x00\x00\x00" + bytes(56), id="fat-without-architectures"),
        pytest.param(b"\xca\xfe\xba\xbe\x00\x00\x00\x03" + bytes(20), id="fat-table-cut-short"),
        pytest.param(b"\x7fELF\x00\x01\x01\x00" + bytes(56), id="elf-without-a-class"),
        pytest.param(b"\xcf\xfa\xed\xfe\x07", id="macho-magic-alone"),
    ],
)
def test_look_alikes_are_not_native(data: bytes, tmp_path: Path) -> None:
    path = tmp_path / "library.so"
    path.write_bytes(data)
    assert read_artifact(path.name, path).format is not Format.NATIVE
    report = _scan(tmp_path)
    assert report.findings == ()
    assert report.checks[0].status is CheckStatus.SKIPPED


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("notes.txt", "hello\n")
    return buffer.getvalue()


def test_a_native_header_in_front_of_a_zip_is_reported_and_the_zip_stays_a_zip(tmp_path: Path) -> None:
    """Loaders open it as a zip (they skip prefixes) and the dynamic linker as a library: both views hold."""
    path = tmp_path / "weights.zip"
    path.write_bytes(elf_header() + _zip())
    assert read_artifact(path.name, path).format is Format.ZIP
    assert zipfile.ZipFile(path).read("notes.txt") == b"hello\n"
    report = _scan(tmp_path)
    assert [(f.rule, f.severity) for f in report.findings] == [("AIR630", Severity.HIGH)]
    assert report.findings[0].evidence["detected_as"] == "zip"
    assert "loaders open as zip" in report.findings[0].message


def test_a_plain_zip_is_not_read_as_native(tmp_path: Path) -> None:
    (tmp_path / "weights.zip").write_bytes(_zip())
    report = _scan(tmp_path)
    assert report.findings == ()
    assert report.checks[0].status is CheckStatus.SKIPPED
