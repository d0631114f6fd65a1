"""The allowlist file: a header line and one signed record per line (JSON Lines), append-only.

```
{"id":"9f2c…","schema":"airlock.allowlist/v1"}
{"body":{…},"digest":"sha256:…","kind":"entry","prev":"sha256:…","seq":1,"signature":"MEUC…","signer":"5e1f…","time":"…"}
```

`parse` accepts a file only when its records are numbered 1..n in order, every digest matches
its record, and every record chains to the one before (the first to the header's id); it names
the first record that breaks a rule. `check_signatures` then requires a valid signature by a
trusted key on every record. `append` adds one record under the writer's lock.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from airlock.allowlist import atomic, state
from airlock.allowlist.entry import Entry, Revocation, Signed
from airlock.allowlist.errors import AllowlistError, UntrustedAllowlist
from airlock.allowlist.keys import PrivateKey, TrustedKeys
from airlock.allowlist.records import SCHEMA, Record, RecordKind, canonical, genesis, make_record, parse_time

Builder = Callable[["Allowlist"], tuple[RecordKind, Mapping[str, Any]]]


@dataclass(frozen=True)
class Allowlist:
    id: str
    records: tuple[Record, ...] = ()

    @property
    def counter(self) -> int:
        """The monotonic counter: the seq of the newest record (0 for a new allowlist)."""
        return self.records[-1].seq if self.records else 0

    @property
    def head(self) -> str:
        return self.records[-1].digest if self.records else genesis(self.id)

    def entries(self) -> tuple[Signed[Entry], ...]:
        return tuple(
            Signed(r.seq, r.time, r.signer, Entry.from_body(r.body))
            for r in self.records
            if r.kind == "entry"
        )

    def revocations(self) -> tuple[Signed[Revocation], ...]:
        return tuple(
            Signed(r.seq, r.time, r.signer, Revocation.from_body(r.body))
            for r in self.records
            if r.kind == "revocation"
        )

    def status(self, entry: Signed[Entry], now: datetime) -> str:
        """`revoked`, `expired` or `active`."""
        if any(r.value.model == entry.value.model for r in self.revocations()):
            return "revoked"
        if entry.value.expires is not None and parse_time(entry.value.expires) <= now:
            return "expired"
        return "active"

    def to_text(self) -> str:
        lines = [canonical({"schema": SCHEMA, "id": self.id})] + [
            canonical(r.to_dict()) for r in self.records
        ]
        return "\n".join(line.decode() for line in lines) + "\n"


def new_allowlist() -> Allowlist:
    return Allowlist(id=uuid.uuid4().hex)


def read(path: Path) -> Allowlist:
    """Read and structurally check an allowlist (signatures are `check_signatures`' job)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise AllowlistError(f"{path}: no such allowlist") from None
    except OSError as exc:
        raise AllowlistError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UntrustedAllowlist(f"{path}: not an airlock allowlist (not UTF-8 text)") from None
    return parse(text, str(path))


def parse(text: str, source: str) -> Allowlist:
    lines = [line for line in text.split("\n") if line.strip()]
    if not lines:
        raise UntrustedAllowlist(f"{source}: empty file: not a signed allowlist")
    header = _json_line(lines[0], 1, source)
    if (
        not isinstance(header, dict)
        or header.get("schema") != SCHEMA
        or set(header) != {"schema", "id"}
        or not isinstance(header["id"], str)
    ):
        raise UntrustedAllowlist(f"{source}: not an {SCHEMA} allowlist (bad header line)")
    records = []
    for number, line in enumerate(lines[1:], start=2):
        try:
            records.append(Record.from_dict(_json_line(line, number, source)))
        except (TypeError, ValueError) as exc:
            raise UntrustedAllowlist(f"{source}: line {number}: {exc}") from None
    allowlist = Allowlist(id=header["id"], records=tuple(records))
    if not records:
        raise UntrustedAllowlist(f"{source}: unsigned: the allowlist holds no signed record")
    _check_order(allowlist)
    _check_chain(allowlist)
    _check_bodies(allowlist)
    return allowlist


def describe(record: Record) -> str:
    model = str(record.body.get("model", "?"))[:19]
    if record.kind == "revocation":
        return f"record {record.seq} (revocation of {model}…)"
    return f"record {record.seq} (entry for {model}… {record.body.get('reference', '?')})"


def _json_line(line: str, number: int, source: str) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise UntrustedAllowlist(f"{source}: line {number} is not JSON ({exc.msg})") from None


def _check_order(allowlist: Allowlist) -> None:
    seqs = [r.seq for r in allowlist.records]
    expected = list(range(1, len(seqs) + 1))
    if seqs == expected:
        return
    if len(set(seqs)) != len(seqs):
        twice = next(s for s in seqs if seqs.count(s) > 1)
        raise UntrustedAllowlist(f"allowlist tampered: record {twice} appears twice", twice)
    if sorted(seqs) == expected:
        position, seq = next((i, s) for i, s in enumerate(seqs, start=1) if s != i)
        raise UntrustedAllowlist(
            f"allowlist tampered: records reordered (record {seq} is at position {position})", seq
        )
    missing = next(s for s in range(1, max(seqs) + 1) if s not in seqs)
    raise UntrustedAllowlist(f"allowlist tampered: record {missing} was deleted", missing)


def _check_chain(allowlist: Allowlist) -> None:
    prev = genesis(allowlist.id)
    for record in allowlist.records:
        if not record.digest_matches():
            raise UntrustedAllowlist(
                f"allowlist tampered: {describe(record)} was edited (its content does not match its digest)",
                record.seq,
            )
        if record.prev != prev:
            where = "the allowlist id in the header" if record.seq == 1 else f"record {record.seq - 1}"
            raise UntrustedAllowlist(
                f"allowlist tampered: chain broken at record {record.seq} (it does not follow {where})",
                record.seq,
            )
        prev = record.digest


def _check_bodies(allowlist: Allowlist) -> None:
    for record in allowlist.records:
        try:
            if record.kind == "entry":
                Entry.from_body(record.body)
            else:
                Revocation.from_body(record.body)
        except ValueError as exc:
            raise UntrustedAllowlist(f"allowlist invalid: {describe(record)}: {exc}", record.seq) from None


def check_signatures(allowlist: Allowlist, trusted: TrustedKeys, *, only_known: bool = False) -> None:
    """Every record must carry a valid signature by a trusted key (`only_known`: skip other signers)."""
    for record in allowlist.records:
        key = trusted.get(record.signer)
        if key is None:
            if only_known:
                continue
            raise UntrustedAllowlist(
                f"{describe(record)} is signed by unknown key {record.signer[:16]}… "
                "(not among the trusted --pubkey keys)",
                record.seq,
            )
        if not record.signed_by(key):
            raise UntrustedAllowlist(
                f"allowlist tampered: {describe(record)} has an invalid signature "
                "(edited and re-hashed, or forged)",
                record.seq,
            )


def append(
    path: Path, key: PrivateKey, build: Builder, moment: datetime, trusted: TrustedKeys
) -> tuple[Allowlist, Record]:
    """Add one record to the allowlist at `path` (created if missing), under the writer's lock.

    `build` sees the current allowlist (inside the lock) and returns the record's kind and body; it
    may raise to refuse. The existing records must be intact, those signed by `key` or by a key in
    `trusted` must verify, and the file must not be older than one this machine has seen.
    """
    with atomic.locked(path):
        if path.exists():
            current = read(path)
            check_signatures(current, {**trusted, key.public.keyid: key.public}, only_known=True)
            state.check(current)
        else:
            current = new_allowlist()
        kind, body = build(current)
        record = make_record(current.counter + 1, current.head, kind, body, key, moment)
        updated = replace(current, records=(*current.records, record))
        atomic.write_atomic(path, updated.to_text().encode())
    state.remember(updated)
    return updated, record
