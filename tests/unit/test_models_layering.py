"""`airlock.models` (the one model loader) depends on nothing above it: not on the data scan, the
behavioural scan, the scan pipeline or the command line that use it."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import airlock.models

ABOVE = ("airlock.data", "airlock.behavior", "airlock.pipeline", "airlock.cli")
PACKAGE = Path(airlock.models.__file__).parent
MODULES = sorted(f"airlock.models.{p.stem}" for p in PACKAGE.glob("*.py") if p.stem != "__init__")


def _imported(path: Path) -> set[str]:
    """Every module an `import` or `from … import` anywhere in the file names (function bodies included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _above(name: str) -> bool:
    return any(name == top or name.startswith(f"{top}.") for top in ABOVE)


def test_no_module_of_models_names_a_layer_above_it() -> None:
    assert len(MODULES) >= 6  # the loader, image, text, arch, weights, features, …
    offending = {p.name: sorted(n for n in _imported(p) if _above(n)) for p in sorted(PACKAGE.glob("*.py"))}
    assert {k: v for k, v in offending.items() if v} == {}


def test_importing_every_module_of_models_loads_nothing_above_it() -> None:
    probe = (
        f"import importlib, json, sys\nfor m in {MODULES!r}: importlib.import_module(m)\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.startswith({ABOVE!r}))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
