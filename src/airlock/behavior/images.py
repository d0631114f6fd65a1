"""Reversed triggers as pictures: PNG bytes (no imaging library needed) and data URIs for the HTML report.

A mask is drawn in grey (white = inside the trigger), a pattern or an additive change in colour
(the change is centred on mid-grey and stretched to the full range), a warp as the magnitude of its
displacement.
"""

from __future__ import annotations

import base64
import struct
import zlib

import numpy as np

SCALE = 4  # each pixel drawn as SCALE×SCALE, so a 32×32 trigger is readable


def png(image: np.ndarray, scale: int = SCALE) -> bytes:
    """An 8-bit PNG of a float image in [0, 1] (H×W grey or H×W×3 colour), enlarged `scale` times."""
    pixels = np.clip(np.nan_to_num(image.astype(np.float64)), 0.0, 1.0)
    pixels = (pixels * 255).round().astype(np.uint8)
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = pixels[..., 0]
    pixels = np.repeat(np.repeat(pixels, scale, axis=0), scale, axis=1)
    height, width = pixels.shape[:2]
    colour = 2 if pixels.ndim == 3 else 0
    rows = pixels.reshape(height, -1)
    raw = b"".join(b"\x00" + row.tobytes() for row in rows)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def data_uri(image: np.ndarray) -> str:
    return png_uri(image, SCALE)


def png_uri(image: np.ndarray, scale: int) -> str:
    """The PNG of `image` (see `png`) as a `data:` URI."""
    return "data:image/png;base64," + base64.b64encode(png(image, scale)).decode("ascii")


def pictures(arrays: dict[str, np.ndarray]) -> dict[str, str]:
    """Data URIs of a trigger's arrays: mask, pattern, mask×pattern, additive change, warp magnitude."""
    out: dict[str, str] = {}
    if "mask" in arrays:
        out["mask"] = data_uri(arrays["mask"])
    if "pattern" in arrays:
        out["pattern"] = data_uri(arrays["pattern"])
        if "mask" in arrays:
            out["trigger"] = data_uri(arrays["pattern"] * arrays["mask"][..., None])
    if "delta" in arrays:
        delta = arrays["delta"]
        out["delta"] = data_uri(0.5 + delta / (2 * max(float(np.abs(delta).max()), 1e-6)))
    if "displacement" in arrays:
        magnitude = np.sqrt((arrays["displacement"] ** 2).sum(axis=-1))
        out["displacement"] = data_uri(magnitude / max(float(magnitude.max()), 1e-6))
    return out


def main_picture(arrays: dict[str, np.ndarray], scale: int = 2) -> str | None:
    """One small picture of a trigger (the masked pattern, else the additive change, else the warp), or None."""
    if "mask" in arrays and "pattern" in arrays:
        return png_uri(arrays["pattern"] * arrays["mask"][..., None], scale)
    if "delta" in arrays:
        delta = arrays["delta"]
        return png_uri(0.5 + delta / (2 * max(float(np.abs(delta).max()), 1e-6)), scale)
    if "displacement" in arrays:
        magnitude = np.sqrt((arrays["displacement"] ** 2).sum(axis=-1))
        return png_uri(magnitude / max(float(magnitude.max()), 1e-6), scale)
    return None
