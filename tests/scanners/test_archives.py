"""archives and the container walk: anomalies reported where they are, every member still analysed, limits kept."""

from __future__ import annotations

import gzip
import io
import pickle
import tarfile
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from airlock.findings import Severity
from airlock.formats import Format
from airlock.parsers import containers as _containers
from airlock.parsers.containers import Anomaly, Leaf, expand
from airlock.parsers.errors import ParseError
from airlock.parsers.zip_members import members, read_directory, read_member
from airlock.pipeline import ScanOptions, scan
from airlock.policy import parse_policy
from airlock.report import Report
from airlock.scanning import Limits
from fixtures import archives, canary, pickles
from fixtures.canary import shell_command

CONTENT_SCANNERS = ["pickle_opcodes", "numpy_arrays", "archives"]
POLICY = parse_policy('name = "archives"\nrequired_scanners = []\n', "test")


def _scan(path: Path, scanners: list[str] | None = None) -> Report:
    return scan(str(path), ScanOptions(policy=POLICY, use_cache=False, scanners=scanners or CONTENT_SCANNERS))


def _found(report: Report) -> set[tuple[str, str]]:
    return {(f.rule, f.location) for f in report.findings}


@pytest.mark.parametrize("technique", sorted(archives.MALICIOUS))
def test_every_malicious_archive_fixture_yields_exactly_its_rules(technique: str, generated) -> None:
    generator, expected = archives.MALICIOUS[technique]
    report = _scan(generated(generator))
    assert {f.rule for f in report.findings} == expected, [
        (f.rule, f.location, f.message) for f in report.findings
    ]
    assert not report.passed
    assert all(c.status != "error" for c in report.checks)


@pytest.mark.parametrize("sample", sorted(archives.BENIGN))
def test_no_benign_archive_fixture_is_reported_at_medium_or_above(sample: str, generated) -> None:
    report = _scan(generated(archives.BENIGN[sample]))
    assert [f for f in report.findings if f.severity >= Severity.MEDIUM] == []
    assert all(c.status != "error" for c in report.checks)


def test_the_archive_corpus_is_documented_and_armed_harmlessly(generated) -> None:
    for generator, expected in archives.MALICIOUS.values():
        assert generator.__doc__ and all(rule in generator.__doc__ for rule in expected), generator.__name__
        _scan(generated(generator))
    assert canary.fired() == []


def test_a_bad_crc_is_reported_at_the_member_and_the_payload_still_found(generated) -> None:
    found = _found(_scan(generated(archives.torch_zip_bad_crc)))
    assert ("AIR301", "pytorch_model.bin:archive/data.pkl") in found
    assert any(
        rule == "AIR201" and where.startswith("pytorch_model.bin:archive/data.pkl@opcode:")
        for rule, where in found
    )


def test_the_bytes_before_a_zip_are_what_torch_load_unpickles(generated) -> None:
    found = _found(_scan(generated(archives.torch_zip_with_prefix_pickle)))
    assert ("AIR303", "model.pt") in found
    assert ("AIR201", "model.pt@opcode:17") in found  # located in the prefix, not in a member


def test_nested_containers_are_named_level_by_level(generated) -> None:
    [finding] = _scan(generated(archives.tar_gz_nested_zip_pickle)).findings
    assert finding.location == "release.tar.gz:[gzip]:release/weights.zip:model/data.pkl@opcode:17"


def test_a_pickle_is_found_by_its_bytes_whatever_it_is_called(tmp_path: Path) -> None:
    for name in ("weights.bin", "model.safetensors", "README.md", "noext"):
        (tmp_path / name).write_bytes(pickles.reduce_call("os", "system", shell_command("named"), 4))
    rules = {(f.artifact, f.rule) for f in _scan(tmp_path).findings}
    assert rules == {(n, "AIR201") for n in ("weights.bin", "model.safetensors", "README.md", "noext")}


def test_torch_storage_records_are_never_read(generated) -> None:
    path = generated(pickles.torch_state_dict)
    items = list(expand(path.read_bytes(), "m.bin", Format.PYTORCH_ZIP, Limits()))
    leaves = [i.member.rsplit("/", 1)[-1] for i in items if isinstance(i, Leaf)]
    assert leaves == ["data.pkl"]


def test_nesting_depth_follows_the_limits(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as outer:
        outer.writestr("inner.zip", _zip_bytes({"model.pkl": pickles.reduce_call("os", "system", "x", 2)}))
    shallow = list(expand(buffer.getvalue(), "a.zip", Format.ZIP, replace(Limits(), max_nesting=1)))
    assert [(i.kind, i.where) for i in shallow if isinstance(i, Anomaly)] == [("depth", "a.zip:inner.zip")]
    deep = list(expand(buffer.getvalue(), "a.zip", Format.ZIP, Limits()))
    assert [i.where for i in deep if isinstance(i, Leaf)] == ["a.zip:inner.zip:model.pkl"]


def test_running_out_of_time_is_a_finding_not_a_pass(tmp_path: Path) -> None:
    items = list(
        expand(_zip_bytes({"a.pkl": b"N."}), "a.zip", Format.ZIP, replace(Limits(), seconds_per_artifact=-1))
    )
    assert [(i.kind, i.message[:26]) for i in items if isinstance(i, Anomaly)] == [
        ("limit", "inspection stopped: time l")
    ]


def test_a_missing_decompressor_module_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_zstandard(name: str, *args: object, **kwargs: object) -> object:
        if name == "zstandard":
            raise ImportError("no zstandard", name="zstandard")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_zstandard)
    items = list(expand(b"\x28\xb5\x2f\xfd" + bytes(16), "m.zst", Format.ZSTD, Limits()))
    assert [(i.kind, "zstandard" in i.message) for i in items if isinstance(i, Anomaly)] == [
        ("unreadable", True)
    ]


def test_large_members_are_spooled_to_disk_not_kept_in_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_containers, "SPILL_BYTES", 1024)
    payload = pickle.dumps(list(range(2000)), protocol=4)
    [leaf] = [i for i in expand(gzip.compress(payload), "m.gz", Format.GZIP, Limits()) if isinstance(i, Leaf)]
    data, start, end = leaf.read()
    assert type(data).__name__ == "mmap" and data[start:end] == payload


def test_tar_duplicates_and_links_are_reported(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for _ in range(2):
            info = tarfile.TarInfo("model.pkl")
            info.size = 2
            archive.addfile(info, io.BytesIO(b"N."))
        hard = tarfile.TarInfo("copy.pkl")
        hard.type, hard.linkname = tarfile.LNKTYPE, "model.pkl"
        archive.addfile(hard)
    path = tmp_path / "bundle.tar"
    path.write_bytes(buffer.getvalue())
    assert {(f.rule, f.location) for f in _scan(path, ["archives"]).findings} == {
        ("AIR304", "bundle.tar:model.pkl"),
        ("AIR306", "bundle.tar:copy.pkl"),
    }


def test_zip_member_helpers_read_like_loaders(generated) -> None:
    """The path helpers other scanners use: directory from the end, bytes despite a CRC mismatch."""
    path = generated(archives.torch_zip_bad_crc)
    entries, prefix = members(path)
    [pkl] = [m for m in entries if m.name.endswith("data.pkl")]
    data, anomalies = read_member(path, pkl, max_bytes=1 << 20)
    assert prefix == 0 and data.startswith(b"\x80\x02") and any("CRC mismatch" in a for a in anomalies)


def test_a_zip_whose_directory_is_gone_is_unreadable_not_clean(tmp_path: Path) -> None:
    data = _zip_bytes({"model.pkl": pickles.reduce_call("os", "system", "x", 2)})
    path = tmp_path / "broken.zip"
    path.write_bytes(data[: data.find(b"PK\x01\x02")])
    with pytest.raises(ParseError, match="end-of-central-directory"):
        read_directory(path.read_bytes())
    assert "AIR309" in {f.rule for f in _scan(path).findings}


def _zip_bytes(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _torch_like_zip(path: Path, storages: int, extra_members: int = 0) -> Path:
    """A PyTorch-layout zip: archive/data.pkl, one raw storage record per tensor, optional other members."""
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("archive/data.pkl", pickle.dumps({"weights": [0.0]}, protocol=2))
        zf.writestr("archive/version", "3\n")
        for i in range(storages):
            zf.writestr(f"archive/data/{i}", b"\0" * 4)
        for i in range(extra_members):
            zf.writestr(f"archive/extra/{i}.txt", b"x")
    return path


def test_raw_tensor_storages_do_not_count_against_the_member_limit(tmp_path: Path) -> None:
    """A checkpoint with more tensors than `Limits.max_members` is not an archive bomb: its storages are never read."""
    limits = replace(Limits(), max_members=50)

    def anomalies(path: Path) -> list[Anomaly]:
        return [
            i
            for i in expand(path.read_bytes(), path.name, Format.PYTORCH_ZIP, limits)
            if isinstance(i, Anomaly)
        ]

    assert anomalies(_torch_like_zip(tmp_path / "tensors.pt", storages=200)) == []
    many_members = anomalies(_torch_like_zip(tmp_path / "members.pt", storages=0, extra_members=60))
    assert [a.kind for a in many_members] == ["limit"] and "more than 50 archive members" in many_members[
        0
    ].message


def test_storage_records_of_a_huge_checkpoint_are_found_in_one_pass() -> None:
    """200,000 tensors (one name each): a per-name lookup, not names x stems (that took minutes)."""
    names = [
        "archive/data.pkl",
        "archive/version",
        *(f"archive/data/{i}" for i in range(200_000)),
        "archive/data/x1",
    ]
    storage = _containers._storage_records(names)
    assert len(storage) == 200_000
    assert "archive/data.pkl" not in storage and "archive/data/x1" not in storage


@pytest.mark.parametrize("packing", ["zip", "tar.gz", "gz"])
def test_a_native_library_inside_a_container_is_reported(packing: str, tmp_path: Path) -> None:
    from fixtures.graph_files import elf_header

    library = elf_header() + b"fixture: a header without code\0"
    path = tmp_path / f"bundle.{packing}"
    if packing == "zip":
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("ops/libcustom_ops.so", library)
            zf.writestr("README.md", "MZ is not a program\n")
    elif packing == "tar.gz":
        with tarfile.open(path, "w:gz") as tar:
            info = tarfile.TarInfo("ops/libcustom_ops.so")
            info.size = len(library)
            tar.addfile(info, io.BytesIO(library))
    else:
        path.write_bytes(gzip.compress(library))
    report = _scan(path, ["archives"])
    natives = [(f.rule, f.severity, f.evidence["native_kind"]) for f in report.findings if f.rule == "AIR310"]
    assert natives == [("AIR310", Severity.HIGH, "ELF")]


def test_text_that_starts_like_a_program_inside_a_zip_is_not_native(tmp_path: Path) -> None:
    path = tmp_path / "bundle.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("notes.txt", "MZ" + " " * 200)
        zf.writestr("magic.bin", b"\x7fELF\x09\x09 not a real class or byte order")
    assert [f.rule for f in _scan(path, ["archives"]).findings] == []
