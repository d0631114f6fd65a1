"""Artifacts: one streaming pass per file yields its size, hashes, and the bytes detection needs;
the model digest depends on file names and contents only.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from airlock import artifacts
from airlock.artifacts import CHUNK, Artifact, collect, manifest, model_digest, read_artifact
from airlock.errors import ArtifactError
from airlock.formats import HEAD_BYTES, TAIL_BYTES, Format, Reader
from fixtures import formats as samples
from tests.conftest import Generated

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer


def _bytes(size: int) -> bytes:
    return random.Random(size).randbytes(size)


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 5])
def test_size_and_sha256_equal_hashlib(size: int, tmp_path: Path) -> None:
    data = _bytes(size)
    artifact = read_artifact("dir/blob.bin", _write(tmp_path / "blob", data))
    assert (artifact.size, artifact.sha256) == (size, hashlib.sha256(data).hexdigest())
    assert (artifact.path, artifact.location) == ("dir/blob.bin", tmp_path / "blob")


@pytest.mark.parametrize(
    "data, git_hash_object",
    [
        (b"", "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"),
        (b"hello\n", "ce013625030ba8dba906f756967f9e9ca394464a"),
    ],
)
def test_git_sha1_equals_git_hash_object(data: bytes, git_hash_object: str, tmp_path: Path) -> None:
    assert read_artifact("f", _write(tmp_path / "f", data)).git_sha1 == git_hash_object


@pytest.mark.parametrize("size", [1, 4096, CHUNK + 1])
def test_git_sha1_is_the_blob_hash(size: int, tmp_path: Path) -> None:
    data = _bytes(size)
    expected = hashlib.sha1(b"blob %d\0" % size + data).hexdigest()
    assert read_artifact("f", _write(tmp_path / "f", data)).git_sha1 == expected


def test_git_sha1_is_skipped_above_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(artifacts, "GIT_SHA1_MAX", 100)
    at_limit = read_artifact("a", _write(tmp_path / "a", _bytes(100)))
    above = read_artifact("b", _write(tmp_path / "b", _bytes(101)))
    assert at_limit.git_sha1 == hashlib.sha1(b"blob 100\0" + _bytes(100)).hexdigest()
    assert above.git_sha1 is None
    assert above.sha256 == hashlib.sha256(_bytes(101)).hexdigest()


class _ShortReads(io.FileIO):
    """A real file whose reads return at most 4,099 bytes, as FUSE and network file systems may."""

    def readinto(self, buffer: WriteableBuffer) -> int | None:
        return super().readinto(memoryview(buffer)[:4099])


def _short_open(file: Path, mode: str = "rb", buffering: int = -1) -> io.FileIO:
    return _ShortReads(file, "rb")


SEAMS = [1, HEAD_BYTES - 1, HEAD_BYTES + 1, CHUNK - 1, CHUNK + 1, 2 * CHUNK + 7, 3 * CHUNK + 5]


@pytest.mark.parametrize("short_reads", [False, True], ids=["whole-reads", "short-reads"])
@pytest.mark.parametrize("size", SEAMS)
def test_detect_gets_the_true_head_tail_and_a_working_reader(
    size: int, short_reads: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _bytes(size)
    seen: dict[str, object] = {}

    def spy(head: bytes, tail: bytes, total: int, read: Reader | None = None) -> Format:
        assert read is not None
        middle = size // 3
        seen.update(
            head=head, tail=tail, size=total, middle=read(middle, 1000), end=read(max(0, size - 3), 1000)
        )
        return Format.UNKNOWN

    monkeypatch.setattr(artifacts, "detect", spy)
    if short_reads:
        monkeypatch.setattr(artifacts, "open", _short_open, raising=False)
    artifact = read_artifact("f", _write(tmp_path / "f", data))
    assert artifact.sha256 == hashlib.sha256(data).hexdigest()
    assert seen["head"] == data[:HEAD_BYTES]
    assert seen["tail"] == data[-TAIL_BYTES:]
    assert seen["size"] == size
    assert seen["middle"] == data[size // 3 : size // 3 + 1000]
    assert seen["end"] == data[max(0, size - 3) :]


def test_a_zip_split_across_two_chunks_is_whole_in_the_tail(generated: Generated, tmp_path: Path) -> None:
    """Three chunks of junk less half a torch.save zip, then the zip: only a tail stitched in order shows it."""
    checkpoint = generated(samples.pytorch_zip).read_bytes()
    path = _write(tmp_path / "f", _bytes(2 * CHUNK + CHUNK - len(checkpoint) // 2) + checkpoint)
    assert read_artifact("f", path).format is Format.PYTORCH_ZIP


def test_progress_reports_every_byte_once(tmp_path: Path) -> None:
    reported: list[int] = []
    read_artifact("f", _write(tmp_path / "f", _bytes(2 * CHUNK + 9)), reported.append)
    assert sum(reported) == 2 * CHUNK + 9


def _snapshot(root: Path, files: dict[str, bytes]) -> list[tuple[str, Path]]:
    return [(rel, _write(root / rel, data)) for rel, data in files.items()]


FILES = {
    "z.bin": _bytes(CHUNK + 3),
    "a/b.json": b'{"a": 1}',
    "m/n/o.txt": b"hello\n",
    "A.txt": b"",
    "b.bin": _bytes(2 * CHUNK),
    "a/a.py": b"import os\n",
}


def test_collect_in_parallel_equals_sequential_and_is_sorted(tmp_path: Path) -> None:
    files = _snapshot(tmp_path, FILES)
    random.Random(1).shuffle(files)
    parallel = collect(files, workers=2)
    assert parallel == collect(files, workers=1)
    assert [a.path for a in parallel] == sorted(FILES)


def test_model_digest_ignores_where_the_files_sit_and_their_order(tmp_path: Path) -> None:
    here = collect(_snapshot(tmp_path / "here", FILES))
    there = collect(_snapshot(tmp_path / "elsewhere" / "deeper", FILES))
    assert {a.location for a in here}.isdisjoint(a.location for a in there)
    assert model_digest(here) == model_digest(there) == model_digest(tuple(reversed(there)))
    assert model_digest(here).startswith("sha256:") and len(model_digest(here)) == len("sha256:") + 64


def _one_byte_changed() -> dict[str, bytes]:
    changed = dict(FILES)
    changed["z.bin"] = (
        FILES["z.bin"][:CHUNK] + bytes([FILES["z.bin"][CHUNK] ^ 1]) + FILES["z.bin"][CHUNK + 1 :]
    )
    return changed


@pytest.mark.parametrize(
    "variant",
    [
        _one_byte_changed(),
        {("m/n/p.txt" if k == "m/n/o.txt" else k): v for k, v in FILES.items()},  # a renamed file
        {**FILES, "extra.txt": b""},  # one more (empty) file
        {k: v for k, v in FILES.items() if k != "A.txt"},  # one (empty) file fewer
    ],
    ids=["one-byte", "renamed", "added", "removed"],
)
def test_model_digest_changes_with_content_names_and_file_set(
    variant: dict[str, bytes], tmp_path: Path
) -> None:
    original = collect(_snapshot(tmp_path / "a", FILES))
    assert model_digest(collect(_snapshot(tmp_path / "b", variant))) != model_digest(original)


def test_manifest_is_one_canonical_json_line_per_file(tmp_path: Path) -> None:
    artifacts_ = collect(_snapshot(tmp_path, {"b.txt": b"hello\n", "a.txt": b""}))
    lines = manifest(artifacts_).decode().splitlines()
    assert lines == [
        json.dumps(
            {"path": "a.txt", "sha256": hashlib.sha256(b"").hexdigest(), "size": 0}, separators=(",", ":")
        ),
        json.dumps(
            {"path": "b.txt", "sha256": hashlib.sha256(b"hello\n").hexdigest(), "size": 6},
            separators=(",", ":"),
        ),
    ]
    assert model_digest(artifacts_) == "sha256:" + hashlib.sha256(manifest(artifacts_)).hexdigest()


def _deleted(tmp_path: Path) -> Path:
    path = _write(tmp_path / "gone.bin", b"x")
    path.unlink()
    return path


def _directory(tmp_path: Path) -> Path:
    path = tmp_path / "folder.bin"
    path.mkdir()
    return path


@pytest.mark.parametrize("make", [_deleted, _directory], ids=["deleted", "directory"])
def test_an_unreadable_path_raises_artifact_error(make: Callable[[Path], Path], tmp_path: Path) -> None:
    path = make(tmp_path)
    with pytest.raises(ArtifactError) as caught:
        read_artifact("x", path)
    assert caught.value.path == str(path)
    with pytest.raises(ArtifactError):
        collect([("x", path), *_snapshot(tmp_path / "ok", {"a": b"1", "b": b"2"})], workers=2)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_a_file_without_read_permission_raises_artifact_error(tmp_path: Path) -> None:
    path = _write(tmp_path / "secret.bin", b"x")
    path.chmod(0)
    try:
        with pytest.raises(ArtifactError):
            read_artifact("secret.bin", path)
    finally:
        path.chmod(0o600)


def test_artifact_to_dict_is_the_report_shape(tmp_path: Path) -> None:
    artifact: Artifact = read_artifact("c.json", _write(tmp_path / "c.json", b"{}"))
    assert artifact.to_dict() == {
        "path": "c.json",
        "size": 2,
        "sha256": hashlib.sha256(b"{}").hexdigest(),
        "format": "json",
    }
