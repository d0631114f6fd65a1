"""The README is part of the product: its two commands and its --help block stay true."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def test_readme_starts_with_the_two_commands() -> None:
    head = (REPO / "README.md").read_text().split("\n## ", 1)[0]
    assert "make demo" in head
    assert "make test" in head


def test_ci_runs_the_readme_test_command() -> None:
    assert (REPO / ".ci" / "run").read_text().strip().endswith("exec make test")


def test_help_block_matches_the_real_output() -> None:
    text = (REPO / "README.md").read_text()
    block = re.search(r"<!-- help:begin -->\n```\n(.*?)```\n<!-- help:end -->", text, re.DOTALL)
    assert block is not None
    airlock = Path(sys.executable).parent / "airlock"
    env = {**os.environ, "COLUMNS": "100"}
    real = subprocess.run(
        [str(airlock), "--help"], capture_output=True, text=True, env=env, check=True
    ).stdout
    assert block.group(1) == real
