"""`airlock verify REF --allowlist FILE --pubkey KEY…`: is this exact model admitted? Exit 0, 1 or 2.

The decision and its reason go to stdout (`--format json` for machines); errors are one line on stderr.
`--signature FILE` checks the model against a standalone OMS signature instead of an allowlist;
`--attestation FILE` checks a vetting attestation, alone or on top of the allowlist's decision.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from airlock.exitcodes import ExitCode
from airlock.render.interface import OutputFormat, add_format_argument


def register(commands: Any) -> None:
    p = commands.add_parser(
        "verify", help="check a model against a signed allowlist (exit 0 admitted, 1 refused)"
    )
    p.add_argument(
        "reference", metavar="REF", help="hf://ORG/NAME[@REVISION], ORG/NAME[@REVISION], a folder or a file"
    )
    where = p.add_mutually_exclusive_group()
    where.add_argument("--allowlist", type=Path, metavar="FILE", help="the signed allowlist")
    where.add_argument(
        "--signature", type=Path, metavar="FILE", help="a standalone OMS signature (model-signing format)"
    )
    p.add_argument(
        "--attestation",
        type=Path,
        metavar="FILE",
        help="a vetting attestation (`airlock sign --attest`): check its signature, subjects and verdict "
        "(with --allowlist, the admitting entry must also record it)",
    )
    p.add_argument(
        "--pubkey",
        type=Path,
        action="append",
        default=[],
        metavar="KEY",
        help="public key of a signer you trust (repeatable)",
    )
    p.add_argument(
        "--cert-chain",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="with --signature: trusted certificates for a certificate-signed OMS signature (repeatable)",
    )
    p.add_argument(
        "--min-counter",
        type=int,
        default=0,
        metavar="N",
        help="refuse an allowlist whose counter is below N (rollback protection without a cache)",
    )
    p.add_argument("--no-cache", action="store_true", help="hash every file, ignoring the hash cache")
    add_format_argument(p, (OutputFormat.TABLE, OutputFormat.JSON, OutputFormat.MARKDOWN))
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> ExitCode:
    from airlock.allowlist.errors import AllowlistError
    from airlock.allowlist.keys import load_public, trusted
    from airlock.allowlist.verifying import VerifyOptions, verify, verify_attestation, verify_signature

    options = VerifyOptions(min_counter=args.min_counter, use_cache=not args.no_cache)
    if args.signature is None and args.allowlist is None and args.attestation is None:
        raise AllowlistError("pass --allowlist FILE, --signature FILE or --attestation FILE")
    if args.signature is not None and args.attestation is not None:
        raise AllowlistError("--attestation goes with --allowlist or alone, not with --signature")
    if args.signature is not None:
        keys = [load_public(path) for path in args.pubkey]
        decision = verify_signature(
            args.reference, args.signature, keys, args.cert_chain, use_cache=not args.no_cache
        )
    elif args.allowlist is not None:
        signers = trusted(args.pubkey)
        decision = verify(args.reference, args.allowlist, signers, options)
        if decision.admitted and args.attestation is not None:
            decision = verify_attestation(args.reference, args.attestation, signers, options, decision)
    else:
        decision = verify_attestation(args.reference, args.attestation, trusted(args.pubkey), options)
    if args.format is OutputFormat.JSON:
        print(json.dumps(decision.to_dict(), indent=2))
    elif args.format is OutputFormat.MARKDOWN:
        from airlock.render.markdown import escape

        state = "✅ admitted" if decision.admitted else "❌ refused"
        print(f"## {state}: {escape(args.reference)}\n\n{escape(decision.reason)}\n")
        if decision.digest:
            print(f"- model `{decision.digest}`")
        for change in decision.changes:
            print(f"- {escape(str(change))}")
    else:
        print(f"{'admitted' if decision.admitted else 'refused'}: {args.reference}: {decision.reason}")
        if decision.digest:
            print(f"  model {decision.digest}")
        for change in decision.changes:
            print(f"  {change}")
    return ExitCode.PASSED if decision.admitted else ExitCode.FAILED
