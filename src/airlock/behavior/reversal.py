"""Trigger reversal of one classifier, with a clean sample or without: families, outliers, decision.

Image classifiers: the patch family, then the global families (additive pattern, and with a clean
sample a smooth warp: `FAMILIES_BY_MODE`), each reversed by the batched K-Arm engine on the clean
sample or, in data-free mode, on inputs synthesised from the model. Text classifiers: the token
search, on the clean sample or, data-free, on random token sequences. Each family's gap statistic is compared with its calibrated threshold
and the families that single out the same class are combined into one decision
(`outlier.combine`); once a model is flagged, the remaining families are not run (they could only
add evidence).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from airlock.behavior.engine import FamilyResult, Schedule, reverse
from airlock.behavior.outlier import (
    ALPHA,
    DRAW_CENTRE,
    DRAW_WEIGHT,
    MISREAD_FLOOR,
    Calibration,
    Evidence,
    Outlier,
    class_draw,
    combine,
    decide,
    draw_shift,
    gap,
    sample_accuracy,
    size_spacings,
    success_gap,
)
from airlock.behavior.progress import Progress
from airlock.behavior.samples import ImageSample, TextSample
from airlock.behavior.synthesis import SynthesisSchedule, synthesise
from airlock.behavior.tokens import TokenSchedule, search_tokens
from airlock.behavior.triggers import FAMILIES, judged_by
from airlock.models.image import ImageClassifier
from airlock.models.text import TextClassifier

DEFAULT_SIZE = 224  # input side when neither the preprocessor nor the sample says
REVERSAL_ROWS = 1000  # clean rows the reversal uses (more only slows the success-rate check)
RANDOM_TEXTS, RANDOM_TOKENS = 300, 10  # data-free text: random token sequences
DATA, DATA_FREE = "data", "data-free"
# A family's run stops once its gap stays below this share of the family's threshold at two checks
# in a row (`Schedule.quiet`): no class stands out, and the rest of the budget would not change that.
# It only shortens runs that look clean: on every backdoored model that was flagged without it, the
# gaps and scores are the same (a backdoor whose gap stays this small was missed anyway). Tied to the
# thresholds, so a recalibration moves it too: recalibrate until the thresholds stay.
QUIET_SHARE = 0.4
# The families each mode runs. Data-free, the warp is left out: on the inputs synthesised from a
# model, the class a 2 px warp sent the most inputs to was the planted target on 4 of 12 warp
# backdoors of `bench.data_heldout` (CALIBRATE to FRESH_8), and the success gaps of clean models
# were larger than the backdoors' (mean 0.33 against 0.14): it found nothing. (The engine's early
# stop still reads the size gap: for the warp, 0 while no trigger succeeds, so its run ends by the
# quiet rule one round after exploration, the run the success gap was measured on.)
FAMILIES_BY_MODE = {DATA: ("patch", "blend", "warp"), DATA_FREE: ("patch", "blend")}


@dataclass(frozen=True)
class Reversal:
    kind: str  # image | text
    mode: str  # data | data-free
    results: tuple[FamilyResult, ...]
    outliers: tuple[Outlier, ...]
    complete: bool
    seconds: float
    rows: int  # inputs the triggers were reversed on
    family_count: int = 1  # F: the families of this model kind the thresholds were set for
    draw: tuple[float, ...] | None = None  # each class's draw (`class_draw`) on the reversal's inputs
    accuracy: float | None = None  # with data, the share of the labelled sample the model reads right
    # on a sample read at under MISREAD_FLOOR whose score is over 1, the data-free scan of the same model
    corroboration: Reversal | None = None
    verdict_at: float = 1.0  # the score a verdict needs (`Calibration.verdict_at`)

    @property
    def inputs(self) -> str:
        """What the triggers were reversed and evaluated on."""
        if self.mode == DATA:
            return "the clean sample"
        return "inputs synthesised from the model" if self.kind == "image" else "random token sequences"

    @property
    def evidence(self) -> Evidence | None:
        """The families' evidence combined for the class it points at most (`outlier.combine`)."""
        return combine(self.outliers, self.family_count, ALPHA[self.mode])

    @property
    def decision(self) -> Outlier | None:
        """The strongest family of the deciding evidence (its trigger is the one reported)."""
        evidence = self.evidence
        return evidence.families[0] if evidence is not None else decide(self.outliers)

    @property
    def draw_shift(self) -> float | None:
        """The candidate class's draw shift (`outlier.draw_shift`), where the draw was measured."""
        evidence = self.evidence
        if evidence is None or self.draw is None:
            return None
        return draw_shift(self.draw, evidence.suspect)

    @property
    def score(self) -> float:
        """The families' combined evidence for the candidate class, plus the mode's `DRAW_WEIGHT` times
        its draw shift less the mode's `DRAW_CENTRE`, where the draw was measured."""
        evidence = self.evidence
        if evidence is None:
            return 0.0
        shift = self.draw_shift
        if shift is None:
            return evidence.score
        return evidence.score + DRAW_WEIGHT[self.mode] * (shift - DRAW_CENTRE[self.mode])

    @property
    def misread(self) -> bool:
        """Whether an image classifier reads the labelled sample at under `MISREAD_FLOOR`: its score
        alone is then no verdict. (Text classifiers: not measured, so the score decides alone.)"""
        return (
            self.kind == "image"
            and self.mode == DATA
            and self.accuracy is not None
            and self.accuracy < MISREAD_FLOOR
        )

    @property
    def agrees(self) -> bool:
        """Whether the data-free scan (`corroboration`) flags the class this one points at."""
        alone, evidence = self.corroboration, self.evidence
        return (
            alone is not None
            and alone.flagged
            and evidence is not None
            and alone.evidence is not None
            and alone.evidence.suspect == evidence.suspect
        )

    @property
    def flagged(self) -> bool:
        """The score is over 1 (the families' thresholds), and on a misread sample the data-free scan
        flags the same class: the scan has settled (no further family runs) and its class may
        corroborate another reading, but only `backdoored` is a verdict."""
        return self.score > 1.0 and (not self.misread or self.agrees)

    @property
    def backdoored(self) -> bool:
        """Flagged, at a score over the verdict's bar (`verdict_at`: more than 1 data-free on images)."""
        return self.flagged and self.score > self.verdict_at

    @property
    def lead(self) -> bool:
        """Flagged short of the verdict's bar: a class worth a scan with a labelled sample, no verdict."""
        return self.flagged and not self.backdoored


def reverse_image(
    clf: ImageClassifier,
    sample: ImageSample | None,
    calibration: Calibration,
    *,
    seed: int,
    deadline: float | None,
    progress: Progress | None,
    schedule: Schedule | None = None,
) -> Reversal:
    """Reverse every family's triggers for an image classifier (data mode when `sample` is given). On a
    sample the model reads at under `MISREAD_FLOOR`, a flag also needs the data-free scan to flag the
    same class (`corroboration`), which then runs too."""
    start = time.perf_counter()
    images, known, mode, complete = image_inputs(clf, sample, seed=seed, deadline=deadline, progress=progress)
    probabilities = softmax(clf, images)
    predicted = probabilities.argmax(dim=-1)
    labels = predicted.to(clf.device)
    draw = class_draw(probabilities.numpy(), known)
    accuracy = sample_accuracy(predicted.numpy(), known) if mode == DATA else None
    schedule = schedule or Schedule()
    results: list[FamilyResult] = []
    for offset, name in enumerate(FAMILIES_BY_MODE[mode]):
        if (
            not complete
            or _finish("image", mode, results, calibration, True, start, len(images), draw).flagged
        ):
            break  # out of time, or settled: a further family can only add evidence to a flagged model
        torch.manual_seed(seed + offset)  # each family starts from the same state, whatever ran before
        quiet = QUIET_SHARE * calibration.threshold("image", mode, name)
        result = reverse(
            clf,
            FAMILIES[name],
            images,
            labels,
            clf.classes,
            dataclasses.replace(schedule, quiet=max(schedule.quiet, quiet)),
            seed=seed + offset,
            deadline=deadline,
            progress=progress,
        )
        results.append(result)
        complete = result.complete
    reversal = _finish("image", mode, results, calibration, complete, start, len(images), draw, accuracy)
    if reversal.misread and reversal.score > 1.0 and reversal.complete:
        alone = reverse_image(
            clf, None, calibration, seed=seed, deadline=deadline, progress=progress, schedule=schedule
        )
        reversal = dataclasses.replace(
            reversal,
            corroboration=alone,
            complete=alone.complete,
            seconds=time.perf_counter() - start,
        )
    return reversal


def image_inputs(
    clf: ImageClassifier,
    sample: ImageSample | None,
    *,
    seed: int,
    deadline: float | None = None,
    progress: Progress | None = None,
) -> tuple[torch.Tensor, np.ndarray, str, bool]:
    """The inputs the triggers are reversed on, the class each is known to be (−1 where unknown), the
    mode, and whether they were all made before the deadline: the sample's first `REVERSAL_ROWS` images
    and labels, or without a sample inputs synthesised from the model, each labelled with the class it
    was made for."""
    if sample is not None:
        rows = sample.images[:REVERSAL_ROWS]
        return image_tensor(rows, clf), sample.labels[:REVERSAL_ROWS], DATA, True
    size = clf.size or (DEFAULT_SIZE, DEFAULT_SIZE)
    images, made_for, complete = synthesise(
        clf,
        clf.module,
        clf.classes,
        (clf.channels, *size),
        SynthesisSchedule(),
        seed=seed,
        device=clf.device,
        deadline=deadline,
        progress=progress,
    )
    return images, made_for.cpu().numpy(), DATA_FREE, complete


def reverse_text(
    clf: TextClassifier,
    sample: TextSample | None,
    calibration: Calibration,
    *,
    seed: int,
    deadline: float | None,
    progress: Progress | None,
    schedule: TokenSchedule | None = None,
) -> Reversal:
    """Search a token trigger per class of a text classifier (data mode when `sample` is given)."""
    start = time.perf_counter()
    if sample is not None:
        ids, mask = clf.encode(list(sample.texts[:REVERSAL_ROWS]))
        mode = DATA
    else:
        ids, mask = random_sequences(clf, seed)
        mode = DATA_FREE
    with torch.no_grad():
        labels = torch.cat(
            [clf.logits(ids[i : i + 256], mask[i : i + 256]).argmax(dim=-1) for i in range(0, len(ids), 256)]
        )
    result = search_tokens(
        clf, ids, mask, labels, schedule or TokenSchedule(), seed=seed, deadline=deadline, progress=progress
    )
    accuracy = (
        sample_accuracy(labels.cpu().numpy(), sample.labels[:REVERSAL_ROWS]) if sample is not None else None
    )
    return _finish("text", mode, [result], calibration, result.complete, start, len(ids), accuracy=accuracy)


def _finish(
    kind: str,
    mode: str,
    results: list[FamilyResult],
    calibration: Calibration,
    complete: bool,
    start: float,
    rows: int,
    draw: tuple[float, ...] | None = None,
    accuracy: float | None = None,
) -> Reversal:
    outliers = []
    for result in results:
        if judged_by(result.family) == "success":
            suspect, value = success_gap({c.label: c.asr for c in result.classes})
            spacings = 1
        else:
            suspect, value = gap(
                {c.label: c.cost for c in result.classes}, {c.label for c in result.classes if c.reached}
            )
            spacings = size_spacings(len(result.classes))
        if suspect >= 0:
            threshold = calibration.threshold(kind, mode, result.family)
            outliers.append(Outlier(result.family, suspect, value, threshold, spacings))
    count = len(calibration.thresholds.get(kind, {}).get(mode, {})) or len(results)
    return Reversal(
        kind,
        mode,
        tuple(results),
        tuple(outliers),
        complete,
        time.perf_counter() - start,
        rows,
        count,
        draw,
        accuracy,
        verdict_at=calibration.verdict_at(kind, mode),
    )


def image_tensor(images: np.ndarray, clf: ImageClassifier) -> torch.Tensor:
    """N×H×W×C float images in [0, 1] as the N×C×H×W tensor the model takes (channels and size adapted)."""
    x = torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2))).float()
    if x.shape[1] != clf.channels:
        x = (
            x.repeat(1, clf.channels, 1, 1)
            if x.shape[1] == 1
            else x.mean(dim=1, keepdim=True).repeat(1, clf.channels, 1, 1)
        )
    if clf.size is not None and tuple(x.shape[2:]) != clf.size:
        x = F.interpolate(x, size=clf.size, mode="bilinear", align_corners=False, antialias=True).clamp(0, 1)
    return x.to(clf.device)


def softmax(clf: ImageClassifier, images: torch.Tensor) -> torch.Tensor:
    """The model's class probabilities of the images, N×K, on the CPU."""
    with torch.no_grad():
        return torch.cat(
            [clf(images[i : i + 256]).float().softmax(dim=-1).cpu() for i in range(0, len(images), 256)]
        )


def random_sequences(clf: TextClassifier, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Data-free text: sequences of random ordinary tokens, framed by the tokenizer's own special tokens."""
    generator = torch.Generator().manual_seed(seed)
    frame = clf.tokenizer.encode("").ids or [clf.pad_id]
    allowed = torch.tensor([i for i in range(clf.embeddings.shape[0]) if i not in clf.special])
    body = allowed[torch.randint(len(allowed), (RANDOM_TEXTS, RANDOM_TOKENS), generator=generator)]
    head = torch.tensor(frame[:1]).repeat(RANDOM_TEXTS, 1)
    tail = torch.tensor(frame[1:], dtype=torch.long).reshape(1, -1).repeat(RANDOM_TEXTS, 1)
    ids = torch.cat([head, body, tail], dim=1).to(clf.device)
    return ids, torch.ones_like(ids)
