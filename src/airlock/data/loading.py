"""Reading datasets without executing them: `.npz` (`x`, `y`), image folders, CSV, Parquet, and
`datasets` folders saved with `save_to_disk`.

The format comes from the bytes (zip, `PAR1`, text) or the folder layout, never from a file name.
`.npz` members are parsed as `.npy` headers and streamed row by row (object arrays, which need
pickle, are refused); images are decoded by Pillow with a pixel bound. Images and vectors are
streamed in chunks (`Dataset.chunks`); tables are read in chunks into columns, because leakage and
k-anonymity look at whole columns.
"""

from __future__ import annotations

import csv
import enum
import math
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from airlock.errors import DatasetError, MissingDependency

CHUNK_ROWS = 2048
MAX_NPY_HEADER = 10_000
MAX_IMAGE_PIXELS = 40_000_000
MAX_COLUMNS = 10_000
MAX_FIELD_BYTES = 1 << 20
MAX_CLASSES = 100_000
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"})
TEXT_COLUMNS = ("text", "sentence", "content")  # where a text model reads a table, first present wins


class Kind(enum.StrEnum):
    IMAGES = "images"  # float32 N×H×W×C in [0, 1]
    VECTORS = "vectors"  # float32 N×D (an .npz whose x is already a feature matrix)
    TABLE = "table"  # named columns (tabular and text data)


@dataclass(frozen=True)
class Chunk:
    start: int
    x: np.ndarray  # images or vectors of rows start…start+len


@dataclass(frozen=True)
class Dataset:
    """An opened dataset: its rows, labels, files (for the digest) and a way to stream its samples."""

    path: Path
    kind: Kind
    rows: int
    labels: np.ndarray | None  # int64 per row, or None when the data has no labels
    label_names: tuple[str, ...]
    files: tuple[tuple[str, Path], ...]
    columns: dict[str, np.ndarray] = field(default_factory=dict)  # TABLE only: name → object array of str
    _reader: Any = None  # yields Chunk for IMAGES / VECTORS

    def chunks(self, size: int = CHUNK_ROWS) -> Iterator[Chunk]:
        if self._reader is None:
            raise DatasetError(self.path, "a table has no image or vector samples")
        yield from self._reader(size)


def open_dataset(path: Path, *, label_column: str = "label", label_column_given: bool = False) -> Dataset:
    """Open `path` as whichever supported layout its bytes or folder structure show."""
    if not path.exists():
        raise DatasetError(path, "no such file or directory")
    if path.is_dir():
        if (path / "dataset_info.json").is_file() or (path / "dataset_dict.json").is_file():
            return _open_hf_dataset(path, label_column, label_column_given)
        return _open_image_folder(path)
    if not path.is_file():
        raise DatasetError(path, "not a regular file or folder")
    with open(path, "rb") as fh:
        head = fh.read(8)
    if not head:
        raise DatasetError(path, "empty file")
    if head.startswith(b"PK\x03\x04"):
        return _open_npz(path)
    if head.startswith(b"PAR1"):
        return _table(path, _read_parquet(path), label_column, label_column_given, ((path.name, path),))
    return _table(path, _read_csv(path), label_column, label_column_given, ((path.name, path),))


# --------------------------------------------------------------------------------------------- npz


def _open_npz(path: Path) -> Dataset:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise DatasetError(path, f"not a readable .npz (zip) file: {exc}") from None
    with archive:
        members = set(archive.namelist())
        missing = [m for m in ("x.npy", "y.npy") if m not in members]
        if missing:
            raise DatasetError(
                path,
                f".npz has no {' or '.join(m[:-4] for m in missing)} array "
                f"(found: {', '.join(sorted(members)) or 'nothing'})",
            )
        shape, dtype = _npy_header(archive, "x.npy", path)
        y_shape, y_dtype = _npy_header(archive, "y.npy", path)
        if len(y_shape) != 1 or y_dtype.kind not in "iu":
            raise DatasetError(path, f"y must be a 1-D integer array, not {y_dtype} of shape {y_shape}")
        if y_shape[0] != shape[0]:
            raise DatasetError(path, f"x has {shape[0]} rows but y has {y_shape[0]}")
        labels = next(_npy_rows(archive, "y.npy", path, y_shape, y_dtype, y_shape[0] or 1), np.empty(0))
    if shape[0] == 0:
        raise DatasetError(path, "empty dataset (0 rows)")
    labels = labels.astype(np.int64)
    if labels.min() < 0 or labels.max() >= MAX_CLASSES:
        raise DatasetError(
            path,
            f"y must hold class indices from 0 to {MAX_CLASSES - 1} (found {labels.min()}…{labels.max()})",
        )
    kind, convert = _npz_layout(path, shape, dtype)

    def reader(size: int) -> Iterator[Chunk]:
        with zipfile.ZipFile(path) as again:
            start = 0
            for rows in _npy_rows(again, "x.npy", path, shape, dtype, size):
                yield Chunk(start, convert(rows))
                start += len(rows)

    names = tuple(str(i) for i in range(int(labels.max()) + 1))
    return Dataset(path, kind, shape[0], labels, names, ((path.name, path),), _reader=reader)


def _npy_header(archive: zipfile.ZipFile, member: str, path: Path) -> tuple[tuple[int, ...], np.dtype[Any]]:
    try:
        with archive.open(member) as fh:
            version = np.lib.format.read_magic(fh)
            read = (
                np.lib.format.read_array_header_1_0
                if version == (1, 0)
                else np.lib.format.read_array_header_2_0
            )
            shape, fortran, dtype = read(fh, max_header_size=MAX_NPY_HEADER)
    except (ValueError, OSError, zipfile.BadZipFile, EOFError, SyntaxError) as exc:
        raise DatasetError(path, f"{member}: not a valid .npy array ({exc})") from None
    if dtype.hasobject:
        raise DatasetError(path, f"{member}: object arrays need pickle to load, and are refused")
    if fortran and len(shape) > 1:
        raise DatasetError(
            path, f"{member}: Fortran-ordered arrays are not supported; save with np.ascontiguousarray"
        )
    return tuple(int(s) for s in shape), dtype


def _npy_rows(
    archive: zipfile.ZipFile, member: str, path: Path, shape: tuple[int, ...], dtype: np.dtype[Any], size: int
) -> Iterator[np.ndarray]:
    row_bytes = int(math.prod(shape[1:])) * dtype.itemsize
    try:
        with archive.open(member) as fh:
            version = np.lib.format.read_magic(fh)
            read = (
                np.lib.format.read_array_header_1_0
                if version == (1, 0)
                else np.lib.format.read_array_header_2_0
            )
            read(fh, max_header_size=MAX_NPY_HEADER)
            remaining = shape[0]
            while remaining:
                count = min(size, remaining)
                raw = fh.read(count * row_bytes)
                if len(raw) != count * row_bytes:
                    raise DatasetError(
                        path,
                        f"{member}: truncated ({shape[0] - remaining + len(raw) // max(row_bytes, 1)} "
                        f"of {shape[0]} rows present)",
                    )
                yield np.frombuffer(raw, dtype=dtype).reshape((count, *shape[1:]))
                remaining -= count
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        raise DatasetError(path, f"{member}: unreadable ({exc})") from None


def _npz_layout(path: Path, shape: tuple[int, ...], dtype: np.dtype[Any]) -> tuple[Kind, Any]:
    if dtype.kind not in "uif" and dtype.kind != "b":
        raise DatasetError(path, f"x must be numeric, not {dtype}")
    if len(shape) == 2:
        return Kind.VECTORS, lambda rows: rows.astype(np.float32)
    if len(shape) == 3:
        return Kind.IMAGES, lambda rows: _unit(rows[..., None], dtype)
    if len(shape) == 4 and shape[3] in (1, 3, 4):
        return Kind.IMAGES, lambda rows: _unit(rows[..., :3] if shape[3] == 4 else rows, dtype)
    if len(shape) == 4 and shape[1] in (1, 3):
        return Kind.IMAGES, lambda rows: _unit(np.moveaxis(rows, 1, -1), dtype)
    raise DatasetError(
        path, f"x has shape {shape}: expected N×D vectors, N×H×W×C uint8 or N×C×H×W float32 images"
    )


def _unit(rows: np.ndarray, dtype: np.dtype[Any]) -> np.ndarray:
    if dtype == np.uint8:
        return rows.astype(np.float32) / 255.0
    return np.nan_to_num(rows.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)


# ------------------------------------------------------------------------------------ image folders


def _open_image_folder(root: Path) -> Dataset:
    classes = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    files: list[tuple[str, Path]] = []
    labels: list[int] = []
    for index, name in enumerate(classes):
        for item in sorted((root / name).rglob("*")):
            if item.is_file() and item.suffix.lower() in IMAGE_SUFFIXES:
                files.append((item.relative_to(root).as_posix(), item))
                labels.append(index)
    if not files:
        raise DatasetError(
            root, "no images found (expected ROOT/<class>/<image> or a saved `datasets` folder)"
        )
    _pillow()
    first = _decode(files[0][1], None)
    size, mode = (first.shape[1], first.shape[0]), ("L" if first.shape[2] == 1 else "RGB")

    def reader(chunk: int) -> Iterator[Chunk]:
        for start in range(0, len(files), chunk):
            batch = [_decode(p, (size, mode)) for _, p in files[start : start + chunk]]
            yield Chunk(start, np.stack(batch).astype(np.float32) / 255.0)

    return Dataset(
        root,
        Kind.IMAGES,
        len(files),
        np.asarray(labels, dtype=np.int64),
        tuple(classes),
        tuple(files),
        _reader=reader,
    )


def _pillow() -> Any:
    try:
        from PIL import Image
    except ImportError:
        raise MissingDependency("Pillow", "data", "reading image files") from None
    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    return Image


def _decode(path: Path, target: tuple[tuple[int, int], str] | None) -> np.ndarray:
    image_module = _pillow()
    try:
        with image_module.open(path) as img:
            img.load()
            return _pixels(img, target)
    except (OSError, ValueError, image_module.DecompressionBombError, SyntaxError) as exc:
        raise DatasetError(path, f"not a readable image ({exc})") from None


def _pixels(img: Any, target: tuple[tuple[int, int], str] | None) -> np.ndarray:
    """uint8 H×W×C of a decoded PIL image, converted to the target (size, mode) when one is given."""
    mode = target[1] if target else ("L" if img.mode in ("L", "1", "I", "I;16") else "RGB")
    img = img.convert(mode)
    if target and img.size != target[0]:
        img = img.resize(target[0], _pillow().Resampling.BILINEAR)
    pixels = np.asarray(img, dtype=np.uint8)
    return pixels[..., None] if pixels.ndim == 2 else pixels


# ----------------------------------------------------------------------------------------- tables


def _read_csv(path: Path) -> dict[str, list[str]]:
    csv.field_size_limit(MAX_FIELD_BYTES)
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if not header:
                raise DatasetError(path, "empty CSV (no header row)")
            if len(header) > MAX_COLUMNS or len(set(header)) != len(header):
                raise DatasetError(path, "CSV header has duplicate column names or too many columns")
            columns: list[list[str]] = [[] for _ in header]
            for row in reader:
                if not row:
                    continue
                if len(row) != len(header):
                    raise DatasetError(
                        path, f"line {reader.line_num} has {len(row)} fields, the header has {len(header)}"
                    )
                for column, value in zip(columns, row, strict=True):
                    column.append(value)
    except UnicodeDecodeError as exc:
        raise DatasetError(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except csv.Error as exc:
        raise DatasetError(path, f"malformed CSV: {exc}") from None
    return dict(zip(header, columns, strict=True))


def _read_parquet(path: Path) -> dict[str, list[Any]]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise MissingDependency("pyarrow", "data", "reading Parquet") from None
    try:
        reader = pq.ParquetFile(path)
        columns: dict[str, list[Any]] = {name: [] for name in reader.schema_arrow.names}
        for batch in reader.iter_batches(batch_size=CHUNK_ROWS * 8):
            for name, values in batch.to_pydict().items():
                columns[name].extend(values)
    except Exception as exc:  # noqa: BLE001  pyarrow raises many types for corrupt files; translated here, once
        raise DatasetError(path, f"not a readable Parquet file ({type(exc).__name__}: {exc})") from None
    return columns


def _table(
    path: Path,
    raw: dict[str, Sequence[Any]],
    label_column: str,
    given: bool,
    files: tuple[tuple[str, Path], ...],
) -> Dataset:
    columns = {
        name: np.asarray(["" if v is None else str(v) for v in values], dtype=object)
        for name, values in raw.items()
    }
    rows = len(next(iter(columns.values()))) if columns else 0
    if rows == 0:
        raise DatasetError(path, "empty dataset (0 rows)")
    labels: np.ndarray | None = None
    names: tuple[str, ...] = ()
    if label_column in columns:
        values = columns.pop(label_column)
        names_list = sorted(set(values.tolist()), key=_natural)
        index = {name: i for i, name in enumerate(names_list)}
        labels = np.fromiter((index[v] for v in values), dtype=np.int64, count=rows)
        names = tuple(names_list)
    elif given:
        raise DatasetError(path, f"no column {label_column!r} (columns: {', '.join(list(columns)[:20])})")
    return Dataset(path, Kind.TABLE, rows, labels, names, files, columns=columns)


def _natural(value: str) -> tuple[int, float, str]:
    try:
        return (0, float(value), value)
    except ValueError:
        return (1, 0.0, value)


def _open_hf_dataset(path: Path, label_column: str, given: bool) -> Dataset:
    try:
        import datasets
    except ImportError:
        raise MissingDependency("datasets", "data", "reading a `datasets` folder") from None
    try:
        loaded = datasets.load_from_disk(str(path))
    except Exception as exc:  # noqa: BLE001  corrupt arrow files, bad JSON: translated at the boundary
        raise DatasetError(path, f"not a readable `datasets` folder ({type(exc).__name__}: {exc})") from None
    if isinstance(loaded, datasets.DatasetDict):
        if "train" not in loaded:
            raise DatasetError(
                path,
                f"a DatasetDict without a 'train' split (splits: {', '.join(loaded)}); "
                "name one split's folder instead",
            )
        loaded = loaded["train"]
    files = tuple((p.relative_to(path).as_posix(), p) for p in sorted(path.rglob("*")) if p.is_file())
    image_columns = [n for n, f in loaded.features.items() if isinstance(f, datasets.Image)]
    if not image_columns:
        table = {name: loaded[name] for name in loaded.column_names}
        label_feature = loaded.features.get(label_column)
        dataset = _table(path, table, label_column, given, files)
        if isinstance(label_feature, datasets.ClassLabel) and dataset.labels is not None:
            ids = np.asarray(loaded[label_column], dtype=np.int64)
            return Dataset(
                path, Kind.TABLE, dataset.rows, ids, tuple(label_feature.names), files, dataset.columns
            )
        return dataset
    if label_column not in loaded.column_names:
        raise DatasetError(
            path,
            f"no column {label_column!r} to label the images (columns: {', '.join(loaded.column_names)})",
        )
    labels = np.asarray(loaded[label_column], dtype=np.int64)
    feature = loaded.features[label_column]
    names = (
        tuple(feature.names)
        if isinstance(feature, datasets.ClassLabel)
        else tuple(str(i) for i in range(int(labels.max()) + 1))
    )
    column = image_columns[0]
    first = _pixels(loaded[0][column], None)
    target = ((first.shape[1], first.shape[0]), "L" if first.shape[2] == 1 else "RGB")

    def reader(chunk: int) -> Iterator[Chunk]:
        for start in range(0, len(loaded), chunk):
            batch = loaded[start : start + chunk][column]
            yield Chunk(start, np.stack([_pixels(img, target) for img in batch]).astype(np.float32) / 255.0)

    return Dataset(path, Kind.IMAGES, len(loaded), labels, names, files, _reader=reader)
