"""The built wheel carries scanners/ and signatures/ and scans from a fresh virtual environment.

A second environment gets the wheel and exactly its declared core dependencies (no extras): no torch,
no transformers, no scikit-learn. It must scan, sign and verify, and name the extra `--behavior` needs.
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from fixtures import formats, pickles
from tests.conftest import REPO

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(REPO),
        ],
        check=True,
        timeout=300,
    )
    (built,) = out.glob("model_airlock-*.whl")
    return built


def test_wheel_contains_the_plugins_and_the_rule_data(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in (
        "airlock/scanners/__init__.py",
        "airlock/scanners/pickle_opcodes.py",
        "airlock/scanners/provenance/__init__.py",
        "airlock/scanners/provenance/publishers.py",
        "airlock/scanners/modelscan/worker.py",
        "airlock/scanners/chat_templates/jinja.py",
        "airlock/parsers/pickle_walk.py",
        "airlock/parsers/limits.py",
        "airlock/signatures/VERSION",
        "airlock/signatures/rules/pickle.toml",
        "airlock/signatures/publishers.toml",
        "airlock/signatures/pickle-globals.toml",
        "airlock/schema/airlock.report.v1.json",
        "airlock/py.typed",
    ):
        assert expected in names, expected
    assert not any(n.startswith(("fixtures/", "tests/")) for n in names)


def test_fresh_venv_scans_with_the_wheel(wheel: Path, generated, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(
        subprocess.check_output(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
        ).strip()
    )
    # the wheel itself, unpacked as pip would; dependencies come from the dev environment's site-packages
    # (added as a plain path entry, so the editable airlock finder there is not activated)
    zipfile.ZipFile(wheel).extractall(site)
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    where = subprocess.check_output(
        [
            str(python),
            "-c",
            "import airlock, airlock.scanners as s; print(airlock.__file__); print(s.__file__)",
        ],
        text=True,
    )
    assert all(line.startswith(str(site)) for line in where.split()), where
    evil = generated(pickles.os_system_canary)
    done = subprocess.run(
        [str(python), "-m", "airlock", "scan", str(evil), "--format", "json", "--no-progress"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert '"rule": "AIR201"' in done.stdout
    rules = subprocess.run(
        [str(python), "-m", "airlock", "rules"], capture_output=True, text=True, timeout=60, check=False
    )
    assert rules.returncode == 0 and "AIR201" in rules.stdout


def test_editable_install_points_at_the_source_tree() -> None:
    import airlock
    import airlock.scanners
    import airlock.signatures

    assert airlock.__file__ is not None and Path(airlock.__file__) == REPO / "src" / "airlock" / "__init__.py"
    assert Path(airlock.scanners.__file__) == REPO / "scanners" / "__init__.py"
    assert Path(airlock.signatures.__file__) == REPO / "signatures" / "__init__.py"


def _core_closure(wheel: Path) -> dict[str, importlib.metadata.Distribution]:
    """The installed distributions the wheel's core requirements (no extras) pull in, transitively."""
    with zipfile.ZipFile(wheel) as zf:
        (meta,) = [n for n in zf.namelist() if n.endswith(".dist-info/METADATA")]
        requires = Parser().parsestr(zf.read(meta).decode()).get_all("Requires-Dist") or []
    installed = {
        canonicalize_name(d.metadata["Name"]): d
        for d in importlib.metadata.distributions(path=[sysconfig.get_paths()["purelib"]])
    }
    todo = [(Requirement(r), "") for r in requires]
    seen: dict[str, importlib.metadata.Distribution] = {}
    done: set[tuple[str, str]] = set()
    while todo:
        req, extra = todo.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": extra}):
            continue
        name = canonicalize_name(req.name)
        for wanted in ("", *req.extras):
            if (name, wanted) in done:
                continue
            done.add((name, wanted))
            dist = installed[name]  # a declared dependency missing from the dev environment fails here
            seen[name] = dist
            todo.extend((Requirement(r), wanted) for r in dist.requires or [])
    return seen


@pytest.fixture(scope="module")
def core_python(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtual environment holding the wheel and the files of its core dependencies, nothing else.

    The dependencies are linked from the dev environment (no download, no build): only the top-level
    entries their RECORD lists, so an undeclared dependency (torch, scikit-learn) is simply absent.
    """
    env_dir = tmp_path_factory.mktemp("core") / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(
        subprocess.check_output(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
        ).strip()
    )
    zipfile.ZipFile(wheel).extractall(site)
    dev_site = Path(sysconfig.get_paths()["purelib"])
    for dist in _core_closure(wheel).values():
        for file in dist.files or []:
            top = file.parts[0]
            if top == ".." or (site / top).exists() or not (dev_site / top).exists():
                continue
            (site / top).symlink_to(dev_site / top)
    return python


def _run_core(python: Path, *args: object, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PYTHONNOUSERSITE"] = "1"
    return subprocess.run(
        [str(python), *map(str, args)], capture_output=True, text=True, timeout=timeout, env=env, check=False
    )


def test_core_install_has_no_torch(core_python: Path) -> None:
    for module in ("torch", "transformers", "sklearn", "scipy"):
        done = _run_core(core_python, "-c", f"import {module}")
        assert done.returncode != 0 and "ModuleNotFoundError" in done.stderr, module
    where = _run_core(
        core_python, "-c", "import airlock, cryptography, model_signing; print(airlock.__file__)"
    )
    assert where.returncode == 0, where.stderr
    assert where.stdout.startswith(str(core_python.parent.parent)), where.stdout


def test_core_install_scans_signs_and_verifies(core_python: Path, generated, tmp_path: Path) -> None:
    evil = generated(pickles.os_system_canary)
    done = _run_core(core_python, "-m", "airlock", "scan", evil, "--format", "json", "--no-progress")
    assert done.returncode == 1, done.stderr
    assert '"rule": "AIR201"' in done.stdout
    model = tmp_path / "model"
    model.mkdir()
    formats.safetensors_file(model)
    (model / "config.json").write_text('{"model_type": "bert"}\n')
    key, allowlist = tmp_path / "team.key", tmp_path / "allowlist.jsonl"
    for step in (
        ("keygen", key),
        ("sign", model, "--key", key, "--allowlist", allowlist),
        ("verify", model, "--allowlist", allowlist, "--pubkey", f"{key}.pub"),
    ):
        done = _run_core(core_python, "-m", "airlock", *step)
        assert done.returncode == 0, (step[0], done.stdout, done.stderr)
    assert done.stdout.startswith("admitted"), done.stdout
    (model / "config.json").write_text('{"model_type": "gpt2"}\n')
    refused = _run_core(
        core_python, "-m", "airlock", "verify", model, "--allowlist", allowlist, "--pubkey", f"{key}.pub"
    )
    assert refused.returncode == 1 and "config.json" in refused.stdout, refused.stdout


def test_core_install_names_the_extra_behavior_needs(core_python: Path, tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    formats.safetensors_file(model)
    for args in (("scan", model, "--behavior"), ("data", model)):
        done = _run_core(core_python, "-m", "airlock", *args)
        assert done.returncode == 2, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1, done.stderr
        extra = "behavior" if "--behavior" in args else "data"
        assert f"pip install 'model-airlock[{extra}]'" in lines[0], lines[0]
