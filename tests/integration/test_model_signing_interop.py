"""Interoperability with the OpenSSF Model Signing library (`model-signing`), both ways, on a real checkpoint.

airlock's OMS signatures verify with model-signing's own verifier (key and certificate chain); the
library's signatures verify with `airlock verify --signature`; a tampered model fails both.
"""

from __future__ import annotations

import datetime
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from model_signing import hashing, signing, verifying

from fixtures.real_models import minilm_dir


@pytest.fixture(scope="module")
def minilm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return Path(shutil.copytree(minilm_dir(), tmp_path_factory.mktemp("interop") / "all-MiniLM-L6-v2"))


@pytest.fixture
def model(minilm: Path, tmp_path: Path) -> Path:
    """A per-test copy (linked: tests that change bytes replace the file instead of writing into it)."""
    return Path(shutil.copytree(minilm, tmp_path / "all-MiniLM-L6-v2", copy_function=os.link))


def _flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    path.unlink()
    data[-1] ^= 1
    path.write_bytes(bytes(data))


def test_airlock_signature_verifies_with_the_model_signing_verifier(cli, model: Path, tmp_path: Path) -> None:
    assert cli("keygen", tmp_path / "k").code == 0
    sig = tmp_path / "model.sig"
    signed = cli(
        "sign", model, "--key", tmp_path / "k", "--allowlist", tmp_path / "a.jsonl", "--signature", sig
    )
    assert signed.code == 0, signed.out + signed.err
    verifying.Config().use_elliptic_key_verifier(public_key=tmp_path / "k.pub").verify(model, sig)
    tool = Path(sys.executable).parent / "model_signing"  # and the library's own command line
    done = subprocess.run(
        [
            str(tool),
            "verify",
            "key",
            str(model),
            "--signature",
            str(sig),
            "--public_key",
            str(tmp_path / "k.pub"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stdout.strip()) == (0, "Verification succeeded"), done.stderr
    _flip_a_byte(model / "model.safetensors")
    with pytest.raises(ValueError, match=r"Hash mismatch for 'model\.safetensors'"):
        verifying.Config().use_elliptic_key_verifier(public_key=tmp_path / "k.pub").verify(model, sig)


def test_model_signing_signature_verifies_with_airlock(cli, model: Path, tmp_path: Path) -> None:
    assert cli("keygen", tmp_path / "k").code == 0
    sig = tmp_path / "model.sig"
    signing.Config().use_elliptic_key_signer(private_key=tmp_path / "k").sign(model, sig)
    result = cli("verify", model, "--signature", sig, "--pubkey", tmp_path / "k.pub")
    assert result.code == 0, result.out + result.err
    assert result.out.startswith(f"admitted: {model}: matches the OMS signature {sig} (")
    (model / "vocab.txt").rename(model / "vocab-moved.txt")
    refused = cli("verify", model, "--signature", sig, "--pubkey", tmp_path / "k.pub")
    assert refused.code == 1
    assert "does not match the OMS signature: vocab.txt renamed to vocab-moved.txt" in refused.out


def test_ignore_paths_written_by_model_signing_are_honoured(cli, model: Path, tmp_path: Path) -> None:
    assert cli("keygen", tmp_path / "k").code == 0
    sig = tmp_path / "model.sig"
    unsigned = hashing.Config().set_ignored_paths(paths=["README.md", "1_Pooling"])
    signing.Config().use_elliptic_key_signer(private_key=tmp_path / "k").set_hashing_config(unsigned).sign(
        model, sig
    )
    (model / "README.md").write_text("edited: not covered by the signature")
    assert cli("verify", model, "--signature", sig, "--pubkey", tmp_path / "k.pub").code == 0
    (model / "tokenizer.json").unlink()
    refused = cli("verify", model, "--signature", sig, "--pubkey", tmp_path / "k.pub")
    assert refused.code == 1 and "tokenizer.json removed" in refused.out


def test_single_file_signatures_interoperate_both_ways(cli, model: Path, tmp_path: Path) -> None:
    weights = model / "model.safetensors"
    assert cli("keygen", tmp_path / "k").code == 0
    ours = tmp_path / "ours.sig"
    assert (
        cli(
            "sign", weights, "--key", tmp_path / "k", "--allowlist", tmp_path / "a.jsonl", "--signature", ours
        ).code
        == 0
    )
    verifying.Config().use_elliptic_key_verifier(public_key=tmp_path / "k.pub").verify(weights, ours)
    theirs = tmp_path / "theirs.sig"
    signing.Config().use_elliptic_key_signer(private_key=tmp_path / "k").sign(weights, theirs)
    assert cli("verify", weights, "--signature", theirs, "--pubkey", tmp_path / "k.pub").code == 0


def test_shard_mode_signatures_are_refused_with_a_reason(cli, model: Path, tmp_path: Path) -> None:
    assert cli("keygen", tmp_path / "k").code == 0
    sig = tmp_path / "model.sig"
    shards = hashing.Config().use_shard_serialization()
    signing.Config().use_elliptic_key_signer(private_key=tmp_path / "k").set_hashing_config(shards).sign(
        model, sig
    )
    result = cli("verify", model, "--signature", sig, "--pubkey", tmp_path / "k.pub")
    assert result.code == 1 and "airlock verifies per-file sha256 signatures" in result.out


def _certificates(tmp_path: Path, key_path: Path) -> tuple[Path, Path]:
    """A CA and a code-signing certificate for the key at `key_path`."""
    now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "airlock test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .sign(ca_key, hashes.SHA256())
    )
    signer = serialization.load_pem_private_key(key_path.read_bytes(), None)
    assert isinstance(signer, ec.EllipticCurvePrivateKey)
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ml-platform signer")]))
        .issuer_name(ca_name)
        .public_key(signer.public_key())
        .serial_number(2)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True
        )
        .sign(ca_key, hashes.SHA256())
    )
    (tmp_path / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "signer.pem").write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    return tmp_path / "signer.pem", tmp_path / "ca.pem"


def test_certificate_chain_signatures_verify_with_the_library_and_with_airlock(
    cli, model: Path, tmp_path: Path
) -> None:
    assert cli("keygen", tmp_path / "k").code == 0
    leaf, ca = _certificates(tmp_path, tmp_path / "k")
    sig, allowlist = tmp_path / "model.sig", tmp_path / "a.jsonl"
    signed = cli(
        "sign",
        model,
        "--key",
        tmp_path / "k",
        "--allowlist",
        allowlist,
        "--signature",
        sig,
        "--cert",
        leaf,
        "--cert-chain",
        ca,
    )
    assert signed.code == 0, signed.out + signed.err
    verifying.Config().use_certificate_verifier(certificate_chain=[ca]).verify(model, sig)
    assert cli("verify", model, "--signature", sig, "--cert-chain", ca).code == 0
    assert cli("verify", model, "--allowlist", allowlist, "--pubkey", tmp_path / "k.pub").code == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    _, other_ca = _certificates(elsewhere, tmp_path / "k")  # same key, a CA the verifier does not trust
    refused = cli("verify", model, "--signature", sig, "--cert-chain", other_ca)
    assert refused.code == 1 and "X509StoreContextError" in refused.out
