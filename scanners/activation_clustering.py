"""Activation clustering: does a class of the supplied sample split into a foreign-looking cluster?

## Why it matters
A backdoor is planted through data: samples of other classes carrying a trigger, relabelled to the
target. In the model's own feature space those samples form a separate cluster inside the target
class. Checking the sample a model comes with, or the set it is about to be fine-tuned on, finds
them and names the rows.

## What it checks
Runs with `airlock scan --behavior --data SAMPLE`. The penultimate activations of every sample are
reduced, each class is split in two, and the split is judged by the same calibrated decision as
`airlock data` (separation, silhouette, and whether the suspect cluster sits among other classes).
A class trigger reversal blamed is judged at lower thresholds. AIR711 lists the suspect rows: high
when trigger reversal blamed the same class, or when trigger reversal's leading class is that class
at 0.75 of its threshold or more (the two weaker signals agree: one decision); low (failing no
policy that fails at medium or above) when the clustering stands alone, since a clean class of a small sample, or of
a model shape it was not calibrated on, can split along its ordinary variation. AIR712 says when
it could not run.

## Example
A sample of digits in which 10% of the "7"s are other digits with a checker patch, for a model whose
trigger reversal blames class 7: class 7 splits, AIR711 (high) lists the patched rows.

## References
- Chen et al., Detecting Backdoor Attacks on Deep Neural Networks by Activation Clustering (2018);
  AML.T0020, OWASP-ML02
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from airlock.behavior.plugin import BehaviouralScanner, session_for
from airlock.behavior.settings import BehaviorSettings
from airlock.findings import Finding
from airlock.scanning import ScanContext


class ActivationClustering(BehaviouralScanner):
    name = "activation_clustering"
    version = "1"
    rules: ClassVar[frozenset[str]] = frozenset({"AIR711", "AIR712"})

    def required(self, settings: BehaviorSettings) -> bool:
        return settings.data is not None

    def scan_snapshot(self, ctx: ScanContext) -> Iterator[Finding]:
        from airlock.behavior.checks import activation_clustering

        yield from activation_clustering(self, ctx, self.session or session_for(ctx))
