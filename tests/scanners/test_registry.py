"""The scanner registry is complete, and every rule is owned by exactly one scanner."""

from __future__ import annotations

import ast
import pkgutil
from pathlib import Path

import airlock.parsers
import airlock.scanners
from airlock.data.checks import DATA_CHECKS
from airlock.rules import load_rules
from airlock.scanners import ENTRIES, REGISTRY


def test_every_scanner_module_is_registered() -> None:
    modules = {m.name for m in pkgutil.iter_modules(airlock.scanners.__path__) if not m.name.startswith("_")}
    assert modules == {cls.__module__.rsplit(".", 1)[1] for cls in REGISTRY}


def test_the_scanners_folder_holds_only_the_registered_plug_ins() -> None:
    """`ls scanners/` equals the registry: a plug-in with private helpers is a small package of its own."""
    folder = Path(airlock.scanners.__file__).parent
    listed = {p.name.removesuffix(".py") for p in folder.iterdir() if p.name != "__pycache__"} - {"__init__"}
    assert listed == {e.name for e in ENTRIES}
    assert all(e.module == e.name for e in ENTRIES)


def _plugin_sources() -> dict[str, list[Path]]:
    folder = Path(airlock.scanners.__file__).parent
    return {
        e.name: sorted((folder / e.name).glob("*.py"))
        if (folder / e.name).is_dir()
        else [folder / f"{e.name}.py"]
        for e in ENTRIES
    }


def _imported(path: Path, package: str) -> set[str]:
    """Every module `path` imports (relative imports resolved against `package`), top level or not."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def test_plug_ins_never_import_each_other() -> None:
    for name, files in _plugin_sources().items():
        own = f"airlock.scanners.{name}"
        for path in files:
            package = own if path.parent.name == name else "airlock.scanners"
            for module in _imported(path, package):
                if module == "airlock.scanners" or not module.startswith("airlock.scanners."):
                    continue
                assert module == own or module.startswith(own + "."), (path.name, module)


def test_parsers_import_nothing_from_the_scanners_or_the_engine() -> None:
    """Imports run one way: parsers <- scanners <- engine."""
    folder = Path(airlock.parsers.__file__).parent
    for path in sorted(folder.glob("*.py")):
        for module in _imported(path, "airlock.parsers"):
            if module.startswith("airlock") and module != "airlock":
                assert module.startswith("airlock.parsers") or module == "airlock.errors", (path.name, module)


def test_scanner_names_are_unique_and_versioned() -> None:
    names = [cls.name for cls in REGISTRY]
    assert len(names) == len(set(names))
    assert all(cls.version for cls in REGISTRY)


def test_every_declared_rule_exists_and_belongs_to_its_scanner() -> None:
    rules = load_rules()
    for cls in REGISTRY:
        for rule_id in cls.rules:
            assert rules[rule_id].scanner == cls.name, (cls.name, rule_id)


def test_every_data_check_rule_exists_and_belongs_to_its_check() -> None:
    rules = load_rules()
    for cls in DATA_CHECKS:
        for rule_id in cls.rules:
            assert rules[rule_id].scanner == cls.name, (cls.name, rule_id)


def test_every_rule_in_the_data_is_emitted_by_someone() -> None:
    from airlock.waivers import EXPIRED_RULE

    declared = {rule for cls in (*REGISTRY, *DATA_CHECKS) for rule in cls.rules} | {"AIR901", EXPIRED_RULE}
    assert set(load_rules().rules) == declared


def test_each_entry_describes_its_class() -> None:
    """`reads` lets the pipeline skip importing a scanner: it must cover everything `applies` accepts."""
    from pathlib import Path

    from airlock.artifacts import Artifact
    from airlock.behavior.plugin import BehaviouralScanner
    from airlock.formats import Format
    from airlock.scanners import ENTRIES
    from airlock.scanning import ArtifactScanner, Scanner

    for registered in ENTRIES:
        cls = registered.load()
        assert cls.name == registered.name
        assert registered.opt_in == issubclass(cls, BehaviouralScanner), (
            registered.name
        )  # the pipeline reads `opt_in`
        assert registered.prepares == (cls.warm_up is not Scanner.warm_up), registered.name
        if not issubclass(cls, ArtifactScanner):
            assert registered.reads is None, registered.name
            continue
        assert registered.reads is not None and cls.formats <= registered.reads, registered.name
        scanner = cls()
        for fmt in set(Format) - registered.reads:
            artifact = Artifact("x.json", 10, "0" * 64, fmt, Path("/nonexistent/x.json"))
            assert not scanner.applies(artifact), (registered.name, fmt)


def test_a_scan_imports_only_the_scanners_its_formats_need(tmp_path) -> None:
    """A text-only snapshot never loads the pickle walker or the container code; the report still
    lists every scanner, the idle ones as skipped. (Every binary file, safetensors included, is read
    from byte 0 as a pickle too: `pickle.load` and `torch.load` start there whatever the file is.)"""
    import json
    import subprocess
    import sys

    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert", "hidden_size": 8}))
    probe = (
        "import json, sys\n"
        "from airlock.pipeline import ScanOptions, scan\n"
        "report = scan(sys.argv[1], ScanOptions(use_cache=False))\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('airlock.scanners.'))\n"
        "parsers = sorted(m for m in sys.modules if m.startswith('airlock.parsers.'))\n"
        "print(json.dumps({'loaded': loaded, 'parsers': parsers, 'checks': [[c.scanner, str(c.status)] for c in report.checks]}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(tmp_path)], capture_output=True, text=True, timeout=60, check=True
    )
    result = json.loads(done.stdout)
    for heavy in ("pickle_opcodes", "safetensors_header", "keras_config", "savedmodel_graph", "onnx_graph"):
        assert f"airlock.scanners.{heavy}" not in result["loaded"], heavy
    for heavy in ("pickle_walk", "containers", "npy", "hdf5"):  # protobuf and zip_members are sniffing's too
        assert f"airlock.parsers.{heavy}" not in result["parsers"], heavy
    from airlock.scanners import ENTRIES

    static = [e.name for e in ENTRIES if not e.opt_in]
    assert [name for name, _ in result["checks"]] == static
    assert dict(result["checks"])["pickle_opcodes"] == "skipped"
    assert dict(result["checks"])["safetensors_header"] == "skipped"
