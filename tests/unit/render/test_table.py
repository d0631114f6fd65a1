"""Terminal renderer: every finding readable in full, a clear verdict line, no escapes unless asked for."""

from __future__ import annotations

from dataclasses import replace

from airlock.findings import Severity
from airlock.render.interface import OutputFormat
from airlock.render.table import TableRenderer
from airlock.report import Report, Target
from tests.unit.render.samples import HOSTILE, failing_report, finding, hostile_report, passing_report, report

ESC = "\x1b"


def message_column(text: str) -> list[str]:
    """The message cells of the findings table, each folded row joined back into one string."""
    cells: list[str] = []
    for line in text.splitlines():
        if not line.startswith("│"):
            continue
        columns = line.split("│")
        severity, message = columns[1].strip(), columns[-2].strip()
        if severity:
            cells.append(message)
        else:
            cells[-1] += " " + message
    return cells


def squeeze(text: str) -> str:
    return "".join(text.split())


def summary(report_: Report) -> str:
    counts = [f"{sum(f.severity is s for f in report_.findings)} {s}" for s in sorted(Severity, reverse=True)]
    return ", ".join(c for c in counts if not c.startswith("0 "))


def test_every_finding_shows_its_rule_and_message() -> None:
    report_ = failing_report()
    text = TableRenderer().render(report_)
    for f in report_.findings:
        assert f.rule in text
    assert [squeeze(m) for m in message_column(text)] == [squeeze(f.message) for f in report_.findings]


def test_failing_verdict_line() -> None:
    report_ = failing_report()
    last = TableRenderer().render(report_).splitlines()[-1]
    assert last.startswith("FAIL ")
    assert summary(report_) == "1 critical, 1 medium, 2 low, 1 info"
    assert summary(report_) in last
    assert report_.verdict.policy in last and report_.verdict.reasons[0] in last


def test_passing_verdict_line() -> None:
    report_ = passing_report()
    last = TableRenderer().render(report_).splitlines()[-1]
    assert last.startswith("PASS ") and "1 info" in last


def test_no_findings_says_so() -> None:
    text = TableRenderer().render(report())
    assert "┃ rule" not in text
    assert text.splitlines()[-1].startswith("PASS  no findings")


def test_checks_that_did_not_run_show_why() -> None:
    text = TableRenderer().render(failing_report())
    checks = squeeze(text[text.index("\nchecks ") :].rsplit("\n", 2)[0])  # the checks line may wrap
    assert squeeze("pickle_opcodes error 0.03s (zip directory unreadable: truncated)") in checks
    assert squeeze("trigger_reversal skipped 0.00s (torch not installed)") in checks


def test_no_ansi_escapes_without_color() -> None:
    assert ESC not in TableRenderer(color=False).render(failing_report())
    assert ESC not in OutputFormat("table").renderer().render(failing_report())
    assert ESC + "[" in TableRenderer(color=True).render(failing_report())


def test_long_messages_and_locations_are_folded_not_truncated() -> None:
    long_token = "x" * 150
    message = "imports " + " ".join(f"module{i}.attribute{i}" for i in range(40)) + " " + long_token
    location = "pytorch_model.bin:" + "deeply/nested/" * 12 + "data.pkl@opcode:123456"
    long_finding = finding("AIR202", "pytorch_model.bin", location, message)
    text = TableRenderer(width=100).render(report((long_finding,)))
    assert "…" not in text
    assert all(len(line) <= 100 for line in text.splitlines())
    assert [squeeze(m) for m in message_column(text)] == [squeeze(message)]
    assert squeeze(location) in squeeze(
        "".join(line.split("│")[3] for line in text.splitlines() if line.startswith("│"))
    )


def test_report_text_is_never_read_as_markup() -> None:
    report_ = hostile_report()
    text = TableRenderer().render(report_)  # "[/bold]" in a message used to raise MarkupError
    assert squeeze(HOSTILE) in squeeze("".join(message_column(text)))
    assert "[hf@" in text  # the source tag after the reference used to vanish as an unknown style
    local = replace(report_, target=Target("./models/tiny", "local", None, report_.target.digest))
    assert "target   ./models/tiny [local]" in TableRenderer().render(local)


def test_control_characters_from_the_model_are_shown_escaped() -> None:
    message = "imports os.system\x1b]0;owned\x07\x1b[2J with \u202egnp.exe"
    hostile = finding("AIR201", "a.bin", "a.bin\x1b[31m@opcode:1", message)
    text = TableRenderer(color=False).render(report((hostile,)))
    assert ESC not in text and "\x07" not in text and "\u202e" not in text
    assert "\\x1b]0;owned\\x07\\x1b[2J" in text and "\\u202e" in text


def test_data_and_behavior_sections_get_a_summary_line() -> None:
    report_ = replace(
        passing_report(),
        data={
            "method": "ensemble",
            "rows": 1000,
            "feature_space": "model",
            "flagged": [3, 7, 9],
            "suspect_classes": [7],
        },
        behavior={
            "method": "trigger-reversal",
            "mode": "data-free",
            "score": 4.25,
            "backdoored": True,
            "suspect_class": 3,
            "suspect_label": "cat",
        },
    )
    text = TableRenderer().render(report_)
    assert "data     3 sample(s) flagged of 1000 rows (model features, ensemble); suspect class(es) 7" in text
    assert "behavior backdoor suspected, class cat; score 4.250 (trigger-reversal, data-free)" in text
    assert "data " not in TableRenderer().render(passing_report()).split("checks")[0].split("files")[1]
    assert "overruled" not in text


def test_a_class_the_clean_reference_overruled_is_named_in_the_summary_line() -> None:
    classes = [
        {
            "class": 2,
            "poisoned": True,
            "decided_by": "unmatched by the clean reference (model)",
            "overruled": "",
        },
        {"class": 5, "poisoned": False, "decided_by": "", "overruled": "foreign"},
    ]
    report_ = replace(
        passing_report(),
        data={
            "rows": 10,
            "feature_space": "model",
            "flagged": [1],
            "suspect_classes": [2],
            "classes": classes,
        },
    )
    text = " ".join(TableRenderer().render(report_).split())  # the console may wrap the line
    assert "suspect class(es) 2; class(es) 5 overruled by the clean reference" in text


def test_a_run_without_a_clean_reference_says_so_in_the_summary_line() -> None:
    data = {"rows": 10, "feature_space": "model", "flagged": [], "suspect_classes": []}
    without = replace(passing_report(), data={**data, "clean_reference": None})
    with_one = replace(passing_report(), data={**data, "clean_reference": {"rows": 400}})
    assert "no clean reference (--test)" in " ".join(TableRenderer().render(without).split())
    assert "clean reference" not in TableRenderer().render(with_one)
    assert "clean reference" not in TableRenderer().render(replace(passing_report(), data=data))


def test_the_data_checks_reversal_says_whether_and_why_its_class_was_blamed() -> None:
    data = {"rows": 10, "feature_space": "model", "flagged": [], "suspect_classes": []}
    suspected = {"mode": "data", "outcome": "backdoor suspected", "suspect_class": 5, "score": 1.0212}

    def line(behavior: dict[str, object]) -> str:
        report_ = replace(passing_report(), data={**data, "behavior": behavior})
        return " ".join(TableRenderer().render(report_).split())

    blamed = line({**suspected, "blame_at": 1.0, "sample_accuracy": 0.8325, "blamed": [5]})
    assert "reversal backdoor suspected; score 1.021 (data); class 5 blamed (bar 1; the model" in blamed
    assert "reads 83% of the --test sample)" in blamed
    under = line({**suspected, "blame_at": 1.15, "sample_accuracy": 0.7725, "blamed": []})
    assert "class 5 not blamed: under the bar 1.15; the model reads 77% of the --test sample" in under
    free = line({**suspected, "mode": "data-free", "blame_at": 1.2, "sample_accuracy": None, "blamed": []})
    assert "class 5 not blamed: under the bar 1.2" in free and "--test sample" not in free
    check = {"score": 1.12, "candidate_class": 7, "flagged": True, "agrees": False, "seconds": 4.8}
    misread = line(
        {**suspected, "suspect_class": None, "outcome": "no backdoor found", "score": 1.6}
        | {"blame_at": 1.15, "sample_accuracy": 0.6775, "blamed": [], "data_free_check": check}
    )
    assert "score 1.600 (data); the model reads 68% of the --test sample, too little alone" in misread
    assert "the data-free scan flags class 7, not the same one" in misread
    clean = line({"mode": "data", "outcome": "no backdoor found", "suspect_class": None, "score": 0.4})
    assert "reversal no backdoor found; score 0.400 (data)" in clean and "blamed" not in clean
    assert "reversal" not in TableRenderer().render(replace(passing_report(), data=data))


def test_scanners_with_nothing_to_read_are_listed_once_together() -> None:
    from airlock.scanning import CheckResult, CheckStatus

    checks = (
        CheckResult("provenance", CheckStatus.RAN, 0.01),
        CheckResult("gguf_header", CheckStatus.SKIPPED, 0.0, "no artifact in a format it reads"),
        CheckResult("onnx_graph", CheckStatus.SKIPPED, 0.0, "no artifact in a format it reads"),
    )
    text = squeeze(TableRenderer().render(report(checks=checks)))
    assert squeeze("checks provenance ran 0.01s; nothing to read for gguf_header, onnx_graph") in text


def _behaviour_report(status: str, reason: str | None, **section: object) -> Report:
    from airlock.scanning import CheckResult, CheckStatus

    checks = (
        CheckResult("provenance", CheckStatus.RAN, 0.1),
        CheckResult("trigger_reversal", CheckStatus(status), 1.0, reason),
        CheckResult("activation_clustering", CheckStatus.SKIPPED, 0.0, "needs a labelled sample (--data)"),
    )
    behavior = {
        "method": "trigger-reversal",
        "mode": "data-free",
        "score": 0.2,
        "backdoored": False,
        **section,
    }
    return replace(report(checks=checks), behavior=behavior)


def test_behaviour_line_says_not_determined_unless_the_probe_completed() -> None:
    done = TableRenderer().render(_behaviour_report("ran", None, complete=True))
    assert "behavior no backdoor found; score 0.200" in done  # clustering skipped for want of --data is fine
    for status, reason, section in (
        ("error", "incomplete: time budget of 5 s ran out", {"complete": False}),
        ("skipped", "the model could not be loaded", {}),
        ("ran", None, {"complete": False}),
    ):
        text = TableRenderer().render(_behaviour_report(status, reason, **section))
        assert "no backdoor found" not in text
        line = next(x for x in text.splitlines() if x.startswith("behavior "))
        assert line.startswith("behavior not determined (")
        assert squeeze(reason or "did not complete") in squeeze(text)
    suspected = TableRenderer().render(
        _behaviour_report("error", "incomplete: budget", backdoored=True, suspect_label="cat", complete=False)
    )
    assert "behavior backdoor suspected, class cat" in suspected


def test_behaviour_line_without_a_section_when_the_probe_never_ran() -> None:
    from airlock.scanning import CheckResult, CheckStatus

    checks = (CheckResult("trigger_reversal", CheckStatus.SKIPPED, 0.0, "model refused"),)
    text = TableRenderer().render(report(checks=checks))
    assert "behavior not determined (trigger_reversal skipped: model refused)" in text
    assert "no backdoor found" not in text


def test_data_line_shows_an_inconclusive_poisoning_check() -> None:
    report_ = replace(
        passing_report(),
        data={
            "method": "m",
            "rows": 300,
            "feature_space": "raw",
            "flagged": [],
            "poisoning": "inconclusive (raw features)",
        },
    )
    assert (
        "data     poisoning inconclusive (raw features); 0 sample(s) flagged of 300 rows"
        in TableRenderer().render(report_)
    )
