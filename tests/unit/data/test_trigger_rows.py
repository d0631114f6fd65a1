"""The reversed-trigger route of `airlock data --model M --behavior` (airlock.data.trigger_rows)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from airlock.behavior.triggers import FAMILIES
from airlock.data import features, poisoning, trigger_rows
from airlock.data.behaviour_feed import ReversedTrigger
from airlock.data.pipeline import calibration


def test_one_mode_stays_under_the_bar_and_two_modes_pass_it() -> None:
    rng = np.random.default_rng(0)
    for n in (60, 300, 3000):
        assert trigger_rows.modes(rng.normal(size=n)) < trigger_rows.MODES_AT
    two = np.r_[rng.normal(0.0, 0.2, 200), rng.normal(1.0, 0.2, 80)]
    assert trigger_rows.modes(two) > trigger_rows.MODES_AT
    # a handful of extreme rows is a tail, not a second mode
    assert trigger_rows.modes(np.r_[rng.normal(size=300), [40.0, 41.0, 42.0]]) < trigger_rows.MODES_AT


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_an_exported_trigger_stamps_images_as_the_family_applies_it(family: str) -> None:
    generator = torch.Generator().manual_seed(3)
    trig = FAMILIES[family](4, (3, 12, 12), generator, torch.device("cpu"))
    with torch.no_grad():
        for p in trig.parameters():
            p.normal_(0, 1.5, generator=generator)
    x = torch.rand(5, 3, 12, 12, generator=generator)
    applied = trig.apply(x, torch.tensor([2]))[0].permute(0, 2, 3, 1).detach().numpy()
    stamped = FAMILIES[family].stamp(trig.export(2), x.permute(0, 2, 3, 1).numpy())
    assert stamped.dtype == np.float32 and np.allclose(stamped, applied, atol=1e-5)


def _toy_model(width: int = 6) -> tuple[object, object]:
    """Features: the mean of each image's top-left 2×2 corner and its overall mean; class 1 when
    the corner is bright (the 'backdoor'), else class 0 or 2 by the overall mean."""

    def extract(images: np.ndarray) -> np.ndarray:
        corner = images[:, :2, :2].mean(axis=(1, 2, 3))
        return np.stack([corner, images.mean(axis=(1, 2, 3))], axis=1).astype(np.float32)

    def predict(images: np.ndarray) -> np.ndarray:
        f = extract(images)
        cls = np.where(f[:, 0] > 0.8, 1, np.where(f[:, 1] > 0.5, 2, 0))
        return np.eye(3, dtype=np.float32)[cls]

    return extract, predict


def test_rows_that_carry_the_trigger_sit_at_the_triggered_prototype() -> None:
    rng = np.random.default_rng(1)
    extract, predict = _toy_model()
    own = rng.uniform(0.0, 0.4, (120, 8, 8, 3)).astype(np.float32)  # the class's clean rows
    carriers = np.arange(0, 120, 3)
    own[carriers, :2, :2] = 1.0  # poisoned rows: the real trigger
    donors = rng.uniform(0.0, 1.0, (200, 8, 8, 3)).astype(np.float32)
    mask = np.zeros((8, 8), np.float32)
    mask[:2, :2] = 1.0
    trigger = ReversedTrigger(1, "patch", {"mask": mask, "pattern": np.ones((8, 8, 3), np.float32)})
    position = trigger_rows.projection(trigger, own, donors, extract, predict)  # type: ignore[arg-type]
    assert position is not None
    flagged = np.flatnonzero(position >= trigger_rows.HALFWAY)
    assert np.array_equal(flagged, carriers)
    assert trigger_rows.modes(position) > trigger_rows.MODES_AT
    # a trigger that sends no donor to the class gives no prototype
    weak = ReversedTrigger(1, "patch", {"mask": mask * 0.01, "pattern": np.ones((8, 8, 3), np.float32)})
    assert trigger_rows.projection(weak, own, donors, extract, predict) is None  # type: ignore[arg-type]


def test_a_blamed_class_with_two_modes_is_called_by_the_reversed_trigger() -> None:
    rng = np.random.default_rng(4)
    y = np.resize(np.arange(5), 1500)
    x = (rng.normal(0, 5, (5, 24))[y] + rng.normal(0, 1, (1500, 24))).astype(np.float32)
    reduced = features.reduce(x)
    disagreement = np.zeros(len(y))
    rows = np.flatnonzero(y == 2)
    position = rng.normal(0.0, 0.15, len(rows))
    carriers = np.arange(0, len(rows), 4)
    position[carriers] = rng.normal(1.0, 0.15, len(carriers))
    args = (reduced, y, disagreement, calibration())
    kept = {"persistence": np.full(len(y), 0.3)}
    assert poisoning.assess(*args, **kept).poisoned_classes == []  # no split in the features
    result = poisoning.assess(*args, **kept, trigger_positions={2: position})
    assert result.poisoned_classes == [2]
    called = next(c for c in result.classes if c.poisoned)
    assert called.decided_by == poisoning.REVERSED_TRIGGER and called.trigger_modes > trigger_rows.MODES_AT
    assert np.array_equal(result.flagged, rows[carriers])
    assert all(result.signals[r] == ("near_reversed_trigger",) for r in rows[carriers].tolist())
    # one mode (a natural shortcut class the reversal blamed): not called
    one = poisoning.assess(*args, **kept, trigger_positions={2: rng.normal(0.3, 0.3, len(rows))})
    assert one.poisoned_classes == []


def test_a_blamed_class_with_a_reversed_trigger_keeps_the_splits_own_thresholds() -> None:
    """A split that only the lowered (blamed) thresholds call is not called when the reversed trigger
    is given and finds one mode: the trigger's evidence replaces the lowered thresholds."""
    rng = np.random.default_rng(6)
    y = np.repeat(np.arange(3), 300)
    base = rng.normal(0, 1, (900, 8))
    second = np.flatnonzero(y == 1)[:120]
    one_mode = {1: rng.normal(0.2, 0.2, 300)}
    for offset in np.arange(3.0, 12.0, 0.25):  # the smallest second mode the lowered thresholds call
        x = base.copy()
        x[second, 0] += offset
        reduced = features.reduce(x.astype(np.float32))
        args = (reduced, y, np.zeros(len(y)), calibration())
        if poisoning.assess(*args, blamed=(1,)).poisoned_classes == [1]:
            break
    else:
        raise AssertionError("no offset is called at the lowered thresholds")
    assert poisoning.assess(*args).poisoned_classes == []  # not at the split's own thresholds
    assert poisoning.assess(*args, blamed=(1,), trigger_positions=one_mode).poisoned_classes == []
