"""`airlock rules`: list every rule (id, name, severity, scanner, summary, references, frameworks)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from airlock.exitcodes import ExitCode
from airlock.render.interface import OutputFormat, add_format_argument


def register(commands: Any) -> None:
    p = commands.add_parser("rules", help="list the rules airlock can report")
    add_format_argument(p, (OutputFormat.TABLE, OutputFormat.JSON, OutputFormat.MARKDOWN))
    p.add_argument("rule", nargs="?", help="show one rule in full (e.g. AIR201)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> ExitCode:
    from airlock.rules import load_rules

    rules = load_rules()
    selected = [rules[args.rule.upper()]] if args.rule else list(rules)
    if args.format is OutputFormat.MARKDOWN:
        from airlock.render.rules_page import rules_page

        print(rules_page(rules, selected), end="")
        return ExitCode.PASSED
    if args.format == "json":
        payload = {
            "signatures": rules.version,
            "rules": [
                {
                    "id": r.id,
                    "name": r.name,
                    "scanner": r.scanner,
                    "severity": str(r.severity),
                    "summary": r.summary,
                    "description": r.description,
                    "remediation": r.remediation,
                    "references": list(r.references),
                    "frameworks": r.frameworks,
                }
                for r in selected
            ],
        }
        print(json.dumps(payload, indent=2))
        return ExitCode.PASSED
    print(f"signatures {rules.version}: {len(rules)} rules")
    for r in selected:
        refs = ", ".join(r.references)
        print(f"{r.id}  {r.name:<28} {r.severity!s:<8} {r.scanner:<15} {r.summary}  [{refs}]")
        if args.rule:
            for framework, ids in r.frameworks.items():
                print(f"  {framework}: {', '.join(ids) or '-'}")
        if args.rule and r.remediation:
            print(f"  what to do: {r.remediation}")
        if args.rule and r.description:
            print()
            print(r.description)
    return ExitCode.PASSED
