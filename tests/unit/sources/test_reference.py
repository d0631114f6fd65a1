"""Reference parsing: hf://, bare ORG/NAME, local paths, and what is neither."""

from __future__ import annotations

from pathlib import Path

import pytest

from airlock.errors import InvalidReference, LocalPathError
from airlock.sources.interface import parse_reference


@pytest.mark.parametrize(
    "raw, repo, revision",
    [
        ("hf://google/vit-base", "google/vit-base", None),
        ("hf://google/vit-base@main", "google/vit-base", "main"),
        ("hf://org/name@refs/pr/3", "org/name", "refs/pr/3"),
        (
            "sentence-transformers/all-MiniLM-L6-v2@" + "a" * 40,
            "sentence-transformers/all-MiniLM-L6-v2",
            "a" * 40,
        ),
        ("org/model.v1_final", "org/model.v1_final", None),
    ],
)
def test_hub_references(
    raw: str, repo: str, revision: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    ref = parse_reference(raw)
    assert (ref.kind, ref.repo_id, ref.revision) == ("hf", repo, revision)


def test_only_a_full_sha_counts_as_pinned() -> None:
    assert parse_reference("hf://o/n@" + "0123456789abcdef" * 2 + "01234567").pinned
    assert not parse_reference("hf://o/n@v1.0").pinned
    assert not parse_reference("hf://o/n").pinned


def test_an_existing_path_wins_over_a_repo_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "org").mkdir()
    (tmp_path / "org" / "model").write_text("{}")
    ref = parse_reference("org/model")
    assert ref.kind == "local" and ref.path == Path("org/model")


@pytest.mark.parametrize(
    "raw", ["hf://just-one-part", "hf://a/b/c", "hf://o/n@", "hf://-bad/name", "hf://a--b/c", "  "]
)
def test_malformed_hub_references(raw: str) -> None:
    with pytest.raises(InvalidReference):
        parse_reference(raw)


@pytest.mark.parametrize("raw", ["./missing/model.bin", "/no/such/dir", "~/definitely-not-here-42", "gpt2"])
def test_missing_paths_say_so(raw: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(LocalPathError, match="no such file or directory"):
        parse_reference(raw)
