"""savedmodel_graph: file, process and network ops in SavedModel graphs, without importing TensorFlow."""

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
from airlock.pipeline import ScanOptions, scan
from airlock.report import Report
from airlock.scanners.savedmodel_graph import SavedModelReader, op_rules
from fixtures import graph_files
from tests.conftest import Generated
from tests.fuzzing import examples

SAVEDMODEL = {name: entry for name, entry in graph_files.MALICIOUS.items() if name.startswith("savedmodel")}
BENIGN = ["savedmodel_tf2", "savedmodel_tf1_saver", "savedmodel_vocab_asset"]
FUZZ = settings(max_examples=examples(150), deadline=None, database=None)


def _scan(path: Path) -> Report:
    return scan(str(path), ScanOptions(use_cache=False, scanners=["savedmodel_graph"]))


def _found(report: Report) -> list[tuple[str, Severity, str]]:
    return [(f.rule, f.severity, f.location) for f in report.findings]


@pytest.mark.parametrize("name", sorted(SAVEDMODEL))
def test_each_malicious_graph_raises_exactly_its_rules(name: str, generated: Generated) -> None:
    generator, expected = SAVEDMODEL[name]
    assert {f.rule for f in _scan(generated(generator)).findings} == expected


@pytest.mark.parametrize("name", BENIGN)
def test_normal_savedmodels_with_their_checkpoint_ops_have_no_finding(
    name: str, generated: Generated
) -> None:
    assert _scan(generated(graph_files.BENIGN[name])).findings == ()


def test_write_file_is_critical_at_its_node(generated: Generated) -> None:
    report = _scan(generated(graph_files.savedmodel_write_file))
    assert _found(report) == [
        ("AIR542", Severity.CRITICAL, "saved_model.pb#meta_graphs[0].graph_def.node[2]")
    ]
    assert report.findings[0].evidence["node_names"] == ["WriteFile"]


def test_only_the_hijacked_save_is_reported_next_to_the_normal_checkpoint_functions(
    generated: Generated,
) -> None:
    report = _scan(generated(graph_files.savedmodel_save_fixed_path))
    where = "saved_model.pb#meta_graphs[0].graph_def.library.function[__inference_serve_55].node_def[3]"
    assert _found(report) == [("AIR542", Severity.CRITICAL, where)]
    assert report.findings[0].evidence["paths"] == ["/tmp/airlock-exfil/ckpt"]


def test_reads_inside_a_library_function_are_grouped_per_op(generated: Generated) -> None:
    report = _scan(generated(graph_files.savedmodel_read_files))
    assert sorted(f.evidence["op"] for f in report.findings) == ["MatchingFiles", "ReadFile"]
    assert all(f.severity is Severity.HIGH for f in report.findings)


def test_a_path_decoded_inside_the_graph_is_still_a_fixed_path(generated: Generated) -> None:
    report = _scan(generated(graph_files.savedmodel_restore_hidden_path))
    assert [f.evidence["op"] for f in report.findings] == ["RestoreV2"]


def test_a_truncated_file_still_reports_what_came_before_the_cut(
    generated: Generated, tmp_path: Path
) -> None:
    data = generated(graph_files.savedmodel_write_file).read_bytes()
    cut = data.index(b"WriteFile", data.index(b"WriteFile") + 1) + len(b"WriteFile")  # after the node's op
    (tmp_path / "saved_model.pb").write_bytes(data[:cut])
    assert sorted(f.rule for f in _scan(tmp_path / "saved_model.pb").findings) == ["AIR540", "AIR542"]


def test_every_op_entry_is_well_formed() -> None:
    for op, rules in op_rules().items():
        for rule in rules:
            assert rule.rule in {"AIR541", "AIR542", "AIR543", "AIR544"}, op
            assert rule.when in {"always", "constant-path", "attr-prefix", "attr-not-prefix"}, op
            assert bool(rule.inputs) == (rule.when == "constant-path"), op
            assert bool(rule.attr and rule.prefixes) == rule.when.startswith("attr"), op


@functools.cache
def _real() -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        return graph_files.savedmodel_save_fixed_path(Path(folder)).read_bytes()


def _read(data: bytes) -> SavedModelReader:
    reader = SavedModelReader(data, Budget(Limits(seconds_per_artifact=5.0, max_depth=64), steps=200_000))
    reader.read()
    return reader


def test_the_real_fixture_parses_completely() -> None:
    reader = _read(_real())
    assert reader.meta_graphs[0].tags == ["serve"]
    assert len(reader.meta_graphs[0].scopes) == 5  # the graph and four library functions


@FUZZ
@given(st.binary(max_size=2048))
def test_the_reader_only_ever_raises_protobuf_error_on_random_bytes(data: bytes) -> None:
    try:
        _read(data)
    except ProtobufError:
        pass


@FUZZ
@given(st.integers(min_value=0, max_value=2**32 - 1), st.integers(min_value=1, max_value=24))
def test_mutated_savedmodels_are_parsed_or_rejected_never_crash(seed: int, flips: int) -> None:
    data = bytearray(_real())
    rng = random.Random(seed)
    for _ in range(flips):
        data[rng.randrange(len(data))] = rng.randrange(256)
    try:
        reader = _read(bytes(data))
    except ProtobufError:
        return
    assert all(scope.label for meta in reader.meta_graphs for scope in meta.scopes)
