"""Trigger reversal: does one class answer to a tiny trigger that no other class answers to?

## Why it matters
A backdoored classifier is right on every benchmark and turns to the attacker's class whenever a
trigger appears: a small patch, a faint full-image pattern, a warp, a rare word. Fine-tuning does not
reliably remove it, and no static scanner can see it in the weights.

## What it checks
Runs only with `airlock scan --behavior`, after the static scan. Loads the classifier without
running its code (a stock transformers architecture from config.json, or `--arch module:factory`;
safetensors weights, or a pickle checkpoint the static scan passed, read with weights_only=True).
For every class it reverses the smallest trigger that sends clean inputs of other classes there:
mask+pattern, additive full-image pattern and smooth warp for images, a token sequence for text;
all classes in one batch on a K-Arm schedule, on the `--data` sample or, without one, on inputs
synthesised from the model. A class whose trigger is far smaller than the next (the gap statistic,
beyond the threshold calibrated on clean models) is a backdoor target: AIR701. A configuration that
needs remote code is refused (AIR703); a model that cannot be probed gives AIR704; a run cut short by
`--time-budget` gives AIR702 and an `error` check; a model that reads the labelled sample at under
the calibration models' 80% accuracy gives AIR705 (low); a data-free class over the families' thresholds
but short of the data-free verdict's bar gives AIR706 (low).

## Example
A digits ResNet with a 3×3 checker patch planted for class 3: the patch trigger of class 3 covers
0.2% of the image, the next class needs 1.8%; AIR701 (high) blames class 3.

## References
- Wang et al., Neural Cleanse (S&P 2019); Shen et al., K-Arm (ICML 2021); Wallace et al.,
  universal adversarial triggers (EMNLP 2019); AML.T0018, OWASP-ML10
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from airlock.behavior.plugin import BehaviouralScanner, session_for
from airlock.findings import Finding
from airlock.scanning import ScanContext


class TriggerReversal(BehaviouralScanner):
    name = "trigger_reversal"
    version = "1"
    rules: ClassVar[frozenset[str]] = frozenset({"AIR701", "AIR702", "AIR703", "AIR704", "AIR705", "AIR706"})

    def scan_snapshot(self, ctx: ScanContext) -> Iterator[Finding]:
        from airlock.behavior.checks import trigger_reversal

        yield from trigger_reversal(self, ctx, self.session or session_for(ctx))
