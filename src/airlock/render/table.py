"""Terminal renderer: a findings table, the checks that ran, and a one-line summary (rich)."""

from __future__ import annotations

import io
import unicodedata

from rich.console import Console
from rich.table import Table
from rich.text import Text

from airlock.behavior.outcome import outcome
from airlock.findings import Severity
from airlock.render.interface import Renderer
from airlock.report import Report
from airlock.scanning import NOTHING_TO_READ

_STYLE = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}


class TableRenderer(Renderer):
    def __init__(self, *, color: bool = False, width: int = 120) -> None:
        self.color, self.width = color, width

    def render(self, report: Report) -> str:
        buffer = io.StringIO()
        # Everything printed comes from the scanned model (file names, pickle globals, Hub metadata): never
        # let rich read it as markup ("[/bold]" would raise, "[local]" would vanish) or as emoji codes.
        console = Console(
            file=buffer,
            width=self.width,
            force_terminal=self.color,
            no_color=not self.color,
            highlight=False,
            soft_wrap=False,
            markup=False,
            emoji=False,
        )
        target = report.target
        revision = f"@{target.revision}" if target.revision else ""
        header = f"airlock {report.tool_version} (signatures {report.signatures_version})"
        console.print(Text(_printable(header), style="bold"))
        console.print(_printable(f"target   {target.reference} [{target.source}{revision}]"))
        console.print(_printable(f"digest   {target.digest}"))
        total = sum(a.size for a in report.artifacts)
        console.print(
            _printable(f"files    {len(report.artifacts)} ({human_size(total)}){_inventory(report)}")
        )
        if report.findings:
            table = Table(show_lines=False, expand=False, title=None)
            table.add_column("severity", no_wrap=True)
            table.add_column("rule", no_wrap=True)
            table.add_column("where", overflow="fold", max_width=40)
            table.add_column("message", overflow="fold")
            for f in report.findings:
                waived = (
                    f" [waived until {f.waiver.get('expires')}: {f.waiver.get('reason')}]" if f.waiver else ""
                )
                table.add_row(
                    Text(str(f.severity), style="dim strike" if f.waiver else _STYLE[f.severity]),
                    _printable(f.rule),
                    _printable(f.location),
                    _printable(f.message + waived),
                )
            console.print(table)
        for line in summary_lines(report):
            console.print(line)
        console.print(_printable(f"checks   {_checks_line(report)}"))
        counts = dict.fromkeys(Severity, 0)
        for f in report.findings:
            if not f.waived:
                counts[f.severity] += 1
        summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items(), reverse=True) if n) or "no findings"
        waived = sum(1 for f in report.findings if f.waived)
        summary += f" ({waived} waived)" if waived else ""
        verdict = report.verdict
        style = "bold green" if verdict.passed else "bold red"
        line = Text(f"{verdict.decision.upper()}", style=style)
        reasons = "; ".join(verdict.reasons)
        line.append(_printable(f"  {summary}; policy {verdict.policy}: {reasons}"), style="")
        console.print(line)
        return buffer.getvalue()


def _inventory(report: Report) -> str:
    """ ": 3 analysed, 8 data, 1 unidentified, 2 models" (empty for a report without an inventory)."""
    inv = report.inventory
    if not inv:
        return ""
    models = inv.get("models", 0)
    return (
        f": {inv.get('analysed', 0)} analysed, {inv.get('data', 0)} data, {inv.get('unidentified', 0)} unidentified, "
        f"{models} model{'' if models == 1 else 's'}"
    )


def _printable(text: str) -> str:
    """`text` with control and format characters (ESC, BEL, bidi overrides…) shown as escapes.

    Names taken from a hostile file must not be able to drive the terminal.
    """
    return "".join(
        ch.encode("unicode_escape").decode("ascii") if unicodedata.category(ch) in ("Cc", "Cf") else ch
        for ch in text
    )


def _checks_line(report: Report) -> str:
    """Every check with its status and time; scanners that found nothing to read are listed once, together."""
    idle = [c.scanner for c in report.checks if str(c.status) == "skipped" and c.reason == NOTHING_TO_READ]
    shown = ", ".join(
        f"{c.scanner} {c.status} {c.seconds:.2f}s"
        + (f" ({c.reason})" if c.reason and str(c.status) != "ran" else "")
        for c in report.checks
        if c.scanner not in idle
    )
    return shown + (f"; nothing to read for {', '.join(idle)}" if idle else "")


def summary_lines(report: Report) -> list[str]:
    """One line each for the data and behaviour sections, when the report has them."""
    lines: list[str] = []
    if report.data is not None:
        data = report.data
        rows = data.get("rows")
        of = f" of {rows} rows" if isinstance(rows, int) else ""
        suspects = data.get("suspect_classes") or []
        blamed = f"; suspect class(es) {', '.join(map(str, suspects))}" if suspects else ""
        listed = data.get("classes")
        classes = listed if isinstance(listed, list) else []
        overruled = [str(c.get("class")) for c in classes if isinstance(c, dict) and c.get("overruled")]
        overruled_text = (
            f"; class(es) {', '.join(overruled)} overruled by the clean reference" if overruled else ""
        )
        verdict = f"poisoning {data['poisoning']}; " if data.get("poisoning") else ""
        unreferenced = (
            "; no clean reference (--test)"
            if "clean_reference" in data and data["clean_reference"] is None
            else ""
        )
        lines.append(
            f"data     {verdict}{len(data.get('flagged', []))} sample(s) flagged{of} "
            f"({data.get('feature_space', '?')} features, {data.get('method', '?')}){blamed}{overruled_text}"
            f"{unreferenced}"
        )
        reversal = reversal_summary(data.get("behavior"))
        if reversal:
            lines.append(f"reversal {reversal}")
    behaviour = _behaviour_line(report)
    if behaviour:
        lines.append(behaviour)
    return [_printable(line) for line in lines]


def reversal_summary(b: object) -> str | None:
    """`airlock data --behavior`'s trigger reversal (`data.behavior`): its outcome, and whether its
    class was blamed, with the bar and (with `--test`) how much of the sample the model reads right,
    which sets the bar."""
    if not isinstance(b, dict) or "outcome" not in b:
        return None
    score = float(b.get("score", 0.0))
    line = f"{b['outcome']}; score {score:.3f} ({b.get('mode', '?')})"
    suspect = b.get("suspect_class")
    accuracy = b.get("sample_accuracy")
    read = f"; the model reads {float(accuracy):.0%} of the --test sample" if accuracy is not None else ""
    check = b.get("data_free_check")
    if suspect is None and isinstance(check, dict):  # a misread split's score over 1, not corroborated
        said = f"class {check.get('candidate_class')}" if check.get("flagged") else "no class"
        return f"{line}{read}, too little alone; the data-free scan flags {said}, not the same one"
    if suspect is None:
        return line
    bar = float(b.get("blame_at", 1.0))
    if suspect in b.get("blamed", ()):
        return f"{line}; class {suspect} blamed (bar {bar:g}{read})"
    return f"{line}; class {suspect} not blamed: under the bar {bar:g}{read}"


def _behaviour_line(report: Report) -> str | None:
    """The behaviour summary (`airlock.behavior.outcome`): "no backdoor found" only when the probe
    completed; a deciding check that was skipped, errored or ran out of time makes it "not determined"."""
    found = outcome(report.behavior, report.checks)
    if found is None:
        return None
    b = report.behavior
    if b is None:
        return f"behavior {found.headline}"
    return (
        f"behavior {found.headline}; score {float(b.get('score', 0.0)):.3f} "
        f"({b.get('method', '?')}, {b.get('mode', '?')})"
    )


def human_size(n: int) -> str:
    """1536 -> "1.5 KiB"."""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"
