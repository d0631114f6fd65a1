"""pickle_opcodes: every protocol, indirection through the memo, truncation after a payload, real saves."""

from __future__ import annotations

import pickle
from collections import OrderedDict
from pathlib import Path

import pytest

from airlock.pipeline import ScanOptions, scan
from airlock.policy import parse_policy
from airlock.report import Report
from fixtures import pickles
from fixtures.canary import shell_command


ONLY_PICKLES = parse_policy('name = "pickles-only"\nrequired_scanners = ["pickle_opcodes"]\n', "test")


def _scan(path: Path) -> Report:
    return scan(str(path), ScanOptions(policy=ONLY_PICKLES, use_cache=False, scanners=["pickle_opcodes"]))


def _rules(report: Report) -> list[tuple[str, str]]:
    return [(f.rule, f.location) for f in report.findings]


@pytest.mark.parametrize("protocol", [0, 1, 2, 3, 4, 5])
def test_reduce_os_system_is_critical_in_every_protocol(protocol: int, tmp_path: Path) -> None:
    path = tmp_path / "x.bin"
    path.write_bytes(pickles.reduce_call("os", "system", shell_command(f"proto{protocol}"), protocol))
    report = _scan(path)
    assert [f.rule for f in report.findings] == ["AIR201"]
    assert report.findings[0].evidence["global"] == "os.system"
    assert report.findings[0].evidence["called_by"] == "REDUCE"


def test_stack_global_with_names_from_the_memo(tmp_path: Path) -> None:
    """Module and name strings are memoized first and fetched with BINGET: still resolved."""
    body = (
        b"\x80\x04"
        b"\x8c\x08builtins\x94"  # memo 0
        b"\x8c\x04eval\x94"  # memo 1
        b"0"  # POP (leave the stack empty)
        b"0"
        b"h\x00h\x01\x93"  # BINGET 0, BINGET 1, STACK_GLOBAL
        b"\x8c\x011\x85R."
    )
    path = tmp_path / "memo.pkl"
    path.write_bytes(body)
    report = _scan(path)
    assert [(f.rule, f.evidence["global"]) for f in report.findings] == [("AIR201", "builtins.eval")]


def test_truncated_after_the_payload_is_still_critical(tmp_path: Path) -> None:
    whole = pickles.reduce_call("subprocess", "call", shell_command("truncated"), 2)
    path = tmp_path / "cut.pkl"
    path.write_bytes(whole[:-1] + b"\xff\xff")  # REDUCE ran; then garbage instead of STOP
    rules = sorted(f.rule for f in _scan(path).findings)
    assert rules == ["AIR201", "AIR209"]


def test_unknown_global_is_medium_and_does_not_fail_by_default(tmp_path: Path) -> None:
    path = tmp_path / "u.pkl"
    path.write_bytes(pickles.reduce_call("mylib.models", "Net", "x", 4))
    report = _scan(path)
    assert [(f.rule, str(f.severity)) for f in report.findings] == [("AIR202", "medium")]
    assert report.passed


def test_benign_ordered_dict_has_no_findings(generated) -> None:
    assert _scan(generated(pickles.benign_state_dict)).findings == ()


def test_real_torch_save_state_dict_is_clean(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    torch.save(model.state_dict(), tmp_path / "pytorch_model.bin")
    torch.save(model.state_dict(), tmp_path / "legacy.pt", _use_new_zipfile_serialization=False)
    report = _scan(tmp_path)
    assert {a.format for a in report.artifacts} == {"pytorch-zip", "pytorch-legacy"}
    assert report.findings == ()


def test_whole_pickled_module_is_reported_below_the_failing_level(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    torch.save(torch.nn.Linear(2, 2), tmp_path / "full_model.pt")
    report = _scan(tmp_path)
    assert report.findings, "a pickled nn.Module imports torch.nn classes"
    assert {f.rule for f in report.findings} == {"AIR202"}
    assert report.passed


def test_payload_inside_a_pytorch_zip_is_found(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    import os

    class Payload:
        def __reduce__(self):  # noqa: ANN204
            return (os.system, (shell_command("torchzip"),))

    torch.save({"weights": torch.zeros(2), "hook": Payload()}, tmp_path / "model.bin")
    report = _scan(tmp_path)
    assert [f.rule for f in report.findings if str(f.severity) == "critical"] == ["AIR201"]
    assert report.findings[0].location.startswith("model.bin:model/data.pkl@opcode:")


def test_two_pickles_in_one_file_are_both_read(tmp_path: Path) -> None:
    first = pickle.dumps(OrderedDict(a=1), protocol=2)
    second = pickles.reduce_call("os", "system", shell_command("second"), 2)
    path = tmp_path / "two.pkl"
    path.write_bytes(first + second)
    assert [f.rule for f in _scan(path).findings] == ["AIR201"]


def test_scanning_never_unpickles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_a: object, **_k: object) -> None:
        raise AssertionError("a scanner called pickle.load(s)")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)
    path = tmp_path / "p.pkl"
    path.write_bytes(pickles.reduce_call("os", "system", shell_command("never"), 2))
    assert _scan(path).findings

