"""HTML renderer: one self-contained page, every finding readable, nothing from the model executable.

The page is parsed with the standard library's HTML parser, which tokenises tags and attributes the way
a browser's tokenizer does for this markup; the real-browser checks are in
tests/integration/test_html_browser.py.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from html.parser import HTMLParser

from airlock.render.html import CSP, HtmlRenderer
from airlock.render.interface import OutputFormat
from airlock.render.svg import Bar, bar_chart, histogram
from airlock.report import Report
from airlock.rules import load_rules
from tests.unit.render.samples import (
    ATTRIBUTE_BREAKER,
    HOSTILE,
    failing_report,
    finding,
    hostile_report,
    passing_report,
    report,
)

ALLOWED_TAGS = {
    "html",
    "head",
    "meta",
    "title",
    "style",
    "body",
    "h1",
    "h2",
    "h3",
    "h4",
    "header",
    "nav",
    "main",
    "section",
    "article",
    "a",
    "b",
    "ul",
    "li",
    "ol",
    "dl",
    "dt",
    "dd",
    "code",
    "div",
    "br",
    "p",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "span",
    "details",
    "summary",
    "pre",
}
ALLOWED_ATTRIBUTES = {
    "lang",
    "charset",
    "name",
    "content",
    "http-equiv",
    "id",
    "class",
    "href",
    "title",
    "open",
}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str | None]
    text: str = ""


class Page(HTMLParser):
    """Every element with its attributes and own text, and the page's whole text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self.text = ""
        self._open: list[Element] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, dict(attrs))
        self.elements.append(element)
        if tag not in ("meta", "br"):
            self._open.append(element)

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1].tag == tag:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        self.text += data
        if self._open:
            self._open[-1].text += data


def parse(report: Report) -> tuple[str, Page]:
    html: str = HtmlRenderer().render(report)
    page = Page()
    page.feed(html)
    page.close()
    return html, page


def test_page_is_self_contained() -> None:
    """No URL the browser would fetch: links are in-page anchors, pictures data: URIs, and the CSP forbids the rest."""
    for sample in (failing_report(), hostile_report(), _pictured_report()):
        html, page = parse(sample)
        assert "<script" not in html.lower()
        [csp] = [e for e in page.elements if e.attrs.get("http-equiv") == "Content-Security-Policy"]
        assert csp.attrs["content"] == CSP == "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
        for element in page.elements:
            for name, value in element.attrs.items():
                assert not name.startswith("on"), (element.tag, name)
                if name == "href":
                    assert (value or "").startswith("#"), value
                elif name == "src":
                    assert element.tag == "img" and (value or "").startswith("data:image/png;base64,"), value
                elif name in ("action", "srcset", "poster", "data", "xlink:href", "background"):
                    raise AssertionError(f"<{element.tag} {name}={value!r}> loads something")
        style = "".join(e.text for e in page.elements if e.tag == "style")
        assert style and "url(" not in style and "@import" not in style
        assert "<link" not in html.lower() and "<iframe" not in html.lower() and "<object" not in html.lower()


def test_every_finding_message_is_on_the_page() -> None:
    report = failing_report()
    html, page = parse(report)
    for f in report.findings:
        assert f.message in page.text
        assert f.rule in page.text
    assert OutputFormat("html").renderer().render(report) == html


def test_evidence_is_shown() -> None:
    _, page = parse(failing_report())
    lists = [e for e in page.elements if e.tag == "dl"]
    assert len(lists) == 3  # AIR201, AIR101 and AIR109 carry evidence
    terms = [e.text for e in page.elements if e.tag == "dt"]
    assert {"module", "name", "opcode", "requested", "resolved", "author", "downloads", "tags"} <= set(terms)
    assert "vision, pytorch" in page.text


def test_the_call_comes_first_and_arrays_are_summarised_never_dumped() -> None:
    mask = [[round(0.001 * (r * 64 + c), 3) for c in range(64)] for r in range(64)]
    pickled = finding(
        "AIR201",
        "pytorch_model.bin",
        "p@opcode:2",
        "imports posix.system",
        {"global": "posix.system", "opcode": "GLOBAL", "call": "posix.system('touch /tmp/x')"},
    )
    reversed_trigger = finding("AIR701", None, "class 4", "class 4 answers to a tiny trigger", {"mask": mask})
    html, page = parse(report((pickled, reversed_trigger)))
    [call] = [e for e in page.elements if e.tag == "dd" and "call" in (e.attrs.get("class") or "")]
    assert call.text == ""  # the call's text sits in its <code>
    terms = [e.text for e in page.elements if e.tag == "dt"]
    assert terms.index("call") < terms.index("global") < terms.index("opcode")
    assert "posix.system('touch /tmp/x')" in page.text
    assert "64×64 numbers, min 0, max 4.095" in page.text
    assert "2.345" not in page.text and len(html) < 40_000  # 4,096 numbers stayed out


def test_findings_are_grouped_by_severity_then_file_with_rule_text_and_remediation() -> None:
    sample = failing_report()
    _, page = parse(sample)
    headings = [e.attrs.get("id") for e in page.elements if e.tag in ("h3", "details") and e.attrs.get("id")]
    assert headings == ["severity-critical", "severity-medium", "severity-low", "severity-info"]
    files = [e.text for e in page.elements if e.tag == "h4"]
    assert files[:2] == ["pytorch_model.bin ", "pytorch_model.bin "] and "the model as a whole" in files
    assert "1.0 MiB" in page.text
    rules = load_rules()
    for f in sample.findings:
        assert rules[f.rule].remediation in page.text and rules[f.rule].summary in page.text
    assert "MITRE ATLAS: AML.T0010.003" in page.text and "CWE: CWE-502" in page.text


def test_a_waived_finding_is_marked_and_the_counts_say_so() -> None:
    base = failing_report()
    waiver = {
        "rule": "AIR201",
        "sha256": "sha256:" + "a" * 64,
        "location": None,
        "reason": "reviewed",
        "expires": "2999-01-01",
    }
    findings = tuple(replace(f, waiver=waiver) if f.rule == "AIR201" else f for f in base.findings)
    _, page = parse(report(findings, base.checks))
    [article] = [e for e in page.elements if e.tag == "article" and "waived" in (e.attrs.get("class") or "")]
    assert article.attrs.get("id") == "rule-AIR201"
    assert "waived until 2999-01-01: reviewed" in page.text
    assert "1 waived" in page.text


def test_charts_escape_their_labels() -> None:
    chart = bar_chart([Bar(HOSTILE, 1.0, True), Bar("b", 0.5)], title=ATTRIBUTE_BREAKER, unit="u")
    bins = histogram([1, 2, 3], title=HOSTILE, threshold=0.5, alarm=True)
    for svg in (chart, bins):
        assert HOSTILE not in svg and ATTRIBUTE_BREAKER not in svg and svg.startswith("<svg ")


def _pictured_report() -> Report:
    """A report whose data section carries a thumbnail and whose behaviour section carries pictures."""
    import numpy as np

    from airlock.behavior.images import png_uri

    uri = png_uri(np.zeros((4, 4, 3)), 2)
    sample = passing_report()
    return replace(
        sample,
        behavior={
            "score": 0.2,
            "threshold": 1.0,
            "images": {"mask": uri},
            "trigger": {"family": "patch", "class": 1},
            "families": [{"family": "patch", "unit": "share"}],
            "per_class": [{"class": 0, "label": "a", "patch": {"size": 0.1, "image": uri}}],
        },
        data={
            "flagged": [3],
            "thumbnails": [{"row": 3, "label": 1, "score": 0.9, "image": uri}],
            "score_histograms": [{"class": 1, "counts": [1, 0, 2]}],
            "thresholds": {"flag_at": 0.5},
        },
    )


def test_hostile_strings_are_escaped() -> None:
    report = hostile_report()
    html, page = parse(report)
    assert {e.tag for e in page.elements} <= ALLOWED_TAGS  # no <img>, no <script>
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert ATTRIBUTE_BREAKER not in html
    for f in report.findings:
        assert f.message in page.text
        assert f.location in page.text
    assert report.artifacts[0].path in page.text
    assert report.target.reference in page.text
    evidence = "".join(e.text for e in page.elements if e.tag == "code")
    assert HOSTILE in evidence and ATTRIBUTE_BREAKER in evidence  # escaped, then read back as text
    assert [e.text for e in page.elements if e.tag == "title"] == [f"airlock: {report.target.reference}"]


def test_quotes_cannot_add_attributes() -> None:
    _, page = parse(hostile_report())
    for element in page.elements:
        assert set(element.attrs) <= ALLOWED_ATTRIBUTES, (element.tag, element.attrs)
        assert all(ATTRIBUTE_BREAKER not in (value or "") for value in element.attrs.values())


def test_verdict_comes_first_with_its_reasons() -> None:
    for sample, word in ((failing_report(), "FAIL"), (passing_report(), "PASS")):
        _, page = parse(sample)
        [verdict] = [e for e in page.elements if e.attrs.get("id") == "verdict"]
        [decision] = [e for e in page.elements if e.attrs.get("class") == "decision"]
        assert decision.text == word
        assert sample.verdict.decision in (verdict.attrs.get("class") or "").split()
        sections = [e.attrs.get("id") for e in page.elements if e.tag == "section"]
        assert sections[:2] == ["verdict", "findings"]
        reasons = [e.text for e in page.elements if e.tag == "li"]
        assert reasons[0].startswith(sample.verdict.reasons[0].split(":")[0])
    _, page = parse(failing_report())
    assert {
        e.attrs["href"] for e in page.elements if e.tag == "a" and e.attrs["href"].startswith("#rule-")
    } == {"#rule-AIR201"}


def test_checks_and_files_are_listed() -> None:
    report = failing_report()
    _, page = parse(report)
    tables = {e.attrs.get("id") for e in page.elements if e.tag == "table"}
    assert tables == {None, "artifacts"}
    flagged = [e for e in page.elements if e.tag == "tr" and e.attrs.get("class") == "flagged"]
    assert len(flagged) == 1  # pytorch_model.bin carries findings; config.json does not
    for check in report.checks:
        assert check.scanner in page.text
    assert "torch not installed" in page.text and "zip directory unreadable: truncated" in page.text
    for artifact in report.artifacts:
        assert artifact.path in page.text and artifact.sha256 in page.text


def test_a_tabular_data_report_shows_leakage_columns_and_masked_personal_data(generated) -> None:
    from airlock.data.pipeline import VetOptions, vet
    from fixtures import datasets

    train = generated(datasets.tabular)
    sample = vet(train, VetOptions(test=train.with_name("test.csv"), quasi_identifiers=("age", "zip", "sex")))
    html, page = parse(sample)
    tables = {e.attrs.get("id") for e in page.elements if e.tag == "table"}
    assert {"leakage", "privacy", "contamination"} <= tables
    for column in ("closure_code", "customer_id", "closed_at", "email", "note"):
        assert column in page.text
    assert "u***@e***.com" in page.text and "user10@example.com" not in html
    assert "595 row(s) in 471 group(s) smaller than k=5" in page.text
    assert "(3, 0), (17, 1), (42, 2), (99, 3), (256, 4)" in page.text  # the train↔test copies


def test_a_text_model_shows_its_recovered_trigger_tokens_and_marks_the_suspect_in_the_chart() -> None:
    behavior = {
        "score": 25.5,
        "threshold": 1.0,
        "backdoored": True,
        "suspect_class": 2,
        "suspect_label": "weather",
        "trigger": {"family": "token", "class": 2, "tokens": ["cf", HOSTILE]},
        "families": [{"family": "token", "unit": "cross-entropy", "ratio": 25.5}],
        "per_class": [
            {"class": k, "label": name, "token": {"size": size, "reached": k == 2}}
            for k, name, size in ((0, "sports", 5.2), (1, "food", 5.4), (2, "weather", 0.009))
        ],
    }
    html, page = parse(replace(passing_report(), behavior=behavior))
    [tokens] = [e for e in page.elements if e.attrs.get("id") == "trigger-tokens"]
    assert tokens.text.startswith("recovered trigger tokens")
    assert [e.text for e in page.elements if e.tag == "code" and e.text in ("cf", HOSTILE)] == ["cf", HOSTILE]
    assert "<script>alert(1)</script>" not in html
    assert "2 (weather)" in page.text and "◀ suspect" in page.text and "5.2 not reached" in page.text
    assert "25.5 against threshold 1" in page.text


def test_a_data_report_names_its_trigger_reversal_and_why_its_class_was_not_blamed() -> None:
    behavior = {
        "mode": "data",
        "outcome": "backdoor suspected",
        "suspect_class": 5,
        "score": 1.0212,
        "blame_at": 1.15,
        "sample_accuracy": 0.7725,
        "blamed": [],
    }
    data = {"rows": 10, "feature_space": "model", "flagged": [], "suspect_classes": [], "behavior": behavior}
    _, page = parse(replace(passing_report(), data=data))
    text = " ".join(page.text.split())
    assert "trigger reversal" in text
    assert "class 5 not blamed: under the bar 1.15; the model reads 77% of the --test sample" in text
