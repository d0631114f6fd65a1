"""onnx_graph: external-data traversal, custom domains, malformed models, and the bounded reader."""

from __future__ import annotations

import functools
import random
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airlock.findings import Severity
from airlock.parsers.errors import ParseError as ProtobufError
from airlock.parsers.limits import Budget, Limits
from airlock.parsers.protobuf import fields
from airlock.pipeline import ScanOptions, scan
from airlock.report import Report
from airlock.scanners.onnx_graph import ModelWalk, OnnxGraph, escape
from fixtures import graph_files
from tests.conftest import Generated
from tests.fuzzing import examples

ONNX = {name: entry for name, entry in graph_files.MALICIOUS.items() if name.startswith("onnx")}
BENIGN = ["onnx_helper_model", "onnx_external_benign", "onnx_local_function"]
FUZZ = settings(max_examples=examples(150), deadline=None, database=None)


def _scan(path: Path) -> Report:
    return scan(str(path), ScanOptions(use_cache=False, scanners=["onnx_graph"]))


@pytest.mark.parametrize("name", sorted(ONNX))
def test_each_malicious_model_raises_exactly_its_rules(name: str, generated: Generated) -> None:
    generator, expected = ONNX[name]  # the rules a full scan reports; other scanners' are not this one's
    assert {f.rule for f in _scan(generated(generator)).findings} == expected & OnnxGraph.rules


@pytest.mark.parametrize("name", BENIGN)
def test_normal_models_have_no_finding(name: str, generated: Generated) -> None:
    assert _scan(generated(graph_files.BENIGN[name])).findings == ()


@pytest.mark.torch
def test_a_model_exported_by_torch_onnx_has_no_finding(generated: Generated) -> None:
    pytest.importorskip("torch")
    assert _scan(generated(graph_files.onnx_torch_export)).findings == ()


# CVE-2022-25882 (absolute / `..` locations) and CVE-2024-27318, GHSA-whh8-fjgc-qp73 (`subdir/../../` bypass)
@pytest.mark.parametrize(
    "generator, location, path",
    [
        (graph_files.onnx_external_absolute, "model.onnx#graph.initializer[0]", "/etc/passwd"),
        (
            graph_files.onnx_nested_traversal,
            "model.onnx#graph.initializer[0]",
            "weights/../../../../etc/hostname",
        ),
        (
            graph_files.onnx_subgraph_traversal,
            "model.onnx#graph.node[0].attribute[then_branch].node[0].attribute[value]",
            "../../secret.bin",
        ),
    ],
)
def test_traversal_is_critical_at_the_tensor_that_names_it(
    generator, location: str, path: str, generated: Generated
) -> None:
    report = _scan(generated(generator))
    assert [(f.rule, f.severity, f.location) for f in report.findings] == [
        ("AIR521", Severity.CRITICAL, location)
    ]
    assert report.findings[0].evidence["location"] == path


@pytest.mark.parametrize(
    "location, escapes",
    [
        ("weights.bin", False),
        ("sub/dir/w.bin", False),
        ("..weights", False),
        ("w..bin", False),
        ("/etc/passwd", True),
        ("\\\\server\\share\\x", True),
        ("C:\\Windows\\win.ini", True),
        ("c:/x", True),
        ("..", True),
        ("a/../b", True),
        ("a\\..\\..\\b", True),
        ("x\x00.bin", True),
    ],
)
def test_escape(location: str, escapes: bool) -> None:
    assert (escape(location) is not None) is escapes


# CVE-2026-34445: onnx's ExternalDataInfo did setattr(self, key, value) for every external_data key
def test_a_dunder_external_data_key_is_high(generated: Generated) -> None:
    report = _scan(generated(graph_files.onnx_external_key))
    assert [(f.rule, f.severity, f.location) for f in report.findings] == [
        ("AIR524", Severity.HIGH, "model.onnx#graph.initializer[0]")
    ]
    assert report.findings[0].evidence["key"] == "__dict__"
    assert report.findings[0].evidence["private"] is True


@pytest.mark.parametrize(
    "key, severity",
    [
        ("foo", Severity.MEDIUM),
        ("Location", Severity.MEDIUM),
        ("checksum_sha1", Severity.MEDIUM),
        ("__dict__", Severity.HIGH),
        ("__class__", Severity.HIGH),
        ("_location", Severity.HIGH),
        ("_", Severity.HIGH),
        ("basepath", None),
        ("checksum", None),
    ],
)
def test_external_data_keys_are_medium_unless_they_reach_private_attributes(
    key: str, severity: Severity | None, tmp_path: Path
) -> None:
    (tmp_path / "weights.bin").write_bytes(bytes(8))
    graph_files._onnx(
        tmp_path, graph_files._onnx_model([graph_files._external("bias", "weights.bin", **{key: "x"})])
    )
    found = [(f.rule, f.severity, f.evidence["key"]) for f in _scan(tmp_path).findings]
    assert found == ([("AIR524", severity, key)] if severity else [])


def test_custom_domain_is_reported_once_per_operator_with_a_count(generated: Generated) -> None:
    report = _scan(generated(graph_files.onnx_custom_domain))
    assert [(f.rule, f.location) for f in report.findings] == [("AIR522", "model.onnx#graph.node[0]")]
    assert report.findings[0].evidence == {
        "domain": "com.evil.ops",
        "op_type": "RunCommand",
        "nodes": 1,
        "node_names": [],
    }


def test_a_truncated_model_is_reported_and_what_came_before_is_still_judged(
    generated: Generated, tmp_path: Path
) -> None:
    data = generated(graph_files.onnx_external_absolute).read_bytes()
    cut = data.rindex(b"/etc/passwd") + len(b"/etc/passwd") + 1  # after the location, inside the graph
    (tmp_path / "model.onnx").write_bytes(data[:cut])
    assert sorted(f.rule for f in _scan(tmp_path / "model.onnx").findings) == ["AIR521", "AIR523"]


@functools.cache
def _real_model() -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        return graph_files.onnx_helper_model(Path(folder)).read_bytes()


def _walk(data: bytes, budget: Budget | None = None) -> ModelWalk:
    walk = ModelWalk(data, budget or Budget(Limits(seconds_per_artifact=10.0, max_depth=64), steps=1_000_000))
    walk.model()
    return walk


def _message(number: int, body: bytes) -> bytes:
    assert len(body) < 1 << 21
    length = bytearray()
    value = len(body)
    while True:
        length.append((value & 0x7F) | (0x80 if value > 0x7F else 0))
        value >>= 7
        if not value:
            break
    return bytes([number << 3 | 2]) + bytes(length) + body


def test_the_field_budget_and_the_nesting_bound_hold() -> None:
    graph = _message(1, _message(4, b"Identity"))  # GraphProto.node { op_type }
    for _ in range(70):  # node { op_type: If, attribute { name: then_branch, g: graph } }
        graph = _message(
            1, _message(4, b"If") + _message(5, _message(1, b"then_branch") + _message(6, graph))
        )
    data = bytes([0x08, 0x09]) + _message(7, graph)  # ir_version 9, graph
    with pytest.raises(ProtobufError, match="nesting deeper than 64"):
        _walk(data)
    with pytest.raises(ProtobufError, match="field budget"):
        _walk(data, Budget(Limits(seconds_per_artifact=10.0, max_depth=100), steps=50))
    assert _walk(data, Budget(Limits(seconds_per_artifact=10.0, max_depth=100), steps=10_000)).operators == {}


@FUZZ
@given(st.binary(max_size=2048))
def test_the_reader_only_ever_raises_protobuf_error_on_random_bytes(data: bytes) -> None:
    try:
        _walk(data, Budget(Limits(seconds_per_artifact=5.0, max_depth=64), steps=100_000))
    except ProtobufError:
        pass


@FUZZ
@given(st.integers(min_value=0, max_value=2**32 - 1), st.integers(min_value=1, max_value=16))
def test_the_reader_survives_mutations_of_a_real_model(seed: int, flips: int) -> None:
    data = bytearray(_real_model())
    rng = random.Random(seed)
    for _ in range(flips):
        data[rng.randrange(len(data))] = rng.randrange(256)
    try:
        walk = _walk(bytes(data), Budget(Limits(seconds_per_artifact=5.0, max_depth=64), steps=100_000))
    except ProtobufError:
        return
    assert all(isinstance(k, str) for k in walk.locations)


def test_varints_longer_than_ten_bytes_are_rejected() -> None:
    with pytest.raises(ProtobufError, match="varint"):
        list(
            fields(
                b"\x08" + b"\xff" * 11, 0, 12, Budget(Limits(seconds_per_artifact=1.0, max_depth=4), steps=10)
            )
        )
