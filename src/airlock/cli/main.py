"""`airlock` entry point: parse, dispatch, and map every outcome to exit code 0, 1 or 2.

Heavy modules load inside the command that needs them, so `airlock --help` stays instant.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from typing import NoReturn

from airlock import __version__
from airlock.errors import AirlockError
from airlock.exitcodes import ExitCode

# An example for every command's --help (a test walks every command and checks each one has its own).
EXAMPLES: dict[str, tuple[str, ...]] = {
    "scan": (
        "airlock scan hf://org/model@<sha> --format sarif -o airlock.sarif",
        "airlock scan ./ckpt-a ./ckpt-b --jobs 2 --format markdown   # a batch: one report, worst exit code",
        "airlock scan --from models.txt --format json | jq .summary",
    ),
    "data": ("airlock data train.parquet --test eval.parquet --format markdown",),
    "rules": ("airlock rules AIR201", "airlock rules --format markdown > docs/rules.md"),
    "render": ('airlock render report.json --format markdown >> "$GITHUB_STEP_SUMMARY"',),
    "sign": (
        "airlock sign ./model --key team.key --allowlist allowlist.jsonl",
        "airlock sign ./model --key team.key --allowlist allowlist.jsonl --attest model.intoto.jsonl",
    ),
    "attest": (
        "airlock attest sha256:3f1a --allowlist allowlist.jsonl --key team.key --output model.intoto.jsonl",
    ),
    "verify": (
        "airlock verify ./model --allowlist allowlist.jsonl --pubkey team.key.pub",
        "airlock verify ./model --attestation model.intoto.jsonl --pubkey team.key.pub",
    ),
    "keygen": ("airlock keygen ~/.airlock/team.key   # team.key (0600) and team.key.pub",),
    "allowlist": ("airlock allowlist list --allowlist allowlist.jsonl --pubkey team.key.pub",),
    "allowlist list": (
        "airlock allowlist list --allowlist allowlist.jsonl --pubkey team.key.pub --format json",
    ),
    "allowlist show": (
        "airlock allowlist show sha256:3f1a --allowlist allowlist.jsonl --pubkey team.key.pub",
    ),
    "allowlist revoke": (
        "airlock allowlist revoke sha256:3f1a --allowlist allowlist.jsonl --key team.key --reason 'CVE-…'",
    ),
    "serve": ("airlock serve --allowlist allowlist.jsonl --pubkey team.key.pub --token-file tokens.txt",),
    "fetch-verified": (
        "airlock fetch-verified hf://org/model@<sha> /mnt/models --allowlist allowlist.jsonl --pubkey team.key.pub",
    ),
    "fleet": (
        "airlock fleet --from models.txt --executor ray --address auto --format html -o fleet.html",
        "airlock fleet --hub-query author:my-org --limit 200 --export fleet.parquet",
    ),
    "precommit": ("airlock precommit $(git diff --cached --name-only)   # what the pre-commit hook runs",),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="airlock",
        description="Vet third-party ML checkpoints before they enter the organisation.",
        epilog="Exit codes: 0 passed, 1 policy failed, 2 could not do the job, 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"airlock {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    from airlock.cli import (
        allowlist,
        attest,
        data,
        fetch_verified,
        fleet,
        keygen,
        precommit,
        render,
        rules,
        scan,
        serve,
        sign,
        verify,
    )

    scan.register(commands)
    data.register(commands)
    rules.register(commands)
    render.register(commands)
    sign.register(commands)
    verify.register(commands)
    attest.register(commands)
    keygen.register(commands)
    allowlist.register(commands)
    serve.register(commands)
    fetch_verified.register(commands)
    precommit.register(commands)
    fleet.register(commands)
    for name, sub in subcommands(parser):
        _finish(name, sub)
    return parser


def subcommands(
    parser: argparse.ArgumentParser, prefix: str = ""
) -> list[tuple[str, argparse.ArgumentParser]]:
    """Every (sub)command's parser with its full name ("allowlist revoke"), depth first."""
    found: list[tuple[str, argparse.ArgumentParser]] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                full = f"{prefix} {name}".strip()
                found += [(full, sub), *subcommands(sub, full)]
    return found


def _finish(name: str, sub: argparse.ArgumentParser) -> None:
    """`--debug` after the command too (`airlock scan X --debug`), and the command's examples in its help."""
    sub.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks on errors"
    )
    examples = EXAMPLES.get(name)
    if examples:
        sub.formatter_class = argparse.RawDescriptionHelpFormatter
        lines = "\n".join(f"  {line}" for line in examples)
        sub.epilog = f"{sub.epilog}\n\n" if sub.epilog else ""
        sub.epilog += f"example{'s' if len(examples) > 1 else ''}:\n{lines}"


def main(argv: list[str] | None = None) -> NoReturn:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = args.handler(args)
    except AirlockError as exc:
        _fail(exc.diagnostics(), debug=args.debug)
    except KeyboardInterrupt:
        if args.debug:
            traceback.print_exc()
        print("airlock: interrupted", file=sys.stderr)
        sys.exit(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        sys.stderr.close()  # a closed pipe downstream (e.g. `| head`) is not our error to report
        sys.exit(ExitCode.ERROR)
    except Exception as exc:  # noqa: BLE001  never a bare traceback, never exit 0
        _fail(f"internal error: {type(exc).__name__}: {exc} (re-run with --debug)", debug=args.debug)
    sys.exit(int(code))


def _fail(message: str, *, debug: bool) -> NoReturn:
    if debug:
        traceback.print_exc()
    first = message.strip().splitlines()[0] if message.strip() else "error"
    print(f"airlock: error: {first}", file=sys.stderr)
    sys.exit(ExitCode.ERROR)
