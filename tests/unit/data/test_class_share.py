"""Each class's share of the training set against its share of the clean split."""

from __future__ import annotations

import numpy as np

from airlock.data.class_share import SHARE_Z_AT, class_shares, grown_alone


def _labels(counts: list[int]) -> np.ndarray:
    return np.repeat(np.arange(len(counts)), counts)


def test_a_split_drawn_alike_gives_every_class_a_small_z() -> None:
    shares = class_shares(_labels([300, 100, 600]), _labels([50, 17, 100]))
    assert set(shares) == {0, 1, 2}
    assert all(abs(s.z) < 1 for s in shares.values())
    assert shares[2].train_rows == 600 and shares[2].test_rows == 100
    assert abs(shares[1].train_share - 0.1) < 1e-9


def test_a_class_grown_by_relabelled_rows_stands_out() -> None:
    # 10 classes of 250 rows; 10% of the set (250 rows of the other classes) relabelled to class 4
    train = _labels([250] * 10)
    train[np.flatnonzero(train != 4)[::9][:250]] = 4
    shares = class_shares(train, _labels([40] * 10))
    assert shares[4].z >= SHARE_Z_AT
    assert max(s.z for label, s in shares.items() if label != 4) < 1
    assert grown_alone(shares) == 4


def test_no_class_is_grown_alone_where_none_or_several_stand_out() -> None:
    balanced = _labels([250] * 10)
    assert grown_alone(class_shares(balanced, _labels([40] * 10))) is None
    # a long-tailed training set against a balanced split: its head classes all stand out
    long_tailed = _labels([700, 600, 500, 250, 150, 100, 80, 60, 40, 20])
    shares = class_shares(long_tailed, _labels([40] * 10))
    assert sum(s.z >= SHARE_Z_AT for s in shares.values()) >= 2
    assert grown_alone(shares) is None


def test_test_labels_of_no_training_class_are_left_out_and_an_empty_split_gives_nothing() -> None:
    with_unknown = class_shares(_labels([100, 100]), np.array([0, 1, -1, -1, -1, 0, 1]))
    assert with_unknown[0].test_share == 0.5 and abs(with_unknown[0].z) < 1e-9
    assert class_shares(_labels([100, 100]), np.array([-1, -1])) == {}
    assert class_shares(np.array([], np.int64), _labels([5, 5])) == {}


def test_a_class_numbered_below_zero_is_counted_like_any_other() -> None:
    shares = class_shares(np.array([-1, -1, 0, 0]), np.array([-1, 0, 0, 0]))
    assert shares[-1].train_rows == 2 and shares[-1].test_rows == 1 and shares[0].test_rows == 3
