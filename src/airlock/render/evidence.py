"""Evidence as a person reads it, for the HTML report: short values, never raw arrays.

A finding's evidence is JSON of any shape. Here it becomes a definition list: the call a pickle would
make first, then the rest; numeric arrays are summarised (shape, min, max, the first values), long
lists and strings are cut with a count of what was left out, PNG data URIs become pictures. Every
value is escaped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

FIRST = ("call", "global", "called_by", "reason", "message")  # shown first: what the file would do
MAX_STRING = 400
MAX_ITEMS = 12
MAX_DEPTH = 3
MAX_WALK = 1_000_000  # numbers looked at to summarise one array
_PNG = re.compile(r"^data:image/png;base64,[A-Za-z0-9+/]+={0,2}$")


def is_png_uri(value: object) -> bool:
    return isinstance(value, str) and len(value) < 2_000_000 and _PNG.match(value) is not None


def render_evidence(evidence: Mapping[str, Any]) -> str:
    """A `<dl>` of the evidence, the call first."""
    keys = [k for k in FIRST if k in evidence] + [k for k in evidence if k not in FIRST]
    return _mapping(evidence, keys, 0)


def _mapping(value: Mapping[str, Any], keys: Sequence[str], depth: int) -> str:
    items = "".join(
        f"<dt>{escape(str(k))}</dt><dd{' class=call' if k == 'call' else ''}>{_value(value[k], depth + 1)}</dd>"
        for k in keys
    )
    return f"<dl class='evidence'>{items}</dl>"


def _value(value: Any, depth: int) -> str:
    if value is None or isinstance(value, bool | int | float):
        return f"<code>{escape(json.dumps(value))}</code>"
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, Mapping):
        if depth > MAX_DEPTH:
            return escape(_short(json.dumps(value, default=str)))
        return _mapping(value, list(value), depth)
    if isinstance(value, list | tuple):
        return _sequence(value, depth)
    return escape(_short(str(value)))


def _string(value: str) -> str:
    if is_png_uri(value):
        return f"<img class='evidence-picture' alt='picture from the evidence' src='{value}'>"
    if "\n" in value:
        return f"<pre>{escape(_short(value))}</pre>"
    return f"<code>{escape(_short(value))}</code>"


def _short(text: str, limit: int = MAX_STRING) -> str:
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text) - limit} more characters)"


def _sequence(value: Sequence[Any], depth: int) -> str:
    if not value:
        return "<code>[]</code>"
    if all(_is_pair(v) for v in value):
        shown = ", ".join(f"({v[0]}, {v[1]})" for v in value[:MAX_ITEMS])
        rest = f" … and {len(value) - MAX_ITEMS} more" if len(value) > MAX_ITEMS else ""
        return f"{len(value)} pair(s): <code>{escape(shown)}</code>{escape(rest)}"
    if len(value) > 8 and all(isinstance(v, int) and not isinstance(v, bool) for v in value):  # row indices
        shown = ", ".join(str(v) for v in value[:MAX_ITEMS])
        rest = f" … and {len(value) - MAX_ITEMS} more" if len(value) > MAX_ITEMS else ""
        return f"{len(value)} values: <code>{escape(shown)}</code>{escape(rest)}"
    summary = summarise_numbers(value)
    if summary is not None:
        return f"<span class='array'>{escape(summary)}</span>"
    if all(isinstance(v, str) for v in value):
        shown = ", ".join(_short(v, 120) for v in value[:MAX_ITEMS])
        rest = f" … and {len(value) - MAX_ITEMS} more" if len(value) > MAX_ITEMS else ""
        return f"<code>{escape(shown)}</code>{escape(rest)}"
    items = "".join(f"<li>{_value(v, depth + 1)}</li>" for v in value[:MAX_ITEMS])
    rest = f"<li>… and {len(value) - MAX_ITEMS} more</li>" if len(value) > MAX_ITEMS else ""
    return f"<ol class='evidence-list'>{items}{rest}</ol>"


def _is_pair(value: Any) -> bool:
    return (
        isinstance(value, list | tuple)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    )


def summarise_numbers(value: Sequence[Any]) -> str | None:
    """ "32×32×3 numbers, min -0.031, max 0.045, first 0.009, -0.017, …" for a (nested) numeric list;
    short flat lists are shown whole; None if `value` is not all numbers."""
    shape = _shape(value)
    if shape is None:
        return None
    flat: list[float] = []
    _flatten(value, flat)
    if len(shape) == 1 and len(flat) <= 8:
        return "[" + ", ".join(_num(v) for v in flat) + "]"
    total = 1
    for n in shape:
        total *= n
    shown = "×".join(str(n) for n in shape)
    sample = ", ".join(_num(v) for v in flat[:4])
    if not flat:
        return f"{shown} numbers"
    return f"{shown} numbers, min {_num(min(flat))}, max {_num(max(flat))}, first {sample}, …" + (
        f" (summarised from the first {len(flat)})" if len(flat) < total else ""
    )


def _shape(value: Any) -> tuple[int, ...] | None:
    """The shape of a regular nested list of numbers (checked along the first element only, then by walk)."""
    shape: list[int] = []
    probe = value
    while isinstance(probe, list | tuple):
        shape.append(len(probe))
        if not probe:
            break
        probe = probe[0]
    is_number = isinstance(probe, int | float) and not isinstance(probe, bool)
    if not is_number and not (shape and shape[-1] == 0):
        return None
    return tuple(shape) if _all_numbers(value, len(shape)) else None


def _all_numbers(value: Any, depth: int, budget: list[int] | None = None) -> bool:
    budget = budget if budget is not None else [MAX_WALK]
    if depth == 0:
        budget[0] -= 1
        return isinstance(value, int | float) and not isinstance(value, bool)
    if not isinstance(value, list | tuple):
        return False
    for item in value:
        if budget[0] <= 0:
            return True  # looked at enough: the summary says it was taken from the first values
        if not _all_numbers(item, depth - 1, budget):
            return False
    return True


def _flatten(value: Any, out: list[float]) -> None:
    if len(out) >= MAX_WALK:
        return
    if isinstance(value, list | tuple):
        for item in value:
            _flatten(item, out)
    else:
        out.append(float(value))


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else f"{value:.4g}"
