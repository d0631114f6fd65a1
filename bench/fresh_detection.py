"""Detection on the fresh adversarial corpus (bench/fresh_corpus): airlock beside the peers, per weakness class.

The corpus was written independently of airlock's rules and is never used to tune them: this suite
measures how the static scanner holds on attacks it was not built against. Every number is reported
per weakness class (issue 11's classes 1-7), and every sample a peer flags that airlock misses is
named. The samples' canaries prove the payloads are real (the build loads each one with the real
loader in a child process); scanning must fire none of them.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from bench.fresh_corpus import WEAKNESS_CLASSES, Sample, build
from bench.peers import Outcome, selected


def run(work: Path) -> list[dict[str, Any]]:
    root = work / "fresh_corpus"
    shutil.rmtree(root, ignore_errors=True)
    samples = build(root)
    for sample in samples:
        sample.canary.unlink(missing_ok=True)
    peers = selected()
    outcomes: dict[str, dict[str, Outcome]] = {
        p.name: {s.name: p.run(s.path) for s in samples} for p in peers
    }
    fired = [s.name for s in samples if s.canary.exists()]
    rows: list[dict[str, Any]] = []
    for tool, results in outcomes.items():
        rows.append(_row(tool, "all", samples, results))
        for number, label in WEAKNESS_CLASSES.items():
            members = [s for s in samples if s.weakness_class == number]
            rows.append(_row(tool, f"{number} {label}", members, results))
    rows.append({"case": "canaries fired while scanning", "count": len(fired), "samples": fired})
    ours = outcomes.get("airlock")
    if ours is None:  # a run narrowed to the peers (AIRLOCK_BENCH_TOOLS)
        return rows
    for peer in (p for p in peers if not p.name.startswith("airlock")):
        theirs = outcomes[peer.name]
        rows.append(
            {
                "case": f"airlock vs {peer.name}",
                "airlock_only": sum(ours[s.name].flagged and not theirs[s.name].flagged for s in samples),
                "peer_only_samples": [
                    s.name for s in samples if theirs[s.name].flagged and not ours[s.name].flagged
                ],
            }
        )
    return rows


def _row(tool: str, group: str, samples: list[Sample], results: dict[str, Outcome]) -> dict[str, Any]:
    caught = [s for s in samples if results[s.name].flagged]
    return {
        "case": f"{tool} [{group}]",
        "detected": f"{len(caught)}/{len(samples)}",
        "detection_rate": len(caught) / len(samples) if samples else None,
        "errors": sum(results[s.name].error for s in samples),
        "seconds": round(sum(results[s.name].seconds for s in samples), 2),
        "missed_samples": [s.name for s in samples if not results[s.name].flagged],
    }
