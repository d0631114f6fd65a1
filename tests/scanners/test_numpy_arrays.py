"""numpy_arrays: headers read like np.load reads them (Python 2 files included), object arrays, sizes."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
import pytest

from airlock.parsers.errors import ParseError as NpyError
from airlock.parsers.npy import parse_header
from airlock.pipeline import ScanOptions, scan
from airlock.policy import parse_policy
from airlock.report import Report
from fixtures import pickles

POLICY = parse_policy('name = "numpy"\nrequired_scanners = ["numpy_arrays"]\n', "test")


def _scan(path: Path) -> Report:
    return scan(str(path), ScanOptions(policy=POLICY, use_cache=False, scanners=["numpy_arrays"]))


def _npy(array: np.ndarray, version: tuple[int, int] | None = None) -> bytes:
    buffer = io.BytesIO()
    if version is None:
        np.save(buffer, array, allow_pickle=True)
    else:
        np.lib.format.write_array(buffer, array, version=version, allow_pickle=True)
    return buffer.getvalue()


@pytest.mark.parametrize("version", [(1, 0), (2, 0), (3, 0)])
def test_headers_of_every_version_parse_to_what_numpy_reads(version: tuple[int, int]) -> None:
    array = np.zeros((3, 4), dtype=">i2")
    header = parse_header(_npy(array, version))
    assert (header.shape, header.itemsize, header.has_object, header.version) == ((3, 4), 2, False, version)
    assert header.data_offset + header.nbytes == len(_npy(array, version))


def test_object_and_structured_object_dtypes_are_object_arrays() -> None:
    assert parse_header(_npy(np.array([1, "a"], dtype=object))).has_object
    assert parse_header(_npy(np.zeros(2, dtype=[("a", "<f4"), ("b", "O")]))).has_object
    assert not parse_header(_npy(np.zeros(2, dtype=[("a", "<f4"), ("b", "<i8", (2,))]))).has_object


def test_python2_long_literals_in_the_shape_are_accepted(generated) -> None:
    header = parse_header(generated(pickles.BENIGN["numpy-wheel-python2-header"]).read_bytes())
    assert header.shape == (2,)  # written as (2L,)


def _v1(text: bytes) -> bytes:
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text


@pytest.mark.parametrize(
    "head, problem",
    [
        (_v1(b"{'descr': '<f8'}\n"), "exactly descr"),
        (_v1(b"__import__('os')\n"), "not a Python literal"),
        (b"\x93NUMPY\x09\x00\x00\x00", "version 9"),
        (b"\x93NUMPY\x01\x00\xff\xff", "runs past the end"),
        (_v1(b"{'descr': 'zz', 'fortran_order': False, 'shape': (1,)}\n"), "not a dtype"),
        (_v1(b"{'descr': '<f8', 'fortran_order': False, 'shape': (-1,)}\n"), "non-negative"),
        (_v1(b"{'descr': '<f8', 'fortran_order': 1, 'shape': (1,)}\n"), "fortran_order"),
    ],
)
def test_malformed_headers_are_refused_with_a_reason(head: bytes, problem: str) -> None:
    with pytest.raises(NpyError, match=problem):
        parse_header(head)


def test_object_array_is_low_and_its_pickle_is_left_to_pickle_opcodes(generated) -> None:
    report = _scan(generated(pickles.npy_object_array_payload))
    assert [(f.rule, str(f.severity), f.location) for f in report.findings] == [
        ("AIR220", "low", "features.npy")
    ]


def test_an_npz_member_is_named_in_the_location(generated) -> None:
    report = _scan(generated(pickles.npz_object_array_payload))
    assert [(f.rule, f.location) for f in report.findings] == [("AIR220", "arrays.npz:meta.npy")]


def test_data_shorter_than_the_header_declares(tmp_path: Path) -> None:
    path = tmp_path / "cut.npy"
    path.write_bytes(_npy(np.arange(10.0))[:-8])
    [finding] = _scan(path).findings
    assert (finding.rule, finding.message) == (
        "AIR221",
        "the header declares 80 bytes of data, the file holds 72",
    )


def test_bytes_after_the_data_that_np_load_never_reads(tmp_path: Path) -> None:
    data = _npy(np.arange(4.0))
    path = tmp_path / "tail.npy"
    path.write_bytes(data + b"\x80\x04hidden")
    [finding] = _scan(path).findings
    assert (finding.rule, finding.location) == ("AIR222", f"tail.npy@byte:{len(data)}")


def test_plain_arrays_are_clean(generated) -> None:
    assert _scan(generated(pickles.npy_float_array)).findings == ()
    assert _scan(generated(pickles.npz_arrays)).findings == ()
