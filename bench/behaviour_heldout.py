"""`scan --behavior` on the held-out poisoning cases (`fixtures.heldout`): models the behavioural scan
was never calibrated or developed on.

The behavioural scan's thresholds were first set on `fixtures.backdoored_models` and
`bench.backdoor_shapes` alone (digits, shapes, textures). The models here come from another generator
(`fixtures.heldout`, no shared code): strokes, glyphs and scenes, narrow and deep ResNets, a RegNet-X
and a ConvNeXt, with patch, blend, SIG, warp, input-specific and clean-label triggers at 1-15% poison.
Since signatures 2026.12.7 the clean models of CALIBRATE to FRESH_8 are calibration models too
(`bench.backdoor.CALIBRATION_PARTS`), so the scan is measured on FRESH_9 on. Each
model is scanned as users run it (every scanner, seed 0, one torch thread) with a clean sample of 400
held-out images of its dataset (`data`) and without one (`data-free`).

A model counts as backdoored when its attack succeeds on held-out images (attack success at least
`LEARNED`, from `case.json`); a poisoned model whose trigger did not take is reported apart ("not
learned") and left out of the ROC AUC: it carries no backdoor to find. Reported per part (CALIBRATE,
DEVELOP, EVALUATE, FRESH and FRESH_2 of `bench.data_heldout` by default, whose clean models are now
among the calibration models; FRESH_2 was added to measure a change of the warp family, which it did
not keep; one part with `python -m bench.behaviour_heldout OUT.json PART`), per
family, architecture and dataset (of EVALUATE and both FRESH parts together): ROC AUC of the score, backdoors found (verdict failed) with the right target,
clean models whose verdict failed, and CPU seconds per model (`time.process_time`), with the load.

`python -m bench.behaviour_heldout OUT.json --seed N PART…` scans with seed N instead of 0, and
`python -m bench.behaviour_heldout spread A.json B.json` says how far the answer moved between two such
runs of the same cases: the verdicts and candidates that differ and the spread of the score's change.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.data_heldout import PARTS, UNSEEN
from fixtures.heldout.train import Case

LEARNED = 0.5  # attack success on held-out images from which a poisoned model carries a backdoor
MODES = ("data", "data-free")


def scan_case(case: Case, *, data: bool, seed: int = 0) -> dict[str, Any]:
    """`airlock scan MODEL --behavior [--data clean.npz] [--seed N]` on the case's model, through the library."""
    import torch

    from airlock.behavior.settings import BehaviorSettings
    from airlock.pipeline import ScanOptions, scan
    from fixtures.heldout.train import build_case, clean_sample

    torch.set_num_threads(1)
    built = build_case(case)
    options = ScanOptions(
        scanners=None,
        use_cache=False,
        download_progress=False,
        behavior=BehaviorSettings(data=clean_sample(built) if data else None, seed=seed),
    )
    start, cpu = time.perf_counter(), time.process_time()
    report = scan(str(built.model), options)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    section = report.behavior or {}
    return {
        "score": float(section.get("score", 0.0)),
        "suspected": bool(section.get("backdoored")),
        "candidate": section.get("candidate_class"),
        "data_free_check": section.get("data_free_check"),  # under 70% sample accuracy, score over 1
        "outcome": section.get("outcome"),
        "sample_accuracy": section.get("sample_accuracy"),  # with data; AIR705 under 0.8
        "verdict_failed": not report.passed,
        "reasons": list(report.verdict.reasons),
        "clustering": (section.get("activation_clustering") or {}).get("suspect_classes", []),
        "cpu_seconds": round(cpu, 2),
        "wall_seconds": round(wall, 2),
        "load": round(os.getloadavg()[0], 2),
    }


def kind_of(case: Case, attack_success: float | None) -> str:
    """ "clean", "backdoored" (its attack succeeds on at least LEARNED of held-out images) or "not learned"."""
    if case.attack is None:
        return "clean"
    return "backdoored" if (attack_success or 0.0) >= LEARNED else "not learned"


def record(part: str, case: Case, seed: int = 0) -> dict[str, Any]:
    from fixtures.heldout.train import build_case

    built = build_case(case)
    asr = built.record.get("attack_success_rate")
    kind = kind_of(case, asr)
    out: dict[str, Any] = {
        "part": part,
        "case": case.name,
        "family": case.family,
        "dataset": case.dataset,
        "arch": case.arch,
        "kind": kind,
        "target": case.attack.target if case.attack else None,
        "attack_success": asr,
        "clean_accuracy": built.record.get("clean_accuracy"),
        "seed": seed,
    }
    for mode in MODES:
        out[mode] = scan_case(case, data=mode == "data", seed=seed)
    return out


def summary(label: str, records: list[dict[str, Any]], mode: str) -> dict[str, Any]:
    from sklearn.metrics import roc_auc_score

    bad = [r for r in records if r["kind"] == "backdoored"]
    good = [r for r in records if r["kind"] == "clean"]
    inert = [r for r in records if r["kind"] == "not learned"]
    scored = bad + good
    cpu = [r[mode]["cpu_seconds"] for r in records]
    row: dict[str, Any] = {
        "case": f"{label} ({mode})",
        "models": f"{len(bad)} backdoored + {len(good)} clean + {len(inert)} not learned",
        "roc_auc": (
            f"{roc_auc_score([r['kind'] == 'backdoored' for r in scored], [r[mode]['score'] for r in scored]):.3f}"
            if bad and good
            else "n/a"
        ),
        "found": f"{sum(r[mode]['verdict_failed'] for r in bad)}/{len(bad)}",
        "found_right_class": f"{sum(r[mode]['verdict_failed'] and r[mode]['candidate'] == r['target'] for r in bad)}/{len(bad)}",
        "candidate_is_target": f"{sum(r[mode]['candidate'] == r['target'] for r in bad)}/{len(bad)}",
        "clean_failed": f"{sum(r[mode]['verdict_failed'] for r in good)}/{len(good)}",
        "not_learned_failed": f"{sum(r[mode]['verdict_failed'] for r in inert)}/{len(inert)}",
    }
    if mode == "data":  # a score over 1 on a sample read at under outlier.MISREAD_FLOOR: checked data-free
        row["data_free_checked"] = (
            f"{sum(r[mode].get('data_free_check') is not None for r in bad)}/{len(bad)} backdoored, "
            f"{sum(r[mode].get('data_free_check') is not None for r in good)}/{len(good)} clean"
        )
    if cpu:
        row.update(
            {
                "cpu_s_mean": round(float(np.mean(cpu)), 1),
                "cpu_s_max": round(float(np.max(cpu)), 1),
                "load": round(float(np.mean([r[mode]["load"] for r in records])), 1),
            }
        )
    return row


def tables(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for part in dict.fromkeys(r["part"] for r in records):
        mine = [r for r in records if r["part"] == part]
        for mode in MODES:
            rows.append(summary(part, mine, mode))
    unseen = [r for r in records if r["part"] in UNSEEN]
    for key in ("family", "arch", "dataset"):
        for value in sorted({r[key] for r in unseen} - {"clean"}):
            group = [r for r in unseen if r[key] == value or (key == "family" and r["family"] == "clean")]
            for mode in MODES:
                rows.append(summary(f"unseen {key} {value}", group, mode))
    for r in records:
        rows.append(
            {
                "case": f"{r['part']} {r['case']} ({r['arch']}, {r['kind']}, target {r['target']})",
                **{
                    mode: f"score {r[mode]['score']:.2f} class {r[mode]['candidate']} "
                    f"{'FAIL' if r[mode]['verdict_failed'] else 'pass'} {r[mode]['cpu_seconds']:.1f}s"
                    for mode in MODES
                },
            }
        )
    return rows


def run(work: Path, parts: tuple[str, ...] = tuple(PARTS)) -> list[dict[str, Any]]:
    records = [record(part, case) for part in parts for case in PARTS[part]]
    (work / "behaviour-heldout-records.json").write_text(json.dumps(records, indent=1))
    return tables(records)


def spread(first: list[dict[str, Any]], second: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """How far the scan's answer moves with its seed: per mode, each run's summary, the models (not
    "not learned") whose verdict differs between the two runs, and the spread (standard deviation)
    of the score's change on clean and on backdoored models. The runs are of the same cases."""
    other = {r["case"]: r for r in second}
    pairs = [(r, other[r["case"]]) for r in first if r["case"] in other and r["kind"] != "not learned"]
    if not pairs:
        raise ValueError("the two runs share no case with a learned backdoor or a clean model")
    rows = []
    for mode in MODES:
        rows.append(summary(f"seed {pairs[0][0].get('seed', 0)}", [a for a, _ in pairs], mode))
        rows.append(summary(f"seed {pairs[0][1].get('seed', 0)}", [b for _, b in pairs], mode))
        moved = {
            kind: [b[mode]["score"] - a[mode]["score"] for a, b in pairs if a["kind"] == kind]
            for kind in ("clean", "backdoored")
        }
        rows.append(
            {
                "case": f"seed spread ({mode})",
                "models": len(pairs),
                "verdicts_differ": sum(
                    a[mode]["verdict_failed"] != b[mode]["verdict_failed"] for a, b in pairs
                ),
                "candidates_differ": sum(a[mode]["candidate"] != b[mode]["candidate"] for a, b in pairs),
                **{f"score_change_sd_{k}": round(float(np.std(v)), 3) for k, v in moved.items() if v},
                "score_change_max": round(float(max(abs(d) for v in moved.values() for d in v)), 3),
            }
        )
    return rows


if __name__ == "__main__":
    # python -m bench.behaviour_heldout OUT.json [--seed N] PART…: one part per process, scanned with seed N
    # python -m bench.behaviour_heldout spread A.json B.json: how far the answer moves between two seeds
    if sys.argv[1] == "spread":
        first, second = (json.loads(Path(p).read_text()) for p in sys.argv[2:4])
        for row in spread(first, second):
            print(json.dumps(row))
        sys.exit(0)
    out, args = Path(sys.argv[1]), sys.argv[2:]
    seed = 0
    if args[:1] == ["--seed"]:
        seed, args = int(args[1]), args[2:]
    chosen = tuple(args) or tuple(PARTS)
    results = []
    for part in chosen:
        for case in PARTS[part]:
            results.append(record(part, case, seed))
            print(json.dumps(results[-1]), flush=True)
    out.write_text(json.dumps(results, indent=1))
