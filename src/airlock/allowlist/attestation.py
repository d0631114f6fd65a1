"""Vetting attestations: a signed record of one vetting decision that tools other than airlock can check.

The record is an in-toto Statement v1 whose subjects are the model's files (name + sha256) and whose
predicate is the SLSA Verification Summary Attestation v1 (VSA): airlock as the verifier, the policy
(a URI naming it, and the sha256 of its text), PASSED or FAILED, the time of the decision, the model
reference as `resourceUri`, and the scan report as the one `inputAttestations` entry (its sha256).
The statement travels in a DSSE envelope (payload type `application/vnd.in-toto+json`) signed over
the DSSE pre-authentication encoding with the allowlist signer's ECDSA key; the signature's `keyid`
is airlock's key id (sha256 of the public key PEM). Its digest, recorded in the allowlist entry, is
the sha256 of the envelope file's bytes exactly as written.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from airlock import __version__
from airlock.allowlist.entry import FileRecord, PolicyRef
from airlock.allowlist.keys import KeyId, PrivateKey, TrustedKeys
from airlock.allowlist.records import format_time, pae, parse_time, sha256_digest

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://slsa.dev/verification_summary/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
VERIFIER_ID = "https://github.com/model-airlock/model-airlock"
REPORT_URI = "urn:airlock:report"  # the inputAttestations entry that is the scan report
VETTED_LEVEL = "AIRLOCK_VETTED"  # verifiedLevels of a PASSED decision (custom levels must not start SLSA_)
PASSED, FAILED = "PASSED", "FAILED"
PACKAGING = "airlock.packaging"  # annotation on an extra subject: the model as packaged (an OCI image)
_PACKAGED = re.compile(r"^(?P<name>[^@\s]+)@sha256:(?P<hex>[0-9a-f]{64})$")


class InvalidAttestation(ValueError):
    """The attestation is not a well-formed, correctly signed airlock VSA."""


@dataclass(frozen=True)
class Decision:
    """What an attestation records about one vetting decision."""

    reference: str  # hf://ORG/NAME@<sha> or an absolute path (becomes resourceUri)
    files: tuple[FileRecord, ...]
    policy: PolicyRef
    passed: bool
    report: str  # sha256:… of the scan report
    time: datetime
    signatures: str = ""  # the rules version the scan used
    packaged: tuple[tuple[str, str], ...] = ()  # (name, sha256 hex): e.g. the OCI image holding the model


@dataclass(frozen=True)
class Checked:
    """A verified attestation: who signed it and what it says."""

    signer: str
    subjects: Mapping[str, str]  # file name → sha256 hex
    predicate: Mapping[str, Any]

    @property
    def passed(self) -> bool:
        return self.predicate.get("verificationResult") == PASSED


def statement(decision: Decision) -> dict[str, Any]:
    """The in-toto Statement v1 with the SLSA VSA v1 predicate."""
    version = {"airlock": __version__}
    if decision.signatures:
        version["signatures"] = decision.signatures
    policy: dict[str, Any] = {"uri": f"urn:airlock:policy:{quote(decision.policy.name, safe='')}"}
    if decision.policy.digest and len(decision.policy.digest) == len("sha256:") + 64:
        policy["digest"] = {"sha256": decision.policy.digest.removeprefix("sha256:")}
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": f.path, "digest": {"sha256": f.sha256}} for f in decision.files]
        + [
            {"name": name, "digest": {"sha256": hexdigest}, "annotations": {PACKAGING: "oci"}}
            for name, hexdigest in decision.packaged
        ],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "verifier": {"id": VERIFIER_ID, "version": version},
            "timeVerified": format_time(decision.time),
            "resourceUri": _uri(decision.reference),
            "policy": policy,
            "inputAttestations": [
                {"uri": REPORT_URI, "digest": {"sha256": decision.report.removeprefix("sha256:")}}
            ],
            "verificationResult": PASSED if decision.passed else FAILED,
            "verifiedLevels": [VETTED_LEVEL] if decision.passed else [],
            "slsaVersion": "1.0",
        },
    }


def envelope(decision: Decision, key: PrivateKey) -> bytes:
    """The DSSE envelope (JSON, one trailing newline) signed with `key`: the bytes to write to the file."""
    payload = json.dumps(statement(decision), sort_keys=True, separators=(",", ":")).encode()
    signature = key.sign(pae(PAYLOAD_TYPE, payload))
    document = {
        "payloadType": PAYLOAD_TYPE,
        "payload": base64.b64encode(payload).decode(),
        "signatures": [{"keyid": key.public.keyid, "sig": base64.b64encode(signature).decode()}],
    }
    return (json.dumps(document, indent=2) + "\n").encode()


def packaged_subject(text: str) -> tuple[str, str]:
    """`REGISTRY/REPO@sha256:HEX` (an OCI image or artifact that packages the model) as (name, hex)."""
    match = _PACKAGED.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r}: expected NAME@sha256:<64 hex digits> (an OCI image digest)")
    return match["name"], match["hex"]


def digest(raw: bytes) -> str:
    """What an allowlist entry records: sha256 of the envelope file's bytes."""
    return sha256_digest(raw)


def check(raw: bytes, trusted: TrustedKeys) -> Checked:
    """Verify the envelope's signature with a trusted key and the statement's shape; raise InvalidAttestation."""
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InvalidAttestation("not JSON (expected a DSSE envelope)") from None
    if not isinstance(document, dict) or document.get("payloadType") != PAYLOAD_TYPE:
        raise InvalidAttestation(f"not a DSSE envelope with payloadType {PAYLOAD_TYPE}")
    payload = _b64(document.get("payload"), "payload")
    signatures = document.get("signatures")
    if not isinstance(signatures, list) or not signatures:
        raise InvalidAttestation("the envelope carries no signature")
    signer = _signer(payload, signatures, trusted)
    try:
        body = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        raise InvalidAttestation("the signed payload is not JSON") from None
    subjects, predicate = _statement(body)
    return Checked(signer, subjects, predicate)


def compare(checked: Checked, files: Sequence[FileRecord]) -> list[str]:
    """How the model's files differ from the attestation's subjects (empty when they are the same)."""
    actual = {f.path: f.sha256 for f in files}
    problems = [
        f"{name}: {'missing' if name not in actual else 'changed'}"
        for name, sha in sorted(checked.subjects.items())
        if actual.get(name) != sha
    ]
    problems += [
        f"{name}: not in the attestation" for name in sorted(actual.keys() - checked.subjects.keys())
    ]
    return problems


def _signer(payload: bytes, signatures: list[Any], trusted: TrustedKeys) -> str:
    message = pae(PAYLOAD_TYPE, payload)
    for entry in signatures:
        if not isinstance(entry, dict):
            continue
        sig = _b64(entry.get("sig"), "signature")
        keyid = entry.get("keyid")
        named = trusted.get(KeyId(keyid)) if isinstance(keyid, str) else None
        candidates = [named] if named is not None else list(trusted.values())
        for key in candidates:
            if key.verify(sig, message):
                return key.keyid
    raise InvalidAttestation("no signature by a trusted key (--pubkey) verifies")


def _statement(body: Any) -> tuple[dict[str, str], dict[str, Any]]:
    if not isinstance(body, dict) or body.get("_type") != STATEMENT_TYPE:
        raise InvalidAttestation(f"the payload is not an in-toto Statement ({STATEMENT_TYPE})")
    if body.get("predicateType") != PREDICATE_TYPE:
        raise InvalidAttestation(f"predicateType is {body.get('predicateType')!r}, not {PREDICATE_TYPE}")
    subjects: dict[str, str] = {}
    for subject in body.get("subject") or []:
        if isinstance(subject, dict) and PACKAGING in (subject.get("annotations") or {}):
            continue  # the package (an image digest) is for image verifiers; the files are checked here
        name = subject.get("name") if isinstance(subject, dict) else None
        sha = (subject.get("digest") or {}).get("sha256") if isinstance(subject, dict) else None
        if not isinstance(name, str) or not isinstance(sha, str) or name in subjects:
            raise InvalidAttestation("a subject lacks a name or a sha256 digest, or is listed twice")
        subjects[name] = sha
    if not subjects:
        raise InvalidAttestation("the statement has no subject")
    predicate = body.get("predicate")
    if not isinstance(predicate, dict):
        raise InvalidAttestation("the statement has no predicate")
    verifier = predicate.get("verifier")
    if not isinstance(verifier, dict) or verifier.get("id") != VERIFIER_ID:
        raise InvalidAttestation(f"the verifier is not airlock ({VERIFIER_ID})")
    if predicate.get("verificationResult") not in (PASSED, FAILED):
        raise InvalidAttestation("verificationResult is neither PASSED nor FAILED")
    for name in ("resourceUri", "timeVerified"):
        if not isinstance(predicate.get(name), str):
            raise InvalidAttestation(f"the predicate lacks {name}")
    try:
        parse_time(predicate["timeVerified"])
    except ValueError:
        raise InvalidAttestation("timeVerified is not a time") from None
    policy = predicate.get("policy")
    if not isinstance(policy, dict) or not isinstance(policy.get("uri"), str):
        raise InvalidAttestation("the predicate names no policy")
    reports = [
        a
        for a in predicate.get("inputAttestations") or []
        if isinstance(a, dict)
        and a.get("uri") == REPORT_URI
        and isinstance((a.get("digest") or {}).get("sha256"), str)
    ]
    if len(reports) != 1:
        raise InvalidAttestation("the predicate does not name the scan report (inputAttestations)")
    return subjects, predicate


def report_digest(checked: Checked) -> str:
    """`sha256:…` of the scan report the attestation names."""
    for entry in checked.predicate["inputAttestations"]:
        if isinstance(entry, dict) and entry.get("uri") == REPORT_URI:
            return "sha256:" + str(entry["digest"]["sha256"])
    raise InvalidAttestation("the predicate does not name the scan report")


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise InvalidAttestation(f"the envelope's {what} is missing")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidAttestation(f"the envelope's {what} is not base64") from None


def _uri(reference: str) -> str:
    """hf:// references stay as they are; a local path becomes a file: URI."""
    if reference.startswith("hf://"):
        return reference
    return "file://" + quote(reference)
