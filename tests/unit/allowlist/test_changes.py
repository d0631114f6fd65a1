"""Naming what changed between a signed file list and the files on disk."""

from __future__ import annotations

from airlock.allowlist.changes import Change, ChangeKind, diff, summary


def test_each_kind_of_change_is_named() -> None:
    signed = {"a.bin": "1", "b.bin": "2", "c.json": "3", "d.txt": "4"}
    now = {"a.bin": "1", "b.bin": "X", "e.json": "3", "f.py": "5"}
    assert diff(signed, now) == (
        Change(ChangeKind.CHANGED, "b.bin"),
        Change(ChangeKind.RENAMED, "c.json", "e.json"),
        Change(ChangeKind.REMOVED, "d.txt"),
        Change(ChangeKind.ADDED, "f.py"),
    )


def test_identical_lists_have_no_changes() -> None:
    assert diff({"a": "1"}, {"a": "1"}) == ()


def test_summary_is_one_line_with_a_count_of_the_rest() -> None:
    changes = diff({f"f{i}": "x" for i in range(8)}, {})
    assert summary(changes, limit=2) == "f0 removed; f1 removed; and 6 more"
    assert str(Change(ChangeKind.RENAMED, "a", "b")) == "a renamed to b"
