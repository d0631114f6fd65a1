"""Key pairs: safe permissions, no silent overwrite, clear errors for the wrong kind of file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from airlock.allowlist.errors import KeyFileError
from airlock.allowlist.keys import generate, load_private, load_public, trusted


def test_keygen_writes_a_private_key_only_its_owner_can_read(tmp_path: Path) -> None:
    public = generate(tmp_path / "team")
    assert stat.S_IMODE((tmp_path / "team").stat().st_mode) == 0o600
    assert (
        load_public(tmp_path / "team.pub").keyid
        == public.keyid
        == load_private(tmp_path / "team").public.keyid
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["team", "team.pub"]  # no temp file left


def test_keygen_refuses_to_overwrite_unless_forced(tmp_path: Path) -> None:
    first = generate(tmp_path / "team")
    with pytest.raises(KeyFileError, match="already exists"):
        generate(tmp_path / "team")
    assert load_public(tmp_path / "team.pub").keyid == first.keyid
    second = generate(tmp_path / "team", force=True)
    assert second.keyid != first.keyid
    assert stat.S_IMODE((tmp_path / "team").stat().st_mode) == 0o600


def test_signature_made_by_a_key_verifies_only_with_its_public_key(tmp_path: Path) -> None:
    generate(tmp_path / "a")
    generate(tmp_path / "b")
    signature = load_private(tmp_path / "a").sign(b"message")
    assert load_public(tmp_path / "a.pub").verify(signature, b"message")
    assert not load_public(tmp_path / "a.pub").verify(signature, b"messagE")
    assert not load_public(tmp_path / "b.pub").verify(signature, b"message")


def test_wrong_files_give_one_clear_error(tmp_path: Path) -> None:
    generate(tmp_path / "a")
    with pytest.raises(KeyFileError, match=r"that is a private key: pass the \.pub file"):
        load_public(tmp_path / "a")
    (tmp_path / "junk").write_text("hello")
    with pytest.raises(KeyFileError, match="not a PEM private key"):
        load_private(tmp_path / "junk")
    with pytest.raises(KeyFileError, match="No such file"):
        trusted([tmp_path / "missing.pub"])


def test_ed25519_keys_are_refused_because_model_signing_cannot_use_them(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    key = ed25519.Ed25519PrivateKey.generate()
    (tmp_path / "ed").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    with pytest.raises(KeyFileError, match="not an ECDSA key"):
        load_private(tmp_path / "ed")
