"""HTML renderer: one self-contained page, every finding readable, nothing from the model executable.

The page is parsed with the standard library's HTML parser, which tokenises tags and attributes the way
a browser's tokenizer does for this markup; a real-browser check is separate.
"""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser

from airlock.render.html import HtmlRenderer
from airlock.render.interface import OutputFormat
from airlock.report import Report
from tests.unit.render.samples import (
    ATTRIBUTE_BREAKER,
    HOSTILE,
    failing_report,
    hostile_report,
    passing_report,
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
ALLOWED_ATTRIBUTES = {"lang", "charset", "name", "content", "id", "class", "colspan"}


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
    for report in (failing_report(), hostile_report()):
        html, page = parse(report)
        assert "<script" not in html.lower()
        for element in page.elements:
            for name, value in element.attrs.items():
                assert not name.startswith("on"), (element.tag, name)
                if name in ("src", "href", "action", "srcset", "poster", "data"):
                    raise AssertionError(f"<{element.tag} {name}={value!r}> loads something")
        style = "".join(e.text for e in page.elements if e.tag == "style")
        assert style and "url(" not in style and "@import" not in style
        assert "<link" not in html.lower() and "<iframe" not in html.lower()


def test_every_finding_message_is_on_the_page() -> None:
    report = failing_report()
    html, page = parse(report)
    for f in report.findings:
        assert f.message in page.text
        assert f.rule in page.text
    assert OutputFormat("html").renderer().render(report) == html


def test_evidence_is_shown() -> None:
    _, page = parse(failing_report())
    evidence = [e.text for e in page.elements if e.tag == "pre"]
    assert len(evidence) == 3  # AIR201, AIR101 and AIR109 carry evidence
    assert any('"name": "system"' in text for text in evidence)


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
    evidence = "".join(e.text for e in page.elements if e.tag == "pre")
    assert HOSTILE.replace('"', '\\"') in evidence  # JSON-quoted, then HTML-escaped, then read back
    assert [e.text for e in page.elements if e.tag == "title"] == [f"airlock: {report.target.reference}"]


def test_quotes_cannot_add_attributes() -> None:
    _, page = parse(hostile_report())
    for element in page.elements:
        assert set(element.attrs) <= ALLOWED_ATTRIBUTES, (element.tag, element.attrs)
        assert all(ATTRIBUTE_BREAKER not in (value or "") for value in element.attrs.values())


def test_verdict_element() -> None:
    for report, word in ((failing_report(), "FAIL"), (passing_report(), "PASS")):
        _, page = parse(report)
        [verdict] = [e for e in page.elements if e.attrs.get("id") == "verdict"]
        assert verdict.text == word
        assert report.verdict.decision in (verdict.attrs.get("class") or "").split()
        assert report.verdict.reasons[0] in page.text


def test_checks_and_files_are_listed() -> None:
    report = failing_report()
    _, page = parse(report)
    tables = {e.attrs.get("id") for e in page.elements if e.tag == "table"}
    assert tables == {"findings", "checks", "artifacts"}
    for check in report.checks:
        assert check.scanner in page.text
    assert "torch not installed" in page.text and "zip directory unreadable: truncated" in page.text
    for artifact in report.artifacts:
        assert artifact.path in page.text and artifact.sha256 in page.text
