"""The poisoning detector on generated digit sets in the tiny model's feature space: floors on recall
and precision for every attack at 1%, 5% and 10%, and nothing called on the clean set."""

from __future__ import annotations

import numpy as np
import pytest

from airlock.analysis.neighbours import label_disagreement, nearest_neighbours
from airlock.data import features, poisoning
from airlock.data.pipeline import KNN_DIMENSIONS, NEIGHBOURS, calibration
from fixtures import datasets


def _assess(x: np.ndarray, y: np.ndarray, **kwargs) -> poisoning.PoisoningResult:
    reduced = features.reduce(x)
    neighbours, _ = nearest_neighbours(reduced[:, :KNN_DIMENSIONS], NEIGHBOURS)
    return poisoning.assess(reduced, y, label_disagreement(neighbours, y), calibration(), **kwargs)


@pytest.mark.slow  # model_features trains the tiny digit model on first use
@pytest.mark.parametrize("attack, rate", [(a, r) for a in datasets.ATTACKS for r in datasets.RATES])
def test_poisoned_class_and_samples_are_found(generated, model_features, attack: str, rate: float) -> None:
    npz = generated(datasets.POISONED[(attack, rate)])
    result = _assess(*model_features(npz))
    truth = set(datasets.truth(npz).tolist())
    flagged = set(result.flagged.tolist())
    recall = len(flagged & truth) / len(truth)
    precision = len(flagged & truth) / max(len(flagged), 1)
    assert result.poisoned_classes == [datasets.TARGET]
    assert recall >= (0.8 if rate < 0.05 else 0.95), recall
    assert precision >= 0.9, precision


@pytest.mark.slow
def test_clean_set_calls_no_class_and_flags_at_most_one_percent(generated, model_features) -> None:
    x, y = model_features(generated(datasets.clean_digits))
    result = _assess(x, y)
    assert result.poisoned_classes == []
    assert len(result.flagged) <= 0.01 * len(y)
    assert len(result.scores) == len(y) and ((result.scores >= 0) & (result.scores <= 1)).all()


def test_the_poison_may_be_the_larger_cluster() -> None:
    """Half of class 0 (and more) is poison taken from class 1: the foreign cluster is flagged, not the smaller."""
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 6, (4, 16))
    y = np.repeat(np.arange(4), 200)
    x = centres[y] + rng.normal(0, 1, (800, 16))
    poison = np.arange(200, 320)  # 120 samples of class 1 relabelled 0: class 0 is 200 clean + 120 poison
    y[poison] = 0
    x[poison] += 0.5
    keep = np.r_[np.arange(0, 80), np.arange(200, 800)]  # class 0 keeps only 80 clean samples: poison is 60%
    result = _assess(x[keep].astype(np.float32), y[keep])
    flagged = keep[result.flagged]
    assert result.poisoned_classes == [0]
    # every poison row, and at most a few of the 80 clean rows (the clean core's own far tail)
    assert set(poison.tolist()) <= set(flagged.tolist())
    assert len(set(flagged.tolist()) - set(poison.tolist())) <= 6


def test_a_blamed_class_is_judged_at_lower_thresholds() -> None:
    cal = calibration()
    assert cal.blamed_factor < 1
    rng = np.random.default_rng(1)
    x = rng.normal(0, 1, (600, 8)).astype(np.float32)
    y = np.repeat(np.arange(3), 200)
    result = _assess(x, y, blamed=(1,))
    assert result.poisoned_classes == []  # pure noise stays clean even for a blamed class


def test_published_spectral_signature_removes_a_fixed_share_of_every_class() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(0, 1, (1000, 8))
    y = np.repeat(np.arange(4), 250)
    flagged = poisoning.published_spectral_signature(x, y, epsilon=0.1)
    assert len(flagged) == 4 * round(1.5 * 0.1 * 250)
    assert np.bincount(y[flagged]).tolist() == [38, 38, 38, 38]


def _compact_poison(
    seed: int, share: float, rows: int = 1500, trigger: float = 4.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A model-feature space after training on poison: triggered rows of other classes sit *inside*
    the target class as a compact cluster near its clean rows (no label disagreement), `trigger`
    apart along the trigger's own three feature directions."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 5, (5, 24))
    y = np.resize(np.arange(5), rows)
    x = centres[y] + rng.normal(0, 1, (rows, 24))
    others = np.flatnonzero(y != 2)
    poison = np.sort(rng.choice(others, size=int(share * rows), replace=False))
    y[poison] = 2
    x[poison] = centres[2] + rng.normal(0, 1, (len(poison), 24)) * 0.6
    x[poison, :3] += trigger  # the trigger's own feature direction, close to the clean rows
    return x.astype(np.float32), y, poison


def _persistence_for(y: np.ndarray, poison: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = rng.uniform(0.1, 0.5, len(y))
    out[poison] = rng.uniform(0.5, 0.95, len(poison))
    return out


@pytest.mark.parametrize("share", [0.02, 0.1])  # 10% poison is a third of the target class
def test_a_compact_poison_cluster_in_model_features_is_found_row_by_row(share: float) -> None:
    x, y, poison = _compact_poison(3, share)
    result = _assess(x, y, persistence=_persistence_for(y, poison, 3))
    flagged = set(result.flagged.tolist())
    hit = len(flagged & set(poison.tolist()))
    assert result.poisoned_classes == [2]
    assert hit / len(poison) >= 0.95 and hit / max(len(flagged), 1) >= 0.9
    target = next(c for c in result.classes if c.poisoned)
    assert target.decided_by in ("compact (model features)", "apart")
    assert set(result.signals) == flagged
    assert all({"outside_clean_core", "suspect_cluster"} & set(result.signals[r]) for r in flagged)
    assert np.mean(["outside_clean_core" in result.signals[r] for r in flagged]) > 0.9
    assert np.mean(["trigger_persistence" in result.signals[r] for r in flagged]) > 0.5


def test_poison_close_to_the_clean_rows_is_flagged_by_its_cluster_where_the_core_keeps_it() -> None:
    # the trigger moves its rows only 2.5 apart: most stay inside the clean core's cut, so the core
    # distance alone found under half of them; the suspect cluster holds them
    x, y, poison = _compact_poison(3, 0.1, trigger=2.5)
    result = _assess(x, y, persistence=_persistence_for(y, poison, 3))
    flagged = set(result.flagged.tolist())
    hit = len(flagged & set(poison.tolist()))
    assert result.poisoned_classes == [2]
    assert hit / len(poison) >= 0.95 and hit / len(flagged) >= 0.9
    by_cluster_only = [r for r in flagged if "outside_clean_core" not in result.signals[r]]
    assert len(by_cluster_only) > len(poison) / 3
    assert all("suspect_cluster" in result.signals[r] for r in by_cluster_only)


def test_a_clean_model_feature_set_is_not_called() -> None:
    rng = np.random.default_rng(4)
    centres = rng.normal(0, 5, (5, 24))
    y = np.resize(np.arange(5), 1500)
    x = (centres[y] + rng.normal(0, 1, (1500, 24))).astype(np.float32)
    result = _assess(x, y, persistence=rng.uniform(0.1, 0.6, 1500))
    assert result.poisoned_classes == [] and len(result.flagged) == 0 and result.signals == {}


def _two_mode_class(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Five classes; class 2 has two compact modes (a third of it in a mode of its own), the way a
    clean texture class can, or the way a learned trigger pulls poison inside its target."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 5, (5, 24))
    y = np.resize(np.arange(5), 1500)
    x = centres[y] + rng.normal(0, 1, (1500, 24))
    mode = np.flatnonzero(y == 2)[::3]
    x[mode, :3] += 4.0
    return x.astype(np.float32), y, mode


def test_a_clean_class_with_two_modes_is_not_called_without_a_behavioural_difference() -> None:
    x, y, mode = _two_mode_class(6)
    rng = np.random.default_rng(6)
    same = rng.uniform(0.1, 0.6, len(y))  # both modes keep their label alike under mixing
    result = _assess(x, y, persistence=same)
    assert result.poisoned_classes == [] and len(result.flagged) == 0
    firmer = same.copy()
    firmer[mode] = rng.uniform(0.6, 0.95, len(mode))  # the small mode keeps its label: a trigger
    called = _assess(x, y, persistence=firmer)
    assert called.poisoned_classes == [2]
    assert len(np.intersect1d(called.flagged, mode)) >= 0.9 * len(mode)


def test_a_persistence_gap_too_small_to_orient_the_split_does_not_call_it() -> None:
    """A clean class of two modes whose small mode keeps its label a little more under mixing (a gap
    of about 0.12, as clean strokes and glyph classes reach by chance) is not called: under
    PERSISTENCE_GAP the gap cannot tell which half would be the poison. At 0.25 it is called."""
    x, y, mode = _two_mode_class(6)
    rng = np.random.default_rng(6)
    base = rng.uniform(0.3, 0.5, len(y))
    for lift, called in ((0.12, False), (0.25, True)):
        persist = base.copy()
        persist[mode] += lift
        result = _assess(x, y, persistence=persist)
        split = next(c for c in result.classes if c.label == 2)
        assert (split.persistence_gap >= poisoning.PERSISTENCE_GAP) is called
        assert (result.poisoned_classes == [2]) is called
    assert poisoning.BEHAVIOUR_GAP == poisoning.PERSISTENCE_GAP


def _relabelled(
    seed: int, rows: int = 1500
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rows of other classes relabelled to class 2 whose trigger the model did not learn: the model
    gives their label 2 little probability and reads them as the classes they came from."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 5, (5, 24))
    y = np.resize(np.arange(5), rows)
    read = y.copy()
    x = centres[y] + rng.normal(0, 1, (rows, 24))
    poison = np.sort(rng.choice(np.flatnonzero(y != 2), size=60, replace=False))
    y[poison] = 2
    own = rng.uniform(0.9, 1.0, rows)
    own[poison] = rng.uniform(0.0, 0.2, len(poison))
    return x.astype(np.float32), y, poison, own, read


def test_relabelled_rows_the_model_reads_as_another_class_are_found() -> None:
    x, y, poison, own, read = _relabelled(7)
    result = _assess(x, y, persistence=np.full(len(y), 0.3), confidence=own, predicted=read)
    assert result.poisoned_classes == [2]
    called = next(c for c in result.classes if c.poisoned)
    assert called.misread_spread > 3.5  # read as the four classes the rows came from
    hit = len(np.intersect1d(result.flagged, poison))
    assert hit >= 0.9 * len(poison) and hit >= 0.9 * len(result.flagged)
    marked = [r for r in poison.tolist() if "model_reads_other_class" in result.signals.get(r, ())]
    assert len(marked) >= 0.9 * len(poison)


def test_the_model_reading_rows_as_another_class_calls_a_class_the_split_does_not() -> None:
    """No split in the features (the poison sits among the class's own rows), some neighbours
    disagree: the model's reading decides, and the class says so."""
    rng = np.random.default_rng(9)
    y = np.resize(np.arange(5), 1500)
    x = (rng.normal(0, 5, (5, 24))[y] + rng.normal(0, 1, (1500, 24))).astype(np.float32)
    poison = np.flatnonzero(y == 2)[:60]
    disagreement = np.zeros(len(y))
    disagreement[poison] = 0.6
    own = np.full(len(y), 0.95)
    own[poison] = 0.1
    read = y.copy()
    read[poison] = np.resize([0, 1, 3, 4], len(poison))  # the classes the relabelled rows came from
    reduced = features.reduce(x)
    args = (reduced, y, disagreement, calibration())
    model = {"persistence": np.full(len(y), 0.3), "confidence": own}
    assert poisoning.assess(*args, persistence=model["persistence"]).poisoned_classes == []
    result = poisoning.assess(*args, **model, predicted=read)
    assert result.poisoned_classes == [2]
    assert next(c for c in result.classes if c.poisoned).decided_by == poisoning.MISLABELLED
    assert np.array_equal(result.flagged, poison)
    # the same rows read as one neighbour class: a confusable pair of clean classes, not relabelling
    neighbour = np.where(np.isin(np.arange(len(y)), poison), 3, y)
    assert poisoning.assess(*args, **model, predicted=neighbour).poisoned_classes == []


def test_an_underfit_model_misreading_every_class_calls_no_class() -> None:
    rng = np.random.default_rng(8)
    y = np.resize(np.arange(5), 1500)
    x = (rng.normal(0, 5, (5, 24))[y] + rng.normal(0, 1, (1500, 24))).astype(np.float32)
    disagreement = np.where(rng.uniform(size=len(y)) < 0.3, 0.6, 0.0)  # neighbours disagree everywhere
    own = np.where(disagreement > 0, 0.2, 0.9)  # and the model misreads the same rows
    read = np.where(disagreement > 0, (y + rng.integers(1, 5, len(y))) % 5, y)  # as any other class
    result = poisoning.assess(
        features.reduce(x),
        y,
        disagreement,
        calibration(),
        persistence=np.full(len(y), 0.3),
        confidence=own,
        predicted=read,
    )
    assert not any(c.decided_by == poisoning.MISLABELLED for c in result.classes)
    assert min(c.misread_spread for c in result.classes) > 2.5  # each spread wide, none ahead of the rest


def test_a_persistent_half_is_the_suspect_even_where_the_clean_half_has_more_foreign_neighbours() -> None:
    """A learned trigger pulls its rows together inside the target class and leaves the class's clean
    rows nearer other classes: the half that keeps its label under mixing is flagged, not the half
    whose neighbours disagree more."""
    x, y, mode = _two_mode_class(10)
    rng = np.random.default_rng(10)
    rest = np.setdiff1d(np.flatnonzero(y == 2), mode)
    reduced = features.reduce(x)
    neighbours, _ = nearest_neighbours(reduced[:, :KNN_DIMENSIONS], NEIGHBOURS)
    disagreement = label_disagreement(neighbours, y)
    disagreement[rest] = np.maximum(disagreement[rest], 0.3)  # the clean half sits nearer other classes
    persist = rng.uniform(0.1, 0.5, len(y))
    persist[mode] = rng.uniform(0.6, 0.95, len(mode))
    result = poisoning.assess(reduced, y, disagreement, calibration(), persistence=persist)
    assert result.poisoned_classes == [2]
    assert len(np.intersect1d(result.flagged, mode)) >= 0.9 * len(mode)
    assert len(np.intersect1d(result.flagged, rest)) <= 0.05 * len(rest)


def test_a_class_whose_bulk_persists_beside_a_hard_minority_is_not_called() -> None:
    """Five classes; a small mode of class 2 (an eighth of it) loses its label under mixing, so the
    rest of the class looks persistent beside it: the bulk of a class is not its poison."""
    rng = np.random.default_rng(11)
    centres = rng.normal(0, 5, (5, 24))
    y = np.resize(np.arange(5), 1500)
    x = centres[y] + rng.normal(0, 1, (1500, 24))
    minority = np.flatnonzero(y == 2)[::8]
    x[minority, :3] += 4.0
    persist = rng.uniform(0.1, 0.5, len(y))
    bulk = np.setdiff1d(np.flatnonzero(y == 2), minority)
    persist[bulk] = rng.uniform(0.5, 0.9, len(bulk))
    persist[minority] = rng.uniform(0.0, 0.1, len(minority))
    result = _assess(x.astype(np.float32), y, persistence=persist)
    split = next(c for c in result.classes if c.label == 2)
    assert split.persistence_gap >= poisoning.BEHAVIOUR_GAP and split.suspect_share > poisoning.MAX_SHARE
    assert result.poisoned_classes == [] and len(result.flagged) == 0


def _foreign_minority(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Five classes; 50 rows labelled 2 sit among class 3 (a foreign cluster in class 2)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 6, (5, 16))
    y = np.resize(np.arange(5), 1500)
    x = centres[y] + rng.normal(0, 1, (1500, 16))
    foreign = np.flatnonzero(y == 2)[:50]
    x[foreign] = centres[3] + rng.normal(0, 1, (50, 16))
    return x.astype(np.float32), y, foreign


def test_a_foreign_cluster_the_model_reads_as_one_neighbour_is_not_called() -> None:
    x, y, foreign = _foreign_minority(12)
    own = np.full(len(y), 0.95)
    own[foreign] = 0.2
    model = {"persistence": np.full(len(y), 0.3), "confidence": own}
    assert _assess(x, y, **model).poisoned_classes == [2]  # without the model's reading: foreign
    neighbour = y.copy()
    neighbour[foreign] = 3  # hard rows the model confuses with their one neighbour class
    kept = _assess(x, y, **model, predicted=neighbour)
    assert kept.poisoned_classes == [] and len(kept.flagged) == 0
    drawn = y.copy()
    drawn[foreign] = np.resize([0, 1, 3, 4], len(foreign))  # relabelled rows read as their classes
    called = _assess(x, y, **model, predicted=drawn)
    assert called.poisoned_classes == [2]
    assert len(np.intersect1d(called.flagged, foreign)) >= 0.9 * len(foreign)


def test_a_half_the_model_reads_far_more_firmly_is_called_where_persistence_does_not_differ() -> None:
    """A warp or a faint blend does not survive mixing, but the model that learned it reads its rows
    past the class's clean rows: the margin of the own label decides the split."""
    x, y, mode = _two_mode_class(13)
    rng = np.random.default_rng(13)
    same = rng.uniform(0.1, 0.6, len(y))
    margin = rng.normal(4.0, 1.0, len(y))
    assert _assess(x, y, persistence=same, margin=margin).poisoned_classes == []
    firmer = margin.copy()
    firmer[mode] += 3.0
    result = _assess(x, y, persistence=same, margin=firmer)
    assert result.poisoned_classes == [2]
    called = next(c for c in result.classes if c.poisoned)
    assert called.decided_by == poisoning.COMPACT and called.margin_gap >= poisoning.MARGIN_GAP
    assert len(np.intersect1d(result.flagged, mode)) >= 0.9 * len(mode)
    assert len(np.setdiff1d(result.flagged, mode)) <= 0.05 * len(mode)
    assert np.mean(["read_firmly" in result.signals[r] for r in result.flagged]) > 0.5
