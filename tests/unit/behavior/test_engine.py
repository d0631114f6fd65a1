"""The batched K-Arm engine: finds the planted class, drops the others, is seeded, honours deadlines."""

from __future__ import annotations

import dataclasses
import time

import pytest

torch = pytest.importorskip("torch")

from airlock.behavior.engine import FamilyResult, Schedule, reverse
from airlock.behavior.outlier import gap
from airlock.behavior.triggers import FAMILIES, BlendTrigger, PatchTrigger, WarpTrigger

from .toy import CLASSES, TARGET, Toy, images

pytestmark = pytest.mark.torch
QUICK = Schedule(batch=16, explore=20, round=10, keep=2, max_steps=80)


@pytest.fixture(scope="module", autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


def _patch(seed: int = 0, schedule: Schedule = QUICK, deadline: float | None = None) -> FamilyResult:
    model = Toy()
    x, _ = images()
    with torch.no_grad():
        predicted = model(x).argmax(dim=-1)
    return reverse(model, PatchTrigger, x, predicted, CLASSES, schedule, seed=seed, deadline=deadline)


def test_the_planted_class_needs_by_far_the_smallest_patch() -> None:
    result = _patch()
    costs = {c.label: c.cost for c in result.classes}
    suspect, value = gap(costs, {c.label for c in result.classes if c.reached})
    assert suspect == TARGET
    assert value > 1.0
    trigger = next(c for c in result.classes if c.label == TARGET)
    assert trigger.reached and trigger.asr > 0.5
    mask = trigger.arrays["mask"]
    assert mask.shape == (8, 8)
    assert mask[:2, :2].mean() > 4 * mask[2:, 2:].mean()  # the mask sits on the planted corner


def test_k_arm_halves_the_classes_then_keeps_only_the_promising_ones() -> None:
    result = _patch()
    steps = {c.label: c.steps for c in result.classes}
    assert steps[TARGET] > QUICK.explore
    half = (CLASSES + 1) // 2
    assert sorted(steps.values()).count(QUICK.explore // 2) == CLASSES - half
    assert sorted(steps.values()).count(QUICK.explore) == half - QUICK.keep


def test_the_same_seed_gives_the_same_triggers() -> None:
    first, second = _patch(seed=3), _patch(seed=3)
    assert [(c.cost, c.asr, c.steps) for c in first.classes] == [
        (c.cost, c.asr, c.steps) for c in second.classes
    ]


def test_a_passed_deadline_stops_at_once_and_says_so() -> None:
    result = _patch(deadline=time.monotonic() - 1)
    assert not result.complete
    assert result.steps == 1
    assert all(not c.reached for c in result.classes)


@pytest.mark.parametrize("family", [PatchTrigger, BlendTrigger, WarpTrigger])
def test_every_family_keeps_images_in_range_and_shapes(family: type) -> None:
    x, _ = images(6)
    trigger = family(CLASSES, (3, 8, 8), torch.Generator().manual_seed(0), torch.device("cpu"))
    rows = torch.tensor([0, 3])
    out = trigger.apply(x, rows)
    assert out.shape == (2, 6, 3, 8, 8)
    assert float(out.detach().min()) >= 0.0 and float(out.detach().max()) <= 1.0
    assert trigger.cost(rows).shape == (2,)
    assert set(trigger.export(3)) <= {"mask", "pattern", "delta", "displacement"}
    assert FAMILIES[trigger.name] is family


def test_a_quiet_run_stops_one_round_after_exploration_and_a_loud_one_does_not() -> None:
    quiet = _patch(schedule=dataclasses.replace(QUICK, quiet=100.0))  # every gap counts as quiet
    assert quiet.steps == QUICK.explore + QUICK.round
    loud = _patch(schedule=dataclasses.replace(QUICK, quiet=0.5))  # the planted gap is above 1
    plain = _patch()
    assert [(c.cost, c.steps) for c in loud.classes] == [(c.cost, c.steps) for c in plain.classes]
