"""`vet`: the data scan's library entry point. Dataset(s) in, an `airlock.report/v1` Report out.

One streaming pass over the samples computes features (raw, or a model's), exact digests and
near-duplicate hashes; then the checks in `DATA_CHECKS` run on the shared workspace through the one
runner (`airlock.scanning.run_scanners`), and the policy turns the findings into a verdict. A model given with `--model` is
statically scanned first and refused unless that scan passes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from airlock.analysis.neighbours import label_disagreement, nearest_neighbours
from airlock.artifacts import collect
from airlock.data import contamination, features, low_pass, persistence
from airlock.data.checks import DATA_CHECKS, Workspace
from airlock.data.loading import Dataset, Kind, open_dataset
from airlock.data.model_features import model_features
from airlock.data.pictures import score_histograms, thumbnails
from airlock.data.poisoning import Calibration
from airlock.data.reference import Reference
from airlock.data.tabular import table_features
from airlock.errors import DatasetError
from airlock.policy import Policy, default_policy
from airlock.report import Report, build_report
from airlock.rules import load_rules, read_signature_toml
from airlock.scanning import run_scanners

if TYPE_CHECKING:
    from airlock.data.behaviour_feed import ReversedTrigger

NEIGHBOURS = 10
KNN_DIMENSIONS = 32
METHOD = "airlock-data/1: activation clustering + SPECTRE + spectral signature + k-NN, per-class decision"

# A progress reporter: called with a task description and its total, returns a per-step callback.
Progress = Callable[[str, int], Callable[[int], None]]


def data_policy() -> Policy:
    """The built-in policy of `airlock data`: fail at high, no required scanner (a check that does not
    apply to a dataset is skipped; one that breaks gives AIR901, which is high)."""
    return default_policy((), name="data-default", source="built-in data default")


@dataclass(frozen=True)
class VetOptions:
    test: Path | None = None
    model: str | None = None
    arch: str | None = None  # `--arch module:factory` for the model
    license: str | None = None  # the dataset's licence id (airlock.licenses), for the report and BOMs
    label_column: str = "label"
    label_column_given: bool = False
    text_column: str | None = None
    quasi_identifiers: tuple[str, ...] = ()
    k: int = 5
    policy: Policy = field(default_factory=data_policy)
    blamed: tuple[int, ...] = ()  # classes a behavioural scan blamed
    behavior: bool = False  # run the trigger reversal on the model and blame the class it finds
    progress: Progress | None = None


def calibration(rules_file: str = "rules/data.toml") -> Calibration:
    return Calibration.from_mapping(read_signature_toml(rules_file)["AIR801"].get("calibration", {}))


def vet(dataset: Path, options: VetOptions | None = None) -> Report:
    options = options or VetOptions()
    ws = workspace(dataset, options)
    outcome = run_scanners([check() for check in DATA_CHECKS], ws)
    train, test, section = ws.train, ws.test, ws.section
    pictures = thumbnails(train, section.get("flagged", []), section.get("scores", []))
    if pictures:
        section["thumbnails"] = pictures
    histograms = score_histograms(train.labels, section.get("scores", []), section.get("suspect_classes", []))
    if histograms:
        section["score_histograms"] = histograms
    files = list(train.files) + (
        [(f"test/{rel}", loc) for rel, loc in test.files] if test is not None else []
    )
    artifacts = collect(files)
    extra: dict[str, Any] = {"kind": "dataset"}
    if options.test is not None:
        extra["test"] = str(options.test)
    if options.license is not None:
        extra["license"] = options.license
    return build_report(
        reference=str(dataset),
        source="local",
        revision=None,
        extra=extra,
        artifacts=artifacts,
        outcome=outcome,
        policy=options.policy,
        signatures_version=ws.rules.version,
        data=section,
    )


def workspace(dataset: Path, options: VetOptions) -> Workspace:
    """Open the dataset(s), load the model if any, and compute what the checks share (features,
    neighbours, digests): everything of `vet` before the checks run."""
    rules = load_rules()
    train = open_dataset(
        dataset, label_column=options.label_column, label_column_given=options.label_column_given
    )
    test = open_dataset(options.test, label_column=options.label_column) if options.test is not None else None
    if test is not None and test.kind is not train.kind:
        raise DatasetError(
            options.test or "", f"the test split is {test.kind} data, the training set {train.kind}"
        )
    _check_columns(train, options)
    model = (
        model_features(options.model, train, arch=options.arch, text_column=options.text_column)
        if options.model
        else None
    )
    blamed = tuple(options.blamed)
    behaviour_section: dict[str, Any] | None = None
    trigger = None
    if options.behavior:
        if model is None or model.classifier is None:
            raise DatasetError(dataset, "--behavior needs --model with an image classifier")
        from airlock.data.behaviour_feed import blame

        found, behaviour_section, trigger = blame(model.classifier, options.test)
        blamed = tuple(sorted(set(blamed) | set(found)))
    extractor = model.extract if model else None
    section: dict[str, Any] = {
        "method": METHOD,
        "rows": train.rows,
        "kind": str(train.kind),
        "feature_space": "model" if extractor else "raw",
        "flagged": [],
    }
    if model:
        section["model"] = model.section
    if behaviour_section is not None:
        section["behavior"] = behaviour_section
    if blamed:
        section["blamed_classes"] = list(blamed)
    ws = Workspace(
        rules=rules,
        artifact=train.path.name if train.path.is_file() else None,
        train=train,
        test=test,
        section=section,
        calibration=calibration(),
        text_column=model.text_column if model and model.text_column else options.text_column,
        quasi_identifiers=options.quasi_identifiers,
        k=options.k,
        blamed=blamed,
        progress=options.progress,
    )
    _prepare(ws, extractor, model.views if model else None)
    if model is not None and model.predict is not None and train.labels is not None:
        if ws.reference is not None and test is not None:
            ws.reference = _with_low_pass(ws.reference, train, test, model.predict, options.progress)
            if train.kind is Kind.IMAGES and test.kind is Kind.IMAGES:
                ws.reference = replace(
                    ws.reference, read=_clean_reading(train, test, ws.reference.labels, options.progress)
                )
        found = _persistence(train, model.predict, options.progress)
        if found is not None:
            ws.persistence, ws.confidence, ws.predicted, ws.margin = found
        if trigger is not None:
            positions = _trigger_positions(train, test, trigger, model.extract, model.predict)
            if positions is not None:
                ws.trigger_positions = {trigger.label: positions}
    return ws


def _trigger_positions(
    train: Dataset,
    test: Dataset | None,
    trigger: ReversedTrigger,
    extract: Callable[[np.ndarray], np.ndarray],
    predict: Callable[[np.ndarray], np.ndarray],
) -> np.ndarray | None:
    """The blamed class's rows placed between its clean core and the reversed trigger's prototype
    (`airlock.data.trigger_rows`). The trigger is stamped on the images of other classes in the
    donor pool (`_pool`) of the clean `--test` split when given, else of the training set."""
    from airlock.data import trigger_rows

    assert train.labels is not None
    own = [
        chunk.x[train.labels[chunk.start : chunk.start + len(chunk.x)] == trigger.label]
        for chunk in train.chunks()
    ]
    pool_x, pool_y = _pool(test if test is not None and test.labels is not None else train)
    donors = pool_x[pool_y != trigger.label]
    return trigger_rows.projection(trigger, np.concatenate(own), donors, extract, predict)


def _pool(dataset: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """The donor pool (`persistence.pool_rows`) of a labelled dataset (images as float32, labels),
    gathered in one pass over its chunks."""
    assert dataset.labels is not None
    wanted = persistence.pool_rows(dataset.rows)
    pool: list[np.ndarray] = []
    for chunk in dataset.chunks():
        inside = wanted[(wanted >= chunk.start) & (wanted < chunk.start + len(chunk.x))]
        pool.append(np.asarray(chunk.x[inside - chunk.start], np.float32))
    return np.concatenate(pool), dataset.labels[wanted]


def _with_low_pass(
    found: Reference,
    train: Dataset,
    test: Dataset,
    predict: Callable[[np.ndarray], np.ndarray],
    progress: Progress | None,
) -> Reference:
    """The reference with the probability the model keeps for each row's label once low-passed
    (`airlock.data.low_pass`), for the training rows and the clean split's."""
    assert train.labels is not None
    advance = progress("low-pass labels", train.rows + test.rows) if progress else None
    sides = []
    for dataset, labels in ((train, train.labels), (test, found.labels)):
        out = []
        for chunk in dataset.chunks():
            out.append(low_pass.kept(predict, chunk.x, labels[chunk.start : chunk.start + len(chunk.x)]))
            if advance is not None:
                advance(len(chunk.x))
        sides.append(np.concatenate(out))
    return replace(found, train_kept=sides[0], rows_kept=sides[1])


def _clean_reading(
    train: Dataset, test: Dataset, test_labels: np.ndarray, progress: Progress | None
) -> Callable[[], tuple[np.ndarray, np.ndarray]]:
    """How a network trained on the clean split alone reads each training row's label and each
    clean-split row's (`airlock.data.clean_reader`), made when first asked for and then kept."""
    made: list[tuple[np.ndarray, np.ndarray]] = []

    def read() -> tuple[np.ndarray, np.ndarray]:
        from airlock.data import clean_reader

        if not made:
            assert train.labels is not None
            advance = progress("clean-split reading", train.rows + test.rows) if progress else None
            images = np.concatenate([clean_reader.scaled(chunk.x) for chunk in test.chunks()])
            readers = clean_reader.Readers(images, test_labels, int(train.labels.max()) + 1)
            rows_read = readers.read_reference(images, test_labels)
            if advance is not None:
                advance(test.rows)

            def chunks() -> Iterator[tuple[int, np.ndarray]]:
                for chunk in train.chunks():
                    yield chunk.start, chunk.x
                    if advance is not None:
                        advance(len(chunk.x))

            made.append((readers.read_training(chunks(), train.labels), rows_read))
        return made[0]

    return read


def _persistence(
    train: Dataset, predict: Callable[[np.ndarray], np.ndarray], progress: Progress | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """Per-row trigger persistence, label confidence, the class the model reads and the margin of
    the row's label (`airlock.data.persistence`): one pass to gather the donor pool, one to score
    every row."""
    labels = train.labels
    if labels is None or len(np.unique(labels)) < 2:
        return None
    donors = _pool(train)
    advance = progress("trigger persistence", train.rows) if progress else None
    out: list[np.ndarray] = []
    readings: list[persistence.Reading] = []
    for chunk in train.chunks():
        rows = labels[chunk.start : chunk.start + len(chunk.x)]
        out.append(persistence.persistence(predict, chunk.x, rows, donors, first_row=chunk.start))
        readings.append(persistence.reading(predict, chunk.x, rows))
        if advance is not None:
            advance(len(chunk.x))
    own, read, margin = (np.concatenate(part) for part in zip(*readings, strict=True))
    return np.concatenate(out), own, read, margin


def _check_columns(train: Dataset, options: VetOptions) -> None:
    if train.labels is None and train.kind is Kind.TABLE:
        found = list(train.columns)
        shown = ", ".join(found[:30]) + (f", … ({len(found)} in all)" if len(found) > 30 else "")
        raise DatasetError(
            train.path,
            f"no label column {options.label_column!r} (columns: {shown}); "
            "name the label with --label-column",
        )
    named = [c for c in (options.text_column, *options.quasi_identifiers) if c]
    if named and train.kind is not Kind.TABLE:
        raise DatasetError(train.path, "--text-column and --quasi-identifiers apply to tabular or text data")
    missing = [c for c in named if c not in train.columns]
    if missing:
        raise DatasetError(
            train.path,
            f"no column {', '.join(map(repr, missing))} (columns: {', '.join(list(train.columns)[:20])})",
        )
    if options.k < 2:
        raise DatasetError(train.path, "--k must be at least 2")


def _prepare(
    ws: Workspace,
    extractor: Callable[[np.ndarray], np.ndarray] | None,
    views: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]] | None = None,
) -> None:
    """Read every row once: digests, near-duplicate hashes and features (`views` gives an image
    model's head input and last stage from one pass; the second is the clean reference's space)."""
    train, test, progress = ws.train, ws.test, ws.progress
    if train.kind is Kind.TABLE:
        _prepare_table(ws, extractor)
    else:
        advance = progress("reading samples", train.rows + (test.rows if test else 0)) if progress else None
        # a labelled --test split is the clean reference of the poisoning check, in the model's last stage
        as_reference = views is not None and test is not None and test.labels is not None
        rows, stage, exact, near = _stream(train, views, advance, keep_features=True, keep_stage=as_reference)
        test_exact, test_near, test_stage = None, None, None
        if test is not None:
            _, test_stage, test_exact, test_near = _stream(
                test, views if as_reference else None, advance, keep_features=as_reference, keep_stage=True
            )
        ws.exact, ws.near = (exact, test_exact), (near if train.kind is Kind.IMAGES else None, test_near)
        ws.near_kind = "dhash" if train.kind is Kind.IMAGES else ""
        if rows is not None and len(rows) > 1:
            ws.reduced = features.reduce(rows)
            if stage is not None and test_stage is not None and test is not None and train.labels is not None:
                train_side, reference_side = features.reduce_with(stage, test_stage)
                assert reference_side is not None
                ws.reference = Reference(train_side, reference_side, _as_train_labels(train, test))
    if ws.reduced is not None and train.labels is not None and len(np.unique(train.labels)) > 1:
        advance = progress("nearest neighbours", train.rows) if progress else None
        ws.neighbours, _ = nearest_neighbours(ws.reduced[:, :KNN_DIMENSIONS], NEIGHBOURS, progress=advance)
        ws.disagreement = label_disagreement(ws.neighbours, train.labels)


def _as_train_labels(train: Dataset, test: Dataset) -> np.ndarray:
    """The test split's labels as the training set's class numbers, matched by class name (-1 for a
    class the training set does not have)."""
    assert test.labels is not None
    if not train.label_names or not test.label_names:
        return test.labels
    number = {name: i for i, name in enumerate(train.label_names)}
    lookup = np.array([number.get(name, -1) for name in test.label_names] + [-1], dtype=np.int64)
    known = (test.labels >= 0) & (test.labels < len(test.label_names))
    return lookup[np.where(known, test.labels, -1)]  # lookup[-1] is -1: a label without a name


def _stream(
    dataset: Dataset,
    views: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]] | None,
    advance: Callable[[int], None] | None,
    *,
    keep_features: bool,
    keep_stage: bool = False,
) -> tuple[np.ndarray | None, np.ndarray | None, list[bytes], np.ndarray | None]:
    """One pass over `dataset`: its features (a model's head input, or pooled pixels without one), the
    model's last stage (with `keep_stage` and a model; else None), exact digests and near-duplicate
    hashes."""
    parts: list[np.ndarray] = []
    stages: list[np.ndarray] = []
    exact: list[bytes] = []
    near: list[np.ndarray] = []
    for chunk in dataset.chunks():
        if dataset.kind is Kind.IMAGES:
            digests, dhash = contamination.image_hashes(chunk.x)
            near.append(dhash)
            if keep_features and views is not None:
                head, stage = views(chunk.x)
                parts.append(head)
                if keep_stage:
                    stages.append(stage)
            elif keep_features:
                parts.append(features.pooled_pixels(chunk.x))
        else:
            digests = contamination.exact_digests(np.ascontiguousarray(chunk.x).reshape(len(chunk.x), -1))
            if keep_features:
                parts.append(chunk.x)
        exact.extend(digests)
        if advance is not None:
            advance(len(chunk.x))
    matrix = np.concatenate(parts).astype(np.float32) if parts else None
    stage_matrix = np.concatenate(stages).astype(np.float32) if stages else None
    return matrix, stage_matrix, exact, (np.concatenate(near) if near else None)


def _prepare_table(ws: Workspace, extractor: Callable[[Any], np.ndarray] | None = None) -> None:
    train, test = ws.train, ws.test
    if ws.text_column:
        texts = train.columns[ws.text_column].tolist()
        test_texts = (
            test.columns[ws.text_column].tolist()
            if test is not None and ws.text_column in test.columns
            else None
        )
        ws.exact = (
            contamination.text_digests(texts),
            contamination.text_digests(test_texts) if test_texts is not None else None,
        )
        ws.near = (
            contamination.minhash(texts),
            contamination.minhash(test_texts) if test_texts is not None else None,
        )
        ws.near_kind = "minhash"
        if extractor is not None:  # a text model's features
            ws.reduced = features.reduce(extractor(texts)) if len(texts) > 1 else None
        else:
            ws.reduced = features.text_matrix(np.asarray(texts, dtype=object)) if len(texts) > 2 else None
        return
    from airlock.data.leakage import identifiers as identifier_columns

    identifiers = identifier_columns(train.columns)
    exact, normal = contamination.row_digests(train.columns, identifiers)
    if test is not None:
        if list(test.columns) != list(train.columns):
            raise DatasetError(test.path, "the test split's columns differ from the training set's")
        test_exact, test_normal = contamination.row_digests(test.columns, identifiers)
        ws.exact, ws.near = (exact, test_exact), (normal, test_normal)
    else:
        ws.exact, ws.near = (exact, None), (normal, None)
    ws.near_kind = "normalised-row"
    raw = table_features(train.columns)
    ws.section["columns"] = {"used": raw.used, "excluded": raw.excluded}
    ws.reduced = features.reduce(raw.matrix) if raw.matrix.size and len(raw.matrix) > 1 else None
