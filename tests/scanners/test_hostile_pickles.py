"""Hostile input: the decoder, the walker, the container walk and the three scanners never raise and never
hang on random or mutated bytes; they always end with findings or a clean result. These are short property
runs; a longer fuzzing campaign is the same tests with a larger `max_examples`."""

from __future__ import annotations

import pickle
import pickletools
import tempfile
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airlock.formats import Format
from airlock.parsers.containers import Anomaly, Leaf, Opened, expand
from airlock.parsers.errors import ParseError
from airlock.parsers.npy import parse_header
from airlock.parsers.pickle_walk import NAMES, decode, walk
from airlock.pipeline import ScanOptions, scan
from airlock.policy import parse_policy
from airlock.scanning import Limits
from fixtures import archives, pickles
from tests.fuzzing import examples

SCANNERS = ["pickle_opcodes", "numpy_arrays", "archives"]
POLICY = parse_policy('name = "hostile"\nrequired_scanners = []\n', "test")
QUICK = settings(max_examples=examples(60), deadline=2000, suppress_health_check=[HealthCheck.too_slow])
SEEDS = [
    pickles.torch_zip_payload,
    pickles.legacy_torch_payload,
    pickles.joblib_payload_after_arrays,
    pickles.npy_object_array_payload,
    pickles.npz_object_array_payload,
    archives.tar_gz_nested_zip_pickle,
    archives.seven_zip_pickle,
    archives.torch_zip_with_prefix_pickle,
    pickles.joblib_compressed_payload,
]

values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.binary(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=20,
)


@QUICK
@given(value=values, protocol=st.integers(0, 5))
def test_decode_consumes_bytes_exactly_like_the_stdlib(value: object, protocol: int) -> None:
    data = pickle.dumps(value, protocol=protocol)
    expected = [(op.name, pos) for op, _, pos in pickletools.genops(data)]
    seen, pos = [], 0
    while not seen or seen[-1][0] != "STOP":
        code, _, pos_after = decode(data, pos, len(data))
        seen.append((NAMES[code], pos))
        pos = pos_after
    assert seen == expected
    assert walk(data).error is None


@QUICK
@given(data=st.binary(max_size=600))
def test_walking_random_bytes_ends_in_a_result(data: bytes) -> None:
    result = walk(data, max_opcodes=100_000, deadline=time.monotonic() + 5)
    assert result.error is not None or data[result.end - 1 : result.end] == b"."
    assert 0 <= result.end <= len(data)


def _mutate(seed: bytes, draw: st.DrawFn) -> bytes:
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 8))):
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if data:
            data[at] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    if draw(st.booleans()):
        at = draw(st.integers(0, len(data)))
        data[at:at] = draw(st.binary(max_size=16))
    return bytes(data)


@QUICK
@given(data=st.data())
def test_walking_mutated_real_pickles_never_raises(data: st.DataObject) -> None:
    seed = pickle.dumps(
        {"w": [1.5] * 8, "n": ("a", b"b"), "f": pickle.loads}, protocol=data.draw(st.integers(0, 5))
    )
    mutated = _mutate(seed, data.draw)
    try:
        decode(mutated, 0, len(mutated))
    except ParseError:
        pass
    result = walk(mutated, max_opcodes=100_000, deadline=time.monotonic() + 5)
    assert result.error is not None or result.end > 0


@QUICK
@given(st.binary(max_size=200))
def test_npy_headers_fail_only_with_npy_errors(tail: bytes) -> None:
    try:
        parse_header(b"\x93NUMPY" + tail)
    except ParseError:
        pass


@QUICK
@given(
    st.data(),
    st.sampled_from(
        [
            Format.ZIP,
            Format.TAR,
            Format.GZIP,
            Format.BZIP2,
            Format.XZ,
            Format.SEVEN_ZIP,
            Format.ZLIB,
            Format.ZSTD,
            Format.LZ4,
            Format.PYTORCH_ZIP,
            Format.NUMPY_NPZ,
        ]
    ),
)
def test_containers_of_random_bytes_yield_only_items(data: st.DataObject, fmt: Format) -> None:
    blob = data.draw(st.binary(max_size=400))
    for item in expand(blob, "x", fmt, Limits()):
        assert isinstance(item, (Leaf, Anomaly, Opened))


@settings(max_examples=examples(40), deadline=5000, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_scanners_on_mutated_fixtures_report_and_never_break(data: st.DataObject, generated) -> None:
    seed = generated(data.draw(st.sampled_from(SEEDS))).read_bytes()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mutated.bin"
        path.write_bytes(_mutate(seed, data.draw))
        report = scan(str(path), ScanOptions(policy=POLICY, use_cache=False, scanners=SCANNERS))
    assert all(c.status != "error" for c in report.checks), [c.reason for c in report.checks]
    assert "AIR901" not in {f.rule for f in report.findings}
