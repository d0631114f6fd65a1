"""file_claims: a file named like a model format must be that format; a scan that recognised no model says so."""

from __future__ import annotations

import io
import json
import pickle
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from airlock.formats import NAME_CLAIMS, Format
from airlock.pipeline import ScanOptions, scan
from airlock.render.table import TableRenderer
from airlock.report import Report
from fixtures import pickles
from fixtures.canary import shell_command
from fixtures.real_models import minilm_dir


def _scan(path: Path) -> Report:
    return scan(
        str(path),
        ScanOptions(use_cache=False, download_progress=False, scanners=["provenance", "file_claims"]),
    )


def _claims(report: Report) -> list[tuple[str, str | None]]:
    return [(f.rule, f.artifact) for f in report.findings if f.scanner == "file_claims"]


def _torch_zip(path: Path) -> None:
    torch = pytest.importorskip("torch")
    torch.save({"w": torch.zeros(2)}, path)


def _zip(names: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in names.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def _npz(path: Path) -> None:
    import numpy as np

    np.savez(path, a=np.zeros(3), b=np.ones(2))


def _bytes(data: bytes) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(data)


SAFETENSORS = (b'{"__metadata__":{}}').ljust(24)
SAFETENSORS = len(SAFETENSORS).to_bytes(8, "little") + SAFETENSORS

BENIGN: dict[str, Callable[[Path], None]] = {
    "pytorch_model.bin": _torch_zip,
    "training_args.bin": _bytes(pickle.dumps({"lr": 0.1}, protocol=4)),
    "openvino_model.bin": _bytes(bytes(range(256)) * 8),  # a raw weight blob
    "model.safetensors": _bytes(SAFETENSORS),
    "arrays.npz": _npz,
    "empty.npz": _bytes(_zip({})),
    "vectorizer.pkl": _bytes(pickle.dumps([1, 2, 3], protocol=2)),
    "tokenizer.json": _bytes(b'{"version": "1.0"}'),
    "model.ckpt": _torch_zip,
    "export.pkl": _torch_zip,  # fastai's learn.export() is torch.save
}

MISMATCHED: dict[str, Callable[[Path], None]] = {
    "model.safetensors": _bytes(pickles.reduce_call("os", "system", shell_command("claims"), 4)),  # a pickle
    "model.gguf": _bytes(_zip({"a.txt": b"x"})),
    "weights.safetensors": _bytes(b""),
    "model.onnx": _bytes(bytes([0x00, 0xFF, 0x13, 0x37]) * 64),  # random bytes
    "pytorch_model.bin": _bytes(
        b"version https://git-lfs.github.com/spec/v1\noid sha256:" + b"0" * 64 + b"\nsize 9\n"
    ),
    "model.h5": _bytes(SAFETENSORS),
    "tf_model.keras": _bytes(_zip({"weights.bin": b"x"})),
    "arrays.npy": _bytes(b""),
}


@pytest.mark.parametrize("name", list(BENIGN))
def test_a_file_that_is_what_its_name_claims_passes(tmp_path: Path, name: str) -> None:
    BENIGN[name](tmp_path / name)
    report = _scan(tmp_path)
    assert [rule for rule, _ in _claims(report) if rule != "AIR442"] == [], (
        report.findings
    )  # AIR442: tokenizer.json alone
    assert report.passed


@pytest.mark.parametrize("name", list(MISMATCHED))
def test_a_file_that_is_not_what_its_name_claims_fails_the_default_policy(tmp_path: Path, name: str) -> None:
    MISMATCHED[name](tmp_path / name)
    (tmp_path / "config.json").write_text("{}")
    report = _scan(tmp_path)
    assert ("AIR441", name) in _claims(report)
    finding = next(f for f in report.findings if f.rule == "AIR441")
    assert str(finding.severity) == "high" and finding.evidence["claimed"]
    assert not report.passed


def test_an_lfs_pointer_is_named_as_such(tmp_path: Path) -> None:
    MISMATCHED["pytorch_model.bin"](tmp_path / "pytorch_model.bin")
    [finding] = [f for f in _scan(tmp_path).findings if f.rule == "AIR441"]
    assert "Git LFS pointer" in finding.message


def test_every_claim_accepts_only_formats_airlock_can_detect() -> None:
    assert all(claims and claims <= set(Format) for claims in NAME_CLAIMS.values())
    assert all(Format.EMPTY not in claims for claims in NAME_CLAIMS.values())


def test_a_config_only_snapshot_does_not_pass_silently(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "README.md").write_text("# a model card\n")
    report = _scan(tmp_path)
    assert _claims(report) == [("AIR442", None)]
    assert report.passed  # a tokenizer- or code-only repository is legitimate: medium by default
    assert report.inventory == {"files": 2, "models": 0, "analysed": 0, "data": 2, "unidentified": 0}
    text = TableRenderer().render(report)
    assert ": 0 analysed, 2 data, 0 unidentified, 0 models" in text


def test_a_policy_can_require_a_model(tmp_path: Path) -> None:
    from airlock.policy import parse_policy

    (tmp_path / "config.json").write_text("{}")
    policy = parse_policy('[severity]\nAIR442 = "high"\n', "test")
    report = scan(
        str(tmp_path), ScanOptions(policy=policy, use_cache=False, scanners=["provenance", "file_claims"])
    )
    assert not report.passed


def test_unidentified_files_and_no_model_fail(tmp_path: Path) -> None:
    (tmp_path / "weights").write_bytes(bytes([0x00, 0xFF]) * 512)
    (tmp_path / "config.json").write_text("{}")
    report = _scan(tmp_path)
    assert _claims(report) == [("AIR443", None)]
    assert report.findings[0].evidence["unidentified_paths"] == ["weights"]
    assert not report.passed


def test_the_counts_are_in_the_json_report_and_the_table(tmp_path: Path) -> None:
    _torch_zip(tmp_path / "pytorch_model.bin")
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "blob").write_bytes(bytes([0x00, 0xFF]) * 512)
    (tmp_path / "modeling.py").write_text("import torch\n\nclass M:\n    pass\n")
    report = _scan(tmp_path)
    document = json.loads(report.to_json())
    assert document["inventory"] == {"files": 4, "models": 1, "analysed": 2, "data": 1, "unidentified": 1}
    assert Report.from_dict(document).to_dict() == document
    files_line = next(
        line for line in TableRenderer().render(report).splitlines() if line.startswith("files ")
    )
    assert files_line.endswith(": 2 analysed, 1 data, 1 unidentified, 1 model")


def test_the_real_minilm_gets_no_claim_finding() -> None:
    report = _scan(minilm_dir())
    assert _claims(report) == []
    assert report.inventory is not None and report.inventory["models"] >= 1
