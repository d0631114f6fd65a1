"""custom_code: what Python files shipped with a model would do on import, read as syntax trees."""

from __future__ import annotations

import ast
import json
import random
import time
from pathlib import Path

import pytest
from airlock.scanners.custom_code import Analysis, ModuleFacts
from hypothesis import given, settings
from hypothesis import strategies as st

from airlock.findings import Severity
from airlock.pipeline import ScanOptions, scan
from airlock.report import Report
from fixtures import code_files
from tests.conftest import Generated
from tests.fuzzing import examples

FUZZ = settings(max_examples=examples(150), deadline=None, database=None)


def _scan(path: Path) -> Report:
    return scan(str(path), ScanOptions(use_cache=False, scanners=["custom_code"]))


def _rules(source: str) -> list[str]:
    """The rules a source raises (each once: an import and the call it serves raise the same rule)."""
    return sorted({hit.rule for hit in Analysis(ModuleFacts(ast.parse(source))).run()})


@pytest.mark.parametrize("name", sorted(code_files.MALICIOUS))
def test_each_malicious_repo_raises_exactly_its_rules(name: str, generated: Generated) -> None:
    generator, expected = code_files.MALICIOUS[name]
    assert {f.rule for f in _scan(generated(generator)).findings} == expected


@pytest.mark.parametrize("name", sorted(code_files.BENIGN))
def test_normal_custom_code_is_medium_at_most_and_only_because_it_runs(name: str, generated: Generated) -> None:
    """No dangerous capability; the files auto_map loads still run under trust_remote_code: AIR632, medium."""
    report = _scan(generated(code_files.BENIGN[name]))
    assert {(f.rule, f.severity) for f in report.findings if f.severity >= Severity.MEDIUM} <= {("AIR632", Severity.MEDIUM)}
    assert all(f.evidence["loaded_by"] for f in report.findings if f.rule == "AIR632")


def test_the_normal_modeling_file_is_realistic_and_entirely_clean() -> None:
    assert len(code_files.MODELING.splitlines()) >= 150
    assert _rules(code_files.MODELING) == []


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_a_payload_in_the_auto_map_module_is_critical_at_its_line(generated: Generated) -> None:
    folder = generated(code_files.os_system)
    report = _scan(folder)
    line = _line_of(folder / "modeling_tinylm.py", "os.system(")
    assert [(f.rule, f.severity, f.location) for f in report.findings] == [
        ("AIR621", Severity.CRITICAL, f"modeling_tinylm.py@line:{line}")
    ]
    assert report.findings[0].evidence["loaded_by"] == "auto_map in config.json"


def test_a_module_imported_relatively_by_the_auto_map_module_keeps_full_severity(generated: Generated) -> None:
    report = _scan(generated(code_files.relative_helper))
    assert {(f.rule, f.severity, f.artifact) for f in report.findings} == {("AIR621", Severity.CRITICAL, "helpers.py")}
    assert {f.evidence["loaded_by"] for f in report.findings} == {"imported by modeling_tinylm.py"}


def test_module_level_code_in_a_file_nothing_loads_keeps_full_severity(generated: Generated) -> None:
    """train.py runs a shell at module level: whoever runs or imports it runs the payload."""
    report = _scan(generated(code_files.unloaded_script))
    assert [(f.rule, f.severity) for f in report.findings] == [("AIR621", Severity.CRITICAL)]
    assert "not loaded through auto_map, but at module level" in report.findings[0].message


@pytest.mark.parametrize(
    "source",
    [
        "import subprocess\n\n\ndef build():\n    subprocess.run(['make'])\n",
        "import subprocess\n\nif __name__ == '__main__':\n    subprocess.run(['make'])\n",
        "import os\n\nif '__main__' == __name__:\n    os.system('make')\n",
        "import os\n\n\nclass Tool:\n    def run(self):\n        os.system('make')\n",
        "import os\n\nrun = lambda: os.system('make')\n",
    ],
)
def test_code_in_functions_or_under_a_main_guard_of_a_file_nothing_loads_is_reported_lower(source: str, tmp_path: Path) -> None:
    (tmp_path / "convert.py").write_text(source)
    report = _scan(tmp_path)
    assert [(f.rule, f.severity) for f in report.findings] == [("AIR621", Severity.MEDIUM)]
    assert report.findings[0].message.endswith("(not loaded through auto_map)")


def test_class_bodies_and_decorators_run_on_import(tmp_path: Path) -> None:
    (tmp_path / "tool.py").write_text("import os\n\n\nclass Tool:\n    status = os.system('id')\n")
    assert [(f.rule, f.severity) for f in _scan(tmp_path).findings] == [("AIR621", Severity.CRITICAL)]


def test_a_file_nothing_loads_that_does_not_parse_is_medium(tmp_path: Path) -> None:
    (tmp_path / "notes.py").write_text("print 'python 2'\n")
    assert [(f.rule, f.severity) for f in _scan(tmp_path).findings] == [("AIR628", Severity.MEDIUM)]


def test_auto_map_in_a_subfolder_and_in_tokenizer_config_is_followed(tmp_path: Path) -> None:
    (tmp_path / "text").mkdir()
    (tmp_path / "text" / "tokenizer_config.json").write_text(json.dumps(
        {"auto_map": {"AutoTokenizer": [None, "tok.FastTok"], "AutoModel": "other/repo--modeling_x.X"}}))
    (tmp_path / "text" / "tok.py").write_text("import os\n\nos.popen('id')\n")
    assert [(f.rule, f.severity) for f in _scan(tmp_path).findings] == [("AIR621", Severity.CRITICAL)]


@pytest.mark.parametrize(
    "source, rules",
    [
        ("import os\nos.system('id')\n", ["AIR621"]),
        ("from subprocess import *\ncheck_output(['id'])\n", ["AIR621"]),
        ("import os\nrun = os.system\nrun('id')\n", ["AIR621"]),
        ("import os\nrun = None\nrun, n = os.system, 1\nrun('id')\n", ["AIR621"]),
        ("import os\nif (run := os.popen):\n    run('id')\n", ["AIR621"]),
        ("import os\ngetattr(os, 'system')('id')\n", ["AIR621"]),
        ("__import__('subprocess').run(['id'])\n", ["AIR621"]),
        ("import importlib\nimportlib.import_module('os').execv('/bin/sh', [])\n", ["AIR621"]),
        ("import os\nname = input()\ngetattr(os, name)('id')\n", ["AIR623"]),
        ("import importlib\nm = importlib.import_module(''.join(['o', 's']))\n", ["AIR623", "AIR629"]),
        ("eval('1+1')\n", ["AIR623"]),
        ("import pickle\npickle.loads(b'.')\n", ["AIR623"]),
        ("import base64, pickle\npickle.loads(base64.b64decode('gAQu'))\n", ["AIR624"]),
        ("import codecs\nexec(codecs.decode('cevag(1)', 'rot13'))\n", ["AIR624"]),
        ("code = bytes.fromhex('7072696e74283129')\nexec(code)\n", ["AIR624"]),
        ("import socket\ns = socket.create_connection(('203.0.113.7', 80))\n", ["AIR622"]),
        ("import httpx\nhttpx.get('https://example.org')\n", ["AIR622"]),
        ("import os\nos.getenv('OPENAI_API_KEY')\n", ["AIR626"]),
        ("import os\nfor k in os.environ: pass\n", ["AIR626"]),
        ("import os\nos.environ.copy()\n", ["AIR626"]),
        ("from pathlib import Path\n(Path.home() / '.profile').write_text('x')\n", ["AIR625"]),
        ("import os\nos.remove('/etc/hosts')\n", ["AIR625"]),
        ("open(f'/tmp/{1}', 'wb')\n", ["AIR625"]),
        ("__builtins__['open'] = print\n", ["AIR627"]),
        ("import builtins\nbuiltins.__dict__['eval'] = print\n", ["AIR627", "AIR631"]),
        ("import subprocess as sp\n", ["AIR621"]),  # a capability the file holds, called or not
        ("open(os.path.join(d, 'x'), 'w')\n", ["AIR625"]),  # a computed path written on import
    ],
)
def test_each_technique_on_its_own(source: str, rules: list[str]) -> None:
    assert _rules(source) == rules


@pytest.mark.parametrize(
    "source",
    [
        "import re\nre.compile('x')\n",
        "import torch\nmodel = torch.nn.Linear(2, 2)\nmodel.eval()\ntorch.compile(model)\n",
        "import os\nos.environ.get('TRANSFORMERS_VERBOSITY')\nos.environ['CUDA_VISIBLE_DEVICES'] = '0'\n",
        "import os\ndef save(d):\n    with open(os.path.join(d, 'vocab.txt'), 'w') as f: pass\n",
        "open('relative/file.txt', 'w')\n",
        "def eval(x):\n    return x\neval(1)\n",
        "import importlib\nimportlib.import_module('.modeling', package=__name__)\n",
        "import importlib.util\nimportlib.util.find_spec('flash_attn')\n",
        "from torch import nn\nact = getattr(nn, name)()\n",
        "x = {'a': 1}\ny = dict(x)\n",
        '"""Set HF_TOKEN or read ~/.cache/huggingface/token to log in."""\n',
    ],
)
def test_ordinary_model_code_is_not_flagged(source: str) -> None:
    assert _rules(source) == []


def test_a_syntax_error_in_a_loaded_module_is_high(generated: Generated) -> None:
    """auto_map imports a file airlock cannot vet (a newer Python may well run it)."""
    report = _scan(generated(code_files.unparseable_module))
    assert [(f.rule, f.severity) for f in report.findings] == [("AIR628", Severity.HIGH)]


@pytest.mark.parametrize("source", ["x = (" * 300 + ")" * 300, "x = " + "-" * 200_000 + "1", "a" + ".b" * 50_000 + "()"])
def test_hostile_sources_are_bounded(source: str, tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"auto_map": {"AutoModel": "modeling.M"}}))
    (tmp_path / "modeling.py").write_text(source)
    report = _scan(tmp_path)
    assert all(check.status != "error" for check in report.checks)
    assert {f.rule for f in report.findings} <= {"AIR628"}


def test_names_assigned_from_many_names_are_resolved_in_linear_time() -> None:
    names = [f"n{i}" for i in range(12)]
    lines = [f"{a} = {b}" for a in names for b in names] + ["n11 = '/etc/cron.d/x'", "open(n0, 'w')", "n0()"]
    start = time.perf_counter()
    assert _rules("\n".join(lines)) == ["AIR625"]  # found through the chain, without trying every path
    assert time.perf_counter() - start < 15.0  # hang guard, not a speed test (speed lives in bench/)


@settings(max_examples=examples(40), deadline=None, database=None)  # each example parses a 170-line module
@given(st.integers(min_value=0, max_value=2**32 - 1), st.integers(min_value=1, max_value=8))
def test_mutated_modules_are_analysed_or_rejected_never_crash(seed: int, cuts: int) -> None:
    lines = (code_files.MODELING + "\n" + "import os, base64\nexec(base64.b64decode(x))\nos.system(y)\n").splitlines()
    rng = random.Random(seed)
    for _ in range(cuts):
        lines.pop(rng.randrange(len(lines)))
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return
    for hit in Analysis(ModuleFacts(tree)).run():
        assert hit.rule.startswith("AIR62")


@FUZZ
@given(st.lists(st.sampled_from([
    "import os", "import os as o", "x = os.system", "y = x", "x = y", "exec(x)", "exec(y)", "z = __import__(x)",
    "getattr(z, x)()", "open(x, 'w')", "x = '/' + x", "x = base64.b64decode(x)", "os.environ[x]", "del x",
]), max_size=30))
def test_self_referencing_assignments_terminate(statements: list[str]) -> None:
    for hit in Analysis(ModuleFacts(ast.parse("\n".join(statements)))).run():
        assert hit.rule.startswith("AIR62")
