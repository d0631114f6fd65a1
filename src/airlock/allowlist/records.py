"""Records: the signed, hash-chained lines of an allowlist.

Every record carries its position (`seq`, the monotonic counter), the digest of the record before
it (`prev`; the first record chains to the allowlist's id), who signed it, when, and a body (an
entry or a revocation). Its digest is the sha256 of the canonical JSON of those fields, and its
signature is ECDSA over the DSSE pre-authentication encoding of the same bytes, so a signature on
the newest record commits to the whole history before it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from airlock.allowlist.keys import KeyId, PrivateKey, PublicKey

SCHEMA = "airlock.allowlist/v1"
PAYLOAD_TYPE = "application/vnd.airlock.allowlist.record.v1+json"
RecordKind = Literal["entry", "revocation"]
KINDS: tuple[RecordKind, ...] = ("entry", "revocation")


def canonical(value: Any) -> bytes:
    """Sorted keys, no spaces, ASCII only: one byte string per value, on every machine."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    ).encode()


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding: the bytes that are actually signed."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def genesis(allowlist_id: str) -> str:
    """The `prev` of the first record: binds the chain to the allowlist's id."""
    return sha256_digest(f"{SCHEMA}\n{allowlist_id}".encode())


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    """An ISO 8601 time; naive times are UTC."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Record:
    seq: int
    prev: str
    kind: RecordKind
    time: str
    signer: KeyId
    body: Mapping[str, Any]
    digest: str
    signature: str  # base64 DER ECDSA over pae(PAYLOAD_TYPE, payload)

    def payload(self) -> bytes:
        return canonical(
            {
                "body": self.body,
                "kind": self.kind,
                "prev": self.prev,
                "seq": self.seq,
                "signer": self.signer,
                "time": self.time,
            }
        )

    def digest_matches(self) -> bool:
        return sha256_digest(self.payload()) == self.digest

    def signed_by(self, key: PublicKey) -> bool:
        try:
            raw = base64.b64decode(self.signature, validate=True)
        except (binascii.Error, ValueError):
            return False
        return key.keyid == self.signer and key.verify(raw, pae(PAYLOAD_TYPE, self.payload()))

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "prev": self.prev,
            "kind": self.kind,
            "time": self.time,
            "signer": self.signer,
            "body": self.body,
            "digest": self.digest,
            "signature": self.signature,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Record:
        """Raises TypeError when a field is missing or has the wrong type, ValueError for unknown content."""
        if not isinstance(data, Mapping):
            raise TypeError(f"a record is a JSON object, not a {type(data).__name__}")
        expected: dict[str, type] = {
            "seq": int,
            "prev": str,
            "kind": str,
            "time": str,
            "signer": str,
            "body": dict,
            "digest": str,
            "signature": str,
        }
        for name, kind in expected.items():
            value = data.get(name)
            if not isinstance(value, kind) or isinstance(value, bool):
                raise TypeError(f"field {name!r} missing or not a {kind.__name__}")
        extra = set(data) - set(expected)
        if extra:
            raise ValueError(f"unknown field(s) {', '.join(sorted(extra))}")
        if data["kind"] not in KINDS:
            raise ValueError(f"unknown record kind {data['kind']!r}")
        return cls(
            seq=data["seq"],
            prev=data["prev"],
            kind=data["kind"],
            time=data["time"],
            signer=KeyId(data["signer"]),
            body=data["body"],
            digest=data["digest"],
            signature=data["signature"],
        )


def make_record(
    seq: int, prev: str, kind: RecordKind, body: Mapping[str, Any], key: PrivateKey, moment: datetime
) -> Record:
    """A new record, digested and signed."""
    unsigned = Record(seq, prev, kind, format_time(moment), key.public.keyid, body, "", "")
    payload = unsigned.payload()
    signature = base64.b64encode(key.sign(pae(PAYLOAD_TYPE, payload))).decode()
    return Record(seq, prev, kind, unsigned.time, unsigned.signer, body, sha256_digest(payload), signature)
