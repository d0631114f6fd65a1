"""`airlock fetch-verified REF DEST --allowlist FILE --pubkey KEY…`: download, verify, then hand over.

The entry point of the KServe `ClusterStorageContainer` image for `hf://` (KServe runs it as
`<entrypoint> <storageUri> /mnt/models`, so the allowlist and keys may also come from
`AIRLOCK_ALLOWLIST` and `AIRLOCK_PUBKEYS`, a comma-separated list of paths). Exit 0 with DEST holding
the admitted snapshot; exit 1 with one line `refused (<why>): …` on stderr and DEST empty; exit 2 when
it could not do the job (an unreadable allowlist or key).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from airlock.errors import AirlockError
from airlock.exitcodes import ExitCode

ALLOWLIST_ENV = "AIRLOCK_ALLOWLIST"
PUBKEYS_ENV = "AIRLOCK_PUBKEYS"


class MissingTrust(AirlockError):
    pass


def register(commands: Any) -> None:
    p = commands.add_parser(
        "fetch-verified",
        help="fetch a pinned hf:// model, verify it against the allowlist, move it into DEST",
    )
    p.add_argument(
        "reference", metavar="REF", help="hf://ORG/NAME@<commit sha> (or KServe's hf://ORG/NAME:<sha>)"
    )
    p.add_argument("dest", type=Path, metavar="DEST", help="where the verified model goes (absent or empty)")
    p.add_argument(
        "--allowlist", type=Path, metavar="FILE", help=f"the signed allowlist (default: ${ALLOWLIST_ENV})"
    )
    p.add_argument(
        "--pubkey",
        type=Path,
        action="append",
        default=[],
        metavar="KEY",
        help=f"public key of a signer you trust (repeatable; default: ${PUBKEYS_ENV}, comma-separated)",
    )
    p.add_argument(
        "--min-counter", type=int, default=0, metavar="N", help="refuse an allowlist below counter N"
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> ExitCode:
    from airlock.allowlist.fetching import Refused, fetch_verified
    from airlock.allowlist.keys import trusted

    allowlist = args.allowlist or (Path(os.environ[ALLOWLIST_ENV]) if os.environ.get(ALLOWLIST_ENV) else None)
    pubkeys = list(args.pubkey) or [
        Path(p.strip()) for p in os.environ.get(PUBKEYS_ENV, "").split(",") if p.strip()
    ]
    if allowlist is None:
        raise MissingTrust(f"no allowlist: pass --allowlist FILE or set {ALLOWLIST_ENV}")
    if not pubkeys:
        raise MissingTrust(f"no trusted key: pass --pubkey KEY.pub or set {PUBKEYS_ENV}")
    try:
        done = fetch_verified(
            args.reference, args.dest, allowlist, trusted(pubkeys), min_counter=args.min_counter
        )
    except Refused as exc:
        sys.stderr.write(f"airlock: {exc}\n")
        return ExitCode.FAILED
    print(
        f"verified: {done.reference}: {done.files} files, model {done.digest} -> {done.dest} ({done.reason})"
    )
    return ExitCode.PASSED
