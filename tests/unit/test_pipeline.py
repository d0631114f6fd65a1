"""The scan pipeline's own behaviour (beyond what the scanners and sources tests cover)."""

from __future__ import annotations

from pathlib import Path

import pytest

from airlock.pipeline import ScanOptions, scan


def test_large_snapshots_warm_scanners_up_while_hashing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Above the threshold each scanner's warm_up runs (on a side thread) before scanning starts."""
    from airlock.scanners.second_opinion import ModelscanSecondOpinion

    from airlock import pipeline

    calls: list[str] = []
    monkeypatch.setattr(ModelscanSecondOpinion, "warm_up", lambda self: calls.append("modelscan"))
    (tmp_path / "weights.bin").write_bytes(b"\0" * 4096)
    monkeypatch.setattr(pipeline, "WARM_UP_BYTES", 1 << 20)
    scan(str(tmp_path / "weights.bin"), ScanOptions(use_cache=False))
    assert calls == []
    monkeypatch.setattr(pipeline, "WARM_UP_BYTES", 1024)
    scan(str(tmp_path / "weights.bin"), ScanOptions(use_cache=False))
    assert calls == ["modelscan"]
