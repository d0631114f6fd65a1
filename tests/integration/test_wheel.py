"""The built wheel carries scanners/ and signatures/ and scans from a fresh virtual environment."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

from fixtures import pickles
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
