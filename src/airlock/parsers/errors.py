"""The two errors every reader raises: the bytes are malformed, or reading them hit a bound."""

from __future__ import annotations


class ParseError(Exception):
    """The bytes are not well formed for the reader (`what` says why, `offset` where, when known)."""

    def __init__(self, what: str, offset: int | None = None) -> None:
        super().__init__(what)
        self.what, self.offset = what, offset


class LimitExceeded(ParseError):
    """Reading stopped at one of the `Limits`. A `fatal` overrun ends the whole artifact, not just one part."""

    def __init__(self, what: str, offset: int | None = None, *, fatal: bool = True) -> None:
        super().__init__(what, offset)
        self.fatal = fatal
