"""Publisher names: impersonation of well-known Hub organisations (data in signatures/publishers.toml).

Helpers for the provenance scanner; kept apart so that the matching can be tested on its own.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from airlock.rules import read_signature_toml


@dataclass(frozen=True, slots=True)
class Lookalike:
    org: str
    imitates: str
    technique: str  # "homoglyph", "separator", "affix", "edit-distance"


@dataclass(frozen=True)
class PublisherData:
    well_known: frozenset[str]
    homoglyphs: tuple[tuple[str, str], ...]  # longest first
    affixes: frozenset[str]


@functools.cache
def publisher_data() -> PublisherData:
    raw = read_signature_toml("publishers.toml")
    glyphs = sorted(raw["homoglyphs"].items(), key=lambda kv: -len(kv[0]))
    return PublisherData(
        well_known=frozenset(o.lower() for o in raw["well-known"]["orgs"]),
        homoglyphs=tuple(glyphs),
        affixes=frozenset(raw["affixes"]["words"]),
    )


def _squash(name: str) -> str:
    return "".join(ch for ch in name if ch.isalnum())


def skeleton(name: str, data: PublisherData) -> str:
    """Lowercase, homoglyphs mapped to the letters they imitate, separators removed."""
    text = name.replace("I", "l").lower()  # a capital I is drawn like a lowercase l
    for glyph, letter in data.homoglyphs:
        text = text.replace(glyph, letter)
    return _squash(text)


def damerau_levenshtein(a: str, b: str, cap: int = 3) -> int:
    """Optimal-string-alignment distance, cut off at `cap` (enough to compare short names)."""
    if abs(len(a) - len(b)) > cap:
        return cap + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return min(prev[len(b)], cap + 1)


def lookalike(org: str, data: PublisherData | None = None) -> Lookalike | None:
    """The well-known publisher `org` imitates, or None (also None for a well-known org itself)."""
    data = data or publisher_data()
    name = org.lower()
    if name in data.well_known:
        return None
    plain = _squash(name)
    shape = skeleton(org, data)
    best: Lookalike | None = None
    for known in sorted(data.well_known):
        known_plain = _squash(known)
        if plain == known_plain:
            return Lookalike(org, known, "separator")
        if shape == skeleton(known, data):
            return Lookalike(org, known, "homoglyph")
        for affix in data.affixes:
            if shape in (known_plain + affix, affix + known_plain) and len(known_plain) >= 3:
                best = best or Lookalike(org, known, "affix")
        allowed = 2 if len(known_plain) >= 10 else 1 if len(known_plain) >= 6 else 0
        if allowed and damerau_levenshtein(shape, known_plain, cap=allowed) <= allowed:
            best = best or Lookalike(org, known, "edit-distance")
    return best
