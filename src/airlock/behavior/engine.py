"""The trigger-reversal engine: every candidate class optimised in one batch, on a K-Arm schedule.

Neural Cleanse (Wang et al., S&P 2019) reverses, for each class t in turn, the smallest trigger that
sends clean inputs of other classes to t, with a Lagrange weight λ on the trigger's size that rises
while the attack succeeds and falls while it does not. A backdoor target needs a far smaller
trigger than any other class. Done one class at a time with the paper's schedule this costs
minutes per model. Here:

- all K candidate triggers are optimised together: one forward/backward pass over K×B triggered
  copies of one shared mini-batch per step (a class's own samples are masked out of its loss); the
  loaders (`airlock.models`) freeze the model's parameters, so only the triggers get gradients;
- a K-Arm-style schedule (Shen et al., ICML 2021) with successive halving: halfway through the
  exploration phase the less promising half of the classes is set aside, and at its end all but the
  `keep` most promising (ranked by the smallest trigger reached at the target success rate); the
  rest keep the size they reached (an upper bound of their true minimum, which is all the outlier
  test needs from them). The run stops early once the leading class stays the same and its gap to
  the next (the outlier statistic) moves by less than `settle` in a round, or once that gap stays
  below `quiet` at two checks in a row whichever class leads (nothing stands out: on a clean model
  the leaders of a family swap among near-equal classes and would otherwise use the whole budget),
  or when the step budget or the user's deadline is reached. Stopping depends on the evidence and
  the step count only, never on the clock (except that deadline, which then makes the run
  incomplete), so a seed gives one result;
- the attack success rate of the final triggers is measured on at most `check_rows` inputs of other
  classes (a reported rate, not part of the decision).

The engine knows nothing of files or reports: a model is a callable from images in [0, 1] to
logits, and the result is plain values.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from airlock.behavior.outlier import gap
from airlock.behavior.progress import Progress
from airlock.behavior.triggers import TriggerFamily

Model = Callable[[torch.Tensor], torch.Tensor]

LAMBDA_INIT = {"patch": 1.0, "blend": 2.0, "warp": 0.05}


@dataclass(frozen=True)
class Schedule:
    batch: int = 24  # clean images per step, shared by every class
    explore: int = 40  # steps of exploration: all classes for half of it, the better half for the rest
    round: int = 15  # after exploration, check every this many steps whether the leaders settled
    keep: int = 3  # classes still optimised after exploration
    max_steps: int = 100
    lr: float = 0.25
    asr_target: float = 0.9  # a trigger counts once it sends this share of a batch to its class
    lambda_up: float = 1.5
    lambda_down: float = 1.5**1.5
    patience: int = 3  # steps between adjustments of λ
    settle: float = 0.05  # stop once the leading class stays and its gap moves less than this in a round
    quiet: float = 0.0  # … or once the gap stays below this at two checks in a row (no outlier to follow)
    check_rows: int = 240  # inputs of other classes the final triggers' success rate is measured on


@dataclass(frozen=True)
class ClassTrigger:
    label: int
    cost: float  # size of the smallest successful trigger (or of the last one, if none succeeded)
    reached: bool  # a trigger reached the target success rate on a batch
    asr: float  # success rate of that trigger on every sample of other classes
    steps: int  # optimisation steps this class received
    arrays: dict[str, np.ndarray] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class FamilyResult:
    family: str
    classes: tuple[ClassTrigger, ...]
    steps: int
    complete: bool  # False when the deadline cut the run short
    seconds: float
    batch: int = 0  # clean images per step


def reverse(
    model: Model,
    family_type: type[TriggerFamily],
    images: torch.Tensor,
    labels: torch.Tensor,
    classes: int,
    schedule: Schedule,
    *,
    seed: int,
    deadline: float | None = None,
    progress: Progress | None = None,
) -> FamilyResult:
    """Reverse one trigger per class of `family_type` on `images` (N×C×H×W in [0, 1], on the model's
    device) whose model-assigned `labels` are given. Deterministic for a given seed."""
    start = time.perf_counter()
    generator = torch.Generator().manual_seed(seed)
    device = images.device
    family = family_type(classes, tuple(images.shape[1:]), generator, device)  # type: ignore[arg-type]
    optimiser = torch.optim.Adam(family.parameters(), lr=schedule.lr, betas=(0.5, 0.9))
    candidates = [k for k in range(classes) if int((labels != k).sum()) > 0]
    active = list(candidates)
    steps = dict.fromkeys(candidates, 0)
    lam = torch.zeros(classes, device=device)
    window = torch.zeros(classes, device=device)
    best = torch.full((classes,), math.inf)
    best_state: dict[int, list[torch.Tensor]] = {}
    settled: tuple[int, float] | None = None  # the leading class and its gap at the last check
    lambda_init = LAMBDA_INIT[family.name]
    if progress is not None:
        progress.begin(family.name, candidates, schedule.max_steps)
    complete, step = True, 0
    for step in range(1, schedule.max_steps + 1):
        if deadline is not None and time.monotonic() > deadline:
            complete = False
            break
        rows = torch.tensor(active, device=device)
        pick = torch.randint(len(images), (schedule.batch,), generator=generator).to(device)
        x, y = images[pick], labels[pick]
        triggered = family.apply(x, rows).reshape(-1, *x.shape[1:])
        logits = model(triggered).reshape(len(rows), len(x), -1)
        targets = rows[:, None].expand(len(rows), len(x))
        weight = (y[None, :] != rows[:, None]).float()
        denominator = weight.sum(dim=1).clamp(min=1)
        loss_ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction="none")
        ce = (loss_ce.reshape(weight.shape) * weight).sum(dim=1) / denominator
        cost = family.cost(rows)
        optimiser.zero_grad(set_to_none=True)
        (ce + lam[rows] * cost).sum().backward()
        optimiser.step()
        with torch.no_grad():
            asr = ((logits.argmax(dim=-1) == targets).float() * weight).sum(dim=1) / denominator
            window[rows] += asr
            for i, k in enumerate(active):
                steps[k] += 1
                size = float(cost[i])
                if float(asr[i]) >= schedule.asr_target and size < best[k]:
                    best[k] = size
                    best_state[k] = family.state(k)
            if step % schedule.patience == 0:
                _adjust(lam, window / schedule.patience, rows, schedule, lambda_init)
                window.zero_()
        if progress is not None:
            progress.step(family.name, {k: _shown(best[k], cost[i]) for i, k in enumerate(active)})
        halfway = schedule.explore // 2
        if step in (halfway, schedule.explore) and len(active) > schedule.keep:
            kept = schedule.keep if step == schedule.explore else max(schedule.keep, (len(active) + 1) // 2)
            dropped = _rank(best, family, active)[kept:]
            active = [k for k in active if k not in dropped]
            if progress is not None:
                progress.drop(family.name, dropped)
        if step >= schedule.explore and (step - schedule.explore) % schedule.round == 0:
            now = _leaders(best, family, active)
            if step > schedule.explore and (
                _same(now, settled, schedule.settle) or _quiet(now, settled, schedule.quiet)
            ):
                break
            settled = now
    result = _collect(model, family, images, labels, candidates, best, best_state, steps, schedule.check_rows)
    if progress is not None:
        progress.end(family.name)
    return FamilyResult(family.name, result, step, complete, time.perf_counter() - start, schedule.batch)


def _adjust(
    lam: torch.Tensor, rate: torch.Tensor, rows: torch.Tensor, schedule: Schedule, init: float
) -> None:
    """Neural Cleanse's λ rule, per class: raise while the attack succeeds, lower while it fails."""
    for k in rows.tolist():
        if rate[k] >= schedule.asr_target:
            lam[k] = init if lam[k] == 0 else lam[k] * schedule.lambda_up
        elif lam[k] > 0:
            lam[k] = lam[k] / schedule.lambda_down


def _rank(best: torch.Tensor, family: TriggerFamily, active: list[int]) -> list[int]:
    """Active classes, most promising first: reached triggers by size, then the rest by current size."""
    with torch.no_grad():
        current = family.cost(torch.tensor(active, device=family.device)).cpu()
    keys = {
        k: (
            0 if math.isfinite(best[k]) else 1,
            float(best[k]) if math.isfinite(best[k]) else float(current[i]),
        )
        for i, k in enumerate(active)
    }
    return sorted(active, key=lambda k: (keys[k], k))


def _leaders(best: torch.Tensor, family: TriggerFamily, active: list[int]) -> tuple[int, float] | None:
    """The leading class and its gap (as `outlier.gap` measures it), or None while no trigger succeeded."""
    with torch.no_grad():
        current = family.cost(torch.tensor(active, device=family.device)).cpu()
    costs = {
        k: float(best[k]) if math.isfinite(float(best[k])) else float(current[i])
        for i, k in enumerate(active)
    }
    leader, value = gap(costs, {k for k in active if math.isfinite(float(best[k]))})
    return (leader, value) if value > 0 else None


def _same(now: tuple[int, float] | None, before: tuple[int, float] | None, tolerance: float) -> bool:
    """Whether the leader stayed (or there still is none) and its gap moved less than `tolerance`."""
    if now is None or before is None:
        return now is None and before is None
    return now[0] == before[0] and abs(now[1] - before[1]) < tolerance


def _quiet(now: tuple[int, float] | None, before: tuple[int, float] | None, quiet: float) -> bool:
    """Whether the gap stayed below `quiet` at both checks, whichever class led: no class stands out,
    and one that only starts to in the last rounds would not get far enough to decide anything."""
    return all(check is None or check[1] < quiet for check in (now, before))


def _shown(best: torch.Tensor, current: torch.Tensor) -> float:
    return float(best) if math.isfinite(float(best)) else float(current.detach())


def _collect(
    model: Model,
    family: TriggerFamily,
    images: torch.Tensor,
    labels: torch.Tensor,
    candidates: list[int],
    best: torch.Tensor,
    best_state: dict[int, list[torch.Tensor]],
    steps: dict[int, int],
    check_rows: int,
) -> tuple[ClassTrigger, ...]:
    out: list[ClassTrigger] = []
    with torch.no_grad():
        for k in candidates:
            if k in best_state:
                family.restore(k, best_state[k])
            row = torch.tensor([k], device=images.device)
            cost = float(best[k]) if k in best_state else float(family.cost(row)[0])
            others = images[labels != k][:check_rows]
            hits = 0
            for first in range(0, len(others), 256):
                triggered = family.apply(others[first : first + 256], row)[0]
                hits += int((model(triggered).argmax(dim=-1) == k).sum())
            out.append(
                ClassTrigger(k, cost, k in best_state, hits / max(len(others), 1), steps[k], family.export(k))
            )
    return tuple(out)
