"""Replay the poisoning decision on stored inputs: study a change of `poisoning.assess` in seconds a
set instead of minutes a part.

`python -m bench.assess_replay dump PART…` runs `bench.data_heldout`'s `--test` workspace of every
case of the parts (training the models where they are not built) and stores what `poisoning.assess`
was called with: one `.npz` of arrays and one `.json` of the rest per case, under
`fixtures/_generated/heldout/assess/<part>/` (no pickle). `python -m bench.assess_replay run OUT.json
PART…` calls `assess` of the code it runs in on every stored case and writes each set's rows found
(`hit`, `flagged`, `truth`) and the classes called, then prints precision / recall per family. To
compare two versions, run `run` in a checkout of each (a git worktree, with `PYTHONPATH` at its
`src`) and `python -m bench.assess_replay compare A.json B.json`. `run --without-reference OUT.json
PART…` replays the same cases as a user without `--test` would get them: the stored clean reference
(and its low-pass readings) is left out, everything else is the same.

The stored inputs are the `--test` mode's (the clean reference with its low-pass readings, no
behavioural scan); they follow the code that dumped them (features, reduction, the reference's
space). A change before `assess` needs a new dump; a case dumped before the low-pass readings
existed replays without them, and one dumped before the clean-split networks (`clean_reader`, 2026.12.18)
without their reading (the dump makes it for every set, 20–30 CPU s each).
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ARRAYS = ("persistence", "confidence", "predicted", "margin")


def folder(part: str) -> Path:
    from fixtures._cache import fixtures_dir

    return fixtures_dir() / "heldout" / "assess" / part


def dump(parts: tuple[str, ...]) -> None:
    """Store `assess`'s inputs of every case of `parts` (a case already stored is skipped)."""
    from airlock.data import poisoning
    from airlock.data.pipeline import calibration
    from bench import data_heldout

    captured: dict[str, Any] = {}
    real = poisoning.assess

    def spy(*args: Any, **kwargs: Any) -> Any:
        captured["args"], captured["kwargs"] = args, kwargs
        return real(*args, **kwargs)

    poisoning.assess = spy  # type: ignore[assignment]
    try:
        with data_heldout.one_thread():
            for part in parts:
                out = folder(part)
                out.mkdir(parents=True, exist_ok=True)
                for case in data_heldout.PARTS[part]:
                    if (out / f"{case.name}.json").is_file():
                        continue
                    ws, truth, _ = data_heldout._prepared(case, reference=True)
                    data_heldout._check(ws, calibration())
                    _store(
                        out / case.name,
                        captured["args"],
                        captured["kwargs"],
                        truth,
                        data_heldout._category(case),
                    )
                    print(part, case.name, flush=True)
    finally:
        poisoning.assess = real  # type: ignore[assignment]


def _store(
    stem: Path, args: tuple[Any, ...], kwargs: dict[str, Any], truth: np.ndarray, category: str
) -> None:
    reduced, labels, disagreement, cal = args
    arrays = {"reduced": reduced, "labels": labels, "disagreement": disagreement, "truth": truth}
    arrays |= {name: kwargs[name] for name in ARRAYS if kwargs.get(name) is not None}
    reference = kwargs.get("reference")
    if reference is not None:
        arrays |= {"ref_train": reference.train, "ref_rows": reference.rows, "ref_labels": reference.labels}
        if reference.train_kept is not None and reference.rows_kept is not None:
            arrays |= {"ref_train_kept": reference.train_kept, "ref_rows_kept": reference.rows_kept}
        if reference.read is not None:  # the clean-split networks' reading, made here for every set
            train_read, rows_read = reference.read()
            arrays |= {"ref_train_read": train_read, "ref_rows_read": rows_read}
    positions = kwargs.get("trigger_positions") or {}
    arrays |= {f"trigger_{label}": rows for label, rows in positions.items()}
    meta = {
        "category": category,
        "calibration": vars(cal),
        "names": list(kwargs.get("names", ())),
        "blamed": [int(b) for b in kwargs.get("blamed", ())],
        "seed": int(kwargs.get("seed", 0)),
    }
    np.savez(stem.with_suffix(".npz"), **arrays)
    stem.with_suffix(".json").write_text(json.dumps(meta))  # written last: a case is stored once it exists


def _stored_read(arrays: dict[str, np.ndarray]) -> Callable[[], tuple[np.ndarray, np.ndarray]] | None:
    """The stored clean-split reading (`airlock.data.clean_reader`), as the reference hands it over."""
    if "ref_train_read" not in arrays or "ref_rows_read" not in arrays:
        return None
    reading = (arrays["ref_train_read"], arrays["ref_rows_read"])
    return lambda: reading


def replay(stem: Path, *, with_reference: bool = True) -> dict[str, Any]:
    """`assess` of the running code on one stored case: the set's rows found and classes called
    (without its clean reference, as a run without `--test` would be, when `with_reference` is False)."""
    from airlock.data import poisoning
    from airlock.data import reference as clean_reference

    meta = json.loads(stem.with_suffix(".json").read_text())
    with np.load(stem.with_suffix(".npz"), allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    reference = (
        clean_reference.Reference(
            arrays["ref_train"],
            arrays["ref_rows"],
            arrays["ref_labels"],
            arrays.get("ref_train_kept"),
            arrays.get("ref_rows_kept"),
            _stored_read(arrays),
        )
        if with_reference and "ref_train" in arrays
        else None
    )
    positions = {int(k.split("_", 1)[1]): v for k, v in arrays.items() if k.startswith("trigger_")}
    result = poisoning.assess(
        arrays["reduced"],
        arrays["labels"],
        arrays["disagreement"],
        poisoning.Calibration.from_mapping(meta["calibration"]),
        names=meta["names"],
        blamed=meta["blamed"],
        seed=meta["seed"],
        trigger_positions=positions or None,
        reference=reference,
        **{name: arrays.get(name) for name in ARRAYS},
    )
    truth = arrays["truth"]
    return {
        "case": stem.name,
        "category": meta["category"],
        "hit": len(np.intersect1d(result.flagged, truth)),
        "flagged": len(result.flagged),
        "truth": len(truth),
        "called": [c.label for c in result.classes if c.poisoned],
        "routes": [c.decided_by for c in result.classes if c.poisoned],
    }


def run(parts: tuple[str, ...], *, with_reference: bool = True) -> list[dict[str, Any]]:
    rows = []
    for part in parts:
        for meta in sorted(folder(part).glob("*.json")):
            rows.append({"part": part, **replay(meta.with_suffix(""), with_reference=with_reference)})
    return rows


def by_family(rows: list[dict[str, Any]]) -> dict[str, str]:
    """Precision / recall per family over the poisoned sets, and clean sets called."""
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    clean = [0, 0]
    for row in rows:
        if not row["truth"]:
            clean[0] += 1
            clean[1] += bool(row["called"])
            continue
        for i, key in enumerate(("hit", "flagged", "truth")):
            totals[row["category"]][i] += row[key]
    out = {
        family: f"{hit / flagged if flagged else 0.0:.2f} / {hit / truth:.2f}"
        for family, (hit, flagged, truth) in sorted(totals.items())
    }
    out["clean sets called"] = f"{clean[1]} of {clean[0]}"
    return out


def compare(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[str]:
    """Per family before → after, then every set whose rows or classes changed."""
    a, b = by_family(before), by_family(after)
    lines = [f"{family}: {a.get(family, '-')} -> {b.get(family, '-')}" for family in sorted(set(a) | set(b))]
    earlier = {(r["part"], r["case"]): r for r in before}
    for row in after:
        old = earlier.get((row["part"], row["case"]))
        if old and (old["hit"], old["flagged"], old["called"]) != (row["hit"], row["flagged"], row["called"]):
            lines.append(
                f"{row['case']}: {old['hit']}/{old['flagged']} of {old['truth']} {old['called']} "
                f"-> {row['hit']}/{row['flagged']} {row['called']}"
            )
    return lines


if __name__ == "__main__":  # dump PART… | run [--without-reference] OUT.json PART… | compare A B
    command, rest = sys.argv[1], sys.argv[2:]
    if command == "dump":
        dump(tuple(rest))
    elif command == "run":
        with_reference = "--without-reference" not in rest
        rest = [arg for arg in rest if arg != "--without-reference"]
        measured = run(tuple(rest[1:]), with_reference=with_reference)
        Path(rest[0]).write_text(json.dumps(measured, indent=1))
        for family, pr in by_family(measured).items():
            print(f"{family}: {pr}")
    elif command == "compare":
        print("\n".join(compare(*(json.loads(Path(p).read_text()) for p in rest[:2]))))
    else:
        raise SystemExit(
            "usage: python -m bench.assess_replay dump PART… | run [--without-reference] OUT.json PART… | "
            "compare A.json B.json"
        )
