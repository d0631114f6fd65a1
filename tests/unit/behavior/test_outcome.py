"""One answer in every summary: "not determined", never "no backdoor found", when the probe did not complete."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from airlock.behavior.outcome import NOT_DETERMINED, NOT_FOUND, SUSPECTED, annotate, outcome
from airlock.render.html import HtmlRenderer
from airlock.render.json import JsonRenderer
from airlock.render.sarif import SarifRenderer
from airlock.render.table import TableRenderer
from airlock.report import Report
from airlock.scanning import CheckResult, CheckStatus
from tests.conftest import assert_valid_report
from tests.unit.render.samples import report

UNFINISHED = [
    ("error", "incomplete: time budget of 5 s ran out", {"complete": False, "determined": False}),
    ("skipped", "the model could not be loaded", None),
    ("ran", None, {"complete": False, "determined": False}),
]


def _report(status: str, reason: str | None, section: dict[str, Any] | None) -> Report:
    checks = (
        CheckResult("provenance", CheckStatus.RAN, 0.1),
        CheckResult("trigger_reversal", CheckStatus(status), 1.0, reason),
    )
    behavior = None
    if section is not None:
        behavior = {"method": "m", "mode": "data", "score": 0.2, "backdoored": False, "suspect_class": None}
        behavior.update(section)
    return replace(report(checks=checks), behavior=annotate(behavior, checks))


def _summaries(r: Report) -> dict[str, str]:
    sarif = json.loads(SarifRenderer().render(r))["runs"][0]["properties"]["behavior"]
    return {
        "table": next(x for x in TableRenderer().render(r).splitlines() if x.startswith("behavior ")),
        "json": json.loads(JsonRenderer().render(r))["behavior"]["outcome"],
        "sarif": sarif["summary"],
        "html": next(x for x in HtmlRenderer().render(r).splitlines() if 'id="behavior-outcome"' in x),
    }


@pytest.mark.parametrize("status, reason, section", UNFINISHED)
def test_an_unfinished_probe_is_not_determined_in_every_summary(
    status: str, reason: str | None, section: dict[str, Any] | None, report_schema: dict[str, Any]
) -> None:
    r = _report(status, reason, section)
    summaries = _summaries(r)
    assert not any(NOT_FOUND in text for text in summaries.values()), summaries
    assert all(NOT_DETERMINED in text for text in summaries.values()), summaries
    assert r.behavior is not None and r.behavior["determined"] is False
    assert_valid_report(json.loads(JsonRenderer().render(r)), report_schema)


def test_a_completed_clean_probe_says_no_backdoor_found_everywhere() -> None:
    summaries = _summaries(_report("ran", None, {"complete": True, "determined": True}))
    assert all(NOT_FOUND in text for text in summaries.values()), summaries


def test_a_backdoor_found_before_the_budget_ran_out_is_suspected() -> None:
    section = {"complete": False, "determined": True, "backdoored": True, "suspect_label": "cat"}
    summaries = _summaries(_report("error", "incomplete: budget", section))
    assert all(SUSPECTED in text for text in summaries.values()), summaries


def test_nothing_behavioural_gives_no_summary() -> None:
    assert outcome(None, (CheckResult("provenance", CheckStatus.RAN, 0.1),)) is None
    plain = report()
    assert annotate(None, plain.checks) is None
    assert 'id="behavior-outcome"' not in HtmlRenderer().render(plain)
    assert "behavior" not in json.loads(SarifRenderer().render(plain))["runs"][0]["properties"]
