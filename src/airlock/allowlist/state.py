"""Rollback protection: the newest version of each allowlist this machine has seen.

A replayed old allowlist is still correctly signed, so signatures alone cannot catch it. airlock
remembers, per allowlist id, the highest counter it accepted and the digest of that record, in
`$AIRLOCK_CACHE_DIR/allowlist-state.json`. An allowlist older than that, or one whose record at
that counter differs (a rewritten history), is refused. Machines without a lasting cache (CI
runners) pass `--min-counter N` instead, with N kept somewhere the allowlist's writers cannot edit.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from airlock import config
from airlock.allowlist import atomic
from airlock.allowlist.errors import AllowlistError, UntrustedAllowlist

if TYPE_CHECKING:
    from airlock.allowlist.store import Allowlist

log = logging.getLogger(__name__)

STATE_FILE = "allowlist-state.json"


@dataclass(frozen=True)
class Seen:
    counter: int
    head: str  # digest of record `counter`


def state_path() -> Path:
    return config.cache_dir() / STATE_FILE


def check(allowlist: Allowlist, *, min_counter: int = 0) -> None:
    """Refuse an allowlist older than `min_counter` or than what this machine has already seen."""
    if allowlist.counter < min_counter:
        raise UntrustedAllowlist(
            f"allowlist rollback: its counter is {allowlist.counter}, below --min-counter {min_counter} "
            "(an old copy?)"
        )
    seen = _load(state_path()).get(allowlist.id)
    if seen is None:
        return
    if allowlist.counter < seen.counter:
        raise UntrustedAllowlist(
            f"allowlist rollback: its counter is {allowlist.counter}, older than counter {seen.counter} "
            f"already seen on this machine (an old copy replayed?)"
        )
    if allowlist.records[seen.counter - 1].digest != seen.head:
        raise UntrustedAllowlist(
            f"allowlist history rewritten: record {seen.counter} differs from the one seen before",
            seen.counter,
        )


def remember(allowlist: Allowlist) -> None:
    """Record `allowlist` as the newest seen version of its id (never lowers what is recorded).

    A cache that cannot be written (a read-only home on a CI runner) costs only this protection
    for later runs, with a warning: the check against what was already recorded has been made.
    """
    path = state_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic.locked(path):
            known = _load(path)
            seen = known.get(allowlist.id)
            if seen is not None and seen.counter >= allowlist.counter:
                return
            known[allowlist.id] = Seen(allowlist.counter, allowlist.head)
            document = {
                "allowlists": {k: {"counter": v.counter, "head": v.head} for k, v in sorted(known.items())}
            }
            atomic.write_atomic(path, (json.dumps(document, indent=1) + "\n").encode())
    except (OSError, AllowlistError) as exc:
        log.warning("rollback state not recorded (%s); use --min-counter on this machine", exc)


def _load(path: Path) -> dict[str, Seen]:
    try:
        raw = path.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):  # nothing recorded (yet, or ever, on this machine)
        return {}
    except OSError as exc:
        raise AllowlistError(f"{path}: cannot read the rollback state ({exc.strerror or exc})") from None
    try:
        return {k: Seen(int(v["counter"]), str(v["head"])) for k, v in json.loads(raw)["allowlists"].items()}
    except (ValueError, KeyError, TypeError, AttributeError):
        raise AllowlistError(f"{path}: rollback state is corrupt (delete it to start over)") from None
