"""Poisoning detection: decide per class whether it is poisoned, then which of its samples.

For each class the features are reduced (PCA, 10 dimensions) and split in two (activation
clustering). The cluster whose members sit among *other* classes (deep k-NN label disagreement) is
the suspect when that is foreign evidence; with a model, else the one that keeps its label under
mixing (trigger persistence); when neither differs, the one farther from the robust (MCD) centre.
No share is fixed in advance, and the suspect may be the larger cluster: at a 10% poison rate the
poison is half of the target class (but not most of it: `MAX_SHARE`).

A class is called poisoned when its split is real and the suspect cluster is foreign: the Fisher
separation of the two clusters reaches `separation` *and* the suspect cluster's mean label
disagreement exceeds the other's by `disagreement`; or, without the foreign evidence, when the
separation alone reaches `separation_alone`. The thresholds are data (`signatures/rules/data.toml`,
rule AIR801), calibrated on clean generated sets (see the README). A class that a behavioural scan
blamed is judged at `blamed_factor` times the thresholds, unless its reversed trigger is given
(`--behavior`): then the split keeps its own thresholds and the trigger decides a class the split
does not call (`airlock.data.trigger_rows`). On DEVELOP the lowered thresholds called a blamed SIG
class with the wrong half of its split (1% precision).

Which rows of a called class are flagged: with a model's features, every row of the suspect cluster
and every row outside the clean core (robust distance to the kept cluster past a chi-square cut,
`_core_score`). The split alone misses poison that the 2-means put on the kept side; the core
distance alone kept half of the poison where the kept cluster's fit is wide. Measured on FRESH_9
(`python -m bench.data_heldout OUT.json fresh9`, not in the replay that chose this): scenes SIG
recall 0.43 → 0.96 and scenes blend 0.17 → 0.84, at precision 0.93 and 0.84 → 0.89; a strokes patch
lost precision, 0.96 → 0.91. On FRESH_10, written for it, one set changed (strokes blend precision
0.92 → 0.89).

With raw or text features each sample's score is the mean of four pieces of evidence, each scaled so
that 0 is the typical kept sample and 1 the typical suspect: its position on the Fisher direction
(activation clustering), its SPECTRE score (QUE after robust whitening), its spectral signature
(Tran et al.), and its k-NN label disagreement. Samples scoring at least 0.5 are flagged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache, partial
from typing import Any

import numpy as np

from airlock.analysis import activation_clustering as ac
from airlock.analysis.robust import quantum_entropy_scores, robust_whitening, spectral_signature_scores
from airlock.data import reference as clean_reference
from airlock.data import trigger_rows
from airlock.data.class_share import class_shares, grown_alone
from airlock.errors import DatasetError

FLAG_AT = 0.5
COMPACT = "compact (model features)"
APART = "apart"
PERSISTENCE_GAP = 0.15  # median trigger persistence between the two clusters that picks the suspect
CORE_SUPPORT = 0.8  # share of the kept cluster the robust (MCD) fit of the clean core uses
INCONCLUSIVE_RAW = "inconclusive (raw features)"
LOW_CONFIDENCE = 0.5  # own-label probability under which the model reads a row as another class
MISLABELLED = "mislabelled (model)"
REVERSED_TRIGGER = "reversed trigger (model)"
# A class is called mislabelled when this share of its rows is read as another class by both the
# model (own label under LOW_CONFIDENCE) and the neighbours (k-NN disagreement of at least 0.5), and
# those misread rows are spread over many classes: relabelled poison is drawn from across the set,
# so the model reads it as most of the other classes, while a clean class that the model confuses is
# misread as its one or two neighbours (radial against linear gradients), however many of its rows
# that is. The spread is the effective number of classes read (1 / sum of squared shares); it must
# reach MISLABEL_SPREAD of the other classes and MISLABEL_LEAD times any other class's spread (an
# underfit model misreads every class, each towards its neighbours). Relabelling from one source
# class is therefore not called by this route: it looks like two confusable classes.
# Fitted on the CALIBRATE and DEVELOP parts of `python -m bench data_heldout`: relabelled classes
# reach a spread of 6.2-7.7 of 9, clean classes 1.0-2.7; clean classes reach 0.05 of misread rows
# in models that fit their set, relabelled rows whose trigger the model did not learn 0.20 and more.
MISLABEL_SHARE = 0.10
MISLABEL_SPREAD = 0.5
MISLABEL_LEAD = 1.5
# The route also adds its misread rows to a class another route called. With `--test` images the
# network trained on the clean split alone vets them first (signatures 2026.12.21): a model trained on
# a class beside relabelled rows it did not learn misreads some of the class's clean rows too, which
# that network reads as their label. On FRESH_44, FRESH_45 and FRESH_50 those rows were 158 clean
# rows to 3 poisoned; over 19 held-out sets of FRESH_44-52 where it acts, precision / recall 0.882 /
# 0.975 -> 0.958 / 0.963 (bench/HISTORY.md).
# A split without foreign evidence (compact) counts only when the suspect cluster also behaves
# differently under the model: it keeps its label more firmly when mixed with other classes (median
# persistence at least this much higher). A clean class with two modes differs in features only.
# (The confidence gap does not serve here: an underfit model reads half of a clean class less well.)
# The bar is the gap that orients a split by persistence (PERSISTENCE_GAP): a smaller gap cannot say
# which half keeps its label, so it cannot say that either does. At 0.1 (until 2026-12-06) the split
# called clean classes whose gap was 0.100-0.106: over every part up to FRESH_22 replayed without a
# reference, the 68 classes of clean sets and non-target classes that the route could call had a
# gap whose 95th percentile was 0.101 and 99th 0.169, and the three learned targets with a gap
# in [0.1, 0.15) all had a margin gap of 1.5 or more, so the margin still calls them.
BEHAVIOUR_GAP = PERSISTENCE_GAP
# ... and when its suspect half is at most this share of the class. A clean class of varied images
# (scenes) often holds a small hard minority that mixing overwhelms (low persistence), beside which
# the bulk of the class looks persistent; poison at 15% of a 10-class set is 60% of its target class.
# Fitted on every seen part (`python -m bench data_heldout`): without it 4 more clean sets were called,
# their suspect halves 75-90% of the class; no learned poison's half was over 62%.
MAX_SHARE = 0.7
# ... or, in place of the persistence gap, when the model reads the suspect half far more firmly:
# median margin (log-probability of the own label over the runner-up) at least this much higher. A
# learned shortcut gives its rows a margin past the class's clean rows even where mixing with another
# image breaks the trigger (warps, faint blends), and the probability itself saturates at 1. Fitted on
# every seen part (`python -m bench data_heldout`, FRESH_7 included): at 1.5 it found six learned
# blend, input-specific and patch classes the persistence gap missed and called no further clean
# class; at 1.0 it called two clean classes of poisoned sets. The orientation by margin took the
# clean half of one learned warp (CALIBRATE): warps are read less firmly than their clean rows there.
MARGIN_GAP = 1.5
FOREIGN = "foreign"
# A foreign split (its suspect rows sit among other classes) is not called when the flagged rows the
# model reads as another class go to about one class (effective number under FOREIGN_SPREAD, over at
# least `min_suspects` rows): that is a hard minority the model confuses with its neighbour, where
# relabelled rows are read as the classes they were drawn from. On every seen part: clean classes
# called this way reached 1.12-1.64; relabelled rows the model did not learn 6.3-8.6, partly learned
# warps 1.99-2.51.
FOREIGN_SPREAD = 1.8
REFERENCE = "unmatched by the clean reference (model)"
# With a labelled clean reference (`--test`), a class is called when its grouped share (the share of
# its rows at p <= reference.ALPHA that their neighbours' vote carries: `reference.pvalues`) exceeds
# the median grouped share of the set's classes by this much. Fitted on every part of `python -m
# bench data_heldout` up to FRESH_13, in the model's last stage (a /tmp study of every set and its
# clean sample): the largest excess of a class of its 84 clean sets was 0.174 (0.168 in the 18 clean
# sets of FRESH_14-16, which had then been seen); at 0.2, 122 of its 136 learned targets were called,
# and one other class (a class of a clean-label set). The shipped bar before (0.25 on the unmatched
# share, whose clean classes reached 0.219) called 112. Its flagged rows were first those its rows'
# vote carries at one half (`reference.voted`): precision 0.92-0.98 and recall 0.90-0.98 per family on
# those targets, where the rows at p <= 0.1 alone gave 0.93-0.98 and 0.82-0.95. They are now those on
# its confident poison's side of a boundary fitted against its reference rows (`_reference_rows`,
# `reference.separated`; README, "Row flagging by a boundary").
REFERENCE_AT = 0.2
# A class a behavioural scan blamed (`blamed`) is called at this lower excess when it is also the one
# class of the set the reference singles out most: two pieces of evidence, each short of its own bar.
# It is the 99th percentile (0.112, rounded up) of the grouped-share excess of the 2,204 other classes
# of the same study (0.157 of the unmatched share set the bar of 0.16 before).
# The same holds for the one class of the set that grew against the `--test` split
# (`class_share.grown_alone`): dirty-label poison relabels other classes' images to its target, so
# the target holds more of the training set than of a clean split drawn alike. No bar was fitted for
# it: SHARE_Z_AT is AIR804's, this one the blamed class's.
REFERENCE_BLAMED_AT = 0.12
BLAMED = "blamed by the behavioural scan"
GROWN = "grown against the --test split"
# The same holds for the class whose labels a low-pass filter loses most (`low_pass`), when that is
# also the class the reference singles out most and its lost-share excess reaches the same lowered bar
# (the bar scaled alike for few reference rows): two readings of one clean reference, one in the
# model's last stage and one in what the model reads once fine detail is gone, agreeing on one class.
# Both are conformal shares against the class's reference rows, so both hold the same bar. In a /tmp
# study of every set of FRESH_27-43 with `--test` (seen data; 312 sets, 2,912 classes) the reference's
# standout of no clean set, and of no poisoned set's other class, reached both; it called one learned
# set missed whole (FRESH_27's glyph patch: 0.146 and 0.168) and a blend the filter had found alone.
# Where the call needs the filter's word (the reference's excess under its own bar), the class's
# rows are the boundary's and the rows the filter loses (`label_lost_under_low_pass`); elsewhere the
# boundary's alone. Held out on FRESH_44 and FRESH_45, taking the filter's rows for every class it
# corroborated added its chance rows to nine sets the reference had called alone (FRESH_45's glyph
# blend 1.00 / 0.98 -> 0.81 / 0.99) and called no set more.
LOW_PASS_AGREES = "singled out under a low-pass filter"
# The same holds where a network trained on the clean `--test` split alone (`clean_reader`) reads more
# of the standout's rows as another class (p <= reference.ALPHA against its reference rows read alike,
# its label under LOW_CONFIDENCE) than of the set's median class, by the same lowered bar: a reading
# that never saw a trigger finds relabelled content in the class the model's features single out. The
# reading is made for it only where the standout sits between the lowered bar and its own and nothing
# else corroborates it. In a /tmp study of the `data.classes` dumps of FRESH_27-43 (seen data, 162
# clean sets) no clean set's standout reached both (the ten clean standouts at 0.12 or more read
# 0.09 or less), and three of the 14 learned sets missed whole did; FRESH_48 was written for it.
READ_AGREES = "singled out by a network trained on the --test split alone"
# Where no other route called a class of the set, the class the clean-split network reads most rows of
# as another class (its read-away excess, as READ_AGREES reads it) is called at the reference's own
# bar (REFERENCE_AT, scaled alike for few reference rows) when the reference's grouped share of it is
# above the set's median too (a positive excess: the model's features lean the same way, however
# little). Dirty-label poison is another class's content; a network that never saw the trigger reads
# it as that content whatever the trigger is (a warp or a faint blend the model's last stage files
# among the target's clean rows, and the low-pass filter keeps). Its rows are the ones the network
# reads as another class (`read_as_another_class_by_clean_network`), and where the low-pass route
# (heard next) calls the same class, the rows the filter loses too: two readings of the clean split,
# each finding part of the poison (FRESH_47's scenes input-specific set, which the filter had called
# alone at 0.87 / 0.49, went to 0.98 / 0.39 with the network's rows alone; FRESH_52 was written for
# the union). The filter then calls no other class. Clean-label poison is read as
# its label, so this route cannot see it. In a /tmp study of every class of FRESH_27-43 with `--test`
# (seen data, 312 sets): the learned targets' excess had a median of 0.31 (warps 0.44), the 2,759
# other classes' a 99th percentile of 0.114; the largest standout of the 162 clean sets was 0.233 (a
# glyph class whose reference excess was -0.026), the next 0.157. At 0.2 with a positive reference
# excess it called no clean set and no other class, and 6 of the 14 learned sets missed whole were
# its standout; FRESH_51 was written for it.
READ_AWAY = "read as another class by a network trained on the --test split alone (model)"
# Both bars hold for classes with about this many reference rows (the median of that study, whose
# classes had 22-58). A class with fewer has its bars scaled by how much more its unmatched share
# varies by chance (`reference.null_spread`): 1.4 times for 20 rows, 2 times for 9.
REFERENCE_ROWS_AT = 40
REFERENCE_DIMS = 32
LOW_PASS = "label lost under a low-pass filter (model)"
# A class the reference called also loses the rows that a network trained on the clean `--test`
# split alone reads as another class (`clean_reader`): their p-value against the class's reference
# rows, read alike, is at most READ_ALPHA, and the network gives their label under LOW_CONFIDENCE
# (where every reading sits at one ceiling, their order is noise). Chosen in a /tmp study of the 131
# learned sets of FRESH_27-43 (seen data; a full network reading the training rows against one half
# network's reading of the other half): row precision / recall 0.926 / 0.849 -> 0.924 / 0.877, warp
# 0.892 / 0.757 -> 0.897 / 0.808, input-specific 0.937 / 0.852 -> 0.936 / 0.932; at 0.1, 0.911 / 0.884.
# Held out on FRESH_44 and FRESH_46 (written for it): warp recall 0.840 -> 0.945 and 0.896 -> 0.966,
# precision as it was (bench/HISTORY.md, "A network trained on --test alone").
READ_ALPHA = 0.05
# Where at least RELABELLED_AT of the rows the boundary (or the filter) flags in such a class are read
# as another class (p <= reference.ALPHA, label under LOW_CONFIDENCE), the class's poison is
# relabelled, and a flagged row the network reads as surely as the class's typical reference row
# (p > FIRMLY_READ, label at LOW_CONFIDENCE or more) is a clean row the boundary took: it is cleared,
# its score capped at CLEARED_SCORE. Clean-label poison is read as its label, so its class's flagged
# rows fall short of RELABELLED_AT and keep every row. Chosen in the same study (precision 0.924 ->
# 0.941 at recall 0.877 -> 0.876; at RELABELLED_AT 0.5 and FIRMLY_READ 0.3, 0.951 at 0.869, clean-label
# recall 0.855 -> 0.836); held out on FRESH_44-47 (FRESH_47 written for it).
RELABELLED_AT = 0.7
FIRMLY_READ = 0.5
CLEARED_SCORE = FLAG_AT / 2
# what flagged a row of a class the reference called, in the order of the scores that say it
REFERENCE_SIGNALS = (
    "unmatched_by_reference",
    "label_lost_under_low_pass",
    "read_as_another_class_by_clean_network",
)
# With a clean reference that called no class, a class only a split route called (FOREIGN, COMPACT,
# APART) is overruled unless the class's reference rows avoid the side the split flagged
# (`reference.SplitSide`, p <= reference.SPLIT_ALPHA): otherwise the reference has that kind of image,
# and the split took two kinds of clean image for clean and poison. Then the low-pass route may still
# speak. Until signatures 2026.12.15 the test was the share of the split's rows the reference does
# not match (under 0.2 overruled; bench/HISTORY.md, "Overruling a split the reference matches, and
# FRESH_25"), which could not tell a clean class of FRESH_38 (0.26) from a real target (0.20); in
# 2026.12.15 that share still decided where the side could not reach SPLIT_ALPHA even with no
# reference row on it, and FRESH_42's clean scenes ConvNeXt was called that way with 12 of its 40
# reference rows on the side against 5.9 expected. Every learned target's split call over FRESH_27-41
# could reach it.
# When no other route called a class of the set, a class is called when its lost share under a
# low-pass filter (`reference.label_pvalues`) exceeds the set's median lost share by the reference's own bar
# (`reference_bar`, scaled alike for a class with few reference rows); its rows at p <= ALPHA are
# flagged. In a /tmp study of every set up to FRESH_22 (seen data) the largest excess of a class of
# the 126 clean sets was 0.152; it called two of the 13 learned sets the other routes missed whole
# (excess 0.42 and 0.46; 474 of 497 flagged rows poisoned) and a third in part (0.20; 72 of 200
# rows), and, of the 176 sets other routes found, a class beside the target in three (so it is
# heard only where no other route called a class). On FRESH_24, held out, it found a scenes blend
# no other route called (0.89 / 0.87) and called none of 8 clean sets.
# The routes whose call on a class the reference overrules once it has called another class of the
# set and matches this one (`_overruled_by_reference`). One attack targets one class: in every set
# of `bench.data_heldout` up to FRESH_17 where the reference called a class and one of these routes
# called another beside it, that other class was clean (four sets, one each of FRESH, FRESH_9,
# FRESH_16 and FRESH_17, grouped excess -0.002 to 0.065; and FRESH_15's glyph warp once the grouped
# share called its target). FRESH_18 was written to measure it and had no such set. A second attack
# whose poison the reference cannot see, in another class, is lost with it: not measured, as no set
# of the benchmark has two. A class a behavioural scan blamed and its reversed trigger decided
# (REVERSED_TRIGGER) is not overruled.
OVERRULED = (FOREIGN, COMPACT, APART, MISLABELLED)


@dataclass(frozen=True)
class Calibration:
    separation: float
    disagreement: float
    separation_alone: float
    blamed_factor: float
    min_suspects: int
    relative_separation: float  # a model's image features: a split this many times the set's median suffices
    core_quantile: float  # chi-square quantile of the distance to the clean core that flags a row

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Calibration:
        try:
            return cls(
                float(data["separation"]),
                float(data["disagreement"]),
                float(data["separation_alone"]),
                float(data["blamed_factor"]),
                int(data["min_suspects"]),
                float(data["relative_separation"]),
                float(data["core_quantile"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DatasetError("signatures", f"poisoning calibration is incomplete: {exc}") from None


@dataclass(frozen=True)
class ClassAssessment:
    label: int
    name: str
    size: int
    poisoned: bool
    suspects: int  # samples flagged in this class (0 unless poisoned)
    separation: float
    disagreement_gap: float
    silhouette: float
    relative_size: float
    suspect_share: float  # size of the suspect cluster over the class size
    components: tuple[str, ...] = ()  # the evidence that agreed with the split
    decided_by: str = ""  # the route that called it (FOREIGN, COMPACT, REFERENCE, …); "" if not called
    overruled: str = ""  # the route whose call the clean reference overruled (`_overruled_by_reference`)
    persistence_gap: float = 0.0  # median trigger persistence, suspect cluster minus kept (model)
    margin_gap: float = 0.0  # median margin of the own label, suspect cluster minus kept (model)
    confidence_gap: float = 0.0  # median own-label probability, kept cluster minus suspect (model)
    low_confidence: int = 0  # rows whose own label gets under LOW_CONFIDENCE from the model
    misread_spread: float = 0.0  # effective number of classes its misread rows are read as (model)
    trigger_modes: float = 0.0  # two-mode ratio of its rows' positions towards a reversed trigger
    reference_unmatched: float | None = None  # share of rows at p <= 0.1 against the clean reference (--test)
    reference_grouped: float | None = None  # share of them whose neighbours' vote carries them
    reference_excess: float | None = None  # that grouped share over the set's median grouped share
    reference_bar: float | None = None  # the excess that calls the class (`reference_bar`)
    reference_rows: int | None = None  # the class's reference rows
    corroborated_by: str = ""  # what lowered its reference bar: BLAMED, GROWN, LOW_PASS_AGREES or READ_AGREES
    # how unlikely so few reference rows fall on the side a split flagged (`reference.SplitSide.p`);
    # None where no split call was tested that way
    reference_side_p: float | None = None
    low_pass_lost: float | None = None  # share of rows at p <= 0.1 under a low-pass filter (`low_pass`)
    low_pass_excess: float | None = None  # that share over the set's median lost share
    # share of the rows the reference's boundary flagged that a network trained on --test alone reads
    # as another class (`clean_reader`); None where it was not read
    relabelled_share: float | None = None
    # share of the class's rows that network reads as another class (p <= 0.1, label under
    # LOW_CONFIDENCE) over the set's median such share; None where the set was not read
    read_away_excess: float | None = None
    cleared: int = 0  # rows the boundary flagged that the clean-split network cleared (`_read_rows`)

    def to_dict(self) -> dict[str, Any]:
        return {
            "class": self.label,
            "name": self.name,
            "size": self.size,
            "poisoned": self.poisoned,
            "suspects": self.suspects,
            "separation": round(self.separation, 3),
            "disagreement_gap": round(self.disagreement_gap, 3),
            "silhouette": round(self.silhouette, 3),
            "relative_size": round(self.relative_size, 3),
            "suspect_share": round(self.suspect_share, 3),
            "components": list(self.components),
            "decided_by": self.decided_by,
            "overruled": self.overruled,
            "persistence_gap": round(self.persistence_gap, 3),
            "margin_gap": round(self.margin_gap, 3),
            "confidence_gap": round(self.confidence_gap, 3),
            "low_confidence": self.low_confidence,
            "misread_spread": round(self.misread_spread, 3),
            "trigger_modes": round(self.trigger_modes, 3),
            "reference_unmatched": _rounded(self.reference_unmatched),
            "reference_grouped": _rounded(self.reference_grouped),
            "reference_excess": _rounded(self.reference_excess),
            "reference_bar": _rounded(self.reference_bar),
            "reference_rows": self.reference_rows,
            "corroborated_by": self.corroborated_by,
            "reference_side_p": None
            if self.reference_side_p is None
            else float(f"{self.reference_side_p:.3g}"),
            "low_pass_lost": _rounded(self.low_pass_lost),
            "low_pass_excess": _rounded(self.low_pass_excess),
            "relabelled_share": _rounded(self.relabelled_share),
            "read_away_excess": _rounded(self.read_away_excess),
            "cleared": self.cleared,
        }


def _rounded(value: float | None) -> float | None:
    return round(value, 3) if value is not None else None


@dataclass(frozen=True)
class PoisoningResult:
    scores: np.ndarray  # one per sample, 0…1, higher = more suspect
    flagged: np.ndarray  # sorted row indices
    classes: tuple[ClassAssessment, ...] = field(default_factory=tuple)
    signals: dict[int, tuple[str, ...]] = field(default_factory=dict)  # flagged row → its signals

    @property
    def poisoned_classes(self) -> list[int]:
        return [c.label for c in self.classes if c.poisoned]


def _reference_rows(
    reference: clean_reference.Reference, label: int, rows: np.ndarray, p: np.ndarray, vote: np.ndarray
) -> np.ndarray:
    """The score of each row of a class the reference called: the side of the boundary between its
    confident poison and its reference rows (`reference.separated`), or its vote where too few rows
    are confident to fit one."""
    train = reference.train[rows, :REFERENCE_DIMS]
    own = reference.rows[reference.labels == label, :REFERENCE_DIMS]
    probability = clean_reference.separated(train, p, vote, own)
    return vote if probability is None else probability


def reference_bar(reference_rows: int, *, blamed: bool = False) -> float:
    """The excess over the set's median unmatched share that calls a class with `reference_rows`
    reference rows (REFERENCE_BLAMED_AT for a class the reference singles out most that a behavioural
    scan blamed or that alone grew against the clean split: `corroborated`)."""
    base = REFERENCE_BLAMED_AT if blamed else REFERENCE_AT
    typical = clean_reference.null_spread(REFERENCE_ROWS_AT)
    return base * max(1.0, clean_reference.null_spread(reference_rows) / typical)


def assess(
    reduced: np.ndarray,
    labels: np.ndarray,
    disagreement: np.ndarray,
    calibration: Calibration,
    *,
    names: Sequence[str] = (),
    blamed: Sequence[int] = (),
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
    persistence: np.ndarray | None = None,
    confidence: np.ndarray | None = None,
    predicted: np.ndarray | None = None,
    trigger_positions: Mapping[int, np.ndarray] | None = None,
    margin: np.ndarray | None = None,
    reference: clean_reference.Reference | None = None,
) -> PoisoningResult:
    """Judge every class of `labels` in the feature space `reduced` (rows already globally reduced).
    `persistence` (per row, from a model's predictions) marks `reduced` as a model's image features;
    `confidence` (own-label probability) and `predicted` (the class read) enable the mislabelled route,
    `margin` (own label over the runner-up, log-probability) a second behavioural difference of a split;
    `trigger_positions` (class → its rows' positions towards a reversed trigger, `trigger_rows`) the
    reversed-trigger route, which decides a blamed class and its rows when it has two modes;
    `reference` (a clean split and the training rows in one space of their own) the reference route,
    which calls a class holding rows the reference lacks and flags those rows."""
    scores = np.zeros(len(labels), dtype=np.float64)
    flagged: list[np.ndarray] = []
    classes: list[ClassAssessment] = []
    signals: dict[int, tuple[str, ...]] = {}
    pending: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    blamed_set = {int(b) for b in blamed}
    # a blamed class with a reversed trigger is judged by that trigger (below), not at lowered thresholds
    lowered = blamed_set - set(trigger_positions or {})
    for label in np.unique(labels):
        rows = np.flatnonzero(labels == label)
        name = names[label] if 0 <= label < len(names) else str(label)
        assessment, class_scores, row_signals = _assess_class(
            reduced[rows],
            disagreement[rows],
            calibration,
            int(label),
            name,
            blamed=int(label) in lowered,
            seed=seed,
            persistence=None if persistence is None else persistence[rows],
            confidence=None if confidence is None else confidence[rows],
            margin=None if margin is None else margin[rows],
            predicted=None if predicted is None else predicted[rows],
        )
        scores[rows] = class_scores
        pending.append((rows, class_scores, row_signals))
        classes.append(assessment)
        if progress is not None:
            progress(len(rows))
    # a compact split counts only where it stands out from the set's own classes: how far apart a
    # clean class's halves sit depends on the architecture and the data, not on poison
    median = float(np.median([c.separation for c in classes])) if classes else 0.0
    pvalues, votes, matches = (
        clean_reference.pvalues(
            reference.train[:, :REFERENCE_DIMS],
            labels,
            reference.rows[:, :REFERENCE_DIMS],
            reference.labels,
        )
        if reference is not None
        else (None, None, {})
    )
    lost_p, lost = (
        clean_reference.label_pvalues(reference.train_kept, labels, reference.rows_kept, reference.labels)
        if reference is not None and reference.train_kept is not None and reference.rows_kept is not None
        else (None, {})
    )
    # the clean-split network's reading of each training row and its p-value (`clean_reader`), made
    # the first time it is needed
    read_once = (
        cache(partial(_clean_read, reference.read, labels, reference.labels))
        if reference is not None and reference.read is not None
        else None
    )
    # and each judged class's read-away excess over the set's median, computed once from it
    away_once = cache(lambda: _read_away_excess(read_once(), labels)) if read_once is not None else None
    usual_lost = float(np.median(list(lost.values()))) if lost else 0.0
    usual = float(np.median([m.grouped for m in matches.values()])) if matches else 0.0
    standout = max(matches, key=lambda k: (matches[k].grouped, -k)) if matches else None
    grown = grown_alone(class_shares(labels, reference.labels)) if reference is not None else None
    lost_most = max(lost, key=lambda k: (lost[k], -k)) if lost else None
    # what besides the reference speaks against its standout, the one class whose bar it lowers
    corroboration = (
        _corroborated(
            standout,
            blamed_set,
            grown,
            lost_agrees=standout == lost_most
            and lost[standout] - usual_lost >= reference_bar(matches[standout].reference_rows, blamed=True),
            read_agrees=partial(_read_agrees, away_once, standout, matches[standout], usual),
        )
        if standout is not None
        else ""
    )
    for i, (assessment, (rows, class_scores, row_signals)) in enumerate(zip(classes, pending, strict=True)):
        if (
            assessment.decided_by == COMPACT
            and assessment.separation
            < calibration.relative_separation
            * median
            * (calibration.blamed_factor if assessment.label in lowered else 1.0)
        ):
            classes[i] = assessment = replace(assessment, poisoned=False, suspects=0, decided_by="")
        position = (trigger_positions or {}).get(assessment.label)  # a class blamed by --behavior
        if position is not None:  # recorded whichever route decides the class
            classes[i] = assessment = replace(assessment, trigger_modes=trigger_rows.modes(position))
        if assessment.label in lost:  # reported for every class, whichever route decides it
            classes[i] = assessment = replace(
                assessment,
                low_pass_lost=lost[assessment.label],
                low_pass_excess=lost[assessment.label] - usual_lost,
            )
        match = matches.get(assessment.label)
        if match is not None and votes is not None:
            corroborated = corroboration if assessment.label == standout else ""
            bar = reference_bar(match.reference_rows, blamed=bool(corroborated))
            excess = match.grouped - usual
            classes[i] = assessment = replace(
                assessment,
                reference_unmatched=match.unmatched,
                reference_grouped=match.grouped,
                reference_excess=excess,
                reference_bar=bar,
                reference_rows=match.reference_rows,
                corroborated_by=corroborated,
            )
            if excess >= bar and reference is not None and pvalues is not None:
                # the reference decides the rows, whether or not the split called the class
                unmatched = _reference_rows(reference, assessment.label, rows, pvalues[rows], votes[rows])
                lost_rows = (  # where the call needed the low-pass filter's word, its rows count too
                    _p_scores(lost_p[rows], clean_reference.ALPHA)
                    if corroborated == LOW_PASS_AGREES
                    and lost_p is not None
                    and excess < reference_bar(match.reference_rows)
                    else np.zeros(len(rows))
                )
                read = read_once() if read_once is not None else None
                found = np.maximum(unmatched, lost_rows) >= FLAG_AT
                read_rows, cleared, relabelled = (
                    _read_rows(read, rows, found)
                    if read is not None
                    else (np.zeros(len(rows)), np.zeros(len(rows), dtype=bool), None)
                )
                row_scores = np.maximum.reduce([unmatched, lost_rows, read_rows])
                row_scores[cleared] = np.minimum(row_scores[cleared], CLEARED_SCORE)
                carriers = row_scores >= FLAG_AT
                if int(carriers.sum()) >= calibration.min_suspects:
                    classes[i] = replace(
                        assessment,
                        poisoned=True,
                        suspects=int(carriers.sum()),
                        decided_by=REFERENCE,
                        relabelled_share=relabelled,
                        cleared=int((cleared & found).sum()),
                    )
                    scores[rows] = row_scores
                    flagged.append(rows[carriers])
                    for row, *by in zip(
                        rows[carriers].tolist(),
                        unmatched[carriers] >= FLAG_AT,
                        lost_rows[carriers] >= FLAG_AT,
                        read_rows[carriers] >= FLAG_AT,
                        strict=True,
                    ):
                        signals[row] = tuple(
                            name for name, said in zip(REFERENCE_SIGNALS, by, strict=True) if said
                        )
                    continue
        if position is not None:  # with its reversed trigger
            carriers = position >= trigger_rows.HALFWAY
            if (
                not assessment.poisoned  # a class the split already called keeps its rows
                and assessment.trigger_modes >= trigger_rows.MODES_AT
                and int(carriers.sum()) >= calibration.min_suspects
            ):
                classes[i] = replace(
                    classes[i], poisoned=True, suspects=int(carriers.sum()), decided_by=REVERSED_TRIGGER
                )
                scores[rows] = np.clip(position, 0.0, 1.0)
                flagged.append(rows[carriers])
                for row in rows[carriers].tolist():
                    signals[row] = ("near_reversed_trigger",)
                continue
        if classes[i].poisoned:
            chosen = class_scores >= FLAG_AT
            flagged.append(rows[chosen])
            for row, names_ in zip(rows[chosen].tolist(), row_signals[chosen], strict=True):
                signals[row] = names_
    if confidence is not None and predicted is not None:
        spreads, called = _mislabelled(labels, disagreement, confidence, predicted, calibration)
        classes = [replace(c, misread_spread=spread) for c, spread in zip(classes, spreads, strict=True)]
        for i, rows, mislabelled in called:
            assessment = classes[i]
            extra = rows[mislabelled]
            if not assessment.poisoned:  # the relabelled rows: read as another class by either
                extra = rows[(confidence[rows] < LOW_CONFIDENCE) | (disagreement[rows] >= 0.5)]
                classes[i] = replace(assessment, poisoned=True, decided_by=MISLABELLED)
            elif read_once is not None:
                # the model's misreading of a class it learned beside relabelled rows takes clean rows
                # of the class too: a network that never saw the poison must read each row elsewhere
                extra = rows[mislabelled & (_read_scores(read_once(), rows) >= FLAG_AT)]
            flagged.append(extra)
            scores[extra] = np.maximum(scores[extra], 1.0)
            for row in extra.tolist():
                signals[row] = tuple(dict.fromkeys((*signals.get(row, ()), "model_reads_other_class")))
            classes[i] = replace(
                classes[i],
                suspects=len(
                    np.intersect1d(np.flatnonzero(labels == assessment.label), np.concatenate(flagged))
                ),
            )
    if reference is not None and not any(c.poisoned and c.decided_by == REFERENCE for c in classes):
        classes, flagged, signals = _overrule_matched_splits(classes, labels, flagged, signals, reference)
    # the clean-split network's own call, then the low-pass filter's, each heard only when no other
    # route called a class of the set (one attack targets one class; on seen data the filter's three
    # calls beside another route's were all of non-target classes)
    if read_once is not None and away_once is not None and not any(c.poisoned for c in classes):
        classes = _read_away_calls(
            classes, labels, read_once(), away_once(), calibration, scores, flagged, signals
        )
    if read_once is not None and away_once is not None and read_once.cache_info().currsize:
        away = away_once()  # reported for every class once read
        classes = [replace(c, read_away_excess=away.get(c.label)) for c in classes]
    # where only the network called, the filter may add its rows to that class, and calls no other
    read_called = {c.label for c in classes if c.poisoned and c.decided_by == READ_AWAY}
    if lost_p is not None and not any(c.poisoned and c.label not in read_called for c in classes):
        classes = _low_pass_calls(
            classes, labels, lost_p, calibration, scores, flagged, signals, only=read_called or None
        )
    chosen = np.unique(np.concatenate(flagged)) if flagged else np.empty(0, dtype=np.int64)
    overruled = _overruled_by_reference(classes)
    if overruled:
        classes = [
            replace(c, poisoned=False, suspects=0, decided_by="", overruled=c.decided_by)
            if c.label in overruled
            else c
            for c in classes
        ]
        chosen = chosen[~np.isin(labels[chosen], sorted(overruled))]
        signals = {row: names_ for row, names_ in signals.items() if int(labels[row]) not in overruled}
    return PoisoningResult(scores=scores, flagged=chosen, classes=tuple(classes), signals=signals)


def _corroborated(
    label: int, blamed: set[int], grown: int | None, lost_agrees: bool, read_agrees: Callable[[], bool]
) -> str:
    """What besides the reference speaks against the set's standout class `label`: a behavioural
    scan's blame (BLAMED), else its growth against the clean split (GROWN), else the low-pass filter
    singling it out too (`lost_agrees`, LOW_PASS_AGREES), else the clean-split network doing so
    (`read_agrees`, asked last because it may train the networks: READ_AGREES), else nothing ("")."""
    if label in blamed:
        return BLAMED
    if label == grown:
        return GROWN
    if lost_agrees:
        return LOW_PASS_AGREES
    return READ_AGREES if read_agrees() else ""


@dataclass(frozen=True)
class _Reading:
    """The clean-split network's reading of the training rows (`clean_reader`)."""

    probability: np.ndarray  # of each row's label
    p: np.ndarray  # that probability's p-value against its class's reference rows read alike
    judged: frozenset[int]  # the classes with enough reference rows for a p-value

    @property
    def away(self) -> np.ndarray:
        """Rows read as another class: p <= reference.ALPHA and the label under LOW_CONFIDENCE."""
        away: np.ndarray = (self.p <= clean_reference.ALPHA) & (self.probability < LOW_CONFIDENCE)
        return away


def _clean_read(
    read: Callable[[], tuple[np.ndarray, np.ndarray]], labels: np.ndarray, reference_labels: np.ndarray
) -> _Reading:
    """The reading (`read`: each training row's probability of its label, then each clean split
    row's) with its p-values."""
    train_read, rows_read = read()
    p, shares = clean_reference.label_pvalues(train_read, labels, rows_read, reference_labels)
    return _Reading(train_read, p, frozenset(shares))


def _read_away_excess(read: _Reading, labels: np.ndarray) -> dict[int, float]:
    """Per judged class, the share of its rows the clean-split network reads as another class
    (p <= reference.ALPHA, label under LOW_CONFIDENCE) over the median such share of the set's
    judged classes."""
    away = read.away
    shares = {label: float(np.mean(away[labels == label])) for label in sorted(read.judged)}
    usual = float(np.median(list(shares.values()))) if shares else 0.0
    return {label: share - usual for label, share in shares.items()}


def _read_agrees(
    away_once: Callable[[], dict[int, float]] | None,
    standout: int,
    match: clean_reference.ClassMatch,
    usual: float,
) -> bool:
    """Whether the clean-split network singles out the reference's standout class: asked only where
    its grouped excess (`match.grouped` over the set's `usual`) sits between the lowered bar and its
    own, so the networks are trained for no other set; then its read-away excess must reach the
    lowered bar."""
    lowered = reference_bar(match.reference_rows, blamed=True)
    if away_once is None or not lowered <= match.grouped - usual < reference_bar(match.reference_rows):
        return False
    return away_once().get(standout, 0.0) >= lowered


def _overrule_matched_splits(
    classes: list[ClassAssessment],
    labels: np.ndarray,
    flagged: list[np.ndarray],
    signals: dict[int, tuple[str, ...]],
    reference: clean_reference.Reference,
) -> tuple[list[ClassAssessment], list[np.ndarray], dict[int, tuple[str, ...]]]:
    """Where the clean reference called no class: a class only a split route called is overruled,
    its rows and signals dropped, unless the class's reference rows avoid the side the split flagged
    (`reference.SplitSide`, p <= SPLIT_ALPHA): a reference that has the kind of image the split
    flagged shows the split took two kinds of clean image apart."""
    classes = list(classes)
    for i, assessment in enumerate(classes):
        if not (assessment.poisoned and assessment.decided_by in (FOREIGN, COMPACT, APART)):
            continue
        rows = np.flatnonzero(labels == assessment.label)
        taken = np.intersect1d(rows, np.concatenate(flagged)) if flagged else rows[:0]
        if not len(taken):
            continue
        own = reference.rows[reference.labels == assessment.label, :REFERENCE_DIMS]
        side = clean_reference.split_side(reference.train[rows, :REFERENCE_DIMS], np.isin(rows, taken), own)
        classes[i] = assessment = replace(assessment, reference_side_p=side.p)
        if side.p > clean_reference.SPLIT_ALPHA:
            classes[i] = replace(
                assessment, poisoned=False, suspects=0, decided_by="", overruled=assessment.decided_by
            )
            flagged = [f[labels[f] != assessment.label] for f in flagged]
            signals = {r: n for r, n in signals.items() if int(labels[r]) != assessment.label}
    return classes, flagged, signals


def _low_pass_calls(
    classes: list[ClassAssessment],
    labels: np.ndarray,
    lost_p: np.ndarray,
    calibration: Calibration,
    scores: np.ndarray,
    flagged: list[np.ndarray],
    signals: dict[int, tuple[str, ...]],
    *,
    only: set[int] | None = None,
) -> list[ClassAssessment]:
    """The classes whose low-pass excess reaches the reference's bar, called (LOW_PASS) with their
    rows at p <= ALPHA: flagged, scored (FLAG_AT at p = ALPHA) and given their signal in place. With
    `only` (the classes the clean-split network called, READ_AWAY), no other class is judged, and
    such a class keeps its call and takes the filter's rows beside the network's: two readings of
    the clean split, each finding part of the poison."""
    classes = list(classes)
    for i, assessment in enumerate(classes):
        if only is not None and assessment.label not in only:
            continue
        rows = np.flatnonzero(labels == assessment.label)
        carriers = lost_p[rows] <= clean_reference.ALPHA
        if (
            assessment.low_pass_excess is None
            or assessment.reference_rows is None
            or assessment.low_pass_excess < reference_bar(assessment.reference_rows)
            or int(carriers.sum()) < calibration.min_suspects
        ):
            continue
        lost_scores = _p_scores(lost_p[rows], clean_reference.ALPHA)
        if assessment.poisoned:  # called by the network: both readings' rows
            scores[rows] = np.maximum(scores[rows], lost_scores)
            classes[i] = replace(assessment, suspects=int((scores[rows] >= FLAG_AT).sum()))
        else:
            classes[i] = replace(assessment, poisoned=True, suspects=int(carriers.sum()), decided_by=LOW_PASS)
            scores[rows] = lost_scores
        flagged.append(rows[carriers])
        for row in rows[carriers].tolist():
            said = {*signals.get(row, ()), "label_lost_under_low_pass"}
            signals[row] = tuple(name for name in REFERENCE_SIGNALS if name in said)
    return classes


def _read_away_calls(
    classes: list[ClassAssessment],
    labels: np.ndarray,
    read: _Reading,
    away: Mapping[int, float],
    calibration: Calibration,
    scores: np.ndarray,
    flagged: list[np.ndarray],
    signals: dict[int, tuple[str, ...]],
) -> list[ClassAssessment]:
    """The class the clean-split network reads most rows of as another class (`away`, each judged
    class's read-away excess), called (READ_AWAY) where that excess reaches the reference's own bar
    and the reference's grouped excess of it is positive: its rows the network reads as another class
    are flagged, scored and given their signal in place."""
    if not away:
        return classes
    standout = max(away, key=lambda k: (away[k], -k))
    i, assessment = next((i, c) for i, c in enumerate(classes) if c.label == standout)
    if (
        assessment.reference_excess is None
        or assessment.reference_rows is None
        or assessment.reference_excess <= 0.0
        or away[standout] < reference_bar(assessment.reference_rows)
    ):
        return classes
    rows = np.flatnonzero(labels == standout)
    row_scores = _read_scores(read, rows)
    carriers = row_scores >= FLAG_AT
    if int(carriers.sum()) < calibration.min_suspects:
        return classes
    classes = list(classes)
    classes[i] = replace(assessment, poisoned=True, suspects=int(carriers.sum()), decided_by=READ_AWAY)
    scores[rows] = row_scores
    flagged.append(rows[carriers])
    for row in rows[carriers].tolist():
        signals[row] = ("read_as_another_class_by_clean_network",)
    return classes


def _read_scores(read: _Reading, rows: np.ndarray) -> np.ndarray:
    """Each of `rows`' score for being read as another class by the clean-split network: FLAG_AT at
    p = READ_ALPHA, 0 where its label keeps LOW_CONFIDENCE."""
    return _p_scores(read.p[rows], READ_ALPHA) * (read.probability[rows] < LOW_CONFIDENCE)


def _read_rows(
    read: _Reading, rows: np.ndarray, found: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float | None]:
    """For the `rows` of a class the reference called (`found`: those its boundary or the low-pass
    filter flags), from the clean-split network's reading (`read`: per training row the probability
    of its label and that probability's p-value against the class's reference rows): each row's
    score for being read as another class (`_read_scores`); the rows to clear, read as surely as the class's typical reference row, where
    at least RELABELLED_AT of the found rows are read as another class; and that share (None
    without a found row)."""
    p = read.p[rows]
    elsewhere = read.probability[rows] < LOW_CONFIDENCE
    share = float(np.mean(read.away[rows][found])) if found.any() else None
    cleared = (
        (p > FIRMLY_READ) & ~elsewhere
        if share is not None and share >= RELABELLED_AT
        else np.zeros(len(rows), dtype=bool)
    )
    return _read_scores(read, rows), cleared, share


def _p_scores(p: np.ndarray, alpha: float) -> np.ndarray:
    """Row scores from conformal p-values: FLAG_AT at p = alpha, 1 at p = 0."""
    scores: np.ndarray = np.clip(1.0 - p * FLAG_AT / alpha, 0.0, 1.0)
    return scores


def _overruled_by_reference(classes: Sequence[ClassAssessment]) -> set[int]:
    """Classes the split or the mislabelled route called that the clean reference overrules: once it
    has called a class of the set, it has shown it sees this set's poison, and a class it matches
    (grouped excess under the blamed bar, the least it corroborates anything at) is the split's own
    false alarm, a clean class of two kinds (OVERRULED)."""
    if not any(c.decided_by == REFERENCE for c in classes):
        return set()
    return {
        c.label
        for c in classes
        if c.poisoned
        and c.decided_by in OVERRULED
        and c.reference_excess is not None
        and c.reference_rows is not None
        and c.reference_excess < reference_bar(c.reference_rows, blamed=True)
    }


def _assess_class(
    x: np.ndarray,
    disagreement: np.ndarray,
    cal: Calibration,
    label: int,
    name: str,
    *,
    blamed: bool,
    seed: int,
    persistence: np.ndarray | None = None,
    confidence: np.ndarray | None = None,
    margin: np.ndarray | None = None,
    predicted: np.ndarray | None = None,
) -> tuple[ClassAssessment, np.ndarray, np.ndarray]:
    n = len(x)
    none = ClassAssessment(label, name, n, False, 0, 0.0, 0.0, 0.0, 0.0, 0.0)
    nothing = np.empty(n, dtype=object)
    if n < max(8, 2 * cal.min_suspects):
        return none, np.zeros(n), nothing
    reduced = ac.reduce(x)
    parts = ac.split(reduced, seed=seed)
    if parts.separation == 0.0:
        return none, np.zeros(n), nothing
    whitened = robust_whitening(reduced, seed=seed).apply(reduced)
    robust_distance = np.einsum("ij,ij->i", whitened, whitened)
    gap = float(disagreement[parts.labels == 1].mean() - disagreement[parts.labels == 0].mean())
    persist_gap = _median_gap(persistence, parts.labels)
    margin_gap = _median_gap(margin, parts.labels)
    factor = cal.blamed_factor if blamed else 1.0
    # Which half is the suspect: the one among other classes when that is foreign evidence; else the
    # one that keeps its label under mixing, else the one read more firmly (margin). A learned trigger
    # pulls its rows together and leaves the class's clean rows nearer other classes (higher
    # disagreement): orienting by disagreement first took the clean half of learned SIG and blend
    # classes for the suspect.
    foreign = parts.separation >= cal.separation * factor and abs(gap) >= cal.disagreement * factor
    if foreign or (abs(gap) >= 0.1 and abs(persist_gap) < PERSISTENCE_GAP):
        suspect = 1 if gap > 0 else 0
    elif abs(persist_gap) >= PERSISTENCE_GAP:
        suspect = 1 if persist_gap > 0 else 0
    elif abs(margin_gap) >= MARGIN_GAP:
        suspect = 1 if margin_gap > 0 else 0
    else:
        suspect = int(
            np.median(robust_distance[parts.labels == 1]) > np.median(robust_distance[parts.labels == 0])
        )
    in_suspect = parts.labels == suspect
    gap = gap if suspect == 1 else -gap
    persist_gap = persist_gap if suspect == 1 else -persist_gap
    margin_gap = margin_gap if suspect == 1 else -margin_gap
    confidence_gap = (
        float(np.median(confidence[~in_suspect]) - np.median(confidence[in_suspect]))
        if confidence is not None
        else 0.0
    )
    low_confidence = int((confidence < LOW_CONFIDENCE).sum()) if confidence is not None else 0
    spectral_direction = _signed_spectral(reduced, in_suspect)
    evidence = {
        "activation_clustering": parts.projection if suspect == 1 else -parts.projection,
        "spectre": quantum_entropy_scores(whitened),
        "spectral_signature": spectral_direction,
        "knn_disagreement": disagreement,
    }
    if persistence is not None:
        evidence["persistence"] = persistence
    ramps = {key: _ramp(values, in_suspect) for key, values in evidence.items()}
    agreeing = tuple(key for key in ramps if ramps[key] is not None)
    core = _core_score(reduced, in_suspect, cal.core_quantile, seed)
    score = np.maximum(core, np.where(in_suspect, FLAG_AT, 0.0))  # the suspect cluster, and past the core
    decided_by = ""
    if foreign:  # the suspect was oriented by the disagreement, so its gap is the foreign one
        decided_by = FOREIGN
    elif parts.separation >= cal.separation_alone * factor:
        decided_by = APART
    elif (
        persistence is not None
        and (persist_gap >= BEHAVIOUR_GAP or margin_gap >= MARGIN_GAP)
        and in_suspect.mean() <= MAX_SHARE
    ):
        decided_by = COMPACT  # confirmed or dropped by `assess`, against the set's median separation
    suspects = int((score >= FLAG_AT).sum())
    poisoned = bool(decided_by) and suspects >= cal.min_suspects
    if persistence is None:  # raw or text features: the split's own evidence, ramped (see above)
        score = np.mean([ramps[key] for key in agreeing], axis=0) if agreeing else np.zeros(n)
        suspects = int((score >= FLAG_AT).sum())
        poisoned = bool(decided_by) and suspects >= cal.min_suspects
    if poisoned and decided_by == FOREIGN and predicted is not None:
        poisoned = not _one_neighbour(predicted[score >= FLAG_AT], label, cal.min_suspects)
    apart = core if persistence is not None else score  # what "outside_clean_core" reads
    row_signals = _row_signals(in_suspect, disagreement, persistence, margin, apart) if poisoned else nothing
    return (
        ClassAssessment(
            label=label,
            name=name,
            size=n,
            poisoned=poisoned,
            suspects=suspects if poisoned else 0,
            separation=parts.separation,
            disagreement_gap=gap,
            silhouette=parts.silhouette,
            relative_size=parts.relative_size,
            suspect_share=float(in_suspect.mean()),
            components=agreeing,
            decided_by=decided_by if poisoned else "",
            persistence_gap=persist_gap,
            margin_gap=margin_gap,
            confidence_gap=confidence_gap,
            low_confidence=low_confidence,
        ),
        score,
        row_signals,
    )


def _mislabelled(
    labels: np.ndarray,
    disagreement: np.ndarray,
    confidence: np.ndarray,
    predicted: np.ndarray,
    cal: Calibration,
) -> tuple[list[float], list[tuple[int, np.ndarray, np.ndarray]]]:
    """Per class (in `np.unique(labels)` order) the spread of its misread rows; and the classes
    (index, rows, mask of rows to flag) that hold relabelled rows the model did not learn as their
    label: poison whose trigger is inert to this model, read as the many classes it was drawn from
    (see MISLABEL_SPREAD)."""
    both = (confidence < LOW_CONFIDENCE) & (disagreement >= 0.5)
    classes = np.unique(labels)
    per_class = [np.flatnonzero(labels == label) for label in classes]
    spreads = [
        misread_spread(predicted[rows[both[rows]]], int(label))
        for label, rows in zip(classes, per_class, strict=True)
    ]
    counted = [int(both[rows].sum()) >= cal.min_suspects for rows in per_class]
    out = []
    for i, rows in enumerate(per_class):
        share = float(both[rows].mean())
        rival = max((s for j, s in enumerate(spreads) if j != i and counted[j]), default=0.0)
        if (
            share >= MISLABEL_SHARE
            and counted[i]
            and spreads[i] >= MISLABEL_SPREAD * (len(classes) - 1)
            and spreads[i] >= MISLABEL_LEAD * rival
        ):
            out.append((i, rows, both[rows]))
    return spreads, out


def misread_spread(read_as: np.ndarray, label: int) -> float:
    """The effective number of classes (1 / sum of squared shares) among `read_as`, the classes the
    model reads a class's misread rows as, leaving out `label` itself; 0 for no rows."""
    others = read_as[read_as != label]
    if not len(others):
        return 0.0
    shares = np.unique(others, return_counts=True)[1] / len(others)
    return float(1.0 / np.sum(shares**2))


def _core_score(reduced: np.ndarray, in_suspect: np.ndarray, quantile: float, seed: int) -> np.ndarray:
    """Each row's robust squared distance to the kept cluster (MCD fit), over twice the chi-square
    cut at `quantile`, clipped to 0…1: 0.5 and above lies outside the clean core."""
    from scipy.stats import chi2
    from sklearn.covariance import MinCovDet

    kept = reduced[~in_suspect]
    dims = reduced.shape[1]
    if len(kept) <= dims + 1:
        return np.where(in_suspect, 1.0, 0.0)
    try:
        fit = MinCovDet(support_fraction=CORE_SUPPORT, random_state=seed).fit(kept)
        distance = fit.mahalanobis(reduced)
    except (ValueError, np.linalg.LinAlgError):  # a degenerate core: fall back to the split itself
        return np.where(in_suspect, 1.0, 0.0)
    # the cut scales with the kept rows' own median distance where that exceeds the chi-square
    # median: a small core (few rows per dimension) or heavy tails inflate every distance alike
    inflation = max(1.0, float(np.median(distance[~in_suspect])) / float(chi2.ppf(0.5, dims)))
    cut = float(chi2.ppf(quantile, dims)) * inflation
    return np.clip(distance / (2 * cut), 0.0, 1.0)


def _row_signals(
    in_suspect: np.ndarray,
    disagreement: np.ndarray,
    persistence: np.ndarray | None,
    margin: np.ndarray | None,
    score: np.ndarray,
) -> np.ndarray:
    """Per row of a called class, the names of the signals that point at it."""
    high_persistence = _past_kept(persistence, in_suspect, len(score))
    firm = _past_kept(margin, in_suspect, len(score))
    out = np.empty(len(score), dtype=object)
    for i in range(len(score)):
        names = ["outside_clean_core"] if score[i] >= FLAG_AT else []
        if in_suspect[i]:
            names.append("suspect_cluster")
        if disagreement[i] >= 0.5:
            names.append("knn_disagreement")
        if high_persistence[i]:
            names.append("trigger_persistence")
        if firm[i]:
            names.append("read_firmly")
        out[i] = tuple(names)
    return out


def _median_gap(values: np.ndarray | None, halves: np.ndarray) -> float:
    """Median of `values` in half 1 minus half 0 of a split (0 without values)."""
    if values is None:
        return 0.0
    return float(np.median(values[halves == 1]) - np.median(values[halves == 0]))


def _one_neighbour(read_as: np.ndarray, label: int, min_rows: int) -> bool:
    """Whether the flagged rows of a foreign split that the model reads as another class (at least
    `min_rows` of them) go to about one class (FOREIGN_SPREAD): a hard minority, not relabelling."""
    misread = read_as[read_as != label]
    return len(misread) >= min_rows and misread_spread(misread, label) < FOREIGN_SPREAD


def _past_kept(values: np.ndarray | None, in_suspect: np.ndarray, rows: int) -> np.ndarray:
    """Rows whose value passes the 95th percentile of the kept cluster's (none without values)."""
    if values is None or not (~in_suspect).any():
        return np.zeros(rows, dtype=bool)
    return values > np.percentile(values[~in_suspect], 95)


def conflicting_duplicates(digests: Sequence[bytes], labels: np.ndarray) -> np.ndarray:
    """Sorted rows whose digest (the row's features) also occurs under another label and that do not
    carry the single most common label of their group (all of the group's rows on a tie): the copies
    a label flip by duplication adds."""
    groups: dict[bytes, list[int]] = {}
    for row, digest in enumerate(digests):
        groups.setdefault(digest, []).append(row)
    out: list[int] = []
    for rows in groups.values():
        if len(rows) < 2 or len(set(labels[rows].tolist())) < 2:
            continue
        values, counts = np.unique(labels[rows], return_counts=True)
        top = values[counts == counts.max()]
        majority = top[0] if len(top) == 1 else None
        out.extend(r for r in rows if labels[r] != majority)
    return np.asarray(sorted(out), dtype=np.int64)


def _signed_spectral(reduced: np.ndarray, in_suspect: np.ndarray) -> np.ndarray:
    """Projection on the top singular direction (Tran et al.), oriented towards the suspect cluster."""
    centred = reduced - reduced.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    projection = centred @ vt[0]
    if np.median(projection[in_suspect]) < np.median(projection[~in_suspect]):
        projection = -projection
    return projection


def _ramp(values: np.ndarray, in_suspect: np.ndarray) -> np.ndarray | None:
    """0 at the kept cluster's median, 1 at the suspect cluster's, clipped; None when the evidence
    does not point the same way as the split."""
    kept, suspect = float(np.median(values[~in_suspect])), float(np.median(values[in_suspect]))
    if suspect <= kept:
        return None
    return np.clip((values - kept) / (suspect - kept), 0.0, 1.0)


def published_spectral_signature(reduced: np.ndarray, labels: np.ndarray, epsilon: float) -> np.ndarray:
    """The baseline as published: in every class remove the 1.5·ε·n highest spectral scores."""
    flagged: list[np.ndarray] = []
    for label in np.unique(labels):
        rows = np.flatnonzero(labels == label)
        remove = round(1.5 * epsilon * len(rows))
        if remove:
            flagged.append(rows[np.argsort(spectral_signature_scores(reduced[rows]))[-remove:]])
    return np.sort(np.concatenate(flagged)) if flagged else np.empty(0, dtype=np.int64)
