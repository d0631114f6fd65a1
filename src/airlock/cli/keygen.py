"""`airlock keygen PATH`: a P-256 signing key to PATH (mode 600) and its public key to PATH.pub."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from airlock.exitcodes import ExitCode


def register(commands: Any) -> None:
    p = commands.add_parser("keygen", help="create a signing key pair (PATH, mode 600, and PATH.pub)")
    p.add_argument(
        "path", metavar="PATH", type=Path, help="where the private key goes; the public key goes to PATH.pub"
    )
    p.add_argument("--force", action="store_true", help="overwrite an existing key pair")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> ExitCode:
    from airlock.allowlist.keys import generate, public_path

    public = generate(args.path, force=args.force)
    print(f"private key: {args.path} (mode 600; keep it secret)")
    print(f"public key:  {public_path(args.path)} (give it to verifiers: --pubkey)")
    print(f"key id:      {public.keyid}")
    return ExitCode.PASSED
