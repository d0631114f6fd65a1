"""Fast start: a static scan never imports torch, transformers, scikit-learn or huggingface_hub."""

from __future__ import annotations

import json
import subprocess
import sys

from fixtures import pickles

HEAVY = ("torch", "transformers", "sklearn", "scipy", "huggingface_hub", "tensorflow")

PROBE = """
import sys, runpy
sys.argv = ["airlock", *sys.argv[1:]]
try:
    runpy.run_module("airlock", run_name="__main__")
except SystemExit:
    pass
import json
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {heavy})), file=sys.stderr)
"""


def _heavy_modules_loaded(*args: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=set(HEAVY)), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return json.loads(done.stderr.strip().splitlines()[-1])


def test_help_imports_nothing_heavy() -> None:
    assert _heavy_modules_loaded("--help") == []


def test_static_scan_imports_nothing_heavy(generated) -> None:
    assert _heavy_modules_loaded("scan", str(generated(pickles.os_system_canary)), "--format", "json") == []
