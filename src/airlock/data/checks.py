"""The data checks: one class per family, each owning its rules (the data counterpart of
`airlock.scanners.REGISTRY`), and the findings they produce from a prepared `Workspace`.

Each check yields findings and adds its part of the report's `data` section. They are ordinary
checks (`TargetScanner`s): `airlock.scanning.run_scanners` times each, records it (ran, skipped with
the reason of a `Skipped`, or error with AIR901), and never lets one break the run.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from airlock.data import contamination, labels, leakage, poisoning, privacy
from airlock.data.class_share import SHARE_Z_AT, ClassShare, class_shares
from airlock.data.contamination import MAX_PAIRS
from airlock.data.loading import Dataset, Kind
from airlock.data.reference import Reference
from airlock.findings import Finding
from airlock.rules import RuleSet
from airlock.scanning import CheckContext, Skipped, TargetScanner

PAIRS_SHOWN = 50  # index pairs / rows listed in a finding's evidence (all are counted)


@dataclass
class Workspace(CheckContext):
    """What the checks share: the datasets, features, neighbours and hashes, and the report section."""

    subject: ClassVar[str] = "dataset"

    rules: RuleSet
    artifact: str | None  # the dataset file findings point at (None for a folder)
    train: Dataset
    test: Dataset | None
    section: dict[str, Any]
    calibration: poisoning.Calibration
    reduced: np.ndarray | None = None  # train features, globally reduced
    neighbours: np.ndarray | None = None
    disagreement: np.ndarray | None = None
    persistence: np.ndarray | None = None  # per-row trigger persistence under the model (images + --model)
    confidence: np.ndarray | None = None  # per-row probability the model gives the row's own label
    predicted: np.ndarray | None = None  # per-row class the model reads (images + --model)
    margin: np.ndarray | None = None  # per-row log-margin of the row's own label over the runner-up
    trigger_positions: dict[int, np.ndarray] | None = None  # blamed class → rows' positions (--behavior)
    reference: Reference | None = None  # the clean --test split and the training rows (model features)
    exact: tuple[list[bytes], list[bytes] | None] = ([], None)
    near: tuple[Any, Any] = (None, None)
    near_kind: str = ""
    text_column: str | None = None
    quasi_identifiers: tuple[str, ...] = ()
    k: int = 5
    blamed: tuple[int, ...] = ()
    progress: Callable[[str, int], Callable[[int], None]] | None = None
    poisoned_rows: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))

    def class_name(self, label: int) -> str:
        names = self.train.label_names
        return names[label] if 0 <= label < len(names) else str(label)


class DataCheck(TargetScanner):
    noun = "check"

    def scan_target(self, ctx: CheckContext) -> Iterator[Finding]:
        if not isinstance(ctx, Workspace):
            raise TypeError(f"{self.name} checks a dataset workspace, not a {type(ctx).__name__}")
        return self.run(ctx)

    @abstractmethod
    def run(self, ws: Workspace) -> Iterator[Finding]:
        """Yield findings; raise `Skipped` when the check does not apply."""


def _called_message(c: poisoning.ClassAssessment) -> str:
    """What AIR801 says of a called class, by the route that called it."""
    if c.decided_by == poisoning.MISLABELLED:
        return (
            f"class {c.name}: {c.suspects} of {c.size} samples are read as another class by the model and "
            f"their neighbours, spread over {c.misread_spread:.1f} classes (relabelled rows)"
        )
    if c.decided_by == poisoning.REFERENCE:
        also = f"; the class was also {c.corroborated_by}" if c.corroborated_by else ""
        lost = (
            " or lose their label under a low-pass filter"
            if c.corroborated_by == poisoning.LOW_PASS_AGREES
            else ""
        )
        read = (
            " or are read as another class by a network trained on that split"
            if c.relabelled_share is not None
            else ""
        )
        return (
            f"class {c.name}: {c.suspects} of {c.size} samples have no counterpart among the clean "
            f"--test split's samples of the class{lost}{read}{also}"
        )
    if c.decided_by == poisoning.READ_AWAY:
        return (
            f"class {c.name}: {c.suspects} of {c.size} samples are read as another class by a network "
            "trained on the clean --test split alone (relabelled rows)"
        )
    return f"class {c.name}: {c.suspects} of {c.size} samples form a separate cluster that looks like other classes"


class DataPoisoning(DataCheck):
    """Per-class poisoning decision, then the suspect samples (see `airlock.data.poisoning`)."""

    name = "data_poisoning"
    version = "1"
    rules = frozenset({"AIR801", "AIR802", "AIR803", "AIR804"})

    def run(self, ws: Workspace) -> Iterator[Finding]:
        raw_table = ws.section.get("feature_space") == "raw" and ws.train.kind is Kind.TABLE
        if raw_table and ws.train.labels is not None and (ws.reduced is None or ws.disagreement is None):
            yield from self._inconclusive(ws, None)
            return
        if ws.reduced is None or ws.disagreement is None or ws.train.labels is None:
            raise Skipped("no labels or no features to compare")
        advance = ws.progress("poisoning, per class", ws.train.rows) if ws.progress else None
        result = poisoning.assess(
            ws.reduced,
            ws.train.labels,
            ws.disagreement,
            ws.calibration,
            names=ws.train.label_names,
            blamed=ws.blamed,
            progress=advance,
            persistence=ws.persistence,
            confidence=ws.confidence,
            predicted=ws.predicted,
            margin=ws.margin,
            trigger_positions=ws.trigger_positions,
            reference=ws.reference,
        )
        if raw_table:
            yield from self._inconclusive(ws, result)
            return
        ws.poisoned_rows = result.flagged
        shares = class_shares(ws.train.labels, ws.reference.labels) if ws.reference is not None else {}
        ws.section.update(
            {
                "flagged": result.flagged.tolist(),
                "scores": np.round(result.scores, 4).tolist(),
                "suspect_classes": result.poisoned_classes,
                "classes": [
                    {**c.to_dict(), **(shares[c.label].to_dict() if c.label in shares else {})}
                    for c in result.classes
                ],
                "thresholds": {"flag_at": poisoning.FLAG_AT, **vars(ws.calibration)},
                "signals": {str(row): list(names) for row, names in sorted(result.signals.items())},
            }
        )
        if ws.persistence is not None:
            ws.section["persistence"] = np.round(ws.persistence, 4).tolist()
        if ws.confidence is not None:
            ws.section["confidence"] = np.round(ws.confidence, 4).tolist()
        if ws.margin is not None:
            ws.section["margin"] = np.round(ws.margin, 3).tolist()
        if ws.section.get("feature_space") == "model" and ws.train.kind is Kind.IMAGES:
            ws.section["clean_reference"] = None if ws.reference is None else {"rows": len(ws.reference.rows)}
            if ws.reference is None:
                yield self._without_reference(ws)
        called = set(result.poisoned_classes)
        for share in shares.values():
            if share.z >= SHARE_Z_AT and share.label not in called:
                yield self._grown(ws, share)
        for c in result.classes:
            if c.poisoned:
                yield ws.finding(
                    "AIR801",
                    self.name,
                    ws.artifact,
                    f"class {c.label} ({c.name})",
                    _called_message(c),
                    {
                        "class": c.label,
                        "label": c.name,
                        "flagged": c.suspects,
                        "size": c.size,
                        "separation": round(c.separation, 3),
                        "disagreement_gap": round(c.disagreement_gap, 3),
                        "decided_by": c.decided_by,
                        "corroborated_by": c.corroborated_by,
                        "rows": result.flagged[ws.train.labels[result.flagged] == c.label][
                            :PAIRS_SHOWN
                        ].tolist(),
                    },
                )

    def _grown(self, ws: Workspace, share: ClassShare) -> Finding:
        """A class the check did not call that grew against the clean split as a dirty-label target does."""
        name = ws.class_name(share.label)
        return ws.finding(
            "AIR804",
            self.name,
            ws.artifact,
            f"class {share.label} ({name})",
            f"class {name} is {share.train_share:.1%} of the training set and {share.test_share:.1%} of the "
            f"--test split (z {share.z:.1f}): relabelled poison grows its target this way, though no group "
            "of its rows was found apart; check how the split was drawn",
            {
                "class": share.label,
                "label": name,
                "train_rows": share.train_rows,
                "test_rows": share.test_rows,
                **share.to_dict(),
            },
        )

    def _without_reference(self, ws: Workspace) -> Finding:
        """Image rows vetted in a model's features with no labelled clean split to compare them with:
        the clean reference, the route that finds most poison, did not run."""
        why = "no --test split" if ws.test is None else "the --test split has no labels"
        return ws.finding(
            "AIR803",
            self.name,
            ws.artifact,
            "dataset",
            f"poisoning checked without a clean reference ({why}): much poison goes unfound; "
            "pass a labelled clean split with --test",
            {"reason": why},
        )

    def _inconclusive(self, ws: Workspace, result: poisoning.PoisoningResult | None) -> Iterator[Finding]:
        """Raw table columns cannot carry a poisoning verdict: real tables cluster within a class by
        segment, category and scale, which is exactly what the class-level test reads as poison. The
        clusters that would have been called are reported as candidates; no row is flagged."""
        assert ws.train.labels is not None
        classes = result.classes if result is not None else ()
        candidates = [c for c in classes if c.poisoned]
        digests = ws.near[0] if ws.near_kind == "normalised-row" else ws.exact[0]
        conflicts = poisoning.conflicting_duplicates(list(digests), ws.train.labels)
        ws.section.update(
            {
                "flagged": [],
                "poisoning": poisoning.INCONCLUSIVE_RAW,
                "suspect_classes": [],
                "candidate_classes": [c.label for c in candidates],
                "conflicting_duplicates": conflicts.tolist()[:PAIRS_SHOWN],
                "classes": [
                    {**c.to_dict(), "poisoned": False, "suspects": 0, "candidate": c.poisoned}
                    for c in classes
                ],
                "thresholds": {"flag_at": poisoning.FLAG_AT, **vars(ws.calibration)},
            }
        )
        named = ", ".join(ws.class_name(c.label) for c in candidates)
        seen = (
            [f"class(es) {named} split into a separate cluster whose rows sit among other classes"]
            if candidates
            else []
        )
        if len(conflicts):
            seen.append(f"{len(conflicts)} row(s) repeat another row's features under a different label")
        message = (
            f"poisoning {poisoning.INCONCLUSIVE_RAW}: raw table columns cannot support a poisoning decision"
            + (f" ({'; '.join(seen)})" if seen else "")
            + "; vet with --model for a decision"
        )
        yield ws.finding(
            "AIR802",
            self.name,
            ws.artifact,
            "dataset",
            message,
            {
                "feature_space": "raw",
                "candidates": [
                    {
                        "class": c.label,
                        "label": c.name,
                        "size": c.size,
                        "separation": round(c.separation, 3),
                        "disagreement_gap": round(c.disagreement_gap, 3),
                        "decided_by": c.decided_by,
                        "suspect_share": round(c.suspect_share, 3),
                    }
                    for c in candidates
                ],
                "conflicting_duplicates": len(conflicts),
                "rows": conflicts[:PAIRS_SHOWN].tolist(),
            },
        )


class LabelConsistency(DataCheck):
    """Samples whose nearest neighbours mostly carry another label (deep k-NN)."""

    name = "label_consistency"
    version = "1"
    rules = frozenset({"AIR811"})

    def run(self, ws: Workspace) -> Iterator[Finding]:
        if ws.neighbours is None or ws.train.labels is None:
            raise Skipped("no labels or no features to compare")
        found = labels.inconsistent(ws.neighbours, ws.train.labels, ws.poisoned_rows)
        ws.section["label_inconsistent"] = sorted(int(r) for f in found for r in f.rows)
        for f in found:
            yield ws.finding(
                "AIR811",
                self.name,
                ws.artifact,
                f"class {f.label} ({ws.class_name(f.label)})",
                f"{len(f.rows)} samples labelled {ws.class_name(f.label)} sit among {ws.class_name(f.neighbour_label)}",
                {
                    "class": f.label,
                    "count": len(f.rows),
                    "neighbour_class": f.neighbour_label,
                    "rows": f.rows[:PAIRS_SHOWN].tolist(),
                },
            )


class Contamination(DataCheck):
    """Exact and near duplicates, train↔test and within train (see `airlock.data.contamination`)."""

    name = "contamination"
    version = "1"
    rules = frozenset({"AIR821", "AIR822", "AIR823"})

    def run(self, ws: Workspace) -> Iterator[Finding]:
        train_exact, test_exact = ws.exact
        if not train_exact:
            raise Skipped("nothing to hash")
        near_train, near_test = ws.near
        pair_fn = contamination.hamming_pairs if ws.near_kind == "dhash" else contamination.minhash_pairs
        summary: dict[str, Any] = {"near_method": ws.near_kind or "none"}
        for scope, other_exact, other_near in (("train", None, None), ("test", test_exact, near_test)):
            if scope == "test" and ws.test is None:
                continue
            exact = contamination.equal_pairs(train_exact, other_exact)
            seen = set(exact)
            near: tuple[tuple[int, int], ...] = ()
            if near_train is not None and ws.near_kind in ("dhash", "minhash"):
                near = tuple(p for p in pair_fn(near_train, other_near) if p not in seen)
            elif near_train is not None:  # normalised-row digests
                near = tuple(p for p in contamination.equal_pairs(near_train, other_near) if p not in seen)
            summary[scope] = {
                "exact": len(exact),
                "near": len(near),
                "complete": max(len(exact), len(near)) < MAX_PAIRS,
                "exact_pairs": [list(p) for p in exact[:PAIRS_SHOWN]],
                "near_pairs": [list(p) for p in near[:PAIRS_SHOWN]],
            }
            yield from self._findings(ws, scope, exact, near)
        ws.section["contamination"] = summary

    def _findings(
        self, ws: Workspace, scope: str, exact: tuple[tuple[int, int], ...], near: tuple[tuple[int, int], ...]
    ) -> Iterator[Finding]:
        where = "train↔test" if scope == "test" else "within train"
        for kind, pairs, rule in (("exact", exact, "AIR821"), ("near", near, "AIR822")):
            if not pairs:
                continue
            if scope == "train":
                rule = "AIR823"
            count = f"at least {len(pairs)}" if len(pairs) >= MAX_PAIRS else str(len(pairs))
            yield ws.finding(
                rule,
                self.name,
                ws.artifact,
                where,
                f"{count} {kind}-duplicate pair(s) {where}",
                {
                    "kind": kind,
                    "pairs": len(pairs),
                    "complete": len(pairs) < MAX_PAIRS,
                    "index_pairs": [list(p) for p in pairs[:PAIRS_SHOWN]],
                    "method": "sha256" if kind == "exact" else ws.near_kind,
                },
            )


class TargetLeakage(DataCheck):
    """Columns that give the label away (see `airlock.data.leakage`)."""

    name = "target_leakage"
    version = "1"
    rules = frozenset({"AIR831", "AIR832", "AIR833"})
    _RULE: ClassVar[dict[str, str]] = {
        "predictive": "AIR831",
        "identifier": "AIR832",
        "post_outcome": "AIR833",
    }

    def run(self, ws: Workspace) -> Iterator[Finding]:
        if ws.train.kind is not Kind.TABLE or ws.train.labels is None:
            raise Skipped("applies to labelled tabular data")
        columns = {k: v for k, v in ws.train.columns.items() if k != ws.text_column}
        leaks = leakage.find_leaks(columns, ws.train.labels)
        ws.section["leakage"] = [
            {"column": x.column, "kind": x.kind, "auc": x.auc, **x.evidence} for x in leaks
        ]
        for leak in leaks:
            message = {
                "predictive": f"column {leak.column} alone predicts the label (AUC {leak.auc})",
                "identifier": f"column {leak.column} is unique per row (an identifier)",
                "post_outcome": f"column {leak.column} is filled only after the outcome",
            }[leak.kind]
            yield ws.finding(
                self._RULE[leak.kind],
                self.name,
                ws.artifact,
                f"column {leak.column}",
                message,
                {"column": leak.column, "auc": leak.auc, **leak.evidence},
            )


class Privacy(DataCheck):
    """Personal data per column, masked, and k-anonymity over named quasi-identifiers."""

    name = "privacy"
    version = "1"
    rules = frozenset({"AIR841", "AIR842", "AIR843", "AIR844", "AIR845"})
    _RULE: ClassVar[dict[str, str]] = {
        "email": "AIR841",
        "phone": "AIR841",
        "ipv4": "AIR841",
        "ipv6": "AIR841",
        "card": "AIR842",
        "iban": "AIR843",
        "ssn": "AIR844",
    }

    def run(self, ws: Workspace) -> Iterator[Finding]:
        if ws.train.kind is not Kind.TABLE:
            raise Skipped("applies to tabular and text data")
        exposures = privacy.screen(ws.train.columns)
        ws.section["privacy"] = [
            {
                "column": e.column,
                "kind": e.kind,
                "count": e.count,
                "rows": e.rows,
                "examples": list(e.examples),
            }
            for e in exposures
        ]
        for e in exposures:
            yield ws.finding(
                self._RULE[e.kind],
                self.name,
                ws.artifact,
                f"column {e.column}",
                f"{e.count} {e.kind} value(s) in {e.rows} row(s) of column {e.column}",
                {
                    "column": e.column,
                    "kind": e.kind,
                    "count": e.count,
                    "rows": e.rows,
                    "examples": list(e.examples),
                },
            )
        if ws.quasi_identifiers:
            result = privacy.k_anonymity(ws.train.columns, ws.quasi_identifiers, ws.k)
            ws.section["k_anonymity"] = vars(result) | {"columns": list(result.columns)}
            if result.rows_below_k:
                yield ws.finding(
                    "AIR845",
                    self.name,
                    ws.artifact,
                    "columns " + ",".join(result.columns),
                    f"{result.rows_below_k} row(s) in {result.groups_below_k} group(s) smaller than "
                    f"k={result.k} (smallest group {result.smallest_group})",
                    ws.section["k_anonymity"],
                )


DATA_CHECKS: tuple[type[DataCheck], ...] = (
    DataPoisoning,
    LabelConsistency,
    Contamination,
    TargetLeakage,
    Privacy,
)
