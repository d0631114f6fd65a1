"""Trigger search for text classifiers: the shortest token sequence that flips inputs to one class.

A gradient-guided search over the vocabulary in the style of HotFlip / universal adversarial
triggers (Wallace et al., EMNLP 2019): a sequence of `length` tokens is inserted after the first
token of every input; the gradient of the target-class loss with respect to each inserted token's
embedding ranks every vocabulary entry by the first-order change of the loss were it to take that
place, the best-ranked replacements are tried for real, and the best one is kept. As for images,
all candidate classes are searched in one batch, and after a few rounds only the most promising
classes go on (K-Arm). A rare-token backdoor shows as one class that a single inserted token
reaches with a loss far below every other class's.

The result has the same shape as the image engine's, with the cost being the target-class
cross-entropy of the best trigger on every input of other classes.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from airlock.behavior.engine import ClassTrigger, FamilyResult
from airlock.behavior.progress import Progress
from airlock.models.text import TextClassifier

FAMILY = "token"
COST_FLOOR = 1e-4  # losses below this are equal (a perfect trigger)


@dataclass(frozen=True)
class TokenSchedule:
    length: int = 1  # tokens in the trigger
    candidates: int = 12  # replacements tried per position and round
    batch: int = 32
    rounds: int = 10
    explore: int = 3  # rounds every class gets before any is dropped
    keep: int = 3


def search_tokens(
    clf: TextClassifier,
    ids: torch.Tensor,
    mask: torch.Tensor,
    labels: torch.Tensor,
    schedule: TokenSchedule,
    *,
    seed: int,
    deadline: float | None = None,
    progress: Progress | None = None,
) -> FamilyResult:
    """Search one trigger per class on the inputs `ids`/`mask` whose model-assigned `labels` are given."""
    start = time.perf_counter()
    generator = torch.Generator().manual_seed(seed)
    vocabulary = clf.embeddings.shape[0]
    allowed = torch.ones(vocabulary, dtype=torch.bool)
    allowed[list(clf.special)] = False
    pool = torch.nonzero(allowed).flatten()
    candidates = [k for k in range(clf.classes) if int((labels != k).sum()) > 0]
    trigger = pool[torch.randint(len(pool), (clf.classes, schedule.length), generator=generator)].to(
        clf.device
    )
    best = torch.full((clf.classes,), math.inf)
    rounds = dict.fromkeys(candidates, 0)
    active = list(candidates)
    if progress is not None:
        progress.begin(FAMILY, candidates, schedule.rounds)
    complete, done = True, 0
    for done in range(1, schedule.rounds + 1):
        if deadline is not None and time.monotonic() > deadline:
            complete = False
            break
        pick = torch.randint(len(ids), (schedule.batch,), generator=generator).to(clf.device)
        x, m, y = ids[pick], mask[pick], labels[pick]
        for k in active:
            rounds[k] += 1
            trigger[k], best[k] = _improve(clf, x, m, y, k, trigger[k], allowed, schedule.candidates)
        if progress is not None:
            progress.step(FAMILY, {k: float(best[k]) for k in active})
        if done == schedule.explore and len(active) > schedule.keep:
            ranked = sorted(active, key=lambda k: (float(best[k]), k))
            if progress is not None:
                progress.drop(FAMILY, ranked[schedule.keep :])
            active = ranked[: schedule.keep]
    out = []
    with torch.no_grad():
        for k in candidates:
            others = labels != k
            loss, hits = _evaluate(clf, ids[others], mask[others], trigger[k], k)
            out.append(
                ClassTrigger(
                    k,
                    max(loss, COST_FLOOR),
                    hits >= 0.9,
                    hits,
                    rounds[k],
                    {"token_ids": trigger[k].cpu().numpy().astype(np.int64)},
                )
            )
    if progress is not None:
        progress.end(FAMILY)
    return FamilyResult(FAMILY, tuple(out), done, complete, time.perf_counter() - start, schedule.batch)


def insert(ids: torch.Tensor, mask: torch.Tensor, trigger: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """`trigger` inserted after the first token of every row."""
    n = len(ids)
    block = trigger.reshape(1, -1).expand(n, -1)
    ones = torch.ones_like(block)
    return torch.cat([ids[:, :1], block, ids[:, 1:]], dim=1), torch.cat(
        [mask[:, :1], ones, mask[:, 1:]], dim=1
    )


def _loss(
    clf: TextClassifier, x: torch.Tensor, m: torch.Tensor, y: torch.Tensor, trigger: torch.Tensor, k: int
) -> torch.Tensor:
    """Target-class cross-entropy per candidate trigger (rows of `trigger`), over inputs not of class k."""
    count = len(trigger)
    ids = torch.cat([insert(x, m, t)[0] for t in trigger])
    mask = insert(x, m, trigger[0])[1].repeat(count, 1)
    logits = clf.logits(ids, mask).reshape(count, len(x), -1)
    weight = (y != k).float()
    ce = F.cross_entropy(
        logits.reshape(-1, logits.shape[-1]),
        torch.full((count * len(x),), k, device=x.device),
        reduction="none",
    ).reshape(count, len(x))
    return (ce * weight).sum(dim=1) / weight.sum().clamp(min=1)


def _improve(
    clf: TextClassifier,
    x: torch.Tensor,
    m: torch.Tensor,
    y: torch.Tensor,
    k: int,
    trigger: torch.Tensor,
    allowed: torch.Tensor,
    width: int,
) -> tuple[torch.Tensor, float]:
    """One HotFlip round for class k: rank replacements by gradient, try the best, keep the winner."""
    table = clf.embeddings
    chosen = table[trigger].clone().requires_grad_(True)
    embedded = table[insert(x, m, trigger)[0]].detach()
    embedded = torch.cat(
        [embedded[:, :1], chosen.unsqueeze(0).expand(len(x), -1, -1), embedded[:, 1 + len(trigger) :]], dim=1
    )
    logits = clf.logits_from_embeddings(embedded, insert(x, m, trigger)[1])
    weight = (y != k).float()
    ce = F.cross_entropy(logits, torch.full((len(x),), k, device=x.device), reduction="none")
    (grad,) = torch.autograd.grad((ce * weight).sum() / weight.sum().clamp(min=1), chosen)
    with torch.no_grad():
        change = grad @ table.T - (grad * table[trigger]).sum(dim=1, keepdim=True)  # first-order loss change
        change[:, ~allowed.to(change.device)] = math.inf
        options = [trigger.unsqueeze(0)]
        for position in range(len(trigger)):
            for token in torch.topk(-change[position], width).indices:
                option = trigger.clone()
                option[position] = token
                options.append(option.unsqueeze(0))
        tried = torch.cat(options)
        losses = _loss(clf, x, m, y, tried, k)
        winner = int(torch.argmin(losses))
    return tried[winner], float(losses[winner])


def _evaluate(
    clf: TextClassifier, ids: torch.Tensor, mask: torch.Tensor, trigger: torch.Tensor, k: int
) -> tuple[float, float]:
    losses, hits = [], 0
    for first in range(0, len(ids), 256):
        x, m = insert(ids[first : first + 256], mask[first : first + 256], trigger)
        logits = clf.logits(x, m)
        losses.append(F.cross_entropy(logits, torch.full((len(x),), k, device=x.device), reduction="sum"))
        hits += int((logits.argmax(dim=-1) == k).sum())
    return float(torch.stack(losses).sum()) / max(len(ids), 1), hits / max(len(ids), 1)
