"""`airlock allowlist list|show|revoke`: read an allowlist, or withdraw a model from it.

`list` and `show` check the chain always and the signatures when given `--pubkey`; an allowlist
that fails a check is reported as refused (exit 1), never listed as if it were fine.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airlock.exitcodes import ExitCode
from airlock.render.interface import OutputFormat, add_format_argument

if TYPE_CHECKING:
    from airlock.allowlist.store import Allowlist


def register(commands: Any) -> None:
    p = commands.add_parser("allowlist", help="list, show or revoke allowlist entries")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="every record: entries and revocations, with their status")
    _reading(listing)
    listing.set_defaults(handler=run_list)
    show = actions.add_parser("show", help="the entries and revocations for one model digest")
    show.add_argument("digest", metavar="DIGEST", help="sha256:… (or an unambiguous prefix)")
    _reading(show)
    show.set_defaults(handler=run_show)
    revoke = actions.add_parser("revoke", help="revoke every entry for a model digest (signed)")
    revoke.add_argument("digest", metavar="DIGEST", help="sha256:… (or an unambiguous prefix)")
    revoke.add_argument("--allowlist", type=Path, required=True, metavar="FILE")
    revoke.add_argument("--key", type=Path, required=True, metavar="KEY", help="private key of the revoker")
    revoke.add_argument("--reason", required=True, help="why (recorded in the allowlist)")
    revoke.set_defaults(handler=run_revoke)


def _reading(p: argparse.ArgumentParser) -> None:
    p.add_argument("--allowlist", type=Path, required=True, metavar="FILE")
    p.add_argument(
        "--pubkey",
        type=Path,
        action="append",
        default=[],
        metavar="KEY",
        help="trusted public key (repeatable); without one, signatures are not checked",
    )
    add_format_argument(p, (OutputFormat.TABLE, OutputFormat.JSON))


def _open(args: argparse.Namespace) -> Allowlist | None:
    """The allowlist, checked as far as the given keys allow; None (after printing why) when refused."""
    from airlock.allowlist import state, store
    from airlock.allowlist.errors import UntrustedAllowlist
    from airlock.allowlist.keys import trusted

    keys = trusted(args.pubkey)
    try:
        allowlist = store.read(args.allowlist)
        if keys:
            store.check_signatures(allowlist, keys)
        state.check(allowlist)
    except UntrustedAllowlist as exc:
        print(f"refused: {args.allowlist}: {exc}")
        return None
    return allowlist


def _header(args: argparse.Namespace, allowlist: Allowlist) -> str:
    checked = (
        f"signatures verified with {len(args.pubkey)} trusted key(s)"
        if args.pubkey
        else "signatures NOT checked (pass --pubkey)"
    )
    return f"{args.allowlist}: id {allowlist.id}, counter {allowlist.counter}, chain intact; {checked}"


def run_list(args: argparse.Namespace) -> ExitCode:
    from airlock.allowlist.records import utc_now

    allowlist = _open(args)
    if allowlist is None:
        return ExitCode.FAILED
    now = utc_now()
    rows: list[dict[str, Any]] = []
    for entry in allowlist.entries():
        rows.append(
            {
                "seq": entry.seq,
                "kind": "entry",
                "time": entry.time,
                "signer": entry.signer,
                "model": entry.value.model,
                "reference": entry.value.reference,
                "expires": entry.value.expires,
                "status": allowlist.status(entry, now),
            }
        )
    for revoked in allowlist.revocations():
        rows.append(
            {
                "seq": revoked.seq,
                "kind": "revocation",
                "time": revoked.time,
                "signer": revoked.signer,
                "model": revoked.value.model,
                "reason": revoked.value.reason,
            }
        )
    rows.sort(key=lambda r: r["seq"])
    if args.format == "json":
        print(
            json.dumps(
                {
                    "allowlist": str(args.allowlist),
                    "id": allowlist.id,
                    "counter": allowlist.counter,
                    "signatures_checked": bool(args.pubkey),
                    "records": rows,
                },
                indent=2,
            )
        )
        return ExitCode.PASSED
    print(_header(args, allowlist))
    for r in rows:
        what = f"{r['status']:<8} {r['reference']}" if r["kind"] == "entry" else f"revoked  ({r['reason']})"
        print(
            f"{r['seq']:>4}  {r['kind']:<10} {r['time']}  {r['model'][:23]}  key {r['signer'][:12]}  {what}"
        )
    return ExitCode.PASSED


def run_show(args: argparse.Namespace) -> ExitCode:
    from airlock.allowlist.records import utc_now
    from airlock.allowlist.signing import resolve_digest

    allowlist = _open(args)
    if allowlist is None:
        return ExitCode.FAILED
    digest = resolve_digest(allowlist, args.digest)
    now = utc_now()
    entries = [e for e in allowlist.entries() if e.value.model == digest]
    revocations = [r for r in allowlist.revocations() if r.value.model == digest]
    if args.format == "json":
        print(
            json.dumps(
                {
                    "model": digest,
                    "entries": [
                        {
                            "seq": e.seq,
                            "time": e.time,
                            "signer": e.signer,
                            "status": allowlist.status(e, now),
                            **e.value.to_body(),
                        }
                        for e in entries
                    ],
                    "revocations": [
                        {"seq": r.seq, "time": r.time, "signer": r.signer, **r.value.to_body()}
                        for r in revocations
                    ],
                },
                indent=2,
            )
        )
        return ExitCode.PASSED
    print(_header(args, allowlist))
    print(f"model {digest}")
    for e in entries:
        v = e.value
        print(f"\nrecord {e.seq}: entry, {allowlist.status(e, now)}, signed {e.time} by key {e.signer}")
        print(f"  reference  {v.reference}" + (f" (revision {v.revision})" if v.revision else ""))
        print(
            f"  verdict    {v.verdict.get('decision')} (max severity {v.verdict.get('max_severity')}); "
            f"policy {v.policy.name} {v.policy.digest or ''}".rstrip()
        )
        print(f"  report     {v.report}")
        print(f"  expires    {v.expires or 'never'}")
        print(f"  ignored    {', '.join(v.ignored) or '(nothing)'}")
        print(f"  files      {len(v.files)}")
        for f in v.files:
            print(f"    {f.sha256}  {f.size:>12}  {f.path}")
    for r in revocations:
        print(f"\nrecord {r.seq}: revocation, {r.time} by key {r.signer}: {r.value.reason}")
    return ExitCode.PASSED


def run_revoke(args: argparse.Namespace) -> ExitCode:
    from airlock.allowlist.errors import UntrustedAllowlist
    from airlock.allowlist.keys import load_private
    from airlock.allowlist.signing import revoke

    try:
        record = revoke(args.allowlist, load_private(args.key), args.digest, args.reason)
    except UntrustedAllowlist as exc:
        print(f"refused: {args.allowlist}: {exc}")
        return ExitCode.FAILED
    print(f"revoked: {record.body['model']} in {args.allowlist} as record {record.seq}")
    return ExitCode.PASSED
