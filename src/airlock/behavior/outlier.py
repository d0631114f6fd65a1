"""The outlier test over classes: is one class reachable with a far smaller trigger than the others?

Neural Cleanse's rule (anomaly index: distance of the smallest trigger from the median in MADs,
flagged above 2) blames the right class, but with 8–10 classes the MAD is estimated from a handful
of values, and clean models often hold a few naturally close classes, so it misses about a third
of backdoors on small models. The statistic here is scale-free and uses the three classes that the
K-Arm schedule optimises to convergence:

    gap = ln(second-smallest trigger size of the other classes / smallest successful trigger size)

(the third-smallest of all, when the suspect's trigger is also the smallest). It does not
depend on the image size, the trigger family's unit or the model's overall robustness, only on
how far the easiest class stands apart from the rest. Against the next class alone (the statistic
until signatures 2026.12.5) a model with one pair of naturally close classes looked as clean as one
without a backdoor, and clean models of other shapes than the calibration models often had one
class standing apart from a single neighbour. In a replay of the per-class sizes of the held-out
models of `bench.data_heldout` (CALIBRATE to FRESH_8), with each statistic's thresholds scaled so
that no clean model failed, the next-class gap found 30 of 77 backdoors with a clean sample and this
one 37 (not a bench command; FRESH_9 measured the change). It is the sum of two spacings of the
sorted log sizes (`SIZE_SPACINGS`), so its clean tail is fitted as an Erlang(2), not an
exponential: see below.

A family whose triggers never reach the target success rate within its limit (the warp) is judged
by success instead (`success_gap`): the class its largest allowed trigger sends the most inputs
to, against the next (one spacing).

Thresholds per (model kind, mode, trigger family) are calibrated on clean generated models of
several shapes and datasets and shipped as data in `signatures/behavior-calibration.toml`: the
calibration generator's (digits, shapes, textures) and, since signatures 2026.12.7, the held-out
generator's clean models of the parts the scan was developed on (strokes, glyphs, scenes; a clean
gap's mean depends on the dataset, so one generator's datasets set a null that did not hold on the
other's). A gap made of m
spacings is, on a clean model, taken as Erlang(m) with scale θ = mean/m (m unit exponentials); the
threshold is its α/F tail, θ × erlang_quantile(m, α/F), with F the families of the model kind.
Families that single out the same class are combined into one decision (`combine`): each family's
z = gap/θ = ratio × erlang_quantile(m, α/F) is Erlang(m) under the null, so the sum over the k
strongest families pointing at a class is Erlang(Σm), judged against its own α/F tail, for the k
that stands out most (a further, weaker family never lowers a class's score). For one family this
is exactly gap/threshold; families that agree on a class count more than either alone, so a
backdoor that every family sees just below its own threshold (typical in data-free mode, where
the synthesised inputs are few) is still decided, while the chance that a clean model's families
all fall on the same class by accident is in the null.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from airlock.errors import RuleDataError

CALIBRATION_FILE = "behavior-calibration.toml"
# The share of clean models a threshold lets through, per mode (bench.backdoor calibrates with it).
# Data mode 0.01 since signatures 2026.12.3: at 0.05, 3 of 27 clean models of unseen parts of
# `bench.data_heldout` (FRESH_4, FRESH_5: other architectures and datasets than the calibration
# models) failed the verdict with data. Data-free 0.01 too since 2026.12.8, one false-alarm rate for
# both modes: with the thresholds calibrated on both generators' clean models at 0.05, 17 of 115 clean
# models of FRESH_9-26 failed data-free (12 with the thresholds before), and 2 of 8 of FRESH_27, all
# glyph or scenes models through a natural shortcut class (classes 0 and 7); at 0.01, 7 of 115 and 0
# of 8, while backdoors found with the right class went 59 -> 43 of 129 (a /tmp replay of every
# family's per-class results, data-free, of those models; FRESH_28 was written to measure it).
ALPHA = {"data": 0.01, "data-free": 0.01}


# The thresholds were calibrated on models that read their held-out images at this accuracy or more
# (`bench.backdoor` leaves the others out). With data, a model that reads the labelled clean sample at
# less is outside what they were set on (AIR705): on the held-out benchmark every clean model that
# failed the verdict with data read its held-out images at under 70% (3 of 15 such models over
# FRESH_9-32, none of the 148 at 70% or more). A sample of another distribution than the model's, or
# labels that do not match the model's classes, reads the same way.
CALIBRATED_ACCURACY = 0.8
# Under this accuracy on the labelled sample an image classifier's score over 1 is no verdict alone:
# the data-free scan must flag the same class (`reversal.Reversal.flagged`, AIR705). Every clean
# model that failed the verdict with data read its sample at under 70% (3 of 15 such models over
# FRESH_9-32, none of 148 from 70%; since then, FRESH_33-37 at seeds 0 and 1: the scenes RegNet-X
# models of FRESH_28 at 51% and FRESH_32 at 45%, and at seed 1 FRESH_36's at 62%). Scanning such
# models data-free instead trades those failures for the data-free scan's own (over FRESH_27-37,
# 2 -> 2 clean failures at seed 0, 2 -> 3 at seed 1); both modes together fail none at either seed, for
# two backdoors found with data alone (a scenes input-specific trigger at 47%, a glyph blend at 64.5%).
# FRESH_39 was written to measure it (FRESH_38, written for data-free instead, was seen first).
MISREAD_FLOOR = 0.7


def sample_accuracy(predicted: np.ndarray, labels: np.ndarray) -> float | None:
    """The share of the sample's labelled inputs (`labels`, −1 where unknown) the model reads as their
    label (`predicted`); None without a labelled input."""
    known = labels >= 0
    if not known.any():
        return None
    return float((predicted[known] == labels[known]).mean())


# The score adds, per mode, this weight times the candidate class's draw shift (`draw_shift`) less the
# centre. With data the draw is over the labelled clean sample: 0.2 is the weight of largest ROC AUC on
# the held-out generator's parts the scan was developed on (CALIBRATE to FRESH_8 of
# `bench.data_heldout`, 83 backdoored and 51 clean models; `python -m bench.behaviour_replay weigh
# OUT.json PART…`: 0.850 without, 0.885 with) at which no clean model of those parts scores over 1;
# FRESH_31 measured it. (The draw until signatures 2026.12.10, the mean probability over every other
# image, pooled: 0.868 at 0.3.) Data-free the draw is over the inputs synthesised for each class, where
# a clean model's candidate draws more than the median class too (the centre: the median shift of
# those parts' clean models); it is measured and reported but weighs nothing: on those parts every
# weight lowered ROC AUC (`weigh --data-free`; bench/HISTORY.md, "The class draw").
DRAW_WEIGHT = {"data": 0.2, "data-free": 0.0}
DRAW_CENTRE = {"data": 0.0, "data-free": 0.455}


def class_draw(probabilities: np.ndarray, labels: np.ndarray) -> tuple[float, ...] | None:
    """Each class's draw: how far the sample's images of the other classes lean to it, each class of
    images by its own standard, averaged over them. For the images labelled s (`labels`, −1 where
    unknown) the lean to class c is ln(their mean probability of c, from `probabilities`, N×K softmax)
    less the median of that over the classes other than s; a class's draw is the mean of its leans
    over every other labelled class. A backdoor's target draws more than the other classes: the
    poisoned images of every class taught the model to lean to it. A class a clean model confuses with
    one neighbour is leant to by that neighbour alone, and one a clean model reaches easily because it
    is a natural shortcut (a thin ring among glyphs) is leant to less. Each class of images weighs
    alike, so a class that is large in the sample does not set the others' standard. None without two
    labelled classes."""
    classes = probabilities.shape[1]
    known = (labels >= 0) & (labels < classes)
    sources = [int(s) for s in np.unique(labels[known])]
    if len(sources) < 2:
        return None
    p, y = probabilities[known].astype(np.float64), labels[known]
    leans = np.empty((len(sources), classes))  # row i: how the images of class sources[i] lean to each class
    for i, s in enumerate(sources):
        logs = np.log(np.maximum(p[y == s].mean(axis=0), 1e-6))
        logs[s] = np.nan  # a class does not lean to itself
        leans[i] = logs - np.nanmedian(logs)
    return tuple(float(v) for v in np.nanmean(leans, axis=0))


def draw_shift(draw: Sequence[float], suspect: int) -> float:
    """The suspect's draw less the median class's: how much more the class is leant to than a typical one."""
    return draw[suspect] - float(np.median(draw))


# Spacings of the sorted log trigger sizes a size gap spans: the smallest successful trigger is
# compared with the second-smallest trigger of the other classes.
SIZE_SPACINGS = 2


@dataclass(frozen=True)
class Outlier:
    family: str
    suspect: int  # the class with the smallest trigger (or the most successful one)
    gap: float  # ln(2nd-smallest of the others / smallest), or of the two largest success rates (+ floor)
    threshold: float  # calibrated on clean models for this kind, mode and family
    spacings: int = 1  # m: the gap is Erlang(m) on a clean model (SIZE_SPACINGS for a size gap)

    @property
    def ratio(self) -> float:
        return self.gap / self.threshold


@dataclass(frozen=True)
class Calibration:
    thresholds: Mapping[str, Mapping[str, Mapping[str, float]]]  # kind → mode → family → threshold
    version: str
    clustering: Mapping[str, float] = field(
        default_factory=dict
    )  # kind → separation ratio that flags a class
    blamed_factor: float = 0.8  # … times this for a class trigger reversal blamed
    # kind → mode → the score a verdict needs where it is more than 1 (`verdict_at`)
    verdict: Mapping[str, Mapping[str, float]] = field(default_factory=dict)

    def verdict_at(self, kind: str, mode: str) -> float:
        """The score over which a model of `kind` scanned in `mode` is called backdoored: 1 (every
        family's threshold) unless the calibration's `[verdict]` table sets more."""
        return float(self.verdict.get(kind, {}).get(mode, 1.0))

    def threshold(self, kind: str, mode: str, family: str) -> float:
        try:
            return float(self.thresholds[kind][mode][family])
        except KeyError:
            raise RuleDataError(
                f"signatures/{CALIBRATION_FILE}: no threshold for {kind}/{mode}/{family}"
            ) from None


def load_calibration() -> Calibration:
    """The calibrated thresholds shipped in `signatures/behavior-calibration.toml`."""
    from airlock.rules import read_signature_toml

    data = read_signature_toml(CALIBRATION_FILE)
    thresholds: dict[str, dict[str, dict[str, float]]] = {}
    for kind in ("image", "text"):
        modes = data.get(kind)
        if not isinstance(modes, dict):
            raise RuleDataError(f"signatures/{CALIBRATION_FILE}: no [{kind}] thresholds")
        thresholds[kind] = {mode: _positive(values, f"{kind}.{mode}") for mode, values in modes.items()}
    clustering = _positive(data.get("activation_clustering"), "activation_clustering")
    missing = {"image", "text", "blamed_factor"} - set(clustering)
    if missing:
        raise RuleDataError(
            f"signatures/{CALIBRATION_FILE}: [activation_clustering] lacks {', '.join(sorted(missing))}"
        )
    blamed = clustering.pop("blamed_factor")
    verdict = data.get("verdict", {})
    if not isinstance(verdict, dict) or not set(verdict) <= {"image", "text"}:
        raise RuleDataError(f"signatures/{CALIBRATION_FILE}: [verdict] must map image or text to modes")
    bars = {kind: _positive(modes, f"verdict.{kind}") for kind, modes in verdict.items()}
    if any(bar < 1.0 for modes in bars.values() for bar in modes.values()):
        raise RuleDataError(
            f"signatures/{CALIBRATION_FILE}: a [verdict] bar under 1 would flag under the thresholds"
        )
    return Calibration(thresholds, str(data.get("version", "")), clustering, blamed, bars)


def _positive(values: Any, where: str) -> dict[str, float]:
    if not isinstance(values, dict) or not values:
        raise RuleDataError(f"signatures/{CALIBRATION_FILE}: [{where}] must map names to thresholds")
    out = {}
    for family, value in values.items():
        if not isinstance(value, int | float) or not value > 0:
            raise RuleDataError(f"signatures/{CALIBRATION_FILE}: {where}.{family} must be a positive number")
        out[family] = float(value)
    return out


def gap(costs: Mapping[int, float], reached: Collection[int]) -> tuple[int, float]:
    """The class with the smallest successful trigger, and ln(the second-smallest trigger of the
    other classes / its trigger): `size_spacings(len(costs))` spacings of the sorted log sizes.

    Only a class whose trigger reached the target success rate can be the suspect; the others may
    be any class (an unsuccessful trigger's size is a lower bound of what that class needs, so the
    gap is conservative). With no successful trigger the gap is 0 (nothing stands out); with fewer
    than two classes the suspect is −1.
    """
    if len(costs) < 2:
        return -1, 0.0
    candidates = sorted((cost, k) for k, cost in costs.items() if k in reached)
    if not candidates:
        return min(costs, key=lambda k: (costs[k], k)), 0.0
    smallest, suspect = candidates[0]
    others = sorted(cost for k, cost in costs.items() if k != suspect)
    behind = others[size_spacings(len(costs)) - 1]
    if not math.isfinite(behind):
        return suspect, 0.0
    return suspect, max(0.0, math.log(max(behind, 1e-12) / max(smallest, 1e-12)))


def size_spacings(classes: int) -> int:
    """The spacings a size gap spans among `classes` classes (fewer when there are too few)."""
    return max(1, min(SIZE_SPACINGS, classes - 1))


# Success rates are measured on at most `Schedule.check_rows` inputs (240): below a few percent a
# ratio of two rates is counting noise, so both get this much added before they are compared.
SUCCESS_FLOOR = 0.05


def success_gap(rates: Mapping[int, float]) -> tuple[int, float]:
    """The class whose trigger sends the largest share of other inputs to it, and
    ln((its rate + floor) / (the next largest rate + floor)): the statistic of a family judged by
    success (`TriggerFamily.judged_by`), whose triggers are all as large as its limit allows."""
    if len(rates) < 2:
        return -1, 0.0
    ranked = sorted(rates, key=lambda k: (-rates[k], k))
    first, second = rates[ranked[0]], rates[ranked[1]]
    return ranked[0], max(0.0, math.log((first + SUCCESS_FLOOR) / (second + SUCCESS_FLOOR)))


def decide(outliers: Sequence[Outlier]) -> Outlier | None:
    """The family whose gap stands out most (largest gap/threshold), or None if none ran."""
    return max(outliers, key=lambda o: (o.ratio, o.family), default=None)


@dataclass(frozen=True)
class Evidence:
    """The combined evidence of the families that single out one class."""

    suspect: int
    families: tuple[Outlier, ...]  # strongest first
    score: float  # summed z over its α/F Erlang quantile; above 1: flagged


def combine(outliers: Sequence[Outlier], families: int, alpha: float) -> Evidence | None:
    """The class the families' evidence points at most strongly (see the module's docstring), or None.

    `families` is F, the number of families the model kind has, and `alpha` the mode's α (the
    thresholds were set at α/F)."""
    tail = alpha / max(families, 1)
    by_class: dict[int, list[Outlier]] = {}
    for o in outliers:
        if o.gap > 0:
            by_class.setdefault(o.suspect, []).append(o)
    best: Evidence | None = None
    for suspect in sorted(by_class):
        ranked = sorted(by_class[suspect], key=lambda o: (-o.ratio, o.family))
        for k in range(
            1, len(ranked) + 1
        ):  # the strongest k families: a weak extra one never lowers the score
            z = sum(o.ratio * erlang_quantile(o.spacings, tail) for o in ranked[:k])
            score = z / erlang_quantile(sum(o.spacings for o in ranked[:k]), tail)
            if best is None or score > best.score:
                best = Evidence(suspect, tuple(ranked[:k]), score)
    return best


def threshold_for(mean: float, spacings: int, families: int, alpha: float) -> float:
    """The gap a clean model exceeds with probability α/F when its gaps are Erlang(m) with this
    mean (scale mean/m): how `bench.backdoor calibrate` sets each threshold (before its floor)."""
    return mean / spacings * erlang_quantile(spacings, alpha / max(families, 1))


def erlang_quantile(k: int, tail: float) -> float:
    """s with P(sum of k unit exponentials > s) = tail (bisection; k = 1 gives ln(1/tail))."""

    def survival(s: float) -> float:
        term, total = 1.0, 1.0
        for i in range(1, k):
            term *= s / i
            total += term
        return math.exp(-s) * total

    low, high = 0.0, 100.0
    for _ in range(100):
        middle = (low + high) / 2
        low, high = (middle, high) if survival(middle) > tail else (low, middle)
    return (low + high) / 2
