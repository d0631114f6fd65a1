"""`airlock attest DIGEST --allowlist FILE --key KEY --output FILE`: a vetting attestation for an entry.

Writes the DSSE-signed in-toto Statement (SLSA VSA predicate) for a model already signed into the
allowlist, and appends the entry again with the attestation's digest. Exit 0 written, 2 could not.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from airlock.exitcodes import ExitCode


def register(commands: Any) -> None:
    p = commands.add_parser("attest", help="write a signed vetting attestation for an allowlist entry")
    p.add_argument("digest", metavar="DIGEST", help="the entry's model digest, sha256:… (or a unique prefix)")
    p.add_argument("--allowlist", type=Path, required=True, metavar="FILE")
    p.add_argument(
        "--key", type=Path, required=True, metavar="KEY", help="private key (the allowlist signer's)"
    )
    p.add_argument(
        "--output", type=Path, required=True, metavar="FILE", help="where to write the attestation"
    )
    p.add_argument(
        "--attest-subject",
        action="append",
        default=[],
        metavar="IMAGE@sha256:HEX",
        help="also name this OCI image (the model packaged for a cluster) as a subject, so image "
        "verifiers (cosign, Kyverno, policy-controller) match it (repeatable)",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> ExitCode:
    from airlock.allowlist.keys import load_private
    from airlock.allowlist.signing import attest
    from airlock.cli.sign import packaged_subjects

    packaged = packaged_subjects(args.attest_subject, args.output)
    record, digest = attest(args.allowlist, load_private(args.key), args.digest, args.output, packaged)
    print(
        f"attested: {record.body['model']} as record {record.seq}; attestation {digest} written to {args.output}"
    )
    return ExitCode.PASSED
