"""`airlock data DATASET`: vet fine-tuning data for poisoning, label errors, contamination, leakage
and personal data. Exit 0 pass, 1 the policy fails, 2 could not read the data (or the model)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from airlock.cli._behavior import add_arch
from airlock.exitcodes import ExitCode
from airlock.render.interface import add_format_argument

WRITE_CLEAN_WARN_SHARE = 0.05  # --write-clean warns on stderr when it drops more than this share of the rows


def register(commands: Any) -> None:
    p = commands.add_parser("data", help="vet a dataset for poisoning, duplicates, leakage and personal data")
    p.add_argument(
        "dataset",
        type=Path,
        metavar="DATASET",
        help=".npz (x, y), image folder ROOT/<class>/<image>, CSV, Parquet, or a saved `datasets` folder",
    )
    p.add_argument(
        "--test",
        type=Path,
        metavar="DATASET",
        help="the evaluation split: checked for contamination; with --model, the clean reference of each class",
    )
    p.add_argument(
        "--model",
        metavar="REF",
        help="a model (as for `airlock scan`) whose features to use; it is statically scanned first",
    )
    add_arch(p)
    p.add_argument(
        "--suspect-class",
        metavar="N[,M]",
        help="class indices a behavioural scan blamed: judged at lower poisoning thresholds",
    )
    p.add_argument(
        "--behavior-report",
        type=Path,
        metavar="FILE",
        help="a JSON report of `airlock scan --behavior`: its suspect class, if it found a backdoor, "
        "is judged as with --suspect-class",
    )
    p.add_argument(
        "--behavior",
        action="store_true",
        help="with --model: run the trigger reversal on the model (on --test images, else data-free) "
        "and judge the class it finds as with --suspect-class",
    )
    p.add_argument("--label-column", metavar="NAME", help="label column of tabular data (default: label)")
    p.add_argument("--text-column", metavar="NAME", help="column holding text (near duplicates by MinHash)")
    p.add_argument("--quasi-identifiers", metavar="A,B,C", help="columns for the k-anonymity check")
    p.add_argument("--k", type=int, default=5, help="k for the k-anonymity check (default: 5)")
    p.add_argument(
        "--license",
        metavar="ID",
        help="the dataset's licence (an SPDX id or a model licence id from signatures/licenses.toml); "
        "recorded in the report and the CycloneDX/SPDX bills of materials",
    )
    p.add_argument(
        "--policy", type=Path, metavar="FILE", help="policy TOML (default: built-in, fails at high)"
    )
    p.add_argument("--fail-at", metavar="SEVERITY", help="override the policy's failing severity")
    add_format_argument(p)
    p.add_argument(
        "--output", "-o", type=Path, metavar="FILE", help="write the report here instead of stdout"
    )
    p.add_argument(
        "--write-clean",
        type=Path,
        metavar="FILE",
        help="write the row indices to keep (one per line; JSON list if FILE ends in .json)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bars on stderr")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> ExitCode:
    from airlock import extras

    extras.require("data", "airlock data", extras.DATA)
    if args.model is not None:
        extras.require("behavior", "airlock data --model", extras.BEHAVIOR)
    from airlock.data.pipeline import VetOptions, data_policy, vet
    from airlock.policy import load_policy
    from airlock.rules import load_rules

    for flag, given in (("--arch", args.arch is not None), ("--behavior", args.behavior)):
        if given and args.model is None:
            from airlock.errors import AirlockError

            raise AirlockError(f"{flag} only applies with --model")
    license_id = _license(args.license) if args.license is not None else None
    policy = load_policy(args.policy, load_rules()) if args.policy else data_policy()
    if args.fail_at:
        from dataclasses import replace

        from airlock.errors import PolicyError
        from airlock.findings import Severity

        try:
            policy = replace(policy, fail_at=Severity.parse(args.fail_at))
        except ValueError as exc:
            raise PolicyError("--fail-at", str(exc)) from None
    quasi = (
        tuple(c.strip() for c in args.quasi_identifiers.split(",") if c.strip())
        if args.quasi_identifiers
        else ()
    )
    blamed = blamed_classes(args.suspect_class, args.behavior_report)
    with _progress(not args.no_progress and sys.stderr.isatty()) as progress:
        report = vet(
            args.dataset,
            VetOptions(
                test=args.test,
                model=args.model,
                arch=args.arch,
                license=license_id,
                label_column=args.label_column or "label",
                label_column_given=args.label_column is not None,
                text_column=args.text_column,
                quasi_identifiers=quasi,
                k=args.k,
                policy=policy,
                blamed=blamed,
                behavior=args.behavior,
                progress=progress,
            ),
        )
    from airlock.cli._output import emit, write_atomically

    renderer = args.format.renderer(color=args.output is None and sys.stdout.isatty())
    text = renderer.render(report)
    if args.write_clean is not None:
        assert report.data is not None
        flagged = set(report.data["flagged"])
        rows = int(report.data["rows"])
        kept = [i for i in range(rows) if i not in flagged]
        if len(flagged) > WRITE_CLEAN_WARN_SHARE * rows:
            print(
                f"airlock: WARNING: --write-clean drops {len(flagged)} of {rows} rows ({len(flagged) / rows:.0%}, "
                f"more than {WRITE_CLEAN_WARN_SHARE:.0%}); check data.flagged before training on "
                f"{args.write_clean}",
                file=sys.stderr,
            )
        listing = (
            json.dumps(kept) + "\n" if args.write_clean.suffix == ".json" else "".join(f"{i}\n" for i in kept)
        )
        write_atomically(listing, args.write_clean, "the clean index list")
    emit(text, args.output)
    return ExitCode.PASSED if report.passed else ExitCode.FAILED


def _license(name: str) -> str:
    from airlock.errors import AirlockError
    from airlock.licenses import catalog

    license = catalog().identify(name)
    if license is None:
        raise AirlockError(
            f"--license {name!r} is not a licence airlock knows "
            "(an SPDX id such as CC-BY-4.0, or a model licence id from signatures/licenses.toml)"
        )
    return license.id


def blamed_classes(listed: str | None, behavior_report: Path | None) -> tuple[int, ...]:
    """The classes named with --suspect-class plus the suspect class of a behaviour report that
    called the model backdoored; a bad list or an unreadable report is an error (exit 2)."""
    from airlock.errors import AirlockError

    out: set[int] = set()
    for part in (listed or "").split(","):
        if part.strip():
            try:
                out.add(int(part))
            except ValueError:
                raise AirlockError(f"--suspect-class takes class indices, not {part.strip()!r}") from None
    if behavior_report is not None:
        try:
            report = json.loads(behavior_report.read_text(encoding="utf-8"))
            behavior = report.get("behavior") or {}
        except (OSError, ValueError, AttributeError) as exc:
            raise AirlockError(
                f"--behavior-report {behavior_report}: not a readable JSON report ({exc})"
            ) from None
        if not isinstance(behavior, dict):
            raise AirlockError(f"--behavior-report {behavior_report}: its 'behavior' is not an object")
        suspect = behavior.get("suspect_class")
        if behavior.get("backdoored") and isinstance(suspect, int) and not isinstance(suspect, bool):
            out.add(suspect)
    return tuple(sorted(out))


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[str, int], Callable[[int], None]] | None]:
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:

        def start(description: str, total: int) -> Callable[[int], None]:
            task = bar.add_task(description, total=total)
            return lambda n: bar.advance(task, n)

        yield start
