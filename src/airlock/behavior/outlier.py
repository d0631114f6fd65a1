"""The outlier test over classes: is one class reachable with a far smaller trigger than any other?

Neural Cleanse's rule (anomaly index: distance of the smallest trigger from the median in MADs,
flagged above 2) blames the right class, but with 8–10 classes the MAD is estimated from a handful
of values, and clean models often hold a few naturally close classes, so it misses about a third
of backdoors on small models. The statistic here is scale-free and uses the two classes that the
K-Arm schedule optimises to convergence:

    gap = ln(second-smallest trigger size / smallest successful trigger size)

It does not depend on the image size, the trigger family's unit or the model's overall
robustness, only on how far the easiest class stands apart from the next. Its threshold per
(model kind, mode, trigger family) is calibrated on clean fixture models and shipped as data in
`signatures/behavior-calibration.toml`; a model's `behavior.score` is the largest gap/threshold
over the families that ran, so a score above 1 means some family found a class beyond what any
clean calibration model showed.

Families that single out the same class are combined into one decision (`combine`). The threshold
of a family is the α/F tail of an exponential fitted to the clean gaps (mean × ln(F/α)), so
z = gap/mean = ratio × ln(F/α) is, on a clean model, roughly a unit exponential. The evidence for a
class is the sum of z over the k strongest families that point at it, judged against the α/F tail
of its null distribution (a sum of k unit exponentials, Erlang(k)), for the k that stands out most
(so a further, weaker family never lowers a class's score). For one family this is exactly
gap/threshold; two or three families that agree on a class count more than either alone, so a
backdoor that every family sees just below its own threshold (typical in data-free mode, where
the synthesised inputs are few) is still decided, while the chance that a clean model's families
all fall on the same class by accident is in the null.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from airlock.errors import RuleDataError

CALIBRATION_FILE = "behavior-calibration.toml"
# The share of clean models a threshold lets through, per mode (bench.backdoor calibrates with it).
# Data mode 0.01 since signatures 2026.12.3: at 0.05, 3 of 27 clean models of unseen parts of
# `bench.data_heldout` (FRESH_4, FRESH_5: other architectures and datasets than the calibration
# models) failed the verdict with data. Data-free stays at 0.05: no clean model of those parts failed
# data-free, and data-free scores are lower to begin with.
ALPHA = {"data": 0.01, "data-free": 0.05}


@dataclass(frozen=True)
class Outlier:
    family: str
    suspect: int  # the class with the smallest trigger
    gap: float  # ln(second smallest / smallest)
    threshold: float  # calibrated on clean models for this kind, mode and family

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
    return Calibration(thresholds, str(data.get("version", "")), clustering, blamed)


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
    """The class with the smallest successful trigger and ln(next smallest trigger / its trigger).

    Only a class whose trigger reached the target success rate can be the suspect; the next class
    may be any other (an unsuccessful trigger's size is a lower bound of what that class needs, so
    the gap is conservative). With no successful trigger the gap is 0 (nothing stands out); with
    fewer than two classes the suspect is −1.
    """
    if len(costs) < 2:
        return -1, 0.0
    candidates = sorted((cost, k) for k, cost in costs.items() if k in reached)
    if not candidates:
        return min(costs, key=lambda k: (costs[k], k)), 0.0
    smallest, suspect = candidates[0]
    second = min(cost for k, cost in costs.items() if k != suspect)
    if not math.isfinite(second):
        return suspect, 0.0
    return suspect, max(0.0, math.log(max(second, 1e-12) / max(smallest, 1e-12)))


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
    scale = math.log(max(families, 1) / alpha)
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
            z = sum(o.ratio for o in ranked[:k]) * scale
            score = z / erlang_quantile(k, alpha / max(families, 1))
            if best is None or score > best.score:
                best = Evidence(suspect, tuple(ranked[:k]), score)
    return best


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
