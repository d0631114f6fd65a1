"""Detection quality on the fixture corpus: airlock beside modelscan, picklescan, fickling and ModelAudit.

One run, same inputs: detection rate on malicious samples, false-positive rate on benign ones
(real checkpoints included), errors, and wall time. Every sample a peer misses and airlock catches
is listed, and so is anything a peer catches that airlock misses (the target: nothing).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from bench.peers import Outcome, selected
from fixtures.corpus import Sample, build, write_manifest


def run(work: Path) -> list[dict[str, Any]]:
    root = work / "corpus"
    shutil.rmtree(root, ignore_errors=True)  # generators write into empty folders
    samples = build(root)
    write_manifest(samples, root / "manifest.json")
    peers = selected()
    outcomes: dict[str, dict[str, Outcome]] = {
        p.name: {s.name: p.run(s.path) for s in samples} for p in peers
    }
    rows = [_row(name, results, samples) for name, results in outcomes.items()]
    ours = outcomes.get("airlock")
    if ours is None:  # a run narrowed to the peers (AIRLOCK_BENCH_TOOLS)
        return rows
    for peer in (p for p in peers if not p.name.startswith("airlock")):
        theirs = outcomes[peer.name]
        caught_only_by_us = [
            s.name for s in samples if s.malicious and ours[s.name].flagged and not theirs[s.name].flagged
        ]
        missed_by_us = [
            s.name for s in samples if s.malicious and theirs[s.name].flagged and not ours[s.name].flagged
        ]
        rows.append(
            {
                "case": f"airlock vs {peer.name}",
                "airlock_only": len(caught_only_by_us),
                "peer_only": len(missed_by_us),
                "airlock_only_samples": caught_only_by_us,
                "peer_only_samples": missed_by_us,
            }
        )
    return rows


def _row(tool: str, results: dict[str, Outcome], samples: list[Sample]) -> dict[str, Any]:
    bad = [s for s in samples if s.malicious]
    good = [s for s in samples if not s.malicious]
    return {
        "case": tool,
        "detected": f"{sum(results[s.name].flagged for s in bad)}/{len(bad)}",
        "detection_rate": sum(results[s.name].flagged for s in bad) / len(bad),
        "false_positives": f"{sum(results[s.name].flagged for s in good)}/{len(good)}",
        "errors": sum(results[s.name].error for s in samples),
        "seconds": sum(r.seconds for r in results.values()),
        "false_positive_samples": [s.name for s in good if results[s.name].flagged],
        "missed_samples": [s.name for s in bad if not results[s.name].flagged],
    }
