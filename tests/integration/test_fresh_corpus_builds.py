"""The fresh adversarial corpus (bench/fresh_corpus) builds with the promised structure.

Structure only, never detection: the corpus measures generalisation and must not steer rules.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from bench.fresh_corpus import WEAKNESS_CLASSES, build, specs
from bench.fresh_corpus.verify import LOADERS, fires

pytest.importorskip("torch")


def test_builds_with_at_least_six_distinct_samples_per_class(tmp_path: Path) -> None:
    samples = build(tmp_path, verify=False)

    names = [s.name for s in samples]
    assert len(names) == len(set(names))
    assert 60 <= len(samples) <= 100
    counts = Counter(s.weakness_class for s in samples)
    assert set(counts) == set(WEAKNESS_CLASSES)
    assert min(counts.values()) >= 6
    for s in samples:
        assert s.path.exists() and s.path.is_relative_to(tmp_path / s.name)
        assert s.description and s.reference
        assert s.loader in LOADERS or s.loader == "none"
        assert not s.verified  # verify=False
    assert len({s.description for s in samples}) == len(samples)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert [row["name"] for row in manifest] == names


def test_verification_fires_a_real_payload_and_not_an_inert_file(tmp_path: Path) -> None:
    from fixtures.canary import marker

    chosen = {s.name: s for s in specs() if s.name in ("pydoc-pipepager", "empty-model-safetensors")}
    for name, spec in chosen.items():
        (tmp_path / name).mkdir()
        canary = marker(f"fresh-{name}")
        path = spec.write(tmp_path / name, str(canary))
        assert fires(spec.loader, path, canary) is (name == "pydoc-pipepager")
        assert not canary.exists()  # verification removes the marker it watched
