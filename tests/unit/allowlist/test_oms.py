"""OMS bundles: made by model-signing's signer from airlock's hashes, checked by airlock and the library."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest

from airlock.allowlist import oms
from airlock.allowlist.errors import InvalidModelSignature
from airlock.sources.interface import parse_reference
from airlock.sources.local import open_local


def _model(root: Path) -> Path:
    (root / "sub").mkdir(parents=True)
    (root / "model.safetensors").write_bytes(b"weights")
    (root / "sub" / "config.json").write_text("{}")
    (root / ".gitattributes").write_text("*.safetensors filter=lfs\n")
    (root / ".cache" / "huggingface").mkdir(parents=True)
    (root / ".cache" / "huggingface" / "meta").write_text("download metadata")
    (root / "notes.md").write_text("left out with --exclude")
    return root


def _hashes(root: Path, names: dict[str, str]) -> dict[str, str]:
    return {name: hashlib.sha256((root / rel).read_bytes()).hexdigest() for rel, name in names.items()}


def test_layout_leaves_git_metadata_out_and_records_what_airlock_ignored(tmp_path: Path) -> None:
    root = _model(tmp_path / "m")
    snapshot = open_local(parse_reference(str(root)), exclude=("*.md",))
    shape = oms.layout(snapshot)
    assert shape.model_name == "m"
    assert sorted(shape.names) == [
        "model.safetensors",
        "sub/config.json",
    ]  # .gitattributes is in airlock's manifest only
    assert shape.ignore_paths == (".cache", ".git", ".gitattributes", ".github", ".gitignore", "notes.md")
    assert shape.allow_symlinks is False


def test_a_single_file_is_the_resource_dot(tmp_path: Path) -> None:
    root = _model(tmp_path / "m")
    shape = oms.layout(open_local(parse_reference(str(root / "model.safetensors"))))
    assert (shape.model_name, dict(shape.names)) == ("model.safetensors", {"model.safetensors": "."})


def test_bundle_from_precomputed_hashes_verifies_with_the_library_and_with_airlock(
    tmp_path: Path, keypair
) -> None:
    from model_signing import verifying

    root = _model(tmp_path / "m")
    key = keypair("team")
    shape = oms.layout(open_local(parse_reference(str(root)), exclude=("*.md",)))
    bundle = oms.sign_bundle(_hashes(root, dict(shape.names)), shape, key.path)
    signature = tmp_path / "model.sig"
    signature.write_text(json.dumps(bundle))
    verifying.Config().use_elliptic_key_verifier(public_key=tmp_path / "team.pub").verify(root, signature)
    checked = oms.check_bundle(bundle, key.public)
    assert checked.resources == _hashes(root, dict(shape.names))
    assert checked.model_name == "m"
    assert oms.bundle_key_hint(bundle) == key.public.keyid


def test_a_bundle_does_not_verify_with_another_key_or_after_an_edit(tmp_path: Path, keypair) -> None:
    root = _model(tmp_path / "m")
    team, other = keypair("team"), keypair("other")
    shape = oms.layout(open_local(parse_reference(str(root))))
    bundle = oms.sign_bundle(_hashes(root, dict(shape.names)), shape, team.path)
    with pytest.raises(
        InvalidModelSignature, match=f"names key {team.public.keyid[:16]}…, not the entry's signer"
    ):
        oms.check_bundle(bundle, other.public)
    with pytest.raises(InvalidModelSignature, match="does not verify with key"):
        oms.check_bundle(
            {**bundle, "verificationMaterial": {"publicKey": {"hint": other.public.keyid}}}, other.public
        )
    statement = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
    statement["predicate"]["resources"][0]["digest"] = "0" * 64
    forged = {
        **bundle,
        "dsseEnvelope": {
            **bundle["dsseEnvelope"],
            "payload": base64.b64encode(json.dumps(statement).encode()).decode(),
        },
    }
    with pytest.raises(InvalidModelSignature, match="does not verify"):
        oms.check_bundle(forged, team.public)


def test_a_statement_whose_root_digest_does_not_cover_its_resources_is_refused() -> None:
    statement = {
        "_type": oms.STATEMENT,
        "predicateType": oms.PREDICATE,
        "subject": [{"name": "m", "digest": {"sha256": "0" * 64}}],
        "predicate": {
            "serialization": {"method": "files", "hash_type": "sha256", "allow_symlinks": False},
            "resources": [{"name": "a", "algorithm": "sha256", "digest": "1" * 64}],
        },
    }
    with pytest.raises(InvalidModelSignature, match="root digest does not cover"):
        oms.statement_manifest(json.dumps(statement).encode())


def test_signature_files_follow_the_library_rules(tmp_path: Path) -> None:
    root = _model(tmp_path / "m")
    manifest = oms.OmsManifest("m", {}, (".cache", "notes.md"), False)
    assert [name for name, _ in oms.signature_files(root, manifest)] == [
        "model.safetensors",
        "sub/config.json",
    ]
    assert oms.signature_files(root / "model.safetensors", manifest) == [(".", root / "model.safetensors")]
