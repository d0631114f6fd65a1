"""`airlock data --model` on held-out poisoned sets (fixtures.heldout): models, datasets and triggers
that share no code with the calibration generators.

Two parts that differ in dataset, architecture *and* attack parameters:
- CALIBRATE: `glyphs` on `resnet-narrow`, one case per family, plus clean sets;
- EVALUATE: `strokes` on `resnet-deep` and `convnext-tiny`, `scenes` on `resnet-deep`, two cases
  per family with other patch sizes, colours, positions, blend patterns, SIG frequencies, warp
  grids and rates (1%-15%), plus clean sets.
- DEVELOP: `glyphs` on `convnext-tiny` and `strokes` on `resnet-narrow`, attack parameters of their
  own: where the detector is developed besides CALIBRATE. EVALUATE is measured, never tuned on.
- FRESH: added once EVALUATE had been looked at twice: `strokes` and `scenes` on a fourth
  architecture (`regnet-x`), `resnet-deep` and `convnext-tiny`, with attack parameters of its own.
- FRESH_2: added to measure `--behavior` and a trial change of the behavioural scan's warp family
  (and this detector once more) on models nothing had seen.
- FRESH_3: added to measure a shorter data-free synthesis of the behavioural scan (and this detector,
  with and without `--behavior`, once more).
- FRESH_4: added to measure the spread rule of the mislabelled route (clean scenes classes that an
  underfit model confuses with one neighbour were called relabelled), and both detectors once more.
- FRESH_5: added to measure the reversed-trigger route of `--behavior` (and both detectors once more).
- FRESH_6: added to measure the behavioural verdict at α = 0.01 (and both detectors once more).
- FRESH_7: added to measure the split's orientation by trigger persistence and the foreign route's
  spread guard (and both detectors once more).
- FRESH_8: added to measure the margin route of a split (and both detectors once more).
- FRESH_9: added to measure a behavioural verdict judged against the model's own classes (and both
  detectors once more).
- FRESH_10: added to measure flagging a called class's suspect cluster beside its rows outside the
  clean core (and both detectors once more).
- FRESH_11: added to measure keeping a compact split the model reads apart where the set's other
  classes split as far (and both detectors once more). That change was not made (class statistics
  could not separate); FRESH_11 measured the clean reference (`--test`) instead.
- FRESH_12: added to measure the clean reference once more (and both detectors once more).
- FRESH_13: added to measure a lower reference bar for a class `--behavior` blames (and both
  detectors once more).
Each case is a model trained on its (poisoned) set; airlock vets that set with that model (the real
pipeline: static scan, one loader, the checks of `airlock data`). Reported per case, per family and
per dataset: row-level precision and recall, and whether a clean set is called poisoned. A case
whose model did not learn its trigger (attack success under NOT_LEARNED on held-out images) is
counted under `<family> (not learned)`, apart from the family: that poison is inert to the model. Then
the thresholds are fitted on the CALIBRATE part only (one scale on every threshold, the best mean
F1 with no clean calibrate set flagged) and the EVALUATE part is re-measured with them; and
leave-one-family-out: fitted without a family, evaluated on that family (EVALUATE and the FRESH parts). Clean real-world-like
tables (fixtures.tables_eval) are vetted too: none may be called poisoned. Then the same check with
`--test` (the case's clean held-out sample, the clean reference of its classes) on every part, and
with `--test --behavior` (the trigger reversal on that sample also blames a class) on CALIBRATE,
DEVELOP and FRESH_2 to FRESH_13. One torch thread.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from fixtures.heldout.attacks import Attack
from fixtures.heldout.train import EPOCHS, Case

NOT_LEARNED = 0.2  # attack success rate (case.json) under which the model did not learn the trigger
SCALES = (0.5, 0.7, 0.85, 1.0, 1.2, 1.5, 2.0)
TABLES = 8  # clean tables vetted (of fixtures.tables_eval.CLEAN_SEEDS)


# Training quality only (not the cases' definitions): resnet-deep on scenes reached 68-82% clean
# accuracy in 6 epochs, not a realistic victim; scenes models train longer.
EPOCHS_BY_DATASET = {"scenes": 14}


def _case(
    part: str,
    name: str,
    dataset: str,
    arch: str,
    attack: Attack | None,
    rate: float,
    seed: int,
    imbalance: float = 1.0,
    sample_imbalance: float | None = None,
) -> Case:
    """A case of `part` (its name's prefix); scenes models train longer (EPOCHS_BY_DATASET)."""
    epochs = EPOCHS_BY_DATASET.get(dataset, EPOCHS)
    return Case(
        f"{part}-{name}",
        dataset,
        arch,
        seed,
        attack,
        rate,
        epochs=epochs,
        imbalance=imbalance,
        sample_imbalance=sample_imbalance,
    )


def _cal(name: str, attack: Attack | None, rate: float, seed: int) -> Case:
    return _case("cal", name, "glyphs", "resnet-narrow", attack, rate, seed)


CALIBRATE: tuple[Case, ...] = (
    _cal("patch", Attack("patch", target=1, size=3, place=(27, 27), colour=(255, 255, 255)), 0.05, 11),
    _cal(
        "patch-random",
        Attack("patch", target=4, size=4, position="random", style="checker", colour=(255, 0, 0)),
        0.10,
        12,
    ),
    _cal("blend", Attack("blend", target=2, style="noise", alpha=0.1, seed=5), 0.08, 13),
    _cal("sig", Attack("sig", target=6, delta=20, frequency=6), 0.10, 14),
    _cal("warp", Attack("warp", target=3, grid=4, strength=2.5, seed=9), 0.10, 15),
    _cal("input-specific", Attack("input_specific", target=5, size=3, seed=3), 0.05, 16),
    _cal(
        "clean-label",
        Attack("clean_label", target=0, base="patch", size=4, place=(1, 1), colour=(255, 255, 0), mix=0.4),
        0.05,
        17,
    ),
    _cal("clean-a", None, 0.0, 18),
    _cal("clean-b", None, 0.0, 19),
)


_ev = partial(_case, "eval")


_dev = partial(_case, "dev")


# DEVELOPMENT: where the detector is developed besides CALIBRATE (never the EVALUATE cases): glyphs
# on convnext-tiny and strokes on resnet-narrow, attack parameters of their own.
DEVELOP: tuple[Case, ...] = (
    _dev(
        "glyphs-patch",
        "glyphs",
        "convnext-tiny",
        Attack("patch", target=6, size=4, place=(20, 4), colour=(0, 0, 255)),
        0.07,
        51,
    ),
    _dev(
        "strokes-blend",
        "strokes",
        "resnet-narrow",
        Attack("blend", target=5, style="noise", alpha=0.12, seed=3),
        0.10,
        52,
    ),
    _dev("glyphs-sig", "glyphs", "convnext-tiny", Attack("sig", target=2, delta=25, frequency=5), 0.06, 53),
    _dev(
        "strokes-warp",
        "strokes",
        "resnet-narrow",
        Attack("warp", target=0, grid=5, strength=2.5, seed=4),
        0.08,
        54,
    ),
    _dev(
        "strokes-input-specific",
        "strokes",
        "resnet-narrow",
        Attack("input_specific", target=8, size=3, seed=7),
        0.10,
        55,
    ),
    _dev(
        "glyphs-clean-label",
        "glyphs",
        "convnext-tiny",
        Attack("clean_label", target=4, base="patch", size=5, place=(24, 2), colour=(255, 0, 255), mix=0.35),
        0.08,
        56,
    ),
    _dev(
        "strokes-patch-random",
        "strokes",
        "resnet-narrow",
        Attack("patch", target=3, size=3, position="random", style="checker", colour=(0, 255, 255)),
        0.04,
        57,
    ),
    _dev("glyphs-clean", "glyphs", "convnext-tiny", None, 0.0, 58),
    _dev("strokes-clean", "strokes", "resnet-narrow", None, 0.0, 59),
)


EVALUATE: tuple[Case, ...] = (
    _ev(
        "strokes-patch",
        "strokes",
        "resnet-deep",
        Attack("patch", target=7, size=5, place=(2, 2), colour=(0, 255, 0)),
        0.01,
        31,
    ),
    _ev(
        "scenes-patch",
        "scenes",
        "resnet-deep",
        Attack("patch", target=3, size=6, position="random", style="noise", seed=4),
        0.15,
        32,
    ),
    _ev(
        "strokes-blend",
        "strokes",
        "resnet-deep",
        Attack("blend", target=2, style="image", alpha=0.2, seed=8),
        0.05,
        33,
    ),
    _ev(
        "scenes-blend",
        "scenes",
        "resnet-deep",
        Attack("blend", target=8, style="noise", alpha=0.15, seed=2),
        0.12,
        34,
    ),
    _ev("strokes-sig", "strokes", "convnext-tiny", Attack("sig", target=4, delta=30, frequency=4), 0.03, 35),
    _ev("scenes-sig", "scenes", "resnet-deep", Attack("sig", target=0, delta=25, frequency=8), 0.10, 36),
    _ev(
        "strokes-warp",
        "strokes",
        "resnet-deep",
        Attack("warp", target=9, grid=6, strength=3.0, seed=6),
        0.10,
        37,
    ),
    _ev(
        "scenes-warp",
        "scenes",
        "resnet-deep",
        Attack("warp", target=5, grid=5, strength=3.0, seed=7),
        0.05,
        38,
    ),
    _ev(
        "strokes-input-specific",
        "strokes",
        "convnext-tiny",
        Attack("input_specific", target=1, size=4, seed=11),
        0.08,
        39,
    ),
    _ev(
        "scenes-input-specific",
        "scenes",
        "resnet-deep",
        Attack("input_specific", target=6, size=4, seed=12),
        0.15,
        40,
    ),
    _ev(
        "strokes-clean-label",
        "strokes",
        "resnet-deep",
        Attack("clean_label", target=3, base="blend", style="image", alpha=0.2, mix=0.3, seed=5),
        0.05,
        41,
    ),
    _ev(
        "scenes-clean-label",
        "scenes",
        "resnet-deep",
        Attack("clean_label", target=7, base="sig", delta=30, frequency=5, mix=0.3),
        0.04,
        42,
    ),
    _ev("strokes-clean", "strokes", "convnext-tiny", None, 0.0, 43),
    _ev("scenes-clean", "scenes", "resnet-deep", None, 0.0, 44),
    _ev("strokes-clean-2", "strokes", "resnet-deep", None, 0.0, 45),
)


_fresh = partial(_case, "fresh")


# FRESH: written after EVALUATE had been measured twice (so EVALUATE no longer counts as unseen), before
# anything ran on it, and measured once per detector version. strokes and scenes (never calibrated
# on), a fourth architecture (`regnet-x`) besides resnet-deep and convnext-tiny, and attack
# parameters no other part uses.
FRESH: tuple[Case, ...] = (
    _fresh(
        "strokes-patch",
        "strokes",
        "regnet-x",
        Attack("patch", target=2, size=3, place=(14, 28), colour=(255, 255, 0)),
        0.06,
        61,
    ),
    _fresh(
        "scenes-patch",
        "scenes",
        "convnext-tiny",
        Attack("patch", target=9, size=5, position="random", style="checker", colour=(255, 0, 255)),
        0.09,
        62,
    ),
    _fresh(
        "strokes-blend",
        "strokes",
        "convnext-tiny",
        Attack("blend", target=6, style="noise", alpha=0.18, seed=21),
        0.12,
        63,
    ),
    _fresh(
        "scenes-blend",
        "scenes",
        "regnet-x",
        Attack("blend", target=4, style="image", alpha=0.25, seed=22),
        0.07,
        64,
    ),
    _fresh("strokes-sig", "strokes", "regnet-x", Attack("sig", target=8, delta=22, frequency=7), 0.08, 65),
    _fresh("scenes-sig", "scenes", "convnext-tiny", Attack("sig", target=1, delta=35, frequency=3), 0.04, 66),
    _fresh(
        "strokes-warp",
        "strokes",
        "convnext-tiny",
        Attack("warp", target=4, grid=3, strength=3.5, seed=23),
        0.13,
        67,
    ),
    _fresh(
        "scenes-warp",
        "scenes",
        "regnet-x",
        Attack("warp", target=2, grid=7, strength=2.8, seed=24),
        0.09,
        68,
    ),
    _fresh(
        "strokes-input-specific",
        "strokes",
        "resnet-deep",
        Attack("input_specific", target=0, size=5, seed=25),
        0.12,
        69,
    ),
    _fresh(
        "scenes-input-specific",
        "scenes",
        "convnext-tiny",
        Attack("input_specific", target=5, size=3, seed=26),
        0.02,
        70,
    ),
    _fresh(
        "strokes-clean-label",
        "strokes",
        "regnet-x",
        Attack("clean_label", target=5, base="patch", size=4, place=(28, 0), colour=(0, 255, 255), mix=0.35),
        0.07,
        71,
    ),
    _fresh(
        "scenes-clean-label",
        "scenes",
        "resnet-deep",
        Attack("clean_label", target=1, base="blend", style="noise", alpha=0.15, mix=0.25, seed=27),
        0.06,
        72,
    ),
    _fresh("strokes-clean", "strokes", "regnet-x", None, 0.0, 73),
    _fresh("scenes-clean", "scenes", "convnext-tiny", None, 0.0, 74),
    _fresh("scenes-clean-2", "scenes", "regnet-x", None, 0.0, 75),
)


_fresh2 = partial(_case, "fresh2")


# FRESH_2: written before anything ran on it, to measure two changes on models nothing had seen:
# `airlock data --behavior`, and a larger warp limit for the behavioural scan (after every warp model
# of the other parts had been missed; it was not kept, see airlock.behavior.triggers). strokes and
# scenes, four architectures, attack parameters of its own.
FRESH_2: tuple[Case, ...] = (
    _fresh2(
        "strokes-patch",
        "strokes",
        "convnext-tiny",
        Attack("patch", target=9, size=4, place=(0, 14), colour=(255, 64, 0)),
        0.05,
        81,
    ),
    _fresh2(
        "scenes-patch",
        "scenes",
        "resnet-deep",
        Attack("patch", target=0, size=5, place=(26, 3), style="checker", colour=(255, 255, 255)),
        0.08,
        82,
    ),
    _fresh2(
        "strokes-blend",
        "strokes",
        "regnet-x",
        Attack("blend", target=3, style="image", alpha=0.15, seed=31),
        0.10,
        83,
    ),
    _fresh2(
        "scenes-blend",
        "scenes",
        "resnet-deep",
        Attack("blend", target=6, style="noise", alpha=0.2, seed=32),
        0.10,
        84,
    ),
    _fresh2(
        "strokes-sig", "strokes", "resnet-deep", Attack("sig", target=1, delta=28, frequency=5), 0.06, 85
    ),
    _fresh2(
        "scenes-sig", "scenes", "resnet-narrow", Attack("sig", target=7, delta=30, frequency=6), 0.10, 86
    ),
    _fresh2(
        "strokes-warp",
        "strokes",
        "regnet-x",
        Attack("warp", target=6, grid=4, strength=3.0, seed=33),
        0.10,
        87,
    ),
    _fresh2(
        "scenes-warp",
        "scenes",
        "resnet-deep",
        Attack("warp", target=3, grid=5, strength=3.2, seed=34),
        0.12,
        88,
    ),
    _fresh2(
        "strokes-warp-2",
        "strokes",
        "resnet-deep",
        Attack("warp", target=2, grid=6, strength=2.6, seed=35),
        0.08,
        89,
    ),
    _fresh2(
        "strokes-input-specific",
        "strokes",
        "convnext-tiny",
        Attack("input_specific", target=7, size=4, seed=36),
        0.10,
        90,
    ),
    _fresh2(
        "scenes-clean-label",
        "scenes",
        "resnet-deep",
        Attack("clean_label", target=2, base="patch", size=5, place=(13, 13), colour=(0, 0, 0), mix=0.3),
        0.08,
        91,
    ),
    _fresh2(
        "strokes-clean-label",
        "strokes",
        "resnet-deep",
        Attack("clean_label", target=8, base="sig", delta=30, frequency=4, mix=0.3),
        0.08,
        92,
    ),
    _fresh2("strokes-clean", "strokes", "resnet-deep", None, 0.0, 93),
    _fresh2("scenes-clean", "scenes", "resnet-deep", None, 0.0, 94),
    _fresh2("strokes-clean-2", "strokes", "convnext-tiny", None, 0.0, 95),
    _fresh2("scenes-clean-2", "scenes", "resnet-narrow", None, 0.0, 96),
)


_fresh3 = partial(_case, "fresh3")


# FRESH_3: written before anything ran on it, to measure a shorter data-free synthesis (60 steps
# instead of 120) against the schedule it replaces, both once. strokes and scenes, attack parameters
# of its own.
FRESH_3: tuple[Case, ...] = (
    _fresh3(
        "strokes-patch",
        "strokes",
        "resnet-deep",
        Attack("patch", target=5, size=4, place=(6, 24), style="checker", colour=(255, 0, 0)),
        0.07,
        101,
    ),
    _fresh3(
        "scenes-patch",
        "scenes",
        "regnet-x",
        Attack("patch", target=8, size=5, place=(20, 10), colour=(0, 0, 255)),
        0.10,
        102,
    ),
    _fresh3(
        "strokes-blend",
        "strokes",
        "resnet-narrow",
        Attack("blend", target=1, style="noise", alpha=0.14, seed=41),
        0.09,
        103,
    ),
    _fresh3(
        "scenes-blend",
        "scenes",
        "convnext-tiny",
        Attack("blend", target=3, style="image", alpha=0.22, seed=42),
        0.11,
        104,
    ),
    _fresh3(
        "strokes-sig", "strokes", "convnext-tiny", Attack("sig", target=0, delta=24, frequency=6), 0.07, 105
    ),
    _fresh3("scenes-sig", "scenes", "resnet-deep", Attack("sig", target=4, delta=32, frequency=5), 0.12, 106),
    _fresh3(
        "strokes-warp",
        "strokes",
        "resnet-deep",
        Attack("warp", target=7, grid=4, strength=2.8, seed=43),
        0.12,
        107,
    ),
    _fresh3(
        "strokes-input-specific",
        "strokes",
        "regnet-x",
        Attack("input_specific", target=3, size=5, seed=44),
        0.13,
        108,
    ),
    _fresh3(
        "scenes-input-specific",
        "scenes",
        "resnet-deep",
        Attack("input_specific", target=9, size=5, seed=45),
        0.12,
        109,
    ),
    _fresh3(
        "strokes-clean-label",
        "strokes",
        "resnet-deep",
        Attack("clean_label", target=6, base="patch", size=5, place=(0, 0), colour=(255, 255, 255), mix=0.3),
        0.09,
        110,
    ),
    _fresh3("strokes-clean", "strokes", "resnet-deep", None, 0.0, 111),
    _fresh3("strokes-clean-2", "strokes", "regnet-x", None, 0.0, 112),
    _fresh3("scenes-clean", "scenes", "resnet-deep", None, 0.0, 113),
    _fresh3("scenes-clean-2", "scenes", "convnext-tiny", None, 0.0, 114),
    _fresh3("strokes-clean-3", "strokes", "convnext-tiny", None, 0.0, 115),
    _fresh3("scenes-clean-3", "scenes", "regnet-x", None, 0.0, 116),
)


_fresh4 = partial(_case, "fresh4")


# FRESH_4: written before anything ran on it, to measure the spread rule of the mislabelled route
# (and both detectors once more): scenes on resnet-narrow for the first time, four clean scenes sets
# (where the route called confusable classes), attack parameters no other part uses.
FRESH_4: tuple[Case, ...] = (
    _fresh4(
        "strokes-patch",
        "strokes",
        "convnext-tiny",
        Attack("patch", target=2, size=3, place=(14, 28), colour=(255, 128, 0)),
        0.03,
        121,
    ),
    _fresh4(
        "scenes-patch",
        "scenes",
        "resnet-narrow",
        Attack("patch", target=6, size=4, position="random", style="checker", colour=(255, 255, 0)),
        0.08,
        122,
    ),
    _fresh4(
        "strokes-blend",
        "strokes",
        "regnet-x",
        Attack("blend", target=8, style="image", alpha=0.18, seed=51),
        0.06,
        123,
    ),
    _fresh4(
        "scenes-blend",
        "scenes",
        "resnet-narrow",
        Attack("blend", target=1, style="noise", alpha=0.1, seed=52),
        0.13,
        124,
    ),
    _fresh4(
        "strokes-sig", "strokes", "resnet-narrow", Attack("sig", target=9, delta=20, frequency=3), 0.10, 125
    ),
    _fresh4("scenes-sig", "scenes", "regnet-x", Attack("sig", target=2, delta=28, frequency=7), 0.08, 126),
    _fresh4(
        "strokes-warp",
        "strokes",
        "convnext-tiny",
        Attack("warp", target=4, grid=3, strength=3.2, seed=53),
        0.15,
        127,
    ),
    _fresh4(
        "scenes-warp",
        "scenes",
        "regnet-x",
        Attack("warp", target=0, grid=6, strength=2.6, seed=54),
        0.10,
        128,
    ),
    _fresh4(
        "strokes-input-specific",
        "strokes",
        "resnet-deep",
        Attack("input_specific", target=6, size=4, seed=55),
        0.02,
        129,
    ),
    _fresh4(
        "scenes-clean-label",
        "scenes",
        "resnet-narrow",
        Attack("clean_label", target=7, base="sig", delta=30, frequency=4, mix=0.35),
        0.10,
        130,
    ),
    _fresh4("scenes-clean", "scenes", "resnet-narrow", None, 0.0, 131),
    _fresh4("scenes-clean-2", "scenes", "resnet-deep", None, 0.0, 132),
    _fresh4("scenes-clean-3", "scenes", "convnext-tiny", None, 0.0, 133),
    _fresh4("scenes-clean-4", "scenes", "regnet-x", None, 0.0, 134),
    _fresh4("strokes-clean", "strokes", "resnet-narrow", None, 0.0, 135),
    _fresh4("strokes-clean-2", "strokes", "convnext-tiny", None, 0.0, 136),
)


_fresh5 = partial(_case, "fresh5")


# FRESH_5: written before anything ran on it, to measure the reversed-trigger route of
# `airlock data --model M --behavior` (rows of a blamed class that sit where the reversed trigger
# sends other classes' images), and both detectors once more. Mostly rates a model learns.
FRESH_5: tuple[Case, ...] = (
    _fresh5(
        "strokes-patch",
        "strokes",
        "resnet-narrow",
        Attack("patch", target=0, size=4, place=(3, 25), style="checker", colour=(0, 255, 0)),
        0.08,
        141,
    ),
    _fresh5(
        "scenes-patch",
        "scenes",
        "resnet-deep",
        Attack("patch", target=4, size=5, place=(24, 3), colour=(255, 0, 255)),
        0.10,
        142,
    ),
    _fresh5(
        "strokes-blend",
        "strokes",
        "convnext-tiny",
        Attack("blend", target=3, style="noise", alpha=0.16, seed=61),
        0.10,
        143,
    ),
    _fresh5(
        "scenes-blend",
        "scenes",
        "resnet-deep",
        Attack("blend", target=6, style="image", alpha=0.2, seed=62),
        0.12,
        144,
    ),
    _fresh5("strokes-sig", "strokes", "regnet-x", Attack("sig", target=7, delta=26, frequency=5), 0.09, 145),
    _fresh5(
        "scenes-sig", "scenes", "resnet-narrow", Attack("sig", target=8, delta=30, frequency=3), 0.12, 146
    ),
    _fresh5(
        "strokes-warp",
        "strokes",
        "resnet-deep",
        Attack("warp", target=1, grid=5, strength=3.4, seed=63),
        0.14,
        147,
    ),
    _fresh5(
        "strokes-input-specific",
        "strokes",
        "convnext-tiny",
        Attack("input_specific", target=5, size=5, seed=64),
        0.12,
        148,
    ),
    _fresh5(
        "scenes-input-specific",
        "scenes",
        "resnet-narrow",
        Attack("input_specific", target=2, size=4, seed=65),
        0.14,
        149,
    ),
    _fresh5(
        "strokes-clean-label",
        "strokes",
        "regnet-x",
        Attack("clean_label", target=9, base="patch", size=4, place=(26, 14), colour=(0, 128, 255), mix=0.3),
        0.10,
        150,
    ),
    _fresh5(
        "scenes-patch-random",
        "scenes",
        "convnext-tiny",
        Attack("patch", target=1, size=5, position="random", style="noise", seed=66),
        0.12,
        151,
    ),
    _fresh5("strokes-clean", "strokes", "regnet-x", None, 0.0, 152),
    _fresh5("strokes-clean-2", "strokes", "resnet-deep", None, 0.0, 153),
    _fresh5("scenes-clean", "scenes", "resnet-narrow", None, 0.0, 154),
    _fresh5("scenes-clean-2", "scenes", "convnext-tiny", None, 0.0, 155),
    _fresh5("scenes-clean-3", "scenes", "resnet-deep", None, 0.0, 156),
)


_fresh6 = partial(_case, "fresh6")


# FRESH_6: written before anything ran on it, to measure the behavioural verdict at α = 0.01 (clean
# models failed at α = 0.05 on FRESH_4 and FRESH_5), and both detectors once more: seven clean
# models across the four architectures, nine backdoors at rates a model learns.
FRESH_6: tuple[Case, ...] = (
    _fresh6(
        "strokes-patch",
        "strokes",
        "regnet-x",
        Attack("patch", target=6, size=5, place=(12, 0), style="noise", seed=71),
        0.09,
        161,
    ),
    _fresh6(
        "scenes-patch",
        "scenes",
        "convnext-tiny",
        Attack("patch", target=3, size=6, place=(0, 13), colour=(0, 255, 255)),
        0.12,
        162,
    ),
    _fresh6(
        "strokes-blend",
        "strokes",
        "resnet-deep",
        Attack("blend", target=4, style="image", alpha=0.15, seed=72),
        0.10,
        163,
    ),
    _fresh6(
        "scenes-blend",
        "scenes",
        "resnet-narrow",
        Attack("blend", target=9, style="noise", alpha=0.18, seed=73),
        0.11,
        164,
    ),
    _fresh6(
        "strokes-sig", "strokes", "convnext-tiny", Attack("sig", target=2, delta=28, frequency=4), 0.10, 165
    ),
    _fresh6("scenes-sig", "scenes", "regnet-x", Attack("sig", target=5, delta=35, frequency=6), 0.12, 166),
    _fresh6(
        "strokes-warp",
        "strokes",
        "resnet-narrow",
        Attack("warp", target=8, grid=4, strength=3.6, seed=74),
        0.15,
        167,
    ),
    _fresh6(
        "strokes-input-specific",
        "strokes",
        "resnet-deep",
        Attack("input_specific", target=0, size=6, seed=75),
        0.15,
        168,
    ),
    _fresh6(
        "scenes-clean-label",
        "scenes",
        "resnet-deep",
        Attack(
            "clean_label", target=1, base="patch", size=5, place=(26, 26), colour=(255, 255, 255), mix=0.3
        ),
        0.10,
        169,
    ),
    _fresh6("strokes-clean", "strokes", "convnext-tiny", None, 0.0, 170),
    _fresh6("strokes-clean-2", "strokes", "resnet-narrow", None, 0.0, 171),
    _fresh6("strokes-clean-3", "strokes", "regnet-x", None, 0.0, 172),
    _fresh6("scenes-clean", "scenes", "resnet-deep", None, 0.0, 173),
    _fresh6("scenes-clean-2", "scenes", "regnet-x", None, 0.0, 174),
    _fresh6("scenes-clean-3", "scenes", "resnet-narrow", None, 0.0, 175),
    _fresh6("scenes-clean-4", "scenes", "convnext-tiny", None, 0.0, 176),
)


_fresh7 = partial(_case, "fresh7")


# FRESH_7: written before anything ran on it, to measure the split's new orientation (a compact split
# is oriented by trigger persistence, and its kept half must be read as its label) and the spread
# guard of the foreign route (a foreign cluster misread as one neighbour class is not called), and
# both detectors once more: eight backdoors at rates a model learns, one clean-label, seven clean
# models across the four architectures.
FRESH_7: tuple[Case, ...] = (
    _fresh7(
        "strokes-patch",
        "strokes",
        "convnext-tiny",
        Attack("patch", target=3, size=4, place=(27, 2), style="checker", colour=(255, 128, 0)),
        0.11,
        181,
    ),
    _fresh7(
        "scenes-patch",
        "scenes",
        "regnet-x",
        Attack("patch", target=7, size=5, place=(14, 27), style="noise", seed=81),
        0.10,
        182,
    ),
    _fresh7(
        "strokes-blend",
        "strokes",
        "regnet-x",
        Attack("blend", target=1, style="noise", alpha=0.2, seed=82),
        0.12,
        183,
    ),
    _fresh7(
        "scenes-blend",
        "scenes",
        "convnext-tiny",
        Attack("blend", target=0, style="image", alpha=0.17, seed=83),
        0.13,
        184,
    ),
    _fresh7(
        "strokes-sig", "strokes", "resnet-deep", Attack("sig", target=9, delta=32, frequency=3), 0.11, 185
    ),
    _fresh7(
        "scenes-sig", "scenes", "resnet-narrow", Attack("sig", target=4, delta=38, frequency=5), 0.10, 186
    ),
    _fresh7(
        "scenes-warp",
        "scenes",
        "resnet-deep",
        Attack("warp", target=6, grid=5, strength=4.0, seed=84),
        0.13,
        187,
    ),
    _fresh7(
        "strokes-input-specific",
        "strokes",
        "regnet-x",
        Attack("input_specific", target=2, size=5, seed=85),
        0.12,
        188,
    ),
    _fresh7(
        "strokes-clean-label",
        "strokes",
        "resnet-narrow",
        Attack("clean_label", target=5, base="patch", size=5, place=(0, 0), colour=(255, 0, 0), mix=0.35),
        0.12,
        189,
    ),
    _fresh7("strokes-clean", "strokes", "resnet-deep", None, 0.0, 190),
    _fresh7("strokes-clean-2", "strokes", "convnext-tiny", None, 0.0, 191),
    _fresh7("strokes-clean-3", "strokes", "regnet-x", None, 0.0, 192),
    _fresh7("scenes-clean", "scenes", "resnet-narrow", None, 0.0, 193),
    _fresh7("scenes-clean-2", "scenes", "convnext-tiny", None, 0.0, 194),
    _fresh7("scenes-clean-3", "scenes", "regnet-x", None, 0.0, 195),
    _fresh7("scenes-clean-4", "scenes", "resnet-deep", None, 0.0, 196),
)


_fresh8 = partial(_case, "fresh8")


# FRESH_8: written before anything ran on it, to measure the margin route of a split (a half the
# model reads far more firmly than the rest of its class), and both detectors once more. Clean-label
# rates leave part of the target class clean this time: on FRESH_4 to FRESH_7 a clean-label rate of
# 10-12% took every row of the target class, which no split within the class can find.
FRESH_8: tuple[Case, ...] = (
    _fresh8(
        "strokes-patch",
        "strokes",
        "resnet-deep",
        Attack("patch", target=8, size=3, place=(2, 14), colour=(0, 255, 255)),
        0.09,
        201,
    ),
    _fresh8(
        "scenes-patch-random",
        "scenes",
        "resnet-narrow",
        Attack("patch", target=2, size=5, position="random", style="checker", colour=(255, 255, 0)),
        0.11,
        202,
    ),
    _fresh8(
        "strokes-blend",
        "strokes",
        "resnet-narrow",
        Attack("blend", target=7, style="image", alpha=0.14, seed=91),
        0.10,
        203,
    ),
    _fresh8(
        "scenes-blend",
        "scenes",
        "regnet-x",
        Attack("blend", target=5, style="noise", alpha=0.15, seed=92),
        0.12,
        204,
    ),
    _fresh8(
        "strokes-warp",
        "strokes",
        "convnext-tiny",
        Attack("warp", target=0, grid=3, strength=3.8, seed=93),
        0.12,
        205,
    ),
    _fresh8(
        "scenes-warp",
        "scenes",
        "regnet-x",
        Attack("warp", target=9, grid=4, strength=4.2, seed=94),
        0.14,
        206,
    ),
    _fresh8(
        "scenes-input-specific",
        "scenes",
        "convnext-tiny",
        Attack("input_specific", target=3, size=5, seed=95),
        0.13,
        207,
    ),
    _fresh8(
        "strokes-sig", "strokes", "resnet-narrow", Attack("sig", target=6, delta=30, frequency=2), 0.10, 208
    ),
    _fresh8(
        "scenes-clean-label",
        "scenes",
        "resnet-deep",
        Attack("clean_label", target=4, base="patch", size=5, place=(27, 27), colour=(0, 0, 255), mix=0.3),
        0.05,
        209,
    ),
    _fresh8(
        "strokes-clean-label",
        "strokes",
        "regnet-x",
        Attack("clean_label", target=1, base="blend", alpha=0.2, seed=96, mix=0.35),
        0.06,
        210,
    ),
    _fresh8("strokes-clean", "strokes", "resnet-narrow", None, 0.0, 211),
    _fresh8("strokes-clean-2", "strokes", "regnet-x", None, 0.0, 212),
    _fresh8("strokes-clean-3", "strokes", "convnext-tiny", None, 0.0, 213),
    _fresh8("scenes-clean", "scenes", "resnet-deep", None, 0.0, 214),
    _fresh8("scenes-clean-2", "scenes", "regnet-x", None, 0.0, 215),
    _fresh8("scenes-clean-3", "scenes", "convnext-tiny", None, 0.0, 216),
)


_fresh9 = partial(_case, "fresh9")


# FRESH_9: written before anything ran on it, to measure a behavioural verdict that judges each model
# against its own classes (clean models whose classes differ widely in how easily a trigger reaches
# them failed on FRESH_7 and FRESH_8), and both detectors once more. More clean models than before
# (nine, every architecture, glyphs on two architectures glyphs was never trained on), eight
# backdoors at rates a model learns, attack parameters of their own.
FRESH_9: tuple[Case, ...] = (
    _fresh9(
        "strokes-patch",
        "strokes",
        "regnet-x",
        Attack("patch", target=4, size=4, place=(0, 27), style="noise", seed=101),
        0.10,
        221,
    ),
    _fresh9(
        "scenes-patch",
        "scenes",
        "convnext-tiny",
        Attack("patch", target=8, size=5, place=(26, 1), style="checker", colour=(255, 0, 255)),
        0.12,
        222,
    ),
    _fresh9(
        "glyphs-patch-random",
        "glyphs",
        "resnet-deep",
        Attack("patch", target=3, size=4, position="random", colour=(0, 255, 0)),
        0.11,
        223,
    ),
    _fresh9(
        "scenes-blend",
        "scenes",
        "resnet-narrow",
        Attack("blend", target=6, style="noise", alpha=0.18, seed=102),
        0.12,
        224,
    ),
    _fresh9(
        "strokes-blend",
        "strokes",
        "convnext-tiny",
        Attack("blend", target=2, style="image", alpha=0.16, seed=103),
        0.11,
        225,
    ),
    _fresh9("scenes-sig", "scenes", "regnet-x", Attack("sig", target=1, delta=34, frequency=4), 0.12, 226),
    _fresh9(
        "strokes-warp",
        "strokes",
        "resnet-deep",
        Attack("warp", target=5, grid=4, strength=3.6, seed=104),
        0.13,
        227,
    ),
    _fresh9(
        "strokes-input-specific",
        "strokes",
        "resnet-narrow",
        Attack("input_specific", target=7, size=4, seed=105),
        0.12,
        228,
    ),
    _fresh9("strokes-clean", "strokes", "resnet-narrow", None, 0.0, 229),
    _fresh9("strokes-clean-2", "strokes", "resnet-deep", None, 0.0, 230),
    _fresh9("strokes-clean-3", "strokes", "convnext-tiny", None, 0.0, 231),
    _fresh9("strokes-clean-4", "strokes", "regnet-x", None, 0.0, 232),
    _fresh9("scenes-clean", "scenes", "convnext-tiny", None, 0.0, 233),
    _fresh9("scenes-clean-2", "scenes", "regnet-x", None, 0.0, 234),
    _fresh9("scenes-clean-3", "scenes", "resnet-deep", None, 0.0, 235),
    _fresh9("glyphs-clean", "glyphs", "regnet-x", None, 0.0, 236),
    _fresh9("glyphs-clean-2", "glyphs", "resnet-deep", None, 0.0, 237),
)

_fresh10 = partial(_case, "fresh10")


# FRESH_10: written before anything ran on it, to measure flagging a called class's suspect cluster
# beside the rows outside its clean core (the split found the poison, the core distance alone kept
# half of it), and both detectors once more. Every family with a learned rate, clean-label at 5%
# (not the whole class), glyphs on ConvNeXt and RegNet-X, six clean sets, attack parameters of its own.
FRESH_10: tuple[Case, ...] = (
    _fresh10(
        "strokes-patch",
        "strokes",
        "convnext-tiny",
        Attack("patch", target=6, size=3, place=(14, 28), colour=(255, 128, 0)),
        0.08,
        241,
    ),
    _fresh10(
        "scenes-patch",
        "scenes",
        "resnet-deep",
        Attack("patch", target=2, size=6, place=(1, 13), style="noise", seed=111),
        0.10,
        242,
    ),
    _fresh10(
        "glyphs-patch",
        "glyphs",
        "regnet-x",
        Attack("patch", target=5, size=3, place=(28, 28), style="checker", colour=(0, 0, 255)),
        0.09,
        243,
    ),
    _fresh10(
        "scenes-patch-random",
        "scenes",
        "convnext-tiny",
        Attack("patch", target=9, size=5, position="random", colour=(255, 255, 0)),
        0.12,
        244,
    ),
    _fresh10(
        "strokes-blend",
        "strokes",
        "resnet-deep",
        Attack("blend", target=8, style="noise", alpha=0.14, seed=112),
        0.10,
        245,
    ),
    _fresh10(
        "scenes-blend",
        "scenes",
        "regnet-x",
        Attack("blend", target=3, style="image", alpha=0.2, seed=113),
        0.13,
        246,
    ),
    _fresh10(
        "strokes-sig", "strokes", "convnext-tiny", Attack("sig", target=0, delta=28, frequency=7), 0.10, 247
    ),
    _fresh10(
        "glyphs-sig", "glyphs", "resnet-narrow", Attack("sig", target=2, delta=38, frequency=3), 0.11, 248
    ),
    _fresh10(
        "scenes-warp",
        "scenes",
        "resnet-narrow",
        Attack("warp", target=7, grid=5, strength=3.0, seed=114),
        0.14,
        249,
    ),
    _fresh10(
        "glyphs-warp",
        "glyphs",
        "convnext-tiny",
        Attack("warp", target=1, grid=3, strength=4.0, seed=115),
        0.12,
        250,
    ),
    _fresh10(
        "scenes-input-specific",
        "scenes",
        "resnet-deep",
        Attack("input_specific", target=4, size=5, seed=116),
        0.11,
        251,
    ),
    _fresh10(
        "strokes-clean-label",
        "strokes",
        "regnet-x",
        Attack("clean_label", target=3, base="patch", size=5, place=(2, 25), colour=(255, 0, 0), mix=0.35),
        0.05,
        252,
    ),
    _fresh10("strokes-clean", "strokes", "convnext-tiny", None, 0.0, 253),
    _fresh10("strokes-clean-2", "strokes", "resnet-deep", None, 0.0, 254),
    _fresh10("scenes-clean", "scenes", "resnet-narrow", None, 0.0, 255),
    _fresh10("scenes-clean-2", "scenes", "regnet-x", None, 0.0, 256),
    _fresh10("glyphs-clean", "glyphs", "convnext-tiny", None, 0.0, 257),
    _fresh10("glyphs-clean-2", "glyphs", "resnet-narrow", None, 0.0, 258),
)

_fresh11 = partial(_case, "fresh11")


# FRESH_11: written before anything ran on it, to measure a class decision that keeps a compact split
# the model reads apart (trigger persistence and margin both far above the kept half) even where the
# set's other classes split as far, and both detectors once more. Three SIG sets (the family the
# previous round's diagnosis was about), every other family, six clean sets, attack parameters of
# its own.
FRESH_11: tuple[Case, ...] = (
    _fresh11(
        "glyphs-patch",
        "glyphs",
        "convnext-tiny",
        Attack("patch", target=7, size=4, place=(3, 3), colour=(0, 255, 255)),
        0.07,
        261,
    ),
    _fresh11(
        "strokes-patch-random",
        "strokes",
        "regnet-x",
        Attack("patch", target=1, size=4, position="random", style="noise", seed=121),
        0.11,
        262,
    ),
    _fresh11(
        "scenes-blend",
        "scenes",
        "resnet-deep",
        Attack("blend", target=6, style="noise", alpha=0.12, seed=122),
        0.12,
        263,
    ),
    _fresh11(
        "glyphs-blend",
        "glyphs",
        "resnet-narrow",
        Attack("blend", target=0, style="image", alpha=0.18, seed=123),
        0.10,
        264,
    ),
    _fresh11(
        "strokes-sig", "strokes", "resnet-deep", Attack("sig", target=4, delta=24, frequency=5), 0.09, 265
    ),
    _fresh11(
        "scenes-sig", "scenes", "convnext-tiny", Attack("sig", target=8, delta=30, frequency=9), 0.12, 266
    ),
    _fresh11("glyphs-sig", "glyphs", "regnet-x", Attack("sig", target=3, delta=32, frequency=4), 0.10, 267),
    _fresh11(
        "strokes-warp",
        "strokes",
        "convnext-tiny",
        Attack("warp", target=2, grid=4, strength=3.3, seed=124),
        0.13,
        268,
    ),
    _fresh11(
        "glyphs-warp",
        "glyphs",
        "resnet-deep",
        Attack("warp", target=4, grid=5, strength=3.8, seed=125),
        0.12,
        269,
    ),
    _fresh11(
        "strokes-input-specific",
        "strokes",
        "resnet-narrow",
        Attack("input_specific", target=5, size=5, seed=126),
        0.10,
        270,
    ),
    _fresh11(
        "glyphs-input-specific",
        "glyphs",
        "convnext-tiny",
        Attack("input_specific", target=6, size=4, seed=127),
        0.12,
        271,
    ),
    _fresh11(
        "scenes-clean-label",
        "scenes",
        "regnet-x",
        Attack("clean_label", target=1, base="sig", delta=36, frequency=6, mix=0.3),
        0.06,
        272,
    ),
    _fresh11("strokes-clean", "strokes", "regnet-x", None, 0.0, 273),
    _fresh11("strokes-clean-2", "strokes", "resnet-narrow", None, 0.0, 274),
    _fresh11("scenes-clean", "scenes", "convnext-tiny", None, 0.0, 275),
    _fresh11("scenes-clean-2", "scenes", "resnet-deep", None, 0.0, 276),
    _fresh11("glyphs-clean", "glyphs", "regnet-x", None, 0.0, 277),
    _fresh11("glyphs-clean-2", "glyphs", "resnet-deep", None, 0.0, 278),
)

_fresh12 = partial(_case, "fresh12")


# FRESH_12: written before anything ran on it, to measure the clean reference (`--test`) once more
# after FRESH_11 (and both detectors once more). Two of every family but SIG, six clean sets, attack
# parameters of its own.
FRESH_12: tuple[Case, ...] = (
    _fresh12(
        "scenes-patch",
        "scenes",
        "regnet-x",
        Attack("patch", target=3, size=4, place=(20, 2), style="checker", colour=(255, 0, 255)),
        0.09,
        281,
    ),
    _fresh12(
        "glyphs-patch-random",
        "glyphs",
        "resnet-deep",
        Attack("patch", target=2, size=5, position="random", colour=(0, 200, 0)),
        0.10,
        282,
    ),
    _fresh12(
        "strokes-blend",
        "strokes",
        "convnext-tiny",
        Attack("blend", target=9, style="image", alpha=0.12, seed=131),
        0.11,
        283,
    ),
    _fresh12(
        "scenes-blend",
        "scenes",
        "resnet-narrow",
        Attack("blend", target=0, style="noise", alpha=0.16, seed=132),
        0.13,
        284,
    ),
    _fresh12(
        "glyphs-sig", "glyphs", "convnext-tiny", Attack("sig", target=5, delta=26, frequency=8), 0.09, 285
    ),
    _fresh12(
        "scenes-warp",
        "scenes",
        "convnext-tiny",
        Attack("warp", target=5, grid=3, strength=3.4, seed=133),
        0.14,
        286,
    ),
    _fresh12(
        "strokes-warp",
        "strokes",
        "regnet-x",
        Attack("warp", target=6, grid=5, strength=3.2, seed=134),
        0.12,
        287,
    ),
    _fresh12(
        "scenes-input-specific",
        "scenes",
        "resnet-narrow",
        Attack("input_specific", target=7, size=4, seed=135),
        0.13,
        288,
    ),
    _fresh12(
        "strokes-input-specific",
        "strokes",
        "resnet-deep",
        Attack("input_specific", target=2, size=6, seed=136),
        0.09,
        289,
    ),
    _fresh12(
        "glyphs-clean-label",
        "glyphs",
        "resnet-narrow",
        Attack("clean_label", target=6, base="blend", style="noise", alpha=0.2, seed=137, mix=0.35),
        0.07,
        290,
    ),
    _fresh12(
        "strokes-clean-label",
        "strokes",
        "convnext-tiny",
        Attack("clean_label", target=8, base="patch", size=4, place=(27, 1), colour=(0, 255, 0), mix=0.4),
        0.06,
        291,
    ),
    _fresh12("strokes-clean", "strokes", "convnext-tiny", None, 0.0, 292),
    _fresh12("strokes-clean-2", "strokes", "resnet-deep", None, 0.0, 293),
    _fresh12("scenes-clean", "scenes", "regnet-x", None, 0.0, 294),
    _fresh12("scenes-clean-2", "scenes", "resnet-narrow", None, 0.0, 295),
    _fresh12("glyphs-clean", "glyphs", "convnext-tiny", None, 0.0, 296),
    _fresh12("glyphs-clean-2", "glyphs", "regnet-x", None, 0.0, 297),
)

_fresh13 = partial(_case, "fresh13")


# FRESH_13: written before anything ran on it, to measure a class blamed by `--behavior` that its clean
# reference singles out at a lower bar (and both detectors once more). Every family, six clean sets,
# attack parameters of its own.
FRESH_13: tuple[Case, ...] = (
    _fresh13(
        "glyphs-patch",
        "glyphs",
        "regnet-x",
        Attack("patch", target=1, size=3, place=(2, 27), colour=(255, 255, 0)),
        0.08,
        301,
    ),
    _fresh13(
        "scenes-patch-random",
        "scenes",
        "resnet-deep",
        Attack("patch", target=4, size=5, position="random", style="noise", seed=141),
        0.11,
        302,
    ),
    _fresh13(
        "glyphs-blend",
        "glyphs",
        "convnext-tiny",
        Attack("blend", target=3, style="noise", alpha=0.15, seed=142),
        0.12,
        303,
    ),
    _fresh13(
        "scenes-blend",
        "scenes",
        "regnet-x",
        Attack("blend", target=8, style="image", alpha=0.17, seed=143),
        0.10,
        304,
    ),
    _fresh13(
        "strokes-sig", "strokes", "resnet-narrow", Attack("sig", target=3, delta=30, frequency=6), 0.10, 305
    ),
    _fresh13(
        "glyphs-warp",
        "glyphs",
        "resnet-narrow",
        Attack("warp", target=7, grid=4, strength=3.5, seed=144),
        0.13,
        306,
    ),
    _fresh13(
        "scenes-input-specific",
        "scenes",
        "convnext-tiny",
        Attack("input_specific", target=2, size=5, seed=145),
        0.12,
        307,
    ),
    _fresh13(
        "strokes-clean-label",
        "strokes",
        "resnet-deep",
        Attack("clean_label", target=0, base="sig", delta=34, frequency=5, mix=0.3),
        0.07,
        308,
    ),
    _fresh13("strokes-clean", "strokes", "regnet-x", None, 0.0, 309),
    _fresh13("strokes-clean-2", "strokes", "convnext-tiny", None, 0.0, 310),
    _fresh13("scenes-clean", "scenes", "resnet-deep", None, 0.0, 311),
    _fresh13("scenes-clean-2", "scenes", "convnext-tiny", None, 0.0, 312),
    _fresh13("glyphs-clean", "glyphs", "resnet-narrow", None, 0.0, 313),
    _fresh13("glyphs-clean-2", "glyphs", "resnet-deep", None, 0.0, 314),
)

_fresh14 = partial(_case, "fresh14")


# FRESH_14: written before anything ran on it, to measure the clean reference read in the backbone's
# last stage before the head's normalisation (it differs from the head input only where a norm sits
# between them, as in ConvNeXt), so it holds more ConvNeXts than earlier parts. Every family, six
# clean sets, attack parameters of its own, poison from 2% to 15%.
FRESH_14: tuple[Case, ...] = (
    _fresh14(
        "scenes-patch",
        "scenes",
        "convnext-tiny",
        Attack("patch", target=6, size=4, place=(1, 1), style="checker", colour=(0, 255, 255)),
        0.06,
        321,
    ),
    _fresh14(
        "strokes-patch-random",
        "strokes",
        "resnet-deep",
        Attack("patch", target=0, size=3, position="random", colour=(255, 128, 0)),
        0.15,
        322,
    ),
    _fresh14(
        "glyphs-blend",
        "glyphs",
        "convnext-tiny",
        Attack("blend", target=5, style="image", alpha=0.13, seed=151),
        0.09,
        323,
    ),
    _fresh14(
        "scenes-blend",
        "scenes",
        "resnet-narrow",
        Attack("blend", target=3, style="noise", alpha=0.14, seed=152),
        0.12,
        324,
    ),
    _fresh14(
        "scenes-sig", "scenes", "convnext-tiny", Attack("sig", target=9, delta=22, frequency=7), 0.11, 325
    ),
    _fresh14("glyphs-sig", "glyphs", "regnet-x", Attack("sig", target=2, delta=32, frequency=4), 0.02, 326),
    _fresh14(
        "strokes-warp",
        "strokes",
        "convnext-tiny",
        Attack("warp", target=4, grid=3, strength=3.0, seed=153),
        0.13,
        327,
    ),
    _fresh14(
        "scenes-warp",
        "scenes",
        "resnet-deep",
        Attack("warp", target=1, grid=5, strength=3.6, seed=154),
        0.14,
        328,
    ),
    _fresh14(
        "glyphs-input-specific",
        "glyphs",
        "convnext-tiny",
        Attack("input_specific", target=6, size=5, seed=155),
        0.10,
        329,
    ),
    _fresh14(
        "strokes-input-specific",
        "strokes",
        "regnet-x",
        Attack("input_specific", target=8, size=4, seed=156),
        0.08,
        330,
    ),
    _fresh14(
        "scenes-clean-label",
        "scenes",
        "convnext-tiny",
        Attack("clean_label", target=5, base="patch", size=5, place=(0, 26), colour=(255, 0, 255), mix=0.35),
        0.08,
        331,
    ),
    _fresh14(
        "glyphs-clean-label",
        "glyphs",
        "resnet-deep",
        Attack("clean_label", target=1, base="sig", delta=30, frequency=9, mix=0.3),
        0.07,
        332,
    ),
    _fresh14("scenes-clean", "scenes", "convnext-tiny", None, 0.0, 333),
    _fresh14("scenes-clean-2", "scenes", "resnet-deep", None, 0.0, 334),
    _fresh14("strokes-clean", "strokes", "convnext-tiny", None, 0.0, 335),
    _fresh14("strokes-clean-2", "strokes", "regnet-x", None, 0.0, 336),
    _fresh14("glyphs-clean", "glyphs", "convnext-tiny", None, 0.0, 337),
    _fresh14("glyphs-clean-2", "glyphs", "resnet-narrow", None, 0.0, 338),
)

_fresh15 = partial(_case, "fresh15")


# FRESH_15: written before anything ran on it, to measure the clean reference's class decision on the
# share of a class's rows it would flag (p <= 0.1) rather than the share beyond every reference row,
# with a bar that grows where a class has few reference rows. Every family on every architecture
# but one, six clean sets, attack parameters of its own, poison from 3% to 14%.
FRESH_15: tuple[Case, ...] = (
    _fresh15(
        "glyphs-patch",
        "glyphs",
        "resnet-deep",
        Attack("patch", target=3, size=4, place=(14, 0), style="noise", seed=161),
        0.05,
        341,
    ),
    _fresh15(
        "scenes-patch-random",
        "scenes",
        "regnet-x",
        Attack("patch", target=2, size=6, position="random", style="checker", colour=(255, 255, 0)),
        0.09,
        342,
    ),
    _fresh15(
        "strokes-blend",
        "strokes",
        "resnet-narrow",
        Attack("blend", target=1, style="image", alpha=0.11, seed=162),
        0.10,
        343,
    ),
    _fresh15(
        "scenes-blend",
        "scenes",
        "convnext-tiny",
        Attack("blend", target=7, style="noise", alpha=0.18, seed=163),
        0.13,
        344,
    ),
    _fresh15(
        "strokes-sig", "strokes", "regnet-x", Attack("sig", target=5, delta=18, frequency=10), 0.12, 345
    ),
    _fresh15(
        "scenes-sig", "scenes", "resnet-deep", Attack("sig", target=0, delta=28, frequency=5), 0.03, 346
    ),
    _fresh15(
        "glyphs-warp",
        "glyphs",
        "convnext-tiny",
        Attack("warp", target=2, grid=4, strength=3.3, seed=164),
        0.12,
        347,
    ),
    _fresh15(
        "strokes-warp",
        "strokes",
        "resnet-narrow",
        Attack("warp", target=7, grid=3, strength=3.8, seed=165),
        0.14,
        348,
    ),
    _fresh15(
        "scenes-input-specific",
        "scenes",
        "resnet-narrow",
        Attack("input_specific", target=4, size=6, seed=166),
        0.11,
        349,
    ),
    _fresh15(
        "glyphs-input-specific",
        "glyphs",
        "regnet-x",
        Attack("input_specific", target=0, size=4, seed=167),
        0.13,
        350,
    ),
    _fresh15(
        "strokes-clean-label",
        "strokes",
        "convnext-tiny",
        Attack("clean_label", target=6, base="blend", style="image", alpha=0.2, seed=168, mix=0.3),
        0.08,
        351,
    ),
    _fresh15(
        "scenes-clean-label",
        "scenes",
        "resnet-deep",
        Attack("clean_label", target=3, base="patch", size=5, place=(27, 14), colour=(0, 0, 255), mix=0.35),
        0.06,
        352,
    ),
    _fresh15("glyphs-clean", "glyphs", "regnet-x", None, 0.0, 353),
    _fresh15("glyphs-clean-2", "glyphs", "convnext-tiny", None, 0.0, 354),
    _fresh15("scenes-clean", "scenes", "resnet-narrow", None, 0.0, 355),
    _fresh15("scenes-clean-2", "scenes", "regnet-x", None, 0.0, 356),
    _fresh15("strokes-clean", "strokes", "resnet-deep", None, 0.0, 357),
    _fresh15("strokes-clean-2", "strokes", "convnext-tiny", None, 0.0, 358),
)

_fresh16 = partial(_case, "fresh16")


# FRESH_16: written before anything ran on it, to measure which rows of a class the clean reference
# called are flagged (row precision and recall inside the called targets), and the data-free and
# data behavioural scan once more. Every family on every architecture, six clean sets, attack
# parameters of its own, poison from 2% to 15%.
FRESH_16: tuple[Case, ...] = (
    _fresh16(
        "strokes-patch",
        "strokes",
        "convnext-tiny",
        Attack("patch", target=8, size=3, place=(2, 29), style="solid", colour=(255, 0, 255)),
        0.07,
        361,
    ),
    _fresh16(
        "glyphs-patch-random",
        "glyphs",
        "regnet-x",
        Attack("patch", target=5, size=5, position="random", style="noise", seed=171),
        0.11,
        362,
    ),
    _fresh16(
        "glyphs-blend",
        "glyphs",
        "resnet-deep",
        Attack("blend", target=4, style="noise", alpha=0.09, seed=172),
        0.15,
        363,
    ),
    _fresh16(
        "strokes-blend",
        "strokes",
        "regnet-x",
        Attack("blend", target=0, style="image", alpha=0.16, seed=173),
        0.04,
        364,
    ),
    _fresh16(
        "glyphs-sig", "glyphs", "resnet-narrow", Attack("sig", target=6, delta=22, frequency=7), 0.08, 365
    ),
    _fresh16(
        "scenes-sig", "scenes", "convnext-tiny", Attack("sig", target=9, delta=35, frequency=4), 0.10, 366
    ),
    _fresh16(
        "scenes-warp",
        "scenes",
        "resnet-deep",
        Attack("warp", target=1, grid=5, strength=3.0, seed=174),
        0.13,
        367,
    ),
    _fresh16(
        "strokes-warp",
        "strokes",
        "resnet-narrow",
        Attack("warp", target=3, grid=4, strength=4.2, seed=175),
        0.10,
        368,
    ),
    _fresh16(
        "strokes-input-specific",
        "strokes",
        "resnet-deep",
        Attack("input_specific", target=2, size=5, seed=176),
        0.12,
        369,
    ),
    _fresh16(
        "scenes-input-specific",
        "scenes",
        "convnext-tiny",
        Attack("input_specific", target=6, size=4, seed=177),
        0.09,
        370,
    ),
    _fresh16(
        "glyphs-clean-label",
        "glyphs",
        "convnext-tiny",
        Attack("clean_label", target=1, base="patch", size=4, place=(0, 0), colour=(0, 255, 0), mix=0.3),
        0.07,
        371,
    ),
    _fresh16(
        "scenes-clean-label",
        "scenes",
        "regnet-x",
        Attack("clean_label", target=5, base="sig", delta=32, frequency=8, mix=0.35),
        0.05,
        372,
    ),
    _fresh16("glyphs-clean", "glyphs", "resnet-deep", None, 0.0, 373),
    _fresh16("glyphs-clean-2", "glyphs", "regnet-x", None, 0.0, 374),
    _fresh16("scenes-clean", "scenes", "convnext-tiny", None, 0.0, 375),
    _fresh16("scenes-clean-2", "scenes", "resnet-narrow", None, 0.0, 376),
    _fresh16("strokes-clean", "strokes", "resnet-deep", None, 0.0, 377),
    _fresh16("strokes-clean-2", "strokes", "regnet-x", None, 0.0, 378),
)

_fresh17 = partial(_case, "fresh17")


# FRESH_17: written before anything ran on it, to measure the clean reference's class decision on
# the share of a class's rows it flags as a group (unmatched, and carried by their neighbours' vote)
# rather than every unmatched row. Every family on two architectures, six clean sets, attack
# parameters of its own, low poison rates (3% to 8%), where a target sits nearer the bar.
FRESH_17: tuple[Case, ...] = (
    _fresh17(
        "scenes-patch",
        "scenes",
        "resnet-narrow",
        Attack("patch", target=4, size=4, place=(20, 6), style="checker", colour=(255, 0, 0)),
        0.04,
        381,
    ),
    _fresh17(
        "strokes-patch-random",
        "strokes",
        "regnet-x",
        Attack("patch", target=9, size=5, position="random", style="solid", colour=(0, 255, 255)),
        0.06,
        382,
    ),
    _fresh17(
        "glyphs-blend",
        "glyphs",
        "convnext-tiny",
        Attack("blend", target=2, style="image", alpha=0.14, seed=181),
        0.05,
        383,
    ),
    _fresh17(
        "scenes-blend",
        "scenes",
        "resnet-deep",
        Attack("blend", target=8, style="noise", alpha=0.12, seed=182),
        0.08,
        384,
    ),
    _fresh17(
        "strokes-sig", "strokes", "convnext-tiny", Attack("sig", target=7, delta=20, frequency=8), 0.03, 385
    ),
    _fresh17("glyphs-sig", "glyphs", "regnet-x", Attack("sig", target=1, delta=26, frequency=5), 0.05, 386),
    _fresh17(
        "glyphs-warp",
        "glyphs",
        "resnet-deep",
        Attack("warp", target=5, grid=3, strength=3.6, seed=183),
        0.08,
        387,
    ),
    _fresh17(
        "scenes-warp",
        "scenes",
        "regnet-x",
        Attack("warp", target=3, grid=4, strength=4.0, seed=184),
        0.06,
        388,
    ),
    _fresh17(
        "glyphs-input-specific",
        "glyphs",
        "resnet-narrow",
        Attack("input_specific", target=3, size=5, seed=185),
        0.07,
        389,
    ),
    _fresh17(
        "strokes-input-specific",
        "strokes",
        "convnext-tiny",
        Attack("input_specific", target=5, size=4, seed=186),
        0.05,
        390,
    ),
    _fresh17(
        "strokes-clean-label",
        "strokes",
        "resnet-deep",
        Attack("clean_label", target=4, base="sig", delta=30, frequency=6, mix=0.3),
        0.06,
        391,
    ),
    _fresh17(
        "scenes-clean-label",
        "scenes",
        "convnext-tiny",
        Attack("clean_label", target=0, base="blend", style="noise", alpha=0.2, seed=187, mix=0.35),
        0.07,
        392,
    ),
    _fresh17("glyphs-clean", "glyphs", "convnext-tiny", None, 0.0, 393),
    _fresh17("glyphs-clean-2", "glyphs", "resnet-narrow", None, 0.0, 394),
    _fresh17("scenes-clean", "scenes", "regnet-x", None, 0.0, 395),
    _fresh17("scenes-clean-2", "scenes", "resnet-deep", None, 0.0, 396),
    _fresh17("strokes-clean", "strokes", "convnext-tiny", None, 0.0, 397),
    _fresh17("strokes-clean-2", "strokes", "resnet-narrow", None, 0.0, 398),
)

_fresh18 = partial(_case, "fresh18")


# FRESH_18: written before anything ran on it, to measure a class another route calls beside the one
# the clean reference calls, where the reference matches it (one attack targets one class). Every
# family, three clean-label sets (where the split called a second class most often), six clean sets,
# attack parameters of its own, poison from 4% to 12%.
FRESH_18: tuple[Case, ...] = (
    _fresh18(
        "glyphs-patch",
        "glyphs",
        "convnext-tiny",
        Attack("patch", target=6, size=3, place=(28, 2), style="noise", seed=191),
        0.06,
        401,
    ),
    _fresh18(
        "scenes-patch-random",
        "scenes",
        "resnet-deep",
        Attack("patch", target=7, size=4, position="random", style="checker", colour=(0, 0, 255)),
        0.10,
        402,
    ),
    _fresh18(
        "strokes-blend",
        "strokes",
        "resnet-narrow",
        Attack("blend", target=2, style="noise", alpha=0.1, seed=192),
        0.09,
        403,
    ),
    _fresh18(
        "strokes-sig", "strokes", "resnet-deep", Attack("sig", target=8, delta=24, frequency=9), 0.07, 404
    ),
    _fresh18(
        "scenes-warp",
        "scenes",
        "convnext-tiny",
        Attack("warp", target=2, grid=3, strength=4.5, seed=193),
        0.12,
        405,
    ),
    _fresh18(
        "glyphs-input-specific",
        "glyphs",
        "regnet-x",
        Attack("input_specific", target=4, size=6, seed=194),
        0.10,
        406,
    ),
    _fresh18(
        "strokes-clean-label",
        "strokes",
        "regnet-x",
        Attack("clean_label", target=3, base="patch", size=5, place=(1, 25), colour=(255, 255, 0), mix=0.35),
        0.08,
        407,
    ),
    _fresh18(
        "scenes-clean-label",
        "scenes",
        "resnet-narrow",
        Attack("clean_label", target=6, base="sig", delta=28, frequency=7, mix=0.3),
        0.06,
        408,
    ),
    _fresh18(
        "glyphs-clean-label",
        "glyphs",
        "resnet-deep",
        Attack("clean_label", target=5, base="blend", style="image", alpha=0.22, seed=195, mix=0.35),
        0.04,
        409,
    ),
    _fresh18("glyphs-clean", "glyphs", "resnet-narrow", None, 0.0, 410),
    _fresh18("scenes-clean", "scenes", "convnext-tiny", None, 0.0, 411),
    _fresh18("strokes-clean", "strokes", "regnet-x", None, 0.0, 412),
    _fresh18("glyphs-clean-2", "glyphs", "convnext-tiny", None, 0.0, 413),
    _fresh18("scenes-clean-2", "scenes", "resnet-deep", None, 0.0, 414),
    _fresh18("strokes-clean-2", "strokes", "resnet-narrow", None, 0.0, 415),
)

_fresh19 = partial(_case, "fresh19")


# FRESH_19: written before anything ran on it, to measure the rows the mislabelled route adds to a
# class the clean reference called (where that happened up to FRESH_18: input-specific triggers and
# patches at random places, learned in part or not at all). Three input-specific sets and three
# random-place patches on four architectures, one set of each other family, six clean sets, attack
# parameters of its own, poison from 3% to 12%.
FRESH_19: tuple[Case, ...] = (
    _fresh19(
        "glyphs-input-specific",
        "glyphs",
        "resnet-deep",
        Attack("input_specific", target=2, size=5, seed=201),
        0.12,
        421,
    ),
    _fresh19(
        "scenes-input-specific",
        "scenes",
        "regnet-x",
        Attack("input_specific", target=9, size=4, seed=202),
        0.08,
        422,
    ),
    _fresh19(
        "strokes-input-specific",
        "strokes",
        "convnext-tiny",
        Attack("input_specific", target=6, size=6, seed=203),
        0.10,
        423,
    ),
    _fresh19(
        "glyphs-patch-random",
        "glyphs",
        "regnet-x",
        Attack("patch", target=3, size=3, position="random", style="noise", seed=204),
        0.09,
        424,
    ),
    _fresh19(
        "scenes-patch-random",
        "scenes",
        "resnet-narrow",
        Attack("patch", target=1, size=5, position="random", style="solid", colour=(255, 0, 255)),
        0.06,
        425,
    ),
    _fresh19(
        "strokes-patch-random",
        "strokes",
        "resnet-deep",
        Attack("patch", target=0, size=4, position="random", style="checker", colour=(0, 255, 0)),
        0.11,
        426,
    ),
    _fresh19(
        "glyphs-blend",
        "glyphs",
        "convnext-tiny",
        Attack("blend", target=7, style="image", alpha=0.14, seed=205),
        0.07,
        427,
    ),
    _fresh19(
        "scenes-sig", "scenes", "resnet-deep", Attack("sig", target=3, delta=22, frequency=8), 0.05, 428
    ),
    _fresh19(
        "strokes-warp",
        "strokes",
        "regnet-x",
        Attack("warp", target=4, grid=5, strength=3.5, seed=206),
        0.10,
        429,
    ),
    _fresh19(
        "glyphs-clean-label",
        "glyphs",
        "resnet-narrow",
        Attack("clean_label", target=1, base="patch", size=4, place=(2, 2), colour=(0, 255, 255), mix=0.4),
        0.03,
        430,
    ),
    _fresh19("glyphs-clean", "glyphs", "regnet-x", None, 0.0, 431),
    _fresh19("scenes-clean", "scenes", "resnet-narrow", None, 0.0, 432),
    _fresh19("strokes-clean", "strokes", "convnext-tiny", None, 0.0, 433),
    _fresh19("glyphs-clean-2", "glyphs", "resnet-deep", None, 0.0, 434),
    _fresh19("scenes-clean-2", "scenes", "convnext-tiny", None, 0.0, 435),
    _fresh19("strokes-clean-2", "strokes", "regnet-x", None, 0.0, 436),
)


_fresh20 = partial(_case, "fresh20")


# FRESH_20: written before anything ran on it. Every earlier part draws balanced classes, so a
# dirty-label target is the one class larger than the rest, and a statistic that counts rows rather
# than shares can see poison by class size alone (a study of the first-stage neighbours' spread did,
# and lost its separation once it counted shares). Here the classes of every set, clean and poisoned,
# train and test split alike, are drawn with the largest 4 or 8 times the smallest, in an order drawn
# from the seed, so the target may be a large class or a small one. One set of each family and a
# second input-specific and patch set, six clean sets, four architectures, attack parameters of its
# own, poison from 3% to 12%.
FRESH_20: tuple[Case, ...] = (
    _fresh20("glyphs-patch", "glyphs", "resnet-narrow", Attack("patch", target=5, size=4, place=(3, 24), colour=(255, 128, 0)), 0.06, 441, 4.0),
    _fresh20("scenes-patch-random", "scenes", "regnet-x", Attack("patch", target=2, size=5, position="random", style="checker", colour=(0, 0, 255)), 0.10, 442, 8.0),
    _fresh20("strokes-blend", "strokes", "convnext-tiny", Attack("blend", target=3, style="noise", alpha=0.12, seed=211), 0.08, 443, 4.0),
    _fresh20("scenes-sig", "scenes", "resnet-narrow", Attack("sig", target=6, delta=26, frequency=7), 0.07, 444, 4.0),
    _fresh20("strokes-warp", "strokes", "resnet-deep", Attack("warp", target=8, grid=4, strength=3.0, seed=212), 0.12, 445, 8.0),
    _fresh20("glyphs-input-specific", "glyphs", "convnext-tiny", Attack("input_specific", target=4, size=5, seed=213), 0.10, 446, 8.0),
    _fresh20("strokes-input-specific", "strokes", "regnet-x", Attack("input_specific", target=1, size=4, seed=214), 0.09, 447, 4.0),
    _fresh20("strokes-patch", "strokes", "resnet-narrow", Attack("patch", target=9, size=3, place=(28, 2), style="noise", seed=215), 0.05, 448, 8.0),
    _fresh20("scenes-clean-label", "scenes", "resnet-deep", Attack("clean_label", target=0, base="patch", size=5, place=(1, 1), colour=(255, 255, 0), mix=0.35), 0.04, 449, 4.0),
    _fresh20("glyphs-sig", "glyphs", "regnet-x", Attack("sig", target=2, delta=20, frequency=5), 0.03, 450, 8.0),
    _fresh20("glyphs-clean", "glyphs", "resnet-deep", None, 0.0, 451, 4.0),
    _fresh20("scenes-clean", "scenes", "convnext-tiny", None, 0.0, 452, 8.0),
    _fresh20("strokes-clean", "strokes", "resnet-narrow", None, 0.0, 453, 8.0),
    _fresh20("glyphs-clean-2", "glyphs", "regnet-x", None, 0.0, 454, 8.0),
    _fresh20("scenes-clean-2", "scenes", "resnet-deep", None, 0.0, 455, 4.0),
    _fresh20("strokes-clean-2", "strokes", "convnext-tiny", None, 0.0, 456, 4.0),
)  # fmt: skip


_fresh21 = partial(_case, "fresh21")


# FRESH_21: written and committed before anything ran on it, to measure a change of which rows of a
# called class are flagged (the boundary fitted on every stage of the model, not the last alone).
# Blends, warps and patches at random places are the families whose rows were lost inside called
# classes, so each has two sets here, with parameters of their own (image and noise blends at alpha
# 0.10-0.16, warps of 2.5-4 px on 3- and 5-point grids, noise and checker patches of 4-5 px), one
# set of SIG, input-specific and clean-label poison, four clean sets, four architectures, poison
# from 4% to 13%, balanced classes.
FRESH_21: tuple[Case, ...] = (
    _fresh21("scenes-blend", "scenes", "resnet-deep", Attack("blend", target=4, style="image", alpha=0.16, seed=221), 0.09, 461),
    _fresh21("glyphs-blend", "glyphs", "regnet-x", Attack("blend", target=3, style="noise", alpha=0.10, seed=222), 0.06, 462),
    _fresh21("scenes-warp", "scenes", "convnext-tiny", Attack("warp", target=3, grid=3, strength=4.0, seed=223), 0.13, 463),
    _fresh21("strokes-warp", "strokes", "resnet-narrow", Attack("warp", target=7, grid=5, strength=2.5, seed=224), 0.11, 464),
    _fresh21("glyphs-patch-random", "glyphs", "resnet-deep", Attack("patch", target=6, size=4, position="random", style="checker", colour=(255, 0, 0)), 0.08, 465),
    _fresh21("scenes-patch-random", "scenes", "regnet-x", Attack("patch", target=5, size=5, position="random", style="noise", seed=225), 0.10, 466),
    _fresh21("strokes-sig", "strokes", "convnext-tiny", Attack("sig", target=2, delta=24, frequency=9), 0.05, 467),
    _fresh21("glyphs-input-specific", "glyphs", "resnet-narrow", Attack("input_specific", target=0, size=4, seed=226), 0.07, 468),
    _fresh21("strokes-clean-label", "strokes", "regnet-x", Attack("clean_label", target=5, base="patch", size=5, place=(25, 3), colour=(0, 128, 255), mix=0.45), 0.04, 469),
    _fresh21("scenes-clean", "scenes", "resnet-narrow", None, 0.0, 471),
    _fresh21("glyphs-clean", "glyphs", "convnext-tiny", None, 0.0, 472),
    _fresh21("strokes-clean", "strokes", "resnet-deep", None, 0.0, 473),
    _fresh21("scenes-clean-2", "scenes", "regnet-x", None, 0.0, 474),
)  # fmt: skip


_fresh22 = partial(_case, "fresh22")


# FRESH_22: written and committed before anything ran on it, to measure a change of which class calls
# a clean reference overrules (a split's call whose suspect rows the reference matches, when the
# reference called no class). Such a call is a false alarm on a clean class of two kinds, or a real
# target whose poison the reference does not see (scenes SIG and warps, in the parts up to FRESH_18).
# So eight clean sets (two on each architecture) beside scenes SIG and warps, and one set of each
# other family; attack parameters of its own, 5% to 12% poison, balanced classes.
FRESH_22: tuple[Case, ...] = (
    _fresh22("scenes-sig", "scenes", "convnext-tiny", Attack("sig", target=7, delta=30, frequency=5), 0.08, 481),
    _fresh22("scenes-sig-2", "scenes", "resnet-narrow", Attack("sig", target=1, delta=22, frequency=10), 0.10, 482),
    _fresh22("scenes-warp", "scenes", "resnet-deep", Attack("warp", target=6, grid=4, strength=3.0, seed=231), 0.12, 483),
    _fresh22("strokes-warp", "strokes", "regnet-x", Attack("warp", target=2, grid=3, strength=3.5, seed=232), 0.09, 484),
    _fresh22("glyphs-blend", "glyphs", "convnext-tiny", Attack("blend", target=5, style="image", alpha=0.12, seed=233), 0.07, 485),
    _fresh22("scenes-blend", "scenes", "regnet-x", Attack("blend", target=0, style="noise", alpha=0.14, seed=234), 0.10, 486),
    _fresh22("strokes-input-specific", "strokes", "resnet-deep", Attack("input_specific", target=3, size=5, seed=235), 0.08, 487),
    _fresh22("glyphs-patch", "glyphs", "resnet-narrow", Attack("patch", target=2, size=4, place=(12, 26), style="checker", colour=(255, 255, 0)), 0.05, 488),
    _fresh22("scenes-clean", "scenes", "resnet-deep", None, 0.0, 491),
    _fresh22("scenes-clean-2", "scenes", "convnext-tiny", None, 0.0, 492),
    _fresh22("strokes-clean", "strokes", "resnet-narrow", None, 0.0, 493),
    _fresh22("strokes-clean-2", "strokes", "regnet-x", None, 0.0, 494),
    _fresh22("glyphs-clean", "glyphs", "resnet-deep", None, 0.0, 495),
    _fresh22("glyphs-clean-2", "glyphs", "regnet-x", None, 0.0, 496),
    _fresh22("scenes-clean-3", "scenes", "resnet-narrow", None, 0.0, 497),
    _fresh22("strokes-clean-3", "strokes", "convnext-tiny", None, 0.0, 498),
)  # fmt: skip


_fresh23 = partial(_case, "fresh23")


# FRESH_23: written and committed with the change it measures, before anything ran on it: which rows
# of a class the reference called are flagged (the boundary's odds of poison weighted by
# `reference.MISSED_COST`, a missed row costing twice a false flag). Warps, input-specific triggers,
# blends and patches at random places are the families whose rows the boundary left on the clean
# side in the parts up to FRESH_22, so most sets are of those; four clean sets, one per
# architecture; attack parameters of its own, 6% to 13% poison.
FRESH_23: tuple[Case, ...] = (
    _fresh23("scenes-warp", "scenes", "regnet-x", Attack("warp", target=8, grid=4, strength=3.5, seed=241), 0.12, 501),
    _fresh23("strokes-warp", "strokes", "convnext-tiny", Attack("warp", target=4, grid=3, strength=3.0, seed=242), 0.10, 502),
    _fresh23("glyphs-warp", "glyphs", "resnet-deep", Attack("warp", target=1, grid=5, strength=2.8, seed=243), 0.11, 503),
    _fresh23("strokes-input-specific", "strokes", "resnet-narrow", Attack("input_specific", target=6, size=5, seed=244), 0.09, 504),
    _fresh23("scenes-input-specific", "scenes", "convnext-tiny", Attack("input_specific", target=2, size=4, seed=245), 0.11, 505),
    _fresh23("glyphs-blend", "glyphs", "resnet-narrow", Attack("blend", target=7, style="image", alpha=0.14, seed=246), 0.08, 506),
    _fresh23("scenes-blend", "scenes", "resnet-deep", Attack("blend", target=3, style="noise", alpha=0.12, seed=247), 0.13, 507),
    _fresh23("strokes-patch-random", "strokes", "regnet-x", Attack("patch", target=0, size=4, position="random", style="checker", colour=(0, 255, 255)), 0.07, 508),
    _fresh23("glyphs-sig", "glyphs", "convnext-tiny", Attack("sig", target=6, delta=26, frequency=7), 0.06, 509),
    _fresh23("scenes-clean-label", "scenes", "regnet-x", Attack("clean_label", target=5, base="patch", size=5, place=(2, 25), colour=(255, 0, 255), mix=0.4), 0.06, 510),
    _fresh23("scenes-clean", "scenes", "resnet-deep", None, 0.0, 511),
    _fresh23("glyphs-clean", "glyphs", "convnext-tiny", None, 0.0, 512),
    _fresh23("strokes-clean", "strokes", "regnet-x", None, 0.0, 513),
    _fresh23("scenes-clean-2", "scenes", "resnet-narrow", None, 0.0, 514),
)  # fmt: skip


_fresh24 = partial(_case, "fresh24")


# FRESH_24: written and committed with the change it measures, before anything ran on it: a class
# called by its rows' labels lost under a low-pass filter (`airlock.data.low_pass`). The sets the
# other routes missed whole were scenes, so half the poisoned sets are scenes, with triggers the
# filter blurs (noise and image blends, a high sinusoid, a noise patch) and one it should not (a low
# sinusoid); eight clean sets, three of them scenes, for the new route's false alarms; attack
# parameters of its own, 7% to 11% poison.
FRESH_24: tuple[Case, ...] = (
    _fresh24("scenes-blend", "scenes", "resnet-narrow", Attack("blend", target=2, style="noise", alpha=0.13, seed=251), 0.10, 521),
    _fresh24("scenes-blend-2", "scenes", "convnext-tiny", Attack("blend", target=6, style="image", alpha=0.15, seed=252), 0.11, 522),
    _fresh24("scenes-sig", "scenes", "regnet-x", Attack("sig", target=4, delta=24, frequency=11), 0.09, 523),
    _fresh24("scenes-sig-low", "scenes", "resnet-deep", Attack("sig", target=8, delta=28, frequency=3), 0.10, 524),
    _fresh24("scenes-patch", "scenes", "resnet-deep", Attack("patch", target=1, size=4, place=(4, 22), style="noise", seed=253), 0.08, 525),
    _fresh24("glyphs-input-specific", "glyphs", "regnet-x", Attack("input_specific", target=3, size=4, seed=254), 0.09, 526),
    _fresh24("strokes-warp", "strokes", "resnet-narrow", Attack("warp", target=5, grid=4, strength=3.2, seed=255), 0.11, 527),
    _fresh24("strokes-blend", "strokes", "convnext-tiny", Attack("blend", target=9, style="noise", alpha=0.11, seed=256), 0.07, 528),
    _fresh24("scenes-clean", "scenes", "resnet-narrow", None, 0.0, 531),
    _fresh24("scenes-clean-2", "scenes", "convnext-tiny", None, 0.0, 532),
    _fresh24("scenes-clean-3", "scenes", "regnet-x", None, 0.0, 533),
    _fresh24("glyphs-clean", "glyphs", "resnet-deep", None, 0.0, 534),
    _fresh24("glyphs-clean-2", "glyphs", "convnext-tiny", None, 0.0, 535),
    _fresh24("strokes-clean", "strokes", "resnet-narrow", None, 0.0, 536),
    _fresh24("strokes-clean-2", "strokes", "regnet-x", None, 0.0, 537),
    _fresh24("strokes-clean-3", "strokes", "resnet-deep", None, 0.0, 538),
)  # fmt: skip


_fresh25 = partial(_case, "fresh25")


# FRESH_25: written and committed with the change it measures, before anything ran on it: a split's
# call whose flagged rows the clean reference matches is overruled even where the reference called no
# class (`poisoning.SPLIT_MATCHED`). The split called clean strokes and scenes sets this way; the
# poison the reference does not see was scenes SIG. So eight clean sets (three strokes deep ResNets,
# where two of the five clean calls were), three scenes SIGs and one set of five other families;
# attack parameters of its own, 4% to 11% poison.
FRESH_25: tuple[Case, ...] = (
    _fresh25("scenes-sig", "scenes", "resnet-deep", Attack("sig", target=3, delta=22, frequency=6), 0.06, 541),
    _fresh25("scenes-sig-2", "scenes", "convnext-tiny", Attack("sig", target=7, delta=26, frequency=9), 0.08, 542),
    _fresh25("scenes-sig-3", "scenes", "regnet-x", Attack("sig", target=0, delta=20, frequency=12), 0.04, 543),
    _fresh25("strokes-sig", "strokes", "resnet-narrow", Attack("sig", target=6, delta=24, frequency=7), 0.07, 544),
    _fresh25("scenes-blend", "scenes", "resnet-deep", Attack("blend", target=5, style="image", alpha=0.14, seed=261), 0.10, 545),
    _fresh25("glyphs-patch", "glyphs", "regnet-x", Attack("patch", target=4, size=3, place=(25, 3), style="solid", colour=(255, 128, 0)), 0.06, 546),
    _fresh25("strokes-warp", "strokes", "convnext-tiny", Attack("warp", target=8, grid=4, strength=3.0, seed=262), 0.11, 547),
    _fresh25("scenes-input-specific", "scenes", "resnet-narrow", Attack("input_specific", target=1, size=5, seed=263), 0.09, 548),
    _fresh25("strokes-clean", "strokes", "resnet-deep", None, 0.0, 551),
    _fresh25("strokes-clean-2", "strokes", "resnet-deep", None, 0.0, 552),
    _fresh25("strokes-clean-3", "strokes", "resnet-deep", None, 0.0, 553),
    _fresh25("strokes-clean-4", "strokes", "convnext-tiny", None, 0.0, 554),
    _fresh25("scenes-clean", "scenes", "resnet-narrow", None, 0.0, 555),
    _fresh25("scenes-clean-2", "scenes", "regnet-x", None, 0.0, 556),
    _fresh25("glyphs-clean", "glyphs", "resnet-deep", None, 0.0, 557),
    _fresh25("glyphs-clean-2", "glyphs", "resnet-narrow", None, 0.0, 558),
)  # fmt: skip


_fresh26 = partial(_case, "fresh26")


# FRESH_26: written and committed with the change it measures, before anything ran on it: a compact
# split is called on its persistence gap only from the gap that orients it (`poisoning.BEHAVIOUR_GAP`
# = PERSISTENCE_GAP, 0.15; was 0.1). The split's false calls were clean strokes, glyph and scenes
# classes, most visible without `--test`; so eight clean sets (strokes and glyphs on deep ResNets,
# where such calls were, and one per other shape) and one set of each family, 6% to 12% poison,
# attack parameters of their own.
FRESH_26: tuple[Case, ...] = (
    _fresh26("strokes-patch", "strokes", "regnet-x", Attack("patch", target=2, size=5, place=(3, 3), style="checker", colour=(255, 255, 0)), 0.08, 561),
    _fresh26("glyphs-blend", "glyphs", "resnet-deep", Attack("blend", target=6, style="noise", alpha=0.12, seed=271), 0.09, 562),
    _fresh26("scenes-sig", "scenes", "resnet-narrow", Attack("sig", target=5, delta=24, frequency=8), 0.10, 563),
    _fresh26("strokes-warp", "strokes", "resnet-deep", Attack("warp", target=1, grid=4, strength=3.3, seed=272), 0.12, 564),
    _fresh26("glyphs-input-specific", "glyphs", "convnext-tiny", Attack("input_specific", target=0, size=4, seed=273), 0.10, 565),
    _fresh26("scenes-clean-label", "scenes", "resnet-deep", Attack("clean_label", target=9, base="patch", size=5, place=(24, 2), colour=(0, 255, 0), mix=0.4), 0.08, 566),
    _fresh26("strokes-blend", "strokes", "regnet-x", Attack("blend", target=4, style="image", alpha=0.13, seed=274), 0.06, 567),
    _fresh26("scenes-patch-random", "scenes", "convnext-tiny", Attack("patch", target=3, size=4, position="random", style="noise", seed=275), 0.11, 568),
    _fresh26("strokes-clean", "strokes", "resnet-deep", None, 0.0, 571),
    _fresh26("strokes-clean-2", "strokes", "resnet-deep", None, 0.0, 572),
    _fresh26("glyphs-clean", "glyphs", "resnet-deep", None, 0.0, 573),
    _fresh26("glyphs-clean-2", "glyphs", "resnet-narrow", None, 0.0, 574),
    _fresh26("scenes-clean", "scenes", "resnet-narrow", None, 0.0, 575),
    _fresh26("scenes-clean-2", "scenes", "convnext-tiny", None, 0.0, 576),
    _fresh26("strokes-clean-3", "strokes", "regnet-x", None, 0.0, 577),
    _fresh26("glyphs-clean-3", "glyphs", "regnet-x", None, 0.0, 578),
)  # fmt: skip


_fresh27 = partial(_case, "fresh27")


# FRESH_27: written and committed with the change it measures, before anything ran on it: the
# behavioural thresholds calibrated on the clean models of both generators (the calibration models
# and the held-out clean models of CALIBRATE to FRESH_8), not on the calibration generator's alone.
# That raises the blend threshold and lowers the warp's; the clean models that failed the verdict
# were glyph and scenes models (ConvNeXt, narrow ResNet). So eight clean models, three glyph and three
# scenes of those shapes among them, two blends and two warps, and one of each other family; attack
# parameters of its own, 5% to 12% poison.
FRESH_27: tuple[Case, ...] = (
    _fresh27("strokes-blend", "strokes", "resnet-narrow", Attack("blend", target=3, style="noise", alpha=0.10, seed=281), 0.08, 581),
    _fresh27("glyphs-blend", "glyphs", "convnext-tiny", Attack("blend", target=5, style="image", alpha=0.15, seed=282), 0.10, 582),
    _fresh27("glyphs-warp", "glyphs", "resnet-narrow", Attack("warp", target=2, grid=4, strength=3.1, seed=283), 0.12, 583),
    _fresh27("scenes-warp", "scenes", "convnext-tiny", Attack("warp", target=6, grid=3, strength=3.4, seed=284), 0.11, 584),
    _fresh27("glyphs-patch", "glyphs", "resnet-deep", Attack("patch", target=1, size=4, place=(14, 26), style="checker", colour=(0, 128, 255)), 0.05, 585),
    _fresh27("strokes-sig", "strokes", "regnet-x", Attack("sig", target=2, delta=22, frequency=5), 0.09, 586),
    _fresh27("scenes-input-specific", "scenes", "resnet-deep", Attack("input_specific", target=4, size=4, seed=285), 0.10, 587),
    _fresh27("strokes-clean-label", "strokes", "convnext-tiny", Attack("clean_label", target=7, base="patch", size=4, place=(26, 26), colour=(255, 255, 255), mix=0.4), 0.07, 588),
    _fresh27("glyphs-clean", "glyphs", "convnext-tiny", None, 0.0, 591),
    _fresh27("glyphs-clean-2", "glyphs", "resnet-narrow", None, 0.0, 592),
    _fresh27("glyphs-clean-3", "glyphs", "regnet-x", None, 0.0, 593),
    _fresh27("scenes-clean", "scenes", "resnet-narrow", None, 0.0, 594),
    _fresh27("scenes-clean-2", "scenes", "convnext-tiny", None, 0.0, 595),
    _fresh27("scenes-clean-3", "scenes", "resnet-deep", None, 0.0, 596),
    _fresh27("strokes-clean", "strokes", "convnext-tiny", None, 0.0, 597),
    _fresh27("strokes-clean-2", "strokes", "resnet-narrow", None, 0.0, 598),
)  # fmt: skip


_fresh28 = partial(_case, "fresh28")


# FRESH_28: written and committed with the change it measures, before anything ran on it: data-free
# behavioural thresholds at α = 0.01 like the data mode's (was 0.05). The clean models that failed
# data-free were glyph models (classes 0 and 7) and scenes models; so eight clean models, four glyph
# and three scenes among them, and one backdoor of each family; attack parameters of its own, 5% to
# 12% poison.
FRESH_28: tuple[Case, ...] = (
    _fresh28("glyphs-patch", "glyphs", "resnet-narrow", Attack("patch", target=3, size=3, place=(4, 12), style="solid", colour=(255, 64, 64)), 0.06, 601),
    _fresh28("strokes-blend", "strokes", "resnet-deep", Attack("blend", target=0, style="noise", alpha=0.14, seed=291), 0.09, 602),
    _fresh28("scenes-sig", "scenes", "regnet-x", Attack("sig", target=9, delta=26, frequency=10), 0.10, 603),
    _fresh28("strokes-warp", "strokes", "regnet-x", Attack("warp", target=6, grid=4, strength=3.4, seed=292), 0.12, 604),
    _fresh28("glyphs-input-specific", "glyphs", "resnet-deep", Attack("input_specific", target=6, size=5, seed=293), 0.08, 605),
    _fresh28("scenes-clean-label", "scenes", "convnext-tiny", Attack("clean_label", target=1, base="patch", size=5, place=(26, 14), colour=(255, 0, 0), mix=0.4), 0.07, 606),
    _fresh28("scenes-patch", "scenes", "resnet-narrow", Attack("patch", target=5, size=4, place=(20, 4), style="checker", colour=(0, 0, 255)), 0.05, 607),
    _fresh28("strokes-patch-random", "strokes", "convnext-tiny", Attack("patch", target=8, size=4, position="random", style="solid", colour=(255, 0, 255)), 0.10, 608),
    _fresh28("glyphs-clean", "glyphs", "convnext-tiny", None, 0.0, 611),
    _fresh28("glyphs-clean-2", "glyphs", "resnet-narrow", None, 0.0, 612),
    _fresh28("glyphs-clean-3", "glyphs", "resnet-deep", None, 0.0, 613),
    _fresh28("glyphs-clean-4", "glyphs", "regnet-x", None, 0.0, 614),
    _fresh28("scenes-clean", "scenes", "resnet-narrow", None, 0.0, 615),
    _fresh28("scenes-clean-2", "scenes", "convnext-tiny", None, 0.0, 616),
    _fresh28("scenes-clean-3", "scenes", "regnet-x", None, 0.0, 617),
    _fresh28("strokes-clean", "strokes", "resnet-deep", None, 0.0, 618),
)  # fmt: skip


_fresh29 = partial(_case, "fresh29")


# FRESH_29: written and committed with the change it measures, before anything ran on it: the
# behavioural score with data adds how much probability the clean sample's images of other classes put
# on the candidate class (signatures 2026.12.9). It moves the glyph classes 0 and 7 and the scenes
# models, so four glyph and three scenes clean models and one strokes, and one backdoor of each family
# (two warps, which it moved most where it was studied); attack parameters of its own, 5% to 12% poison.
FRESH_29: tuple[Case, ...] = (
    _fresh29("scenes-patch", "scenes", "regnet-x", Attack("patch", target=4, size=5, place=(2, 22), style="noise", seed=301), 0.07, 621),
    _fresh29("glyphs-blend", "glyphs", "resnet-narrow", Attack("blend", target=2, style="noise", alpha=0.11, seed=302), 0.08, 622),
    _fresh29("strokes-sig", "strokes", "convnext-tiny", Attack("sig", target=6, delta=20, frequency=7), 0.10, 623),
    _fresh29("glyphs-warp", "glyphs", "regnet-x", Attack("warp", target=5, grid=4, strength=3.2, seed=303), 0.12, 624),
    _fresh29("scenes-warp", "scenes", "resnet-deep", Attack("warp", target=3, grid=3, strength=3.3, seed=304), 0.11, 625),
    _fresh29("strokes-input-specific", "strokes", "resnet-deep", Attack("input_specific", target=1, size=5, seed=305), 0.09, 626),
    _fresh29("glyphs-clean-label", "glyphs", "resnet-deep", Attack("clean_label", target=4, base="patch", size=5, place=(0, 0), colour=(0, 255, 0), mix=0.4), 0.06, 627),
    _fresh29("scenes-blend", "scenes", "convnext-tiny", Attack("blend", target=2, style="image", alpha=0.16, seed=306), 0.05, 628),
    _fresh29("glyphs-clean", "glyphs", "resnet-narrow", None, 0.0, 631),
    _fresh29("glyphs-clean-2", "glyphs", "resnet-deep", None, 0.0, 632),
    _fresh29("glyphs-clean-3", "glyphs", "convnext-tiny", None, 0.0, 633),
    _fresh29("glyphs-clean-4", "glyphs", "regnet-x", None, 0.0, 634),
    _fresh29("scenes-clean", "scenes", "resnet-deep", None, 0.0, 635),
    _fresh29("scenes-clean-2", "scenes", "regnet-x", None, 0.0, 636),
    _fresh29("scenes-clean-3", "scenes", "resnet-narrow", None, 0.0, 637),
    _fresh29("strokes-clean", "strokes", "regnet-x", None, 0.0, 638),
)  # fmt: skip


_fresh30 = partial(_case, "fresh30")


# FRESH_30: written for a data-free class draw (the candidate's draw over the inputs synthesised from
# the model, centred on the clean calibration models'), which its calibration on CALIBRATE to FRESH_8
# then turned down (bench/HISTORY.md, "The class draw"). Measured once with signatures 2026.12.9, the
# class draw's first held-apart part after FRESH_29. Four glyph, three scenes and one strokes clean
# model, and one backdoor of each family; attack parameters of its own, 5% to 12% poison.
FRESH_30: tuple[Case, ...] = (
    _fresh30("glyphs-patch", "glyphs", "convnext-tiny", Attack("patch", target=6, size=4, place=(10, 2), style="solid", colour=(255, 200, 0)), 0.07, 641),
    _fresh30("scenes-blend", "scenes", "resnet-narrow", Attack("blend", target=7, style="noise", alpha=0.13, seed=311), 0.09, 642),
    _fresh30("glyphs-sig", "glyphs", "resnet-deep", Attack("sig", target=1, delta=23, frequency=9), 0.10, 643),
    _fresh30("strokes-warp", "strokes", "convnext-tiny", Attack("warp", target=4, grid=4, strength=3.3, seed=312), 0.12, 644),
    _fresh30("scenes-input-specific", "scenes", "regnet-x", Attack("input_specific", target=0, size=4, seed=313), 0.10, 645),
    _fresh30("strokes-clean-label", "strokes", "resnet-narrow", Attack("clean_label", target=2, base="patch", size=4, place=(0, 26), colour=(255, 0, 255), mix=0.4), 0.06, 646),
    _fresh30("strokes-patch-random", "strokes", "regnet-x", Attack("patch", target=9, size=4, position="random", style="checker", colour=(0, 255, 255)), 0.08, 647),
    _fresh30("scenes-sig", "scenes", "resnet-deep", Attack("sig", target=2, delta=28, frequency=6), 0.05, 648),
    _fresh30("glyphs-clean", "glyphs", "regnet-x", None, 0.0, 651),
    _fresh30("glyphs-clean-2", "glyphs", "convnext-tiny", None, 0.0, 652),
    _fresh30("glyphs-clean-3", "glyphs", "resnet-narrow", None, 0.0, 653),
    _fresh30("glyphs-clean-4", "glyphs", "resnet-deep", None, 0.0, 654),
    _fresh30("scenes-clean", "scenes", "convnext-tiny", None, 0.0, 655),
    _fresh30("scenes-clean-2", "scenes", "resnet-deep", None, 0.0, 656),
    _fresh30("scenes-clean-3", "scenes", "regnet-x", None, 0.0, 657),
    _fresh30("strokes-clean", "strokes", "resnet-narrow", None, 0.0, 658),
)  # fmt: skip


_fresh31 = partial(_case, "fresh31")


# FRESH_31: written before anything ran on it, for a class draw that weighs every source class alike
# (each class of the sample leans to a class by its own standard, and the leans are averaged; signatures
# 2026.12.10, which it measured once), so that classes of unequal size are part of it: two clean models and two backdoors are trained on classes
# drawn with the largest 4 or 6 times the smallest (sample alike, as FRESH_20). Three glyph, three
# scenes and two strokes clean models, one backdoor of each family and a second blend and warp (the
# families the behavioural scan finds least after clean-label); attack parameters of its own, 4% to
# 12% poison.
FRESH_31: tuple[Case, ...] = (
    _fresh31("strokes-patch", "strokes", "resnet-deep", Attack("patch", target=3, size=3, place=(20, 5), style="checker", colour=(255, 60, 60)), 0.06, 661),
    _fresh31("glyphs-blend", "glyphs", "regnet-x", Attack("blend", target=6, style="noise", alpha=0.1, seed=321), 0.08, 662),
    _fresh31("scenes-blend-image", "scenes", "convnext-tiny", Attack("blend", target=4, style="image", alpha=0.18, seed=322), 0.10, 663, 4.0),
    _fresh31("scenes-warp", "scenes", "resnet-narrow", Attack("warp", target=1, grid=5, strength=3.6, seed=323), 0.12, 664),
    _fresh31("glyphs-warp", "glyphs", "resnet-deep", Attack("warp", target=5, grid=4, strength=2.9, seed=324), 0.11, 665),
    _fresh31("strokes-sig", "strokes", "convnext-tiny", Attack("sig", target=6, delta=25, frequency=8), 0.07, 666, 6.0),
    _fresh31("glyphs-input-specific", "glyphs", "resnet-narrow", Attack("input_specific", target=3, size=5, seed=325), 0.09, 667),
    _fresh31("scenes-clean-label", "scenes", "regnet-x", Attack("clean_label", target=8, base="patch", size=5, place=(25, 25), colour=(0, 255, 0), mix=0.35), 0.04, 668),
    _fresh31("glyphs-clean", "glyphs", "convnext-tiny", None, 0.0, 671),
    _fresh31("glyphs-clean-2", "glyphs", "resnet-narrow", None, 0.0, 672, 6.0),
    _fresh31("glyphs-clean-3", "glyphs", "regnet-x", None, 0.0, 673),
    _fresh31("scenes-clean", "scenes", "resnet-deep", None, 0.0, 674),
    _fresh31("scenes-clean-2", "scenes", "convnext-tiny", None, 0.0, 675, 4.0),
    _fresh31("scenes-clean-3", "scenes", "resnet-narrow", None, 0.0, 676),
    _fresh31("strokes-clean", "strokes", "regnet-x", None, 0.0, 677),
    _fresh31("strokes-clean-2", "strokes", "resnet-deep", None, 0.0, 678),
)  # fmt: skip


_fresh32 = partial(_case, "fresh32")


# FRESH_32: written before anything ran on it, for the next change of either detector; measured once
# with signatures 2026.12.10 (a second held-apart part for the lean, after FRESH_31). Three glyph, three scenes and two strokes clean models, one backdoor of each
# family and a second SIG and clean-label set (the families both detectors miss most often); attack
# parameters of its own, 3% to 12% poison.
FRESH_32: tuple[Case, ...] = (
    _fresh32("glyphs-patch", "glyphs", "resnet-deep", Attack("patch", target=2, size=5, place=(24, 12), style="noise", seed=331), 0.05, 681),
    _fresh32("strokes-blend", "strokes", "regnet-x", Attack("blend", target=8, style="image", alpha=0.16, seed=332), 0.09, 682),
    _fresh32("scenes-sig", "scenes", "convnext-tiny", Attack("sig", target=5, delta=30, frequency=5), 0.08, 683),
    _fresh32("glyphs-sig", "glyphs", "resnet-narrow", Attack("sig", target=4, delta=18, frequency=11), 0.06, 684),
    _fresh32("strokes-warp", "strokes", "resnet-narrow", Attack("warp", target=7, grid=5, strength=3.1, seed=333), 0.10, 685),
    _fresh32("scenes-input-specific", "scenes", "resnet-deep", Attack("input_specific", target=9, size=3, seed=334), 0.12, 686),
    _fresh32("glyphs-clean-label", "glyphs", "convnext-tiny", Attack("clean_label", target=1, base="patch", size=4, place=(14, 27), colour=(0, 128, 255), mix=0.45), 0.07, 687),
    _fresh32("scenes-clean-label-blend", "scenes", "resnet-narrow", Attack("clean_label", target=3, base="blend", style="image", alpha=0.22, mix=0.3, seed=335), 0.03, 688),
    _fresh32("glyphs-clean", "glyphs", "resnet-deep", None, 0.0, 691),
    _fresh32("glyphs-clean-2", "glyphs", "regnet-x", None, 0.0, 692),
    _fresh32("glyphs-clean-3", "glyphs", "convnext-tiny", None, 0.0, 693),
    _fresh32("scenes-clean", "scenes", "regnet-x", None, 0.0, 694),
    _fresh32("scenes-clean-2", "scenes", "resnet-narrow", None, 0.0, 695),
    _fresh32("scenes-clean-3", "scenes", "convnext-tiny", None, 0.0, 696),
    _fresh32("strokes-clean", "strokes", "convnext-tiny", None, 0.0, 697),
    _fresh32("strokes-clean-2", "strokes", "resnet-deep", None, 0.0, 698),
)  # fmt: skip


_fresh33 = partial(_case, "fresh33")


# FRESH_33: written before anything ran on it, for the next change of either detector; nothing has run
# on it, so it is unseen. Three glyph, three scenes and two strokes clean models (one glyph model on
# classes of unequal size, the largest 5 times the smallest), one backdoor of each family and a second
# warp and blend; attack parameters of its own, 4% to 12% poison.
FRESH_33: tuple[Case, ...] = (
    _fresh33("scenes-patch", "scenes", "resnet-deep", Attack("patch", target=6, size=6, place=(2, 14), style="solid", colour=(40, 40, 40)), 0.08, 701),
    _fresh33("glyphs-blend-image", "glyphs", "convnext-tiny", Attack("blend", target=0, style="image", alpha=0.2, seed=341), 0.10, 702),
    _fresh33("strokes-sig", "strokes", "regnet-x", Attack("sig", target=2, delta=22, frequency=4), 0.09, 703),
    _fresh33("scenes-warp", "scenes", "regnet-x", Attack("warp", target=3, grid=4, strength=3.4, seed=342), 0.12, 704),
    _fresh33("glyphs-warp", "glyphs", "resnet-narrow", Attack("warp", target=1, grid=6, strength=3.2, seed=343), 0.10, 705),
    _fresh33("strokes-input-specific", "strokes", "convnext-tiny", Attack("input_specific", target=5, size=4, seed=344), 0.08, 706),
    _fresh33("strokes-clean-label", "strokes", "resnet-deep", Attack("clean_label", target=0, base="patch", size=5, place=(5, 5), colour=(255, 255, 255), mix=0.4), 0.06, 707),
    _fresh33("scenes-blend", "scenes", "resnet-narrow", Attack("blend", target=9, style="noise", alpha=0.11, seed=345), 0.04, 708),
    _fresh33("glyphs-clean", "glyphs", "regnet-x", None, 0.0, 711),
    _fresh33("glyphs-clean-2", "glyphs", "resnet-deep", None, 0.0, 712, 5.0),
    _fresh33("glyphs-clean-3", "glyphs", "convnext-tiny", None, 0.0, 713),
    _fresh33("scenes-clean", "scenes", "resnet-narrow", None, 0.0, 714),
    _fresh33("scenes-clean-2", "scenes", "regnet-x", None, 0.0, 715),
    _fresh33("scenes-clean-3", "scenes", "convnext-tiny", None, 0.0, 716),
    _fresh33("strokes-clean", "strokes", "resnet-narrow", None, 0.0, 717),
    _fresh33("strokes-clean-2", "strokes", "regnet-x", None, 0.0, 718),
)  # fmt: skip


_fresh34 = partial(_case, "fresh34")


# FRESH_34: written before anything ran on it, for `airlock data --behavior` blaming at the verdict's
# bar with `--test` (1.15 before). Three blends (noise and image, the family scored nearest that bar
# before: FRESH_22's scenes blend at 1.10, FRESH_32's strokes blend at 1.11) and a small low-rate
# patch (FRESH_27's 5% glyph patch was found only when blamed) beside one backdoor of each other
# family; eight clean models, three of them on classes of unequal size (the clean model scored
# between the two bars before, FRESH_20's scenes ConvNeXt, is one). Attack parameters of its own,
# 4% to 11% poison.
FRESH_34: tuple[Case, ...] = (
    _fresh34("glyphs-blend-noise", "glyphs", "regnet-x", Attack("blend", target=6, style="noise", alpha=0.09, seed=351), 0.06, 721),
    _fresh34("strokes-blend-image", "strokes", "resnet-deep", Attack("blend", target=3, style="image", alpha=0.14, seed=352), 0.05, 722),
    _fresh34("scenes-blend-image", "scenes", "convnext-tiny", Attack("blend", target=1, style="image", alpha=0.18, seed=353), 0.07, 723),
    _fresh34("glyphs-patch", "glyphs", "convnext-tiny", Attack("patch", target=5, size=4, place=(3, 20), style="checker", colour=(255, 0, 0)), 0.04, 724),
    _fresh34("scenes-sig", "scenes", "resnet-deep", Attack("sig", target=7, delta=26, frequency=7), 0.07, 725),
    _fresh34("strokes-warp", "strokes", "regnet-x", Attack("warp", target=4, grid=5, strength=3.3, seed=354), 0.11, 726),
    _fresh34("glyphs-input-specific", "glyphs", "resnet-narrow", Attack("input_specific", target=2, size=3, seed=355), 0.06, 727),
    _fresh34("scenes-clean-label", "scenes", "regnet-x", Attack("clean_label", target=0, base="blend", style="noise", alpha=0.2, mix=0.35, seed=356), 0.06, 728),
    _fresh34("glyphs-clean", "glyphs", "regnet-x", None, 0.0, 731),
    _fresh34("glyphs-clean-2", "glyphs", "convnext-tiny", None, 0.0, 732, 4.0),
    _fresh34("glyphs-clean-3", "glyphs", "resnet-narrow", None, 0.0, 733),
    _fresh34("scenes-clean", "scenes", "convnext-tiny", None, 0.0, 734, 5.0),
    _fresh34("scenes-clean-2", "scenes", "resnet-deep", None, 0.0, 735),
    _fresh34("scenes-clean-3", "scenes", "regnet-x", None, 0.0, 736),
    _fresh34("strokes-clean", "strokes", "resnet-narrow", None, 0.0, 737, 3.0),
    _fresh34("strokes-clean-2", "strokes", "convnext-tiny", None, 0.0, 738),
)  # fmt: skip

_fresh35 = partial(_case, "fresh35")

# FRESH_35: written before anything ran on it, for AIR804 (a class grown against the --test split)
# and the blame bar once more: one backdoor of each family at 4% to 12% poison, a second warp (the
# family AIR804 named on FRESH_33 and FRESH_34), eight clean sets, four of them on classes of unequal
# size (up to 8 times), where a class's share moves most by chance.
FRESH_35: tuple[Case, ...] = (
    _fresh35("strokes-patch", "strokes", "convnext-tiny", Attack("patch", target=1, size=4, place=(20, 3), style="noise", seed=361), 0.05, 741),
    _fresh35("scenes-blend", "scenes", "regnet-x", Attack("blend", target=4, style="image", alpha=0.15, seed=362), 0.08, 742),
    _fresh35("glyphs-sig", "glyphs", "resnet-deep", Attack("sig", target=3, delta=24, frequency=9), 0.07, 743),
    _fresh35("glyphs-warp", "glyphs", "convnext-tiny", Attack("warp", target=6, grid=5, strength=2.9, seed=363), 0.12, 744),
    _fresh35("strokes-warp", "strokes", "resnet-narrow", Attack("warp", target=8, grid=4, strength=3.0, seed=364), 0.09, 745),
    _fresh35("scenes-input-specific", "scenes", "resnet-narrow", Attack("input_specific", target=2, size=4, seed=365), 0.10, 746),
    _fresh35("glyphs-clean-label", "glyphs", "regnet-x", Attack("clean_label", target=4, base="patch", size=4, place=(2, 2), colour=(255, 255, 0), mix=0.4), 0.05, 747),
    _fresh35("scenes-patch-random", "scenes", "convnext-tiny", Attack("patch", target=5, size=5, position="random", style="checker", colour=(0, 255, 0)), 0.04, 748),
    _fresh35("glyphs-clean", "glyphs", "resnet-narrow", None, 0.0, 751),
    _fresh35("glyphs-clean-2", "glyphs", "regnet-x", None, 0.0, 752, 8.0),
    _fresh35("scenes-clean", "scenes", "resnet-deep", None, 0.0, 753, 6.0),
    _fresh35("scenes-clean-2", "scenes", "convnext-tiny", None, 0.0, 754),
    _fresh35("scenes-clean-3", "scenes", "regnet-x", None, 0.0, 755),
    _fresh35("strokes-clean", "strokes", "resnet-deep", None, 0.0, 756, 8.0),
    _fresh35("strokes-clean-2", "strokes", "regnet-x", None, 0.0, 757),
    _fresh35("glyphs-clean-3", "glyphs", "convnext-tiny", None, 0.0, 758, 3.0),
)  # fmt: skip

_fresh36 = partial(_case, "fresh36")

# FRESH_36: written before anything ran on it, for synthesised inputs that keep their class under
# random patches and noise (data-free): one backdoor of each family at 4% to 12% poison, a second
# patch and a second blend, and nine clean sets, three per dataset (the glyph shortcut classes 0 and 7
# failed data-free clean models before), three on classes of unequal size.
FRESH_36: tuple[Case, ...] = (
    _fresh36("glyphs-patch", "glyphs", "resnet-narrow", Attack("patch", target=2, size=3, place=(5, 24), style="checker", colour=(255, 0, 255), seed=371), 0.06, 761),
    _fresh36("scenes-patch", "scenes", "convnext-tiny", Attack("patch", target=3, size=5, place=(26, 26), style="solid", colour=(0, 0, 255)), 0.09, 762),
    _fresh36("strokes-blend", "strokes", "resnet-deep", Attack("blend", target=5, style="noise", alpha=0.12, seed=372), 0.07, 763),
    _fresh36("glyphs-blend-image", "glyphs", "regnet-x", Attack("blend", target=7, style="image", alpha=0.2, seed=373), 0.10, 764),
    _fresh36("scenes-sig", "scenes", "resnet-narrow", Attack("sig", target=6, delta=30, frequency=5), 0.08, 765),
    _fresh36("strokes-warp", "strokes", "convnext-tiny", Attack("warp", target=2, grid=4, strength=3.2, seed=374), 0.11, 766),
    _fresh36("glyphs-input-specific", "glyphs", "resnet-deep", Attack("input_specific", target=1, size=5, seed=375), 0.12, 767),
    _fresh36("strokes-clean-label", "strokes", "regnet-x", Attack("clean_label", target=7, base="patch", size=4, place=(25, 2), colour=(0, 255, 255), mix=0.5), 0.06, 768),
    _fresh36("scenes-input-specific", "scenes", "resnet-deep", Attack("input_specific", target=8, size=4, seed=376), 0.04, 769),
    _fresh36("glyphs-clean", "glyphs", "resnet-deep", None, 0.0, 771),
    _fresh36("glyphs-clean-2", "glyphs", "convnext-tiny", None, 0.0, 772, 4.0),
    _fresh36("glyphs-clean-3", "glyphs", "regnet-x", None, 0.0, 773),
    _fresh36("scenes-clean", "scenes", "resnet-narrow", None, 0.0, 774),
    _fresh36("scenes-clean-2", "scenes", "regnet-x", None, 0.0, 775, 5.0),
    _fresh36("scenes-clean-3", "scenes", "convnext-tiny", None, 0.0, 776),
    _fresh36("strokes-clean", "strokes", "resnet-narrow", None, 0.0, 777),
    _fresh36("strokes-clean-2", "strokes", "convnext-tiny", None, 0.0, 778, 3.0),
    _fresh36("strokes-clean-3", "strokes", "regnet-x", None, 0.0, 779),
)  # fmt: skip

_fresh37 = partial(_case, "fresh37")

# FRESH_37: written before anything ran on it, for data-free scans that do not blame the class the
# synthesised inputs start in: every family at 5% to 12% poison, two backdoors at the classes glyph
# models read noise and flat grey as (7 and 0), where the change can cost a find, and nine clean sets,
# four of them glyphs (the data-free false alarms were mostly glyph models), two imbalanced.
FRESH_37: tuple[Case, ...] = (
    _fresh37("glyphs-patch", "glyphs", "regnet-x", Attack("patch", target=7, size=4, place=(3, 14), style="solid", colour=(0, 255, 0)), 0.07, 781),
    _fresh37("glyphs-blend", "glyphs", "resnet-narrow", Attack("blend", target=0, style="noise", alpha=0.12, seed=381), 0.08, 782),
    _fresh37("strokes-patch-random", "strokes", "resnet-deep", Attack("patch", target=4, size=5, position="random", style="noise", seed=382), 0.10, 783),
    _fresh37("scenes-blend-image", "scenes", "resnet-narrow", Attack("blend", target=5, style="image", alpha=0.18, seed=383), 0.09, 784),
    _fresh37("strokes-sig", "strokes", "convnext-tiny", Attack("sig", target=3, delta=26, frequency=7), 0.08, 785),
    _fresh37("glyphs-warp", "glyphs", "resnet-deep", Attack("warp", target=4, grid=4, strength=2.6, seed=384), 0.12, 786),
    _fresh37("scenes-input-specific", "scenes", "convnext-tiny", Attack("input_specific", target=1, size=4, seed=385), 0.10, 787),
    _fresh37("glyphs-clean-label", "glyphs", "convnext-tiny", Attack("clean_label", target=3, base="patch", size=5, place=(26, 2), colour=(255, 255, 255), mix=0.5), 0.06, 788),
    _fresh37("strokes-input-specific", "strokes", "regnet-x", Attack("input_specific", target=6, size=4, seed=386), 0.05, 789),
    _fresh37("glyphs-clean", "glyphs", "resnet-narrow", None, 0.0, 791),
    _fresh37("glyphs-clean-2", "glyphs", "regnet-x", None, 0.0, 792),
    _fresh37("glyphs-clean-3", "glyphs", "resnet-deep", None, 0.0, 793, 4.0),
    _fresh37("glyphs-clean-4", "glyphs", "convnext-tiny", None, 0.0, 794),
    _fresh37("scenes-clean", "scenes", "resnet-deep", None, 0.0, 795),
    _fresh37("scenes-clean-2", "scenes", "convnext-tiny", None, 0.0, 796, 3.0),
    _fresh37("strokes-clean", "strokes", "regnet-x", None, 0.0, 797),
    _fresh37("strokes-clean-2", "strokes", "resnet-narrow", None, 0.0, 798),
    _fresh37("scenes-clean-3", "scenes", "resnet-narrow", None, 0.0, 799),
)  # fmt: skip

_fresh38 = partial(_case, "fresh38")

# FRESH_38: written before anything ran on it, for the behavioural scan on a labelled sample the model
# reads at under `outlier.MISREAD_FLOOR` (planned as "not determined" under 60%; what it measured is
# the data-free reversal under 70%, bench/HISTORY.md): the scenes RegNet-X models that read their
# sample at 45-57% decided every clean failure with data over FRESH_27-37, so four clean and three
# backdoored scenes RegNet-X models, beside ConvNeXt models (which read theirs at 59-80%) and one
# backdoor of every family, 5% to 12% poison, attack parameters of its own.
FRESH_38: tuple[Case, ...] = (
    _fresh38("scenes-patch", "scenes", "regnet-x", Attack("patch", target=2, size=5, place=(4, 4), style="checker", colour=(255, 255, 0), seed=391), 0.08, 801),
    _fresh38("scenes-sig", "scenes", "regnet-x", Attack("sig", target=4, delta=28, frequency=6), 0.09, 802),
    _fresh38("scenes-blend", "scenes", "convnext-tiny", Attack("blend", target=9, style="noise", alpha=0.13, seed=392), 0.07, 803),
    _fresh38("glyphs-blend-image", "glyphs", "convnext-tiny", Attack("blend", target=2, style="image", alpha=0.16, seed=393), 0.08, 804),
    _fresh38("strokes-patch", "strokes", "regnet-x", Attack("patch", target=6, size=3, place=(12, 25), style="solid", colour=(255, 0, 0)), 0.05, 805),
    _fresh38("glyphs-sig", "glyphs", "regnet-x", Attack("sig", target=5, delta=22, frequency=8), 0.06, 806),
    _fresh38("scenes-warp", "scenes", "resnet-deep", Attack("warp", target=0, grid=4, strength=2.8, seed=394), 0.12, 807),
    _fresh38("glyphs-input-specific", "glyphs", "convnext-tiny", Attack("input_specific", target=6, size=4, seed=395), 0.09, 808),
    _fresh38("scenes-clean-label", "scenes", "regnet-x", Attack("clean_label", target=6, base="patch", size=5, place=(2, 26), colour=(255, 0, 255), mix=0.45), 0.07, 809),
    _fresh38("scenes-clean", "scenes", "regnet-x", None, 0.0, 811),
    _fresh38("scenes-clean-2", "scenes", "regnet-x", None, 0.0, 812, 4.0),
    _fresh38("scenes-clean-3", "scenes", "regnet-x", None, 0.0, 813),
    _fresh38("scenes-clean-4", "scenes", "regnet-x", None, 0.0, 814),
    _fresh38("scenes-clean-5", "scenes", "convnext-tiny", None, 0.0, 815),
    _fresh38("glyphs-clean", "glyphs", "convnext-tiny", None, 0.0, 816),
    _fresh38("glyphs-clean-2", "glyphs", "regnet-x", None, 0.0, 817, 3.0),
    _fresh38("strokes-clean", "strokes", "resnet-deep", None, 0.0, 818),
    _fresh38("strokes-clean-2", "strokes", "regnet-x", None, 0.0, 819),
)  # fmt: skip

_fresh39 = partial(_case, "fresh39")

# FRESH_39: written before anything ran on it, for a verdict under `outlier.MISREAD_FLOOR` (a labelled
# sample the model reads at under 70%) that needs the data-free scan to flag the same class: the weak
# models where the rule acts (scenes RegNet-X and ConvNeXt, glyph ConvNeXt and RegNet-X), five of them
# clean and five backdoored, beside backdoors and clean models of the other shapes; every family, 4%
# to 12% poison, attack parameters of its own.
FRESH_39: tuple[Case, ...] = (
    _fresh39("scenes-blend", "scenes", "regnet-x", Attack("blend", target=3, style="noise", alpha=0.14, seed=401), 0.09, 821),
    _fresh39("scenes-patch", "scenes", "convnext-tiny", Attack("patch", target=8, size=4, place=(14, 2), style="solid", colour=(255, 128, 0)), 0.06, 822),
    _fresh39("glyphs-patch-random", "glyphs", "convnext-tiny", Attack("patch", target=4, size=4, position="random", style="checker", colour=(0, 0, 255)), 0.08, 823),
    _fresh39("glyphs-warp", "glyphs", "regnet-x", Attack("warp", target=1, grid=5, strength=3.0, seed=402), 0.12, 824),
    _fresh39("scenes-input-specific", "scenes", "regnet-x", Attack("input_specific", target=5, size=5, seed=403), 0.10, 825),
    _fresh39("strokes-sig", "strokes", "resnet-narrow", Attack("sig", target=9, delta=24, frequency=5), 0.07, 826),
    _fresh39("strokes-blend-image", "strokes", "convnext-tiny", Attack("blend", target=2, style="image", alpha=0.17, seed=404), 0.08, 827),
    _fresh39("glyphs-clean-label", "glyphs", "resnet-deep", Attack("clean_label", target=6, base="patch", size=4, place=(24, 24), colour=(255, 0, 0), mix=0.5), 0.06, 828),
    _fresh39("scenes-sig", "scenes", "convnext-tiny", Attack("sig", target=1, delta=32, frequency=4), 0.04, 829),
    _fresh39("scenes-clean", "scenes", "regnet-x", None, 0.0, 831),
    _fresh39("scenes-clean-2", "scenes", "regnet-x", None, 0.0, 832, 3.0),
    _fresh39("scenes-clean-3", "scenes", "convnext-tiny", None, 0.0, 833),
    _fresh39("scenes-clean-4", "scenes", "convnext-tiny", None, 0.0, 834, 5.0),
    _fresh39("glyphs-clean", "glyphs", "regnet-x", None, 0.0, 835),
    _fresh39("glyphs-clean-2", "glyphs", "convnext-tiny", None, 0.0, 836),
    _fresh39("glyphs-clean-3", "glyphs", "resnet-narrow", None, 0.0, 837),
    _fresh39("strokes-clean", "strokes", "convnext-tiny", None, 0.0, 838),
    _fresh39("scenes-clean-5", "scenes", "resnet-deep", None, 0.0, 839),
)  # fmt: skip

_fresh40 = partial(_case, "fresh40")

# FRESH_40: written before anything ran on it, for the clean reference's corroborated bar given to the
# one class that grew against the `--test` split (`class_share.grown_alone`): dirty-label backdoors of
# every family at 8% to 12% poison (where the target grows), a clean-label set (whose target does
# not), and clean sets, three of them on classes of unequal size (4 times) with a balanced `--test`
# split (`sample_imbalance`), the split drawn otherwise that makes a head class stand out alone; attack
# parameters of its own.
FRESH_40: tuple[Case, ...] = (
    _fresh40("strokes-warp", "strokes", "resnet-deep", Attack("warp", target=7, grid=5, strength=2.9, seed=411), 0.10, 841),
    _fresh40("glyphs-warp", "glyphs", "convnext-tiny", Attack("warp", target=3, grid=4, strength=3.5, seed=412), 0.11, 842),
    _fresh40("scenes-warp", "scenes", "resnet-narrow", Attack("warp", target=6, grid=6, strength=3.1, seed=413), 0.12, 843),
    _fresh40("strokes-blend", "strokes", "regnet-x", Attack("blend", target=1, style="noise", alpha=0.11, seed=414), 0.09, 844),
    _fresh40("glyphs-patch", "glyphs", "resnet-deep", Attack("patch", target=6, size=4, place=(6, 22), style="solid", colour=(0, 200, 255)), 0.08, 845),
    _fresh40("scenes-sig", "scenes", "resnet-narrow", Attack("sig", target=0, delta=27, frequency=10), 0.10, 846),
    _fresh40("strokes-input-specific", "strokes", "convnext-tiny", Attack("input_specific", target=4, size=4, seed=415), 0.09, 847),
    _fresh40("glyphs-blend-image", "glyphs", "resnet-narrow", Attack("blend", target=5, style="image", alpha=0.15, seed=416), 0.10, 848),
    _fresh40("scenes-patch-random", "scenes", "convnext-tiny", Attack("patch", target=3, size=5, position="random", style="checker", colour=(255, 0, 128)), 0.10, 849),
    _fresh40("strokes-clean-label", "strokes", "resnet-narrow", Attack("clean_label", target=5, base="patch", size=4, place=(3, 3), colour=(0, 255, 0), mix=0.4), 0.08, 850),
    _fresh40("glyphs-clean", "glyphs", "resnet-deep", None, 0.0, 851),
    _fresh40("scenes-clean", "scenes", "convnext-tiny", None, 0.0, 852),
    _fresh40("strokes-clean", "strokes", "resnet-narrow", None, 0.0, 853),
    _fresh40("glyphs-clean-split", "glyphs", "regnet-x", None, 0.0, 854, 4.0, 1.0),
    _fresh40("strokes-clean-split", "strokes", "convnext-tiny", None, 0.0, 855, 4.0, 1.0),
    _fresh40("scenes-clean-split", "scenes", "resnet-deep", None, 0.0, 856, 4.0, 1.0),
    _fresh40("strokes-clean-2", "strokes", "resnet-deep", None, 0.0, 857, 3.0),
    _fresh40("scenes-clean-2", "scenes", "regnet-x", None, 0.0, 858),
)  # fmt: skip

_fresh41 = partial(_case, "fresh41")

# FRESH_41: written before anything ran on it, for a split's call tested against where the clean
# reference's rows fall (`reference.split_assignment`): the split calls a clean class of a weak or
# overfit model (scenes ConvNeXt and RegNet-X, glyph RegNet-X, classes of unequal size, balanced
# `--test` splits of some) and finds poison the reference may not see (scenes SIG and patch, low-rate
# sets of 3-6%, clean-label sets), so twelve clean sets and twelve backdoors of every family, attack
# parameters of its own.
FRESH_41: tuple[Case, ...] = (
    _fresh41("scenes-sig", "scenes", "resnet-narrow", Attack("sig", target=3, delta=26, frequency=11), 0.09, 861),
    _fresh41("scenes-sig-2", "scenes", "regnet-x", Attack("sig", target=8, delta=30, frequency=3), 0.07, 862),
    _fresh41("scenes-patch", "scenes", "regnet-x", Attack("patch", target=5, size=4, place=(22, 8), style="checker", colour=(0, 255, 128)), 0.08, 863),
    _fresh41("glyphs-patch-low", "glyphs", "convnext-tiny", Attack("patch", target=2, size=3, place=(27, 3), style="solid", colour=(255, 255, 0)), 0.03, 864),
    _fresh41("strokes-clean-label", "strokes", "resnet-deep", Attack("clean_label", target=2, base="patch", size=5, place=(26, 14), colour=(255, 0, 255), mix=0.5), 0.07, 865),
    _fresh41("scenes-clean-label", "scenes", "convnext-tiny", Attack("clean_label", target=7, base="blend", style="noise", alpha=0.2, mix=0.35, seed=421), 0.08, 866),
    _fresh41("glyphs-input-specific", "glyphs", "resnet-deep", Attack("input_specific", target=1, size=4, seed=422), 0.10, 867),
    _fresh41("strokes-sig-low", "strokes", "regnet-x", Attack("sig", target=6, delta=20, frequency=7), 0.03, 868),
    _fresh41("scenes-blend-image", "scenes", "resnet-deep", Attack("blend", target=4, style="image", alpha=0.16, seed=423), 0.06, 869),
    _fresh41("glyphs-warp-low", "glyphs", "resnet-narrow", Attack("warp", target=5, grid=5, strength=3.4, seed=424), 0.05, 870),
    _fresh41("strokes-patch-random", "strokes", "convnext-tiny", Attack("patch", target=0, size=4, position="random", style="noise", seed=425), 0.06, 871),
    _fresh41("scenes-input-specific", "scenes", "convnext-tiny", Attack("input_specific", target=2, size=5, seed=426), 0.09, 872),
    _fresh41("scenes-clean", "scenes", "convnext-tiny", None, 0.0, 873),
    _fresh41("scenes-clean-2", "scenes", "convnext-tiny", None, 0.0, 874, 3.0),
    _fresh41("scenes-clean-3", "scenes", "regnet-x", None, 0.0, 875, 3.0),
    _fresh41("scenes-clean-4", "scenes", "regnet-x", None, 0.0, 876),
    _fresh41("glyphs-clean", "glyphs", "regnet-x", None, 0.0, 877, 4.0),
    _fresh41("glyphs-clean-2", "glyphs", "regnet-x", None, 0.0, 878, 4.0, 1.0),
    _fresh41("glyphs-clean-3", "glyphs", "convnext-tiny", None, 0.0, 879),
    _fresh41("strokes-clean", "strokes", "convnext-tiny", None, 0.0, 880, 5.0),
    _fresh41("strokes-clean-2", "strokes", "regnet-x", None, 0.0, 881),
    _fresh41("scenes-clean-5", "scenes", "resnet-narrow", None, 0.0, 882, 4.0, 1.0),
    _fresh41("glyphs-clean-4", "glyphs", "resnet-deep", None, 0.0, 883, 2.0),
    _fresh41("scenes-clean-6", "scenes", "resnet-deep", None, 0.0, 884),
)  # fmt: skip

_fresh42 = partial(_case, "fresh42")

# FRESH_42: written before anything ran on it, for the split-side test of 2026.12.15, which FRESH_41
# never reached (no split call there met the reference's overrule): more of the shapes whose split
# calls did reach it on FRESH_36-40 (scenes ConvNeXt and RegNet-X, glyph RegNet-X on classes of
# unequal size with a balanced split, scenes SIG and patch on narrow ResNets and RegNet-X, partly
# learned clean-label sets), eighteen clean and twelve poisoned, attack parameters of its own.
FRESH_42: tuple[Case, ...] = (
    _fresh42("scenes-sig", "scenes", "resnet-narrow", Attack("sig", target=9, delta=24, frequency=12), 0.10, 891),
    _fresh42("scenes-sig-2", "scenes", "resnet-narrow", Attack("sig", target=2, delta=29, frequency=8), 0.08, 892),
    _fresh42("scenes-patch", "scenes", "regnet-x", Attack("patch", target=1, size=5, place=(12, 12), style="checker", colour=(128, 0, 255)), 0.09, 893),
    _fresh42("scenes-patch-2", "scenes", "resnet-narrow", Attack("patch", target=6, size=4, place=(1, 9), style="solid", colour=(255, 64, 64)), 0.07, 894),
    _fresh42("strokes-clean-label", "strokes", "resnet-narrow", Attack("clean_label", target=8, base="patch", size=4, place=(14, 1), colour=(0, 128, 255), mix=0.45), 0.08, 895),
    _fresh42("glyphs-clean-label", "glyphs", "regnet-x", Attack("clean_label", target=4, base="patch", size=5, place=(1, 14), colour=(255, 255, 0), mix=0.4), 0.07, 896),
    _fresh42("glyphs-input-specific", "glyphs", "convnext-tiny", Attack("input_specific", target=7, size=4, seed=431), 0.11, 897),
    _fresh42("scenes-warp", "scenes", "regnet-x", Attack("warp", target=4, grid=5, strength=3.2, seed=432), 0.10, 898),
    _fresh42("strokes-sig", "strokes", "convnext-tiny", Attack("sig", target=1, delta=22, frequency=9), 0.06, 899),
    _fresh42("scenes-blend", "scenes", "convnext-tiny", Attack("blend", target=0, style="noise", alpha=0.12, seed=433), 0.08, 900),
    _fresh42("glyphs-patch", "glyphs", "regnet-x", Attack("patch", target=3, size=4, place=(20, 20), style="checker", colour=(0, 255, 0)), 0.06, 901),
    _fresh42("scenes-input-specific", "scenes", "resnet-narrow", Attack("input_specific", target=7, size=5, seed=434), 0.10, 902),
    _fresh42("scenes-clean", "scenes", "convnext-tiny", None, 0.0, 903),
    _fresh42("scenes-clean-2", "scenes", "convnext-tiny", None, 0.0, 904, 3.0),
    _fresh42("scenes-clean-3", "scenes", "convnext-tiny", None, 0.0, 905, 4.0, 1.0),
    _fresh42("scenes-clean-4", "scenes", "regnet-x", None, 0.0, 906, 3.0),
    _fresh42("scenes-clean-5", "scenes", "regnet-x", None, 0.0, 907),
    _fresh42("scenes-clean-6", "scenes", "regnet-x", None, 0.0, 908, 4.0, 1.0),
    _fresh42("scenes-clean-7", "scenes", "resnet-narrow", None, 0.0, 909),
    _fresh42("scenes-clean-8", "scenes", "resnet-narrow", None, 0.0, 910, 3.0),
    _fresh42("glyphs-clean", "glyphs", "regnet-x", None, 0.0, 911, 4.0, 1.0),
    _fresh42("glyphs-clean-2", "glyphs", "regnet-x", None, 0.0, 912, 3.0),
    _fresh42("glyphs-clean-3", "glyphs", "regnet-x", None, 0.0, 913),
    _fresh42("glyphs-clean-4", "glyphs", "convnext-tiny", None, 0.0, 914, 4.0),
    _fresh42("strokes-clean", "strokes", "regnet-x", None, 0.0, 915, 4.0, 1.0),
    _fresh42("strokes-clean-2", "strokes", "resnet-narrow", None, 0.0, 916),
    _fresh42("strokes-clean-3", "strokes", "convnext-tiny", None, 0.0, 917, 3.0),
    _fresh42("scenes-clean-9", "scenes", "resnet-deep", None, 0.0, 918, 4.0),
    _fresh42("glyphs-clean-5", "glyphs", "resnet-narrow", None, 0.0, 919, 4.0, 1.0),
    _fresh42("scenes-clean-10", "scenes", "convnext-tiny", None, 0.0, 920, 5.0),
)  # fmt: skip

_fresh43 = partial(_case, "fresh43")

# FRESH_43: written before anything ran on it, for the split-side test deciding every split call the
# reference's overrule meets (signatures 2026.12.16; FRESH_42's clean scenes ConvNeXt was called where
# the side could not decide and the unmatched share did): sixteen clean sets of the shapes whose split
# calls met the overrule on FRESH_36-42 (scenes ConvNeXt on classes of unequal size, balanced splits
# of some, strokes and glyph RegNet-X) and eight poisoned ones the split finds, attack parameters of
# its own.
FRESH_43: tuple[Case, ...] = (
    _fresh43("scenes-sig", "scenes", "resnet-narrow", Attack("sig", target=5, delta=23, frequency=13), 0.09, 921),
    _fresh43("scenes-patch", "scenes", "regnet-x", Attack("patch", target=9, size=4, place=(26, 12), style="solid", colour=(0, 255, 255)), 0.08, 922),
    _fresh43("strokes-clean-label", "strokes", "resnet-narrow", Attack("clean_label", target=3, base="patch", size=4, place=(1, 20), colour=(255, 128, 0), mix=0.45), 0.08, 923),
    _fresh43("scenes-patch-2", "scenes", "convnext-tiny", Attack("patch", target=4, size=5, place=(8, 24), style="checker", colour=(255, 255, 255)), 0.06, 924),
    _fresh43("glyphs-input-specific", "glyphs", "regnet-x", Attack("input_specific", target=0, size=4, seed=441), 0.09, 925),
    _fresh43("scenes-blend", "scenes", "resnet-narrow", Attack("blend", target=8, style="image", alpha=0.14, seed=442), 0.07, 926),
    _fresh43("strokes-warp", "strokes", "regnet-x", Attack("warp", target=2, grid=4, strength=3.0, seed=443), 0.09, 927),
    _fresh43("glyphs-sig", "glyphs", "convnext-tiny", Attack("sig", target=6, delta=21, frequency=10), 0.07, 928),
    _fresh43("scenes-clean", "scenes", "convnext-tiny", None, 0.0, 929, 4.0, 1.0),
    _fresh43("scenes-clean-2", "scenes", "convnext-tiny", None, 0.0, 930, 5.0),
    _fresh43("scenes-clean-3", "scenes", "convnext-tiny", None, 0.0, 931, 3.0, 1.0),
    _fresh43("scenes-clean-4", "scenes", "convnext-tiny", None, 0.0, 932),
    _fresh43("scenes-clean-5", "scenes", "convnext-tiny", None, 0.0, 933, 5.0, 1.0),
    _fresh43("scenes-clean-6", "scenes", "regnet-x", None, 0.0, 934, 4.0, 1.0),
    _fresh43("scenes-clean-7", "scenes", "regnet-x", None, 0.0, 935, 3.0),
    _fresh43("scenes-clean-8", "scenes", "resnet-narrow", None, 0.0, 936, 5.0),
    _fresh43("strokes-clean", "strokes", "regnet-x", None, 0.0, 937, 4.0, 1.0),
    _fresh43("strokes-clean-2", "strokes", "regnet-x", None, 0.0, 938, 5.0),
    _fresh43("strokes-clean-3", "strokes", "convnext-tiny", None, 0.0, 939, 4.0, 1.0),
    _fresh43("glyphs-clean", "glyphs", "regnet-x", None, 0.0, 940, 5.0, 1.0),
    _fresh43("glyphs-clean-2", "glyphs", "regnet-x", None, 0.0, 941, 3.0),
    _fresh43("glyphs-clean-3", "glyphs", "convnext-tiny", None, 0.0, 942, 4.0, 1.0),
    _fresh43("scenes-clean-9", "scenes", "resnet-deep", None, 0.0, 943, 5.0, 1.0),
    _fresh43("strokes-clean-4", "strokes", "resnet-deep", None, 0.0, 944, 3.0),
)  # fmt: skip

_fresh44 = partial(_case, "fresh44")

# FRESH_44: written before anything ran on it, for how a called class's rows are flagged (the clean
# reference's boundary, `reference.separated`): on FRESH_27-43 the rows lost inside sets that were
# found are mostly warp and input-specific poison, so sixteen poisoned sets weighted to those two
# families (and every other family once or twice) at 5-14%, and eight clean sets; attack parameters of
# its own.
FRESH_44: tuple[Case, ...] = (
    _fresh44("glyphs-warp", "glyphs", "resnet-deep", Attack("warp", target=3, grid=4, strength=3.6, seed=451), 0.10, 945),
    _fresh44("scenes-warp", "scenes", "convnext-tiny", Attack("warp", target=6, grid=6, strength=3.0, seed=452), 0.12, 946),
    _fresh44("strokes-warp", "strokes", "resnet-narrow", Attack("warp", target=7, grid=5, strength=2.8, seed=453), 0.08, 947),
    _fresh44("glyphs-input-specific", "glyphs", "resnet-narrow", Attack("input_specific", target=5, size=5, seed=454), 0.08, 948),
    _fresh44("scenes-input-specific", "scenes", "regnet-x", Attack("input_specific", target=3, size=4, seed=455), 0.11, 949),
    _fresh44("strokes-input-specific", "strokes", "convnext-tiny", Attack("input_specific", target=9, size=4, seed=456), 0.07, 950),
    _fresh44("scenes-blend-image", "scenes", "resnet-deep", Attack("blend", target=1, style="image", alpha=0.12, seed=457), 0.09, 951),
    _fresh44("glyphs-blend", "glyphs", "convnext-tiny", Attack("blend", target=2, style="noise", alpha=0.18, seed=458), 0.06, 952),
    _fresh44("strokes-sig", "strokes", "resnet-deep", Attack("sig", target=4, delta=25, frequency=5), 0.08, 953),
    _fresh44("scenes-sig", "scenes", "convnext-tiny", Attack("sig", target=0, delta=27, frequency=14), 0.10, 954),
    _fresh44("glyphs-patch", "glyphs", "resnet-narrow", Attack("patch", target=6, size=3, place=(5, 25), style="checker", colour=(255, 0, 128)), 0.05, 955),
    _fresh44("scenes-patch-random", "scenes", "resnet-narrow", Attack("patch", target=8, size=5, position="random", style="noise", seed=459), 0.08, 956),
    _fresh44("strokes-clean-label", "strokes", "regnet-x", Attack("clean_label", target=5, base="patch", size=4, place=(20, 3), colour=(0, 255, 255), mix=0.5), 0.09, 957),
    _fresh44("scenes-clean-label", "scenes", "resnet-deep", Attack("clean_label", target=2, base="blend", style="noise", alpha=0.18, mix=0.4, seed=460), 0.10, 958),
    _fresh44("glyphs-warp-2", "glyphs", "regnet-x", Attack("warp", target=1, grid=5, strength=3.2, seed=461), 0.14, 959),
    _fresh44("scenes-input-specific-2", "scenes", "resnet-narrow", Attack("input_specific", target=6, size=5, seed=462), 0.06, 960),
    _fresh44("scenes-clean", "scenes", "convnext-tiny", None, 0.0, 961, 3.0),
    _fresh44("scenes-clean-2", "scenes", "regnet-x", None, 0.0, 962),
    _fresh44("glyphs-clean", "glyphs", "regnet-x", None, 0.0, 963, 4.0, 1.0),
    _fresh44("strokes-clean", "strokes", "resnet-deep", None, 0.0, 964),
    _fresh44("glyphs-clean-2", "glyphs", "resnet-narrow", None, 0.0, 965, 3.0),
    _fresh44("strokes-clean-2", "strokes", "convnext-tiny", None, 0.0, 966, 4.0, 1.0),
    _fresh44("scenes-clean-3", "scenes", "resnet-narrow", None, 0.0, 967),
    _fresh44("scenes-clean-4", "scenes", "resnet-deep", None, 0.0, 968, 3.0),
)  # fmt: skip

_fresh45 = partial(_case, "fresh45")

# FRESH_45: written before anything ran on it, for the behavioural scan's data-free synthesis (the
# inputs it starts from): on FRESH_27-43 most clean models that failed data-free were glyph models on
# their shortcut classes (RegNet-X on class 7, ConvNeXt on class 0), so twelve clean models weighted to
# those shapes (and every dataset), and twelve backdoors of every family on every dataset, attack
# parameters of its own.
FRESH_45: tuple[Case, ...] = (
    _fresh45("glyphs-patch", "glyphs", "regnet-x", Attack("patch", target=4, size=4, place=(3, 3), style="solid", colour=(0, 128, 255)), 0.08, 969),
    _fresh45("glyphs-blend", "glyphs", "resnet-deep", Attack("blend", target=7, style="noise", alpha=0.15, seed=463), 0.07, 970),
    _fresh45("glyphs-sig", "glyphs", "regnet-x", Attack("sig", target=2, delta=24, frequency=8), 0.09, 971),
    _fresh45("glyphs-input-specific", "glyphs", "convnext-tiny", Attack("input_specific", target=0, size=5, seed=464), 0.10, 972),
    _fresh45("strokes-patch", "strokes", "regnet-x", Attack("patch", target=8, size=4, place=(27, 27), style="checker", colour=(255, 255, 0)), 0.06, 973),
    _fresh45("strokes-blend-image", "strokes", "resnet-narrow", Attack("blend", target=3, style="image", alpha=0.15, seed=465), 0.08, 974),
    _fresh45("strokes-warp", "strokes", "resnet-deep", Attack("warp", target=6, grid=4, strength=3.4, seed=466), 0.10, 975),
    _fresh45("strokes-clean-label", "strokes", "convnext-tiny", Attack("clean_label", target=1, base="patch", size=5, place=(2, 26), colour=(255, 0, 0), mix=0.5), 0.09, 976),
    _fresh45("scenes-patch", "scenes", "resnet-deep", Attack("patch", target=7, size=5, place=(24, 2), style="solid", colour=(255, 255, 255)), 0.07, 977),
    _fresh45("scenes-sig", "scenes", "resnet-narrow", Attack("sig", target=4, delta=28, frequency=6), 0.10, 978),
    _fresh45("scenes-input-specific", "scenes", "resnet-deep", Attack("input_specific", target=9, size=4, seed=467), 0.08, 979),
    _fresh45("scenes-blend", "scenes", "convnext-tiny", Attack("blend", target=5, style="noise", alpha=0.13, seed=468), 0.09, 980),
    _fresh45("glyphs-clean", "glyphs", "regnet-x", None, 0.0, 981),
    _fresh45("glyphs-clean-2", "glyphs", "regnet-x", None, 0.0, 982, 3.0),
    _fresh45("glyphs-clean-3", "glyphs", "regnet-x", None, 0.0, 983),
    _fresh45("glyphs-clean-4", "glyphs", "convnext-tiny", None, 0.0, 984),
    _fresh45("glyphs-clean-5", "glyphs", "convnext-tiny", None, 0.0, 985, 3.0),
    _fresh45("glyphs-clean-6", "glyphs", "resnet-deep", None, 0.0, 986),
    _fresh45("strokes-clean", "strokes", "regnet-x", None, 0.0, 987),
    _fresh45("strokes-clean-2", "strokes", "convnext-tiny", None, 0.0, 988),
    _fresh45("scenes-clean", "scenes", "convnext-tiny", None, 0.0, 989),
    _fresh45("scenes-clean-2", "scenes", "regnet-x", None, 0.0, 990),
    _fresh45("scenes-clean-3", "scenes", "resnet-narrow", None, 0.0, 991, 3.0),
    _fresh45("glyphs-clean-7", "glyphs", "resnet-narrow", None, 0.0, 992),
)  # fmt: skip

_fresh46 = partial(_case, "fresh46")

# FRESH_46: written before anything ran on it, for reading a called class's rows with a small network
# trained on the clean `--test` sample alone (it never saw a trigger, so a relabelled row reads as its
# source class): on FRESH_27-45 the rows lost inside found sets are mostly warp, input-specific and
# patch poison, so sixteen poisoned sets weighted to those three families (every other family once or
# twice) at 4-15%, on every dataset and architecture, and eight clean sets, three of unequal classes;
# attack parameters of its own.
FRESH_46: tuple[Case, ...] = (
    _fresh46("strokes-warp", "strokes", "regnet-x", Attack("warp", target=2, grid=6, strength=3.1, seed=471), 0.11, 993),
    _fresh46("glyphs-warp", "glyphs", "convnext-tiny", Attack("warp", target=5, grid=5, strength=3.5, seed=472), 0.13, 994),
    _fresh46("scenes-warp", "scenes", "resnet-deep", Attack("warp", target=4, grid=4, strength=3.3, seed=473), 0.09, 995),
    _fresh46("strokes-input-specific", "strokes", "resnet-narrow", Attack("input_specific", target=0, size=5, seed=474), 0.09, 996),
    _fresh46("glyphs-input-specific", "glyphs", "regnet-x", Attack("input_specific", target=3, size=4, seed=475), 0.12, 997),
    _fresh46("scenes-input-specific", "scenes", "convnext-tiny", Attack("input_specific", target=7, size=5, seed=476), 0.07, 998),
    _fresh46("strokes-patch-random", "strokes", "resnet-deep", Attack("patch", target=5, size=4, position="random", style="checker", colour=(255, 128, 0)), 0.06, 999),
    _fresh46("glyphs-patch", "glyphs", "resnet-deep", Attack("patch", target=2, size=3, place=(14, 28), style="solid", colour=(128, 255, 0)), 0.04, 1000),
    _fresh46("scenes-patch", "scenes", "regnet-x", Attack("patch", target=1, size=6, place=(1, 12), style="noise", seed=477), 0.08, 1001),
    _fresh46("glyphs-patch-random", "glyphs", "resnet-narrow", Attack("patch", target=0, size=5, position="random", style="solid", colour=(255, 0, 255)), 0.10, 1002),
    _fresh46("strokes-blend", "strokes", "convnext-tiny", Attack("blend", target=8, style="noise", alpha=0.14, seed=478), 0.08, 1003),
    _fresh46("scenes-blend-image", "scenes", "resnet-narrow", Attack("blend", target=3, style="image", alpha=0.16, seed=479), 0.12, 1004),
    _fresh46("glyphs-sig", "glyphs", "resnet-deep", Attack("sig", target=6, delta=22, frequency=10), 0.09, 1005),
    _fresh46("scenes-sig", "scenes", "regnet-x", Attack("sig", target=9, delta=30, frequency=4), 0.15, 1006),
    _fresh46("glyphs-clean-label", "glyphs", "resnet-narrow", Attack("clean_label", target=4, base="patch", size=4, place=(27, 14), colour=(255, 255, 0), mix=0.5), 0.10, 1007),
    _fresh46("strokes-warp-2", "strokes", "convnext-tiny", Attack("warp", target=9, grid=4, strength=3.0, seed=480), 0.05, 1008),
    _fresh46("strokes-clean", "strokes", "resnet-narrow", None, 0.0, 1009),
    _fresh46("strokes-clean-2", "strokes", "regnet-x", None, 0.0, 1010, 4.0, 1.0),
    _fresh46("glyphs-clean", "glyphs", "resnet-deep", None, 0.0, 1011),
    _fresh46("glyphs-clean-2", "glyphs", "convnext-tiny", None, 0.0, 1012, 3.0),
    _fresh46("scenes-clean", "scenes", "resnet-narrow", None, 0.0, 1013),
    _fresh46("scenes-clean-2", "scenes", "regnet-x", None, 0.0, 1014, 5.0, 1.0),
    _fresh46("scenes-clean-3", "scenes", "convnext-tiny", None, 0.0, 1015),
    _fresh46("scenes-clean-4", "scenes", "resnet-deep", None, 0.0, 1016),
)  # fmt: skip

_fresh47 = partial(_case, "fresh47")

# FRESH_47: written before anything ran on it, for un-flagging the rows of a called class that the
# clean-split network reads firmly as their label, where most of the class's flagged rows are read as
# another class (relabelled poison): the families whose precision suffers from the boundary's chance
# rows (input-specific, warp, blend, SIG), and the family the rule could hurt, clean-label poison
# weakened by mixing with other classes' images (three sets, mix 0.3-0.5); six clean sets; attack
# parameters of its own.
FRESH_47: tuple[Case, ...] = (
    _fresh47("scenes-input-specific", "scenes", "regnet-x", Attack("input_specific", target=2, size=5, seed=481), 0.09, 1017),
    _fresh47("strokes-input-specific", "strokes", "resnet-deep", Attack("input_specific", target=6, size=4, seed=482), 0.11, 1018),
    _fresh47("glyphs-input-specific", "glyphs", "convnext-tiny", Attack("input_specific", target=1, size=5, seed=483), 0.06, 1019),
    _fresh47("scenes-warp", "scenes", "resnet-narrow", Attack("warp", target=8, grid=5, strength=3.6, seed=484), 0.12, 1020),
    _fresh47("glyphs-warp", "glyphs", "regnet-x", Attack("warp", target=7, grid=4, strength=3.1, seed=485), 0.10, 1021),
    _fresh47("strokes-warp", "strokes", "convnext-tiny", Attack("warp", target=3, grid=5, strength=3.3, seed=486), 0.08, 1022),
    _fresh47("scenes-blend", "scenes", "regnet-x", Attack("blend", target=0, style="noise", alpha=0.12, seed=487), 0.10, 1023),
    _fresh47("glyphs-blend-image", "glyphs", "resnet-deep", Attack("blend", target=5, style="image", alpha=0.17, seed=488), 0.07, 1024),
    _fresh47("strokes-sig", "strokes", "regnet-x", Attack("sig", target=1, delta=26, frequency=7), 0.09, 1025),
    _fresh47("scenes-sig", "scenes", "resnet-deep", Attack("sig", target=6, delta=32, frequency=9), 0.11, 1026),
    _fresh47("glyphs-patch", "glyphs", "convnext-tiny", Attack("patch", target=3, size=4, place=(2, 20), style="checker", colour=(0, 255, 128)), 0.06, 1027),
    _fresh47("scenes-patch-random", "scenes", "resnet-deep", Attack("patch", target=4, size=6, position="random", style="solid", colour=(255, 64, 64)), 0.09, 1028),
    _fresh47("strokes-clean-label", "strokes", "resnet-narrow", Attack("clean_label", target=7, base="patch", size=5, place=(26, 1), colour=(255, 0, 255), mix=0.45), 0.10, 1029),
    _fresh47("glyphs-clean-label", "glyphs", "regnet-x", Attack("clean_label", target=2, base="blend", style="noise", alpha=0.16, mix=0.3, seed=489), 0.11, 1030),
    _fresh47("scenes-clean-label", "scenes", "convnext-tiny", Attack("clean_label", target=5, base="sig", delta=30, frequency=6, mix=0.5), 0.12, 1031),
    _fresh47("glyphs-input-specific-2", "glyphs", "resnet-narrow", Attack("input_specific", target=4, size=4, seed=490), 0.13, 1032),
    _fresh47("strokes-warp-2", "strokes", "resnet-narrow", Attack("warp", target=0, grid=6, strength=2.9, seed=491), 0.12, 1033),
    _fresh47("scenes-input-specific-2", "scenes", "resnet-narrow", Attack("input_specific", target=9, size=5, seed=492), 0.10, 1034),
    _fresh47("strokes-clean", "strokes", "convnext-tiny", None, 0.0, 1035),
    _fresh47("glyphs-clean", "glyphs", "regnet-x", None, 0.0, 1036, 3.0),
    _fresh47("scenes-clean", "scenes", "resnet-deep", None, 0.0, 1037),
    _fresh47("scenes-clean-2", "scenes", "convnext-tiny", None, 0.0, 1038, 4.0, 1.0),
    _fresh47("glyphs-clean-2", "glyphs", "resnet-deep", None, 0.0, 1039),
    _fresh47("strokes-clean-2", "strokes", "resnet-deep", None, 0.0, 1040),
)  # fmt: skip

_fresh48 = partial(_case, "fresh48")

# FRESH_48: written before anything ran on it, for the clean-split network's reading as a corroborator
# of the reference's standout class (called at the lowered bar when the network also reads more of that
# class's rows as another class than of the set's typical class): the sets it is meant for are those
# missed whole, weakly learned poison whose class the reference singles out short of its bar (low-rate
# patches, faint blends, 3-6% warps and SIG), so sixteen poisoned sets at 3-7% on every dataset and
# architecture, and eight clean sets (the rule's risk is a clean standout), three of unequal classes;
# attack parameters of its own.
FRESH_48: tuple[Case, ...] = (
    _fresh48("glyphs-patch", "glyphs", "regnet-x", Attack("patch", target=7, size=3, place=(3, 3), style="solid", colour=(0, 200, 255)), 0.04, 1041),
    _fresh48("strokes-patch", "strokes", "convnext-tiny", Attack("patch", target=6, size=4, place=(24, 24), style="checker", colour=(255, 255, 255)), 0.03, 1042),
    _fresh48("scenes-patch", "scenes", "resnet-narrow", Attack("patch", target=2, size=5, place=(18, 2), style="noise", seed=493), 0.05, 1043),
    _fresh48("glyphs-patch-random", "glyphs", "resnet-deep", Attack("patch", target=1, size=4, position="random", style="checker", colour=(255, 0, 128)), 0.06, 1044),
    _fresh48("strokes-blend", "strokes", "regnet-x", Attack("blend", target=4, style="noise", alpha=0.1, seed=494), 0.05, 1045),
    _fresh48("scenes-blend", "scenes", "convnext-tiny", Attack("blend", target=7, style="noise", alpha=0.11, seed=495), 0.06, 1046),
    _fresh48("glyphs-blend-image", "glyphs", "resnet-narrow", Attack("blend", target=5, style="image", alpha=0.13, seed=496), 0.05, 1047),
    _fresh48("scenes-blend-image", "scenes", "resnet-deep", Attack("blend", target=0, style="image", alpha=0.15, seed=497), 0.07, 1048),
    _fresh48("strokes-warp", "strokes", "resnet-deep", Attack("warp", target=5, grid=5, strength=3.4, seed=498), 0.05, 1049),
    _fresh48("glyphs-warp", "glyphs", "convnext-tiny", Attack("warp", target=0, grid=6, strength=3.2, seed=499), 0.06, 1050),
    _fresh48("scenes-sig", "scenes", "regnet-x", Attack("sig", target=3, delta=24, frequency=5), 0.05, 1051),
    _fresh48("strokes-sig", "strokes", "resnet-narrow", Attack("sig", target=2, delta=20, frequency=8), 0.04, 1052),
    _fresh48("glyphs-input-specific", "glyphs", "resnet-deep", Attack("input_specific", target=6, size=4, seed=500), 0.05, 1053),
    _fresh48("scenes-input-specific", "scenes", "regnet-x", Attack("input_specific", target=1, size=5, seed=501), 0.06, 1054),
    _fresh48("strokes-clean-label", "strokes", "regnet-x", Attack("clean_label", target=3, base="patch", size=4, place=(2, 25), colour=(0, 255, 0), mix=0.4), 0.07, 1055),
    _fresh48("scenes-warp", "scenes", "resnet-narrow", Attack("warp", target=6, grid=4, strength=3.5, seed=502), 0.06, 1056),
    _fresh48("strokes-clean", "strokes", "regnet-x", None, 0.0, 1057),
    _fresh48("strokes-clean-2", "strokes", "resnet-deep", None, 0.0, 1058, 3.0),
    _fresh48("glyphs-clean", "glyphs", "convnext-tiny", None, 0.0, 1059),
    _fresh48("glyphs-clean-2", "glyphs", "resnet-narrow", None, 0.0, 1060, 4.0, 1.0),
    _fresh48("scenes-clean", "scenes", "regnet-x", None, 0.0, 1061),
    _fresh48("scenes-clean-2", "scenes", "resnet-deep", None, 0.0, 1062),
    _fresh48("scenes-clean-3", "scenes", "convnext-tiny", None, 0.0, 1063, 3.0),
    _fresh48("glyphs-clean-3", "glyphs", "regnet-x", None, 0.0, 1064),
)  # fmt: skip

_fresh49 = partial(_case, "fresh49")

# FRESH_49: written before anything ran on it, for the split routes without `--test` (a clean strokes
# RegNet-X of FRESH_48 was called by a compact split, persistence gap 0.23): twelve clean sets, four of
# unequal classes, on every dataset and architecture (the false alarms such a change must remove),
# and twelve poisoned sets at 5-12% of every family (the finds it must keep); attack parameters of its
# own.
FRESH_49: tuple[Case, ...] = (
    _fresh49("strokes-clean", "strokes", "regnet-x", None, 0.0, 1065),
    _fresh49("strokes-clean-2", "strokes", "resnet-narrow", None, 0.0, 1066),
    _fresh49("strokes-clean-3", "strokes", "convnext-tiny", None, 0.0, 1067, 3.0),
    _fresh49("strokes-clean-4", "strokes", "resnet-deep", None, 0.0, 1068),
    _fresh49("glyphs-clean", "glyphs", "regnet-x", None, 0.0, 1069),
    _fresh49("glyphs-clean-2", "glyphs", "resnet-deep", None, 0.0, 1070, 4.0, 1.0),
    _fresh49("glyphs-clean-3", "glyphs", "convnext-tiny", None, 0.0, 1071),
    _fresh49("glyphs-clean-4", "glyphs", "resnet-narrow", None, 0.0, 1072),
    _fresh49("scenes-clean", "scenes", "regnet-x", None, 0.0, 1073),
    _fresh49("scenes-clean-2", "scenes", "resnet-narrow", None, 0.0, 1074, 3.0),
    _fresh49("scenes-clean-3", "scenes", "resnet-deep", None, 0.0, 1075),
    _fresh49("scenes-clean-4", "scenes", "convnext-tiny", None, 0.0, 1076, 5.0, 1.0),
    _fresh49("strokes-patch", "strokes", "regnet-x", Attack("patch", target=8, size=4, place=(22, 3), style="solid", colour=(255, 200, 0)), 0.08, 1077),
    _fresh49("glyphs-patch-random", "glyphs", "regnet-x", Attack("patch", target=2, size=4, position="random", style="checker", colour=(0, 128, 255)), 0.10, 1078),
    _fresh49("scenes-patch", "scenes", "resnet-deep", Attack("patch", target=5, size=5, place=(4, 24), style="checker", colour=(255, 255, 0)), 0.07, 1079),
    _fresh49("strokes-blend", "strokes", "resnet-narrow", Attack("blend", target=1, style="noise", alpha=0.13, seed=503), 0.09, 1080),
    _fresh49("glyphs-blend-image", "glyphs", "convnext-tiny", Attack("blend", target=6, style="image", alpha=0.15, seed=504), 0.11, 1081),
    _fresh49("scenes-sig", "scenes", "convnext-tiny", Attack("sig", target=8, delta=28, frequency=7), 0.10, 1082),
    _fresh49("strokes-sig", "strokes", "regnet-x", Attack("sig", target=4, delta=24, frequency=5), 0.06, 1083),
    _fresh49("glyphs-warp", "glyphs", "resnet-narrow", Attack("warp", target=3, grid=5, strength=3.4, seed=505), 0.12, 1084),
    _fresh49("strokes-warp", "strokes", "regnet-x", Attack("warp", target=7, grid=4, strength=3.2, seed=506), 0.10, 1085),
    _fresh49("scenes-input-specific", "scenes", "resnet-narrow", Attack("input_specific", target=0, size=5, seed=507), 0.09, 1086),
    _fresh49("glyphs-input-specific", "glyphs", "regnet-x", Attack("input_specific", target=5, size=4, seed=508), 0.08, 1087),
    _fresh49("glyphs-clean-label", "glyphs", "resnet-deep", Attack("clean_label", target=1, base="patch", size=4, place=(3, 26), colour=(255, 0, 0), mix=0.4), 0.10, 1088),
)  # fmt: skip

_fresh50 = partial(_case, "fresh50")

# FRESH_50: written before anything ran on it, for the low-pass corroboration needing the clean-split
# network's word too (FRESH_49's clean strokes ResNet was called by the filter alone at 0.154 / 0.23,
# the network reading none of its rows away): twelve clean sets on every dataset and architecture,
# three of unequal classes (the false alarms it must remove), and twelve weakly poisoned sets at 3-6%,
# whose targets the reference singles out short of its bar (the finds it must keep); attack
# parameters of its own.
FRESH_50: tuple[Case, ...] = (
    _fresh50("strokes-clean", "strokes", "resnet-deep", None, 0.0, 1089),
    _fresh50("strokes-clean-2", "strokes", "regnet-x", None, 0.0, 1090),
    _fresh50("strokes-clean-3", "strokes", "convnext-tiny", None, 0.0, 1091, 3.0),
    _fresh50("strokes-clean-4", "strokes", "resnet-narrow", None, 0.0, 1092),
    _fresh50("glyphs-clean", "glyphs", "resnet-deep", None, 0.0, 1093),
    _fresh50("glyphs-clean-2", "glyphs", "regnet-x", None, 0.0, 1094),
    _fresh50("glyphs-clean-3", "glyphs", "resnet-narrow", None, 0.0, 1095, 4.0, 1.0),
    _fresh50("glyphs-clean-4", "glyphs", "convnext-tiny", None, 0.0, 1096),
    _fresh50("scenes-clean", "scenes", "resnet-deep", None, 0.0, 1097),
    _fresh50("scenes-clean-2", "scenes", "convnext-tiny", None, 0.0, 1098),
    _fresh50("scenes-clean-3", "scenes", "regnet-x", None, 0.0, 1099, 3.0),
    _fresh50("scenes-clean-4", "scenes", "resnet-narrow", None, 0.0, 1100),
    _fresh50("strokes-patch", "strokes", "resnet-deep", Attack("patch", target=3, size=3, place=(2, 14), style="solid", colour=(0, 255, 255)), 0.04, 1101),
    _fresh50("glyphs-patch", "glyphs", "convnext-tiny", Attack("patch", target=5, size=4, place=(25, 25), style="checker", colour=(255, 64, 0)), 0.03, 1102),
    _fresh50("scenes-patch", "scenes", "regnet-x", Attack("patch", target=9, size=5, place=(12, 1), style="noise", seed=509), 0.05, 1103),
    _fresh50("strokes-blend", "strokes", "convnext-tiny", Attack("blend", target=6, style="noise", alpha=0.11, seed=510), 0.05, 1104),
    _fresh50("glyphs-blend", "glyphs", "resnet-deep", Attack("blend", target=0, style="noise", alpha=0.12, seed=511), 0.04, 1105),
    _fresh50("scenes-blend-image", "scenes", "resnet-narrow", Attack("blend", target=4, style="image", alpha=0.14, seed=512), 0.06, 1106),
    _fresh50("glyphs-sig", "glyphs", "regnet-x", Attack("sig", target=3, delta=20, frequency=6), 0.05, 1107),
    _fresh50("strokes-sig", "strokes", "resnet-narrow", Attack("sig", target=9, delta=22, frequency=9), 0.04, 1108),
    _fresh50("strokes-warp", "strokes", "regnet-x", Attack("warp", target=1, grid=5, strength=3.3, seed=513), 0.06, 1109),
    _fresh50("glyphs-input-specific", "glyphs", "resnet-narrow", Attack("input_specific", target=7, size=4, seed=514), 0.05, 1110),
    _fresh50("scenes-input-specific", "scenes", "resnet-deep", Attack("input_specific", target=2, size=5, seed=515), 0.06, 1111),
    _fresh50("strokes-clean-label", "strokes", "resnet-deep", Attack("clean_label", target=5, base="patch", size=4, place=(25, 2), colour=(255, 255, 255), mix=0.45), 0.06, 1112),
)  # fmt: skip

_fresh51 = partial(_case, "fresh51")

# FRESH_51: written before anything ran on it, for the clean-split network calling a class alone (its
# read-away excess at the reference's own bar, the reference's grouped share above the set's median):
# twelve clean sets on every dataset and architecture, three of unequal classes and two glyph sets
# (a clean glyph class read 0.23 away on seen data), the false alarms it must not raise; and twelve
# dirty-label sets at 3-7% (warps, faint blends, low sinusoids) whose poison the model's features file
# among the target's clean rows, the finds it is for, with a clean-label set it cannot see; attack
# parameters of its own.
FRESH_51: tuple[Case, ...] = (
    _fresh51("strokes-clean", "strokes", "convnext-tiny", None, 0.0, 1113),
    _fresh51("strokes-clean-2", "strokes", "resnet-deep", None, 0.0, 1114, 4.0),
    _fresh51("strokes-clean-3", "strokes", "resnet-narrow", None, 0.0, 1115),
    _fresh51("strokes-clean-4", "strokes", "regnet-x", None, 0.0, 1116),
    _fresh51("glyphs-clean", "glyphs", "convnext-tiny", None, 0.0, 1117),
    _fresh51("glyphs-clean-2", "glyphs", "resnet-narrow", None, 0.0, 1118),
    _fresh51("glyphs-clean-3", "glyphs", "regnet-x", None, 0.0, 1119, 3.0, 1.0),
    _fresh51("glyphs-clean-4", "glyphs", "resnet-deep", None, 0.0, 1120),
    _fresh51("scenes-clean", "scenes", "resnet-narrow", None, 0.0, 1121),
    _fresh51("scenes-clean-2", "scenes", "regnet-x", None, 0.0, 1122),
    _fresh51("scenes-clean-3", "scenes", "convnext-tiny", None, 0.0, 1123, 4.0),
    _fresh51("scenes-clean-4", "scenes", "resnet-deep", None, 0.0, 1124),
    _fresh51("strokes-warp", "strokes", "resnet-narrow", Attack("warp", target=2, grid=4, strength=3.0, seed=516), 0.05, 1125),
    _fresh51("glyphs-warp", "glyphs", "regnet-x", Attack("warp", target=6, grid=6, strength=3.6, seed=517), 0.07, 1126),
    _fresh51("scenes-warp", "scenes", "resnet-deep", Attack("warp", target=3, grid=5, strength=3.5, seed=518), 0.06, 1127),
    _fresh51("strokes-blend", "strokes", "regnet-x", Attack("blend", target=0, style="noise", alpha=0.10, seed=519), 0.06, 1128),
    _fresh51("scenes-blend", "scenes", "convnext-tiny", Attack("blend", target=7, style="noise", alpha=0.12, seed=520), 0.05, 1129),
    _fresh51("glyphs-blend-image", "glyphs", "resnet-deep", Attack("blend", target=1, style="image", alpha=0.13, seed=521), 0.06, 1130),
    _fresh51("strokes-sig", "strokes", "resnet-deep", Attack("sig", target=7, delta=18, frequency=4), 0.05, 1131),
    _fresh51("scenes-sig", "scenes", "resnet-narrow", Attack("sig", target=1, delta=26, frequency=3), 0.07, 1132),
    _fresh51("glyphs-patch", "glyphs", "resnet-narrow", Attack("patch", target=4, size=3, place=(1, 27), style="solid", colour=(0, 255, 0)), 0.03, 1133),
    _fresh51("scenes-patch-random", "scenes", "regnet-x", Attack("patch", target=6, size=5, position="random", style="checker", colour=(255, 0, 255)), 0.05, 1134),
    _fresh51("strokes-input-specific", "strokes", "convnext-tiny", Attack("input_specific", target=8, size=4, seed=522), 0.04, 1135),
    _fresh51("glyphs-clean-label", "glyphs", "convnext-tiny", Attack("clean_label", target=2, base="patch", size=5, place=(24, 3), colour=(255, 255, 0), mix=0.5), 0.07, 1136),
)  # fmt: skip

_fresh52 = partial(_case, "fresh52")

# FRESH_52: written before anything ran on it, for the clean-split network's call taking the rows the
# low-pass filter loses too where the filter calls the same class (FRESH_47's scenes input-specific
# set, called by the filter before the network's own call and by the network alone after it, lost
# recall): twelve clean sets on every dataset and architecture, two of unequal classes, and twelve
# poisoned sets at 3-8% whose triggers live in fine detail (input-specific, noise blends, small
# patches) or survive the filter (warps, low sinusoids), on scenes most; attack parameters of its own.
FRESH_52: tuple[Case, ...] = (
    _fresh52("strokes-clean", "strokes", "regnet-x", None, 0.0, 1137),
    _fresh52("strokes-clean-2", "strokes", "convnext-tiny", None, 0.0, 1138),
    _fresh52("strokes-clean-3", "strokes", "resnet-deep", None, 0.0, 1139, 3.0),
    _fresh52("strokes-clean-4", "strokes", "resnet-narrow", None, 0.0, 1140),
    _fresh52("glyphs-clean", "glyphs", "resnet-deep", None, 0.0, 1141),
    _fresh52("glyphs-clean-2", "glyphs", "convnext-tiny", None, 0.0, 1142),
    _fresh52("glyphs-clean-3", "glyphs", "resnet-narrow", None, 0.0, 1143),
    _fresh52("glyphs-clean-4", "glyphs", "regnet-x", None, 0.0, 1144, 4.0, 1.0),
    _fresh52("scenes-clean", "scenes", "convnext-tiny", None, 0.0, 1145),
    _fresh52("scenes-clean-2", "scenes", "resnet-narrow", None, 0.0, 1146),
    _fresh52("scenes-clean-3", "scenes", "resnet-deep", None, 0.0, 1147),
    _fresh52("scenes-clean-4", "scenes", "regnet-x", None, 0.0, 1148),
    _fresh52("scenes-input-specific", "scenes", "regnet-x", Attack("input_specific", target=4, size=5, seed=523), 0.08, 1149),
    _fresh52("scenes-input-specific-2", "scenes", "convnext-tiny", Attack("input_specific", target=8, size=4, seed=524), 0.06, 1150),
    _fresh52("glyphs-input-specific", "glyphs", "resnet-deep", Attack("input_specific", target=3, size=4, seed=525), 0.05, 1151),
    _fresh52("scenes-blend", "scenes", "resnet-narrow", Attack("blend", target=2, style="noise", alpha=0.13, seed=526), 0.07, 1152),
    _fresh52("strokes-blend", "strokes", "resnet-deep", Attack("blend", target=5, style="noise", alpha=0.09, seed=527), 0.05, 1153),
    _fresh52("scenes-patch", "scenes", "resnet-deep", Attack("patch", target=0, size=4, place=(27, 14), style="checker", colour=(0, 255, 128)), 0.04, 1154),
    _fresh52("glyphs-patch-random", "glyphs", "regnet-x", Attack("patch", target=6, size=3, position="random", style="solid", colour=(255, 128, 0)), 0.05, 1155),
    _fresh52("strokes-warp", "strokes", "convnext-tiny", Attack("warp", target=9, grid=5, strength=3.1, seed=528), 0.06, 1156),
    _fresh52("scenes-warp", "scenes", "resnet-narrow", Attack("warp", target=5, grid=4, strength=3.7, seed=529), 0.08, 1157),
    _fresh52("scenes-sig", "scenes", "regnet-x", Attack("sig", target=9, delta=24, frequency=2), 0.06, 1158),
    _fresh52("glyphs-sig", "glyphs", "resnet-narrow", Attack("sig", target=0, delta=20, frequency=5), 0.04, 1159),
    _fresh52("scenes-clean-label", "scenes", "resnet-deep", Attack("clean_label", target=6, base="patch", size=5, place=(2, 2), colour=(255, 255, 255), mix=0.45), 0.06, 1160),
)  # fmt: skip

_fresh53 = partial(_case, "fresh53")

# FRESH_53: written before anything ran on it, for the rows a called class takes from the model's own
# misreading (`model_reads_other_class`): on FRESH_44, FRESH_45 and FRESH_50 most of those rows that no
# other signal flagged were clean, in sets whose relabelled poison the model did not learn. Twelve
# clean sets on every dataset and architecture, two of unequal classes; twelve poisoned sets at 3-9%,
# most dirty-label poison a model may learn only in part (input-specific triggers, faint noise blends,
# small patches at random places), beside a warp, a sinusoid and a clean-label set; attack parameters
# of its own.
FRESH_53: tuple[Case, ...] = (
    _fresh53("strokes-clean", "strokes", "resnet-narrow", None, 0.0, 1161),
    _fresh53("strokes-clean-2", "strokes", "regnet-x", None, 0.0, 1162),
    _fresh53("strokes-clean-3", "strokes", "convnext-tiny", None, 0.0, 1163, 3.0),
    _fresh53("strokes-clean-4", "strokes", "resnet-deep", None, 0.0, 1164),
    _fresh53("glyphs-clean", "glyphs", "regnet-x", None, 0.0, 1165),
    _fresh53("glyphs-clean-2", "glyphs", "resnet-narrow", None, 0.0, 1166),
    _fresh53("glyphs-clean-3", "glyphs", "convnext-tiny", None, 0.0, 1167),
    _fresh53("glyphs-clean-4", "glyphs", "resnet-deep", None, 0.0, 1168),
    _fresh53("scenes-clean", "scenes", "resnet-deep", None, 0.0, 1169),
    _fresh53("scenes-clean-2", "scenes", "regnet-x", None, 0.0, 1170),
    _fresh53("scenes-clean-3", "scenes", "convnext-tiny", None, 0.0, 1171, 4.0, 1.0),
    _fresh53("scenes-clean-4", "scenes", "resnet-narrow", None, 0.0, 1172),
    _fresh53("strokes-input-specific", "strokes", "regnet-x", Attack("input_specific", target=2, size=3, seed=531), 0.05, 1173),
    _fresh53("glyphs-input-specific", "glyphs", "convnext-tiny", Attack("input_specific", target=6, size=4, seed=532), 0.07, 1174),
    _fresh53("scenes-input-specific", "scenes", "resnet-deep", Attack("input_specific", target=1, size=5, seed=533), 0.06, 1175),
    _fresh53("strokes-blend", "strokes", "convnext-tiny", Attack("blend", target=7, style="noise", alpha=0.07, seed=534), 0.06, 1176),
    _fresh53("glyphs-blend", "glyphs", "resnet-narrow", Attack("blend", target=3, style="noise", alpha=0.08, seed=535), 0.05, 1177),
    _fresh53("strokes-patch-random", "strokes", "resnet-deep", Attack("patch", target=0, size=3, position="random", style="noise", seed=536), 0.04, 1178),
    _fresh53("glyphs-patch-random", "glyphs", "regnet-x", Attack("patch", target=5, size=4, position="random", style="checker", colour=(0, 128, 255)), 0.06, 1179),
    _fresh53("scenes-patch", "scenes", "convnext-tiny", Attack("patch", target=3, size=5, place=(20, 4), style="solid", colour=(255, 255, 0)), 0.03, 1180),
    _fresh53("glyphs-warp", "glyphs", "resnet-deep", Attack("warp", target=4, grid=4, strength=3.4, seed=537), 0.09, 1181),
    _fresh53("strokes-sig", "strokes", "resnet-narrow", Attack("sig", target=6, delta=22, frequency=7), 0.05, 1182),
    _fresh53("scenes-blend", "scenes", "regnet-x", Attack("blend", target=8, style="image", alpha=0.14, seed=538), 0.08, 1183),
    _fresh53("strokes-clean-label", "strokes", "resnet-narrow", Attack("clean_label", target=9, base="patch", size=4, place=(3, 25), colour=(255, 0, 0), mix=0.5), 0.07, 1184),
)  # fmt: skip

# Every part by name; CALIBRATE and DEVELOP are where thresholds are fitted and the detector is
# developed, the rest are UNSEEN (each measured once per detector version).
PARTS: dict[str, tuple[Case, ...]] = {
    "calibrate": CALIBRATE,
    "develop": DEVELOP,
    "evaluate": EVALUATE,
    "fresh": FRESH,
    "fresh2": FRESH_2,
    "fresh3": FRESH_3,
    "fresh4": FRESH_4,
    "fresh5": FRESH_5,
    "fresh6": FRESH_6,
    "fresh7": FRESH_7,
    "fresh8": FRESH_8,
    "fresh9": FRESH_9,
    "fresh10": FRESH_10,
    "fresh11": FRESH_11,
    "fresh12": FRESH_12,
    "fresh13": FRESH_13,
    "fresh14": FRESH_14,
    "fresh15": FRESH_15,
    "fresh16": FRESH_16,
    "fresh17": FRESH_17,
    "fresh18": FRESH_18,
    "fresh19": FRESH_19,
    "fresh20": FRESH_20,
    "fresh21": FRESH_21,
    "fresh22": FRESH_22,
    "fresh23": FRESH_23,
    "fresh24": FRESH_24,
    "fresh25": FRESH_25,
    "fresh26": FRESH_26,
    "fresh27": FRESH_27,
    "fresh28": FRESH_28,
    "fresh29": FRESH_29,
    "fresh30": FRESH_30,
    "fresh31": FRESH_31,
    "fresh32": FRESH_32,
    "fresh33": FRESH_33,
    "fresh34": FRESH_34,
    "fresh35": FRESH_35,
    "fresh36": FRESH_36,
    "fresh37": FRESH_37,
    "fresh38": FRESH_38,
    "fresh39": FRESH_39,
    "fresh40": FRESH_40,
    "fresh41": FRESH_41,
    "fresh42": FRESH_42,
    "fresh43": FRESH_43,
    "fresh44": FRESH_44,
    "fresh45": FRESH_45,
    "fresh46": FRESH_46,
    "fresh47": FRESH_47,
    "fresh48": FRESH_48,
    "fresh49": FRESH_49,
    "fresh50": FRESH_50,
    "fresh51": FRESH_51,
    "fresh52": FRESH_52,
    "fresh53": FRESH_53,
}
UNSEEN = tuple(name for name in PARTS if name not in ("calibrate", "develop"))
# Parts also measured with `--test --behavior`: every part but EVALUATE and FRESH.
BEHAVIOR_PARTS = tuple(name for name in PARTS if name not in ("evaluate", "fresh"))

_SUCCESS: dict[str, float | None] = {}  # case name → attack success rate on held-out images


def _prepared(
    case: Case, *, reference: bool = False, behavior: bool = False, reference_rows: int | None = None
) -> tuple[Any, np.ndarray, dict[str, Any]]:
    """The data scan's workspace for the case's set and model (features computed once); with
    `reference`, as `airlock data --model M --test clean.npz` (the case's clean held-out sample is the
    clean reference of its classes), cut to `reference_rows` rows a class when given; with
    `behavior`, as `airlock data --model M --test clean.npz --behavior` (the trigger reversal on that
    sample also blames a class)."""
    from airlock.data.pipeline import VetOptions, workspace
    from fixtures.heldout.train import build_case, clean_sample

    built = build_case(case)
    test = clean_sample(built) if reference or behavior else None
    if test is not None and reference_rows is not None:
        test = _cut(test, reference_rows, case.seed)
    ws = workspace(built.train, VetOptions(model=str(built.model), test=test, behavior=behavior))
    _SUCCESS[case.name] = built.record.get("attack_success_rate")
    return ws, built.poisoned, built.record


def _cut(sample: Path, per_class: int, seed: int) -> Path:
    """The clean sample with at most `per_class` rows of each class (a seeded draw), beside it."""
    out = sample.with_name(f"{sample.stem}-{per_class}-a-class.npz")
    if not out.is_file():
        with np.load(sample) as z:
            data = {k: z[k] for k in z.files}
        rng = np.random.default_rng(seed)
        keep = np.sort(
            np.concatenate(
                [rng.permutation(np.flatnonzero(data["y"] == c))[:per_class] for c in np.unique(data["y"])]
            )
        )
        np.savez(out, **{k: v[keep] if k in ("x", "y") else v for k, v in data.items()})
    return out


def _category(case: Case) -> str:
    """The case's family, or `<family> (not learned)` where the model did not learn its trigger
    (attack success under NOT_LEARNED): such poison is inert to this model, a separate category."""
    success = _SUCCESS.get(case.name)
    if case.attack is not None and success is not None and success < NOT_LEARNED:
        return f"{case.family} (not learned)"
    return case.family


Decision = tuple[np.ndarray, bool, dict[str, Any]]
_DECIDED: dict[tuple[int, Any], tuple[weakref.ref[Any], Decision]] = {}


def _decide(ws: Any, calibration: Any) -> Decision:
    """The poisoning check on a prepared workspace with `calibration`: flagged rows, class called?
    (memoised: the fits of leave-one-family-out ask for the same pairs again)"""
    return _memoised(ws, calibration, lambda w: _check(w, calibration))


def _memoised(ws: Any, calibration: Any, compute: Callable[[Any], Decision]) -> Decision:
    """`compute(ws)`, once per workspace and calibration. The memo holds the workspace weakly and
    checks it is the same one: once a workspace is freed (the next part of a run of several), a new
    one can get its id, and a memo keyed by the id alone handed it the old set's rows."""
    key = (id(ws), calibration)
    entry = _DECIDED.get(key)
    if entry is None or entry[0]() is not ws:
        entry = (weakref.ref(ws), compute(ws))
        _DECIDED[key] = entry
    return entry[1]


def _check(ws: Any, calibration: Any) -> Decision:
    from airlock.data.checks import DataPoisoning

    ws.calibration = calibration
    ws.section["flagged"] = []
    findings = list(DataPoisoning().run(ws))
    flagged = np.asarray(ws.section.get("flagged", []), np.int64)
    summary: dict[str, Any] = {
        "suspect_classes": ws.section.get("suspect_classes", []),
        "grown": [f.evidence["class"] for f in findings if f.rule == "AIR804"],  # reported, not called
    }
    behaviour = ws.section.get("behavior")
    if behaviour is not None:  # `--behavior`: the reversal's score and class, and what it blamed
        summary["behaviour"] = {
            "score": behaviour["score"],
            "candidate_class": behaviour["candidate_class"],
            "blamed": ws.section.get("blamed_classes", []),
        }
    return flagged, any(f.rule == "AIR801" for f in findings), summary


def _score(flagged: np.ndarray, truth: np.ndarray) -> tuple[int, int, int]:
    hit = len(np.intersect1d(flagged, truth))
    return hit, len(flagged), len(truth)


def _pr(hit: int, flagged: int, truth: int) -> tuple[float, float]:
    precision = hit / flagged if flagged else (1.0 if not truth else 0.0)
    recall = hit / truth if truth else 1.0
    return precision, recall


def _scaled(calibration: Any, scale: float) -> Any:
    fields = {k: v * scale for k, v in vars(calibration).items() if k in _SCALED}
    return replace(calibration, **fields)


_SCALED = ("separation", "disagreement", "separation_alone", "relative_separation")


def _fit(prepared: list[tuple[Case, Any, np.ndarray]], base: Any) -> float:
    """The scale with the best mean F1 on poisoned calibrate cases and no clean one called."""
    best: tuple[float, float] = (-1.0, 1.0)
    for scale in SCALES:
        cal = _scaled(base, scale)
        f1s, clean_called = [], False
        for case, ws, truth in prepared:
            flagged, called, _ = _decide(ws, cal)
            if case.attack is None:
                clean_called |= called
                continue
            p, r = _pr(*_score(flagged, truth))
            f1s.append(2 * p * r / (p + r) if p + r else 0.0)
        if clean_called:
            continue
        key = (float(np.mean(f1s)), -abs(np.log(scale)))
        if key > (best[0], -abs(np.log(best[1]))):
            best = (key[0], scale)
    return best[1]


def _table(
    label: str, prepared: list[tuple[Case, Any, np.ndarray]], calibration: Any
) -> tuple[list[dict[str, Any]], dict[str, list[int]]]:
    rows: list[dict[str, Any]] = []
    by_family: dict[str, list[int]] = {}
    by_dataset: dict[str, list[int]] = {}
    for case, ws, truth in prepared:
        flagged, called, section = _decide(ws, calibration)
        hit, n_flagged, n_truth = _score(flagged, truth)
        p, r = _pr(hit, n_flagged, n_truth)
        for key, table in ((_category(case), by_family), (case.dataset, by_dataset)):
            acc = table.setdefault(key, [0, 0, 0, 0, 0])
            acc[0] += hit
            acc[1] += n_flagged
            acc[2] += n_truth
            acc[3] += called if case.attack is None else 0
            acc[4] += 1
        rows.append(
            {
                "case": f"{label} {case.name} ({case.arch}, {case.rate:.0%})",
                "attack_success": "-" if _SUCCESS.get(case.name) is None else f"{_SUCCESS[case.name]:.3f}",
                "precision": f"{p:.2f}",
                "recall": f"{r:.2f}",
                "flagged": n_flagged,
                "poisoned": n_truth,
                "called": called,
                "classes": section.get("suspect_classes", []),
                "grown": section.get("grown", []),
            }
            | ({"behaviour": section["behaviour"]} if "behaviour" in section else {})
        )
    for name, table in (("family", by_family), ("dataset", by_dataset)):
        for key, (hit, n_flagged, n_truth, clean_called, count) in sorted(table.items()):
            p, r = _pr(hit, n_flagged, n_truth)
            summary: dict[str, Any] = {"case": f"{label} {name} {key}", "sets": count}
            if key == "clean":
                summary["clean_sets_called"] = clean_called
            else:
                summary.update({"precision": f"{p:.2f}", "recall": f"{r:.2f}"})
                if name == "dataset":
                    summary["clean_sets_called"] = clean_called
            rows.append(summary)
    return rows, dict(by_family)


def _tables() -> dict[str, Any]:
    from bench.data_tables import outcome
    from fixtures._cache import fixtures_dir
    from fixtures.tables_eval import CLEAN_SEEDS, clean_table

    folder = fixtures_dir() / "heldout" / "tables"
    folder.mkdir(parents=True, exist_ok=True)
    called = failed = 0
    for seed in CLEAN_SEEDS[:TABLES]:
        table = clean_table(seed)
        result = outcome(table.write(folder / f"{table.name}.csv"), table.label)
        called += result["poisoning"] == "poisoned"
        failed += result["verdict"] != "pass"
    return {
        "case": "clean tables (fixtures.tables_eval)",
        "tables": TABLES,
        "called_poisoned": called,
        "failed_verdict": failed,
    }


@contextmanager
def one_thread() -> Iterator[None]:
    """Torch and the BLAS pools on one thread, as the benchmarks measure."""
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    with threadpool_limits(1):
        yield


def run(work: Path) -> list[dict[str, Any]]:
    from airlock.data.pipeline import calibration

    rows: list[dict[str, Any]] = []
    with one_thread():
        start = time.perf_counter()
        prepared = {name: [(c, *_prepared(c)[:2]) for c in cases] for name, cases in PARTS.items()}
        rows.append(
            {"case": "models trained/loaded and features extracted", "seconds": time.perf_counter() - start}
        )
        shipped = calibration()
        for name, part in prepared.items():
            rows.extend(_table(f"shipped/{name}", part, shipped)[0])
        scale = _fit(prepared["calibrate"], shipped)
        rows.append({"case": f"fitted on CALIBRATE: threshold scale {scale}"})
        for name in UNSEEN:
            rows.extend(_table(f"fitted/{name}", prepared[name], _scaled(shipped, scale))[0])
        unseen = [p for name in UNSEEN for p in prepared[name]]
        families = sorted({c.family for c, _, _ in unseen} - {"clean"})
        for family in families:
            held = [p for p in prepared["calibrate"] if p[0].family != family]
            s = _fit(held, shipped)
            _, by_family = _table("lofo", [p for p in unseen if p[0].family == family], _scaled(shipped, s))
            totals = [
                sum(v)
                for v in zip(*(by_family[k] for k in by_family if k.split(" (")[0] == family), strict=True)
            ]
            hit, n_flagged, n_truth = totals[:3]
            p, r = _pr(hit, n_flagged, n_truth)
            rows.append(
                {
                    "case": f"leave-one-family-out {family} (scale {s})",
                    "precision": f"{p:.2f}",
                    "recall": f"{r:.2f}",
                }
            )
        # `airlock data --model M --test clean.npz`: the clean sample is the classes' reference.
        # REFERENCE_AT was fitted on CALIBRATE to FRESH_10; FRESH_11 and FRESH_12 are unseen.
        for name in PARTS:
            part = [(c, *_prepared(c, reference=True)[:2]) for c in PARTS[name]]
            rows.extend(_table(f"with --test/{name}", part, shipped)[0])
        # `airlock data --model M --test clean.npz --behavior`: the trigger reversal blames a class.
        # Developed on CALIBRATE and DEVELOP (BLAME_AT and the reversed-trigger route too); FRESH_2 to
        # FRESH_6 are unseen. (Before FRESH_11, --test was no reference and this was --behavior alone.)
        for name in BEHAVIOR_PARTS:
            part = [(c, *_prepared(c, behavior=True)[:2]) for c in PARTS[name]]
            rows.extend(_table(f"with --test --behavior/{name}", part, shipped)[0])
        rows.append(_tables())
    return rows


def parts(names: tuple[str, ...]) -> list[dict[str, Any]]:
    """The shipped-threshold tables of the parts `names`, then the same with `--test` (the clean
    reference) and with `--test --behavior` (for those in BEHAVIOR_PARTS): one part measured without
    re-running every other (one torch thread)."""
    from airlock.data.pipeline import calibration

    rows: list[dict[str, Any]] = []
    with one_thread():
        for name in names:
            prepared = [(c, *_prepared(c)[:2]) for c in PARTS[name]]
            rows.extend(_table(f"shipped/{name}", prepared, calibration())[0])
            part = [(c, *_prepared(c, reference=True)[:2]) for c in PARTS[name]]
            rows.extend(_table(f"with --test/{name}", part, calibration())[0])
            if name in BEHAVIOR_PARTS:
                part = [(c, *_prepared(c, behavior=True)[:2]) for c in PARTS[name]]
                rows.extend(_table(f"with --test --behavior/{name}", part, calibration())[0])
    return rows


def small_reference(names: tuple[str, ...], per_class: int) -> list[dict[str, Any]]:
    """The `--test` tables of the parts `names` with the clean sample cut to `per_class` rows a class:
    whether the reference's bars, scaled for few reference rows, still call no clean set, and what
    a small reference costs in recall."""
    from airlock.data.pipeline import calibration

    rows: list[dict[str, Any]] = []
    with one_thread():
        for name in names:
            part = [(c, *_prepared(c, reference=True, reference_rows=per_class)[:2]) for c in PARTS[name]]
            rows.extend(_table(f"with --test, {per_class} rows a class/{name}", part, calibration())[0])
    return rows


if __name__ == "__main__":  # python -m bench.data_heldout OUT.json [--reference-rows=N] PART…
    import json
    import sys

    options = [a for a in sys.argv[2:] if a.startswith("--reference-rows=")]
    out, chosen = Path(sys.argv[1]), tuple(a for a in sys.argv[2:] if a not in options) or tuple(PARTS)
    per_class = int(options[-1].split("=", 1)[1]) if options else None
    measured = small_reference(chosen, per_class) if per_class else parts(chosen)
    for row in measured:
        print(json.dumps(row), flush=True)
    out.write_text(json.dumps(measured, indent=1))
