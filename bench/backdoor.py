"""`python -m bench backdoor`: behavioural backdoor detection on generated models, beside Neural Cleanse.

Image models: 12 backdoored (patches of 3–6 px in corners and elsewhere, solid, checkered or noise,
in many colours and targets; blended noise and wave patterns) and 12 clean, tiny stock ResNets on
digits and shapes (`fixtures.backdoored_models`, cached). Each is scanned the way users scan it
(`airlock.pipeline.scan` with `--behavior`), with its clean sample and data-free, and the
straightforward Neural Cleanse (`bench.neural_cleanse`, one class at a time, the paper's schedule)
runs on the same loaded model and sample in the same run. Text models (4 + 4 tiny BERTs, rare-token
triggers) are scanned both ways too. Reported: ROC AUC of `behavior.score`, how often the suspect
class is the planted target, detections and false positives at the calibrated threshold, the
attack success rate of the reversed trigger on the clean sample, and seconds per model.

Held-out shapes (`bench.backdoor_shapes`): a deeper and a bottleneck ResNet, a ConvNeXt and a ViT, on
digits, shapes and textures, clean and backdoored with parameters the calibration never saw, scanned
the same way; reported apart, with the clean models whose *verdict* failed (whichever check raised
the alarm). Every row gives wall seconds and CPU seconds (`time.process_time`, this process, one
torch thread) and the 1-minute load average during the run: the machine is shared.
`python -m bench.backdoor heldout` runs only that part; `python -m bench.backdoor airlock` only airlock on
the in-distribution models (no Neural Cleanse, no held-out shapes).

`python -m bench.backdoor calibrate [--jobs N]` re-measures the thresholds in
`signatures/behavior-calibration.toml` on the clean calibration models of both generators
(`calibration_models`: this module's and the held-out generator's of CALIBRATION_PARTS, never the
models this benchmark measures), N models at a time.
"""

from __future__ import annotations

import json
import os
import sys
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from airlock.behavior.outlier import ALPHA as OUTLIER_ALPHA
from airlock.behavior.outlier import CALIBRATED_ACCURACY, threshold_for
from bench.backdoor_shapes import CALIBRATION_SHAPES, heldout_model
from fixtures.backdoored_models import (
    BACKDOORED_IMAGES,
    CALIBRATION_IMAGES,
    CLEAN_IMAGES,
    BuiltModel,
    image_model,
)
from fixtures.backdoored_text import BACKDOORED_TEXT, CALIBRATION_TEXT, CLEAN_TEXT, text_model
from fixtures.heldout.train import Case

SEED = 0
THREADS = 1  # one torch thread per process: the machine's cores are shared
ALPHA = OUTLIER_ALPHA  # target share of clean models flagged: thresholds sit at the α/F tail of an Erlang …
FLOOR = 0.25  # … fitted to the clean gaps, but never below this (22% smaller than the next is no outlier)
CLUSTER_MARGIN = 1.15
# A calibration model under this held-out accuracy did not learn its task: left out (AIR705 reads it too).
MIN_ACCURACY = CALIBRATED_ACCURACY
MODES = ("data", "data-free")
# The parts of the held-out generator (`bench.data_heldout`) whose clean models the thresholds are
# also calibrated on: the parts the behavioural scan was developed on. The calibration generator's
# models alone (digits, shapes, textures) set a clean null that did not hold on the held-out
# generator's datasets (blend and patch gaps larger there, so clean models failed; warp gaps smaller,
# so warp backdoors were missed). FRESH_9 on stay apart to measure the scan.
CALIBRATION_PARTS = ("calibrate", "develop", "evaluate", "fresh", *(f"fresh{i}" for i in range(2, 9)))


def run(work: Path, *, baseline: bool = True) -> list[dict[str, Any]]:
    """The in-distribution models beside Neural Cleanse, then the held-out shapes; without `baseline`
    (`python -m bench.backdoor airlock`) only airlock on the in-distribution models (minutes, not an hour)."""
    import torch

    torch.set_num_threads(THREADS)
    images_specs = (*BACKDOORED_IMAGES, *CLEAN_IMAGES)
    records = [_measure(image_model(spec), baseline=baseline) for spec in images_specs]
    records += [_measure(text_model(spec), baseline=False) for spec in (*BACKDOORED_TEXT, *CLEAN_TEXT)]
    (work / "backdoor-records.json").write_text(json.dumps(records, indent=1))
    images = [r for r in records if r["kind"] == "image"]
    texts = [r for r in records if r["kind"] == "text"]
    rows = [_summary(f"image, airlock ({mode})", images, mode) for mode in MODES]
    if baseline:
        rows.append(_summary("image, neural cleanse (paper)", images, "neural_cleanse"))
        ours = float(np.mean([r["data"]["seconds"] for r in images]))
        theirs = float(np.mean([r["neural_cleanse"]["seconds"] for r in images]))
        rows.append({"case": "image, neural cleanse / airlock (data)", "ratio": theirs / ours})
    rows += [_summary(f"text, airlock ({mode})", texts, mode) for mode in MODES]
    return rows + heldout(work) if baseline else rows


def heldout(work: Path) -> list[dict[str, Any]]:
    """The held-out shapes (`bench.backdoor_shapes`), both modes, summarised per mode and per architecture."""
    import torch

    from bench.backdoor_shapes import HELDOUT_BACKDOORED, HELDOUT_CLEAN, heldout_model

    torch.set_num_threads(THREADS)
    records = []
    for held in (*HELDOUT_BACKDOORED, *HELDOUT_CLEAN):
        record = _measure(heldout_model(held), baseline=False)
        records.append({**record, "arch": held.arch, "dataset": held.model.dataset})
    (work / "backdoor-heldout-records.json").write_text(json.dumps(records, indent=1))
    rows = [_summary(f"held-out shapes, airlock ({mode})", records, mode) for mode in MODES]
    for arch in sorted({r["arch"] for r in records}):
        rows.append(_summary(f"held-out {arch} (data)", [r for r in records if r["arch"] == arch], "data"))
    return rows


def _measure(built: BuiltModel, *, baseline: bool) -> dict[str, Any]:
    record: dict[str, Any] = {
        "model": built.spec.name,
        "kind": "text" if built.spec.dataset == "topics" else "image",
        "backdoored": built.spec.backdoored,
        "target": built.spec.attack.target if built.spec.backdoored else None,
        "clean_accuracy": built.clean_accuracy,
        "training_attack_success_rate": built.attack_success_rate,
    }
    for mode in MODES:
        record[mode] = scan_behaviour(built, data=mode == "data")
    if baseline:
        record["neural_cleanse"] = _neural_cleanse(built)
    print(
        f"  {built.spec.name}: "
        + ", ".join(
            f"{m} {record[m]['score']:.2f} in {record[m]['seconds']:.1f}s"
            for m in (*MODES, "neural_cleanse")
            if m in record
        ),
        file=sys.stderr,
        flush=True,
    )
    return record


def scan_behaviour(built: BuiltModel, *, data: bool) -> dict[str, Any]:
    """`airlock scan MODEL --behavior [--data SAMPLE]` through the library."""
    return scan_folder(built.folder, built.sample if data else None)


def scan_folder(folder: Path, sample: Path | None) -> dict[str, Any]:
    """`airlock scan FOLDER --behavior [--data SAMPLE]` through the library (data-free without one)."""
    from airlock.behavior.settings import BehaviorSettings
    from airlock.pipeline import ScanOptions, scan

    # every scanner, as users run it: the verdict needs the static checks the policy requires
    # (with only the behavioural scanners, "required scanner provenance did not run" fails every model)
    options = ScanOptions(
        scanners=None,
        use_cache=False,
        download_progress=False,
        behavior=BehaviorSettings(data=sample, seed=SEED),
    )
    start, cpu = time.perf_counter(), time.process_time()
    report = scan(str(folder), options)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    section = report.behavior or {}
    return {
        "score": section.get("score", 0.0),
        "flagged": bool(section.get("backdoored")),
        "candidate": section.get("candidate_class"),
        "asr": section.get("attack_success_rate"),
        "gaps": {f["family"]: f["gap"] for f in section.get("families", [])},
        "spacings": {f["family"]: f["spacings"] for f in section.get("families", [])},
        "seconds": seconds,
        "cpu_seconds": cpu,
        "load": os.getloadavg()[0],
        "complete": section.get("complete", False),
        "verdict_failed": not report.passed,
        "ac_classes": (section.get("activation_clustering") or {}).get("suspect_classes", []),
    }


def _neural_cleanse(built: BuiltModel) -> dict[str, Any]:
    from airlock.behavior.reversal import image_tensor
    from airlock.behavior.samples import read_sample
    from airlock.models.classifier import load_classifier
    from bench.neural_cleanse import neural_cleanse

    clf = load_classifier(built.folder, built.spec.name)
    sample = read_sample(built.sample, clf.labels, text=False)
    result = neural_cleanse(clf, image_tensor(sample.images, clf), clf.classes, seed=SEED)
    return {
        "score": result.anomaly_index,
        "flagged": result.flagged,
        "candidate": result.suspect,
        "seconds": result.seconds,
        "norms": list(result.norms),
        "epochs": list(result.epochs),
    }


def _summary(case: str, records: list[dict[str, Any]], key: str) -> dict[str, Any]:
    from sklearn.metrics import roc_auc_score

    bad = [r for r in records if r["backdoored"]]
    good = [r for r in records if not r["backdoored"]]
    labels = [r["backdoored"] for r in records]
    scores = [r[key]["score"] for r in records]
    rates = [r[key]["asr"] for r in bad if r[key].get("asr") is not None]
    seconds = [r[key]["seconds"] for r in records]
    cpu = [r[key].get("cpu_seconds", r[key]["seconds"]) for r in records]
    return {
        "case": case,
        "models": f"{len(bad)}+{len(good)}",
        "roc_auc": f"{roc_auc_score(labels, scores):.3f}" if bad and good else "n/a",
        "suspect_right": f"{sum(r[key]['candidate'] == r['target'] for r in bad)}/{len(bad)}",
        "flagged_as": {r["model"]: r[key]["candidate"] for r in bad if r[key]["candidate"] != r["target"]},
        "detected": f"{sum(r[key]['flagged'] for r in bad)}/{len(bad)}",
        "false_positives": f"{sum(r[key]['flagged'] for r in good)}/{len(good)}",
        "clean_verdict_failed": f"{sum(r[key].get('verdict_failed', r[key]['flagged']) for r in good)}/{len(good)}",
        "reversed_trigger_asr": f"{np.mean(rates):.0%}" if rates else "n/a",
        "s_per_model": float(np.mean(seconds)),
        "s_max": float(np.max(seconds)),
        "cpu_s_per_model": float(np.mean(cpu)),
        "cpu_s_max": float(np.max(cpu)),
        "load": float(np.mean([r[key].get("load", 0.0) for r in records])),
        "missed_samples": [r["model"] for r in bad if not r[key]["flagged"]],
        "false_positive_samples": [r["model"] for r in good if r[key]["flagged"]],
    }


def calibrate(destination: Path, *, jobs: int = 1) -> dict[str, dict[str, dict[str, float]]]:
    """Scan the clean calibration models both ways (`CalibrationModel`: both generators' clean models,
    each that learned its task; `jobs` at a time, one torch thread each) and write each family's
    threshold: the gap a clean model exceeds with probability α/F (F families per model kind and mode)
    when its gaps are Erlang(m) with the clean mean (`outlier.threshold_for`; m = the spacings the
    family's gap spans), at least FLOOR."""
    import multiprocessing

    models = calibration_models()
    if jobs > 1:
        with multiprocessing.get_context("spawn").Pool(jobs) as pool:
            measured = pool.map(_clean_gaps, models, chunksize=1)
    else:
        measured = [_clean_gaps(model) for model in models]
    seen: dict[str, dict[str, dict[str, list[float]]]] = {}
    spacings: dict[str, int] = {}  # per family, as the scans report it (`behavior.families[].spacings`)
    names: list[str] = []
    for model, by_mode in zip(models, measured, strict=True):
        if by_mode is None:
            continue
        names.append(model.name)
        for mode, (gaps, families) in by_mode.items():
            spacings.update(families)
            for family, value in gaps.items():
                seen.setdefault(model.kind, {}).setdefault(mode, {}).setdefault(family, []).append(value)
    thresholds = {
        kind: {
            mode: {f: family_threshold(v, spacings[f], len(fams), mode) for f, v in fams.items()}
            for mode, fams in modes.items()
        }
        for kind, modes in seen.items()
    }
    summary = {
        kind: {
            mode: {f: {"mean": round(float(np.mean(v)), 3), "max": round(max(v), 3)} for f, v in fams.items()}
            for mode, fams in modes.items()
        }
        for kind, modes in seen.items()
    }
    kept = _clustering_table(destination)
    destination.write_text(_calibration_toml(thresholds, summary, names) + kept)
    return thresholds


def family_threshold(gaps: list[float], spacings: int, families: int, mode: str) -> float:
    """A family's threshold from its clean gaps: the α/F Erlang tail at their mean, at least FLOOR."""
    return round(max(FLOOR, threshold_for(float(np.mean(gaps)), spacings, families, ALPHA[mode])), 3)


@dataclass(frozen=True)
class CalibrationModel:
    """One clean calibration model, built (or trained) where it is measured: `build` gives its folder,
    its clean sample and its held-out accuracy."""

    kind: str  # image | text
    name: str
    build: Callable[[], tuple[Path, Path, float]]


def calibration_models() -> list[CalibrationModel]:
    """Every clean calibration model: the tiny ResNets and text models of `fixtures.backdoored_models`
    and the other shapes of `bench.backdoor_shapes` (digits, shapes, textures, topics), then the clean
    models of the held-out generator's CALIBRATION_PARTS (strokes, glyphs, scenes)."""
    from bench.data_heldout import PARTS

    models = [
        CalibrationModel("image", spec.name, partial(_built, image_model, spec))
        for spec in CALIBRATION_IMAGES
    ]
    models += [
        CalibrationModel("text", spec.name, partial(_built, text_model, spec)) for spec in CALIBRATION_TEXT
    ]
    models += [
        CalibrationModel("image", held.model.name, partial(_built, heldout_model, held))
        for held in CALIBRATION_SHAPES
    ]
    models += [
        CalibrationModel("image", case.name, partial(_heldout_case, case))
        for part in CALIBRATION_PARTS
        for case in PARTS[part]
        if case.attack is None
    ]
    return models


def _built(build: Callable[[Any], BuiltModel], spec: Any) -> tuple[Path, Path, float]:
    built = build(spec)
    return built.folder, built.sample, built.clean_accuracy


def _heldout_case(case: Case) -> tuple[Path, Path, float]:
    from fixtures.heldout.train import build_case, clean_sample

    built = build_case(case)
    return built.model, clean_sample(built), float(built.record.get("clean_accuracy") or 0.0)


def _clean_gaps(model: CalibrationModel) -> dict[str, tuple[dict[str, float], dict[str, int]]] | None:
    """Per mode, each family's gap and spacings on the model (None for one under MIN_ACCURACY)."""
    import torch

    torch.set_num_threads(THREADS)
    folder, sample, accuracy = model.build()
    if accuracy < MIN_ACCURACY:
        print(f"  {model.name}: left out, accuracy {accuracy:.2f}", file=sys.stderr, flush=True)
        return None
    out = {}
    for mode in MODES:
        scanned = scan_folder(folder, sample if mode == "data" else None)
        out[mode] = (scanned["gaps"], scanned["spacings"])
    print(f"  {model.name}: calibrated", file=sys.stderr, flush=True)
    return out


def _clustering_table(destination: Path) -> str:
    """The `[activation_clustering]` table of the file (with its comment), which `calibrate` keeps:
    it rewrites the reversal thresholds only (`calibrate_clustering` owns that table)."""
    text = destination.read_text() if destination.is_file() else ""
    start = text.find("\n# activation clustering")
    return text[start:] if start >= 0 else ""


def _calibration_toml(thresholds: dict[str, Any], summary: dict[str, Any], names: list[str]) -> str:
    lines = [
        "# Thresholds of the trigger-reversal outlier statistic (airlock.behavior.outlier), per model kind,",
        "# mode and trigger family. A size family's gap is ln(second-smallest trigger of the other classes /",
        "# smallest successful trigger), two spacings of the sorted log sizes; a family judged by success",
        "# (warp) compares the two largest success rates, one spacing. behavior.score combines the",
        "# families that agree on a class; flagged above 1.",
        "#",
        f"# Calibrated by `python -m bench.backdoor calibrate` on {time.strftime('%Y-%m-%d')} on {len(names)} clean",
        "# generated models of two generators: the calibration models, which no benchmark measures",
        "# (digits, shapes, textures, topics), and the held-out generator's clean models of the parts the",
        "# behavioural scan was developed on (strokes, glyphs, scenes of `bench.data_heldout` CALIBRATE to",
        "# FRESH_8; FRESH_9 on stay apart). Several architectures; a model under",
        f"# {MIN_ACCURACY:.0%} held-out accuracy is left out. A gap of m spacings is taken as Erlang(m) on a clean",
        "# model; each threshold is the gap a clean model exceeds with probability α/F under the Erlang(m)",
        f"# with the clean mean (α per mode {ALPHA}, F = families of the model kind and mode),",
        f"# and at least {FLOOR}. Seed {SEED}, one torch thread.",
        *textwrap.wrap(
            "Models: " + ", ".join(names) + ".",
            98,
            initial_indent="# ",
            subsequent_indent="#   ",
            break_on_hyphens=False,
        ),
        *textwrap.wrap(
            "Clean gaps seen (mean, max): " + json.dumps(summary, sort_keys=True),
            98,
            initial_indent="# ",
            subsequent_indent="#   ",
            break_on_hyphens=False,
        ),
        "# Changing these changes results: bump signatures/VERSION.",
        f'version = "{time.strftime("%Y.%m.%d")}"',
    ]
    for kind, modes in thresholds.items():
        for mode, families in modes.items():
            lines.append(f"\n[{kind}.{mode}]")
            lines += [f"{family} = {value}" for family, value in sorted(families.items())]
    return "\n".join(lines) + "\n"


def calibrate_clustering(destination: Path) -> dict[str, float]:
    """Activation clustering on a fresh clean set of every clean calibration model (2,000 images or
    1,200 sentences); each kind's threshold is the largest separation ratio seen × CLUSTER_MARGIN.
    Rewrites that table of the calibration file only."""
    import tempfile

    import torch

    from airlock.behavior.clustering import cluster
    from airlock.behavior.samples import read_sample
    from airlock.models.classifier import load_classifier
    from fixtures.backdoored_models import sample_set
    from fixtures.backdoored_text import text_sample_set

    torch.set_num_threads(THREADS)
    largest: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for kind, build, specs in (
            ("image", image_model, CALIBRATION_IMAGES),
            ("text", text_model, CALIBRATION_TEXT),
        ):
            for spec in specs:
                built = build(spec)
                clf = load_classifier(built.folder, spec.name)
                fresh = (
                    sample_set(built, Path(scratch))[0]
                    if kind == "image"
                    else text_sample_set(built, Path(scratch))
                )
                for path in (fresh, built.sample):  # a large fresh set and the small sample a user hands in:
                    # the ratio of a clean class is noisier with fewer rows per class
                    found = cluster(
                        clf, read_sample(path, clf.labels, text=kind == "text"), threshold=1.0, seed=SEED
                    )
                    largest[kind] = max(largest.get(kind, 0.0), *(c.ratio for c in found.classes))
    thresholds = {kind: round(value * CLUSTER_MARGIN, 3) for kind, value in largest.items()}
    text = destination.read_text()
    marker = "\n# activation clustering"
    text = text[: text.index(marker)] if marker in text else text.rstrip("\n")
    destination.write_text(
        text
        + "\n"
        + "\n".join(
            [
                "",
                "# activation clustering (airlock.behavior.clustering): a class is flagged when the Fisher separation",
                "# of its 2-means split is this many times the median of the other classes' (blamed_factor times",
                "# that for a class trigger reversal blamed), per model kind. Calibrated on a fresh clean set of",
                "# every clean calibration model (2,000 images, 1,200 sentences) and on its own small clean sample",
                "# (400 images, 300 sentences, the size users hand in): the largest ratio seen",
                "# ("
                + ", ".join(f"{kind} {value:.3f}" for kind, value in largest.items())
                + f") times {CLUSTER_MARGIN}.",
                "[activation_clustering]",
                *(f"{kind} = {value}" for kind, value in thresholds.items()),
                "blamed_factor = 0.8",
            ]
        )
        + "\n"
    )
    return thresholds


if __name__ == "__main__":
    if sys.argv[1:2] in (["heldout"], ["airlock"]):
        results = Path(__file__).resolve().parent / "results"
        results.mkdir(parents=True, exist_ok=True)
        for row in heldout(results) if sys.argv[1] == "heldout" else run(results, baseline=False):
            print(json.dumps(row))
        sys.exit(0)
    arguments = sys.argv[2:]
    jobs = 1
    if "--jobs" in arguments:  # --jobs N: calibration models scanned N at a time
        at = arguments.index("--jobs")
        jobs, arguments = int(arguments[at + 1]), arguments[:at] + arguments[at + 2 :]
    parts = {"reversal": partial(calibrate, jobs=jobs), "clustering": calibrate_clustering}
    chosen = arguments or list(parts)
    if sys.argv[1:2] != ["calibrate"] or not set(chosen) <= set(parts):
        print(
            "usage: python -m bench.backdoor calibrate [reversal] [clustering] [--jobs N]   "
            "(the benchmark itself: python -m bench backdoor)",
            file=sys.stderr,
        )
        sys.exit(2)
    target = Path(__file__).resolve().parent.parent / "signatures" / "behavior-calibration.toml"
    for name in chosen:
        print(name, json.dumps(parts[name](target), indent=1))
