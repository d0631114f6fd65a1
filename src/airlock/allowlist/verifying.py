"""Verifying: is the model on disk exactly one that a trusted signer admitted, and still admitted?

`verify` checks the allowlist (intact chain, every record signed by a trusted key, not older than
already seen), recomputes the model's manifest by hashing alone (reusing the hash cache), and
finds its entry: admitted when one is there, not revoked, not expired, and its OMS signature
verifies; otherwise refused, naming the reason (and, for an unknown digest, which files differ from
the closest entry). `verify_signature` checks a model against a standalone OMS signature file.
Both return a `Decision`; they raise only when they could not do the job.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from airlock import config
from airlock.allowlist import attestation, oms, state, store
from airlock.allowlist.changes import Change, diff, summary
from airlock.allowlist.entry import Entry, FileRecord, Signed, digest_of
from airlock.allowlist.errors import AllowlistError, InvalidModelSignature, UntrustedAllowlist
from airlock.allowlist.hashcache import HashCache, Hashed, hash_files
from airlock.allowlist.keys import PublicKey, TrustedKeys
from airlock.allowlist.records import parse_time, utc_now
from airlock.allowlist.signing import HASH_CACHE, model_reference
from airlock.allowlist.store import Allowlist
from airlock.sources.interface import Snapshot
from airlock.sources.local import DEFAULT_IGNORES, matches


@dataclass(frozen=True)
class Decision:
    admitted: bool
    reason: str
    reference: str
    digest: str | None = None
    record: int | None = None  # the entry (or revocation) that decided
    changes: tuple[Change, ...] = ()
    allowlist: Allowlist | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision": "admitted" if self.admitted else "refused",
            "reason": self.reason,
            "reference": self.reference,
            "digest": self.digest,
            "record": self.record,
            "changes": [c.to_dict() for c in self.changes],
            "allowlist": None
            if self.allowlist is None
            else {"id": self.allowlist.id, "counter": self.allowlist.counter},
        }


@dataclass(frozen=True)
class VerifyOptions:
    min_counter: int = 0
    use_cache: bool = True
    download_progress: bool = False
    now: datetime | None = None  # default: the current time


def verify(
    reference: str, allowlist_path: Path, trusted: TrustedKeys, options: VerifyOptions | None = None
) -> Decision:
    options = options or VerifyOptions()
    if not trusted:
        raise AllowlistError("no trusted key: pass --pubkey KEY.pub (repeatable) for each signer you trust")
    try:
        allowlist = store.read(allowlist_path)
        store.check_signatures(allowlist, trusted)
        state.check(allowlist, min_counter=options.min_counter)
    except UntrustedAllowlist as exc:
        return Decision(False, str(exc), reference)
    state.remember(allowlist)
    entries = allowlist.entries()
    revoked = {r.value.model: r for r in allowlist.revocations()}
    # the ignore patterns the signers used (beyond the defaults): one file list per distinct set
    pattern_sets = list(dict.fromkeys(_extra(e.value.ignored) for e in entries)) or [()]
    common = tuple(p for p in pattern_sets[0] if all(p in s for s in pattern_sets))
    snapshot = _resolve(reference, common, options.download_progress)
    needed = [(rel, loc) for rel, loc in snapshot.files if any(not matches(rel, s) for s in pattern_sets)]
    hashed = _hash(needed, options.use_cache)
    now = options.now or utc_now()
    for patterns in pattern_sets:
        files = _files(hashed, patterns)
        digest = digest_of(files)
        if digest in revoked:
            gone = revoked[digest]
            return Decision(
                False,
                f"revoked by record {gone.seq} on {gone.time}: {gone.value.reason}",
                reference,
                digest,
                gone.seq,
                allowlist=allowlist,
            )
        matching = [e for e in entries if e.value.model == digest]
        if matching:
            return _admit(reference, digest, matching, trusted, now, allowlist)
    return _unknown(reference, entries, hashed, snapshot, pattern_sets[0], allowlist)


def _admit(
    reference: str,
    digest: str,
    matching: Sequence[Signed[Entry]],
    trusted: TrustedKeys,
    now: datetime,
    allowlist: Allowlist,
) -> Decision:
    active = [e for e in matching if e.value.expires is None or parse_time(e.value.expires) > now]
    if not active:
        last = matching[-1]
        return Decision(
            False,
            f"expired: the entry for this model (record {last.seq}) expired on {last.value.expires}",
            reference,
            digest,
            last.seq,
            allowlist=allowlist,
        )
    chosen = active[-1]
    entry = chosen.value
    try:
        signed = oms.check_bundle(entry.oms, trusted[chosen.signer])
    except InvalidModelSignature as exc:
        return Decision(
            False, f"record {chosen.seq}: {exc}", reference, digest, chosen.seq, allowlist=allowlist
        )
    expected = _oms_view(entry.files, signed.resources)
    if dict(signed.resources) != expected:
        found = summary(diff(expected, signed.resources))
        return Decision(
            False,
            f"record {chosen.seq}: the OMS signature covers other files than the entry ({found})",
            reference,
            digest,
            chosen.seq,
            allowlist=allowlist,
        )
    until = f", until {entry.expires}" if entry.expires else ""
    why = (
        f"record {chosen.seq}, signed by key {chosen.signer[:16]}… on {chosen.time}; "
        f"policy {entry.policy.name}, verdict {entry.verdict.get('decision')}{until}"
    )
    return Decision(True, why, reference, digest, chosen.seq, allowlist=allowlist)


def _unknown(
    reference: str,
    entries: Sequence[Signed[Entry]],
    hashed: dict[str, Hashed],
    snapshot: Snapshot,
    patterns: tuple[str, ...],
    allowlist: Allowlist,
) -> Decision:
    if not entries:
        digest = digest_of(_files(hashed, patterns))
        return Decision(
            False,
            f"not in the allowlist: it has no entry for {digest}",
            reference,
            digest,
            allowlist=allowlist,
        )
    here = model_reference(snapshot)
    actual_all = {rel: h.sha256 for rel, h in hashed.items()}

    def closeness(e: Signed[Entry]) -> tuple[bool, int, int, int]:
        files = {f.path: f.sha256 for f in e.value.files}
        same = sum(1 for p, sha in files.items() if actual_all.get(p) == sha)
        return (_same_model(e.value.reference, here), same, len(files.keys() & actual_all.keys()), e.seq)

    closest = max(entries, key=closeness)
    actual = _files(hashed, _extra(closest.value.ignored))
    found = diff({f.path: f.sha256 for f in closest.value.files}, {f.path: f.sha256 for f in actual})
    digest = digest_of(actual)
    return Decision(
        False,
        f"not in the allowlist: {summary(found)} (compared with record {closest.seq}, "
        f"{closest.value.reference})",
        reference,
        digest,
        closest.seq,
        found,
        allowlist,
    )


def verify_signature(
    reference: str, signature: Path, keys: Sequence[PublicKey], chain: Sequence[Path], use_cache: bool = True
) -> Decision:
    """Check a model against a standalone OMS signature (from `airlock sign --signature` or model-signing)."""
    if not keys and not chain:
        raise AllowlistError("pass the signer's --pubkey, or --cert-chain for a certificate signature")
    try:
        signed = oms.read_signature_file(signature, keys, chain)
    except InvalidModelSignature as exc:
        return Decision(False, str(exc), reference)
    snapshot = _resolve(reference, (), download_progress=False)
    model = (
        snapshot.reference.path
        if snapshot.reference.kind == "local" and snapshot.reference.path
        else snapshot.root
    )
    try:
        files = oms.signature_files(model, signed)
    except InvalidModelSignature as exc:
        return Decision(False, str(exc), reference)
    hashed = _hash(files, use_cache)
    found = diff(signed.resources, {name: h.sha256 for name, h in hashed.items()})
    if found:
        return Decision(
            False, f"does not match the OMS signature: {summary(found)}", reference, changes=found
        )
    return Decision(True, f"matches the OMS signature {signature} ({len(hashed)} files)", reference)


def _resolve(reference: str, exclude: tuple[str, ...], download_progress: bool) -> Snapshot:
    from airlock.pipeline import ScanOptions, resolve

    return resolve(reference, ScanOptions(exclude=exclude, download_progress=download_progress))


def _hash(files: Sequence[tuple[str, Path]], use_cache: bool) -> dict[str, Hashed]:
    if not use_cache:
        return hash_files(files)
    cache = HashCache(config.cache_dir() / HASH_CACHE)
    try:
        return hash_files(files, cache)
    finally:
        cache.close()


def _extra(ignored: Sequence[str]) -> tuple[str, ...]:
    return tuple(p for p in ignored if p not in DEFAULT_IGNORES)


def _files(hashed: dict[str, Hashed], patterns: tuple[str, ...]) -> tuple[FileRecord, ...]:
    return tuple(
        FileRecord(rel, h.size, h.sha256) for rel, h in sorted(hashed.items()) if not matches(rel, patterns)
    )


def _oms_view(files: Sequence[FileRecord], resources: Any) -> dict[str, str]:
    """The entry's files as OMS resources: a single file is `.`, git metadata is not a resource."""
    if set(resources) == {"."} and len(files) == 1:
        return {".": files[0].sha256}
    return {f.path: f.sha256 for f in files if not oms.is_git_path(f.path)}


def _same_model(recorded: str, here: str) -> bool:
    """Same local path, or the same Hub repo at any revision."""
    if recorded.startswith("hf://") and here.startswith("hf://"):
        return recorded.split("@", 1)[0] == here.split("@", 1)[0]
    return recorded == here


def verify_attestation(
    reference: str,
    path: Path,
    trusted: TrustedKeys,
    options: VerifyOptions | None = None,
    admitted: Decision | None = None,
) -> Decision:
    """Check a vetting attestation (`airlock sign --attest`): a trusted signature, an airlock VSA that
    says PASSED, and subjects that are exactly the model's files as they are now.

    With `admitted` (the allowlist's decision for the same model), the admitting entry must also
    record this attestation's digest, and the files compared are that entry's."""
    options = options or VerifyOptions()
    if not trusted:
        raise AllowlistError("no trusted key: pass --pubkey KEY.pub for the attestation's signer")
    try:
        raw = path.expanduser().read_bytes()
    except OSError as exc:
        raise AllowlistError(f"{path}: cannot read the attestation ({exc.strerror or exc})") from None
    try:
        checked = attestation.check(raw, trusted)
    except attestation.InvalidAttestation as exc:
        return Decision(False, f"attestation {path}: {exc}", reference)
    if admitted is not None:
        entry = _entry(admitted)
        if entry.attestation != attestation.digest(raw):
            recorded = entry.attestation or "none"
            return Decision(
                False,
                f"attestation {path}: record {admitted.record} records attestation {recorded}, "
                f"not this file ({attestation.digest(raw)})",
                reference,
                admitted.digest,
                admitted.record,
                allowlist=admitted.allowlist,
            )
        files: Sequence[FileRecord] = entry.files
        digest = admitted.digest
    else:
        snapshot = _resolve(reference, (), options.download_progress)
        hashed = _hash(snapshot.files, options.use_cache)
        files = _files(hashed, ())
        digest = digest_of(files)
    problems = attestation.compare(checked, files)
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        return Decision(
            False, f"attestation {path}: the model differs from its subjects: {shown}", reference, digest
        )
    if not checked.passed:
        return Decision(
            False, f"attestation {path}: the vetting decision it records is FAILED", reference, digest
        )
    predicate = checked.predicate
    why = (
        f"attestation verified: signed by key {checked.signer[:16]}…, {len(checked.subjects)} subjects match, "
        f"PASSED under {predicate['policy']['uri']} on {predicate['timeVerified']}"
    )
    if admitted is not None:
        why = f"{admitted.reason}; {why}"
    return Decision(
        True,
        why,
        reference,
        digest,
        admitted.record if admitted else None,
        allowlist=admitted.allowlist if admitted else None,
    )


def _entry(decision: Decision) -> Entry:
    assert decision.allowlist is not None and decision.record is not None
    for signed in decision.allowlist.entries():
        if signed.seq == decision.record:
            return signed.value
    raise AllowlistError(f"record {decision.record} is not an entry")
