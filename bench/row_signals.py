"""How well each per-row signal tells a poisoned class's poison from its clean rows (a ceiling study).

`airlock data --model` first decides which class is poisoned, then which of its rows. This bench
measures the second step in isolation, on the held-out cases of `bench.data_heldout`: the poisoned
class is *given* (an oracle), and each signal ranks that class's rows. Reported per family (learned
and not learned apart) and per dataset:
- the in-class ROC AUC of each signal (its direction fixed in advance, never chosen per case);
- the best F1 any threshold on that signal reaches within the class, with its precision and recall.
  A threshold chosen per case with the answer in hand flatters the signal: this is an upper bound of
  what a row rule on that signal alone could reach, not a result;
- "wrong half": sets where the detector's row score has an in-class AUC under 0.3, i.e. its split of
  the class did separate the poison but oriented towards the clean half.

Signals:
- airlock's own, as `airlock data` computes them: trigger persistence (the label kept under mixing),
  margin (own label over the runner-up), own-label confidence, k-NN label disagreement, and the
  detector's row score (`poisoning.assess(...).scores`, 0 in a class it does not call);
- candidates from the literature that airlock does not use, kept here so the finding can be rerun:
  - `scaling_consistency`: parameter-oriented scaling consistency (IBD-PSC, Hou et al., ICML 2024):
    the normalisation layers' weight and bias of the last n layers times 1.5, the probability the
    amplified model keeps for the originally read class, averaged over five depths from the first at
    which the amplified model reads under 60% of the set as labelled;
  - `stage_disagreement`: k-NN label disagreement in each earlier stage's pooled features (hidden
    states), the largest over the stages: rows whose content looks like another class;
  - `mask_smallness` (`--distil`, minutes per set): minus the L1 size of the input mask that keeps the
    model's logits (cognitive distillation, Huang et al., ICLR 2023; lr 0.1, 100 steps, α 0.01, β 1).

Usage: `python -m bench.row_signals OUT.json PART[,PART…] [--distil]`. One torch thread.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.data_heldout import PARTS, _category, _decide, _prepared
from fixtures.heldout.train import Case

OMEGA = 1.5  # IBD-PSC's amplification
PSC_DEPTHS = 5
PSC_ACCURACY = 0.6
NEIGHBOURS = 10
STAGE_DIMENSIONS = 32
DISTIL_STEPS = 100
WRONG_HALF = 0.3  # the detector's row score ranks the class's clean rows first: its split found the
# poison but took the other half for the suspect
SIGNALS = (
    "persistence",
    "margin",
    "confidence",
    "knn_disagreement",
    "detector_score",
    "scaling_consistency",
    "stage_disagreement",
)


def in_class_auc(values: np.ndarray, poison: np.ndarray) -> float:
    """ROC AUC of `values` (higher = poison) for the boolean `poison` (ties count half)."""
    from scipy.stats import rankdata

    ranks = rankdata(values)
    positives, negatives = int(poison.sum()), int((~poison).sum())
    if not positives or not negatives:
        return float("nan")
    return float((ranks[poison].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def best_f1(values: np.ndarray, poison: np.ndarray) -> tuple[float, float, float]:
    """(F1, precision, recall) at the threshold on `values` (flag at or above) that maximises F1."""
    order = np.argsort(-values, kind="stable")
    hits = np.cumsum(poison[order])
    flagged = np.arange(1, len(values) + 1)
    # only cut between distinct values: rows tied with the cut are flagged together
    distinct = np.r_[values[order][1:] != values[order][:-1], True]
    precision, recall = hits / flagged, hits / max(int(poison.sum()), 1)
    f1 = np.where(hits > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0.0)
    f1 = np.where(distinct, f1, -1.0)
    best = int(np.argmax(f1))
    return float(f1[best]), float(precision[best]), float(recall[best])


def judged(values: np.ndarray, poison: np.ndarray) -> dict[str, float]:
    """A signal's in-class ROC AUC and its best F1 (with that cut's precision and recall)."""
    f1, precision, recall = best_f1(values, poison)
    measured = {"auc": in_class_auc(values, poison), "best_f1": f1, "precision": precision, "recall": recall}
    return {key: round(value, 3) for key, value in measured.items()}


def _batches(x: np.ndarray, size: int = 500) -> Any:
    """N×H×W×C images as N×C×H×W tensors, `size` at a time."""
    import torch

    for start in range(0, len(x), size):
        yield torch.from_numpy(np.ascontiguousarray(x[start : start + size].transpose(0, 3, 1, 2)))


def _probabilities(clf: Any, x: np.ndarray) -> np.ndarray:
    """Softmax probabilities in batches of 500. Not `models.features.image_probabilities` (batches
    of 256): the amplified models saturate, and the float noise of another batch size reorders rows
    tied near 1 (cal-clean-label's AUC moves from 0.64 to 0.71), so the reported numbers would not
    reproduce."""
    import torch

    with torch.inference_mode():
        return np.concatenate([torch.softmax(clf(b).float(), 1).numpy() for b in _batches(x)])


def scaling_consistency(clf: Any, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """IBD-PSC per row (see the module docstring); the model's parameters are restored after."""
    import torch

    layers = [
        m
        for m in clf.module.modules()
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm | torch.nn.LayerNorm | torch.nn.GroupNorm)
        or type(m).__name__.endswith("LayerNorm")
    ]
    layers = [m for m in layers if getattr(m, "weight", None) is not None]
    saved = [(m.weight.detach().clone(), None if m.bias is None else m.bias.detach().clone()) for m in layers]
    read = _probabilities(clf, x).argmax(1)
    kept, accuracy = [], []
    try:
        for depth in range(1, len(layers) + 1):
            for m, (w, b) in zip(layers, saved, strict=True):
                m.weight.data.copy_(w)
                if b is not None:
                    m.bias.data.copy_(b)
            for m in layers[len(layers) - depth :]:
                m.weight.data.mul_(OMEGA)
                if m.bias is not None:
                    m.bias.data.mul_(OMEGA)
            p = _probabilities(clf, x)
            kept.append(p[np.arange(len(x)), read])
            accuracy.append(float((p.argmax(1) == y).mean()))
    finally:
        for m, (w, b) in zip(layers, saved, strict=True):
            m.weight.data.copy_(w)
            if b is not None:
                m.bias.data.copy_(b)
    if not kept:
        return np.zeros(len(x))
    low = [i for i, a in enumerate(accuracy) if a < PSC_ACCURACY]
    start = low[0] if low else max(0, len(kept) - PSC_DEPTHS)
    return np.mean(kept[start : start + PSC_DEPTHS], axis=0)


def stage_disagreement(clf: Any, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The largest k-NN label disagreement over the model's earlier stages (pooled hidden states)."""
    import torch

    from airlock.analysis.neighbours import label_disagreement, nearest_neighbours

    stages: list[list[np.ndarray]] = []
    with torch.inference_mode():
        for b in _batches(x):
            out = clf.module(pixel_values=(b - clf.mean) / clf.std, output_hidden_states=True)
            pooled = [h.mean(dim=(2, 3)) if h.dim() == 4 else h.mean(dim=1) for h in out.hidden_states[:-1]]
            stages = stages or [[] for _ in pooled]
            for i, h in enumerate(pooled):
                stages[i].append(h.float().numpy())
    out_values = np.zeros(len(x))
    for parts in stages:
        features = np.concatenate(parts)
        features = (features - features.mean(0)) / np.where(features.std(0) > 0, features.std(0), 1.0)
        _, _, vt = np.linalg.svd(features, full_matrices=False)
        neighbours, _ = nearest_neighbours(
            (features @ vt[:STAGE_DIMENSIONS].T).astype(np.float32), NEIGHBOURS
        )
        out_values = np.maximum(out_values, label_disagreement(neighbours, y))
    return out_values


def mask_smallness(clf: Any, x: np.ndarray) -> np.ndarray:
    """Minus the L1 size of each row's cognitive-distillation mask (see the module docstring)."""
    import torch

    torch.manual_seed(0)
    sizes = []
    for b in _batches(x):
        with torch.no_grad():
            reference = clf(b)
        weights = torch.zeros((len(b), 1, *b.shape[2:]), requires_grad=True)
        optimiser = torch.optim.Adam([weights], lr=0.1)
        for _ in range(DISTIL_STEPS):
            mask = (torch.tanh(weights) + 1) / 2
            mixed = b * mask + (1 - mask) * torch.rand_like(b)
            variation = ((mask[:, :, 1:] - mask[:, :, :-1]) ** 2).sum((1, 2, 3)) + (
                (mask[:, :, :, 1:] - mask[:, :, :, :-1]) ** 2
            ).sum((1, 2, 3))
            loss = (clf(mixed) - reference).abs().mean(1) + 0.01 * mask.sum((1, 2, 3)) + variation
            optimiser.zero_grad()
            loss.sum().backward()
            optimiser.step()
        with torch.no_grad():
            sizes.append(((torch.tanh(weights) + 1) / 2).sum((1, 2, 3)).numpy())
    return -np.concatenate(sizes)


def measure(case: Case, *, distil: bool) -> dict[str, Any]:
    """Every signal of the case's rows, judged within its poisoned class."""
    from airlock.data.pipeline import calibration
    from airlock.models.classifier import load_classifier
    from fixtures.heldout.train import build_case

    started = time.process_time()
    ws, truth, record = _prepared(case)
    flagged, called, _ = _decide(ws, calibration())
    built = build_case(case)
    x = np.concatenate([chunk.x for chunk in ws.train.chunks()])  # as `airlock data` reads it, in [0, 1]
    y = ws.train.labels
    folder = built.model if Path(built.model).is_dir() else Path(built.model).parent
    clf = load_classifier(folder, str(built.model))  # frozen: only inputs and masks get gradients
    poison = np.zeros(len(y), bool)
    poison[truth] = True
    target = int(np.bincount(y[poison]).argmax())
    rows = y == target
    detector = np.asarray(ws.section["scores"])  # the poisoning check's row scores, from `_decide`
    values = {
        "persistence": ws.persistence,
        "margin": ws.margin,
        "confidence": ws.confidence,
        "knn_disagreement": ws.disagreement,
        "detector_score": detector,
        "scaling_consistency": scaling_consistency(clf, x, y),
        "stage_disagreement": stage_disagreement(clf, x, y),
    }
    if distil:
        values["mask_smallness"] = mask_smallness(clf, x)
    hit = len(np.intersect1d(flagged, truth))
    return {
        "case": case.name,
        "family": _category(case),
        "dataset": case.dataset,
        "arch": case.arch,
        "attack_success": record.get("attack_success_rate"),
        "poison_share_of_class": round(float(poison[rows].mean()), 3),
        "detector": {
            "called": called,
            "precision": round(hit / len(flagged), 3) if len(flagged) else 0.0,
            "recall": round(hit / len(truth), 3),
        },
        "signals": {name: judged(v[rows], poison[rows]) for name, v in values.items()},
        "cpu_seconds": round(time.process_time() - started, 1),
    }


def table(records: list[dict[str, Any]], key: str) -> str:
    """Markdown: per `key` (family or dataset), each signal's median in-class AUC and median best F1."""
    names = list(records[0]["signals"]) if records else list(SIGNALS)
    lines = [
        f"| {key} | sets | " + " | ".join(names) + " | wrong half |",
        "| --- | --- | " + " | ".join("---" for _ in names) + " | --- |",
    ]
    for group in sorted({r[key] for r in records}):
        chosen = [r for r in records if r[key] == group]
        cells = []
        for name in names:
            auc = np.nanmedian([r["signals"][name]["auc"] for r in chosen])
            f1 = np.median([r["signals"][name]["best_f1"] for r in chosen])
            cells.append(f"{auc:.2f} / {f1:.2f}")
        wrong = sum(r["signals"]["detector_score"]["auc"] < WRONG_HALF for r in chosen)
        lines.append(f"| {group} | {len(chosen)} | " + " | ".join(cells) + f" | {wrong} |")
    return "\n".join(lines)


def run(out: Path, parts: tuple[str, ...], *, distil: bool = False) -> list[dict[str, Any]]:
    import torch

    torch.set_num_threads(1)
    records = []
    for part in parts:
        for case in PARTS[part]:
            if case.attack is None:
                continue
            records.append({"part": part, **measure(case, distil=distil)})
            print(json.dumps(records[-1]), flush=True)
            out.write_text(json.dumps(records, indent=1))
    print()
    report(records)
    return records


def report(records: list[dict[str, Any]]) -> None:
    """Print the per-family and per-dataset tables of `records`."""
    print("median in-class ROC AUC / median best F1 (oracle class and threshold), per family")
    print(table(records, "family"))
    print("\nper dataset")
    print(table(records, "dataset"))


if __name__ == "__main__":  # python -m bench.row_signals OUT.json PART[,PART…] [--distil] | report A.json…
    arguments = [a for a in sys.argv[1:] if not a.startswith("--")]
    if arguments[0] == "report":  # tables of saved runs together (parts run in parallel)
        report([r for path in arguments[1:] for r in json.loads(Path(path).read_text())])
    else:
        run(Path(arguments[0]), tuple(arguments[1].split(",")), distil="--distil" in sys.argv)
