"""`airlock sign REF --key KEY --allowlist FILE [--attest FILE]`: scan (or take a passing report), then sign it in.

Exit 0 signed, 1 refused (failing verdict, report for other bytes, revoked model, untrusted
allowlist), 2 could not do the job.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from airlock.exitcodes import ExitCode


def register(commands: Any) -> None:
    p = commands.add_parser("sign", help="scan a model and sign it into an allowlist")
    p.add_argument(
        "reference", metavar="REF", help="hf://ORG/NAME[@REVISION], ORG/NAME[@REVISION], a folder or a file"
    )
    p.add_argument(
        "--key", type=Path, required=True, metavar="KEY", help="private key (from `airlock keygen`)"
    )
    p.add_argument(
        "--allowlist",
        type=Path,
        required=True,
        metavar="FILE",
        help="allowlist to add to (created if missing)",
    )
    p.add_argument(
        "--report",
        type=Path,
        metavar="REPORT",
        help="a passing `airlock scan --format json` report instead of scanning",
    )
    p.add_argument("--policy", type=Path, metavar="FILE", help="policy TOML for the scan (default: built-in)")
    p.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="GLOB",
        help="leave files out (recorded; repeatable)",
    )
    p.add_argument(
        "--expires", metavar="WHEN", help="entry expiry: 90d, 12h, 30m or an ISO date (default: never)"
    )
    p.add_argument(
        "--signature",
        type=Path,
        metavar="FILE",
        help="also write the OMS model signature (model-signing format) here",
    )
    p.add_argument(
        "--cert", type=Path, metavar="FILE", help="signing certificate (PEM) for the OMS signature"
    )
    p.add_argument(
        "--cert-chain",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="certificates up to the root, for --cert (repeatable)",
    )
    p.add_argument(
        "--save-report", type=Path, metavar="FILE", help="write the report the entry names to FILE"
    )
    p.add_argument(
        "--attest",
        type=Path,
        metavar="FILE",
        help="also write a vetting attestation here (DSSE-signed in-toto Statement, SLSA VSA predicate); "
        "a refused model gets a FAILED one",
    )
    p.add_argument(
        "--attest-subject",
        action="append",
        default=[],
        metavar="IMAGE@sha256:HEX",
        help="also name this OCI image (the model packaged for a cluster) as a subject, so image "
        "verifiers (cosign, Kyverno, policy-controller) match it (repeatable)",
    )
    p.add_argument("--no-progress", action="store_true", help="no download progress bars on stderr")
    p.set_defaults(handler=run)


def packaged_subjects(subjects: list[str], attest: Path | None) -> tuple[tuple[str, str], ...]:
    from airlock.allowlist.attestation import packaged_subject
    from airlock.allowlist.errors import AllowlistError

    if subjects and attest is None:
        raise AllowlistError("--attest-subject needs --attest FILE")
    try:
        return tuple(packaged_subject(s) for s in subjects)
    except ValueError as exc:
        raise AllowlistError(f"--attest-subject {exc}") from None


def run(args: argparse.Namespace) -> ExitCode:
    from airlock.allowlist.errors import AllowlistError
    from airlock.allowlist.keys import load_private
    from airlock.allowlist.signing import SignRequest, parse_expiry, sign
    from airlock.cli._output import emit
    from airlock.policy import default_policy, load_policy
    from airlock.rules import load_rules

    if args.report is not None and (args.policy is not None or args.exclude):
        raise AllowlistError(
            "--report already fixes the policy and the excluded files: drop --policy/--exclude"
        )
    if args.cert_chain and args.cert is None:
        raise AllowlistError("--cert-chain needs --cert (the signing certificate)")
    folder = Path(args.reference).expanduser()
    if (
        args.signature is not None
        and folder.is_dir()
        and args.signature.resolve().is_relative_to(folder.resolve())
    ):
        raise AllowlistError(
            f"--signature {args.signature} is inside the model folder: it would change the model"
        )
    if args.attest is not None and folder.is_dir() and args.attest.resolve().is_relative_to(folder.resolve()):
        raise AllowlistError(f"--attest {args.attest} is inside the model folder: it would change the model")
    request = SignRequest(
        reference=args.reference,
        key=load_private(args.key),
        allowlist=args.allowlist,
        report=args.report,
        policy=load_policy(args.policy, load_rules()) if args.policy else default_policy(),
        exclude=tuple(args.exclude),
        expires=parse_expiry(args.expires) if args.expires else None,
        certificate=args.cert,
        chain=tuple(args.cert_chain),
        download_progress=not args.no_progress and sys.stderr.isatty(),
        attest=args.attest,
        packaged=packaged_subjects(args.attest_subject, args.attest),
    )
    outcome = sign(request)
    if args.save_report is not None and outcome.report_json and args.report is None:
        emit(outcome.report_json.decode(), args.save_report)
    if not outcome.signed:
        print(f"refused: {args.reference}: {outcome.reason}")
        for change in outcome.changes:
            print(f"  {change}")
        if outcome.attestation is not None:
            print(f"  attestation (FAILED) {outcome.attestation} written to {args.attest}")
        return ExitCode.FAILED
    assert outcome.record is not None and outcome.bundle is not None
    if args.signature is not None:
        emit(json.dumps(outcome.bundle, indent=2) + "\n", args.signature)
    print(
        f"signed: {outcome.digest} into {args.allowlist} as record {outcome.record.seq} "
        f"(key {outcome.record.signer[:16]}…)"
    )
    if outcome.attestation is not None:
        print(f"  attestation {outcome.attestation} written to {args.attest}")
    return ExitCode.PASSED
