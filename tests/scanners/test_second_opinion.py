"""modelscan as a second opinion: fed by detected format, so renamed files are not skipped."""

from __future__ import annotations

from pathlib import Path

import pytest

from airlock.pipeline import ScanOptions, scan
from airlock.policy import parse_policy
from airlock.report import Report
from airlock.scanners import modelscan as second_opinion
from fixtures import pickles
from fixtures.canary import shell_command

ONLY = parse_policy('required_scanners = ["modelscan"]\n', "test")


def _scan(path: Path) -> Report:
    return scan(str(path), ScanOptions(policy=ONLY, use_cache=False, scanners=["modelscan"]))


def test_a_renamed_pickle_is_still_given_to_modelscan(tmp_path: Path) -> None:
    path = tmp_path / "weights"  # no extension: modelscan alone would skip it
    path.write_bytes(pickles.reduce_call("subprocess", "Popen", shell_command("modelscan"), 4))
    report = _scan(path)
    assert [(f.rule, f.scanner, f.evidence["module"], f.evidence["operator"]) for f in report.findings] == [
        ("AIR971", "modelscan", "subprocess", "Popen")
    ]
    assert not report.passed


def test_a_real_torch_checkpoint_gets_no_modelscan_issue(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    torch.save(torch.nn.Linear(3, 2).state_dict(), tmp_path / "checkpoint.data")
    report = _scan(tmp_path)
    assert report.findings == ()
    assert next(c for c in report.checks if c.scanner == "modelscan").status == "ran"


def test_formats_modelscan_cannot_read_are_skipped_not_failed(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    report = _scan(tmp_path)
    check = next(c for c in report.checks if c.scanner == "modelscan")
    assert str(check.status) == "skipped" and report.findings == ()


def test_hdf5_is_read_by_modelscan_in_a_worker_whose_crash_is_a_finding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """libhdf5 can be crashed by a hostile file: modelscan runs in a worker process, and its crash is
    a finding for that file, never a crash of airlock; the next file gets a fresh worker."""
    h5py = pytest.importorskip("h5py")
    with h5py.File(tmp_path / "weights", "w") as handle:
        handle.create_dataset("dense/kernel", data=[[1.0, 2.0]])
    clean = _scan(tmp_path)
    assert next(c for c in clean.checks if c.scanner == "modelscan").status == "ran"
    assert [f.rule for f in clean.findings] == []
    import airlock.scanners.modelscan.worker as workers

    workers.stop_idle()
    monkeypatch.setattr(
        workers,
        "SCRIPT",
        "import os, signal, sys\nsys.stdin.readline()\nos.kill(os.getpid(), signal.SIGSEGV)",
    )
    crashed = _scan(tmp_path)
    assert [(f.rule, f.message) for f in crashed.findings] == [
        ("AIR972", "modelscan: modelscan crashed on this file (signal 11)")
    ]
    monkeypatch.undo()
    workers.stop_idle()
    assert [f.rule for f in _scan(tmp_path).findings] == []


def test_a_worker_that_never_answers_is_stopped_at_the_time_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import airlock.scanners.modelscan.worker as workers

    path = tmp_path / "weights.pkl"
    path.write_bytes(pickles.reduce_call("subprocess", "Popen", shell_command("modelscan"), 4))
    workers.stop_idle()
    monkeypatch.setattr(workers, "SCRIPT", "import time\ntime.sleep(60)")
    monkeypatch.setattr(second_opinion, "CHILD_TIMEOUT", 0.5)
    report = _scan(path)
    assert [(f.rule, f.message) for f in report.findings] == [
        ("AIR972", "modelscan: modelscan did not finish within 0.5 s")
    ]
    monkeypatch.undo()
    workers.stop_idle()


def test_stray_output_from_modelscan_does_not_corrupt_its_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker answers on its own descriptor: a print() inside modelscan goes to stderr."""
    import airlock.scanners.modelscan.worker as workers

    path = tmp_path / "weights"
    path.write_bytes(pickles.reduce_call("subprocess", "Popen", shell_command("modelscan"), 4))
    workers.stop_idle()
    noisy = workers.SCRIPT.replace("for line in sys.stdin:", "print('noise')\nfor line in sys.stdin:")
    assert noisy != workers.SCRIPT
    monkeypatch.setattr(workers, "SCRIPT", noisy)
    assert [f.rule for f in _scan(path).findings] == ["AIR971"]
    monkeypatch.undo()
    workers.stop_idle()


def test_a_crash_on_one_file_costs_only_that_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Files queued behind the one that killed the worker are answered by a fresh worker."""
    import airlock.scanners.modelscan.worker as workers

    for name in ("a-first.pkl", "b-kill-me.pkl", "c-last.pkl"):
        (tmp_path / name).write_bytes(
            pickles.reduce_call("subprocess", "Popen", shell_command("modelscan"), 4)
        )
    workers.stop_idle()
    crashing = workers.SCRIPT.replace(
        "        result = ModelScan()",
        "        if os.path.realpath(json.loads(line)).endswith('b-kill-me.pkl'): os.kill(os.getpid(), 9)\n        result = ModelScan()",
    )
    assert crashing != workers.SCRIPT
    monkeypatch.setattr(workers, "SCRIPT", crashing)
    report = _scan(tmp_path)
    assert sorted((f.artifact, f.rule) for f in report.findings) == [
        ("a-first.pkl", "AIR971"),
        ("b-kill-me.pkl", "AIR972"),
        ("c-last.pkl", "AIR971"),
    ]
    assert "signal 9" in next(f.message for f in report.findings if f.rule == "AIR972")
    monkeypatch.undo()
    workers.stop_idle()


def test_the_check_reports_modelscans_own_time(tmp_path: Path) -> None:
    path = tmp_path / "weights.pkl"
    path.write_bytes(pickles.reduce_call("subprocess", "Popen", shell_command("modelscan"), 4))
    check = next(c for c in _scan(path).checks if c.scanner == "modelscan")
    assert check.reason is not None and check.reason.startswith("modelscan's own time ")


# --- every reading a loader might use (views) ---------------------------------------------------


def _legacy_torch(payload: bytes) -> bytes:
    """A pre-zip torch.save layout: magic-number pickle, protocol pickle, sys_info pickle, then the object."""
    import pickle

    magic = pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2)
    return (
        magic + pickle.dumps(1001, protocol=2) + pickle.dumps({"little_endian": True}, protocol=2) + payload
    )


def _artifact(path: Path):  # type: ignore[no-untyped-def]
    from airlock.artifacts import read_artifact

    return read_artifact(path.name, path)


def test_a_legacy_torch_file_is_handed_once_and_airlock_reads_its_payload(tmp_path: Path) -> None:
    """modelscan's .pt reading stops after the magic-number pickle; a .pkl reading of a pickle-heavy legacy
    file costs more than airlock's own walk (bench/large_files.py), so the payload is airlock's to find."""
    path = tmp_path / "checkpoint.pt"
    path.write_bytes(_legacy_torch(pickles.reduce_call("os", "system", shell_command("legacy"), 2)))
    assert second_opinion.views(_artifact(path)) == (".pt",)
    report = scan(str(path), ScanOptions(use_cache=False, scanners=["pickle_opcodes", "modelscan"]))
    assert "AIR201" in {f.rule for f in report.findings}
    assert not report.passed


def test_a_zip_that_is_also_a_pickle_from_byte_zero_is_handed_as_both(tmp_path: Path) -> None:
    import io
    import zipfile

    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("notes.txt", "hello")
    path = tmp_path / "bundle.zip"
    path.write_bytes(
        pickles.reduce_call("subprocess", "Popen", shell_command("polyglot"), 0) + archive.getvalue()
    )
    artifact = _artifact(path)
    assert str(artifact.format) == "zip"
    assert second_opinion.views(artifact) == (".zip", ".pkl")
    report = _scan(path)
    assert ("AIR971", "Popen", ".pkl") in {
        (f.rule, f.evidence["operator"], f.evidence["read_as"]) for f in report.findings
    }


def test_a_pickle_named_safetensors_is_handed_as_a_pickle(tmp_path: Path) -> None:
    path = tmp_path / "model.safetensors"
    path.write_bytes(pickles.reduce_call("os", "system", shell_command("named"), 4))
    assert ".pkl" in second_opinion.views(_artifact(path))
    report = _scan(path)
    assert [(f.rule, f.evidence["operator"]) for f in report.findings] == [("AIR971", "system")]


@pytest.mark.parametrize(
    "name, data, expected",
    [
        ("pytorch_model.bin", b"\x00\x01\x02" * 100, (".bin",)),  # unidentified: read as its name says
        ("weights.bin", b"K\x05garbage\x00\x00", (".bin", ".pkl")),  # unidentified, first byte an opcode
        ("model.safetensors", b"\x00\x01\x02" * 100, ()),  # nothing modelscan reads
        ("notes.txt", b"just some words\n", ()),
        ("truncated.txt", b"cos\nsystem\n(S'true'\ntR", (".pkl",)),  # text that pickle.load would run
    ],
)
def test_views_follow_what_a_loader_might_read(
    tmp_path: Path, name: str, data: bytes, expected: tuple[str, ...]
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    assert second_opinion.views(_artifact(path)) == expected


def test_a_large_pytorch_zip_named_bin_is_handed_once(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    path = tmp_path / "pytorch_model.bin"
    torch.save({"w": torch.zeros(3)}, path)
    assert second_opinion.views(_artifact(path)) == (".pt",)


def _getattr_pickle(owner: bytes, name: bytes) -> bytes:
    """protocol 2: getattr(<owner>, <name>) as scikit-learn pickles `preprocessor=str.lower`."""
    return b"\x80\x02cbuiltins\ngetattr\n" + owner + b"X" + len(name).to_bytes(4, "little") + name + b"\x86R."


def test_a_method_lookup_modelscan_flags_by_name_is_medium_when_airlock_vets_its_arguments(
    tmp_path: Path,
) -> None:
    path = tmp_path / "vectorizer.pkl"
    path.write_bytes(_getattr_pickle(b"cbuiltins\nstr\n", b"lower"))
    report = scan(str(path), ScanOptions(use_cache=False))  # every scanner, the default policy
    [issue] = [f for f in report.findings if f.rule == "AIR971"]
    assert str(issue.severity) == "medium" and "pickle_opcodes" in issue.evidence["airlock"]
    assert report.passed, report.verdict.reasons


def test_a_getattr_outside_its_constraint_still_fails(tmp_path: Path) -> None:
    path = tmp_path / "escape.pkl"
    path.write_bytes(_getattr_pickle(b"cposix\nsystem\n", b"__call__"))
    report = scan(str(path), ScanOptions(use_cache=False))
    assert ("AIR201", "critical") in {(f.rule, str(f.severity)) for f in report.findings}
    assert not report.passed
