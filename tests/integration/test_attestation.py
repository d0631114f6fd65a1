"""Vetting attestations: `airlock sign --attest` on a real checkpoint, verified by libraries that are not
airlock's (in-toto-attestation for the Statement and VSA predicate, securesystemslib for DSSE), and by
`airlock verify --attestation`, which refuses every tamper."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from google.protobuf import json_format
from in_toto_attestation.predicates.vsa.v1 import vsa_pb2
from in_toto_attestation.v1.statement import Statement
from in_toto_attestation.v1.statement_pb2 import Statement as StatementProto
from securesystemslib.dsse import Envelope
from securesystemslib.signer import SSlibKey

from fixtures import pickles
from fixtures.real_models import minilm_dir


def _airlock(*args: object) -> int:
    from airlock.cli.main import main

    with pytest.raises(SystemExit) as exit_info:
        main([str(a) for a in args])
    return int(exit_info.value.code or 0)


@pytest.fixture(scope="module")
def attested(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("attested")
    shutil.copytree(minilm_dir(), root / "minilm")
    assert _airlock("keygen", root / "team.key") == 0
    code = _airlock(
        "sign", root / "minilm", "--key", root / "team.key", "--allowlist", root / "allow.jsonl",
        "--attest", root / "minilm.intoto.json", "--save-report", root / "report.json",
    )  # fmt: skip
    assert code == 0
    return root


def _independent_key(pub: Path, keyid: str) -> SSlibKey:
    return SSlibKey.from_crypto(serialization.load_pem_public_key(pub.read_bytes()), keyid=keyid)  # type: ignore[arg-type]


def test_an_independent_dsse_verifier_and_the_in_toto_bindings_accept_it(attested: Path) -> None:
    document = json.loads((attested / "minilm.intoto.json").read_text())
    keyid = hashlib.sha256((attested / "team.key.pub").read_bytes()).hexdigest()
    envelope = Envelope.from_dict(json.loads(json.dumps(document)))  # from_dict edits its argument
    verified = envelope.verify([_independent_key(attested / "team.key.pub", keyid)], 1)
    assert list(verified) == [keyid]
    assert envelope.payload_type == "application/vnd.in-toto+json"

    body = json.loads(envelope.payload)
    proto = json_format.ParseDict(body, StatementProto())
    Statement.copy_from_pb(proto).validate()  # the in-toto-attestation bindings' own check
    assert proto.predicate_type == "https://slsa.dev/verification_summary/v1"
    # the bindings' VSA v1 proto (0.9.3) declares verifiedLevels a single string where the SLSA spec
    # says an array of strings (airlock follows the spec); `verifier.version` is not in that proto either
    predicate = {k: v for k, v in body["predicate"].items() if k != "verifiedLevels"}
    assert body["predicate"]["verifiedLevels"] == ["AIRLOCK_VETTED"]
    vsa = json_format.ParseDict(predicate, vsa_pb2.VerificationSummary(), ignore_unknown_fields=True)
    assert vsa.verification_result == "PASSED"
    assert vsa.verifier.id == "https://github.com/model-airlock/model-airlock"
    assert vsa.time_verified.seconds > 0
    assert vsa.resource_uri.startswith("file://")

    # subjects: every file of the model with its sha256, as the files are on disk
    files = sorted(p for p in (attested / "minilm").rglob("*") if p.is_file())
    on_disk = {
        p.relative_to(attested / "minilm").as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in files
    }
    assert {s.name: s.digest["sha256"] for s in proto.subject} == on_disk
    # the report the predicate names is the one saved, and its policy digest is the scan's policy
    report = (attested / "report.json").read_bytes()
    [report_ref] = vsa.input_attestations
    assert report_ref.digest["sha256"] == hashlib.sha256(report).hexdigest()
    label = json.loads(report)["verdict"]["policy"]
    shown = label.split("(sha256:")[1].rstrip(")")  # the report's label shows a prefix of the digest
    assert vsa.policy.digest["sha256"].startswith(shown) and len(vsa.policy.digest["sha256"]) == 64


def test_the_allowlist_entry_records_the_attestation_digest(attested: Path) -> None:
    record = json.loads((attested / "allow.jsonl").read_text().splitlines()[1])
    digest = "sha256:" + hashlib.sha256((attested / "minilm.intoto.json").read_bytes()).hexdigest()
    assert record["body"]["attestation"] == digest


def test_the_signature_is_over_the_dsse_pae_computed_here(attested: Path) -> None:
    """PAE written out independently of airlock and securesystemslib, checked with `cryptography`."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    document = json.loads((attested / "minilm.intoto.json").read_text())
    payload = base64.b64decode(document["payload"])
    kind = document["payloadType"].encode()
    pae = (
        b"DSSEv1 "
        + str(len(kind)).encode()
        + b" "
        + kind
        + b" "
        + str(len(payload)).encode()
        + b" "
        + payload
    )
    public = serialization.load_pem_public_key((attested / "team.key.pub").read_bytes())
    assert isinstance(public, ec.EllipticCurvePublicKey)
    public.verify(base64.b64decode(document["signatures"][0]["sig"]), pae, ec.ECDSA(hashes.SHA256()))


def test_airlock_verify_checks_it_alone_and_with_the_allowlist(attested: Path, tmp_path: Path, cli) -> None:
    model, att, pub = attested / "minilm", attested / "minilm.intoto.json", attested / "team.key.pub"
    alone = cli("verify", str(model), "--attestation", str(att), "--pubkey", str(pub))
    assert alone.code == 0, alone.out
    both = cli(
        "verify",
        str(model),
        "--allowlist",
        str(attested / "allow.jsonl"),
        "--attestation",
        str(att),
        "--pubkey",
        str(pub),
    )
    assert both.code == 0 and "attestation verified" in both.out

    # a changed file: the subjects no longer match
    copy = Path(shutil.copytree(model, tmp_path / "minilm"))
    (copy / "config.json").write_text((copy / "config.json").read_text() + " ")
    changed = cli("verify", str(copy), "--attestation", str(att), "--pubkey", str(pub))
    assert changed.code == 1 and "config.json: changed" in changed.out

    # an edited payload (re-encoded): the signature no longer verifies
    document = json.loads(att.read_text())
    body = json.loads(base64.b64decode(document["payload"]))
    body["predicate"]["verificationResult"] = "PASSED "
    document["payload"] = base64.b64encode(json.dumps(body).encode()).decode()
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(document))
    refused = cli("verify", str(model), "--attestation", str(forged), "--pubkey", str(pub))
    assert refused.code == 1 and "no signature by a trusted key" in refused.out

    # another key is not trusted
    assert _airlock("keygen", tmp_path / "other.key") == 0
    other = cli("verify", str(model), "--attestation", str(att), "--pubkey", str(tmp_path / "other.key.pub"))
    assert other.code == 1

    # with the allowlist, an attestation the entry does not record is refused
    shutil.copy(att, tmp_path / "copy.json")
    (tmp_path / "copy.json").write_text(att.read_text() + "\n")  # same statement, other bytes
    unrecorded = cli(
        "verify",
        str(model),
        "--allowlist",
        str(attested / "allow.jsonl"),
        "--attestation",
        str(tmp_path / "copy.json"),
        "--pubkey",
        str(pub),
    )
    assert unrecorded.code == 1 and "records attestation" in unrecorded.out


def test_a_refused_model_gets_a_failed_attestation_and_no_entry(generated, tmp_path: Path, cli) -> None:
    bad = generated(pickles.os_system_canary)
    assert _airlock("keygen", tmp_path / "k.key") == 0
    code = _airlock(
        "sign",
        bad,
        "--key",
        tmp_path / "k.key",
        "--allowlist",
        tmp_path / "a.jsonl",
        "--attest",
        tmp_path / "bad.json",
    )
    assert code == 1
    assert not (tmp_path / "a.jsonl").exists()
    body = json.loads(base64.b64decode(json.loads((tmp_path / "bad.json").read_text())["payload"]))
    assert body["predicate"]["verificationResult"] == "FAILED"
    refused = cli(
        "verify",
        str(bad),
        "--attestation",
        str(tmp_path / "bad.json"),
        "--pubkey",
        str(tmp_path / "k.key.pub"),
    )
    assert refused.code == 1 and "FAILED" in refused.out


def test_attest_an_existing_entry(tmp_path: Path, cli) -> None:
    model = Path(shutil.copytree(minilm_dir(), tmp_path / "minilm"))
    key, allow = tmp_path / "k.key", tmp_path / "a.jsonl"
    assert _airlock("keygen", key) == 0
    assert _airlock("sign", model, "--key", key, "--allowlist", allow) == 0
    digest = json.loads(allow.read_text().splitlines()[1])["body"]["model"]
    assert "attestation" not in json.loads(allow.read_text().splitlines()[1])["body"]  # old shape unchanged
    image = "registry.example/models/minilm@sha256:" + "ab" * 32  # the model packaged as an OCI image
    args = ("--allowlist", allow, "--key", key, "--output", tmp_path / "att.json", "--attest-subject", image)
    assert _airlock("attest", digest[:20], *args) == 0
    statement = json.loads(base64.b64decode(json.loads((tmp_path / "att.json").read_text())["payload"]))
    Statement.copy_from_pb(json_format.ParseDict(statement, StatementProto())).validate()
    [packaged] = [s for s in statement["subject"] if s["name"] == "registry.example/models/minilm"]
    assert packaged["digest"] == {"sha256": "ab" * 32}  # what cosign matches against the image digest
    records = [json.loads(line) for line in allow.read_text().splitlines()[1:]]
    assert len(records) == 2 and records[1]["body"]["model"] == digest
    assert (
        records[1]["body"]["attestation"]
        == "sha256:" + hashlib.sha256((tmp_path / "att.json").read_bytes()).hexdigest()
    )
    ok = cli(
        "verify",
        str(model),
        "--allowlist",
        str(allow),
        "--attestation",
        str(tmp_path / "att.json"),
        "--pubkey",
        str(key) + ".pub",
    )
    assert ok.code == 0, ok.out
    listing = cli("allowlist", "list", "--allowlist", str(allow), "--pubkey", str(key) + ".pub")
    assert listing.code == 0
