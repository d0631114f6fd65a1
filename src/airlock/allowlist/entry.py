"""Entries and revocations: what a record's body says.

An entry binds a model digest (over the canonical manifest of its files, `airlock.artifacts`) to
where it came from, the scan report and policy that passed it, the ignore patterns that shaped its
file list, an optional expiry, and the OMS signature (a Sigstore bundle) over the same files. A
revocation withdraws every entry for one model digest, for good. An entry may also name the digest
of a vetting attestation (`airlock.allowlist.attestation`): an optional field that readers which do
not know it ignore, so the allowlist schema stays `airlock.allowlist/v1`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from airlock.allowlist.keys import KeyId
from airlock.artifacts import model_digest

B = TypeVar("B")


@dataclass(frozen=True, slots=True)
class FileRecord:
    """One file of a model: the manifest line (relative posix path, size, sha256)."""

    path: str
    size: int
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "size": self.size, "sha256": self.sha256}


def digest_of(files: Sequence[FileRecord]) -> str:
    """The model digest: `airlock.artifacts.model_digest`, which reads only path, size and sha256."""
    return model_digest(files)  # type: ignore[arg-type]


@dataclass(frozen=True)
class PolicyRef:
    name: str
    digest: str | None  # sha256 of the policy text (a prefix when only a report's label was known)


@dataclass(frozen=True)
class Entry:
    model: str  # sha256:… over the manifest of `files`
    reference: str
    source: str  # "hf" | "local"
    revision: str | None
    report: str  # sha256:… of the JSON report that passed
    policy: PolicyRef
    verdict: Mapping[str, Any]  # decision, max_severity, reasons
    expires: str | None
    ignored: tuple[str, ...]  # the snapshot's ignore patterns (airlock.sources.local.matches syntax)
    files: tuple[FileRecord, ...]
    oms: Mapping[str, Any]  # OpenSSF Model Signing bundle over the same files
    # sha256 of the vetting attestation file (`airlock sign --attest`, `airlock attest`); optional,
    # and left out of the body when absent, so entries signed before it existed keep their bytes
    attestation: str | None = None

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "reference": self.reference,
            "source": self.source,
            "revision": self.revision,
            "report": self.report,
            "policy": {"name": self.policy.name, "digest": self.policy.digest},
            "verdict": dict(self.verdict),
            "expires": self.expires,
            "ignored": list(self.ignored),
            "files": [f.to_dict() for f in self.files],
            "oms": dict(self.oms),
        }
        if self.attestation is not None:
            body["attestation"] = self.attestation
        return body

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> Entry:
        """Raises ValueError on a malformed body, or one whose files do not give its model digest."""
        try:
            files = tuple(FileRecord(str(f["path"]), int(f["size"]), str(f["sha256"])) for f in body["files"])
            entry = cls(
                model=str(body["model"]),
                reference=str(body["reference"]),
                source=str(body["source"]),
                revision=None if body["revision"] is None else str(body["revision"]),
                report=str(body["report"]),
                policy=PolicyRef(str(body["policy"]["name"]), _optional(body["policy"]["digest"])),
                verdict=dict(body["verdict"]),
                expires=_optional(body["expires"]),
                ignored=tuple(str(p) for p in body["ignored"]),
                files=files,
                oms=dict(body["oms"]),
                attestation=_optional(body.get("attestation")),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"malformed entry ({type(exc).__name__}: {exc})") from None
        if digest_of(files) != entry.model:
            raise ValueError("its files do not hash to its model digest")
        return entry


@dataclass(frozen=True)
class Revocation:
    model: str
    reason: str

    def to_body(self) -> dict[str, Any]:
        return {"model": self.model, "reason": self.reason}

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> Revocation:
        try:
            return cls(model=str(body["model"]), reason=str(body["reason"]))
        except KeyError as exc:
            raise ValueError(f"malformed revocation (missing {exc})") from None


@dataclass(frozen=True)
class Signed(Generic[B]):
    """A body with the record facts around it: position, time and signer."""

    seq: int
    time: str
    signer: KeyId
    value: B


def _optional(value: Any) -> str | None:
    return None if value is None else str(value)
