"""custom_code: what Python files shipped with a model would do on import, read as syntax trees."""

from __future__ import annotations

import ast
import json
import random
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airlock.analysis.pycode import Analysis, ModuleFacts
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
def test_normal_custom_code_is_medium_at_most_and_only_because_it_runs(
    name: str, generated: Generated
) -> None:
    """No dangerous capability; the files auto_map loads still run under trust_remote_code: AIR632, medium."""
    report = _scan(generated(code_files.BENIGN[name]))
    assert {(f.rule, f.severity) for f in report.findings if f.severity >= Severity.MEDIUM} <= {
        ("AIR632", Severity.MEDIUM)
    }
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


def test_a_module_imported_relatively_by_the_auto_map_module_keeps_full_severity(
    generated: Generated,
) -> None:
    report = _scan(generated(code_files.relative_helper))
    assert {(f.rule, f.severity, f.artifact) for f in report.findings} == {
        ("AIR621", Severity.CRITICAL, "helpers.py")
    }
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
def test_code_in_functions_or_under_a_main_guard_of_a_file_nothing_loads_is_reported_lower(
    source: str, tmp_path: Path
) -> None:
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
    (tmp_path / "text" / "tokenizer_config.json").write_text(
        json.dumps(
            {"auto_map": {"AutoTokenizer": [None, "tok.FastTok"], "AutoModel": "other/repo--modeling_x.X"}}
        )
    )
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


@pytest.mark.parametrize(
    "source", ["x = (" * 300 + ")" * 300, "x = " + "-" * 200_000 + "1", "a" + ".b" * 50_000 + "()"]
)
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
    lines = (
        code_files.MODELING + "\n" + "import os, base64\nexec(base64.b64decode(x))\nos.system(y)\n"
    ).splitlines()
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
@given(
    st.lists(
        st.sampled_from(
            [
                "import os",
                "import os as o",
                "x = os.system",
                "y = x",
                "x = y",
                "exec(x)",
                "exec(y)",
                "z = __import__(x)",
                "getattr(z, x)()",
                "open(x, 'w')",
                "x = '/' + x",
                "x = base64.b64decode(x)",
                "os.environ[x]",
                "del x",
            ]
        ),
        max_size=30,
    )
)
def test_self_referencing_assignments_terminate(statements: list[str]) -> None:
    for hit in Analysis(ModuleFacts(ast.parse("\n".join(statements)))).run():
        assert hit.rule.startswith("AIR62")


# The capability map: one tiny source per indirection; what counts is the capability a name reaches.
@pytest.mark.parametrize(
    "source, rule",
    [
        ("import os\nlist(map(os.system, ['id']))\n", "AIR621"),  # passed to map
        ("import os\nlist(filter(os.popen, ['id']))\n", "AIR621"),  # passed to filter
        ("import functools, os\nrun = functools.partial(os.system, 'id')\n", "AIR621"),  # partial
        ("import os\nrun = os.system\n", "AIR621"),  # stored, never called
        ("import os\nclass K:\n    run = os.system\nK.run('id')\n", "AIR621"),  # class attribute
        ("import os\nTABLE = {'go': os.system}\nTABLE['go']('id')\n", "AIR621"),  # dict value
        ("import os\nFNS = [os.execv]\n", "AIR621"),  # list element
        ("import subprocess as sp\n", "AIR621"),  # aliased import
        ("from os import system as s\n", "AIR621"),  # aliased from-import
        ("from os import *\nsystem('id')\n", "AIR621"),  # star import
        ("import os\nos.path.os.system('id')\n", "AIR621"),  # attribute chain through a re-export
        ("import shutil\nshutil.os.popen('id')\n", "AIR621"),  # re-export in another module
        ("import os\n@os.system\ndef f(): pass\n", "AIR621"),  # decorator
        ("import os\ndef f(run=os.system): pass\n", "AIR621"),  # default argument
        ("import os\nf = lambda: os.spawnl\n", "AIR621"),  # lambda body
        ("import os\nfns = [os.system for _ in range(1)]\n", "AIR621"),  # comprehension
        ("import multiprocessing\nctx = multiprocessing.get_context('spawn')\n", "AIR621"),
        ("import subprocess\nsubprocess.SomethingNew\n", "AIR621"),  # unknown attribute of a dangerous module
        ("import pty\n", "AIR621"),
        ("import ctypes\n", "AIR621"),
        ("import socket\n", "AIR622"),
        ("from urllib.request import urlopen as get\n", "AIR622"),
        ("import http.client\n", "AIR622"),
        ("import ftplib\n", "AIR622"),
        ("import smtplib\n", "AIR622"),
        ("import requests as r\nfetch = r.get\n", "AIR622"),
        ("run = exec\n", "AIR623"),  # exec as a value
        ("f = [eval][0]\n", "AIR623"),
        ("c = compile\n", "AIR623"),
        ("imp = __import__\n", "AIR623"),
        ("import importlib as il\nload = il.import_module\n", "AIR623"),
        ("import runpy\n", "AIR623"),
        ("import pkgutil\n", "AIR623"),
        ("import zipimport\n", "AIR623"),
        ("import marshal\nf = marshal.loads\n", "AIR623"),
        ("from pickle import loads\n", "AIR623"),
        ("import sys\nm = sys.modules\n", "AIR631"),
        ("g = globals()\n", "AIR631"),
        ("v = vars()\n", "AIR631"),
        ("l = locals\n", "AIR631"),
        ("b = __builtins__\n", "AIR631"),
        ("import builtins\n", "AIR631"),
        ("import shutil\nnuke = shutil.rmtree\n", "AIR625"),
        ("import os\ndef f(p):\n    os.remove(p)\n", "AIR625"),
        ("import os\ngetattr(os, 'sy' + 'stem')\n", "AIR629"),  # name built from constant pieces
        ("import os\ngetattr(os, ''.join(['sys', 'tem']))\n", "AIR629"),
        ("import os\nn = 'metsys'[::-1]\ngetattr(os, n)\n", "AIR629"),  # reversed
        ("getattr(x, bytes([115, 121, 115]).decode())\n", "AIR629"),
        ("__import__(chr(111) + chr(115))\n", "AIR629"),  # chr() arithmetic
        ("name = ''.join(map(chr, [111, 115, 46]))\n", "AIR629"),
        ("name = ''.join(chr(c) for c in [111, 115, 46])\n", "AIR629"),
        ("__import__('{}{}'.format('o', 's'))\n", "AIR629"),
        ("exec('import ' + 'os')\n", "AIR629"),  # exec of a computed string
        ("exec(f'import {mod}')\n", "AIR629"),
        ("import codecs\neval(codecs.decode('bf.flfgrz', 'rot13'))\n", "AIR624"),  # decode-then-run
        ("import zlib, marshal\nmarshal.loads(zlib.decompress(b'x'))\n", "AIR624"),
        ("import binascii\nexec(binascii.unhexlify('7072696e74'))\n", "AIR624"),
        (f"BLOB = {'QUJD' * 400!r}\n", "AIR629"),  # a long encoded literal
    ],
)
def test_dangerous_capability_is_found_through_every_indirection(source: str, rule: str) -> None:
    assert rule in _rules(source)


@pytest.mark.parametrize(
    "source",
    [
        "import os\npath = os.path.join('a', 'b')\nexists = os.path.exists(path)\n",
        "import os\nlevel = os.environ.get('TRANSFORMERS_VERBOSITY', 'warning')\nn = os.getenv('WORLD_SIZE')\n",
        "import logging\nlogger = logging.getLogger(__name__)\nlogger.warning('x')\n",
        "import warnings\nwarnings.warn('deprecated', FutureWarning)\n",
        "import math, typing, dataclasses\nfrom typing import Optional\n@dataclasses.dataclass\nclass C:\n    x: Optional[int] = None\n",
        "import json\nwith open(config_path) as f:\n    cfg = json.load(f)\n",
        "import torch\nfrom torch import nn\nimport torch.nn.functional as F\nact = getattr(F, name)\n",
        "from transformers import PreTrainedModel\nfrom transformers.utils import logging\n",
        "import importlib.util\nHAS_FLASH = importlib.util.find_spec('flash_attn') is not None\n",
        "import sys\nif sys.version_info >= (3, 10): pass\nPLATFORM = sys.platform\n",
        "layer = getattr(self, 'layer_' + str(i))\nsetattr(self, f'h{i}', block)\n",
        "from torch.nn import functional as F\nACT = 'gelu'\nNAME = ACT\nfn = getattr(F, NAME)\n",
        "cs = [chr(n) for n in range(256)]\n",  # GPT-2 bytes_to_unicode
        "text = bytearray([decoder[c] for c in tokens]).decode('utf-8', errors='replace')\n",
        "import os\ndef save_vocabulary(self, d):\n    with open(os.path.join(d, 'vocab.json'), 'w') as f:\n        f.write('{}')\n",
        "import os\ndef save(d):\n    os.makedirs(d, exist_ok=True)\n",
        "PATTERN = r\"'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+\"\n",
    ],
)
def test_benign_references_are_not_capabilities(source: str) -> None:
    assert _rules(source) == []


def test_capability_severities_come_from_the_map(tmp_path: Path) -> None:
    """In a file auto_map loads: ctypes is high, sys.modules critical, both from code-capabilities.toml."""
    (tmp_path / "config.json").write_text(json.dumps({"auto_map": {"AutoModel": "modeling.M"}}))
    (tmp_path / "modeling.py").write_text("import ctypes\nimport sys\n\n\ndef f():\n    return sys.modules\n")
    found = {(f.rule, f.severity, f.location) for f in _scan(tmp_path).findings}
    assert found == {
        ("AIR621", Severity.HIGH, "modeling.py@line:1"),
        ("AIR631", Severity.CRITICAL, "modeling.py@line:6"),
    }


def test_imports_in_a_file_nothing_loads_are_not_reported_but_their_uses_are(tmp_path: Path) -> None:
    (tmp_path / "tool.py").write_text(
        "import socket\n\n\ndef ping():\n    return socket.create_connection(('h', 1))\n"
    )
    assert [(f.rule, f.severity, f.location) for f in _scan(tmp_path).findings] == [
        ("AIR622", Severity.MEDIUM, "tool.py@line:5")
    ]


def test_remote_code_is_reported_only_when_nothing_else_is(generated: Generated) -> None:
    report = _scan(generated(code_files.transformers_model))
    assert sorted((f.rule, f.artifact) for f in report.findings) == [
        ("AIR632", "configuration_tinylm.py"),
        ("AIR632", "modeling_tinylm.py"),
    ]
    assert "AIR632" not in {f.rule for f in _scan(generated(code_files.os_system)).findings}


def test_the_capability_map_resolves_re_exports_and_every_rule_belongs_to_the_scanner() -> None:
    from airlock.analysis.pycode import load_capabilities
    from airlock.rules import load_rules
    from airlock.scanners.custom_code import CustomCode

    capabilities = load_capabilities()
    assert {c.rule for c in capabilities.capabilities} <= CustomCode.rules
    assert all(load_rules()[c.rule].scanner == "custom_code" for c in capabilities.capabilities)
    assert capabilities.lookup("os.path.os.system").name == "process"  # type: ignore[union-attr]
    assert capabilities.lookup("torch.serialization.pickle.loads").name == "deserialize"  # type: ignore[union-attr]
    assert capabilities.lookup("os.path.join") is None
    assert capabilities.lookup("builtins.print") is None


def _approving(digest: str) -> ScanOptions:
    from airlock.policy import parse_policy

    policy = parse_policy(
        f'name = "t"\nrequired_scanners = []\n[code]\napproved = ["sha256:{digest}"]\n', "t"
    )
    return ScanOptions(use_cache=False, scanners=["custom_code"], policy=policy)


def test_a_policy_approves_a_code_file_by_sha256(generated: Generated) -> None:
    folder = generated(code_files.os_system)
    before = _scan(folder)
    assert before.verdict.decision == "fail"
    digest = next(a.sha256 for a in before.artifacts if a.path == "modeling_tinylm.py")
    after = scan(str(folder), _approving(digest))
    assert [(f.rule, f.severity, f.evidence["approved"]) for f in after.findings] == [
        ("AIR621", Severity.INFO, "approved by policy")
    ]
    assert after.findings[0].evidence["severity_before_approval"] == "critical"
    assert after.verdict.decision == "pass"


def test_approval_covers_only_the_file_with_that_digest(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"auto_map": {"AutoConfig": "a.C", "AutoModel": "b.M"}}))
    (tmp_path / "a.py").write_text("import os\nos.system('true')\n")
    (tmp_path / "b.py").write_text("import os\nos.system('false')\n")
    digest = next(a.sha256 for a in _scan(tmp_path).artifacts if a.path == "a.py")
    after = scan(str(tmp_path), _approving(digest))
    assert {(f.artifact, f.severity) for f in after.findings} == {
        ("a.py", Severity.INFO),
        ("b.py", Severity.CRITICAL),
    }
    assert after.verdict.decision == "fail"


@pytest.mark.parametrize(
    "code", ['[code]\napproved = ["abc"]\n', "[code]\napproved = 'x'\n", "[code]\ntrusted = []\n"]
)
def test_bad_code_approvals_are_policy_errors(code: str) -> None:
    from airlock.errors import PolicyError
    from airlock.policy import parse_policy

    with pytest.raises(PolicyError):
        parse_policy(code, "t")
