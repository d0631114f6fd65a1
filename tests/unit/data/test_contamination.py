"""Every planted duplicate and near duplicate is found; the clean fixtures give no pair."""

from __future__ import annotations

import numpy as np

from airlock.data import contamination
from airlock.data.loading import open_dataset
from fixtures import datasets


def test_text_planted_exact_and_near_pairs(generated) -> None:
    train = open_dataset(generated(datasets.text)).columns["text"].tolist()
    test = open_dataset(generated(datasets.text).with_name("test.csv")).columns["text"].tolist()
    exact = contamination.equal_pairs(contamination.text_digests(train), contamination.text_digests(test))
    near = contamination.minhash_pairs(contamination.minhash(train), contamination.minhash(test))
    assert set(exact) == set(datasets.TEXT_EXACT)
    assert set(near) - set(exact) == set(datasets.TEXT_NEAR)
    assert contamination.minhash_pairs(contamination.minhash(train), None) == ()


def test_table_copies_found_by_exact_and_normalised_hash(generated) -> None:
    train = open_dataset(generated(datasets.tabular)).columns
    test = open_dataset(generated(datasets.tabular).with_name("test.csv")).columns
    train_exact, _ = contamination.row_digests(train)
    test_exact, _ = contamination.row_digests(test)
    planted = {(i, j) for j, i in enumerate(datasets.TABLE_TEST_COPIES)}
    assert set(contamination.equal_pairs(train_exact, test_exact)) == planted
    # a copy re-keyed and re-formatted is still found once the identifier column is left out
    test["customer_id"] = np.array([f"X{i}" for i in range(len(test["customer_id"]))], dtype=object)
    test["income"] = np.array([f" {v}0 " for v in test["income"]], dtype=object)
    _, train_normal = contamination.row_digests(train, ["customer_id"])
    _, test_normal = contamination.row_digests(test, ["customer_id"])
    assert set(contamination.equal_pairs(train_normal, test_normal)) == planted


def test_clean_table_has_no_pairs(generated) -> None:
    train = open_dataset(generated(datasets.clean_tabular)).columns
    test = open_dataset(generated(datasets.clean_tabular).with_name("test.csv")).columns
    exact, normal = contamination.row_digests(train)
    test_exact, test_normal = contamination.row_digests(test)
    assert contamination.equal_pairs(exact, test_exact) == ()
    assert contamination.equal_pairs(normal, test_normal) == ()
    assert contamination.equal_pairs(normal, None) == ()


def test_images_exact_and_perceptual() -> None:
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 1, (50, 16, 16, 1)).astype(np.float32)
    test = images[[3, 7]].copy()
    test[1] = np.clip(test[1] * 0.9 + 0.02, 0, 1)  # brightness change: same dHash, other bytes
    exact, dhash = contamination.image_hashes(images)
    test_exact, test_dhash = contamination.image_hashes(test)
    assert contamination.equal_pairs(exact, test_exact) == ((3, 0),)
    assert set(contamination.hamming_pairs(dhash, test_dhash)) == {(3, 0), (7, 1)}
    assert contamination.hamming_pairs(dhash, None) == ()


def test_image_folder_copy_within_train(generated) -> None:
    ds = open_dataset(generated(datasets.image_folder))
    exact, _ = contamination.image_hashes(np.concatenate([c.x for c in ds.chunks()]))
    pairs = contamination.equal_pairs(exact, None)
    assert len(pairs) == 1
    assert {ds.files[i][0].rsplit("/", 1)[1] for i in pairs[0]} == {"000.png", "copy.png"}


def test_pair_search_is_bounded_on_degenerate_data() -> None:
    blank = np.zeros((1000, 8, 8, 1), np.float32)  # every image the same: ~500k pairs
    exact, dhash = contamination.image_hashes(blank)
    assert len(contamination.equal_pairs(exact, None)) == 999  # one group: each later copy against the first
    near = contamination.hamming_pairs(dhash, None)
    assert len(near) == contamination.MAX_PAIRS
