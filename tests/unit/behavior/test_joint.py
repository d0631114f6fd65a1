"""Activation clustering and trigger reversal as one decision: neither weak signal decides alone."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from airlock.behavior.checks import JOINT_FLOOR, _joint
from airlock.behavior.plugin import Session
from airlock.behavior.settings import BehaviorSettings

THRESHOLD = 1.86


def _session(candidate: tuple[int, float] | None, blamed: tuple[int, ...] = ()) -> Session:
    session = Session(BehaviorSettings(), Path("."), "m", pickle_allowed=False, deadline=None)
    session.candidate, session.blamed = candidate, blamed
    return session


def _classes(**ratios: float) -> Any:
    return tuple(SimpleNamespace(label=int(k[1:]), ratio=r) for k, r in ratios.items())


def test_both_pointing_at_one_class_decide_together() -> None:
    found = _joint(_session((3, JOINT_FLOOR + 0.05)), _classes(c1=1.0, c3=THRESHOLD + 0.1), THRESHOLD)
    assert found is not None and found.label == 3


def test_either_alone_or_disagreeing_decides_nothing() -> None:
    classes = _classes(c1=THRESHOLD + 1, c3=1.0)
    assert _joint(_session((3, 0.99)), classes, THRESHOLD) is None  # clustering flags another class
    assert _joint(_session((1, JOINT_FLOOR - 0.05)), classes, THRESHOLD) is None  # reversal too weak
    assert _joint(_session(None), classes, THRESHOLD) is None  # reversal found no candidate
    assert _joint(_session((1, 2.0), blamed=(1,)), classes, THRESHOLD) is None  # already decided alone
