"""Code a pickle carries (torch.fx GraphModule source, TorchScript code/) is vetted with the code analyser:
real fx code passes, an added import or call fails, and what the loader exec'd is what gets read."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from airlock.analysis.carried_code import vet_fx, vet_torchscript
from airlock.findings import Severity
from airlock.parsers.pickle_walk import walk
from airlock.pipeline import ScanOptions, scan
from airlock.policy import parse_policy
from airlock.report import Report
from airlock.scanners.pickle_opcodes import WATCHED
from fixtures import benign_pickled, canary, fx_code, pickles

torch = pytest.importorskip("torch")
ONLY_PICKLES = parse_policy('name = "pickles-only"\nrequired_scanners = ["pickle_opcodes"]\n', "test")


def _scan(path: Path) -> Report:
    return scan(str(path), ScanOptions(policy=ONLY_PICKLES, use_cache=False, scanners=["pickle_opcodes"]))


def _carried(report: Report) -> list[tuple[str, Severity, str]]:
    return [(f.rule, f.severity, f.message) for f in report.findings if f.rule in ("AIR212", "AIR214")]


def _fx_source(module: object) -> str:
    """What reduce_graph_module execs for `module`: the import block and the generated code, as torch writes them."""
    from torch.fx.graph_module import _format_import_block
    from torch.package import sys_importer

    gm = torch.fx.symbolic_trace(module)
    return _format_import_block(gm.recompile().globals, sys_importer) + gm.code


class _Indexing(torch.nn.Module):
    """Tracing this emits `from builtins import getattr as getattr`, getitem, size() and a parameter named `input`."""

    def forward(self, input, scale=None):  # the parameter name fx code often carries
        return torch.relu(input[0]).view(input.shape[-1], -1), input.size(0), getattr(input, "dtype")  # noqa: B009


# --- the analyser on fx code ----------------------------------------------------------------------


@pytest.mark.parametrize("module", [benign_pickled._mlp_module, fx_code._graph_module, _Indexing])
def test_real_graph_module_code_passes(module: type) -> None:
    source = _fx_source(module())
    assert "def forward" in source and "import torch" in source
    assert vet_fx(source) == []


def _forward(extra: str) -> str:
    return fx_code.forward_with(_fx_source(_Indexing()), extra)


@pytest.mark.parametrize(
    "source,kind",
    [
        ("import torch\nimport os\n\ndef forward(self, x):\n    return x\n", "shape"),  # an added import
        (
            "import torch\nprint('hi')\n\ndef forward(self, x):\n    return x\n",
            "shape",
        ),  # an added call at module level
        (
            "from os import system as system\n\ndef forward(self, x):\n    system('true')\n    return x\n",
            "capability",
        ),
    ],
)
def test_an_added_import_or_call_at_module_level_is_critical(source: str, kind: str) -> None:
    issues = vet_fx(source)
    assert any(i.kind == kind and i.severity is Severity.CRITICAL for i in issues), issues


def test_an_added_line_in_forward_is_caught() -> None:
    [issue] = vet_fx(_forward("import json"))
    assert (issue.kind, issue.severity, issue.what) == ("shape", Severity.CRITICAL, "import json")
    [issue] = vet_fx(_forward(f"__import__('subprocess').run({canary.shell_command('x')!r}, shell=True)"))
    assert (issue.kind, issue.category, issue.severity) == ("capability", "AIR621", Severity.CRITICAL)
    [issue] = vet_fx(_forward("data = open('/etc/hostname').read()"))
    assert (issue.kind, issue.what, issue.severity) == ("builtin", "builtins.open", Severity.HIGH)


def test_code_that_does_not_parse_is_high_and_decorators_are_not_fx() -> None:
    [issue] = vet_fx("def forward(self, x:\n    return x\n")
    assert (issue.kind, issue.severity) == ("syntax", Severity.HIGH)
    [issue] = vet_fx("import torch\n\n@torch.no_grad\ndef forward(self, x):\n    return x\n")
    assert (issue.kind, issue.severity) == ("shape", Severity.CRITICAL)


def test_a_wrapped_function_from_another_module_is_medium() -> None:
    source = (
        "from mypackage.ops import fused as mypackage_ops_fused\nimport torch\n\n"
        "torch.fx._symbolic_trace.wrap('mypackage_ops_fused')\n\ndef forward(self, x):\n    return mypackage_ops_fused(x)\n"
    )
    [issue] = vet_fx(source)
    assert (issue.kind, issue.severity) == ("import", Severity.MEDIUM)
    assert "mypackage.ops.fused" in issue.reason


# --- the walker keeps what the loader was given -----------------------------------------------------


def test_the_walker_captures_the_code_as_it_was_at_the_call(tmp_path: Path) -> None:
    """The body dict is changed back to benign code after REDUCE: the capture still holds the payload."""
    data = fx_code.fx_code_rewritten_after_the_call(tmp_path).read_bytes()
    result = walk(data, watch=WATCHED)
    [call] = result.captured
    assert call.callee.qualified == "torch.fx.graph_module.reduce_graph_module"
    body, block = call.args  # type: ignore[misc]
    assert "os.system" in body.items["_code"] and block.startswith("NoneType = type(None)")
    assert walk(data).captured == []  # nothing watched, nothing kept


def test_code_that_is_not_a_string_constant_is_high(tmp_path: Path) -> None:
    """`_code` computed by a call: the walker cannot read what the loader would exec."""
    data = (
        b"\x80\x02ctorch.fx.graph_module\nreduce_graph_module\n}("
        + pickles._string("_code", 2)
        + b"cbuiltins\nstr\n"
        + pickles._string("x = 1", 2)
        + b"\x85R"
        + b"u"
        + pickles._string("", 2)
        + b"\x86R."
    )
    path = tmp_path / "computed.pkl"
    path.write_bytes(data)
    [(rule, severity, message)] = _carried(_scan(path))
    assert (rule, severity) == ("AIR214", Severity.HIGH)
    assert "not a string constant" in message


def test_the_fx_exec_helpers_are_dangerous_and_their_source_is_vetted(tmp_path: Path) -> None:
    path = tmp_path / "helper.pkl"
    path.write_bytes(
        pickles.reduce_call("torch.fx.graph_module", "_exec_with_source", pickles.python_canary("helper"))
    )
    report = _scan(path)
    assert {f.rule for f in report.findings} == {"AIR201", "AIR214"}
    assert any(f.rule == "AIR214" and f.severity is Severity.CRITICAL for f in report.findings)


# --- whole scans --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "generator",
    [
        benign_pickled.fx_graph_module_torch_save,
        benign_pickled.fx_graph_module_legacy,
        benign_pickled.fx_graph_module_pickle,
    ],
)
def test_benign_graph_modules_carry_no_finding(generator, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """reduce_graph_module is on the safe list because its code is vetted; pickle.dumps of tensors is a
    nested torch.load of clean archives."""
    report = _scan(generator(tmp_path))
    assert _carried(report) == []
    assert not [f for f in report.findings if f.severity >= Severity.HIGH]
    assert report.passed


@pytest.mark.parametrize(
    "generator",
    [fx_code.fx_forward_os_system, fx_code.fx_import_block_payload, fx_code.fx_code_rewritten_after_the_call],
)
def test_an_injected_os_system_is_critical(generator, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    report = _scan(generator(tmp_path))
    found = [f for f in report.findings if f.rule == "AIR214" and f.severity is Severity.CRITICAL]
    assert any("os.system" in f.message and f.evidence["category"] == "AIR621" for f in found), _carried(
        report
    )
    assert found[0].evidence["global"] == "torch.fx.graph_module.reduce_graph_module"
    assert not report.passed


def test_torchscript_code_with_an_import_and_a_foreign_class(tmp_path: Path) -> None:
    found = _carried(_scan(fx_code.torchscript_foreign_code(tmp_path)))
    assert [(rule, severity) for rule, severity, _ in found] == [
        ("AIR214", Severity.HIGH),
        ("AIR212", Severity.MEDIUM),
    ]
    assert "torch.classes.evil_ns" in found[1][2]


def test_real_torchscript_code_passes(tmp_path: Path) -> None:
    import zipfile

    for generator in (
        benign_pickled.torchscript_script_mlp,
        benign_pickled.torchscript_trace_cnn,
        benign_pickled.torchscript_script_control_flow,
    ):
        folder = tmp_path / generator.__name__
        folder.mkdir()
        archive = zipfile.ZipFile(generator(folder))
        sources = [
            archive.read(n).decode() for n in archive.namelist() if "/code/" in n and n.endswith(".py")
        ]
        assert sources
        assert [vet_torchscript(s) for s in sources] == [[] for _ in sources]


@pytest.mark.parametrize(
    "generator,name",
    [(fx_code.fx_forward_os_system, "fx-forward"), (fx_code.fx_import_block_payload, "fx-import-block")],
)
def test_the_fx_fixtures_are_armed(
    generator, name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """Deliberately loading a fixture in a child process fires its canary: the payload is real, and it runs on load."""
    monkeypatch.setenv("AIRLOCK_CANARY_DIR", str(tmp_path / "live"))
    path = generator(tmp_path)
    assert not canary.marker(name).exists()
    env = {**os.environ, "AIRLOCK_CANARY_DIR": str(tmp_path / "live")}
    subprocess.run(
        [sys.executable, "-c", "import sys, torch; torch.load(sys.argv[1], weights_only=False)", str(path)],
        check=True,
        timeout=120,
        env=env,
        capture_output=True,
    )
    assert canary.marker(name).exists()


def test_pickle_is_never_loaded_while_vetting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_a: object, **_k: object) -> None:
        raise AssertionError("a scanner unpickled or executed what it scans")

    path = fx_code.fx_forward_os_system(tmp_path)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(torch, "load", refuse)
    assert not _scan(path).passed
