"""`airlock data --model`: a model's penultimate features as the feature space of the data checks.

The model is statically scanned first and refused unless that scan passes; then it is loaded by the
one model loader (`airlock.models.classifier.load_classifier`), under the same rules as
`scan --behavior`: a stock architecture from `config.json` or the user's `--arch`, weights from
safetensors or from a pickle checkpoint the static scan passed. An image classifier gives features
for image datasets, a text classifier for tables with a text column.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from airlock.data.loading import TEXT_COLUMNS, Dataset, Kind
from airlock.errors import DatasetError, ModelRefused

PICKLE_SCANNER = "pickle_opcodes"


@dataclass(frozen=True)
class ModelFeatures:
    section: dict[str, Any]  # the report's data.model
    extract: Callable[[Any], np.ndarray]  # images N×H×W×C (or a list of texts) → float32 N×D
    text_column: str | None = None  # the column a text model reads
    predict: Callable[[np.ndarray], np.ndarray] | None = None  # images → class probabilities (image models)
    classifier: Any = None  # the loaded image classifier (for `--behavior`), None for a text model
    # images → (head input, last stage) from one pass (image models): the clean reference's space
    views: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]] | None = None


def model_features(
    reference: str, train: Dataset, *, arch: str | None = None, text_column: str | None = None
) -> ModelFeatures:
    """Scan, then load the model at `reference` and say how it turns rows of `train` into features."""
    from airlock.models.classifier import load_classifier
    from airlock.models.features import (
        image_feature_views,
        image_features,
        image_probabilities,
        text_features,
    )
    from airlock.models.text import TextClassifier
    from airlock.pipeline import ScanOptions, resolve, scan_snapshot

    column = text_column or next((c for c in TEXT_COLUMNS if c in train.columns), None)
    if train.kind is Kind.VECTORS or (train.kind is Kind.TABLE and column is None):
        raise DatasetError(
            train.path,
            "--model gives features for images, or for text in a column "
            f"(--text-column, or one of {', '.join(TEXT_COLUMNS)}); not for {train.kind}",
        )
    options = ScanOptions(download_progress=False)
    snapshot = resolve(reference, options)
    report = scan_snapshot(snapshot, options)
    if not report.passed:
        raise ModelRefused(
            reference, "failed the static scan, so it is not loaded: " + "; ".join(report.verdict.reasons)
        )
    pickle_scanned = any(c.scanner == PICKLE_SCANNER and str(c.status) == "ran" for c in report.checks)
    clf = load_classifier(
        snapshot.root if snapshot.root.is_dir() else snapshot.root.parent,
        reference,
        arch=arch,
        pickle_allowed=pickle_scanned,
        needed_for="--model",
    )
    section: dict[str, Any] = {
        "reference": reference,
        "digest": report.target.digest,
        "architecture": clf.architecture,
        "static_verdict": report.verdict.decision,
    }
    if isinstance(clf, TextClassifier):
        if train.kind is not Kind.TABLE:
            raise DatasetError(
                train.path, f"{clf.architecture} is a text classifier; it gives no features for {train.kind}"
            )
        section["text_column"] = column
        return ModelFeatures(section, lambda texts: text_features(clf, texts), column)
    if train.kind is not Kind.IMAGES:
        raise DatasetError(
            train.path, f"{clf.architecture} is an image classifier; it gives no features for {train.kind}"
        )
    check_input(train, clf.channels, clf.size, reference)
    return ModelFeatures(
        section,
        lambda images: image_features(clf, images),
        predict=lambda images: image_probabilities(clf, images),
        classifier=clf,
        views=lambda images: image_feature_views(clf, images),
    )


def check_input(train: Dataset, channels: int, size: tuple[int, int] | None, reference: str) -> None:
    """Refuse images the model cannot read as they are: another height×width than the one its
    `preprocessor_config.json` / `config.json` names, another number of channels, or values outside
    [0, 1] (float images already normalised, or 0-255 floats). Checked on the first chunk, whose
    shape every later chunk shares."""
    first = next(train.chunks(256)).x
    height, width, have = first.shape[1:4]
    problems = []
    if size is not None and (height, width) != tuple(size):
        problems.append(
            f"images are {height}×{width}, the model expects {size[0]}×{size[1]} "
            "(preprocessor_config.json size/crop_size, config.json image_size)"
        )
    if have != channels:
        problems.append(
            f"images have {have} channel(s), the model expects {channels} (config.json num_channels)"
        )
    low, high = float(first.min()), float(first.max())
    if low < 0.0 or high > 1.0:
        problems.append(
            f"pixel values span {low:g}…{high:g}, the model's input is 0…1 "
            "(uint8 images, or floats in [0, 1] before normalisation)"
        )
    if problems:
        raise DatasetError(train.path, f"cannot be vetted with {reference}: " + "; ".join(problems))
