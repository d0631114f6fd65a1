"""The three exit codes every airlock command speaks."""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    PASSED = 0  # policy passed / admitted
    FAILED = 1  # ran, and the policy says fail (or verify refused)
    ERROR = 2  # could not do the job
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT), as shells report it
