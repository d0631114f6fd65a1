"""Every supported layout opens; hostile or malformed inputs give one clear DatasetError."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from airlock.data.loading import Kind, open_dataset
from airlock.errors import DatasetError
from fixtures import datasets


def _rows(dataset) -> np.ndarray:
    return np.concatenate([c.x for c in dataset.chunks(size=7)])


def test_npz_streams_in_chunks_and_scales_uint8(tmp_path: Path) -> None:
    x = np.arange(20 * 4 * 4, dtype=np.uint8).reshape(20, 4, 4, 1)
    np.savez_compressed(tmp_path / "d.npz", x=x, y=np.arange(20) % 3)
    ds = open_dataset(tmp_path / "d.npz")
    assert (ds.kind, ds.rows, ds.label_names) == (Kind.IMAGES, 20, ("0", "1", "2"))
    assert [c.start for c in ds.chunks(size=7)] == [0, 7, 14]
    np.testing.assert_allclose(_rows(ds), x / 255.0, rtol=1e-6)


def test_npz_channels_first_float_and_vectors(tmp_path: Path) -> None:
    np.savez(tmp_path / "chw.npz", x=np.ones((5, 3, 8, 8), np.float32), y=np.zeros(5, np.int64))
    assert _rows(open_dataset(tmp_path / "chw.npz")).shape == (5, 8, 8, 3)
    np.savez(tmp_path / "vec.npz", x=np.ones((5, 12), np.float32), y=np.zeros(5, np.int64))
    assert open_dataset(tmp_path / "vec.npz").kind is Kind.VECTORS


def _npz(tmp_path: Path, **arrays) -> Path:
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize(
    "arrays, message",
    [
        ({"x": np.zeros((3, 4))}, "no y array"),
        ({"x": np.zeros((3, 4)), "y": np.zeros(4, np.int64)}, "x has 3 rows but y has 4"),
        ({"x": np.zeros((3, 4)), "y": np.zeros(3)}, "1-D integer array"),
        ({"x": np.zeros((0, 4)), "y": np.zeros(0, np.int64)}, "empty dataset"),
        ({"x": np.zeros((3, 4)), "y": -np.ones(3, np.int64)}, "class indices from 0"),
        ({"x": np.zeros((3, 5, 5, 7, 2)), "y": np.zeros(3, np.int64)}, "expected N×D vectors"),
    ],
)
def test_malformed_npz_is_a_clear_error(tmp_path: Path, arrays, message: str) -> None:
    with pytest.raises(DatasetError, match=message):
        open_dataset(_npz(tmp_path, **arrays))


def test_object_arrays_are_refused_without_unpickling(tmp_path: Path) -> None:
    path = tmp_path / "obj.npz"
    np.savez(path, x=np.array([{"a": 1}] * 3, dtype=object), y=np.zeros(3, np.int64))
    with pytest.raises(DatasetError, match="object arrays need pickle"):
        open_dataset(path)


def test_truncated_and_non_zip_npz(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    np.save(buffer, np.zeros((100, 10), np.float32))
    path = tmp_path / "cut.npz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("x.npy", buffer.getvalue()[:-200])
        buffer2 = io.BytesIO()
        np.save(buffer2, np.zeros(100, np.int64))
        zf.writestr("y.npy", buffer2.getvalue())
    with pytest.raises(DatasetError, match="truncated"):
        _rows(open_dataset(path))
    (tmp_path / "junk.npz").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(DatasetError, match=r"not a readable \.npz"):
        open_dataset(tmp_path / "junk.npz")


def test_csv_ragged_rows_and_empty_files(tmp_path: Path) -> None:
    (tmp_path / "ragged.csv").write_text("a,b,label\n1,2,0\n3,4,5,1\n")
    with pytest.raises(DatasetError, match="line 3 has 4 fields, the header has 3"):
        open_dataset(tmp_path / "ragged.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DatasetError, match="empty file"):
        open_dataset(tmp_path / "empty.csv")
    (tmp_path / "header.csv").write_text("a,label\n")
    with pytest.raises(DatasetError, match="0 rows"):
        open_dataset(tmp_path / "header.csv")
    (tmp_path / "latin.csv").write_bytes(b"a,label\n\xe9,1\n")
    with pytest.raises(DatasetError, match="not UTF-8"):
        open_dataset(tmp_path / "latin.csv")


def test_csv_label_column(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("f,target\n1,yes\n2,no\n3,yes\n")
    ds = open_dataset(tmp_path / "t.csv", label_column="target", label_column_given=True)
    assert ds.labels.tolist() == [1, 0, 1] and ds.label_names == ("no", "yes") and list(ds.columns) == ["f"]
    with pytest.raises(DatasetError, match="no column 'label'"):
        open_dataset(tmp_path / "t.csv", label_column="label", label_column_given=True)
    assert open_dataset(tmp_path / "t.csv").labels is None  # the default name, absent: unlabelled


def test_parquet_matches_csv(tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    import pyarrow as pa

    pq.write_table(pa.table({"f": [1.5, 2.5], "label": ["a", "b"]}), tmp_path / "t.parquet")
    ds = open_dataset(tmp_path / "t.parquet")
    assert (
        ds.kind is Kind.TABLE and ds.labels.tolist() == [0, 1] and ds.columns["f"].tolist() == ["1.5", "2.5"]
    )
    (tmp_path / "bad.parquet").write_bytes(b"PAR1" + b"\0" * 20)
    with pytest.raises(DatasetError, match="not a readable Parquet"):
        open_dataset(tmp_path / "bad.parquet")


def test_image_folder(generated) -> None:
    ds = open_dataset(generated(datasets.image_folder))
    assert ds.kind is Kind.IMAGES and ds.rows == 61 and len(ds.files) == 61
    assert ds.label_names[0] == "digit_0"
    assert _rows(ds).shape == (61, 16, 16, 1)


def test_broken_image_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "cat").mkdir()
    (tmp_path / "cat" / "a.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    with pytest.raises(DatasetError, match="not a readable image"):
        open_dataset(tmp_path)
    (tmp_path / "cat" / "a.png").unlink()
    with pytest.raises(DatasetError, match="no images found"):
        open_dataset(tmp_path)


def test_saved_datasets_folder(tmp_path: Path) -> None:
    hf = pytest.importorskip("datasets")
    hf.Dataset.from_dict({"text": ["a b c", "d e f"], "label": [0, 1]}).save_to_disk(str(tmp_path / "ds"))
    ds = open_dataset(tmp_path / "ds")
    assert (
        ds.kind is Kind.TABLE
        and ds.labels.tolist() == [0, 1]
        and ds.columns["text"].tolist() == ["a b c", "d e f"]
    )


def test_saved_datasets_image_folder(tmp_path: Path) -> None:
    hf = pytest.importorskip("datasets")
    from PIL import Image

    images = [Image.fromarray(np.full((8, 8), v, np.uint8)) for v in (0, 128, 255)]
    features = hf.Features({"image": hf.Image(), "label": hf.ClassLabel(names=["dark", "light"])})
    hf.Dataset.from_dict({"image": images, "label": [0, 1, 1]}, features=features).save_to_disk(
        str(tmp_path / "ds")
    )
    ds = open_dataset(tmp_path / "ds")
    assert ds.kind is Kind.IMAGES and ds.label_names == ("dark", "light") and ds.labels.tolist() == [0, 1, 1]
    np.testing.assert_allclose(_rows(ds)[:, 0, 0, 0], [0, 128 / 255, 1], rtol=1e-6)
