"""The clean sample of a behavioural scan (`--data`), read through `airlock.data.loading`.

Images come as `.npz` (`x` uint8 N×H×W×C or float32 N×C×H×W, `y`) or an image folder
(`ROOT/<class>/<image>`); text as CSV or Parquet with a `text` column and a `label` column. Labels
are mapped to the model's classes by name when the dataset's class names are the model's
`id2label` values, else read as class indices. Samples beyond `limit` rows are not read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from airlock.data.loading import TEXT_COLUMNS, Kind, open_dataset
from airlock.errors import DatasetError

MAX_ROWS = 5000


@dataclass(frozen=True)
class ImageSample:
    images: np.ndarray  # float32 N×H×W×C in [0, 1]
    labels: np.ndarray  # int64 class ids of the model (−1 where unknown)


@dataclass(frozen=True)
class TextSample:
    texts: tuple[str, ...]
    labels: np.ndarray


Sample = ImageSample | TextSample


def read_sample(path: Path, model_labels: dict[int, str], *, text: bool, limit: int = MAX_ROWS) -> Sample:
    """The first `limit` rows of the dataset at `path`, as images or texts for a model with these labels."""
    dataset = open_dataset(path)
    labels = dataset.labels if dataset.labels is not None else np.full(dataset.rows, -1, dtype=np.int64)
    mapped = _to_model_classes(labels, dataset.label_names, model_labels)[:limit]
    if text:
        if dataset.kind is not Kind.TABLE:
            raise DatasetError(path, "a text classifier needs a CSV or Parquet sample with a text column")
        column = next((c for c in TEXT_COLUMNS if c in dataset.columns), None)
        if column is None:
            raise DatasetError(
                path,
                f"no text column (one of {', '.join(TEXT_COLUMNS)}) in {', '.join(list(dataset.columns)[:10])}",
            )
        return TextSample(tuple(str(t) for t in dataset.columns[column][:limit]), mapped)
    if dataset.kind is not Kind.IMAGES:
        raise DatasetError(
            path, f"an image classifier needs images (.npz x/y or an image folder), not {dataset.kind}"
        )
    parts, rows = [], 0
    for chunk in dataset.chunks(min(limit, 2048)):
        parts.append(chunk.x[: limit - rows])
        rows += len(parts[-1])
        if rows >= limit:
            break
    return ImageSample(np.concatenate(parts).astype(np.float32), mapped[:rows])


def _to_model_classes(labels: np.ndarray, names: tuple[str, ...], model_labels: dict[int, str]) -> np.ndarray:
    by_name = {name: k for k, name in model_labels.items()}
    if names and all(name in by_name for name in names):
        lookup = np.asarray([by_name[name] for name in names], dtype=np.int64)
    elif names and all(name.lstrip("-").isdigit() for name in names):
        lookup = np.asarray([int(name) for name in names], dtype=np.int64)
    else:
        return labels.astype(np.int64)
    return np.where(labels >= 0, lookup[labels.clip(0)], -1)
