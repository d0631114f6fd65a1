"""bench.behaviour_replay: stored per-class trigger sizes replay to the scan's decision."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from airlock.behavior import reversal
from airlock.behavior.engine import ClassTrigger, FamilyResult
from airlock.behavior.outlier import DRAW_WEIGHT, load_calibration
from bench import behaviour_replay

LN4 = math.log(4)


def _family(name: str, costs: list[float], asr: float = 0.9) -> dict:
    return {
        "family": name,
        "steps": 100,
        "classes": [
            {"label": k, "cost": c, "reached": True, "asr": asr, "steps": 100} for k, c in enumerate(costs)
        ],
    }


def _record(families: list[dict], kind: str = "backdoored", target: int | None = 2) -> dict:
    return {
        "part": "p",
        "case": f"case-{kind}",
        "family": "patch" if target is not None else "clean",
        "dataset": "strokes",
        "arch": "resnet-narrow",
        "kind": kind,
        "target": target,
        "attack_success": 0.99 if target is not None else None,
        "mode": "data",
        "families": families,
        "draw_statistic": behaviour_replay.DRAW_STATISTIC,
    }


def test_decide_gives_what_the_reversal_decides_on_the_same_results() -> None:
    families = [
        _family("patch", [0.2, 0.18, 0.004, 0.22, 0.19]),
        _family("blend", [0.1, 0.12, 0.09, 0.11, 0.1]),
    ]
    record = _record(families)
    results = [
        FamilyResult(
            f["family"],
            tuple(
                ClassTrigger(c["label"], c["cost"], c["reached"], c["asr"], c["steps"]) for c in f["classes"]
            ),
            100,
            True,
            0.0,
        )
        for f in families
    ]
    direct = reversal._finish("image", "data", results[:1], load_calibration(), True, 0.0, 0)
    assert direct.backdoored  # the patch family alone flags class 2, so the scan stops there
    suspect, score = behaviour_replay.decide(record)
    assert suspect == 2 and score == pytest.approx(direct.score)
    every = reversal._finish("image", "data", results, load_calibration(), True, 0.0, 0)
    assert every.decision is not None
    suspect, score = behaviour_replay.decide(record, every_family=True)
    assert suspect == every.decision.suspect and score == pytest.approx(every.score)


def test_run_reads_every_stored_model_and_summary_counts_per_family(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(behaviour_replay, "folder", lambda part, data_free=False: tmp_path / part)
    (tmp_path / "p").mkdir()
    bad = _record([_family("patch", [0.2, 0.18, 0.004, 0.22, 0.19])])
    good = _record([_family("patch", [0.2, 0.18, 0.17, 0.22, 0.19])], kind="clean", target=None)
    for record in (bad, good):
        (tmp_path / "p" / f"{record['case']}.json").write_text(json.dumps(record))
    rows = behaviour_replay.run(("p",))
    assert [(r["case"], r["candidate"]) for r in rows] == [("case-backdoored", 2), ("case-clean", 2)]
    assert rows[0]["score"] > 1.0 > rows[1]["score"]
    lines = behaviour_replay.summary(rows)
    assert lines["all"] == "AUC 1.000, found with the right class 1/1, candidate right 1/1"
    assert lines["clean flagged"] == "0 of 1"
    dataset = f"dataset {bad['dataset']}"  # its backdoors against its own clean models
    assert lines[dataset].endswith(
        "found with the right class 1/1, candidate right 1/1, clean flagged 0 of 1"
    )


def test_every_family_is_undone_after_the_dump() -> None:
    results = (
        FamilyResult(
            "patch",
            (
                ClassTrigger(0, 0.001, True, 1.0, 10),
                ClassTrigger(1, 0.5, True, 1.0, 10),
                ClassTrigger(2, 0.5, True, 1.0, 10),
            ),
            10,
            True,
            0.0,
        ),
    )
    flagged = reversal._finish("image", "data", list(results), load_calibration(), True, 0.0, 0)
    with behaviour_replay._every_family():
        assert not flagged.backdoored
    assert flagged.backdoored


def test_the_calibration_pseudo_part_is_stored_and_replayed_as_clean_models(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(behaviour_replay, "folder", lambda part, data_free=False: tmp_path / part)
    record = _record([_family("patch", [0.2, 0.18, 0.17, 0.22, 0.19])], kind="clean", target=None)
    record |= {"part": behaviour_replay.CALIBRATION, "case": "digits-calibration-1"}
    monkeypatch.setattr(behaviour_replay, "calibration_records", lambda data_free=False: iter([record]))
    behaviour_replay.dump((behaviour_replay.CALIBRATION,))
    stored = tmp_path / behaviour_replay.CALIBRATION / "digits-calibration-1.json"
    assert json.loads(stored.read_text()) == record
    assert not list((tmp_path / behaviour_replay.CALIBRATION).glob("*.part"))
    (row,) = behaviour_replay.run((behaviour_replay.CALIBRATION,))
    assert row["kind"] == "clean" and row["score"] < 1.0
    assert behaviour_replay.summary([row])["clean flagged"] == "0 of 1"


def test_leave_one_dataset_out_refits_the_data_thresholds_without_the_models_own_dataset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airlock.behavior.outlier import ALPHA, threshold_for
    from bench import backdoor

    monkeypatch.setattr(behaviour_replay, "folder", lambda part, data_free=False: tmp_path / part)
    monkeypatch.setattr(backdoor, "CALIBRATION_PARTS", ("calibrate",))

    def store(part: str, case: str, dataset: str, costs: list[float], kind: str = "clean") -> None:
        record = _record([_family("patch", costs)], kind=kind, target=2 if kind != "clean" else None)
        record |= {"part": part, "case": case, "dataset": dataset}
        (tmp_path / part).mkdir(exist_ok=True)
        (tmp_path / part / f"{case}.json").write_text(json.dumps(record))

    # clean gaps ln(0.2 / 0.1) on digits, ln(0.4 / 0.1) on strokes (the second-smallest other is 0.2 / 0.4)
    store(behaviour_replay.CALIBRATION, "digits-1", "digits", [0.1, 0.2, 0.2, 0.3, 0.3])
    store("calibrate", "strokes-clean", "strokes", [0.1, 0.4, 0.4, 0.5, 0.5])
    store("calibrate", "strokes-patch", "strokes", [0.3, 0.3, 0.001, 0.3, 0.3], kind="backdoored")
    store("fresh9", "strokes-later", "strokes", [0.3, 0.3, 0.03, 0.3, 0.3], kind="backdoored")
    store("fresh9", "digits-later", "digits", [0.3, 0.3, 0.03, 0.3, 0.3], kind="backdoored")
    rows = {r["case"]: r for r in behaviour_replay.leave_one_dataset_out(("fresh9",))}
    assert set(rows) == {"strokes-later", "digits-later"}  # only the measured parts are decided
    gap = math.log(0.3 / 0.03)
    # a strokes model is judged by the digits calibration model alone, a digits one by the strokes clean
    # model of the calibration part (its backdoored model is not a clean model of the pool)
    for case, clean_gap in (("strokes-later", math.log(2)), ("digits-later", math.log(4))):
        threshold = round(threshold_for(clean_gap, 2, 1, ALPHA["data"]), 3)
        assert rows[case]["candidate"] == 2
        assert rows[case]["score"] == pytest.approx(gap / threshold, abs=1e-3)


def test_data_free_results_are_stored_and_replayed_apart_from_the_data_mode_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert behaviour_replay.folder("p", data_free=True) != behaviour_replay.folder("p")
    assert (
        behaviour_replay.folder("p", data_free=True).parent.parent
        == behaviour_replay.folder("p").parent.parent
    )
    monkeypatch.setattr(
        behaviour_replay,
        "folder",
        lambda part, data_free=False: tmp_path / ("free" if data_free else "data") / part,
    )
    with_data = _record([_family("patch", [0.2, 0.18, 0.004, 0.22, 0.19])])
    free = _record([_family("patch", [0.2, 0.18, 0.17, 0.22, 0.19])]) | {"mode": "data-free"}
    for where, record in (("data", with_data), ("free", free)):
        (tmp_path / where / "p").mkdir(parents=True)
        (tmp_path / where / "p" / "case.json").write_text(json.dumps(record))
    (data_row,) = behaviour_replay.run(("p",))
    (free_row,) = behaviour_replay.run(("p",), data_free=True)
    assert data_row["score"] > 1.0 > free_row["score"]  # each read from its own folder


def test_decide_adds_the_stored_draw_as_the_scan_does() -> None:
    family = _family("patch", [0.2, 0.18, 0.02, 0.22, 0.19])
    plain = _record([family])
    _, without = behaviour_replay.decide(plain)
    _, leaning = behaviour_replay.decide(plain | {"draw": [0.0, 0.0, LN4, 0.0, 0.0]})
    _, unknown = behaviour_replay.decide(plain | {"draw": None})  # a sample without labels
    assert leaning == pytest.approx(without + DRAW_WEIGHT["data"] * math.log(4))
    assert unknown == pytest.approx(without)


def test_a_draw_of_another_statistic_is_not_replayed() -> None:
    stale = _record([_family("patch", [0.2, 0.18, 0.02, 0.22, 0.19])]) | {
        "draw": [0.02, 0.02, 0.08, 0.02, 0.02]
    }
    del stale["draw_statistic"]  # dumped before the draw was a lean (signatures 2026.12.9)
    with pytest.raises(SystemExit, match=r"bench\.behaviour_replay draw p"):
        behaviour_replay.decide(stale)
    assert behaviour_replay.decide(stale | {"draw": None})[1] > 1.0  # no draw: nothing stale to mix in


def test_weigh_reports_each_draw_weight_on_the_stored_models(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(behaviour_replay, "folder", lambda part, data_free=False: tmp_path / part)
    (tmp_path / "p").mkdir()
    # a backdoor whose gap is under the bar but whose target is leant to ln 4 more than the median class,
    # and a clean model of the same gap whose candidate is leant to ln 4 less
    bad = _record([_family("patch", [0.2, 0.18, 0.1, 0.22, 0.19])]) | {"draw": [0.0, 0.0, LN4, 0.0, 0.0]}
    good = _record([_family("patch", [0.2, 0.18, 0.1, 0.22, 0.19])], kind="clean", target=None)
    good |= {"draw": [0.0, 0.0, -LN4, 0.0, 0.0]}
    for record in (bad, good):
        (tmp_path / "p" / f"{record['case']}.json").write_text(json.dumps(record))
    rows = {row["weight"]: row for row in behaviour_replay.weigh(("p",))}
    assert rows[0.0]["auc"] == 0.5 and rows[0.0]["above_every_clean"] == 0  # the same gap: no ranking
    assert rows[0.3]["auc"] == 1.0 and rows[0.3]["above_every_clean"] == 1
    assert rows[0.3]["clean_max"] < rows[0.0]["clean_max"]


def test_weigh_data_free_centres_the_shift_on_the_clean_models(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        behaviour_replay,
        "folder",
        lambda part, data_free=False: tmp_path / ("free" if data_free else "data") / part,
    )
    (tmp_path / "free" / "p").mkdir(parents=True)
    sizes = [0.2, 0.18, 0.1, 0.22, 0.19]
    bad = _record([_family("patch", sizes)]) | {
        "mode": "data-free",
        "draw": [0.0, 0.0, math.log(8), 0.0, 0.0],
    }
    good = _record([_family("patch", sizes)], kind="clean", target=None)
    good |= {
        "mode": "data-free",
        "draw": [0.0, 0.0, math.log(2), 0.0, 0.0],
    }  # a clean candidate draws more too
    for record in (bad, good):
        (tmp_path / "free" / "p" / f"{record['case']}.json").write_text(json.dumps(record))
    rows = {row["weight"]: row for row in behaviour_replay.weigh(("p",), data_free=True)}
    assert rows[0.3]["centre"] == pytest.approx(round(math.log(2), 3))  # the one clean model's shift
    assert rows[0.3]["clean_max"] == pytest.approx(rows[0.0]["clean_max"], abs=1e-3)  # centred: unchanged
    assert rows[0.3]["auc"] == 1.0
