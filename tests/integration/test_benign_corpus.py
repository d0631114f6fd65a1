"""The benign corpus (fixtures/benign_corpus.py) through the full pipeline: the default policy passes every sample.

Samples the scanners still fail are listed in `KNOWN_FALSE_POSITIVES`; each is an
xfail(strict=True), so fixing the scanner makes its entry fail here until it is removed.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from airlock.findings import Severity
from airlock.pipeline import ScanOptions, scan
from fixtures.benign_corpus import KNOWN_FALSE_POSITIVES, REAL, SAMPLES, BenignSample, write

pytestmark = pytest.mark.slow

CLASSES = {
    "sklearn",
    "fx",
    "torchscript",
    "lightning",
    "trainer",
    "torch",
    "numpy",
    "joblib",
    "pickle-basic",
    "jinja",
    "auto_map",
    "safetensors",
    "onnx",
    "pandas",
    "scipy",
    "real",
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, BenignSample]]:
    root = tmp_path_factory.mktemp("benign")
    return root, {s.name: s for s in write(root)}


def test_corpus_is_big_and_covers_every_class(corpus: tuple[Path, dict[str, BenignSample]]) -> None:
    root, samples = corpus
    assert len(samples) >= 80
    assert set(Counter(s.cls for s in samples.values())) == CLASSES
    assert all((root / s.path).exists() for s in samples.values())
    assert set(KNOWN_FALSE_POSITIVES) <= set(samples)


def test_write_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "left-over").write_text("x")
    with pytest.raises(FileExistsError):
        write(tmp_path)


def _params() -> list[object]:
    names = [*SAMPLES, REAL]
    return [
        pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=KNOWN_FALSE_POSITIVES[n]))
        if n in KNOWN_FALSE_POSITIVES
        else n
        for n in names
    ]


@pytest.mark.parametrize("name", _params())
def test_default_policy_passes(corpus: tuple[Path, dict[str, BenignSample]], name: str) -> None:
    root, samples = corpus
    report = scan(str(root / samples[name].path), ScanOptions(use_cache=False, download_progress=False))
    failing = [
        f"{f.rule}:{f.severity}:{f.location}: {f.message}"
        for f in report.findings
        if f.severity >= Severity.HIGH
    ]
    assert report.passed, failing
