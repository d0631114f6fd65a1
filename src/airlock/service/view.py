"""The allowlist as the service holds it: verified once, then indexed for lookups in microseconds.

`load` reads the file, checks the chain and every record's signature by a trusted key, refuses an
allowlist older than `min_counter` (or than this machine has seen), and checks each entry's OMS
signature up front, so an admission is two dictionary lookups and an expiry comparison.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from airlock.allowlist import oms, state, store
from airlock.allowlist.entry import Entry, FileRecord, Signed
from airlock.allowlist.errors import InvalidModelSignature, UntrustedAllowlist
from airlock.allowlist.keys import TrustedKeys
from airlock.allowlist.records import parse_time
from airlock.allowlist.store import Allowlist
from airlock.service.references import ModelRef

Outcome = Literal["allowed", "denied", "unknown"]


@dataclass(frozen=True)
class Lookup:
    outcome: Outcome
    reason: str
    digest: str | None = None
    record: int | None = None
    report: str | None = None  # sha256 of the report that passed (from the entry)


@dataclass(frozen=True)
class AllowlistView:
    allowlist: Allowlist
    by_revision: Mapping[tuple[str, str], tuple[Signed[Entry], ...]]  # (repo_id, sha) -> entries
    by_digest: Mapping[str, tuple[Signed[Entry], ...]]
    revoked: Mapping[str, Signed[Any]]
    bad_signature: Mapping[int, str] = field(default_factory=dict)  # record seq -> why its OMS bundle fails

    @property
    def id(self) -> str:
        return self.allowlist.id

    @property
    def counter(self) -> int:
        return self.allowlist.counter

    def lookup(self, ref: ModelRef, now: datetime) -> Lookup:
        if ref.kind == "digest":
            entries = self.by_digest.get(str(ref.digest), ())
        else:
            entries = self.by_revision.get((str(ref.repo_id), str(ref.revision)), ())
        if not entries:
            return Lookup("unknown", f"not in the allowlist (counter {self.counter})", ref.digest)
        digest = entries[-1].value.model
        gone = self.revoked.get(digest)
        if gone is not None:
            return Lookup(
                "denied",
                f"revoked by record {gone.seq} on {gone.time}: {gone.value.reason}",
                digest,
                gone.seq,
            )
        active = [e for e in entries if e.value.expires is None or parse_time(e.value.expires) > now]
        if not active:
            last = entries[-1]
            return Lookup(
                "denied",
                f"expired: the entry for this model (record {last.seq}) expired on {last.value.expires}",
                digest,
                last.seq,
            )
        chosen = active[-1]
        if chosen.seq in self.bad_signature:
            return Lookup(
                "denied", f"record {chosen.seq}: {self.bad_signature[chosen.seq]}", digest, chosen.seq
            )
        entry = chosen.value
        until = f", until {entry.expires}" if entry.expires else ""
        return Lookup(
            "allowed",
            f"record {chosen.seq}, signed by key {chosen.signer[:16]}… on {chosen.time}; "
            f"policy {entry.policy.name}, verdict {entry.verdict.get('decision')}{until}",
            digest,
            chosen.seq,
            entry.report,
        )


def load(path: Path, trusted: TrustedKeys, *, min_counter: int = 0) -> AllowlistView:
    """Read and verify the allowlist at `path`; raises `UntrustedAllowlist` or `AllowlistError`."""
    allowlist = store.read(path)
    store.check_signatures(allowlist, trusted)
    state.check(allowlist, min_counter=min_counter)
    view = index(allowlist, trusted)
    state.remember(allowlist)
    return view


def index(allowlist: Allowlist, trusted: TrustedKeys) -> AllowlistView:
    by_revision: dict[tuple[str, str], list[Signed[Entry]]] = {}
    by_digest: dict[str, list[Signed[Entry]]] = {}
    bad: dict[int, str] = {}
    for signed in allowlist.entries():
        entry = signed.value
        by_digest.setdefault(entry.model, []).append(signed)
        if entry.source == "hf" and entry.revision and entry.reference.startswith("hf://"):
            repo = entry.reference.removeprefix("hf://").partition("@")[0]
            by_revision.setdefault((repo, entry.revision), []).append(signed)
        why = _oms_problem(signed, trusted)
        if why is not None:
            bad[signed.seq] = why
    return AllowlistView(
        allowlist,
        {k: tuple(v) for k, v in by_revision.items()},
        {k: tuple(v) for k, v in by_digest.items()},
        {r.value.model: r for r in allowlist.revocations()},
        bad,
    )


def check_successor(old: AllowlistView, new: Allowlist) -> None:
    """A reload must be the same allowlist, not older, with the history the service already holds."""
    if new.id != old.id:
        raise UntrustedAllowlist(
            f"allowlist replaced: its id is {new.id}, not {old.id} (restart the service to change allowlists)"
        )
    if new.counter < old.counter:
        raise UntrustedAllowlist(
            f"allowlist rollback: its counter is {new.counter}, older than counter {old.counter} in service"
        )
    if new.records[old.counter - 1].digest != old.allowlist.head:
        raise UntrustedAllowlist(
            f"allowlist history rewritten: record {old.counter} differs from the one in service", old.counter
        )


def _oms_problem(signed: Signed[Entry], trusted: TrustedKeys) -> str | None:
    entry = signed.value
    try:
        manifest = oms.check_bundle(entry.oms, trusted[signed.signer])
    except InvalidModelSignature as exc:
        return str(exc)
    if dict(manifest.resources) != _oms_view(entry.files, manifest.resources):
        return "the OMS signature covers other files than the entry"
    return None


def _oms_view(files: tuple[FileRecord, ...], resources: Any) -> dict[str, str]:
    """The entry's files as OMS resources (as `airlock verify` compares them)."""
    if set(resources) == {"."} and len(files) == 1:
        return {".": files[0].sha256}
    return {f.path: f.sha256 for f in files if not oms.is_git_path(f.path)}
