"""Parsing untrusted Python source into an AST, never compiling or running it.

CPython 3.11 can raise `SystemError: AST constructor recursion depth mismatch` from `ast.parse`
on hostile or merely odd input after deep recursion elsewhere in the process; one retry clears
it (the depth bookkeeping restarts with each call). Every failure becomes `Unparseable`.
"""

from __future__ import annotations

import ast


class Unparseable(ValueError):
    """The source is not Python that the parser can build a tree for (the reason is the message)."""


def parse(source: str | bytes, filename: str = "<unknown>") -> ast.Module:
    for attempt in (1, 2):
        try:
            return ast.parse(source, filename=filename)
        except SystemError as exc:
            if attempt == 2:
                raise Unparseable(f"SystemError: {exc}") from None
        except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
            raise Unparseable(f"{type(exc).__name__}: {str(exc)[:200]}") from None
    raise AssertionError("unreachable")
