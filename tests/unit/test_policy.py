"""Policy parsing and the verdict it gives."""

from __future__ import annotations

import pytest

from airlock.errors import PolicyError
from airlock.findings import Finding, RuleId, Severity
from airlock.policy import apply_overrides, default_policy, evaluate, parse_policy
from airlock.rules import load_rules


def _finding(rule: str, severity: Severity) -> Finding:
    return Finding(RuleId(rule), severity, "pickle_opcodes", "a.pkl", "a.pkl@opcode:1", "m")


def test_default_fails_at_high_and_requires_provenance() -> None:
    policy = default_policy()
    assert policy.fail_at is Severity.HIGH and policy.required_scanners == ("provenance",)
    ran = {"provenance": "ran"}
    assert evaluate(policy, [_finding("AIR202", Severity.MEDIUM)], ran).passed
    failing = evaluate(policy, [_finding("AIR209", Severity.HIGH)], ran)
    assert not failing.passed and "AIR209" in failing.reasons[0]


@pytest.mark.parametrize("status", [None, "skipped", "error"])
def test_a_required_scanner_that_did_not_run_fails_the_verdict(status: str | None) -> None:
    checks = {} if status is None else {"provenance": status}
    verdict = evaluate(default_policy(), [], checks)
    assert verdict.decision == "fail"
    assert "provenance" in verdict.reasons[0]


def test_a_required_scanner_with_nothing_to_read_satisfies_the_policy() -> None:
    from airlock.report import check_statuses
    from airlock.scanning import NOTHING_TO_READ, CheckResult, CheckStatus

    policy = parse_policy('required_scanners = ["provenance", "pickle_opcodes"]', "t", load_rules())
    idle = CheckResult("pickle_opcodes", CheckStatus.SKIPPED, 0.0, NOTHING_TO_READ)
    ran = CheckResult("provenance", CheckStatus.RAN, 0.1)
    assert evaluate(policy, [], check_statuses([ran, idle])).passed
    other = CheckResult("pickle_opcodes", CheckStatus.SKIPPED, 0.0, "disabled by --scanner")
    verdict = evaluate(policy, [], check_statuses([ran, other]))
    assert not verdict.passed and "pickle_opcodes skipped" in verdict.reasons[0]


def test_overrides_raise_lower_and_ignore() -> None:
    policy = parse_policy('[severity]\nAIR202 = "critical"\nAIR201 = "ignore"\n', "t", load_rules())
    out = apply_overrides(
        policy, [_finding("AIR202", Severity.MEDIUM), _finding("AIR201", Severity.CRITICAL)]
    )
    assert [(f.rule, f.severity) for f in out] == [("AIR202", Severity.CRITICAL)]


def test_publishers_are_case_insensitive() -> None:
    policy = parse_policy('[publishers]\ntrusted = ["Google"]\nblocked = ["Evil-Org"]\n', "t")
    assert policy.trusted_publishers == {"google"} and policy.blocked_publishers == {"evil-org"}


@pytest.mark.parametrize(
    "text, problem",
    [
        ("fail_at = 'severe'", "unknown severity"),
        ("failat = 'high'", "unknown key"),
        ("required_scanners = 'provenance'", "list of scanner names"),
        ("[severity]\nAIR000 = 'low'", "unknown rule AIR000"),
        ("[publishers]\ntrusted = 'google'", "lists of organisation names"),
        ("fail_at = ", "invalid TOML"),
    ],
)
def test_bad_policies_name_the_problem(text: str, problem: str) -> None:
    with pytest.raises(PolicyError, match=problem):
        parse_policy(text, "p.toml", load_rules())


def test_policy_digest_tracks_the_text() -> None:
    assert parse_policy("fail_at = 'high'", "a").digest != parse_policy("fail_at = 'low'", "a").digest
