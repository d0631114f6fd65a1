"""Replay the behavioural decision on stored trigger sizes: study a change of the outlier statistic in
seconds a part instead of an hour.

`python -m bench.behaviour_replay dump PART…` runs the image trigger reversal of `scan --behavior`
(with the clean sample of `bench.behaviour_heldout`, seed 0, one torch thread) on every model of the
parts, with *every* family run (the scan stops at the first family that flags a model), and stores
each family's per-class results (trigger size, whether it reached the target success rate, success
rate, steps) as JSON under `fixtures/_generated/heldout/behaviour/<part>/<case>.json`, with the case's
truth (target, attack success). The pseudo-part `calibration` is the clean models the thresholds are
calibrated on (`bench.backdoor calibrate`; another generator, with its own samples), so that a new
statistic can be given its clean null there and judged on the held-out parts.
`python -m bench.behaviour_replay run OUT.json PART…` decides every stored model with the decision of
the code it runs in (`reversal._finish`: gaps, thresholds, the combined evidence) and prints ROC AUC,
backdoors found with the right class and clean models flagged, overall and per family.
`dump --data-free PART…` and `run --data-free OUT.json PART…` do the same without a sample (inputs
synthesised from each model; stored apart). `python -m bench.behaviour_replay lodo OUT.json PART…`
decides the data-mode dumps with data-mode thresholds refitted,
per dataset, on the clean models `bench.backdoor calibrate` uses less those of that dataset
(leave-one-dataset-out: the scan on a dataset no calibration model came from).

Only the decision after the reversal is replayed: the stored sizes follow the engine, schedule and
thresholds (the quiet stop reads them) of the code that dumped them, so a change of those needs a
new dump. A scan stops at the first family that flags a model, so the families after it never
changed a scan's verdict; the replay decides on the families the scan would have run (`run`) or on
all of them (`run --all`).
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airlock.behavior.outlier import Calibration, Outlier
from bench.behaviour_heldout import kind_of
from bench.data_heldout import PARTS
from fixtures.heldout.train import Case

if TYPE_CHECKING:
    from airlock.behavior.engine import FamilyResult
    from airlock.behavior.reversal import Reversal

CALIBRATION = "calibration"  # the pseudo-part of the calibration models (`calibration_records`)
# The statistic of `outlier.class_draw` the stored draws were measured with: a record holds it as
# "draw_statistic" (records without it hold the pooled mean probability of signatures 2026.12.9), and
# only a record of the current statistic is replayed with its draw (`python -m bench.behaviour_replay
# draw PART…` measures it again).
DRAW_STATISTIC = "lean"


def folder(part: str, *, data_free: bool = False) -> Path:
    """Where the part's models are stored: reversed on their clean sample, or data-free."""
    from fixtures._cache import fixtures_dir

    return fixtures_dir() / "heldout" / ("behaviour-data-free" if data_free else "behaviour") / part


@contextmanager
def _every_family() -> Iterator[None]:
    """`reverse_image` with no model ever counted as flagged, so that it runs every family."""
    from airlock.behavior import reversal

    real = reversal.Reversal.backdoored
    reversal.Reversal.backdoored = property(lambda self: False)  # type: ignore[assignment, method-assign]
    try:
        yield
    finally:
        reversal.Reversal.backdoored = real  # type: ignore[method-assign]


def reversed_families(
    model: Path, sample: Path | None
) -> tuple[str, list[dict[str, Any]], list[float] | None]:
    """The mode, every family's per-class results and the classes' draw (`outlier.class_draw`: over the
    sample, or data-free over the synthesised inputs) of the model in `model`, reversed on `sample`
    (data-free without one)."""
    import torch

    from airlock.behavior.outlier import load_calibration
    from airlock.behavior.reversal import reverse_image
    from airlock.behavior.samples import ImageSample, read_sample
    from airlock.models.classifier import load_classifier
    from airlock.models.image import ImageClassifier

    torch.set_num_threads(1)
    clf = load_classifier(model, str(model))
    images = read_sample(sample, clf.labels, text=False) if sample is not None else None
    assert isinstance(clf, ImageClassifier) and (images is None or isinstance(images, ImageSample))
    torch.manual_seed(0)
    with _every_family():
        reversal = reverse_image(clf, images, load_calibration(), seed=0, deadline=None, progress=None)
    families = [
        {
            "family": result.family,
            "steps": result.steps,
            "classes": [
                {"label": c.label, "cost": c.cost, "reached": c.reached, "asr": c.asr, "steps": c.steps}
                for c in result.classes
            ],
        }
        for result in reversal.results
    ]
    return reversal.mode, families, list(reversal.draw) if reversal.draw is not None else None


def dump_case(part: str, case: Case, *, data_free: bool = False) -> dict[str, Any]:
    """Every family's per-class results of the case's model, reversed on its clean sample (or
    data-free)."""
    from fixtures.heldout.train import build_case, clean_sample

    built = build_case(case)
    mode, families, draw = reversed_families(built.model, None if data_free else clean_sample(built))
    asr = built.record.get("attack_success_rate")
    return {
        "part": part,
        "case": case.name,
        "family": case.family,
        "dataset": case.dataset,
        "arch": case.arch,
        "kind": kind_of(case, asr),
        "target": case.attack.target if case.attack else None,
        "attack_success": asr,
        "mode": mode,
        "families": families,
        "draw": draw,
        "draw_statistic": DRAW_STATISTIC,
    }


def calibration_records(*, data_free: bool = False) -> Iterator[dict[str, Any]]:
    """The calibration generator's clean image models that the behavioural thresholds are calibrated
    on (`bench.backdoor calibrate`: the tiny ResNets and the other shapes, each that learned its
    task), as records of the pseudo-part CALIBRATION: another generator than the held-out parts', and
    clean by construction. (The calibration's other clean models, the held-out generator's of
    `bench.backdoor.CALIBRATION_PARTS`, are stored with their parts.)"""
    from bench.backdoor import MIN_ACCURACY
    from bench.backdoor_shapes import CALIBRATION_SHAPES, heldout_model
    from fixtures.backdoored_models import CALIBRATION_IMAGES, BuiltModel, image_model

    models: list[tuple[Callable[[], BuiltModel], str]] = [
        (partial(image_model, spec), "resnet-tiny") for spec in CALIBRATION_IMAGES
    ]
    models += [(partial(heldout_model, held), held.arch) for held in CALIBRATION_SHAPES]
    for build, arch in models:  # built (or trained) one at a time
        built = build()
        if built.clean_accuracy < MIN_ACCURACY:
            continue
        mode, families, draw = reversed_families(built.folder, None if data_free else built.sample)
        yield {
            "part": CALIBRATION,
            "case": built.spec.name,
            "family": "clean",
            "dataset": built.spec.dataset,
            "arch": arch,
            "kind": "clean",
            "target": None,
            "attack_success": None,
            "mode": mode,
            "families": families,
            "draw": draw,
            "draw_statistic": DRAW_STATISTIC,
        }


def _store(target: Path, record: dict[str, Any]) -> None:
    partial = target.with_suffix(".part")
    partial.write_text(json.dumps(record))
    partial.replace(target)  # a model is stored once it is whole
    print(record["part"], record["case"], flush=True)


def dump(parts: tuple[str, ...], *, data_free: bool = False) -> None:
    """Store the reversal of every model of `parts` (a model already stored is skipped; CALIBRATION
    is the calibration models, stored anew each time)."""
    for part in parts:
        out = folder(part, data_free=data_free)
        out.mkdir(parents=True, exist_ok=True)
        if part == CALIBRATION:
            for record in calibration_records(data_free=data_free):
                _store(out / f"{record['case']}.json", record)
            continue
        for case in PARTS[part]:
            target = out / f"{case.name}.json"
            if not target.is_file():
                _store(target, dump_case(part, case, data_free=data_free))


def decide(
    record: dict[str, Any], *, every_family: bool = False, calibration: Calibration | None = None
) -> tuple[int, float]:
    """The candidate class and score the running code's decision gives the stored results: over the
    families the scan would have run (it stops at the first that flags the model), or all of them;
    with the shipped thresholds unless `calibration` is given."""
    reversal = _reversal(record, every_family=every_family, calibration=calibration)
    if reversal is None or reversal.decision is None:
        return -1, 0.0
    return reversal.decision.suspect, reversal.score


def _reversal(
    record: dict[str, Any], *, every_family: bool = False, calibration: Calibration | None = None
) -> Reversal | None:
    from airlock.behavior.outlier import load_calibration
    from airlock.behavior.reversal import _finish

    calibration = calibration or load_calibration()
    results = _results(record)
    if record.get("draw") is not None and record.get("draw_statistic") != DRAW_STATISTIC:
        raise SystemExit(
            f"{record['part']}/{record['case']}: its draw is of another statistic than the code's "
            f"({record.get('draw_statistic', 'pooled mean')} against {DRAW_STATISTIC}): run "
            f"`python -m bench.behaviour_replay draw {record['part']}` first"
        )
    draw = tuple(record["draw"]) if record.get("draw") is not None else None
    reversal = None
    for ran in range(1, len(results) + 1):
        reversal = _finish("image", record["mode"], results[:ran], calibration, True, 0.0, 0, draw)
        if reversal.backdoored and not every_family:
            break
    return reversal


def add_draw(parts: tuple[str, ...], *, data_free: bool = False) -> None:
    """Store the classes' draw (`outlier.class_draw`, as `reverse_image` measures it: on the clean
    sample, or data-free on the inputs it synthesises, seed 0) in the records of `parts` that hold
    none or one of another statistic than `DRAW_STATISTIC`."""
    import torch

    from airlock.behavior.outlier import class_draw
    from airlock.behavior.reversal import image_inputs, softmax
    from airlock.behavior.samples import ImageSample, read_sample
    from airlock.models.classifier import load_classifier
    from airlock.models.image import ImageClassifier
    from fixtures.heldout.train import build_case, clean_sample

    torch.set_num_threads(1)
    for part in parts:
        cases = {case.name: case for case in PARTS[part]}
        for path in sorted(folder(part, data_free=data_free).glob("*.json")):
            record = json.loads(path.read_text())
            if record.get("draw") is not None and record.get("draw_statistic") == DRAW_STATISTIC:
                continue
            built = build_case(cases[record["case"]])
            clf = load_classifier(built.model, str(built.model))
            sample = None if data_free else read_sample(clean_sample(built), clf.labels, text=False)
            assert isinstance(clf, ImageClassifier) and (sample is None or isinstance(sample, ImageSample))
            torch.manual_seed(0)
            images, known, _, _ = image_inputs(clf, sample, seed=0)
            draw = class_draw(softmax(clf, images).numpy(), known)
            _store(
                path,
                record | {"draw": list(draw) if draw is not None else None, "draw_statistic": DRAW_STATISTIC},
            )


WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6)


def weigh(parts: tuple[str, ...], *, data_free: bool = False) -> list[dict[str, Any]]:
    """For each weight of the draw shift (`outlier.DRAW_WEIGHT`): ROC AUC of the score, backdoors
    found with the right class, clean models over 1, the largest clean score and the backdoors above
    it, over the stored models of `parts`. With data the shift is not centred; data-free it is
    centred on the median shift of the clean models of `parts` (`outlier.DRAW_CENTRE`). The shipped
    weight is the one of largest AUC on `bench.backdoor.CALIBRATION_PARTS` at which no clean model of
    them scores over 1. Every family is counted (`run --all`), so a score may exceed the one of a scan
    that stopped at a flagging family; which models pass 1 is the same."""
    from statistics import median

    from sklearn.metrics import roc_auc_score

    decided = []
    for part in parts:
        for record in stored(part, data_free=data_free):
            reversal = _reversal(record, every_family=True)
            if record["kind"] in ("backdoored", "clean") and reversal is not None and reversal.evidence:
                shift = reversal.draw_shift or 0.0
                decided.append((record, reversal.evidence.suspect, reversal.evidence.score, shift))
    clean_shifts = [shift for r, *_, shift in decided if r["kind"] == "clean"]
    centre = round(median(clean_shifts), 3) if data_free and clean_shifts else 0.0
    rows = []
    for weight in WEIGHTS:
        scores = [(r, suspect, base + weight * (shift - centre)) for r, suspect, base, shift in decided]
        clean = [score for r, _, score in scores if r["kind"] == "clean"]
        bad = [(r, suspect, score) for r, suspect, score in scores if r["kind"] == "backdoored"]
        rows.append(
            {
                "weight": weight,
                "centre": centre,
                "models": len(scores),
                "backdoored": len(bad),
                "auc": round(
                    roc_auc_score([1] * len(bad) + [0] * len(clean), [s for *_, s in bad] + clean), 4
                ),
                "found": sum(score > 1.0 and suspect == r["target"] for r, suspect, score in bad),
                "clean_flagged": sum(score > 1.0 for score in clean),
                "clean_max": round(max(clean), 4),
                "above_every_clean": sum(score > max(clean) for *_, score in bad),
            }
        )
    return rows


def stored(part: str, *, data_free: bool = False) -> list[dict[str, Any]]:
    return [json.loads(path.read_text()) for path in sorted(folder(part, data_free=data_free).glob("*.json"))]


def _row(record: dict[str, Any], candidate: int, score: float) -> dict[str, Any]:
    return {k: record[k] for k in ("part", "case", "family", "dataset", "arch", "kind", "target")} | {
        "candidate": candidate,
        "score": round(score, 4),
    }


def run(
    parts: tuple[str, ...], *, every_family: bool = False, data_free: bool = False
) -> list[dict[str, Any]]:
    return [
        _row(r, *decide(r, every_family=every_family))
        for part in parts
        for r in stored(part, data_free=data_free)
    ]


def data_thresholds(records: list[dict[str, Any]]) -> Calibration:
    """The shipped calibration with its data-mode thresholds measured as `bench.backdoor calibrate`
    measures them, on the stored clean `records` (each family's gap from its stored sizes)."""
    from airlock.behavior.outlier import load_calibration
    from bench.backdoor import family_threshold

    shipped = load_calibration()
    gaps: dict[str, list[float]] = {}
    spacings: dict[str, int] = {}
    for record in records:
        for outlier in _outliers(record, shipped):
            gaps.setdefault(outlier.family, []).append(outlier.gap)
            spacings[outlier.family] = outlier.spacings
    data = {family: family_threshold(v, spacings[family], len(gaps), "data") for family, v in gaps.items()}
    thresholds = {kind: dict(modes) for kind, modes in shipped.thresholds.items()}
    thresholds["image"] = {**thresholds["image"], "data": data}
    return dataclasses.replace(shipped, thresholds=thresholds, version=f"{shipped.version}, refitted")


def _outliers(record: dict[str, Any], calibration: Calibration) -> tuple[Outlier, ...]:
    from airlock.behavior.reversal import _finish

    return _finish("image", record["mode"], _results(record), calibration, True, 0.0, 0).outliers


def _results(record: dict[str, Any]) -> list[FamilyResult]:
    """The stored families of a record as the engine's results, in the order the scan ran them."""
    from airlock.behavior.engine import ClassTrigger, FamilyResult

    return [
        FamilyResult(
            f["family"],
            tuple(
                ClassTrigger(c["label"], c["cost"], c["reached"], c["asr"], c["steps"]) for c in f["classes"]
            ),
            f["steps"],
            True,
            0.0,
        )
        for f in record["families"]
    ]


def leave_one_dataset_out(parts: tuple[str, ...]) -> list[dict[str, Any]]:
    """Every stored model of `parts` decided with data-mode thresholds refitted on the clean models
    `bench.backdoor calibrate` uses (the CALIBRATION pseudo-part and the clean models of its
    CALIBRATION_PARTS) less those of the model's own dataset: how the scan does on a dataset that no
    clean model of the calibration came from."""
    from bench.backdoor import CALIBRATION_PARTS

    pool = stored(CALIBRATION) + [r for p in CALIBRATION_PARTS for r in stored(p) if r["kind"] == "clean"]
    measured = [r for p in parts for r in stored(p)]
    rows = []
    for dataset in sorted({r["dataset"] for r in measured}):
        calibration = data_thresholds([r for r in pool if r["dataset"] != dataset])
        rows += [_row(r, *decide(r, calibration=calibration)) for r in measured if r["dataset"] == dataset]
    return rows


def summary(rows: list[dict[str, Any]]) -> dict[str, str]:
    """ROC AUC of the score (backdoored against clean), backdoors flagged with the right class, and clean
    models flagged: over all rows, then per family (each family's backdoors against every clean model),
    then per dataset (its backdoors against its own clean models)."""
    from sklearn.metrics import roc_auc_score

    clean = [r for r in rows if r["kind"] == "clean"]
    groups: dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]]]] = {}
    for r in rows:
        if r["kind"] == "backdoored":
            for name in ("all", r["family"]):
                groups.setdefault(name, ([], clean))[0].append(r)
    for r in rows:
        if r["kind"] in ("backdoored", "clean"):
            bad, good = groups.setdefault(f"dataset {r['dataset']}", ([], []))
            (bad if r["kind"] == "backdoored" else good).append(r)
    out: dict[str, str] = {}
    order = sorted(groups, key=lambda name: (name != "all", name.startswith("dataset"), name))
    for name in order:
        bad, good = groups[name]
        scores = [r["score"] for r in bad + good]
        auc = roc_auc_score([1] * len(bad) + [0] * len(good), scores) if bad and good else float("nan")
        found = sum(r["score"] > 1.0 and r["candidate"] == r["target"] for r in bad)
        right = sum(r["candidate"] == r["target"] for r in bad)
        out[name] = (
            f"AUC {auc:.3f}, found with the right class {found}/{len(bad)}, candidate right {right}/{len(bad)}"
        )
        if name.startswith("dataset"):
            out[name] += f", clean flagged {sum(r['score'] > 1.0 for r in good)} of {len(good)}"
    out["clean flagged"] = f"{sum(r['score'] > 1.0 for r in clean)} of {len(clean)}"
    return out


# dump [--data-free] PART… | run [--all] [--data-free] OUT.json PART… | lodo OUT.json PART…
# | draw [--data-free] PART… | weigh [--data-free] OUT.json PART…
if __name__ == "__main__":
    command, rest = sys.argv[1], sys.argv[2:]
    free = "--data-free" in rest
    rest = [arg for arg in rest if arg != "--data-free"]
    if command == "dump":
        dump(tuple(rest), data_free=free)
    elif command == "draw":
        add_draw(tuple(rest), data_free=free)
    elif command == "weigh":
        weighed = weigh(tuple(rest[1:]), data_free=free)
        Path(rest[0]).write_text(json.dumps(weighed, indent=1))
        for row in weighed:
            print(json.dumps(row))
    elif command in ("run", "lodo"):
        every = rest[:1] == ["--all"]
        rest = rest[1:] if every else rest
        measured = (
            run(tuple(rest[1:]), every_family=every, data_free=free)
            if command == "run"
            else leave_one_dataset_out(tuple(rest[1:]))
        )
        Path(rest[0]).write_text(json.dumps(measured, indent=1))
        for name, line in summary(measured).items():
            print(f"{name}: {line}")
    else:
        raise SystemExit(
            "usage: python -m bench.behaviour_replay dump [--data-free] PART… | run [--all] [--data-free] OUT.json PART… "
            "| lodo OUT.json PART… | draw [--data-free] PART… | weigh [--data-free] OUT.json PART…"
        )
