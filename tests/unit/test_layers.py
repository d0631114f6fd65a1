"""Imports run one way: parsers <- scanners <- engine <- service / fleet <- cli.

Every module is read with `ast` (nothing is imported), and every import counts: module level,
inside functions (lazy), under `TYPE_CHECKING`, and `importlib.import_module("...")` with a literal
name. A layer whose folder does not exist yet on this branch is skipped with the reason.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src" / "airlock"
SCANNERS = REPO / "scanners"

# Packages above the engine; the engine is everything else under src/airlock.
ABOVE_ENGINE = ("cli", "service", "fleet")


def module_name(path: Path) -> str:
    """`src/airlock/x/y.py` -> `airlock.x.y`; `scanners/x.py` -> `airlock.scanners.x` (the wheel's names)."""
    if path.is_relative_to(SCANNERS):
        parts = ["airlock", "scanners", *path.relative_to(SCANNERS).with_suffix("").parts]
    else:
        parts = ["airlock", *path.relative_to(SRC).with_suffix("").parts]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported(path: Path, source: str | None = None) -> Iterator[tuple[int, str]]:
    """(line, dotted name) for every import in the file (or in `source` as if it lived at `path`),
    relative ones resolved to absolute names."""
    text = path.read_text(encoding="utf-8") if source is None else source
    tree = ast.parse(text, filename=str(path))
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package.pop()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            yield node.lineno, module
            for alias in node.names:  # `from airlock import cli` imports airlock.cli
                yield node.lineno, f"{module}.{alias.name}"
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id)
            in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.lineno, node.args[0].value


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


@dataclass(frozen=True)
class Layer:
    name: str
    root: Path
    exclude: tuple[str, ...] = ()  # sub-folders (or files) of root that belong to another layer

    def modules(self) -> list[Path]:
        found = []
        for path in sorted(self.root.rglob("*.py")):
            rel = path.relative_to(self.root)
            if not any(rel.parts[0] == skip or rel.as_posix() == skip for skip in self.exclude):
                found.append(path)
        return found


PARSERS = Layer("parsers", SRC / "parsers")
SCANNER_PLUGINS = Layer("scanners", SCANNERS)
# `airlock/__main__.py` is `python -m airlock`: the CLI's entry point, so it is not engine.
ENGINE = Layer("engine", SRC, exclude=("parsers", *ABOVE_ENGINE, "__main__.py"))
SERVICE = Layer("service", SRC / "service")
FLEET = Layer("fleet", SRC / "fleet")
MODELS = Layer("models", SRC / "models")

_ENGINE_MODULES = tuple(
    module_name(p)
    for p in SRC.iterdir()
    if p.suffix == ".py" and p.name not in ("__init__.py", "__main__.py")
) + tuple(
    f"airlock.{p.name}"
    for p in SRC.iterdir()
    if p.is_dir() and (p / "__init__.py").exists() and p.name not in ("parsers", *ABOVE_ENGINE)
)


@dataclass(frozen=True)
class Rule:
    layer: Layer
    forbidden: tuple[str, ...]  # dotted prefixes the layer must not import

    @property
    def id(self) -> str:
        return f"{self.layer.name}-not-{'+'.join(f.removeprefix('airlock.') for f in self.forbidden)}"


RULES = [
    # bytes in, facts out: a parser knows nothing of scanners, findings, rules or the runner (it may
    # derive its errors from airlock.errors, the one error root)
    pytest.param(
        Rule(
            PARSERS,
            (
                "airlock.scanners",
                *(m for m in _ENGINE_MODULES if m != "airlock.errors"),
                *(f"airlock.{p}" for p in ABOVE_ENGINE),
            ),
        ),
        id="parsers",
    ),
    pytest.param(Rule(SCANNER_PLUGINS, tuple(f"airlock.{p}" for p in ABOVE_ENGINE)), id="scanners"),
    pytest.param(Rule(ENGINE, tuple(f"airlock.{p}" for p in ABOVE_ENGINE)), id="engine"),
    pytest.param(Rule(SERVICE, ("airlock.cli", "airlock.fleet")), id="service"),
    pytest.param(Rule(FLEET, ("airlock.cli", "airlock.service")), id="fleet"),
    # models are the stock architectures the behavioural and data checks load weights into
    pytest.param(Rule(MODELS, ("airlock.data",)), id="models-not-data"),
    pytest.param(Rule(MODELS, ("airlock.behavior",)), id="models-not-behavior"),
    pytest.param(Rule(MODELS, ("airlock.pipeline", "airlock.scanning")), id="models-not-runner"),
    pytest.param(Rule(MODELS, tuple(f"airlock.{p}" for p in ABOVE_ENGINE)), id="models-not-cli"),
]


@pytest.mark.parametrize("rule", RULES)
def test_imports_only_go_down(rule: Rule) -> None:
    if not rule.layer.root.is_dir():
        pytest.skip(f"no {rule.layer.root.relative_to(REPO)} on this branch yet: nothing to check")
    modules = rule.layer.modules()
    assert modules, f"layer {rule.layer.name} has a folder but no modules"
    upward = [
        f"{path.relative_to(REPO)}:{line} imports {name}"
        for path in modules
        for line, name in imported(path)
        if any(_under(name, prefix) for prefix in rule.forbidden)
    ]
    assert upward == [], f"{rule.layer.name} imports from a layer above it:\n" + "\n".join(
        sorted(set(upward))
    )


def test_engine_and_scanner_layers_are_not_empty() -> None:
    """Guards against a path change that would make every layer rule pass vacuously."""
    engine = {module_name(p) for p in ENGINE.modules()}
    assert {"airlock.scanning", "airlock.findings", "airlock.report"} <= engine
    assert not any(_under(m, "airlock.cli") for m in engine)
    assert "airlock.scanners" in {module_name(p) for p in SCANNER_PLUGINS.modules()}


def test_lazy_relative_and_dynamic_imports_are_seen() -> None:
    source = (
        "from __future__ import annotations\n"
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from ..report import Report\n"
        "def run() -> None:\n    from . import scan\n    import importlib\n"
        "    importlib.import_module('airlock.service.app')\n"
    )
    names = {name for _, name in imported(SRC / "cli" / "probe.py", source)}
    assert {"airlock.report", "airlock.cli.scan", "airlock.service.app"} <= names
