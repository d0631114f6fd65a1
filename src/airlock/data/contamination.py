"""Contamination: exact and near duplicates within the training set and between train and test.

- exact: sha256 of each sample's content (pixel bytes, the row's cells, the text);
- near, images: a 64-bit difference hash (dHash) compared within a Hamming distance;
- near, tables: a hash of the row after normalisation (case, spacing, number formatting), with
  identifier columns (unique per row) left out;
- near, text: MinHash over word 3-gram shingles, banded (LSH), confirmed by the estimated Jaccard.

Hashes are computed chunk by chunk (`image_hashes`) and compared in buckets, so memory grows with
the number of samples by a few words each, never with pairs.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from airlock.data.features import area_resize

MAX_PAIRS = 100_000  # a search stops here: a result this long means "at least this many"
HAMMING = 4  # dHash bits that may differ between near-duplicate images
JACCARD = 0.7  # estimated shingle overlap of near-duplicate texts
PERMUTATIONS = 64
BANDS = 16
_PRIME = (1 << 61) - 1
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Pairs:
    """Pairs of duplicate rows: (train row, test row) or (earlier train row, later train row)."""

    kind: str  # "exact" | "near"
    pairs: tuple[tuple[int, int], ...]


def exact_digests(rows: Iterable[bytes]) -> list[bytes]:
    return [hashlib.sha256(row).digest() for row in rows]


def image_hashes(images: np.ndarray) -> tuple[list[bytes], np.ndarray]:
    """(sha256 of each image's bytes, 64-bit dHash of each) for a float32 N×H×W×C chunk."""
    exact = exact_digests(np.round(images * 255).astype(np.uint8).reshape(len(images), -1))
    gray = area_resize(images.mean(axis=3, keepdims=True), 8, 9)[..., 0]
    bits = (gray[:, :, 1:] > gray[:, :, :-1]).reshape(len(images), 64)
    return exact, np.packbits(bits, axis=1).view(">u8").ravel().astype(np.uint64)


def row_digests(columns: dict[str, np.ndarray], skip: Sequence[str] = ()) -> tuple[list[bytes], list[bytes]]:
    """(exact, normalised) digests of each table row; normalised leaves the `skip` columns out."""
    names = list(columns)
    exact, normal = [], []
    kept = [n for n in names if n not in skip]
    for i in range(len(columns[names[0]])):
        exact.append(hashlib.sha256("\x1f".join(str(columns[n][i]) for n in names).encode()).digest())
        normal.append(
            hashlib.sha256("\x1f".join(_normal(str(columns[n][i])) for n in kept).encode()).digest()
        )
    return exact, normal


def _normal(cell: str) -> str:
    text = _SPACES.sub(" ", cell.strip().lower())
    try:
        return format(float(text), ".6g")
    except ValueError:
        return text


def text_digests(texts: Sequence[str]) -> list[bytes]:
    return exact_digests(t.encode() for t in texts)


def minhash(texts: Sequence[str], seed: int = 0) -> np.ndarray:
    """N×PERMUTATIONS MinHash signatures of word 3-gram shingles (case and spacing normalised)."""
    rng = np.random.default_rng(seed)
    a = rng.integers(1, _PRIME, PERMUTATIONS, dtype=np.uint64)
    b = rng.integers(0, _PRIME, PERMUTATIONS, dtype=np.uint64)
    out = np.full((len(texts), PERMUTATIONS), np.iinfo(np.uint64).max, dtype=np.uint64)
    for i, text in enumerate(texts):
        words = _SPACES.sub(" ", text.lower()).strip().split(" ")
        shingles = {" ".join(words[j : j + 3]) for j in range(max(1, len(words) - 2))}
        hashed = np.fromiter((zlib.crc32(s.encode()) for s in shingles), dtype=np.uint64, count=len(shingles))
        with np.errstate(over="ignore"):
            out[i] = ((hashed[:, None] * a[None, :] + b[None, :]) % _PRIME).min(axis=0)
    return out


def equal_pairs(train: Sequence[bytes], test: Sequence[bytes] | None) -> tuple[tuple[int, int], ...]:
    """Pairs with equal digests: train×test when a test split is given, else within train."""
    index: dict[bytes, list[int]] = defaultdict(list)
    for i, digest in enumerate(train):
        index[digest].append(i)
    if test is not None:
        pairs = ((i, j) for j, digest in enumerate(test) for i in index.get(digest, ()))
    else:
        pairs = ((rows[0], other) for rows in index.values() if len(rows) > 1 for other in rows[1:])
    return tuple(itertools.islice(pairs, MAX_PAIRS))


def hamming_pairs(
    train: np.ndarray, test: np.ndarray | None, limit: int = HAMMING
) -> tuple[tuple[int, int], ...]:
    """dHash pairs within `limit` bits; candidates share one of (limit + 1) bands exactly (pigeonhole)."""
    other = test if test is not None else train
    bands = limit + 1
    width = 64 // bands
    mask = np.uint64((1 << width) - 1)
    found: set[tuple[int, int]] = set()
    for band in range(bands):
        shift = np.uint64(band * width)

        def close(i: np.ndarray, j: np.ndarray) -> np.ndarray:
            return np.bitwise_count(np.bitwise_xor.outer(train[i], other[j])) <= limit

        found |= _bucket_pairs(
            (train >> shift) & mask, (test >> shift) & mask if test is not None else None, close
        )
        if len(found) >= MAX_PAIRS:
            break
    return tuple(sorted(found))[:MAX_PAIRS]


def minhash_pairs(
    train: np.ndarray, test: np.ndarray | None, threshold: float = JACCARD
) -> tuple[tuple[int, int], ...]:
    """MinHash pairs whose estimated Jaccard reaches `threshold`, found through LSH bands."""
    rows = PERMUTATIONS // BANDS
    other = test if test is not None else train
    found: set[tuple[int, int]] = set()

    def similar(i: np.ndarray, j: np.ndarray) -> np.ndarray:
        return (train[i][:, None, :] == other[j][None, :, :]).mean(axis=2) >= threshold

    for band in range(BANDS):
        part = slice(band * rows, (band + 1) * rows)
        keys = _band_keys(train[:, part])
        found |= _bucket_pairs(keys, _band_keys(test[:, part]) if test is not None else None, similar)
        if len(found) >= MAX_PAIRS:
            break
    return tuple(sorted(found))[:MAX_PAIRS]


def _band_keys(block: np.ndarray) -> np.ndarray:
    return np.frombuffer(
        b"".join(hashlib.blake2b(r.tobytes(), digest_size=8).digest() for r in block), dtype=np.uint64
    )


Confirm = Callable[[np.ndarray, np.ndarray], np.ndarray]
BLOCK = 2048  # a bucket is compared in blocks of this many members a side


def _bucket_pairs(
    keys_train: np.ndarray, keys_test: np.ndarray | None, confirm: Confirm
) -> set[tuple[int, int]]:
    """Pairs of rows that share a key and that `confirm` (a vectorised check on index blocks) accepts."""
    found: set[tuple[int, int]] = set()
    train_groups = _groups(keys_train)
    if keys_test is not None:
        for key, js in _groups(keys_test).items():
            if key in train_groups:
                found |= _confirmed(train_groups[key], js, confirm, within=False)
            if len(found) >= MAX_PAIRS:
                break
        return found
    for members in train_groups.values():
        if len(members) > 1:
            found |= _confirmed(members, members, confirm, within=True)
        if len(found) >= MAX_PAIRS:
            break
    return found


def _groups(keys: np.ndarray) -> dict[int, np.ndarray]:
    order = np.argsort(keys, kind="stable")
    values, starts = np.unique(keys[order], return_index=True)
    return {int(v): group for v, group in zip(values.tolist(), np.split(order, starts[1:]), strict=True)}


def _confirmed(a: np.ndarray, b: np.ndarray, confirm: Confirm, *, within: bool) -> set[tuple[int, int]]:
    found: set[tuple[int, int]] = set()
    for x in range(0, len(a), BLOCK):
        for y in range(x if within else 0, len(b), BLOCK):
            ia, ib = a[x : x + BLOCK], b[y : y + BLOCK]
            hits = confirm(ia, ib)
            if within:
                hits &= ia[:, None] < ib[None, :]
            for i, j in zip(*np.nonzero(hits), strict=True):
                found.add((int(ia[i]), int(ib[j])))
            if len(found) >= MAX_PAIRS:
                return found
    return found
