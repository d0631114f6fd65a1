"""Inline SVG charts for the HTML report, drawn in Python: no script, no library, nothing loaded.

Each function returns one `<svg>` element as a string; every label is escaped. The charts are small
and plain: horizontal bars (trigger size per class), a histogram with a threshold line (poisoning
scores of one class), and a gauge (a score against its threshold).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

BAR = "#6e7781"
HIGHLIGHT = "#cf222e"
THRESHOLD = "#bf8700"


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: float
    highlight: bool = False
    note: str = ""  # shown after the value, e.g. "not reached"


def _open(width: int, height: int, title: str) -> str:
    return (
        f'<svg class="chart" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-label="{escape(title)}"><title>{escape(title)}</title>'
    )


def _number(value: float) -> str:
    return f"{value:.3g}"


def bar_chart(bars: Sequence[Bar], *, title: str, unit: str, width: int = 560) -> str:
    """Horizontal bars, one per item, the highlighted ones in red; the value printed after each bar."""
    row, left, right = 18, 90, 150
    top = 22
    height = top + row * len(bars) + 8
    peak = max((b.value for b in bars), default=0.0) or 1.0
    span = width - left - right
    parts = [
        _open(width, height, title),
        f'<text x="0" y="14" class="chart-title">{escape(title)} ({escape(unit)})</text>',
    ]
    for i, b in enumerate(bars):
        y = top + i * row
        length = max(2.0, span * max(b.value, 0.0) / peak)
        colour = HIGHLIGHT if b.highlight else BAR
        mark = f' fill="{HIGHLIGHT}" font-weight="bold"' if b.highlight else ""
        note = " ".join(n for n in (b.note, "◀ suspect" if b.highlight else "") if n)
        parts.append(
            f'<text x="{left - 6}" y="{y + 12}" text-anchor="end"{mark}>{escape(b.label)}</text>'
            f'<rect x="{left}" y="{y + 2}" width="{length:.1f}" height="{row - 5}" fill="{colour}"/>'
            f'<text x="{left + length + 5:.1f}" y="{y + 12}"{mark}>{escape(_number(b.value))}'
            f"{escape(' ' + note) if note else ''}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def histogram(
    counts: Sequence[int], *, title: str, threshold: float | None, alarm: bool = False, width: int = 260
) -> str:
    """Bars of `counts` over [0, 1] (equal bins), with a dashed line at `threshold`; when `alarm` (a class
    the scan called poisoned), the bins past the line in red."""
    height, left, bottom, top = 120, 28, 18, 18
    plot_w, plot_h = width - left - 6, height - bottom - top
    peak = max(counts, default=0) or 1
    n = max(len(counts), 1)
    step = plot_w / n
    parts = [
        _open(width, height, title),
        f'<text x="0" y="12" class="chart-title">{escape(title)}</text>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#999"/>',
        f'<text x="{left - 4}" y="{top + 8}" text-anchor="end">{peak}</text>',
        f'<text x="{left}" y="{height - 4}">0</text>',
        f'<text x="{left + plot_w}" y="{height - 4}" text-anchor="end">1</text>',
    ]
    for i, count in enumerate(counts):
        h = plot_h * count / peak
        beyond = alarm and threshold is not None and (i + 0.5) / n >= threshold
        parts.append(
            f'<rect x="{left + i * step + 0.5:.1f}" y="{top + plot_h - h:.1f}" width="{max(step - 1, 1):.1f}" '
            f'height="{h:.1f}" fill="{HIGHLIGHT if beyond else BAR}"><title>{count}</title></rect>'
        )
    if threshold is not None:
        x = left + plot_w * min(max(threshold, 0.0), 1.0)
        parts.append(
            f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{top + plot_h}" stroke="{THRESHOLD}" '
            f'stroke-dasharray="4 2" stroke-width="1.5"/>'
            f'<text x="{x:.1f}" y="{height - 4}" text-anchor="middle" fill="{THRESHOLD}">{_number(threshold)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def gauge(value: float, threshold: float, *, title: str, width: int = 360) -> str:
    """A bar from 0 to `value` on a scale that shows `threshold` as a marked line (red past it); the page
    prints the numbers beside it."""
    height, left, right = 46, 4, 4
    top = max(value, threshold) * 1.25 or 1.0
    span = width - left - right
    x_value = left + span * max(value, 0.0) / top
    x_threshold = left + span * threshold / top
    colour = HIGHLIGHT if value >= threshold else "#1a7f37"
    return (
        _open(width, height, title) + f'<rect x="{left}" y="8" width="{span}" height="14" fill="#eaeef2"/>'
        f'<rect x="{left}" y="8" width="{x_value - left:.1f}" height="14" fill="{colour}"/>'
        f'<line x1="{x_threshold:.1f}" y1="2" x2="{x_threshold:.1f}" y2="28" stroke="{THRESHOLD}" stroke-width="2"/>'
        f'<text x="{min(max(x_threshold, 40), width - 40):.1f}" y="42" text-anchor="middle" fill="{THRESHOLD}">'
        f"threshold {_number(threshold)}</text></svg>"
    )
