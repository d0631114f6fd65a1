"""The pre-commit hook (.pre-commit-hooks.yaml) run the way pre-commit runs it, in a real git repository.

pre-commit calls `entry` + `args` + the staged files that match `types`, from the repository root.
The hook's `types: [file]` passes every file; which ones are models is decided from their bytes.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from fixtures import formats, pickles
from tests.conftest import REPO

HOOKS = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def _run_hook(repo: Path, *extra_args: str) -> subprocess.CompletedProcess[str]:
    (hook,) = [h for h in HOOKS if h["id"] == "airlock"]
    assert hook["types"] == ["file"] and hook["language"] == "python"
    staged = _git(repo, "diff", "--cached", "--name-only", "--diff-filter=ACMR").split()
    command = shlex.split(hook["entry"])
    command[0] = str(Path(sys.executable).parent / command[0])  # the console script pre-commit would install
    return subprocess.run(
        [*command, *hook.get("args", []), *extra_args, *staged],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q")
    (root / "train.py").write_text("import os\nos.system('echo training')\n")  # source: not a model
    (root / "README.md").write_text("# a project\n")
    weights = root / "weights"
    weights.mkdir()
    formats.safetensors_file(weights)
    _git(root, "add", "-A")
    return root


def test_a_clean_commit_passes_and_source_code_is_not_scanned(repo: Path) -> None:
    done = _run_hook(repo)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "model.safetensors" in done.stdout
    assert "train.py" not in done.stdout and "README.md" not in done.stdout


def test_a_pickle_under_any_name_fails_the_commit(repo: Path) -> None:
    evil = pickles.os_system_canary(repo / "weights")
    evil.rename(repo / "notes.txt")  # formats come from the bytes, not the name
    _git(repo, "add", "-A")
    done = _run_hook(repo)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "notes.txt" in done.stdout and "AIR201" in done.stdout
    assert "train.py" not in done.stdout


def test_nothing_to_scan_passes_quietly(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    root = tmp_path / "docs-only"
    root.mkdir()
    _git(root, "init", "-q")
    (root / "notes.md").write_text("nothing here\n")
    _git(root, "add", "-A")
    done = _run_hook(root)
    assert done.returncode == 0 and done.stdout == "", done.stdout + done.stderr
