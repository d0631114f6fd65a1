"""bench.assess_replay: stored `assess` inputs replay to the same decision, without pickle."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from airlock.analysis.neighbours import label_disagreement, nearest_neighbours
from airlock.data import features, poisoning, reference
from airlock.data.pipeline import KNN_DIMENSIONS, NEIGHBOURS, calibration
from bench import assess_replay


def _inputs(seed: int) -> tuple[tuple, dict, np.ndarray]:
    """A five-class set whose class 2 holds 12% poison in a cluster of its own, a clean reference."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 5, (5, 24))
    y = np.resize(np.arange(5), 1500)
    x = centres[y] + rng.normal(0, 1, (1500, 24))
    poison = np.sort(rng.choice(np.flatnonzero(y != 2), size=180, replace=False))
    y[poison] = 2
    x[poison] = centres[2] + rng.normal(0, 0.8, (180, 24))
    x[poison, 3:6] += 6.0
    ref_y = np.resize(np.arange(5), 400)
    ref_x = centres[ref_y] + rng.normal(0, 1, (400, 24))
    reduced, ref = features.reduce_with(x.astype(np.float32), ref_x.astype(np.float32))
    assert ref is not None
    neighbours, _ = nearest_neighbours(reduced[:, :KNN_DIMENSIONS], NEIGHBOURS)
    args = (reduced, y, label_disagreement(neighbours, y), calibration())
    # the clean-split networks' reading: the poison read as another class, every other row as its own
    train_read, rows_read = rng.uniform(0.5, 1.0, len(y)), rng.uniform(0.5, 1.0, len(ref_y))
    train_read[poison] = rng.uniform(0.0, 0.05, len(poison))
    kwargs = {
        "names": [str(i) for i in range(5)],
        "persistence": np.full(len(y), 0.3),
        "reference": reference.Reference(reduced, ref, ref_y, read=lambda: (train_read, rows_read)),
    }
    return args, kwargs, poison


def test_a_stored_case_replays_to_the_decision_assess_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args, kwargs, poison = _inputs(3)
    direct = poisoning.assess(*args, **kwargs)
    assert direct.poisoned_classes == [2]
    monkeypatch.setattr(assess_replay, "folder", lambda part: tmp_path / part)
    (tmp_path / "p").mkdir()
    assess_replay._store(tmp_path / "p" / "case-a", args, kwargs, poison, "patch")
    with np.load(tmp_path / "p" / "case-a.npz", allow_pickle=False) as stored:  # plain arrays only
        assert {"reduced", "labels", "ref_train", "ref_rows", "ref_labels", "truth"} <= set(stored.files)
        assert {"ref_train_read", "ref_rows_read"} <= set(stored.files)
    assert any("read_as_another_class_by_clean_network" in names for names in direct.signals.values())
    rows = assess_replay.run(("p",))
    assert rows == [
        {
            "part": "p",
            "case": "case-a",
            "category": "patch",
            "hit": len(np.intersect1d(direct.flagged, poison)),
            "flagged": len(direct.flagged),
            "truth": len(poison),
            "called": [2],
            "routes": [poisoning.REFERENCE],
        }
    ]
    precision, recall = (float(v) for v in assess_replay.by_family(rows)["patch"].split(" / "))
    assert precision >= 0.9 and recall >= 0.9


def test_without_reference_replays_the_decision_a_run_without_test_makes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args, kwargs, poison = _inputs(5)
    monkeypatch.setattr(assess_replay, "folder", lambda part: tmp_path / part)
    (tmp_path / "p").mkdir()
    assess_replay._store(tmp_path / "p" / "case-a", args, kwargs, poison, "patch")
    alone = poisoning.assess(*args, **{**kwargs, "reference": None})
    (row,) = assess_replay.run(("p",), with_reference=False)
    assert poisoning.REFERENCE not in row["routes"]
    assert (row["flagged"], row["called"]) == (len(alone.flagged), alone.poisoned_classes)
    assert row["hit"] == len(np.intersect1d(alone.flagged, poison))
    (with_it,) = assess_replay.run(("p",))
    assert with_it["routes"] == [poisoning.REFERENCE]


def test_compare_names_the_sets_whose_rows_changed() -> None:
    before = [
        {"part": "p", "case": "a", "category": "sig", "hit": 90, "flagged": 100, "truth": 100, "called": [1]},
        {"part": "p", "case": "b", "category": "clean", "hit": 0, "flagged": 0, "truth": 0, "called": []},
    ]
    after = [dict(before[0], hit=95, flagged=100), dict(before[1], flagged=12, called=[3])]
    lines = assess_replay.compare(before, after)
    assert "sig: 0.90 / 0.90 -> 0.95 / 0.95" in lines
    assert "clean sets called: 0 of 1 -> 1 of 1" in lines
    assert any(line.startswith("a: 90/100") for line in lines) and any(
        line.startswith("b: 0/0") for line in lines
    )
