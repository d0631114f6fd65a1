"""bench.behaviour_heldout.spread: how far the answer moves between two seeds' runs of the same cases."""

from __future__ import annotations

import pytest

from bench.behaviour_heldout import spread


def _run(kind: str, target: int | None, seed: int, data: tuple[float, int], free: tuple[float, int]) -> dict:
    def mode(score: float, candidate: int) -> dict:
        return {
            "score": score,
            "candidate": candidate,
            "verdict_failed": score > 1.0,
            "cpu_seconds": 5.0,
            "load": 1.0,
        }

    return {
        "case": f"{kind}-{target}",
        "kind": kind,
        "target": target,
        "seed": seed,
        "data": mode(*data),
        "data-free": mode(*free),
    }


def test_the_spread_counts_what_moved_and_leaves_out_models_that_did_not_learn() -> None:
    first = [
        _run("backdoored", 3, 0, (1.4, 3), (0.8, 3)),
        _run("clean", None, 0, (0.9, 7), (1.2, 7)),
        _run("not learned", 5, 0, (1.3, 5), (1.3, 5)),
    ]
    second = [
        _run("backdoored", 3, 1, (1.2, 3), (1.1, 3)),  # data-free verdict flips
        _run("clean", None, 1, (1.1, 2), (1.3, 0)),  # data verdict flips; both candidates move
        _run("not learned", 5, 1, (0.2, 1), (0.2, 1)),  # would flip both: not counted
    ]
    rows = {row["case"]: row for row in spread(first, second)}
    data, free = rows["seed spread (data)"], rows["seed spread (data-free)"]
    assert data["models"] == free["models"] == 2
    assert (data["verdicts_differ"], data["candidates_differ"]) == (1, 1)
    assert (free["verdicts_differ"], free["candidates_differ"]) == (1, 1)
    assert data["score_change_max"] == pytest.approx(0.2)
    assert free["score_change_max"] == pytest.approx(0.3)
    assert rows["seed 0 (data)"]["found"] == "1/1" and rows["seed 1 (data)"]["clean_failed"] == "1/1"


def test_runs_with_no_case_in_common_are_refused() -> None:
    with pytest.raises(ValueError, match="share no case"):
        spread([_run("clean", None, 0, (0.1, 1), (0.1, 1))], [])
