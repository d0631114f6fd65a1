"""What differs between the files a signature names and the files on disk: changed, added, removed, renamed.

A file that disappeared from one path and appeared, with the same sha256, at another is reported
once, as a rename.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


class ChangeKind(enum.StrEnum):
    CHANGED = "changed"
    ADDED = "added"
    REMOVED = "removed"
    RENAMED = "renamed"


@dataclass(frozen=True, slots=True)
class Change:
    kind: ChangeKind
    path: str
    to: str | None = None  # the new path of a rename

    def __str__(self) -> str:
        if self.kind is ChangeKind.RENAMED:
            return f"{self.path} renamed to {self.to}"
        return f"{self.path} {self.kind}"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": str(self.kind), "path": self.path, "to": self.to}


def diff(expected: Mapping[str, str], actual: Mapping[str, str]) -> tuple[Change, ...]:
    """Changes from `expected` to `actual`, both mapping relative path to sha256, sorted by path."""
    changes = [
        Change(ChangeKind.CHANGED, p)
        for p in sorted(expected.keys() & actual.keys())
        if expected[p] != actual[p]
    ]
    removed = sorted(expected.keys() - actual.keys())
    added = sorted(actual.keys() - expected.keys())
    for path in removed:
        twin = next((a for a in added if actual[a] == expected[path]), None)
        if twin is not None:
            added.remove(twin)
            changes.append(Change(ChangeKind.RENAMED, path, twin))
        else:
            changes.append(Change(ChangeKind.REMOVED, path))
    changes += [Change(ChangeKind.ADDED, p) for p in added]
    return tuple(sorted(changes, key=lambda c: c.path))


def summary(changes: Sequence[Change], limit: int = 5) -> str:
    """`a.bin changed; b.json added` (the first `limit`, then how many more)."""
    shown = "; ".join(str(c) for c in changes[:limit])
    more = len(changes) - limit
    return shown + (f"; and {more} more" if more > 0 else "")
