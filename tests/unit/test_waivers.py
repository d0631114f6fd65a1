"""Per-finding waivers: a reviewed finding stays visible but stops failing the verdict, until its expiry."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest

from airlock.errors import PolicyError
from airlock.findings import Finding, RuleId, Severity
from airlock.policy import parse_policy
from airlock.rules import load_rules
from airlock.waivers import EXPIRED_RULE, Waiver, apply_waivers
from fixtures import pickles
from tests.conftest import assert_valid_report

FUTURE = "2999-12-31"
PAST = "2001-01-01"


def _policy(tmp_path: Path, *waivers: dict[str, str]) -> Path:
    lines = ['name = "waivers"', "required_scanners = []"]
    for waiver in waivers:
        lines.append("[[waivers]]")
        lines.extend(f"{key} = {json.dumps(value)}" for key, value in waiver.items())
    path = tmp_path / "policy.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def model(generated) -> tuple[Path, str]:
    """The generated os.system pickle and its sha256: AIR201 and AIR971 (critical), AIR113 (low)."""
    path = generated(pickles.os_system_canary)
    return path, hashlib.sha256(path.read_bytes()).hexdigest()


def _waive(rule: str, sha: str, expires: str = FUTURE, **extra: str) -> dict[str, str]:
    return {
        "rule": rule,
        "sha256": f"sha256:{sha}",
        "reason": f"reviewed {rule}",
        "expires": expires,
        **extra,
    }


def test_waived_findings_stay_visible_and_do_not_fail(cli, model, tmp_path: Path, report_schema) -> None:
    folder, sha = model
    policy = _policy(tmp_path, _waive("AIR201", sha), _waive("AIR971", sha))
    result = cli("scan", folder, "--policy", policy, "--format", "json", "--no-progress")
    assert result.code == 0, result.err
    report = result.json()
    assert_valid_report(report, report_schema)
    by_rule = {f["rule"]: f for f in report["findings"]}
    assert by_rule["AIR201"]["waiver"] == {
        "rule": "AIR201",
        "sha256": f"sha256:{sha}",
        "location": None,
        "reason": "reviewed AIR201",
        "expires": FUTURE,
    }
    assert "waiver" not in by_rule["AIR113"]
    assert report["verdict"]["decision"] == "pass" and report["verdict"]["max_severity"] == "low"
    assert any("2 finding(s) waived" in r for r in report["verdict"]["reasons"])
    table = cli("scan", folder, "--policy", policy, "--no-progress")
    assert (
        table.code == 0
        and f"waived until {FUTURE}: reviewed AIR201" in table.out
        and "(2 waived)" in table.out
    )


def test_only_one_of_two_critical_rules_waived_still_fails(cli, model, tmp_path: Path) -> None:
    folder, sha = model
    result = cli("scan", folder, "--policy", _policy(tmp_path, _waive("AIR201", sha)), "--format", "json")
    assert result.code == 1
    assert result.json()["verdict"]["reasons"][0] == "1 finding(s) at or above high: AIR971"


def test_expired_waiver_stops_applying_and_is_reported(cli, model, tmp_path: Path) -> None:
    folder, sha = model
    policy = _policy(tmp_path, _waive("AIR201", sha, PAST), _waive("AIR971", sha))
    result = cli("scan", folder, "--policy", policy, "--format", "json", "--no-progress")
    assert result.code == 1
    report = result.json()
    air201 = next(f for f in report["findings"] if f["rule"] == "AIR201")
    assert "waiver" not in air201
    expired = [f for f in report["findings"] if f["rule"] == EXPIRED_RULE]
    assert len(expired) == 1 and expired[0]["location"] == air201["location"]
    assert f"expired on {PAST}" in expired[0]["message"]
    assert "1 waiver(s) expired and no longer apply: AIR201" in report["verdict"]["reasons"]


def test_location_and_digest_must_match(cli, model, tmp_path: Path) -> None:
    folder, sha = model
    other_sha = "0" * 64
    scanned = cli("scan", folder, "--format", "json").json()
    location = next(f["location"] for f in scanned["findings"] if f["rule"] == "AIR201")
    cases = {
        "wrong location": (_waive("AIR201", sha, location="model.pkl@opcode:999"), False),
        "right location": (_waive("AIR201", sha, location=location), True),
        "other file": (_waive("AIR201", other_sha), False),
    }
    for name, (waiver, applies) in cases.items():
        report = cli("scan", folder, "--policy", _policy(tmp_path, waiver), "--format", "json").json()
        air201 = next(f for f in report["findings"] if f["rule"] == "AIR201")
        assert ("waiver" in air201) is applies, name


def test_a_model_wide_finding_is_waived_by_the_model_digest(cli, model, tmp_path: Path) -> None:
    folder, _ = model
    digest = cli("scan", folder, "--format", "json").json()["target"]["digest"].removeprefix("sha256:")
    report = cli(
        "scan", folder, "--policy", _policy(tmp_path, _waive("AIR113", digest)), "--format", "json"
    ).json()
    assert (
        next(f for f in report["findings"] if f["rule"] == "AIR113")["waiver"]["reason"] == "reviewed AIR113"
    )


def test_sarif_marks_waived_results_as_accepted_suppressions(cli, model, tmp_path: Path) -> None:
    import jsonschema

    folder, sha = model
    policy = _policy(tmp_path, _waive("AIR201", sha))
    result = cli("scan", folder, "--policy", policy, "--format", "sarif", "--no-progress")
    document = json.loads(result.out)
    sarif_schema = json.loads((Path(__file__).parents[1] / "assets" / "sarif-schema-2.1.0.json").read_text())
    jsonschema.Draft7Validator(sarif_schema).validate(document)
    results = {r["ruleId"]: r for r in document["runs"][0]["results"]}
    assert results["AIR201"]["suppressions"] == [
        {
            "kind": "external",
            "status": "accepted",
            "justification": "reviewed AIR201",
            "properties": {
                "expires": FUTURE,
                "waiver": {
                    "rule": "AIR201",
                    "sha256": f"sha256:{sha}",
                    "location": None,
                    "reason": "reviewed AIR201",
                    "expires": FUTURE,
                },
            },
        }
    ]
    assert "suppressions" not in results["AIR971"]


@pytest.mark.parametrize(
    "entry, problem",
    [
        ({"rule": "AIR201", "sha256": "a" * 64, "expires": FUTURE}, "missing reason"),
        ({"rule": "AIR201", "sha256": "a" * 64, "reason": "ok"}, "missing expires"),
        ({"rule": "AIR201", "sha256": "a" * 64, "reason": "  ", "expires": FUTURE}, "reason must say why"),
        ({"rule": "AIR201", "sha256": "abc", "reason": "ok", "expires": FUTURE}, "not a sha256 digest"),
        ({"rule": "AIR201", "sha256": "a" * 64, "reason": "ok", "expires": "soon"}, "expires must be a date"),
        ({"rule": "AIR999", "sha256": "a" * 64, "reason": "ok", "expires": FUTURE}, "unknown rule"),
        (
            {"rule": "AIR201", "sha256": "a" * 64, "reason": "ok", "expires": FUTURE, "until": "x"},
            "unknown key",
        ),
    ],
)
def test_malformed_waivers_are_policy_errors(entry: dict[str, str], problem: str) -> None:
    text = "[[waivers]]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in entry.items())
    with pytest.raises(PolicyError, match=problem):
        parse_policy(text, "test", load_rules())


def test_a_waiver_without_reason_is_exit_2(cli, model, tmp_path: Path) -> None:
    folder, sha = model
    waiver = _waive("AIR201", sha)
    del waiver["reason"]
    result = cli("scan", folder, "--policy", _policy(tmp_path, waiver))
    assert result.code == 2 and "waivers[0]: missing reason" in result.err


def test_a_toml_date_is_accepted_and_the_expiry_day_still_applies() -> None:
    policy = parse_policy(
        f'[[waivers]]\nrule = "AIR202"\nsha256 = "{"b" * 64}"\nreason = "r"\nexpires = 2030-06-30\n', "t"
    )
    (waiver,) = policy.waivers
    assert waiver == Waiver(RuleId("AIR202"), "b" * 64, None, "r", dt.date(2030, 6, 30))
    finding = Finding(RuleId("AIR202"), Severity.MEDIUM, "pickle_opcodes", "a.pkl", "a.pkl@opcode:1", "m")
    on_the_day = apply_waivers(policy.waivers, [finding], {"a.pkl": "b" * 64}, dt.date(2030, 6, 30))
    day_after = apply_waivers(policy.waivers, [finding], {"a.pkl": "b" * 64}, dt.date(2030, 7, 1))
    assert [f.waived for f in on_the_day] == [True]
    assert [(f.rule, f.waived) for f in day_after] == [("AIR202", False), (EXPIRED_RULE, False)]


def test_markdown_lists_waived_findings_apart_and_leaves_them_out_of_the_counts(
    cli, model, tmp_path: Path
) -> None:
    folder, sha = model
    policy = _policy(tmp_path, _waive("AIR201", sha), _waive("AIR971", sha))
    result = cli("scan", folder, "--policy", policy, "--format", "markdown", "--no-progress")
    assert result.code == 0, result.err
    page = result.out
    assert "# Critical" not in page  # both critical findings are waived
    assert "# Waived (2)" in page and f"waived until {FUTURE}: reviewed AIR201" in page
    assert "| findings | 1 low (2 waived) |" in page
