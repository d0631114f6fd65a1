"""Reversed triggers as PNG: valid files whose pixels are the arrays', with no imaging library."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest

from airlock.behavior.images import SCALE, data_uri, pictures, png


def _decode(data: bytes) -> np.ndarray:
    image = pytest.importorskip("PIL.Image")
    return np.asarray(image.open(io.BytesIO(data)))


def test_colour_png_holds_the_enlarged_pixels() -> None:
    pattern = np.random.default_rng(0).random((5, 7, 3)).astype(np.float32)
    pixels = _decode(png(pattern))
    assert pixels.shape == (5 * SCALE, 7 * SCALE, 3)
    assert np.array_equal(pixels[::SCALE, ::SCALE], (pattern * 255).round().astype(np.uint8))


def test_grey_png_clips_out_of_range_and_nan() -> None:
    mask = np.array([[-1.0, 0.5], [2.0, np.nan]])
    pixels = _decode(png(mask, scale=1))
    assert pixels.tolist() == [[0, 128], [255, 0]]


def test_pictures_of_each_family() -> None:
    patch = pictures({"mask": np.ones((4, 4)), "pattern": np.zeros((4, 4, 3))})
    assert set(patch) == {"mask", "pattern", "trigger"}
    assert set(pictures({"delta": np.full((4, 4, 3), -0.1)})) == {"delta"}
    assert set(pictures({"displacement": np.ones((4, 4, 2))})) == {"displacement"}
    uri = data_uri(np.zeros((2, 2)))
    assert uri.startswith("data:image/png;base64,")
    assert base64.b64decode(uri.split(",", 1)[1]).startswith(b"\x89PNG\r\n\x1a\n")
