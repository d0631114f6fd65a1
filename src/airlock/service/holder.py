"""The allowlist in service, and its reload: verified first, swapped in only when it is good.

A reload happens when the file changes (polled) or on SIGHUP. The new file must verify (chain,
trusted signatures, OMS bundles), keep the same id, not roll back, and not rewrite the history the
service holds. Otherwise it is refused: the last good allowlist stays in service, and the refusal is
logged and kept for /readyz and /metrics until a good file replaces it.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from airlock.allowlist import state, store
from airlock.allowlist.errors import AllowlistError
from airlock.allowlist.keys import TrustedKeys
from airlock.allowlist.records import format_time, utc_now
from airlock.service import view as views

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Refusal:
    time: str
    reason: str


class AllowlistHolder:
    def __init__(self, path: Path, trusted: TrustedKeys, *, min_counter: int = 0) -> None:
        self.path = path
        self.trusted = trusted
        self._lock = threading.Lock()
        self._stamp = self._stat()
        self.current = views.load(path, trusted, min_counter=min_counter)  # raises: refuse to start
        self.refused: Refusal | None = None
        self.loaded_at = format_time(utc_now())
        self.reloads = {"accepted": 0, "refused": 0, "unchanged": 0}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def reload(self, why: str = "requested") -> bool:
        """Verify the file and swap it in; False (old one kept) when it is refused."""
        with self._lock:
            self._stamp = self._stat()
            old = self.current
            try:
                new = store.read(self.path)
                store.check_signatures(new, self.trusted)
                views.check_successor(old, new)
                state.check(new)
                if new.head == old.allowlist.head:
                    self.reloads["unchanged"] += 1
                    self.refused = None
                    return True
                fresh = views.index(new, self.trusted)
            except AllowlistError as exc:
                self.refused = Refusal(format_time(utc_now()), str(exc))
                self.reloads["refused"] += 1
                log.error(
                    "allowlist reload (%s) refused: %s; keeping counter %d in service", why, exc, old.counter
                )
                return False
            state.remember(new)
            self.current = fresh
            self.refused = None
            self.loaded_at = format_time(utc_now())
            self.reloads["accepted"] += 1
            log.info("allowlist reloaded (%s): counter %d -> %d", why, old.counter, fresh.counter)
            return True

    def watch(self, interval: float) -> None:
        """Poll the file every `interval` seconds in a daemon thread; reload when it changed."""

        def loop() -> None:
            while not self._stop.wait(interval):
                if self._stat() != self._stamp:
                    self.reload("file changed")

        self._thread = threading.Thread(target=loop, name="allowlist-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)
