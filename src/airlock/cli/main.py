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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="airlock",
        description="Vet third-party ML checkpoints before they enter the organisation.",
        epilog="Exit codes: 0 passed, 1 policy failed, 2 could not do the job.",
    )
    parser.add_argument("--version", action="version", version=f"airlock {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    from airlock.cli import allowlist, data, fleet, keygen, rules, scan, serve, sign, verify

    scan.register(commands)
    data.register(commands)
    rules.register(commands)
    sign.register(commands)
    verify.register(commands)
    keygen.register(commands)
    allowlist.register(commands)
    serve.register(commands)
    fleet.register(commands)
    return parser


def main(argv: list[str] | None = None) -> NoReturn:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = args.handler(args)
    except AirlockError as exc:
        _fail(exc.diagnostics(), debug=args.debug)
    except KeyboardInterrupt:
        _fail("interrupted", debug=args.debug)
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
