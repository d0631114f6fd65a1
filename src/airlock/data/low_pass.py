"""Training rows whose label a low-pass filter takes away more than the clean reference's (model).

Most triggers live in fine detail: a patch's edges, a blended noise pattern, a high sinusoid, an
input-specific pattern. Halving an image's resolution and scaling it back (`low_pass`) blurs them
out while the scene stays. A poisoned row then loses the label the trigger gave it (the model reads
its real content, another class), and a clean row of the class keeps much of it. How much a clean
row keeps depends on the class and the data, so each training row is compared with the class's
clean reference rows (`--test`) under the same filter: its conformal p-value is the share of them
(counted as (1 + k) / (n + 1)) that keep as little of the label or less (`reference.label_pvalues`). A clean row's p-value is
about uniform; a row that lost its trigger gets a small one. Per class, the lost share is the share
of its rows at p <= `reference.ALPHA`, and the class decision (`poisoning`) reads its excess over
the set's median, against the same bar as the reference's grouped share.

The last stage of the model, where the reference is read, often files triggered scenes among the
clean rows of the target: every one of the 13 learned sets of `bench.data_heldout` up to FRESH_22
that the decision missed whole was one of those, 10 of them scenes. The filter sees past that for
the triggers it blurs: in a /tmp study of every set up to FRESH_22 (seen data) three of the 13
missed sets had a lost-share excess of 0.2 or more (EVALUATE's scenes blend 0.42, FRESH_22's scenes
SIG 0.46, FRESH_4's scenes SIG 0.20), where no class of the 126 clean sets reached 0.16. A trigger
that survives the filter (a smooth warp, a low sinusoid, a large solid patch) is not seen this way:
on FRESH_24, held out, the route found a scenes blend no other route called, called none of the 8
clean sets, and missed a scenes sinusoid of frequency 3.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

FACTOR = 2  # the filter halves the resolution (area average), then scales back (bilinear)

# images float32 N×H×W×C in [0, 1] → class probabilities N×K
Predict = Callable[[np.ndarray], np.ndarray]


def low_pass(images: np.ndarray) -> np.ndarray:
    """N×H×W×C images in [0, 1] at 1/FACTOR of their resolution (each block averaged), scaled back
    to H×W bilinearly: fine detail gone, the layout kept."""
    import torch
    import torch.nn.functional as F

    x = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32).transpose(0, 3, 1, 2))
    height, width = x.shape[2:]
    small = F.interpolate(x, scale_factor=1 / FACTOR, mode="area")
    back = F.interpolate(small, size=(height, width), mode="bilinear", align_corners=False)
    return np.ascontiguousarray(back.clamp(0, 1).numpy().transpose(0, 2, 3, 1))


def kept(predict: Predict, images: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per image, the probability the model gives its label once low-passed (0 for a label outside
    the model's classes, such as -1 for a reference row of a class training lacks)."""
    probabilities = predict(low_pass(images))
    known = (labels >= 0) & (labels < probabilities.shape[1])
    out = np.zeros(len(images), dtype=np.float64)
    out[known] = probabilities[np.flatnonzero(known), labels[known]]
    return out
