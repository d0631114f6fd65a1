"""Every file read the way every loader that might be pointed at it reads it (issue 11 §3).

Tables of loader behaviour: integer literals as the C unpickler parses them, files detected as one
format that `pickle.load`/`torch.load`/`joblib.load` read as a pickle from byte 0, PyTorch's
case-insensitive record lookup, joblib's compressors, and where each loader stops reading (bytes after
that point are AIR211/AIR222, high; known layouts are not)."""

from __future__ import annotations

import _pickle
import io
import lzma
import struct
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from airlock.findings import Severity
from airlock.formats import Format, detect
from airlock.parsers.pickle_walk import walk
from airlock.pipeline import ScanOptions, scan
from airlock.policy import parse_policy
from airlock.report import Report
from fixtures import pickles
from fixtures.canary import shell_command

SCANNERS = ["pickle_opcodes", "numpy_arrays", "archives"]
POLICY = parse_policy('name = "loaders"\nrequired_scanners = ["pickle_opcodes"]\n', "test")
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def _scan(path: Path) -> Report:
    return scan(str(path), ScanOptions(policy=POLICY, use_cache=False, scanners=SCANNERS))


def _high(report: Report) -> list[tuple[str, str]]:
    return [(f.rule, f.location) for f in report.findings if f.severity >= Severity.HIGH]


def _payload(name: str) -> bytes:
    return pickles.reduce_call("os", "system", shell_command(name), 0)  # protocol 0: "cos\nsystem\n..."


# --- integer literals: the C unpickler's reading -----------------------------------------------

INTEGER_LINES = [
    b"I01\n", b"I00\n", b"I 1\n", b"I+1\n", b"I-0\n", b"I+0\n", b"I\t1\n", b"I010\n", b"I001\n", b"I0x10\n",
    b"I-0x1f\n", b"I1_0\n", b"I 1 \n", b"I1 \n", b"I0b11\n", b"I99999999999999999999\n", b"I08\n", b"I1L\n",
    b"I0x\n", b"Ia\n", b"I\n", b"L0x10L\n", b"L010\n", b"L1_0L\n", b"L 5L\n", b"L-7\n", b"L\n",
]  # fmt: skip


@pytest.mark.parametrize("line", INTEGER_LINES, ids=repr)
def test_int_and_long_literals_read_as_the_unpickler_reads_them(line: bytes) -> None:
    data = line + b"."  # constants only: harmless to load
    try:
        expected: object = _pickle.loads(data)
    except Exception:  # noqa: BLE001  the loader refuses the literal
        expected = "error"
    result = walk(data)
    got = "error" if result.error else result.value
    assert (got, type(got)) == (expected, type(expected))


@pytest.mark.parametrize("text", [b" 1", b"1_0", b"+2", b"01"])
def test_text_memo_keys_read_base_10_like_int(text: bytes) -> None:
    data = b"I5\np" + text + b"\n0g" + text + b"\n."
    assert walk(data).value == _pickle.loads(data) == 5


# --- polyglots: another format, and a pickle from byte 0 ----------------------------------------


def _hdf5_user_block(_: str, payload: bytes) -> bytes:
    return payload.ljust(512, b"\0") + HDF5_MAGIC + bytes(64)


def _tar_named_pickle(_: str, payload: bytes) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo(payload.decode("latin-1"))
        info.size = 4
        tar.addfile(info, io.BytesIO(b"data"))
    return buf.getvalue()


def _pe_stub(_: str, payload: bytes) -> bytes:
    # "MZ\0": BININT2; "C" + length: SHORT_BINBYTES swallowing the DOS header up to and with e_lfanew
    header = bytearray(b"MZ\x00C" + bytes([0x40 - 5]) + bytes(0x40 - 5))
    pe_at = 0x40 + len(payload)
    struct.pack_into("<I", header, 0x3C, pe_at)
    return bytes(header) + payload + b"PE\0\0" + bytes(64)


def _zip_member(name: str, payload: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("weights/blob.h5", _hdf5_user_block(name, payload))
    return buf.getvalue()


POLYGLOTS: dict[str, tuple[Callable[[str, bytes], bytes], Format, str]] = {
    "hdf5-user-block": (_hdf5_user_block, Format.HDF5, "x.h5"),
    "tar-member-name": (_tar_named_pickle, Format.TAR, "x.tar"),
    "pe-stub": (_pe_stub, Format.NATIVE, "x.dll"),
    "hdf5-in-zip": (_zip_member, Format.ZIP, "x.zip"),
}


@pytest.mark.parametrize("case", sorted(POLYGLOTS))
def test_files_of_other_formats_are_also_read_as_a_pickle_from_byte_0(case: str, tmp_path: Path) -> None:
    build, fmt, name = POLYGLOTS[case]
    data = build(case, _payload(case))
    assert detect(data[: 1 << 16], data[-(1 << 20) :], len(data)) is fmt
    path = tmp_path / name
    path.write_bytes(data)
    report = _scan(path)
    rules = {f.rule for f in report.findings}
    assert {"AIR201", "AIR215"} <= rules
    assert not report.verdict.passed


@pytest.mark.parametrize(
    "data",
    [HDF5_MAGIC + bytes(100)]
    + [head.ljust(512, b"\0") + HDF5_MAGIC + bytes(64) for head in (b"\x80\x02", b"K\x05Q", b"}N.")],
    ids=["hdf5", "proto-then-nul", "binpersid-of-int", "constants-then-stop"],
)
def test_binary_files_that_read_as_constants_are_no_pickle(data: bytes, tmp_path: Path) -> None:
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    assert [f.rule for f in _scan(path).findings if f.rule.startswith("AIR2")] == []


def _safetensors_opening_with_persid(folder: Path, tail: bytes) -> bytes:
    """A valid safetensors file whose header length has the low byte 0x50 ("P", PERSID): from byte 0
    it reads as a persistent id running to the first newline, which its tensor bytes put before
    `tail`. Every loader that reads a file from byte 0 raises at PERSID."""
    from safetensors.numpy import save_file

    folder.mkdir()
    data = np.frombuffer(b"\x01\x02\n" + tail, np.uint8)
    for pad in range(512):
        path = folder / "model.safetensors"
        save_file({"t": data.copy()}, str(path), metadata={"pad": "x" * pad})
        raw = path.read_bytes()
        if raw[0] == 0x50:
            return raw
    raise AssertionError("no padding gives a header length with low byte 0x50")


def test_a_safetensors_that_opens_with_a_persistent_id_is_no_pickle(tmp_path: Path) -> None:
    # the loader's own reading, on a harmless twin whose tail is constants: it raises at PERSID
    harmless = _safetensors_opening_with_persid(tmp_path / "harmless", b"K\x05.")
    with pytest.raises(_pickle.UnpicklingError, match="persistent"):
        _pickle.loads(harmless)  # what pickle.load, joblib.load and torch.load's first pickle do
    # the scan, on the one whose tail imports and calls os.system after the persistent id
    raw = _safetensors_opening_with_persid(tmp_path / "payload", _payload("persid"))
    assert b"system" in raw and raw.index(b"system") > raw.index(b"\n")
    report = _scan(tmp_path / "payload" / "model.safetensors")
    assert [f.rule for f in report.findings if f.rule.startswith("AIR2")] == []


@pytest.mark.parametrize("low", range(0, 256, 8), ids=lambda b: f"0x{b:02x}")
def test_clean_safetensors_pass_whatever_byte_their_header_length_starts_with(
    low: int, tmp_path: Path
) -> None:
    """The first byte of a safetensors file is the low byte of its header length (a multiple of 8):
    any of the 32 may start a real file, followed by NULs, a JSON header and tensor bytes that may
    hold newlines and opcode-like bytes. None of that is a pickle any loader runs."""
    from safetensors.numpy import save_file

    rng = np.random.default_rng(low)
    tensors = {
        "a.weight": rng.normal(0, 0.05, (16,)).astype(np.float32),
        "b.ids": np.frombuffer(b"\x01\x02\nK\x05.cos\nsystem\n", np.uint8).copy(),
    }
    path = tmp_path / "model.safetensors"
    for pad in range(512):
        save_file(tensors, str(path), metadata={"pad": "x" * pad})
        if path.read_bytes()[0] == low:
            break
    else:
        raise AssertionError(f"no padding gives a header length with low byte 0x{low:02x}")
    report = _scan(path)
    assert [f.rule for f in report.findings if f.rule.startswith("AIR2")] == []


@pytest.mark.parametrize("before", [False, True], ids=["import-after-persid", "import-before-persid"])
def test_only_what_runs_before_a_persistent_id_at_byte_0_counts(before: bool, tmp_path: Path) -> None:
    call = _payload("persid-order")  # cos\nsystem\n(S'...'\ntR.
    block = (call[:-1] + b"Pid\n.") if before else (b"Pid\n" + call)
    path = tmp_path / "x.h5"
    path.write_bytes(_hdf5_user_block("", block))
    rules = {f.rule for f in _scan(path).findings}
    assert ({"AIR201", "AIR215"} <= rules) is before
    assert not rules & {"AIR201", "AIR205", "AIR208", "AIR215"} or before


# --- PyTorch's zip reader finds records case-insensitively ---------------------------------------


@pytest.mark.parametrize("name", ["archive/data.pkl", "archive/DATA.PKL", "archive/Data.pkl"])
def test_torch_record_names_match_case_insensitively(name: str, tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr(name, b"\x88" + _payload("case")[:-1] + b".")  # opens with NEWTRUE
        archive.writestr("archive/version", b"3\n")
    data = buf.getvalue()
    assert detect(data[:65536], data, len(data)) is Format.PYTORCH_ZIP
    path = tmp_path / "model.pt"
    path.write_bytes(data)
    found = [(f.rule, f.location.split("@")[0]) for f in _scan(path).findings if f.rule == "AIR201"]
    assert found == [("AIR201", f"model.pt:{name}")]


# --- joblib: every compressor it writes ---------------------------------------------------------

JOBLIB_COMPRESSORS = [("zlib", 3), ("gzip", 3), ("bz2", 3), ("lzma", 3), ("xz", 3), ("lz4", 3), None]


@pytest.mark.parametrize("compress", JOBLIB_COMPRESSORS, ids=str)
def test_joblib_dumps_of_every_compressor_are_read_and_pass(
    compress: tuple[str, int] | None, tmp_path: Path
) -> None:
    joblib = pytest.importorskip("joblib")
    if compress and compress[0] == "lz4":
        pytest.importorskip("lz4")
    path = tmp_path / "model.joblib"
    joblib.dump(
        {"w": np.arange(12, dtype=np.float32).reshape(3, 4), "names": ["a", "b"]},
        path,
        compress=compress or 0,
    )
    report = _scan(path)
    assert _high(report) == []
    assert report.verdict.passed


def test_lzma_alone_streams_are_decompressed_and_walked(tmp_path: Path) -> None:
    path = tmp_path / "model.joblib"  # what joblib's ("lzma", N) compressor writes around a pickle
    path.write_bytes(lzma.compress(_payload("lzma"), format=lzma.FORMAT_ALONE, preset=3))
    report = _scan(path)
    assert any(f.rule == "AIR201" and f.location.startswith("model.joblib:[lzma]") for f in report.findings)


# --- where loaders stop reading ----------------------------------------------------------------


def _legacy_save(obj: object) -> bytes:
    torch = pytest.importorskip("torch")
    buf = io.BytesIO()
    torch.save(obj, buf, _use_new_zipfile_serialization=False)
    return buf.getvalue()


def _legacy_state() -> object:
    torch = pytest.importorskip("torch")
    return {
        "w": torch.arange(6, dtype=torch.float32),
        "i": torch.arange(3),
        "h": torch.zeros(4, dtype=torch.half),
    }


def test_legacy_torch_files_end_with_their_storage_records(tmp_path: Path) -> None:
    data = _legacy_save(_legacy_state())
    (tmp_path / "clean.pt").write_bytes(data)
    assert _high(_scan(tmp_path / "clean.pt")) == []
    (tmp_path / "tail.pt").write_bytes(data + _payload("after-storages"))
    assert _high(_scan(tmp_path / "tail.pt")) == [("AIR211", f"tail.pt@byte:{len(data)}")]


_KEY = b"X\x01\x00\x00\x000"
_STORAGES = (
    b"\x80\x02K\x01."
    b"\x80\x02("
    + _KEY
    + b"X\x03\x00\x00\x00cpuctorch\nFloatStorage\nt."
    + struct.pack("<q", 3)
    + bytes(12)
    + b"\x80\x02]."
)


def _tar_legacy(extra: bytes = b"") -> bytes:
    key = _KEY
    storages = _STORAGES + extra
    tensors = (
        b"\x80\x02K\x01."
        b"\x80\x02(K\x00"
        + key
        + b"ctorch\nFloatTensor\nt."
        + struct.pack("<ii", 1, 0)
        + struct.pack("<qqq", 3, 1, 0)
    )
    members = {
        "sys_info": b"\x80\x02}.",
        "storages": storages,
        "tensors": tensors,
        "pickle": b"\x80\x02K\x00Q.",
    }
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, body in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    return buf.getvalue()


@pytest.mark.parametrize(
    "case, extra, expected",
    [("clean", b"", []), ("appended", _payload("tar-tail"), [("AIR211", "m.tar:storages@byte:{}")])],
)
def test_torch_legacy_tar_records_are_walked(
    case: str, extra: bytes, expected: list[tuple[str, str]], tmp_path: Path
) -> None:
    path = tmp_path / "m.tar"
    path.write_bytes(_tar_legacy(extra))
    high = [(r, loc) for r, loc in _high(_scan(path)) if r != "AIR201"]
    assert high == [(r, loc.format(len(_STORAGES))) for r, loc in expected]


def test_bytes_after_a_pickle_are_high(tmp_path: Path) -> None:
    path = tmp_path / "tail.pkl"
    body = b"\x80\x04K\x01."
    path.write_bytes(body + b"hidden")
    assert _high(_scan(path)) == [("AIR211", f"tail.pkl@byte:{len(body)}")]


# --- numpy: sizes as numpy computes them ---------------------------------------------------------

STRUCTURED = {
    "records": np.dtype([("a", "<i4"), ("b", "<f8", (2, 3)), ("c", "S5")]),
    "aligned": np.dtype([("a", "u1"), ("b", "<i8")], align=True),
    "nested": np.dtype([("p", [("x", "<f4"), ("y", "<f4")]), ("tag", "<U3")]),
    "subarray": np.dtype(("<i2", (4,))),
    "offsets": np.dtype({"names": ["a", "b"], "formats": ["<i4", "<i4"], "offsets": [0, 8], "itemsize": 16}),
    "datetime": np.dtype("<M8[ms]"),
}


@pytest.mark.parametrize("name", sorted(STRUCTURED))
@pytest.mark.parametrize("version", [(1, 0), (2, 0), (3, 0)])
def test_numpy_files_with_structured_dtypes_pass(name: str, version: tuple[int, int], tmp_path: Path) -> None:
    dtype = STRUCTURED[name]
    array = np.zeros((3, 2), dtype=dtype) if dtype.shape == () else np.zeros(3, dtype=dtype)
    buf = io.BytesIO()
    np.lib.format.write_array(buf, array, version=version)
    path = tmp_path / "a.npy"
    path.write_bytes(buf.getvalue())
    assert _high(_scan(path)) == []
    path.write_bytes(buf.getvalue() + b"tail")
    assert [rule for rule, _ in _high(_scan(path))] == ["AIR222"]
