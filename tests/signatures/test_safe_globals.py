"""The pickle safe list: exact names, reproducible from the census evidence, safe by what they resolve to."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from airlock.resolution import resolve
from airlock.scanners.pickle_opcodes import global_policy

REPO = Path(__file__).resolve().parents[2]


def test_the_generated_section_is_what_the_evidence_gives() -> None:
    run = subprocess.run(
        [sys.executable, str(REPO / "tools" / "build_safe_globals.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_every_safe_name_is_exact_and_safe_by_what_it_resolves_to() -> None:
    policy = global_policy()
    assert len(policy.safe) > 300
    for name in policy.safe:
        assert "*" not in name
        module, _, attribute = name.rpartition(".")
        canonical = resolve(module, attribute).canonical
        assert canonical == name or canonical in policy.safe, (name, canonical)


def test_no_safe_name_is_also_dangerous() -> None:
    policy = global_policy()
    assert not policy.safe & set(policy.dangerous_exact)


def test_every_helper_is_a_safe_name_with_something_to_check() -> None:
    policy = global_policy()
    for name, helper in policy.helpers.items():
        assert name in policy.safe and (helper.calls or helper.check), name
    assert set(policy.helpers["builtins.getattr"].methods["builtins.str"]) >= {"lower", "strip", "casefold"}
