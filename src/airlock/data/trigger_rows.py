"""The rows of a blamed class that carry the reversed trigger (`airlock data --model M --behavior`).

The trigger reversal (`airlock.data.behaviour_feed`) returns, with the class it blames, the trigger
that sends other classes' images there. Stamped on clean images of other classes, it gives the
place in the model's feature space where the backdoor puts its inputs: the triggered prototype (the
mean penultimate features of the stamped images the model then reads as the class). Poisoned rows of
the class carry the real trigger, so they sit near that prototype; the class's own rows sit at its
clean core. Each row of the class is projected on the axis from the core (the median of the rows on
the core's side, found in a few rounds so that poison up to half of the class does not drag it) to
the prototype: 0 at the core, 1 at the prototype. This needs no rule per trigger family: whatever the
trigger is, the reversed one only has to reach the same features.

The class counts as carrying the trigger when its projections have two modes: a 1-D two-means split
whose Fisher ratio (difference of the means over their pooled spread) reaches `MODES_AT`. One
Gaussian mode gives 2.65, and the clean classes the reversal blamed on CALIBRATE and DEVELOP (a
natural shortcut, the thin-ring glyph class) 2.5-3.0; poisoned classes whose class the reversal found
3.4-8.3. Rows past `HALFWAY` (nearer the prototype than the core) are flagged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # torch stays out of the data checks until a model is given
    from airlock.data.behaviour_feed import ReversedTrigger

MODES_AT = 3.2
HALFWAY = 0.5
MIN_REACHED = 10  # stamped images the model must read as the class for a prototype
CORE_ROUNDS = 3
MIN_PART = 5  # rows in the smaller part of a split (the poisoning check's min_suspects)


def projection(
    trigger: ReversedTrigger,
    rows_images: np.ndarray,
    donors: np.ndarray,
    extract: Callable[[np.ndarray], np.ndarray],
    predict: Callable[[np.ndarray], np.ndarray],
) -> np.ndarray | None:
    """Per row of the blamed class (`rows_images`, N×H×W×C in [0, 1]), its position between the
    class's clean core (0) and the triggered prototype (1), from `donors` (images of other classes);
    None when the trigger sends fewer than MIN_REACHED donors to the class."""
    from airlock.behavior.triggers import FAMILIES

    stamped = FAMILIES[trigger.family].stamp(trigger.arrays, donors.astype(np.float32))
    reached = stamped[predict(stamped).argmax(axis=1) == trigger.label]
    if len(reached) < MIN_REACHED or len(rows_images) < 2:
        return None
    prototype = extract(reached).astype(np.float64).mean(axis=0)
    own = extract(rows_images.astype(np.float32)).astype(np.float64)
    core = np.median(own, axis=0)
    for _ in range(CORE_ROUNDS):
        near_core = _position(own, core, prototype) < HALFWAY
        if near_core.sum() < 2:
            break
        core = np.median(own[near_core], axis=0)
    return _position(own, core, prototype)


def _position(own: np.ndarray, core: np.ndarray, prototype: np.ndarray) -> np.ndarray:
    axis = prototype - core
    return (own - core) @ axis / max(float(axis @ axis), 1e-12)


def modes(values: np.ndarray) -> float:
    """The Fisher ratio of the best 1-D two-means split of `values`: |mean difference| over the
    pooled standard deviation of the two parts (2.65 for one Gaussian mode)."""
    ordered = np.sort(np.asarray(values, np.float64))
    n = len(ordered)
    smallest = max(MIN_PART, n // 50)  # a part of a few extreme rows is a tail, not a mode
    if n < 2 * smallest:
        return 0.0
    total, squares = np.cumsum(ordered), np.cumsum(ordered**2)
    cut = np.arange(smallest, n - smallest + 1)  # the low part is ordered[:cut]
    low_ss = squares[cut - 1] - total[cut - 1] ** 2 / cut
    high_ss = (squares[-1] - squares[cut - 1]) - (total[-1] - total[cut - 1]) ** 2 / (n - cut)
    i = int(cut[np.argmin(low_ss + high_ss)])
    low, high = ordered[:i], ordered[i:]
    spread = np.sqrt((low.var() + high.var()) / 2)
    return float(abs(high.mean() - low.mean()) / spread) if spread > 0 else float("inf")
