"""The held-out generator (fixtures.heldout): attacks change the pixels they claim, rates are
honoured, and the same seed gives the same set."""

from __future__ import annotations

import numpy as np
import pytest

from fixtures.heldout import attacks, datasets
from fixtures.heldout.attacks import Attack


@pytest.fixture(scope="module")
def strokes() -> tuple[np.ndarray, np.ndarray]:
    return datasets.images("strokes", 400, seed=3)


@pytest.mark.parametrize("name", datasets.NAMES)
def test_datasets_are_balanced_and_deterministic(name: str) -> None:
    x, y = datasets.images(name, 120, seed=5)
    again, _ = datasets.images(name, 120, seed=5)
    other, _ = datasets.images(name, 120, seed=6)
    assert x.shape == (120, 32, 32, 3) and x.dtype == np.uint8
    assert np.array_equal(x, again) and not np.array_equal(x, other)
    counts = np.bincount(y, minlength=datasets.CLASSES[name])
    assert counts.max() - counts.min() <= 1


def test_unknown_dataset_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown held-out dataset"):
        datasets.images("cifar", 10, seed=0)


def test_fixed_patch_changes_only_its_square(strokes: tuple[np.ndarray, np.ndarray]) -> None:
    x, _ = strokes
    out = attacks.apply(x[:20], Attack("patch", size=5, place=(3, 4), colour=(0, 255, 0)))
    changed = np.any(out != x[:20], axis=(0, 3))
    assert changed[3:8, 4:9].any() and not np.delete(np.delete(changed, range(3, 8), 0), range(4, 9), 1).any()
    assert (out[:, 3:8, 4:9] == [0, 255, 0]).all()


def test_random_patch_moves(strokes: tuple[np.ndarray, np.ndarray]) -> None:
    x, _ = strokes
    out = attacks.apply(x[:30], Attack("patch", size=4, position="random", colour=(255, 0, 0)))
    places = {tuple(np.argwhere(np.any(out[i] != x[i], axis=2)).min(axis=0)) for i in range(30)}
    assert len(places) > 10


@pytest.mark.parametrize(
    "attack, changed_share",
    [
        (Attack("blend", alpha=0.15), 0.5),
        (Attack("blend", style="image", alpha=0.2), 0.5),
        (Attack("sig", delta=25, frequency=6), 0.5),
        (Attack("warp", grid=4, strength=2.5), 0.05),
    ],
)
def test_full_image_triggers_touch_most_pixels(
    strokes: tuple[np.ndarray, np.ndarray], attack: Attack, changed_share: float
) -> None:
    x, _ = strokes
    out = attacks.apply(x[:20], attack)
    assert np.any(out != x[:20], axis=3).mean() > changed_share
    assert np.array_equal(out, attacks.apply(x[:20], attack))


def test_input_specific_trigger_differs_per_image_inside_its_corner(
    strokes: tuple[np.ndarray, np.ndarray],
) -> None:
    x, _ = strokes
    out = attacks.apply(x[:20], Attack("input_specific", size=4))
    masks = np.any(out != x[:20], axis=3)
    assert not masks[:, :20, :].any() and not masks[:, :, :20].any()
    assert len({m.tobytes() for m in masks}) == 20


@pytest.mark.parametrize("family", ["patch", "blend", "sig", "warp", "input_specific"])
@pytest.mark.parametrize("rate", [0.01, 0.15])
def test_dirty_label_rate_and_relabelling(
    strokes: tuple[np.ndarray, np.ndarray], family: str, rate: float
) -> None:
    x, y = strokes
    px, py, rows = attacks.poison(x, y, Attack(family, target=2), rate, seed=1)
    assert len(rows) == round(rate * len(x)) and np.array_equal(rows, np.sort(rows))
    assert (py[rows] == 2).all() and (y[rows] != 2).all()
    clean = np.setdiff1d(np.arange(len(x)), rows)
    assert np.array_equal(px[clean], x[clean]) and np.array_equal(py[clean], y[clean])
    assert all(np.any(px[r] != x[r]) for r in rows)
    again = attacks.poison(x, y, Attack(family, target=2), rate, seed=1)
    assert np.array_equal(again[0], px) and np.array_equal(again[2], rows)


def test_clean_label_keeps_labels_and_poisons_only_the_target(strokes: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = strokes
    px, py, rows = attacks.poison(x, y, Attack("clean_label", target=4, base="sig"), 0.05, seed=2)
    assert np.array_equal(py, y) and (y[rows] == 4).all() and len(rows) == 20
    assert all(np.any(px[r] != x[r]) for r in rows)
    assert np.array_equal(np.delete(px, rows, 0), np.delete(x, rows, 0))


@pytest.mark.parametrize("arch", ["regnet-x"])
def test_added_architecture_is_read_by_airlocks_loader(tmp_path: object, arch: str) -> None:
    """The fresh part's architecture is a stock `transformers` class airlock loads from config.json
    and safetensors, and its penultimate features come from the head's input."""
    import torch

    from airlock.models.classifier import load_classifier
    from fixtures.heldout import archs

    folder = tmp_path / "model"  # type: ignore[operator]
    archs.build(arch, [f"c{i}" for i in range(4)]).save_pretrained(folder, safe_serialization=True)
    clf = load_classifier(folder, arch, pickle_allowed=False, needed_for="test")
    with torch.inference_mode():
        logits = clf(torch.rand(2, 3, 32, 32))
        features = clf.features(torch.rand(2, 3, 32, 32))
    assert logits.shape == (2, 4) and features.shape[0] == 2 and features.shape[1] > 4


def test_clean_sample_is_the_unpoisoned_rows_after_the_training_set(tmp_path: object) -> None:
    from fixtures.heldout.train import CLEAN_SAMPLE, TEST_ROWS, BuiltCase, Case, clean_sample

    case = Case("t", "strokes", "resnet-narrow", 9, Attack("patch", target=1), 0.1, rows=60)
    built = BuiltCase(case, tmp_path, tmp_path / "model", tmp_path / "train.npz", np.empty(0))  # type: ignore[arg-type]
    sample = np.load(clean_sample(built))
    x, y = datasets.images("strokes", case.rows + TEST_ROWS, case.seed)
    assert np.array_equal(sample["x"], x[60 : 60 + CLEAN_SAMPLE]) and np.array_equal(
        sample["y"], y[60 : 60 + CLEAN_SAMPLE]
    )


def test_a_sample_imbalance_draws_the_clean_sample_at_its_own_shares(tmp_path: object) -> None:
    from pathlib import Path

    from fixtures.heldout.train import CLEAN_SAMPLE, BuiltCase, Case, clean_sample

    folder = Path(str(tmp_path))
    case = Case("t", "strokes", "resnet-narrow", 9, rows=60, imbalance=6.0, sample_imbalance=1.0)
    built = BuiltCase(case, folder, folder / "model", folder / "train.npz", np.empty(0))
    sample = np.load(clean_sample(built))
    counts = np.bincount(sample["y"], minlength=10)
    assert len(sample["y"]) == CLEAN_SAMPLE and counts.max() - counts.min() <= 1  # balanced
    _, train_labels = datasets.images("strokes", 2000, 9, imbalance=6.0)
    train_counts = np.bincount(train_labels, minlength=10)
    assert train_counts.max() / train_counts.min() > 3.0  # the training set's classes are not


def test_a_case_whose_target_is_not_a_class_of_its_dataset_is_refused() -> None:
    from fixtures.heldout.train import Case

    with pytest.raises(ValueError, match="target 9 is not a class of glyphs"):
        Case("t", "glyphs", "resnet-narrow", 9, Attack("warp", target=9), 0.1)


def test_every_benchmark_case_targets_a_class_of_its_dataset_under_a_name_and_seed_of_its_own() -> None:
    from bench.data_heldout import PARTS

    cases = [case for part in PARTS.values() for case in part]
    assert all(case.attack is None or case.attack.target < datasets.CLASSES[case.dataset] for case in cases)
    assert len({case.name for case in cases}) == len(cases)
    assert len({case.seed for case in cases}) == len(cases)


def test_the_benchmark_memo_never_hands_a_new_workspace_the_result_of_a_freed_one_with_its_id() -> None:
    from bench.data_heldout import _memoised

    class Workspace:  # a stand-in: the memo only needs identity and weak references
        def __init__(self, rows: int) -> None:
            self.rows = rows

    def compute(ws: Workspace) -> tuple[np.ndarray, bool, dict[str, object]]:
        return np.arange(ws.rows), True, {}

    first = Workspace(3)
    assert _memoised(first, "cal", compute)[0].tolist() == [0, 1, 2]
    assert _memoised(first, "cal", lambda ws: (np.arange(9), False, {}))[0].tolist() == [0, 1, 2]  # memoised
    freed = id(first)
    del first
    # CPython hands the freed block to the next object of its size: find one that reuses the id
    candidates = [Workspace(5) for _ in range(200)]
    reused = next((ws for ws in candidates if id(ws) == freed), None)
    if reused is None:
        pytest.skip("no object reused the freed id")
    assert _memoised(reused, "cal", compute)[0].tolist() == [0, 1, 2, 3, 4]


def test_imbalanced_classes_span_the_ratio_in_an_order_drawn_from_the_seed() -> None:
    _, y = datasets.images("strokes", 4000, 3, imbalance=8.0)
    counts = np.bincount(y, minlength=10)
    assert 5.0 < counts.max() / counts.min() < 12.0
    _, again = datasets.images("strokes", 4000, 3, imbalance=8.0)
    _, other = datasets.images("strokes", 4000, 4, imbalance=8.0)
    assert np.array_equal(y, again)
    assert np.argmax(np.bincount(other, minlength=10)) != np.argmax(counts) or np.argmin(
        np.bincount(other, minlength=10)
    ) != np.argmin(counts)
    with pytest.raises(ValueError, match="at least 1"):
        datasets.images("strokes", 10, 3, imbalance=0.5)


def test_a_record_written_before_the_imbalance_field_matches_its_balanced_case() -> None:
    from dataclasses import asdict

    from fixtures.heldout.train import Case, _same_case

    case = Case("x-clean", "glyphs", "resnet-narrow", 7)
    older = {k: v for k, v in asdict(case).items() if k != "imbalance"}
    assert _same_case(older, case)
    assert not _same_case(older, Case("x-clean", "glyphs", "resnet-narrow", 7, imbalance=4.0))
    assert not _same_case({**older, "seed": 8}, case)
