"""keras_config: Lambda bytecode, module references and gadgets in `.keras` and legacy `.h5` configs."""

from __future__ import annotations

import json
import random
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airlock.findings import Severity
from airlock.parsers.hdf5 import Hdf5Unavailable, read_attributes
from airlock.pipeline import ScanOptions, scan
from airlock.report import Report
from airlock.rules import load_rules
from airlock.scanners import keras_config
from airlock.scanners.keras_config import KerasConfig, bytecode_strings
from airlock.scanning import Limits, ScanContext
from airlock.sources.interface import Reference, Snapshot
from fixtures import graph_files
from fixtures.canary import shell_command
from tests.conftest import Generated
from tests.fuzzing import examples

KERAS = {name: entry for name, entry in graph_files.MALICIOUS.items() if name.startswith("keras")}
BENIGN = ["keras_sequential", "keras_functional_cnn", "keras2_h5_model", "h5_weights_only"]
FUZZ = settings(max_examples=examples(150), deadline=None, database=None)


def _scan(path: Path) -> Report:
    return scan(str(path), ScanOptions(use_cache=False, scanners=["keras_config"]))


def _found(report: Report) -> list[tuple[str, str]]:
    return [(f.rule, f.location) for f in report.findings]


@pytest.mark.parametrize("name", sorted(KERAS))
def test_each_malicious_config_raises_exactly_its_rules(name: str, generated: Generated) -> None:
    generator, expected = KERAS[name]  # the rules a full scan reports; other scanners' are not this one's
    assert {f.rule for f in _scan(generated(generator)).findings} == expected & KerasConfig.rules


@pytest.mark.parametrize("name", BENIGN)
def test_normal_models_have_no_finding(name: str, generated: Generated) -> None:
    assert _scan(generated(graph_files.BENIGN[name])).findings == ()


# CVE-2024-3660: Lambda layer bytecode (https://kb.cert.org/vuls/id/253266)
def test_lambda_bytecode_is_located_at_its_layer_with_the_names_it_uses(generated: Generated) -> None:
    report = _scan(generated(graph_files.keras_lambda_bytecode))
    assert _found(report) == [("AIR501", "model.keras:config.json#layers[2]")]
    evidence = report.findings[0].evidence
    assert {"__import__", "os", "system"} <= set(evidence["names"])
    assert any("touch" in s for s in evidence["strings"])


# CVE-2025-9905: legacy .h5 ignores safe_mode (https://github.com/io-no/CVE-Reports/issues/7)
def test_h5_lambda_is_read_from_the_model_config_attribute(generated: Generated) -> None:
    report = _scan(generated(graph_files.keras_h5_lambda))
    assert _found(report) == [("AIR501", "model.h5:model_config#layers[1]")]
    assert report.findings[0].severity is Severity.CRITICAL


# CVE-2025-1550: arbitrary module import from config.json (GHSA-48g7-3x6r-xfhp)
def test_module_reference_to_os_is_critical_at_the_exact_field(generated: Generated) -> None:
    report = _scan(generated(graph_files.keras_os_system))
    assert _found(report) == [("AIR503", "model.keras:config.json#layers[1].activation")]
    assert report.findings[0].evidence["module"] == "os"


def test_training_config_of_h5_is_checked_too(generated: Generated) -> None:
    assert _found(_scan(generated(graph_files.keras_h5_training_loss))) == [
        ("AIR503", "model.h5:training_config#loss")
    ]


# CVE-2025-9906: enable_unsafe_deserialization from inside the config (GHSA-36fq-jgmw-4r9c)
def test_safe_mode_switch_and_the_lambda_it_unlocks_are_both_reported(generated: Generated) -> None:
    assert _found(_scan(generated(graph_files.keras_unsafe_switch))) == [
        ("AIR501", "model.keras:config.json#layers[2]"),
        ("AIR503", "model.keras:config.json#layers[1].function"),
    ]


def _model_alone(generated: Generated, tmp_path: Path) -> Path:
    """The custom-module fixture's model.keras, copied into a folder without my_layers.py."""
    folder = tmp_path / "alone"
    folder.mkdir()
    shutil.copyfile(generated(graph_files.keras_custom_module) / "model.keras", folder / "model.keras")
    return folder


def test_custom_module_is_medium_and_does_not_fail_the_scan(generated: Generated, tmp_path: Path) -> None:
    report = _scan(_model_alone(generated, tmp_path))
    assert [(f.rule, f.severity) for f in report.findings] == [("AIR502", Severity.MEDIUM)]
    assert report.findings[0].evidence["registered_name"] == "Custom>Scale"
    assert "shipped_module" not in report.findings[0].evidence


# CVE-2025-1550: Keras < 3.9 imports the module a config names, and the model folder is importable
def test_custom_module_shipped_with_the_model_is_critical_and_fails_the_scan(generated: Generated) -> None:
    report = _scan(generated(graph_files.keras_custom_module))
    assert [(f.rule, f.severity, f.location) for f in report.findings] == [
        ("AIR502", Severity.CRITICAL, "model.keras:config.json#layers[2]")
    ]
    assert report.findings[0].evidence["shipped_module"] == "my_layers.py"
    assert "my_layers.py" in report.findings[0].message


@pytest.mark.parametrize(
    "model, module, files, shipped",
    [
        ("model.keras", "my_layers", ["my_layers/__init__.py"], "my_layers/__init__.py"),
        ("model.keras", "my_layers", ["my_layers.pyc"], "my_layers.pyc"),
        (
            "model.keras",
            "my_layers",
            ["my_layers.cpython-311-x86_64-linux-gnu.so"],
            "my_layers.cpython-311-x86_64-linux-gnu.so",
        ),
        ("model.keras", "my_layers", ["my_layers.pyd"], "my_layers.pyd"),
        ("model.keras", "pkg.layers", ["pkg/layers.py"], "pkg/layers.py"),
        ("model.keras", "pkg.layers", ["pkg/layers/__init__.py"], "pkg/layers/__init__.py"),
        (
            "model.keras",
            "pkg.layers",
            ["pkg/__init__.py"],
            "pkg/__init__.py",
        ),  # importing pkg.layers runs it first
        ("model.keras", "pkg.layers", ["pkg.py"], "pkg.py"),  # imported, then `pkg.layers` fails: too late
        ("sub/model.keras", "my_layers", ["sub/my_layers.py"], "sub/my_layers.py"),
        ("sub/model.keras", "my_layers", ["my_layers.py"], "my_layers.py"),
        (
            "model.keras",
            "my_layers",
            ["src/my_layers.py"],
            "src/my_layers.py",
        ),  # the code the model needs, shipped
        ("sub/model.keras", "my_layers", ["sub/deeper/my_layers.py"], "sub/deeper/my_layers.py"),
        ("model.keras", "pkg.layers", ["src/pkg/layers.py"], "src/pkg/layers.py"),
        (
            "model.keras",
            "my_layers",
            ["deep/er/my_layers.py", "my_layers.py", "b/my_layers.py"],
            "my_layers.py",
        ),
        (
            "model.keras",
            "keras_hub.layers",
            ["keras_hub/__init__.py"],
            "keras_hub/__init__.py",
        ),  # shadows the package
        (
            "model.keras",
            "keras_hub.layers",
            ["third_party/keras_hub/__init__.py"],
            None,
        ),  # a vendored copy shadows nothing
        (
            "model.keras",
            "my_layers",
            ["my_layers_v2.py", "my_layers.py.txt", "my_layers.json", "my_layers/data.py"],
            None,
        ),
        (
            "model.keras",
            "pkg.layers",
            ["layers.py", "src/layers.py", "pkg/other.py", "notpkg/layers.py"],
            None,
        ),
        ("model.keras", "my-layers", ["my-layers.py"], None),  # not a module name: nothing imports it
    ],
)
def test_which_shipped_files_make_a_module_reference_critical(
    model: str, module: str, files: list[str], shipped: str | None, tmp_path: Path
) -> None:
    layer = {
        "module": module,
        "class_name": "Scale",
        "config": {"name": "scale"},
        "registered_name": "Custom>Scale",
    }
    config = {"module": "keras", "class_name": "Sequential", "config": {"layers": [layer]}}
    (tmp_path / model).parent.mkdir(parents=True, exist_ok=True)
    _keras_zip((tmp_path / model).parent, config)
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x = 1\n")
    found = [(f.rule, f.severity, f.evidence.get("shipped_module")) for f in _scan(tmp_path).findings]
    if shipped is not None:
        assert found == [("AIR502", Severity.CRITICAL, shipped)]
    elif module.startswith("keras"):
        assert found == []
    else:
        assert found == [("AIR502", Severity.MEDIUM, None)]


def test_the_result_cache_tells_a_model_with_its_module_from_the_same_model_without(tmp_path: Path) -> None:
    """The config's bytes are the same in both folders: only the shipped module differs."""
    layer = {
        "module": "cached_layers",
        "class_name": "Scale",
        "config": {"name": "scale"},
        "registered_name": None,
    }
    config = {"module": "keras", "class_name": "Sequential", "config": {"layers": [layer]}}
    alone, shipped = tmp_path / "alone", tmp_path / "shipped"
    for folder in (alone, shipped):
        folder.mkdir()
        _keras_zip(folder, config)
    (shipped / "cached_layers.py").write_text("x = 1\n")

    def severities(folder: Path) -> tuple[list[Severity], str | None]:
        report = scan(str(folder), ScanOptions(use_cache=True, scanners=["keras_config"]))
        return [f.severity for f in report.findings], report.checks[0].reason

    assert severities(alone) == ([Severity.MEDIUM], None)
    assert severities(shipped) == ([Severity.CRITICAL], None)
    assert severities(alone) == ([Severity.MEDIUM], "1 of 1 from cache")
    assert severities(shipped) == ([Severity.CRITICAL], "1 of 1 from cache")


def test_copies_of_one_config_get_one_verdict_wherever_they_sit(tmp_path: Path) -> None:
    """The cache answers for bytes, not paths: the same config in two folders must not depend on which came first."""
    layer = {
        "module": "copied_layers",
        "class_name": "Scale",
        "config": {"name": "scale"},
        "registered_name": None,
    }
    config = {"module": "keras", "class_name": "Sequential", "config": {"layers": [layer]}}
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        _keras_zip(tmp_path / folder, config)
    (tmp_path / "b" / "copied_layers.py").write_text("x = 1\n")
    report = scan(str(tmp_path), ScanOptions(use_cache=True, scanners=["keras_config"]))
    assert [(f.artifact, f.severity, f.evidence["shipped_module"]) for f in report.findings] == [
        ("a/model.keras", Severity.CRITICAL, "b/copied_layers.py"),
        ("b/model.keras", Severity.CRITICAL, "b/copied_layers.py"),
    ]


def _keras_zip(folder: Path, config: Any) -> Path:
    path = folder / "model.keras"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("metadata.json", "{}")
        zf.writestr("config.json", config if isinstance(config, (str, bytes)) else json.dumps(config))
    return path


@pytest.mark.parametrize(
    "function, rule",
    [
        (
            {
                "module": "builtins",
                "class_name": "function",
                "config": "binary_crossentropy",
                "registered_name": "function",
            },
            None,
        ),
        (
            {
                "module": "builtins",
                "class_name": "function",
                "config": "mw>scaled_relu",
                "registered_name": "function",
            },
            None,
        ),
        (
            {
                "module": "keras.activations",
                "class_name": "function",
                "config": "relu",
                "registered_name": "relu",
            },
            None,
        ),
        (
            {"module": "builtins", "class_name": "function", "config": "eval", "registered_name": "function"},
            "AIR503",
        ),
        (
            {
                "module": "builtins",
                "class_name": "function",
                "config": "print",
                "registered_name": "function",
            },
            "AIR502",
        ),
        (
            {
                "module": "subprocess",
                "class_name": "function",
                "config": "check_output",
                "registered_name": None,
            },
            "AIR503",
        ),
        (
            {
                "module": "importlib.util",
                "class_name": "function",
                "config": "find_spec",
                "registered_name": None,
            },
            "AIR503",
        ),
        (
            {
                "module": "keras_hub.layers",
                "class_name": "function",
                "config": "gelu",
                "registered_name": None,
            },
            None,
        ),
        ({"module": "kerasx", "class_name": "function", "config": "gelu", "registered_name": None}, "AIR502"),
        (
            {
                "module": "keras.src.saving.serialization_lib",
                "class_name": "function",
                "config": "enable_unsafe_deserialization",
                "registered_name": None,
            },
            "AIR503",
        ),
    ],
)
def test_function_references(function: dict[str, Any], rule: str | None, tmp_path: Path) -> None:
    layer = {
        "module": "keras.layers",
        "class_name": "Dense",
        "config": {"name": "d", "units": 2, "activation": function},
    }
    config = {"module": "keras", "class_name": "Sequential", "config": {"layers": [layer]}}
    assert [f.rule for f in _scan(_keras_zip(tmp_path, config)).findings] == ([rule] if rule else [])


def test_a_serialized_lambda_anywhere_is_found_and_a_keras2_named_function_is_checked(tmp_path: Path) -> None:
    code = graph_files.lambda_bytecode(shell_command("keras-loss"))
    config = {
        "class_name": "Sequential",
        "config": {
            "layers": [
                {
                    "class_name": "Lambda",
                    "config": {
                        "name": "f",
                        "function": "system",
                        "function_type": "function",
                        "module": "os",
                    },
                }
            ]
        },
        "compile_config": {"loss": {"class_name": "__lambda__", "config": {"value": [code, None, None]}}},
    }
    assert sorted(_found(_scan(_keras_zip(tmp_path, config)))) == [
        ("AIR501", "model.keras:config.json#compile_config.loss"),
        ("AIR503", "model.keras:config.json#layers[0]"),
    ]


@pytest.mark.parametrize(
    "text", [b"", b"\xff\xfe garbage", b"[" * 100_000, b'{"class_name": "Sequential", "config": ']
)
def test_unreadable_configs_are_medium_findings(text: bytes, tmp_path: Path) -> None:
    assert [f.rule for f in _scan(_keras_zip(tmp_path, text)).findings] == ["AIR509"]


def test_a_config_member_that_cannot_be_read_is_reported(tmp_path: Path) -> None:
    path = _keras_zip(tmp_path, "{}")
    data = path.read_bytes()
    second = data.index(b"PK\x03\x04", 1)  # config.json's local header: break its signature
    path.write_bytes(data[:second] + b"PK\x03\x05" + data[second + 4 :])
    report = _scan(path)
    assert [f.rule for f in report.findings] == ["AIR509"]


def test_hdf5_that_h5py_cannot_open_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "model.h5"
    path.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(range(256)) * 8)
    report = _scan(path)
    assert [f.rule for f in report.findings] == ["AIR509"]
    assert "cannot be read as HDF5" in report.findings[0].message


def test_without_h5py_a_keras_h5_is_reported_and_plain_weights_are_not(
    generated: Generated, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_h5py(path: Path, max_bytes: int, timeout: float) -> dict[str, str]:
        raise Hdf5Unavailable("h5py is not installed")

    monkeypatch.setattr(keras_config, "keras_attributes", no_h5py)
    report = _scan(generated(graph_files.keras2_h5_model))
    assert [f.rule for f in report.findings] == ["AIR509"]
    assert "h5py is not installed" in report.findings[0].message
    assert _scan(generated(graph_files.h5_weights_only)).findings == ()


def test_the_reader_itself_reports_a_missing_h5py(
    generated: Generated, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "h5py", None)  # `import h5py` now raises ImportError
    with pytest.raises(Hdf5Unavailable):
        read_attributes(generated(graph_files.keras2_h5_model), 1 << 20)


def test_an_hdf5_file_that_crashes_libhdf5_is_reported_and_the_scan_survives(
    generated: Generated, tmp_path: Path
) -> None:
    """Mutated bytes that made libhdf5 (h5py 3.16) segfault: the reader runs in a child process."""
    data = generated(graph_files.keras2_h5_model).read_bytes()
    rng = random.Random(2)
    for _ in range(34):
        mutated = bytearray(data)
        for _ in range(rng.randrange(1, 20)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
    path = tmp_path / "model.h5"
    path.write_bytes(bytes(mutated))
    report = _scan(path)
    assert [f.rule for f in report.findings] == ["AIR509"]
    finding = report.findings[0]
    assert finding.severity is (Severity.HIGH if "crashed" in finding.message else Severity.MEDIUM)


def _context(max_entries: int = 1_000_000) -> ScanContext:
    root = Path(tempfile.gettempdir())
    snapshot = Snapshot(Reference(raw=str(root), kind="local", path=root), "local", root, ())
    return ScanContext(
        rules=load_rules(), snapshot=snapshot, artifacts=(), limits=Limits(max_entries=max_entries)
    )


def test_a_config_larger_than_the_entry_bound_is_reported_not_walked_forever(generated: Generated) -> None:
    from airlock.artifacts import read_artifact

    path = generated(graph_files.keras_sequential)
    artifact = read_artifact(path.name, path)
    config = {"class_name": "Sequential", "config": {"layers": [{"class_name": "Dense"}] * 500}}
    found = list(KerasConfig()._check(_context(max_entries=100), artifact, "x", json.dumps(config)))
    assert [f.rule for f in found] == ["AIR509"]


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=20)
    | st.sampled_from(
        ["Lambda", "__lambda__", "function", "TFOpLambda", "os", "builtins", "keras.layers", "lambda"]
    ),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "class_name",
                    "module",
                    "config",
                    "function",
                    "function_type",
                    "registered_name",
                    "code",
                    "value",
                    "layers",
                    "name",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=40,
)


@FUZZ
@given(JSON)
def test_any_json_config_is_judged_without_raising(config: Any) -> None:
    from airlock.artifacts import Artifact
    from airlock.formats import Format

    artifact = Artifact("m.keras", 0, "0" * 64, Format.KERAS_ZIP, Path("m.keras"))
    for finding in KerasConfig()._check(_context(), artifact, "m.keras:config.json", json.dumps(config)):
        assert finding.rule in KerasConfig.rules


@FUZZ
@given(
    st.text(max_size=400) | st.binary(max_size=300).map(lambda b: __import__("base64").b64encode(b).decode())
)
def test_bytecode_strings_never_raise_on_any_text(code: str) -> None:
    names, strings = bytecode_strings(code)
    assert len(names) + len(strings) <= 64
