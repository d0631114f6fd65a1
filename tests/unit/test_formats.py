"""Format detection from bytes alone: one real sample per format, the edge cases, and fuzzing.

Every sample is read under a misleading name, so a test passes only if the bytes decide.
"""

from __future__ import annotations

import hashlib
import io
import json
import pickle
import pickletools
import random
import shutil
import struct
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airlock.artifacts import read_artifact
from airlock.formats import HEAD_BYTES, TAIL_BYTES, Format, detect
from airlock.parsers.limits import DEFAULT_LIMITS

MAX_CENTRAL_DIRECTORY = DEFAULT_LIMITS.max_sniff_directory_bytes
from fixtures import formats as samples
from fixtures.graph_files import elf_header, macho_fat_header, macho_header, pe_header
from tests.conftest import Generated
from tests.fuzzing import examples

FUZZ = settings(max_examples=examples(200), database=None)


def _detect_bytes(data: bytes) -> Format:
    """`detect` fed the way `read_artifact` feeds it, with a reader over the same bytes."""
    return detect(data[:HEAD_BYTES], data[-TAIL_BYTES:], len(data), lambda at, n: data[at : at + n])


def _misleading_name(sample: str, expected: Format) -> str:
    """Hex digits plus the extension of another format."""
    decoy = "pkl" if expected is Format.SAFETENSORS else "safetensors"
    return f"{hashlib.sha256(sample.encode()).hexdigest()[:12]}.{decoy}"


def _build(generated: Generated, name: str) -> Path:
    if name in samples.REQUIRES:
        pytest.importorskip(
            samples.REQUIRES[name], reason=f"the {name} sample is written by an optional library"
        )
    return generated(samples.GENERATORS[name][0])


@pytest.mark.parametrize("name", sorted(samples.GENERATORS))
def test_each_sample_is_detected_from_its_bytes(name: str, generated: Generated, tmp_path: Path) -> None:
    expected = samples.GENERATORS[name][1]
    misleading = tmp_path / _misleading_name(name, expected)
    shutil.copyfile(_build(generated, name), misleading)
    assert read_artifact(misleading.name, misleading).format is expected


# Native libraries are assembled here from their headers (fixtures.graph_files): no library writes them.
NATIVE_SAMPLES: dict[str, bytes] = {
    "elf64-shared-object": elf_header(),
    "elf32-big-endian-executable": elf_header(2, 20, bits=32, order=">"),
    "pe-dll": pe_header(),
    "pe-executable-far-header": pe_header(dll=False, pe_offset=0x1000),
    "macho64-dylib": macho_header(),
    "macho64-big-endian": macho_header(18, 2, order=">"),
    "macho32": struct.pack("<7I", 0xFEEDFACE, 7, 3, 2, 0, 0, 0),
    "macho-fat": macho_fat_header(),
    "macho-fat64": struct.pack(">II", 0xCAFEBABF, 1)
    + struct.pack(">iiQQII", 0x0100000C, 0, 0x4000, 0x4000, 14, 0),
    "macho-fat-swapped": struct.pack("<II", 0xCAFEBABE, 1) + struct.pack("<iiIII", 7, 3, 0x1000, 0x1000, 12),
}


@pytest.mark.parametrize("name", sorted(NATIVE_SAMPLES))
def test_native_binaries_are_detected_from_their_bytes(name: str, tmp_path: Path) -> None:
    misleading = tmp_path / _misleading_name(name, Format.NATIVE)
    misleading.write_bytes(NATIVE_SAMPLES[name] + b"\0" * 4096)
    assert read_artifact(misleading.name, misleading).format is Format.NATIVE


def test_every_format_has_a_sample() -> None:
    covered = {expected for _, expected in samples.GENERATORS.values()} | {Format.NATIVE}  # NATIVE_SAMPLES
    assert covered == set(Format) - {Format.EMPTY, Format.UNKNOWN}


@pytest.mark.parametrize(
    "data, expected",
    [
        (b"MZ is how DOS executables start; this note is only text.\n" * 8, Format.TEXT),
        (
            b"MZ" + bytes(0x3A) + struct.pack("<I", 0x40) + b"NE\0\0" + bytes(64),
            Format.UNKNOWN,
        ),  # a 16-bit NE file
        (
            b"\xca\xfe\xba\xbe\x00\x03\x00\x2d\x00\x21" + bytes(54),
            Format.UNKNOWN,
        ),  # a Java class (minor 3, major 45)
        (b"\xca\xfe\xba\xbe\x00\x00\x00\x41" + bytes(56), Format.UNKNOWN),  # Java 21: "65 architectures"
        (b"\x7fELF\x03\x01\x01\x00" + bytes(56), Format.UNKNOWN),  # no such ELF class
    ],
)
def test_files_that_only_start_like_native_code_are_not_native(data: bytes, expected: Format) -> None:
    assert _detect_bytes(data) is expected


def test_a_zip_behind_a_native_stub_is_still_the_zip_loaders_open(generated: Generated) -> None:
    data = pe_header() + _build(generated, "pytorch-zip").read_bytes()
    assert _detect_bytes(data) is Format.PYTORCH_ZIP


def test_the_prefixed_zip_really_has_a_prefix_and_still_opens(generated: Generated) -> None:
    path = generated(samples.pytorch_zip_prefixed)
    assert not path.read_bytes().startswith(b"PK\x03\x04")
    with zipfile.ZipFile(path) as zf:
        assert any(n.endswith("/data.pkl") for n in zf.namelist())


def test_a_central_directory_beyond_the_tail_is_read_through_the_bounded_reader(generated: Generated) -> None:
    path = generated(samples.pytorch_zip_large_directory)
    data = path.read_bytes()
    with zipfile.ZipFile(path) as zf:
        assert len(data) - zf.start_dir > TAIL_BYTES  # the directory starts before the tail does
    calls: list[tuple[int, int]] = []

    def read(at: int, n: int) -> bytes:
        calls.append((at, n))
        return data[at : at + n]

    head, tail = data[:HEAD_BYTES], data[-TAIL_BYTES:]
    assert detect(head, tail, len(data)) is Format.ZIP  # without the reader only the local header is seen
    assert detect(head, tail, len(data), read) is Format.PYTORCH_ZIP
    assert calls and all(0 <= at < len(data) and 0 < n <= MAX_CENTRAL_DIRECTORY for at, n in calls)


def test_zip64_end_record_with_saturated_fields(generated: Generated) -> None:
    data = generated(samples.npz_zip64).read_bytes()
    assert struct.unpack("<HH", data[-12:-8]) == (0xFFFF, 0xFFFF)  # counts live only in the zip64 record
    assert _detect_bytes(data) is Format.NUMPY_NPZ


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "model.safetensors"
    path.write_bytes(b"")
    assert read_artifact(path.name, path).format is Format.EMPTY


@pytest.mark.parametrize("byte", range(256))
def test_one_byte_files_are_text_or_unknown(byte: int) -> None:
    expected = Format.TEXT if 0 < byte < 0x80 else Format.UNKNOWN  # a lone byte >= 0x80 is not UTF-8
    assert _detect_bytes(bytes([byte])) is expected


@pytest.mark.parametrize(
    "text",
    [
        "Very good\n",  # V = UNICODE: one opcode, then no STOP
        "cos\nsin\ntan\n",  # c = GLOBAL(os, sin), then an unknown opcode
        "Notes\n(draft)\n",
        "x^2 + y^2 = z^2\n",  # a zlib header (0x78 0x5E) followed by bytes that do not inflate
        "[PAD]\n[UNK]\n[CLS]\n",  # brackets, but not JSON
        "{ not json }\n",
    ],
)
def test_text_that_starts_like_something_else_is_text(text: str) -> None:
    assert _detect_bytes(text.encode()) is Format.TEXT


def test_a_real_protocol_0_pickle_made_of_letters_is_a_pickle() -> None:
    data = b"cos\ngetcwd\n(tR."  # os.getcwd(): GLOBAL, MARK, TUPLE, REDUCE, STOP
    pickletools.dis(data, out=io.StringIO())  # a complete, well-formed pickle (never loaded)
    assert _detect_bytes(data) is Format.PICKLE


def test_a_pickle_with_a_protocol_1_header_is_a_pickle() -> None:
    data = b"\x80\x01" + pickle.dumps({"a": [1, 2]}, protocol=1)  # pickle.load accepts PROTO 1
    pickletools.dis(data, out=io.StringIO())
    assert _detect_bytes(data) is Format.PICKLE


def test_a_long_text_of_opcode_letters_is_text() -> None:
    assert _detect_bytes(b"Very good\n" * 20_000) is Format.TEXT


def test_json_larger_than_the_head() -> None:
    vocab = {f"token{i}": i for i in range(20_000)}
    data = json.dumps({"model": {"type": "WordPiece", "vocab": vocab}}).encode()
    assert len(data) > HEAD_BYTES
    assert _detect_bytes(data) is Format.JSON


def test_json_cut_by_the_head_inside_a_long_string() -> None:
    data = json.dumps({"merges": "ab " * 40_000}).encode()
    assert _detect_bytes(data) is Format.JSON


def test_json_nested_deeper_than_the_json_module_goes_does_not_crash() -> None:
    assert _detect_bytes(b"[" * 60_000 + b"]" * 60_000) is Format.TEXT


def test_a_large_vocab_starting_with_brackets_is_text() -> None:
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"word{i}" for i in range(30_000)]
    data = ("\n".join(words) + "\n").encode()
    assert len(data) > HEAD_BYTES
    assert _detect_bytes(data) is Format.TEXT


def test_a_vocab_of_words_is_text_not_python() -> None:
    words = ["the", "of", "and", "import", "def", "class", "from", "return", "lambda"]
    assert _detect_bytes("".join(f"{word}\n" for word in words).encode()) is Format.TEXT


def _markdown(size: int) -> bytes:
    section = (
        "## Training\n\nWe fine-tuned on **1M** examples.\n\n```python\nimport torch\n"
        "model = torch.load('x.bin', weights_only=True)\n```\n\n| k | v |\n| --- | --- |\n| lr | 3e-4 |\n\n"
    )
    return ("# Model card\n\n" + section * (size // len(section) + 1)).encode()


@pytest.mark.parametrize("size", [2_000, 200_000])
def test_a_markdown_readme_is_text(size: int) -> None:
    assert _detect_bytes(_markdown(size)) is Format.TEXT


def _python_source(pad: int) -> bytes:
    """About 100 KB of functions whose docstrings hold blank lines; `pad` moves where the head cuts."""
    parts = ['"""Generated helpers."""\n\nimport math\n' + "#" * pad + "\n\n"]
    i = 0
    while sum(map(len, parts)) < 100_000:
        parts.append(
            f'\n\ndef helper_{i}(x: float) -> float:\n    """Scale x by {i}.\n\n    Args:\n'
            f'        x: the input value.\n\n    Returns:\n        x times {i}.\n    """\n'
            f"    return math.fsum([x] * {i})\n"
        )
        i += 1
    return "".join(parts).encode()


@pytest.mark.parametrize("pad", [0, 10, 70, 130])
def test_python_larger_than_the_head_even_when_the_head_ends_in_a_docstring(pad: int) -> None:
    assert _detect_bytes(_python_source(pad)) is Format.PYTHON


@pytest.mark.parametrize("seed", range(50))
def test_binary_junk_is_unknown(seed: int) -> None:
    assert _detect_bytes(random.Random(seed).randbytes(4096)) is Format.UNKNOWN


def test_a_safetensors_header_longer_than_the_file_is_not_safetensors(generated: Generated) -> None:
    data = generated(samples.safetensors_file).read_bytes()
    assert _detect_bytes(data) is Format.SAFETENSORS
    (length,) = struct.unpack("<Q", data[:8])
    assert _detect_bytes(struct.pack("<Q", len(data)) + data[8:]) is Format.UNKNOWN
    assert _detect_bytes(data[: 8 + length // 2]) is Format.UNKNOWN


def test_a_savedmodel_without_its_telltale_strings_is_not_onnx(generated: Generated) -> None:
    data = generated(samples.tf_savedmodel).read_bytes()
    for word, same_length in (
        (b"tensorflow", b"tensorfloX"),
        (b"serve", b"servX"),
        (b"Placeholder", b"PlaceholdeX"),
    ):
        data = data.replace(word, same_length)
    assert _detect_bytes(data) is Format.UNKNOWN  # field 2 is a MetaGraphDef message, not a producer name


# ---------------------------------------------------------------- robustness

_MAGICS = [
    b"",
    b"PK\x03\x04",
    b"\x80\x02",
    b"\x80\x01",
    b"(",
    b"c",
    b"}q\x00(",
    b"\x08\x01\x12",
    b"\x08\x07\x12\x05hello:",
    b"GGUF",
    b"\x93NUMPY",
    b"{",
    b"[",
    b"x\x9c",
    b"x^",
    b"ZF0x",
    b"\x89HDF\r\n\x1a\n",
    struct.pack("<Q", 16) + b"{",
    b"import os\n",
    b"\xef\xbb\xbf{",
    b"\x7fELF\x02\x01",
    b"MZ",
    b"MZ" + bytes(0x3A) + b"\x40\x00\x00\x00PE\x00\x00",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
    b"\xbf\xba\xfe\xca",
]


@FUZZ
@given(head=st.binary(max_size=2048), tail=st.binary(max_size=2048), size=st.integers(0, 1 << 40))
def test_detect_never_raises_on_arbitrary_bytes(head: bytes, tail: bytes, size: int) -> None:
    assert detect(head, tail, size) in set(Format)


@FUZZ
@given(magic=st.sampled_from(_MAGICS), rest=st.binary(max_size=4096), longer=st.booleans())
def test_detect_never_raises_behind_a_known_magic(magic: bytes, rest: bytes, longer: bool) -> None:
    data = magic + rest
    size = len(data) + (1 << 30 if longer else 0)
    assert detect(data, data, size) in set(Format)


@st.composite
def _end_records(draw: st.DrawFn) -> bytes:
    u16, u32, u64 = st.integers(0, 0xFFFF), st.integers(0, 0xFFFFFFFF), st.integers(0, (1 << 64) - 1)
    eocd = struct.pack(
        "<4sHHHHIIH", b"PK\x05\x06", 0, 0, draw(u16), draw(u16), draw(u32), draw(u32), draw(u16)
    )
    if not draw(st.booleans()):
        return eocd
    record = struct.pack(
        "<4sQHHIIQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, draw(u64), draw(u64), draw(u64), draw(u64)
    )
    locator = struct.pack("<4sIQI", b"PK\x06\x07", 0, draw(u64), 1)
    return record + locator + eocd


@FUZZ
@given(data=st.data())
def test_detect_never_raises_on_hostile_zip_end_records(data: st.DataObject) -> None:
    entry = b"PK\x01\x02" + data.draw(st.binary(min_size=42, max_size=200))
    body = data.draw(st.binary(max_size=512)) + entry * data.draw(st.integers(0, 3))
    blob = body + data.draw(_end_records())
    size = len(blob) + data.draw(st.sampled_from([0, 1, 1 << 20, 1 << 40]))
    backing = data.draw(st.binary(max_size=4096))
    calls: list[tuple[int, int]] = []

    def read(at: int, n: int) -> bytes:
        calls.append((at, n))
        return backing[:n]

    assert detect(blob, blob, size, read) in set(Format)
    assert all(at >= 0 and 0 <= n <= MAX_CENTRAL_DIRECTORY for at, n in calls)


_SLOW_CANDIDATES: dict[str, Callable[[], bytes]] = {
    "marks": lambda: b"(" * HEAD_BYTES,
    "brackets": lambda: b"[" * HEAD_BYTES,
    "unicode-lines": lambda: b"Vx\n" * (HEAD_BYTES // 3),
    "ints": lambda: b"K\x01" * (HEAD_BYTES // 2),
    "memo": lambda: b"}q\x00(" + b"K\x01" * (HEAD_BYTES // 2),
    "nested-python": lambda: b"x = " + b"(" * 5000 + b")" * 5000 + b"\n",
    "unary-python": lambda: b"x = " + b"-" * (HEAD_BYTES - 8) + b"1\n",
    "defs": lambda: b"def f():\n" * (HEAD_BYTES // 9),
    "zlib-zeros": lambda: b"x\x9c" + b"\x00" * HEAD_BYTES,
}


@pytest.mark.parametrize("name", sorted(_SLOW_CANDIDATES))
@pytest.mark.parametrize("size_factor", [1, 1000])
def test_detect_never_hangs_on_pathological_heads(name: str, size_factor: int) -> None:
    """A hang guard, not a speed test (speed lives in bench/): typical runs take milliseconds."""
    head = _SLOW_CANDIDATES[name]()[:HEAD_BYTES]
    started = time.perf_counter()
    detect(head, head[-TAIL_BYTES:], len(head) * size_factor)
    assert time.perf_counter() - started < 15.0
