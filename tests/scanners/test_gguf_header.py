"""gguf_header: llama.cpp's rules, the published allocation bombs, tensor layout, hostile bytes."""

from __future__ import annotations

import io
import struct
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airlock.artifacts import Artifact
from airlock.findings import Finding, Severity
from airlock.formats import Format
from airlock.parsers.gguf import GGML_TYPES, Fault, parse
from airlock.pipeline import ScanOptions, scan
from airlock.policy import parse_policy
from airlock.rules import load_rules
from airlock.scanners.gguf_header import GgufHeader
from airlock.scanning import Limits, ScanContext
from airlock.sources.interface import Snapshot
from fixtures import templates, weights_files
from fixtures.weights_files import ARRAY, STRING, UINT32, GgufFile
from tests.fuzzing import examples

POLICY = parse_policy('name = "weights"\nrequired_scanners = []\n', "test")
SCANNERS = ["safetensors_header", "gguf_header", "chat_templates"]
HOSTILE = settings(max_examples=examples(200), deadline=None, derandomize=True, database=None,
                   suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
GGUF_MALICIOUS = {k: v for k, v in weights_files.MALICIOUS.items() if k.startswith("gguf-")}
GGUF_BENIGN = {k: v for k, v in weights_files.BENIGN.items() if k.startswith("gguf-")}


def _findings(path: Path) -> tuple[Finding, ...]:
    return scan(str(path), ScanOptions(policy=POLICY, use_cache=False, scanners=SCANNERS)).findings


@pytest.mark.parametrize("name", sorted(GGUF_MALICIOUS))
def test_each_hostile_file_yields_exactly_its_rules(name: str, generated) -> None:
    generator, expected = GGUF_MALICIOUS[name]
    assert {f.rule for f in _findings(generated(generator))} == expected


@pytest.mark.parametrize("name", sorted(GGUF_BENIGN))
def test_well_formed_files_are_clean(name: str, generated) -> None:
    assert [f for f in _findings(generated(GGUF_BENIGN[name])) if f.severity >= Severity.LOW] == []


@pytest.mark.parametrize(
    "name, location",
    [
        ("gguf-huge-kv-count", "model.gguf@header"),
        ("gguf-huge-string-length", "model.gguf@metadata:#0"),
        ("gguf-huge-array", "model.gguf@metadata:tokenizer.ggml.scores"),
        ("gguf-too-many-dims", "model.gguf@tensor:t"),
        ("gguf-misaligned-tensor", "model.gguf@tensor:output.weight"),
        ("gguf-chat-template-escape", "model.gguf@metadata:tokenizer.chat_template"),
    ],
)
def test_findings_name_the_key_or_tensor(name: str, location: str, generated) -> None:
    assert [f.location for f in _findings(generated(GGUF_MALICIOUS[name][0]))] == [location]


def test_trailing_payload_is_high_and_identified(generated) -> None:
    (finding,) = _findings(generated(GGUF_MALICIOUS["gguf-trailing-payload"][0]))
    assert (finding.severity, finding.evidence["looks_like"]) == (Severity.HIGH, "pickle")


def test_a_header_over_the_parsing_limit_is_unvetted_not_passed(generated) -> None:
    path = generated(GGUF_BENIGN["gguf-llama3"])
    artifact = Artifact(path.name, path.stat().st_size, "1" * 64, Format.GGUF, path)
    snapshot = Snapshot(reference=None, source="local", root=path.parent, files=((path.name, path),))  # type: ignore[arg-type]
    ctx = ScanContext(
        rules=load_rules(), snapshot=snapshot, artifacts=(artifact,), limits=Limits(max_header_bytes=256)
    )
    assert [f.rule for f in GgufHeader().scan(artifact, ctx)] == ["AIR425"]


def test_big_endian_files_are_read() -> None:
    def be_string(text: bytes) -> bytes:
        return struct.pack(">Q", len(text)) + text

    body = (
        b"GGUF"
        + struct.pack(">IQQ", 3, 0, 1)
        + be_string(b"general.name")
        + struct.pack(">I", STRING)
        + be_string(b"be")
    )
    header = parse(io.BytesIO(body), len(body), limit=1 << 20, max_entries=1000)
    assert (header.problem, header.version, [kv.value for kv in header.kvs]) == (None, 3, ["be"])


def test_string_arrays_are_walked_and_numeric_arrays_skipped() -> None:
    kvs = [("tokenizer.ggml.tokens", ARRAY, (STRING, ["a", "bb", "ccc"])), ("count", UINT32, 7)]
    data = GgufFile(kvs=kvs).build()
    header = parse(io.BytesIO(data), len(data), limit=1 << 20, max_entries=1000)
    assert [(kv.key, kv.value, kv.count) for kv in header.kvs] == [
        ("tokenizer.ggml.tokens", None, 3),
        ("count", 7, None),
    ]


# -- against the gguf library (a dev dependency) ----------------------------------------------------


def test_ggml_type_table_matches_gguf_py() -> None:
    gguf = pytest.importorskip("gguf")
    assert {int(t): tuple(size) for t, size in gguf.constants.GGML_QUANT_SIZES.items()} == GGML_TYPES


def test_a_file_written_by_gguf_py_is_clean_and_read_alike(tmp_path: Path) -> None:
    gguf = pytest.importorskip("gguf")
    import numpy as np

    path = tmp_path / "model.gguf"
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("tiny")
    writer.add_chat_template(templates.LLAMA3)
    writer.add_token_list(["<s>", "</s>", "a"])
    writer.add_tensor("a.weight", np.zeros((4, 3), dtype=np.float32))
    writer.add_tensor("b.weight", np.ones(5, dtype=np.float16))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    assert [f for f in _findings(path) if f.severity >= Severity.LOW] == []
    with open(path, "rb") as fh:
        ours = parse(fh, path.stat().st_size, limit=1 << 20, max_entries=1000)
    reader = gguf.GGUFReader(str(path))
    assert [kv.key for kv in ours.kvs] == [k for k in reader.fields if not k.startswith("GGUF.")]
    assert [(t.name, t.nbytes) for t in ours.tensors] == [(t.name, int(t.n_bytes)) for t in reader.tensors]


# -- hostile input: never raise, never hang ----------------------------------------------------------


def _parse_bytes(data: bytes) -> Fault | None:
    start = time.perf_counter()
    header = parse(io.BytesIO(data), len(data), limit=1 << 20, max_entries=10_000)
    assert time.perf_counter() - start < 15.0  # hang guard, not a speed test (speed lives in bench/)
    return header.problem.fault if header.problem else None


@HOSTILE
@given(blob=st.binary(max_size=400))
def test_random_bytes_after_the_magic_never_crash(blob: bytes) -> None:
    _parse_bytes(b"GGUF" + blob)


_VALID = GgufFile(kvs=weights_files.llama_kvs(templates.CHATML), tensors=weights_files.TENSORS).build()


@HOSTILE
@given(at=st.integers(4, len(_VALID) - 1), value=st.binary(min_size=1, max_size=8), cut=st.booleans())
def test_mutated_files_never_crash(at: int, value: bytes, cut: bool) -> None:
    data = _VALID[:at] if cut else _VALID[:at] + value + _VALID[at + len(value) :]
    _parse_bytes(data)


def test_every_truncation_of_the_header_is_malformed() -> None:
    header_end = _VALID.index(b"output.weight") + 64
    assert {_parse_bytes(_VALID[:cut]) for cut in range(4, header_end - 40)} <= {
        Fault.MALFORMED,
        Fault.ABSURD,
    }
