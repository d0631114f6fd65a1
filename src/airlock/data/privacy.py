"""Privacy screen: personal data a fine-tuned model would memorise, and k-anonymity.

Each column is searched for e-mail addresses, phone numbers, payment card numbers (Luhn-checked),
IBANs (mod-97-checked), US social security numbers and IPv4/IPv6 addresses. The result is counts
per column and kind and a few *masked* examples: a value is never echoed in full.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

EXAMPLES = 3


@dataclass(frozen=True)
class Pattern:
    kind: str
    regex: re.Pattern[str]
    valid: Callable[[str], bool]
    mask: Callable[[str], str]


def _luhn(text: str) -> bool:
    digits = [int(c) for c in text if c.isdigit()]
    if not 13 <= len(digits) <= 19 or len(set(digits)) == 1:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        total += d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2)
    return total % 10 == 0


def _iban(text: str) -> bool:
    compact = text.replace(" ", "").upper()
    if not 15 <= len(compact) <= 34:
        return False
    moved = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def _ipv6(text: str) -> bool:
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return text.count(":") >= 2


def _keep_last(n: int) -> Callable[[str], str]:
    return lambda v: "".join("*" if c.isalnum() else c for c in v[:-n]) + v[-n:]


def _mask_email(value: str) -> str:
    user, _, domain = value.partition("@")
    host, _, tld = domain.rpartition(".")
    return f"{user[:1]}***@{host[:1]}***.{tld}"


def _mask_ip(value: str) -> str:
    if "." in value:
        return ".".join([*value.split(".")[:2], "*", "*"])
    return value.split(":")[0] + ":****:…"


PATTERNS: tuple[Pattern, ...] = (
    Pattern(
        "email",
        re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"),
        lambda v: True,
        _mask_email,
    ),
    Pattern("card", re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])"), _luhn, _keep_last(4)),
    Pattern(
        "iban",
        re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b"),
        _iban,
        lambda v: v[:4] + " **** " + v[-2:],
    ),
    Pattern(
        "ssn",
        re.compile(r"(?<![\d-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\d-])"),
        lambda v: True,
        _keep_last(4),
    ),
    Pattern(
        "phone",
        re.compile(r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{3}\)|\d{3})[ .-]\d{3}[ .-]\d{4}(?!\d)"),
        lambda v: True,
        _keep_last(4),
    ),
    Pattern(
        "ipv4",
        re.compile(
            r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\d.])"
        ),
        lambda v: True,
        _mask_ip,
    ),
    Pattern(
        "ipv6", re.compile(r"(?<![\w:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])"), _ipv6, _mask_ip
    ),
)


@dataclass(frozen=True)
class Exposure:
    column: str
    kind: str
    count: int  # matches
    rows: int  # rows with at least one match
    examples: tuple[str, ...]  # masked


def screen(columns: dict[str, np.ndarray]) -> list[Exposure]:
    """Exposures per (column, kind). A span matched by an earlier pattern is not matched again."""
    found: list[Exposure] = []
    for name, values in columns.items():
        cells = [str(v) for v in values.tolist()]
        text = "\n".join(c.replace("\n", " ") for c in cells)
        starts = np.cumsum([0] + [len(c) + 1 for c in cells[:-1]])
        taken = np.zeros(len(text) + 1, dtype=bool)
        for pattern in PATTERNS:
            count, rows, examples = 0, set(), []
            for match in pattern.regex.finditer(text):
                value = match.group(0)
                if taken[match.start() : match.end()].any() or not pattern.valid(value):
                    continue
                taken[match.start() : match.end()] = True
                count += 1
                rows.add(int(np.searchsorted(starts, match.start(), side="right")) - 1)
                if len(examples) < EXAMPLES:
                    examples.append(pattern.mask(value))
            if count:
                found.append(Exposure(name, pattern.kind, count, len(rows), tuple(examples)))
    return found


@dataclass(frozen=True)
class Anonymity:
    columns: tuple[str, ...]
    k: int
    smallest_group: int
    groups: int
    groups_below_k: int
    rows_below_k: int


def k_anonymity(columns: dict[str, np.ndarray], quasi_identifiers: Sequence[str], k: int) -> Anonymity:
    keys = np.stack([columns[name].astype(str) for name in quasi_identifiers], axis=1)
    _, inverse, counts = np.unique(keys, axis=0, return_inverse=True, return_counts=True)
    small = counts < k
    return Anonymity(
        columns=tuple(quasi_identifiers),
        k=k,
        smallest_group=int(counts.min()),
        groups=len(counts),
        groups_below_k=int(small.sum()),
        rows_below_k=int(small[inverse.ravel()].sum()),
    )
