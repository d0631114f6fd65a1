"""Signing a vetted model into an allowlist, and revoking it.

`sign` scans the model with the pipeline (or takes a passing report whose target digest matches the
model as it is now), refuses a failing verdict, makes the OMS signature over the same per-file
sha256 the scan computed, and appends an entry under the allowlist's lock. `revoke` appends a
revocation. Refusals are outcomes (`Outcome.signed` is False), not exceptions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from airlock import config
from airlock.allowlist import atomic, attestation, oms, store
from airlock.allowlist.changes import Change, diff, summary
from airlock.allowlist.entry import Entry, FileRecord, PolicyRef, Revocation, digest_of
from airlock.allowlist.errors import AllowlistError, UntrustedAllowlist
from airlock.allowlist.hashcache import HashCache, hash_files
from airlock.allowlist.keys import PrivateKey
from airlock.allowlist.records import Record, RecordKind, format_time, parse_time, sha256_digest, utc_now
from airlock.allowlist.store import Allowlist
from airlock.errors import ReportError
from airlock.policy import Policy, default_policy
from airlock.report import Report
from airlock.sources.interface import Snapshot
from airlock.sources.local import DEFAULT_IGNORES

HASH_CACHE = "hashes.sqlite3"
_LABEL = re.compile(r"^(?P<name>.*) \((?P<digest>sha256:[0-9a-f]+)\)$")
_DURATION = re.compile(r"^(?P<n>\d+)(?P<unit>[dhm])$")


@dataclass(frozen=True)
class SignRequest:
    reference: str
    key: PrivateKey
    allowlist: Path
    report: Path | None = None  # a passing airlock.report/v1 JSON instead of scanning
    policy: Policy = field(default_factory=default_policy)
    exclude: tuple[str, ...] = ()
    expires: datetime | None = None
    certificate: Path | None = None  # signing certificate for the OMS bundle (with `chain`)
    chain: tuple[Path, ...] = ()
    download_progress: bool = False
    attest: Path | None = None  # also write a vetting attestation (DSSE, in-toto VSA) here
    packaged: tuple[tuple[str, str], ...] = ()  # extra attestation subjects: OCI images of the model


@dataclass(frozen=True)
class Outcome:
    signed: bool
    reason: str
    digest: str
    record: Record | None = None
    report_json: bytes = b""  # the report the entry names (what `report` digests)
    bundle: Mapping[str, Any] | None = None
    changes: tuple[Change, ...] = ()
    attestation: str | None = None  # sha256 of the attestation written (PASSED, or FAILED on a refusal)


class _Revoked(Exception):
    def __init__(self, seq: int, reason: str) -> None:
        super().__init__(f"revoked by record {seq}: {reason}")


def sign(request: SignRequest) -> Outcome:
    from airlock.pipeline import ScanOptions, resolve, scan_snapshot

    if request.report is not None:
        report_json = _read(request.report)
        report = _parse_report(request.report, report_json)
        exclude = tuple(p for p in report.target.extra.get("ignored", ()) if p not in DEFAULT_IGNORES)
    else:
        report, report_json, exclude = None, b"", request.exclude
    options = ScanOptions(policy=request.policy, exclude=exclude, download_progress=request.download_progress)
    snapshot = resolve(request.reference, options)
    if report is None:
        report = scan_snapshot(snapshot, options)
        report_json = report.to_json().encode()
        files = tuple(FileRecord(a.path, a.size, a.sha256) for a in report.artifacts)
        policy = PolicyRef(request.policy.name, request.policy.digest or None)
    else:
        files = _hash(snapshot)
        policy = _policy_from_label(report.verdict.policy)
    digest = digest_of(files)
    if not report.passed:
        failed = None
        if request.attest is not None and digest == report.target.digest:
            decision = _decision(snapshot, files, policy, report, report_json, passed=False)
            decision = replace(decision, packaged=request.packaged)
            failed = _write_attestation(request.attest, attestation.envelope(decision, request.key))
        return Outcome(
            False,
            f"verdict fail: {'; '.join(report.verdict.reasons)}",
            digest,
            report_json=report_json,
            attestation=failed,
        )
    if digest != report.target.digest:
        found = diff({a.path: a.sha256 for a in report.artifacts}, {f.path: f.sha256 for f in files})
        why = summary(found) or "different file list"
        return Outcome(
            False,
            f"the report is for {report.target.digest}, not this model: {why}",
            digest,
            report_json=report_json,
            changes=found,
        )
    bundle = _bundle(snapshot, files, request)
    attested = None
    if request.attest is not None:
        decision = _decision(snapshot, files, policy, report, report_json, passed=True)
        decision = replace(decision, packaged=request.packaged)
        attested = _write_attestation(request.attest, attestation.envelope(decision, request.key))
    entry = Entry(
        model=digest,
        reference=model_reference(snapshot),
        source=snapshot.source,
        revision=snapshot.revision,
        report=sha256_digest(report_json),
        policy=policy,
        verdict={k: v for k, v in report.verdict.to_dict().items() if k != "policy"},
        expires=format_time(request.expires) if request.expires is not None else None,
        ignored=tuple(snapshot.ignored),
        files=files,
        oms=bundle,
        attestation=attested,
    )

    def build(current: Allowlist) -> tuple[RecordKind, Mapping[str, Any]]:
        for revoked in current.revocations():
            if revoked.value.model == digest:
                raise _Revoked(revoked.seq, revoked.value.reason)
        return "entry", entry.to_body()

    try:
        _, record = store.append(request.allowlist, request.key, build, utc_now(), {})
    except (_Revoked, UntrustedAllowlist) as exc:
        if request.attest is not None:
            request.attest.unlink(missing_ok=True)  # no entry names it: a PASSED attestation must not remain
        return Outcome(False, str(exc), digest, report_json=report_json)
    return Outcome(
        True, f"signed as record {record.seq}", digest, record, report_json, bundle, attestation=attested
    )


def attest(
    allowlist: Path, key: PrivateKey, model: str, output: Path, packaged: tuple[tuple[str, str], ...] = ()
) -> tuple[Record, str]:
    """Attest an entry already in the allowlist: write its attestation to `output` and append the entry
    again with the attestation's digest (a later entry for the same model supersedes the earlier one).

    The attestation states the entry's own facts: its files, policy, verdict, report digest and the
    time it was signed in. Returns the new record and the attestation's digest."""
    written: list[str] = []

    def build(current: Allowlist) -> tuple[RecordKind, Mapping[str, Any]]:
        digest = resolve_digest(current, model)
        for revoked in current.revocations():
            if revoked.value.model == digest:
                raise AllowlistError(f"{digest} is revoked (record {revoked.seq}): nothing to attest")
        matching = [e for e in current.entries() if e.value.model == digest]
        if not matching:
            raise AllowlistError(f"the allowlist has no entry for {digest}")
        signed = matching[-1]
        entry = signed.value
        decision = attestation.Decision(
            reference=entry.reference,
            files=entry.files,
            policy=entry.policy,
            passed=entry.verdict.get("decision") == "pass",
            report=entry.report,
            time=parse_time(signed.time),
            packaged=packaged,
        )
        written.append(_write_attestation(output, attestation.envelope(decision, key)))
        return "entry", replace(entry, attestation=written[0]).to_body()

    try:
        _, record = store.append(allowlist, key, build, utc_now(), {})
    except BaseException:
        if written:
            output.unlink(missing_ok=True)
        raise
    return record, written[0]


def _decision(
    snapshot: Snapshot,
    files: tuple[FileRecord, ...],
    policy: PolicyRef,
    report: Report,
    report_json: bytes,
    *,
    passed: bool,
) -> attestation.Decision:
    return attestation.Decision(
        reference=model_reference(snapshot),
        files=files,
        policy=policy,
        passed=passed,
        report=sha256_digest(report_json),
        time=utc_now(),
        signatures=report.signatures_version,
    )


def _write_attestation(path: Path, raw: bytes) -> str:
    atomic.write_atomic(path.expanduser(), raw)
    return attestation.digest(raw)


def revoke(allowlist: Path, key: PrivateKey, model: str, reason: str) -> Record:
    """Append a revocation of `model` (a digest, or an unambiguous prefix of one in the allowlist)."""

    def build(current: Allowlist) -> tuple[RecordKind, Mapping[str, Any]]:
        digest = resolve_digest(current, model)
        for revoked in current.revocations():
            if revoked.value.model == digest:
                raise AllowlistError(f"{digest} is already revoked (record {revoked.seq})")
        return "revocation", Revocation(digest, reason).to_body()

    return store.append(allowlist, key, build, utc_now(), {})[1]


def resolve_digest(allowlist: Allowlist, text: str) -> str:
    """A full model digest from `sha256:…` or a prefix that names exactly one model in the allowlist."""
    wanted = text if text.startswith("sha256:") else "sha256:" + text
    models = sorted(
        {e.value.model for e in allowlist.entries()} | {r.value.model for r in allowlist.revocations()}
    )
    found = [m for m in models if m.startswith(wanted)]
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise AllowlistError(f"{text!r} matches {len(found)} models; give more of the digest")
    if re.fullmatch(r"sha256:[0-9a-f]{64}", wanted):
        return wanted  # not signed here (yet): revoking it ahead of time is allowed
    raise AllowlistError(f"no model in the allowlist has a digest starting with {text!r}")


def parse_expiry(text: str, now: datetime | None = None) -> datetime:
    """`90d`, `12h`, `30m` from now, or an ISO 8601 date or time (UTC unless it says otherwise)."""
    now = now or utc_now()
    match = _DURATION.match(text.strip())
    if match:
        unit = {"d": "days", "h": "hours", "m": "minutes"}[match["unit"]]
        return now + timedelta(**{unit: int(match["n"])})
    try:
        moment = parse_time(text.strip())
    except ValueError:
        raise AllowlistError(
            f"--expires {text!r}: expected 90d, 12h, 30m or an ISO date like 2027-01-31"
        ) from None
    if moment <= now:
        raise AllowlistError(f"--expires {text!r} is in the past")
    return moment


def _bundle(snapshot: Snapshot, files: tuple[FileRecord, ...], request: SignRequest) -> dict[str, Any]:
    shape = oms.layout(snapshot)
    hashes = {shape.names[f.path]: f.sha256 for f in files if f.path in shape.names}
    return oms.sign_bundle(hashes, shape, request.key.path, request.certificate, request.chain)


def _hash(snapshot: Snapshot) -> tuple[FileRecord, ...]:
    cache = HashCache(config.cache_dir() / HASH_CACHE)
    try:
        hashed = hash_files(snapshot.files, cache)
    finally:
        cache.close()
    return tuple(FileRecord(rel, hashed[rel].size, hashed[rel].sha256) for rel, _ in sorted(snapshot.files))


def model_reference(snapshot: Snapshot) -> str:
    """Where a model came from, as an entry records it: `hf://ORG/NAME@<sha>`, or an absolute path."""
    ref = snapshot.reference
    if ref.kind == "hf":
        return f"hf://{ref.repo_id}@{snapshot.revision}"
    assert ref.path is not None
    return str(ref.path.expanduser().resolve())


def _policy_from_label(label: str) -> PolicyRef:
    match = _LABEL.match(label)
    return PolicyRef(match["name"], match["digest"]) if match else PolicyRef(label, None)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ReportError(f"{path}: cannot read the report ({exc.strerror or exc})") from None


def _parse_report(path: Path, raw: bytes) -> Report:
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ReportError(f"{path}: not JSON (pass an `airlock scan --format json` report)") from None
    return Report.from_dict(data)
