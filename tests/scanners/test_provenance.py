"""provenance: impersonation, custom code, pickle-only weights, and Hugging Face cache snapshots.

Hub-backed checks (pinning, sha256/blob mismatches, repo facts) run against a local Hub server in
tests/integration/test_hub_source.py.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from airlock.scanners._publishers import damerau_levenshtein, lookalike

from airlock.pipeline import ScanOptions, scan
from airlock.policy import parse_policy
from airlock.report import Report


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


@pytest.mark.parametrize("org", ["google", "Meta-Llama", "openai-community", "my-team", "bert-lover", "intel", "timm", "qwen", "acme-research"])
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
    config = {"model_type": "custom", "auto_map": {"AutoModel": "modeling_evil.EvilModel",
                                                    "AutoConfig": "other/repo--configuration_evil.EvilConfig"}}
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
        blob = hashlib.sha256(data).hexdigest() if name in lfs else hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
        (repo / "blobs" / blob).write_bytes(data)
        link = snap / name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(Path("../" * (name.count("/") + 2)) / "blobs" / blob)
    return snap


def test_hf_cache_snapshot_is_verified_against_blob_names(tmp_path: Path) -> None:
    snap = _cache_snapshot(tmp_path, {"config.json": b"{}", "model.safetensors": b"\x02" * 64, "README.md": b"# x"},
                           lfs={"model.safetensors"})
    report = _scan(snap)
    assert [f.rule for f in report.findings] == ["AIR115"]
    assert report.passed


def test_hf_cache_snapshot_with_a_swapped_blob_fails_closed(tmp_path: Path) -> None:
    snap = _cache_snapshot(tmp_path, {"config.json": b"{}", "model.safetensors": b"\x02" * 64}, lfs={"model.safetensors"})
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
