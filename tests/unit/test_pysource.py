"""Parsing untrusted Python: every failure is `Unparseable`; CPython 3.11's transient SystemError is retried."""

from __future__ import annotations

import ast

import pytest

from airlock.parsers import pysource


def test_valid_source_gives_a_tree() -> None:
    tree = pysource.parse("import os\n\ndef f():\n    return 1\n")
    assert isinstance(tree.body[0], ast.Import)


@pytest.mark.parametrize(
    "source", ["def (:\n", "x = " + "-" * 60000 + "1\n", "x = " + "+".join(["1"] * 100000), "\0"]
)
def test_bad_or_hostile_source_is_unparseable(source: str) -> None:
    with pytest.raises(pysource.Unparseable):
        pysource.parse(source)


def test_a_transient_system_error_is_retried_once(monkeypatch: pytest.MonkeyPatch) -> None:
    real = ast.parse
    calls: list[int] = []

    def flaky(source: str, filename: str = "<unknown>") -> ast.Module:
        calls.append(1)
        if len(calls) == 1:
            raise SystemError("AST constructor recursion depth mismatch (before=33, after=30)")
        return real(source, filename=filename)

    monkeypatch.setattr(ast, "parse", flaky)
    assert isinstance(pysource.parse("x = 1\n"), ast.Module) and len(calls) == 2
    monkeypatch.setattr(ast, "parse", lambda *a, **k: (_ for _ in ()).throw(SystemError("again")))
    with pytest.raises(pysource.Unparseable, match="SystemError"):
        pysource.parse("x = 1\n")
