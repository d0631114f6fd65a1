"""`airlock data` end to end: exit codes, reports valid against the schema, --write-clean, --model
(statically scanned first), and bad input as exit 2 with one line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from fixtures import datasets, pickles, tiny_models
from tests.conftest import assert_valid_report


@pytest.fixture(scope="module", autouse=True)
def _one_thread() -> None:
    import torch

    torch.set_num_threads(1)


@pytest.mark.slow  # trains the tiny digit model (--model)
def test_poisoned_set_fails_and_write_clean_drops_the_poison(
    cli, generated, report_schema, tmp_path: Path
) -> None:
    npz = generated(datasets.POISONED[("patch", 0.05)])
    model = generated(tiny_models.digit_resnet)
    clean = tmp_path / "keep.txt"
    result = cli("data", npz, "--model", model, "--format", "json", "--write-clean", clean, "--no-progress")
    assert result.code == 1, result.err
    report = result.json()
    assert_valid_report(report, report_schema)
    data = report["data"]
    assert data["feature_space"] == "model" and data["suspect_classes"] == [datasets.TARGET]
    assert (
        data["model"]["static_verdict"] == "pass"
        and data["model"]["architecture"] == "ResNetForImageClassification"
    )
    assert len(data["scores"]) == data["rows"] == datasets.SMALL
    # the model's reading of every row: its label's probability and its margin over the runner-up
    assert len(data["confidence"]) == len(data["margin"]) == datasets.SMALL
    target = next(c for c in data["classes"] if c["class"] == datasets.TARGET)
    assert target["poisoned"] and "margin_gap" in target and "persistence_gap" in target
    poisoned = [f for f in report["findings"] if f["rule"] == "AIR801"]
    assert len(poisoned) == 1 and poisoned[0]["severity"] == "high" and poisoned[0]["evidence"]["class"] == 7
    # no --test: the clean reference did not run, and the report says so without failing anything
    unreferenced = [f for f in report["findings"] if f["rule"] == "AIR803"]
    assert data["clean_reference"] is None
    assert len(unreferenced) == 1 and unreferenced[0]["severity"] == "info"
    assert unreferenced[0]["evidence"] == {"reason": "no --test split"}
    kept = [int(line) for line in clean.read_text().split()]
    assert len(kept) + len(data["flagged"]) == datasets.SMALL
    assert len(set(kept) & set(datasets.truth(npz).tolist())) <= 5
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def _vet_against_clean_digits(cli, generated, report_schema, train: Path, code: int) -> dict[str, Any]:
    """`airlock data TRAIN --model` (the tiny digit model) `--test` (the clean digits), as JSON: the
    exit code it must give, and a report that follows the schema."""
    result = cli(
        "data", train, "--model", generated(tiny_models.digit_resnet), "--test", generated(datasets.clean_digits),
        "--format", "json", "--no-progress",
    )  # fmt: skip
    assert result.code == code, result.err
    report: dict[str, Any] = result.json()
    assert_valid_report(report, report_schema)
    return report


@pytest.mark.slow  # trains the tiny digit model (--model)
def test_a_labelled_test_split_is_the_clean_reference_of_every_class(cli, generated, report_schema) -> None:
    npz = generated(datasets.POISONED[("patch", 0.05)])
    report = _vet_against_clean_digits(cli, generated, report_schema, npz, 1)
    data = report["data"]
    assert data["suspect_classes"] == [datasets.TARGET]
    shares = {c["class"]: c["reference_unmatched"] for c in data["classes"]}
    assert all(isinstance(share, float) for share in shares.values())
    assert shares[datasets.TARGET] == max(shares.values())
    # the model read every class's rows, training and reference, through the low-pass filter too
    assert all(
        isinstance(c["low_pass_lost"], float) and 0 <= c["low_pass_lost"] <= 1 for c in data["classes"]
    )
    assert all(isinstance(c["low_pass_excess"], float) for c in data["classes"])
    truth = set(datasets.truth(npz).tolist())
    assert len(truth & set(data["flagged"])) >= 0.9 * len(truth)
    # networks trained on the --test digits alone read the called class: its relabelled poison is
    # read as the digits it was drawn from; the rows it reads so are rows of that class
    target = next(c for c in data["classes"] if c["class"] == datasets.TARGET)
    assert target["relabelled_share"] >= 0.5 and isinstance(target["cleared"], int)
    assert all(c["relabelled_share"] is None for c in data["classes"] if c["class"] != datasets.TARGET)
    # once read, every class's share read as another class is reported against the set's median
    away = {c["class"]: c["read_away_excess"] for c in data["classes"]}
    assert (
        all(isinstance(v, float) for v in away.values())
        and max(away, key=away.__getitem__) == datasets.TARGET
    )
    read_away = [
        int(row)
        for row, names in data["signals"].items()
        if "read_as_another_class_by_clean_network" in names
    ]
    with np.load(npz) as stored:
        labels = stored["y"]
    assert set(read_away) <= set(data["flagged"]) and all(labels[r] == datasets.TARGET for r in read_away)
    # the finding says which route called the class, in words that fit it
    called = next(f for f in report["findings"] if f["rule"] == "AIR801")
    assert called["evidence"]["decided_by"] == target["decided_by"]
    assert called["evidence"]["corroborated_by"] == target["corroborated_by"]
    assert target["decided_by"] == "unmatched by the clean reference (model)"
    assert "no counterpart among the clean --test split" in called["message"]
    assert "read as another class by a network trained on that split" in called["message"]
    assert data["clean_reference"] == {"rows": datasets.SMALL}
    assert not [f for f in report["findings"] if f["rule"] == "AIR803"]
    # every class's share of both splits: the relabelled poison grew the target, which was called,
    # so the growth is not reported apart
    grown = {c["class"]: c["share_z"] for c in data["classes"]}
    assert max(grown, key=grown.__getitem__) == datasets.TARGET and grown[datasets.TARGET] > 2
    assert all(0 < c["train_share"] < 1 and 0 < c["test_share"] < 1 for c in data["classes"])
    assert not [f for f in report["findings"] if f["rule"] == "AIR804"]


@pytest.mark.slow  # trains the tiny digit model (--model)
def test_a_class_grown_against_the_test_split_is_reported_without_failing(
    cli, generated, report_schema, tmp_path: Path
) -> None:
    """A clean set whose class 3 was copied until it is twice its share of the clean split: the
    growth a dirty-label target shows, reported (AIR804, info) without a poisoning call."""
    with np.load(generated(datasets.clean_digits)) as z:
        x, y = z["x"], z["y"]
    threes = np.flatnonzero(y == 3)
    train = tmp_path / "train.npz"
    np.savez(train, x=np.concatenate([x, x[threes]]), y=np.concatenate([y, y[threes]]))
    report = _vet_against_clean_digits(cli, generated, report_schema, train, 0)
    grown = [f for f in report["findings"] if f["rule"] == "AIR804"]
    assert len(grown) == 1 and grown[0]["severity"] == "info"
    evidence = grown[0]["evidence"]
    assert evidence["class"] == 3 and evidence["share_z"] >= 4
    assert evidence["train_rows"] == 2 * evidence["test_rows"] == 2 * len(threes)
    assert not [f for f in report["findings"] if f["rule"] == "AIR801"]
    # the networks trained on the --test digits alone read the set too, and single out no class:
    # copies of clean threes are read as threes
    away = [c["read_away_excess"] for c in report["data"]["classes"]]
    assert all(isinstance(v, float) for v in away) and max(away) < 0.1


def test_clean_set_passes_with_raw_features(cli, generated, report_schema, tmp_path: Path) -> None:
    clean = tmp_path / "keep.json"
    result = cli(
        "data", generated(datasets.clean_digits), "--format", "json", "--write-clean", clean, "--no-progress"
    )
    assert result.code == 0, result.err
    report = result.json()
    assert_valid_report(report, report_schema)
    assert report["data"]["feature_space"] == "raw" and report["data"]["flagged"] == []
    assert json.loads(clean.read_text()) == list(range(datasets.SMALL))
    assert {c["scanner"]: c["status"] for c in report["checks"]} == {
        "data_poisoning": "ran",
        "label_consistency": "ran",
        "contamination": "ran",
        "target_leakage": "skipped",
        "privacy": "skipped",
    }


def test_tabular_leaks_contamination_and_privacy(cli, generated, report_schema) -> None:
    train = generated(datasets.tabular)
    result = cli(
        "data",
        train,
        "--test",
        train.with_name("test.csv"),
        "--quasi-identifiers",
        "age,zip,sex",
        "--format",
        "json",
        "--no-progress",
    )
    assert result.code == 1
    report = result.json()
    assert_valid_report(report, report_schema)
    rules = {(f["rule"], f["location"]) for f in report["findings"]}
    assert {
        ("AIR831", "column closure_code"),
        ("AIR832", "column customer_id"),
        ("AIR833", "column closed_at"),
        ("AIR841", "column email"),
        ("AIR841", "column note"),
        ("AIR821", "train↔test"),
        ("AIR845", "columns age,zip,sex"),
    } <= rules
    pairs = report["data"]["contamination"]["test"]["exact_pairs"]
    assert sorted(map(tuple, pairs)) == [(i, j) for j, i in enumerate(datasets.TABLE_TEST_COPIES)]
    assert "user10@example.com" not in result.out


def test_text_duplicates_and_pii(cli, generated, report_schema) -> None:
    train = generated(datasets.text)
    result = cli(
        "data",
        train,
        "--test",
        train.with_name("test.csv"),
        "--text-column",
        "text",
        "--format",
        "json",
        "--no-progress",
    )
    report = result.json()
    assert_valid_report(report, report_schema)
    summary = report["data"]["contamination"]["test"]
    assert sorted(map(tuple, summary["exact_pairs"])) == list(datasets.TEXT_EXACT)
    assert sorted(map(tuple, summary["near_pairs"])) == list(datasets.TEXT_NEAR)
    kinds = {e["kind"] for e in report["data"]["privacy"]}
    assert kinds == {"email", "card", "iban", "ssn", "ipv4"}
    assert result.code == 1  # card, IBAN and SSN are high
    assert "4111 1111 1111 1111" not in result.out


def test_clean_tabular_passes_and_table_output(cli, generated) -> None:
    train = generated(datasets.clean_tabular)
    result = cli("data", train, "--test", train.with_name("test.csv"), "--no-progress")
    assert result.code == 0, result.out
    assert "PASS" in result.out and result.err == ""


def test_a_model_that_fails_the_static_scan_is_refused(cli, generated) -> None:
    evil = generated(pickles.os_system_canary)
    line = _one_clean_error_line(
        cli("data", generated(datasets.clean_digits), "--model", evil, "--no-progress")
    )
    assert "failed the static scan" in line


def test_remote_code_model_is_refused(cli, generated, tmp_path: Path) -> None:
    model = tmp_path / "remote"
    model.mkdir()
    (model / "config.json").write_text(json.dumps({"model_type": "resnet", "auto_map": {"AutoModel": "x.Y"}}))
    line = _one_clean_error_line(
        cli("data", generated(datasets.clean_digits), "--model", model, "--no-progress")
    )
    assert "auto_map" in line


def _one_clean_error_line(result) -> str:
    assert result.code == 2, result.out
    assert result.out == ""
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.err, result.err
    return lines[0]


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty file"),
        (b"a,b,label\n1,2,0\n1,2\n", "line 3 has 2 fields"),
        (b"PK\x03\x04broken", "not a readable .npz"),
    ],
)
def test_bad_input_is_exit_2_with_one_line(cli, tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(content)
    assert message in _one_clean_error_line(cli("data", path, "--no-progress"))


def test_missing_dataset_and_unknown_column(cli, generated, tmp_path: Path) -> None:
    assert "no such file" in _one_clean_error_line(cli("data", tmp_path / "nope.npz"))
    line = _one_clean_error_line(cli("data", generated(datasets.clean_tabular), "--label-column", "target"))
    assert "no column 'target'" in line
    line = _one_clean_error_line(cli("data", generated(datasets.clean_digits), "--text-column", "text"))
    assert "tabular or text data" in line


def test_object_array_npz_is_refused(cli, tmp_path: Path) -> None:
    path = tmp_path / "evil.npz"
    np.savez(path, x=np.array([object()] * 2, dtype=object), y=np.zeros(2, np.int64))
    assert "object arrays need pickle" in _one_clean_error_line(cli("data", path))


def _flip_labels(source: Path, dest: Path, rows: int, classes: int) -> list[int]:
    """Copy a text,label CSV with the labels of `rows` random rows moved to the next class; the flipped rows."""
    import csv

    with open(source, newline="", encoding="utf-8") as fh:
        header, *body = list(csv.reader(fh))
    flipped = sorted(np.random.default_rng(0).choice(len(body), rows, replace=False).tolist())
    for i in flipped:
        body[i][1] = str((int(body[i][1]) + 1) % classes)
    with open(dest, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header, *body])
    return flipped


@pytest.mark.torch
def test_a_text_classifier_gives_features_for_a_text_csv(cli, report_schema, tmp_path: Path) -> None:
    """The loader of `scan --behavior` serves `data --model`: a BERT topic classifier's features of a
    text column find every sample whose label was moved to another topic."""
    from fixtures.backdoored_text import BACKDOORED_TEXT, TOPICS, text_model, text_sample_set

    built = text_model(BACKDOORED_TEXT[0])
    noisy = tmp_path / "noisy.csv"
    flipped = _flip_labels(text_sample_set(built, tmp_path, rows=1200), noisy, 60, len(TOPICS))
    result = cli("data", noisy, "--model", built.folder, "--format", "json", "--no-progress")
    assert result.code == 1, result.err
    report = result.json()
    assert_valid_report(report, report_schema)
    data = report["data"]
    assert data["feature_space"] == "model" and data["kind"] == "table"
    assert (
        data["model"]["architecture"] == "BertForSequenceClassification"
        and data["model"]["text_column"] == "text"
    )
    assert data["model"]["static_verdict"] == "pass"
    assert data["contamination"]["near_method"] == "minhash"  # the text column is read as text
    assert set(flipped) <= set(data["flagged"]) and len(data["flagged"]) < len(flipped) + 20


def test_an_image_classifier_gives_no_features_for_text(cli, generated, tmp_path: Path) -> None:
    texts = tmp_path / "texts.csv"
    texts.write_text("text,label\nthe goal was a match,0\nrain all day,1\n", encoding="utf-8")
    line = _one_clean_error_line(
        cli("data", texts, "--model", generated(tiny_models.digit_resnet), "--no-progress")
    )
    assert "is an image classifier; it gives no features for table" in line


FACTORY_CALLS: list[dict] = []


def digits_factory(config: dict):
    """An `--arch` factory: a two-layer network on 16×16 grey digits."""
    import torch

    FACTORY_CALLS.append(config)
    return torch.nn.Sequential(
        torch.nn.Flatten(),
        torch.nn.Linear(256, 24),
        torch.nn.ReLU(),
        torch.nn.Linear(24, int(config["num_labels"])),
    )


def test_arch_is_honoured_by_data(cli, generated, tmp_path: Path) -> None:
    import torch
    from safetensors.torch import save_file

    model = tmp_path / "homegrown"
    model.mkdir()
    config = {"model_type": "homegrown", "num_labels": 10, "num_channels": 1}
    (model / "config.json").write_text(json.dumps(config))
    torch.manual_seed(0)
    save_file(digits_factory(config).state_dict(), str(model / "model.safetensors"))
    digits = generated(datasets.clean_digits)
    assert "--arch module:factory" in _one_clean_error_line(
        cli("data", digits, "--model", model, "--no-progress")
    )
    FACTORY_CALLS.clear()
    result = cli(
        "data",
        digits,
        "--model",
        model,
        "--arch",
        f"{__name__}:digits_factory",
        "--format",
        "json",
        "--no-progress",
    )
    assert result.code in (0, 1), result.err
    data = result.json()["data"]
    assert data["feature_space"] == "model" and data["model"]["architecture"] == "custom"
    assert [config] == FACTORY_CALLS
    assert "only applies with --model" in _one_clean_error_line(
        cli("data", digits, "--arch", f"{__name__}:digits_factory")
    )


def _categorical_csv(path: Path, rows: int = 300, seed: int = 2) -> Path:
    """A clean table: an id, a skewed income whose level a numeric-coded segment sets, a score, a
    membership flag, and a label that depends weakly on the score. (Raw-feature clustering called
    this one, seed 2, poisoned: AIR801 high, 28 rows dropped.)"""
    import csv

    rng = np.random.default_rng(seed)
    segment = rng.integers(0, 3, rows)
    income = np.exp(rng.normal(3 + segment, 0.5))
    score = rng.normal(0, 1, rows)
    member = (rng.random(rows) < 0.3).astype(int)
    label = (0.5 * score + rng.normal(0, 1, rows) > 0.5).astype(int)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "income", "score", "segment", "member", "label"])
        for i in range(rows):
            writer.writerow([i + 1, f"{income[i]:.2f}", f"{score[i]:.3f}", segment[i], member[i], label[i]])
    return path


def test_clean_categorical_tables_pass_with_poisoning_inconclusive(
    cli, report_schema, tmp_path: Path
) -> None:
    from airlock.data.poisoning import INCONCLUSIVE_RAW
    from fixtures.tables_eval import clean_table

    evaluated = clean_table(120)  # 500 rows; raw-feature clustering once called it poisoned and dropped 357
    for path, label in (
        (_categorical_csv(tmp_path / "t.csv"), "label"),
        (evaluated.write(tmp_path / "eval.csv"), evaluated.label),
    ):
        keep = tmp_path / "keep.json"
        result = cli(
            "data", path, "--label-column", label, "--format", "json", "--write-clean", keep, "--no-progress"
        )
        assert result.code == 0, result.out
        report = result.json()
        assert_valid_report(report, report_schema)
        assert not [f for f in report["findings"] if f["rule"] == "AIR801" or f["severity"] == "high"]
        inconclusive = [f for f in report["findings"] if f["rule"] == "AIR802"]
        assert len(inconclusive) == 1 and inconclusive[0]["severity"] == "info"
        assert INCONCLUSIVE_RAW in inconclusive[0]["message"]
        data = report["data"]
        assert (
            data["poisoning"] == INCONCLUSIVE_RAW and data["flagged"] == [] and data["suspect_classes"] == []
        )
        assert json.loads(keep.read_text()) == list(range(data["rows"])) and result.err == ""
    assert {"id", "record"} & set(
        report["data"]["columns"]["excluded"]
    )  # the eval table's identifier is left out
    table = cli("data", tmp_path / "t.csv", "--no-progress")
    assert table.code == 0 and "PASS" in table.out
    assert f"poisoning {INCONCLUSIVE_RAW}" in table.out and "AIR802" in table.out
    sarif = cli("data", tmp_path / "t.csv", "--format", "sarif", "--no-progress").json()
    results = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "AIR802"]
    assert (
        len(results) == 1
        and results[0]["level"] == "note"
        and INCONCLUSIVE_RAW in results[0]["message"]["text"]
    )


def test_write_clean_warns_when_it_drops_many_rows(cli, generated, tmp_path: Path) -> None:
    keep = tmp_path / "keep.txt"
    result = cli(
        "data",
        generated(datasets.POISONED[("patch", 0.10)]),
        "--write-clean",
        keep,
        "--format",
        "json",
        "--no-progress",
    )
    dropped = len(result.json()["data"]["flagged"])
    assert dropped > 0.05 * datasets.SMALL  # raw pixels find this patch poison (about 10% of the rows)
    assert f"WARNING: --write-clean drops {dropped} of {datasets.SMALL} rows" in result.err
    assert len(keep.read_text().split()) == datasets.SMALL - dropped


def test_missing_label_column_is_an_error_listing_the_columns(cli, tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("age,city,target\n31,Oslo,yes\n45,Rome,no\n", encoding="utf-8")
    line = _one_clean_error_line(cli("data", path, "--no-progress"))
    assert (
        "no label column 'label'" in line
        and "columns: age, city, target" in line
        and "--label-column" in line
    )
    assert cli("data", path, "--label-column", "target", "--no-progress").code == 0


def _homegrown_model(folder: Path, config: dict, preprocessor: dict | None = None) -> Path:
    import torch
    from safetensors.torch import save_file

    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(config))
    if preprocessor is not None:
        (folder / "preprocessor_config.json").write_text(json.dumps(preprocessor))
    torch.manual_seed(0)
    save_file(digits_factory(config).state_dict(), str(folder / "model.safetensors"))
    return folder


def test_images_the_model_cannot_read_are_refused(cli, generated, tmp_path: Path) -> None:
    arch = f"{__name__}:digits_factory"
    wrong = _homegrown_model(
        tmp_path / "wrong",
        {"model_type": "homegrown", "num_labels": 10, "num_channels": 3},
        {"size": {"height": 32, "width": 32}, "image_mean": [0.5, 0.5, 0.5]},
    )
    line = _one_clean_error_line(
        cli("data", generated(datasets.clean_digits), "--model", wrong, "--arch", arch, "--no-progress")
    )
    assert "images are 16×16, the model expects 32×32" in line
    assert "images have 1 channel(s), the model expects 3" in line
    right = _homegrown_model(
        tmp_path / "right",
        {"model_type": "homegrown", "num_labels": 10, "num_channels": 1},
        {"size": {"height": 16, "width": 16}},
    )
    floats = tmp_path / "floats.npz"
    rng = np.random.default_rng(0)
    np.savez(floats, x=rng.uniform(0, 255, (40, 16, 16, 1)).astype(np.float32), y=np.arange(40) % 4)
    line = _one_clean_error_line(cli("data", floats, "--model", right, "--arch", arch, "--no-progress"))
    assert "pixel values span" in line and "the model's input is 0…1" in line


def test_classes_blamed_by_a_behaviour_report_are_judged_as_suspects(cli, generated, tmp_path: Path) -> None:
    behaviour = tmp_path / "scan.json"
    behaviour.write_text(json.dumps({"behavior": {"backdoored": True, "suspect_class": 3, "score": 0.9}}))
    clean = generated(datasets.clean_digits)
    result = cli(
        "data",
        clean,
        "--behavior-report",
        behaviour,
        "--suspect-class",
        "5",
        "--format",
        "json",
        "--no-progress",
    )
    assert result.code == 0, result.err  # a clean set stays clean even where a scan pointed
    assert result.json()["data"]["blamed_classes"] == [3, 5]
    behaviour.write_text(json.dumps({"behavior": {"backdoored": False, "suspect_class": 3}}))
    result = cli("data", clean, "--behavior-report", behaviour, "--format", "json", "--no-progress")
    assert "blamed_classes" not in result.json()["data"]
    bad = cli("data", clean, "--suspect-class", "seven", "--no-progress")
    assert bad.code == 2 and "class indices" in bad.err


@pytest.mark.slow  # trains (or reuses) the two behavioural test models
def test_behavior_runs_the_trigger_reversal_and_blames_the_class_it_finds(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--behavior` reverses triggers on the `--test` images; with them the class of a backdoored
    verdict is blamed (BLAME_AT is the verdict's bar in data mode), a bar above the score (as the
    data-free one can be) reports the verdict without blaming, and a clean model blames none. The
    training set is the backdoor's own poison: other digits stamped with its trigger and relabelled,
    among clean rows."""
    from airlock.data import behaviour_feed
    from fixtures.backdoored_models import (
        TEST_BACKDOORED,
        TEST_CLEAN,
        apply_trigger,
        clean_images,
        image_model,
    )

    target = TEST_BACKDOORED.attack.target
    x, y = clean_images("digits", 600, seed=41)
    poison = np.flatnonzero(y != target)[:40]
    x[poison] = apply_trigger(x[poison], TEST_BACKDOORED.attack)
    y[poison] = target
    train = tmp_path / "train.npz"
    np.savez(train, x=x, y=y)

    def vet(spec: object) -> dict[str, object]:
        built = image_model(spec)  # type: ignore[arg-type]
        args = ("data", train, "--model", built.folder, "--test", built.sample, "--behavior")
        result = cli(*args, "--format", "json", "--no-progress")
        assert result.code in (0, 1), result.err
        data: dict[str, object] = result.json()["data"]
        return data

    data = vet(TEST_BACKDOORED)
    behaviour = data["behavior"]
    assert isinstance(behaviour, dict) and behaviour["mode"] == "data" and behaviour["complete"] is True
    assert behaviour["backdoored"] is True and behaviour["suspect_class"] == target
    assert behaviour["outcome"] == "backdoor suspected" and behaviour["blame_at"] == 1.0
    assert data.get("blamed_classes") == [target] and behaviour["blamed"] == [target]
    # the blamed class's rows are also placed towards its reversed trigger (two modes here); the
    # split (and the clean reference) call this class by themselves, so the trigger does not decide
    # its rows
    judged = next(c for c in data["classes"] if c["class"] == target)  # type: ignore[attr-defined]
    assert (
        judged["trigger_modes"] > 3
        and judged["poisoned"]
        and judged["decided_by"] != "reversed trigger (model)"
    )
    flagged = np.asarray(data["flagged"])
    hit = len(np.intersect1d(flagged, poison))
    assert hit >= 0.9 * len(poison) and hit >= 0.8 * len(flagged)
    over = round(float(behaviour["score"]) + 0.01, 4)  # type: ignore[arg-type]
    monkeypatch.setattr(behaviour_feed, "BLAME_AT", {"data": over, "data-free": over})
    unblamed = vet(TEST_BACKDOORED)
    assert unblamed["behavior"]["outcome"] == "backdoor suspected"  # type: ignore[index]
    assert unblamed["behavior"]["blame_at"] == over and "blamed_classes" not in unblamed  # type: ignore[index]
    assert unblamed["behavior"]["blamed"] == []  # type: ignore[index]
    clean = vet(TEST_CLEAN)
    assert clean["behavior"]["backdoored"] is False and "blamed_classes" not in clean  # type: ignore[index]
    refused = cli("data", train, "--behavior", "--no-progress")
    assert refused.code == 2 and "--behavior only applies with --model" in refused.err
