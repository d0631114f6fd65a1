"""The breadth samples (fixtures/benign_breadth.py): the representative subset the benign corpus scans covers
every family, and the held-out fifth of the sklearn estimators is deterministic.

Each REPRESENTATIVE sample is scanned through the library API with the default policy by
tests/integration/test_benign_corpus.py (it is part of the benign corpus); the rest of the breadth is
census-only (`make safe-globals`), too many samples to scan on every test run.
"""

from __future__ import annotations

import importlib

from fixtures import benign_breadth
from fixtures.benign_corpus import KNOWN_FALSE_POSITIVES, SAMPLES


def test_the_representative_samples_are_in_the_scanned_corpus() -> None:
    assert set(benign_breadth.REPRESENTATIVE) <= set(SAMPLES)
    passing = set(benign_breadth.REPRESENTATIVE) - set(KNOWN_FALSE_POSITIVES)
    assert {
        "pandas-frame-mixed-naive-joblib",
        "pandas-frame-multiindex-joblib",
        "scipy-sparse-all-formats",
        "torch-adam-onecycle",
        "sklearn-calibrated-classifier",
        "sklearn-column-transformer-frame-joblib",
    } <= passing


def test_ten_sklearn_estimators_of_different_families_are_scanned() -> None:
    from sklearn.utils import all_estimators

    estimators = dict(all_estimators())
    chosen = [
        n.removeprefix("sklearn-")
        for n in benign_breadth.REPRESENTATIVE
        if n.removeprefix("sklearn-") in estimators
    ]
    assert len(chosen) >= 10
    families = {estimators[n].__module__.split(".")[1] for n in chosen}  # sklearn.<family>....
    assert len(families) >= 7, families
    assert not any(benign_breadth.held_out(n) for n in chosen)  # scanned samples are always evidence


def test_the_held_out_fifth_is_deterministic_and_about_a_fifth() -> None:
    from sklearn.utils import all_estimators

    names = [n for n, _ in all_estimators()]
    first = [n for n in names if benign_breadth.held_out(n)]
    assert first == [n for n in names if benign_breadth.held_out(n)]
    assert 0.1 * len(names) < len(first) < 0.3 * len(names)


def test_every_torch_optimizer_and_scheduler_has_a_sample() -> None:
    torch_optim = importlib.import_module("torch.optim")
    optimizers = {
        n
        for n, c in vars(torch_optim).items()
        if isinstance(c, type) and issubclass(c, torch_optim.Optimizer) and c is not torch_optim.Optimizer
    }
    assert optimizers == set(benign_breadth._optimizers())
    schedulers = {
        n
        for n, c in vars(torch_optim.lr_scheduler).items()
        if isinstance(c, type)
        and c.__module__ == "torch.optim.lr_scheduler"
        and not n.startswith("_")
        and issubclass(c, (torch_optim.lr_scheduler.LRScheduler, torch_optim.lr_scheduler.ReduceLROnPlateau))
        and n not in {"LRScheduler", "_LRScheduler"}
    }
    assert schedulers <= set(benign_breadth._scheduler_builders()), schedulers - set(
        benign_breadth._scheduler_builders()
    )
