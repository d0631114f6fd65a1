"""provenance: impersonation, custom code, pickle-only weights, and Hugging Face cache snapshots.

Hub-backed checks (pinning, sha256/blob mismatches, repo facts) run against a local Hub server in
tests/integration/test_hub_source.py.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from airlock.findings import Severity
from airlock.pipeline import ScanOptions, scan
from airlock.policy import parse_policy
from airlock.report import Report
from airlock.scanners.provenance.publishers import damerau_levenshtein, lookalike


def _scan(path: Path, policy: str = "") -> Report:
    return scan(str(path), ScanOptions(policy=parse_policy(policy, "test"), use_cache=False))


@pytest.mark.parametrize(
    "org, imitates, technique",
    [
        ("rneta-llama", "meta-llama", "homoglyph"),
        ("g00gle", "google", "homoglyph"),
        ("googIe", "google", "homoglyph"),
        ("microsоft", "microsoft", "homoglyph"),  # Cyrillic о
        ("mistral-ai", "mistralai", "separator"),
        ("meta_llama", "meta-llama", "separator"),
        ("google-official", "google", "affix"),
        ("official-openai", "openai", "affix"),
        ("micrsoft", "microsoft", "edit-distance"),
        ("stabilitiai", "stabilityai", "edit-distance"),
        ("sentence-transfromers", "sentence-transformers", "edit-distance"),
    ],
)
def test_lookalikes_are_caught(org: str, imitates: str, technique: str) -> None:
    match = lookalike(org)
    assert match is not None and (match.imitates, match.technique) == (imitates, technique)


@pytest.mark.parametrize(
    "org",
    [
        "google",
        "Meta-Llama",
        "openai-community",
        "my-team",
        "bert-lover",
        "intel",
        "timm",
        "qwen",
        "acme-research",
    ],
)
def test_real_and_unrelated_orgs_are_not_lookalikes(org: str) -> None:
    assert lookalike(org) is None


def test_damerau_levenshtein_counts_a_swap_as_one() -> None:
    assert damerau_levenshtein("microsoft", "micrsooft") == 1
    assert damerau_levenshtein("abc", "abc") == 0
    assert damerau_levenshtein("abcdef", "uvwxyz", cap=2) == 3


def _model(folder: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return folder


def test_auto_map_is_reported_with_the_modules_it_loads(tmp_path: Path) -> None:
    config = {
        "model_type": "custom",
        "auto_map": {
            "AutoModel": "modeling_evil.EvilModel",
            "AutoConfig": "other/repo--configuration_evil.EvilConfig",
        },
    }
    _model(tmp_path, {"config.json": json.dumps(config).encode(), "modeling_evil.py": b"import os\n"})
    found = [f for f in _scan(tmp_path).findings if f.rule == "AIR114"]
    assert len(found) == 1
    assert found[0].evidence["modules"] == ["configuration_evil.py", "modeling_evil.py"]


def test_pickle_only_weights_are_medium_and_safetensors_beside_them_clears_it(tmp_path: Path) -> None:
    import pickle

    _model(tmp_path, {"pytorch_model.bin": pickle.dumps({"w": [1.0]}, protocol=2)})
    assert [f.rule for f in _scan(tmp_path).findings] == ["AIR113"]
    import numpy as np
    from safetensors.numpy import save_file

    save_file({"w": np.zeros(2, dtype=np.float32)}, str(tmp_path / "model.safetensors"))
    assert [f.rule for f in _scan(tmp_path).findings] == []


def _cache_snapshot(root: Path, files: dict[str, bytes], lfs: set[str]) -> Path:
    """Lay files out the way huggingface_hub's cache does: blobs named by hash, snapshot symlinks."""
    sha = "c" * 40
    repo = root / "models--sentence-transformers--tiny"
    snap = repo / "snapshots" / sha
    (repo / "blobs").mkdir(parents=True)
    for name, data in files.items():
        blob = (
            hashlib.sha256(data).hexdigest()
            if name in lfs
            else hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
        )
        (repo / "blobs" / blob).write_bytes(data)
        link = snap / name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(Path("../" * (name.count("/") + 2)) / "blobs" / blob)
    return snap


def test_hf_cache_snapshot_is_verified_against_blob_names(tmp_path: Path) -> None:
    header = (
        b'{"__metadata__":{}}    '  # a real (empty) safetensors file: file_claims checks the name's promise
    )
    weights = len(header).to_bytes(8, "little") + header
    snap = _cache_snapshot(
        tmp_path,
        {"config.json": b"{}", "model.safetensors": weights, "README.md": b"# x"},
        lfs={"model.safetensors"},
    )
    report = _scan(snap)
    assert [f.rule for f in report.findings] == ["AIR115"]
    assert report.passed


def test_hf_cache_snapshot_with_a_swapped_blob_fails_closed(tmp_path: Path) -> None:
    snap = _cache_snapshot(
        tmp_path, {"config.json": b"{}", "model.safetensors": b"\x02" * 64}, lfs={"model.safetensors"}
    )
    target = (snap / "model.safetensors").resolve()
    target.write_bytes(b"\x03" + b"\x02" * 63)  # same length, one byte changed
    (snap / "config.json").resolve().write_bytes(b"[]")
    report = _scan(snap)
    assert sorted(f.rule for f in report.findings if str(f.severity) == "critical") == ["AIR102", "AIR103"]
    assert not report.passed


def test_hf_cache_snapshot_impersonation(tmp_path: Path) -> None:
    snap = _cache_snapshot(tmp_path, {"config.json": b"{}"}, lfs=set())
    renamed = snap.parents[1].rename(tmp_path / "models--g00gle--tiny")
    report = _scan(renamed / "snapshots" / ("c" * 40))
    assert [f.rule for f in report.findings if f.rule == "AIR112"] == ["AIR112"]
    assert not report.passed


def test_links_out_of_the_model_folder_are_high(tmp_path: Path) -> None:
    """A file or folder that links outside the model is read (or overwritten) by loaders that follow it."""
    outside = tmp_path / "home"
    (outside / ".ssh").mkdir(parents=True)
    (outside / ".ssh" / "id_rsa").write_text("not a real key\n")
    model = tmp_path / "model"
    model.mkdir()
    (model / "model.onnx").write_bytes(b"\x08\x07")
    (model / "weights.bin").symlink_to(outside / ".ssh" / "id_rsa")
    (model / "assets").symlink_to(outside / ".ssh", target_is_directory=True)
    (model / "copy.bin").symlink_to("model.onnx")  # inside the folder: fine
    report = _scan(model)
    links = sorted(
        (f.artifact, f.severity, f.evidence["target"]) for f in report.findings if f.rule == "AIR116"
    )
    assert links == [
        ("assets", Severity.HIGH, str((outside / ".ssh").resolve())),
        ("weights.bin", Severity.HIGH, str((outside / ".ssh" / "id_rsa").resolve())),
    ]
    assert not report.passed


def test_links_inside_the_folder_and_a_cache_snapshots_blob_links_are_fine(tmp_path: Path) -> None:
    model = tmp_path / "model"
    (model / "sub").mkdir(parents=True)
    (model / "sub" / "real.json").write_text("{}")
    (model / "config.json").symlink_to("sub/real.json")
    (model / "more").symlink_to("sub", target_is_directory=True)
    assert [f.rule for f in _scan(model).findings if f.rule == "AIR116"] == []
    snap = _cache_snapshot(tmp_path / "cache", {"config.json": b"{}"}, lfs=set())
    assert [f.rule for f in _scan(snap).findings if f.rule == "AIR116"] == []


def test_an_excluded_link_is_not_reported(tmp_path: Path) -> None:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "config.json").write_text("{}")
    (tmp_path / "model" / ".git").mkdir()
    (tmp_path / "model" / ".git" / "hooks").symlink_to(tmp_path, target_is_directory=True)
    assert [f.rule for f in _scan(tmp_path / "model").findings if f.rule == "AIR116"] == []
