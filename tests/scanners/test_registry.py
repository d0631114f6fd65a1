"""The scanner registry is complete, and every rule is owned by exactly one scanner."""

from __future__ import annotations

import pkgutil

import airlock.scanners
from airlock.scanners import REGISTRY

from airlock.data.checks import DATA_CHECKS
from airlock.rules import load_rules


def test_every_scanner_module_is_registered() -> None:
    modules = {m.name for m in pkgutil.iter_modules(airlock.scanners.__path__) if not m.name.startswith("_")}
    assert modules == {cls.__module__.rsplit(".", 1)[1] for cls in REGISTRY}


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
    declared = {rule for cls in (*REGISTRY, *DATA_CHECKS) for rule in cls.rules} | {"AIR901"}
    assert set(load_rules().rules) == declared


def test_each_entry_describes_its_class() -> None:
    """`reads` lets the pipeline skip importing a scanner: it must cover everything `applies` accepts."""
    from pathlib import Path

    from airlock.scanners import ENTRIES

    from airlock.artifacts import Artifact
    from airlock.behavior.plugin import BehaviouralScanner
    from airlock.formats import Format
    from airlock.scanning import ArtifactScanner, Scanner

    for registered in ENTRIES:
        cls = registered.load()
        assert cls.name == registered.name
        assert registered.opt_in == issubclass(cls, BehaviouralScanner), registered.name  # the pipeline reads `opt_in`
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
    """A safetensors model never loads the pickle walker or the container code; the report still
    lists every scanner, the idle ones as skipped."""
    import json
    import struct
    import subprocess
    import sys

    header = json.dumps({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}).encode()
    (tmp_path / "model.safetensors").write_bytes(struct.pack("<Q", len(header)) + header + bytes(4))
    probe = ("import json, sys\n"
             "from airlock.pipeline import ScanOptions, scan\n"
             "report = scan(sys.argv[1], ScanOptions(use_cache=False))\n"
             "loaded = sorted(m for m in sys.modules if m.startswith('airlock.scanners.'))\n"
             "print(json.dumps({'loaded': loaded, 'checks': [[c.scanner, str(c.status)] for c in report.checks]}))\n")
    done = subprocess.run([sys.executable, "-c", probe, str(tmp_path)], capture_output=True, text=True, timeout=60, check=True)
    result = json.loads(done.stdout)
    assert "airlock.scanners.safetensors_header" in result["loaded"]
    for heavy in ("_pickle_walk", "_containers", "pickle_opcodes", "keras_config", "savedmodel_graph", "onnx_graph"):
        assert f"airlock.scanners.{heavy}" not in result["loaded"], heavy
    from airlock.scanners import ENTRIES

    static = [e.name for e in ENTRIES if not e.opt_in]
    assert [name for name, _ in result["checks"]] == static
    assert dict(result["checks"])["pickle_opcodes"] == "skipped"
    assert dict(result["checks"])["safetensors_header"] == "ran"
