"""pickle_opcodes: every protocol, indirection through the memo, truncation after a payload, real saves,
the fixture corpus (exact rules per technique, nothing loud on benign files) and live canaries."""

from __future__ import annotations

import io
import os
import pickle
import pickletools
import subprocess
import sys
from collections import OrderedDict
from pathlib import Path

import pytest

from airlock.findings import Severity
from airlock.parsers.pickle_walk import NAMES, Global, SymDict, decode, joblib_layout, walk
from airlock.pipeline import ScanOptions, scan
from airlock.policy import parse_policy
from airlock.report import Report
from airlock.scanners.pickle_opcodes import global_policy, loader_names
from fixtures import canary, pickles
from fixtures.canary import shell_command

CONTENT_SCANNERS = ["pickle_opcodes", "numpy_arrays", "archives"]
ONLY_PICKLES = parse_policy('name = "pickles-only"\nrequired_scanners = ["pickle_opcodes"]\n', "test")


def _scan(path: Path, scanners: list[str] | None = None) -> Report:
    return scan(
        str(path), ScanOptions(policy=ONLY_PICKLES, use_cache=False, scanners=scanners or ["pickle_opcodes"])
    )


def _rules(report: Report) -> set[str]:
    return {f.rule for f in report.findings}


# --- protocols, memo, truncation ---------------------------------------------------------------


@pytest.mark.parametrize("protocol", [0, 1, 2, 3, 4, 5])
def test_reduce_os_system_is_critical_in_every_protocol(protocol: int, tmp_path: Path) -> None:
    path = tmp_path / "x.bin"
    path.write_bytes(pickles.reduce_call("os", "system", shell_command(f"proto{protocol}"), protocol))
    report = _scan(path)
    assert [f.rule for f in report.findings] == ["AIR201"]
    assert report.findings[0].evidence["global"] == "os.system"
    assert report.findings[0].evidence["called_by"] == "REDUCE"


def test_stack_global_with_names_from_the_memo(tmp_path: Path) -> None:
    """Module and name strings are memoized first and fetched with BINGET: still resolved."""
    body = b"\x80\x04\x8c\x08builtins\x94\x8c\x04eval\x94" + b"00" + b"h\x00h\x01\x93" + b"\x8c\x011\x85R."
    path = tmp_path / "memo.pkl"
    path.write_bytes(body)
    report = _scan(path)
    assert [(f.rule, f.evidence["global"], f.location) for f in report.findings] == [
        ("AIR201", "builtins.eval", "memo.pkl@opcode:26")
    ]


def test_truncated_after_the_payload_is_still_critical(tmp_path: Path) -> None:
    whole = pickles.reduce_call("subprocess", "call", shell_command("truncated"), 2)
    path = tmp_path / "cut.pkl"
    path.write_bytes(whole[:-1] + b"\xff\xff")  # REDUCE ran; then garbage instead of STOP
    findings = sorted((f.rule, str(f.severity)) for f in _scan(path).findings)
    assert findings == [("AIR201", "critical"), ("AIR209", "high")]


def test_a_called_unknown_global_is_high_and_fails_by_default(tmp_path: Path) -> None:
    path = tmp_path / "u.pkl"
    path.write_bytes(pickles.reduce_call("mylib.models", "Net", "x", 4))
    report = _scan(path)
    assert [(f.rule, str(f.severity)) for f in report.findings] == [("AIR213", "high")]
    assert report.findings[0].evidence["called_by"] == "REDUCE"
    assert not report.passed


def test_python2_names_are_mapped_like_the_loader_maps_them() -> None:
    old = Global("__builtin__", "eval", 0, "GLOBAL", protocol=2)
    assert loader_names(old)[0] == ("builtins", "eval")
    assert loader_names(Global("commands", "getoutput", 0, "GLOBAL", protocol=0))[0] == (
        "subprocess",
        "getoutput",
    )
    assert loader_names(Global("__builtin__", "eval", 0, "GLOBAL", protocol=4))[0] == ("__builtin__", "eval")


@pytest.mark.parametrize(
    "module, name, kind",
    [
        ("collections", "OrderedDict", "safe"),
        ("torch.jit._pickle", "build_intlist", "safe"),  # exact safe entries beat the torch.jit.* prefix
        ("torch.jit", "load", "dangerous"),
        ("uuid", "UUID", "safe"),
        ("uuid", "_get_command_stdout", "dangerous"),
        ("uuid", "os.system", "dangerous"),  # a dotted path is judged by where it leads
        ("numpy", "__builtins__", "dangerous"),
        ("transformers", "AutoModel.from_pretrained", "dangerous"),
        ("sklearn.tree._tree", "Tree", "safe"),  # from the census evidence
        ("sklearn.tree._tree", "Tree.__reduce__", "dangerous"),
        (
            "sklearn.tree",
            "DecisionTreeClassifier",
            "unknown",
        ),  # exact names only: the public alias is not listed
        ("numpy", "ndarray.tofile", "unknown"),  # a safe class's methods are not safe unless listed
        ("torch.nn.modules.linear", "Linear", "safe"),
        ("torch.nn", "Linear", "unknown"),
        ("__main__", "Net", "unknown"),
        ("mylib", "Thing", "unknown"),
    ],
)
def test_global_policy_decides_allowlist_first(module: str, name: str, kind: str) -> None:
    assert global_policy().classify(module, name).kind == kind


def test_torchscript_types_are_safe_only_inside_torchscript_archives() -> None:
    policy = global_policy()
    assert policy.classify("__torch__.torch.nn.modules.linear", "Linear", "torchscript").kind == "safe"
    assert policy.classify("__torch__.torch.nn.modules.linear", "Linear").kind == "unknown"


def test_every_dangerous_entry_has_a_reason() -> None:
    policy = global_policy()
    reasons = [
        *policy.dangerous_exact.values(),
        *(r for _, r in policy.dangerous_modules),
        *policy.dangerous_attributes.values(),
    ]
    assert len(reasons) > 150 and all(len(r) > 8 for r in reasons)


# --- real saves ---------------------------------------------------------------------------------


def test_benign_ordered_dict_has_no_findings(generated) -> None:
    assert _scan(generated(pickles.benign_state_dict)).findings == ()


def test_real_torch_save_state_dict_is_clean(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    torch.save(model.state_dict(), tmp_path / "pytorch_model.bin")
    torch.save(model.state_dict(), tmp_path / "legacy.pt", _use_new_zipfile_serialization=False)
    report = _scan(tmp_path)
    assert {a.format for a in report.artifacts} == {"pytorch-zip", "pytorch-legacy"}
    assert report.findings == ()


def test_whole_pickled_module_of_listed_layers_is_clean(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    torch.save(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.GELU()), tmp_path / "full_model.pt")
    assert _scan(tmp_path).findings == ()


@pytest.mark.parametrize("protocol", [0, 2, 4])
def test_a_real_save_of_an_unlisted_class_fails(protocol: int, tmp_path: Path) -> None:
    import collections

    path = tmp_path / "user.pkl"
    path.write_bytes(pickle.dumps(collections.UserDict(a=1), protocol=protocol))
    report = _scan(path)
    assert {(f.rule, str(f.severity), f.evidence["global"]) for f in report.findings} == {
        ("AIR213", "high", "collections.UserDict")
    }
    assert not report.passed


def test_payload_inside_a_pytorch_zip_is_found_at_its_member(generated) -> None:
    report = _scan(generated(pickles.torch_zip_payload))
    assert [f.rule for f in report.findings] == ["AIR201"]
    assert report.findings[0].location.startswith("pytorch_model.bin:pytorch_model/data.pkl@opcode:")


def test_payload_after_joblib_arrays_is_found_past_the_array_bytes(generated) -> None:
    path = generated(pickles.joblib_payload_after_arrays)
    report = _scan(path)
    [finding] = report.findings
    assert finding.rule == "AIR201"
    assert (
        int(finding.location.rsplit(":", 1)[1]) > 8000
    )  # 1000 float64s lie between the start and the payload


def test_joblib_array_that_cannot_be_sized_is_not_a_pass() -> None:
    assert isinstance(joblib_layout(SymDict({"shape": (3,), "dtype": "not a dtype"})), str)
    data = b"\x80\x04cjoblib.numpy_pickle\nNumpyArrayWrapper\n)\x81}\x8c\x05shape\x8c\x01?sb."
    result = walk(data)
    assert result.error is not None and "cannot size" in result.error


def test_joblib_array_bytes_are_also_read_as_the_opcodes_plain_pickle_load_would_see(tmp_path: Path) -> None:
    joblib, np = pytest.importorskip("joblib"), pytest.importorskip("numpy")
    polyglot = np.frombuffer(
        pickles.reduce_call("posix", "system", shell_command("polyglot"), 0), dtype=np.uint8
    )
    joblib.dump(
        {"tokens": polyglot, "constant": np.full(300_000, ord("N"), dtype=np.uint8)}, tmp_path / "m.joblib"
    )
    [finding] = _scan(tmp_path / "m.joblib").findings
    assert (finding.rule, finding.evidence["via"]) == (
        "AIR201",
        "array bytes that a plain pickle.load reads as opcodes",
    )


def test_two_pickles_in_one_file_are_both_read(tmp_path: Path) -> None:
    first = pickle.dumps(OrderedDict(a=1), protocol=2)
    second = pickles.reduce_call("os", "system", shell_command("second"), 2)
    path = tmp_path / "two.pkl"
    path.write_bytes(first + second)
    assert [f.rule for f in _scan(path).findings] == ["AIR201"]


def test_bytes_after_the_pickle_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "tail.pkl"
    path.write_bytes(pickle.dumps([1, 2], protocol=4) + b"\x00hidden")
    [finding] = _scan(path).findings
    assert (finding.rule, finding.location) == (
        "AIR211",
        f"tail.pkl@byte:{len(pickle.dumps([1, 2], protocol=4))}",
    )


def test_torchscript_code_with_a_foreign_operator_namespace(tmp_path: Path) -> None:
    import zipfile

    pytest.importorskip("torch")
    path = pickles.torchscript_scripted(tmp_path)
    source = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    path = tmp_path / "scripted.pt"
    injected = []
    with zipfile.ZipFile(path, "w") as out:
        for info in source.infolist():
            data = source.read(info)
            # Found by content, not by name: TorchScript names a class's code file per process, so after
            # another Linear was scripted (tests/unit/test_formats.py) the file is linear/___torch_mangle_0.py.
            if "/code/" in info.filename and info.filename.endswith(".py") and b"class Linear(" in data:
                data += b"\n  def extra(self: Tensor) -> Tensor:\n    return ops.evil_ns.run(self)\n"
                injected.append(info.filename)
            out.writestr(info.filename, data)
    assert len(injected) == 1, injected
    found = {(f.rule, f.message) for f in _scan(path).findings}
    assert ("AIR212", "TorchScript code calls operators from evil_ns") in found


def test_scanning_never_unpickles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_a: object, **_k: object) -> None:
        raise AssertionError("a scanner called pickle.load(s)")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)
    path = tmp_path / "p.pkl"
    path.write_bytes(pickles.reduce_call("os", "system", shell_command("never"), 2))
    assert _scan(path).findings


# --- the decoder follows the loader's byte consumption -------------------------------------------


@pytest.mark.parametrize("protocol", range(6))
def test_decode_steps_through_opcodes_exactly_like_pickletools(protocol: int) -> None:
    value = OrderedDict(
        a=[1, 2.5, "x", None, True],
        b=(b"\x00" * 300, bytearray(b"ba")),
        c={1},
        d=frozenset([2]),
        e=2**100,
        f=-5,
        g="é" * 300,
    )
    data = pickle.dumps(value, protocol=protocol)
    expected = [(op.name, pos) for op, _, pos in pickletools.genops(data)]
    seen, pos = [], 0
    while not seen or seen[-1][0] != "STOP":
        code, _, after = decode(data, pos, len(data))
        seen.append((NAMES[code], pos))
        pos = after
    assert seen == expected


# --- the corpus ---------------------------------------------------------------------------------


@pytest.mark.parametrize("technique", sorted(pickles.MALICIOUS))
def test_every_malicious_pickle_fixture_yields_exactly_its_rules(technique: str, generated) -> None:
    generator, expected = pickles.MALICIOUS[technique]
    report = _scan(generated(generator), CONTENT_SCANNERS)
    assert _rules(report) == expected, [(f.rule, f.location, f.message) for f in report.findings]
    assert max(f.severity for f in report.findings) >= Severity.HIGH
    assert not report.passed
    assert all(c.status != "error" for c in report.checks)


@pytest.mark.parametrize("sample", sorted(pickles.BENIGN))
def test_no_benign_pickle_fixture_is_reported_at_medium_or_above(sample: str, generated) -> None:
    report = _scan(generated(pickles.BENIGN[sample]), CONTENT_SCANNERS)
    assert [f for f in report.findings if f.severity >= Severity.MEDIUM] == []
    assert all(c.status != "error" for c in report.checks)


def test_the_corpus_is_large_and_documented() -> None:
    assert len(pickles.MALICIOUS) >= 30 and len(pickles.BENIGN) >= 12
    generators = [g for g, _ in pickles.MALICIOUS.values()] + list(pickles.BENIGN.values())
    assert all(g.__doc__ and "Expect" in g.__doc__ for g in generators)
    for generator, expected in pickles.MALICIOUS.values():
        assert all(rule in generator.__doc__ for rule in expected), generator.__name__  # type: ignore[operator]


def test_a_canary_is_live_when_deliberately_loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Proves the corpus is armed: one fixture, unpickled in a child process, fires its canary."""
    monkeypatch.setenv("AIRLOCK_CANARY_DIR", str(tmp_path / "live"))
    path = pickles.os_system_canary(tmp_path, name="live")
    assert not canary.marker("live").exists()
    env = {**os.environ, "AIRLOCK_CANARY_DIR": str(tmp_path / "live")}
    subprocess.run(
        [sys.executable, "-c", "import pickle, sys; pickle.load(open(sys.argv[1], 'rb'))", str(path)],
        check=True,
        timeout=60,
        env=env,
    )
    assert canary.marker("live").exists()


def test_scanning_the_corpus_fires_no_canary(generated) -> None:
    for generator, _ in pickles.MALICIOUS.values():
        _scan(generated(generator), CONTENT_SCANNERS)
    assert canary.fired() == []


# --- allowlist-first judgement: calls, helpers and their arguments, resolution, deserialisers ------


def _g(module: str, name: str) -> bytes:
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"  # GLOBAL


def _s(text: str) -> bytes:
    data = text.encode()
    return b"\x8c" + bytes([len(data)]) + data  # SHORT_BINUNICODE


def _b(data: bytes) -> bytes:
    return b"B" + len(data).to_bytes(4, "little") + data  # BINBYTES


def _call(callee: bytes, *args: bytes) -> bytes:
    return callee + b"(" + b"".join(args) + b"tR"


def _p4(body: bytes) -> bytes:
    return b"\x80\x04" + body + b"."


_CANARY = _s(shell_command("judged"))
JUDGED = [
    # (id, pickle body, {(rule, severity, global)} expected)
    ("called-unknown", _call(_g("mylib", "f"), _s("x")), {("AIR213", "high", "mylib.f")}),
    ("imported-only-unknown", b"]" + _g("mylib", "f") + b"a", {("AIR202", "medium", "mylib.f")}),
    (
        "called-public-alias-of-a-listed-class",
        _call(_g("sklearn.linear_model", "LogisticRegression")),
        {("AIR213", "high", "sklearn.linear_model.LogisticRegression")},
    ),
    (
        "listed-class-method",
        _call(_g("numpy", "ndarray.tofile"), _s("/tmp/x")),
        {("AIR213", "high", "numpy.ndarray.tofile")},
    ),
    ("getattr-listed-method", _call(_g("builtins", "getattr"), _g("builtins", "str"), _s("lower")), set()),
    (
        "getattr-unlisted-method",
        _call(_g("builtins", "getattr"), _g("builtins", "str"), _s("maketrans")),
        {("AIR201", "critical", "builtins.getattr")},
    ),
    (
        "getattr-dunder",
        _call(_g("builtins", "getattr"), _g("builtins", "str"), _s("__subclasses__")),
        {("AIR201", "critical", "builtins.getattr")},
    ),
    (
        "getattr-unlisted-type",
        _call(_g("builtins", "getattr"), _g("mylib", "Thing"), _s("lower")),
        {("AIR201", "critical", "builtins.getattr"), ("AIR202", "medium", "mylib.Thing")},
    ),
    (
        "getattr-with-default",
        _call(_g("builtins", "getattr"), _g("builtins", "str"), _s("lower"), b"N"),
        {("AIR201", "critical", "builtins.getattr")},
    ),
    (
        "partial-of-safe-callable",
        _call(_g("functools", "partial"), _g("numpy", "clip"), b"K\x00K\x01"),
        set(),
    ),
    (
        "partial-of-unknown-callable",
        _call(_g("functools", "partial"), _g("mylib", "f")),
        {("AIR213", "high", "mylib.f")},
    ),
    (
        "partial-of-dangerous-callable",
        _call(_g("functools", "partial"), _g("os", "system"), _CANARY),
        {("AIR201", "critical", "os.system")},
    ),
    (
        "partial-binding-an-unknown-global",
        _call(_g("functools", "partial"), _g("numpy", "clip"), _g("mylib", "x")),
        {("AIR213", "high", "mylib.x")},
    ),
    (
        "partial-state-replaces-the-function",  # partial.__setstate__((func, args, kwds, dict))
        _call(_g("functools", "partial"), _g("numpy", "clip")) + b"(" + _g("mylib", "f") + b")}Nt" + b"b",
        {("AIR213", "high", "mylib.f")},
    ),
    (
        "rebuild-from-type-v2-unknown-func",
        _call(
            _g("torch._tensor", "_rebuild_from_type_v2"), _g("mylib", "f"), _g("torch", "Tensor"), b")", b"N"
        ),
        {("AIR213", "high", "mylib.f")},
    ),
    (
        "rebuild-from-type-v2-dangerous-func",
        _call(
            _g("torch._tensor", "_rebuild_from_type_v2"),
            _g("posix", "system"),
            _g("torch", "Tensor"),
            _CANARY + b"\x85",
            b"N",
        ),
        {("AIR201", "critical", "posix.system")},
    ),
    (
        "reconstructor-unknown-base",
        _call(_g("copyreg", "_reconstructor"), _g("collections", "OrderedDict"), _g("mylib", "Base"), b"N"),
        {("AIR213", "high", "mylib.Base")},
    ),
    (
        "defaultdict-unknown-factory",
        _call(_g("collections", "defaultdict"), _g("mylib", "factory")),
        {("AIR213", "high", "mylib.factory")},
    ),
    (
        "dotted-path-through-a-module-alias",
        _call(_g("argparse", "_os.system"), _CANARY),
        {("AIR201", "critical", "argparse._os.system")},
    ),
    (
        "dotted-path-through-a-builtins-alias",
        _call(_g("enum", "bltns.eval"), _s("1")),
        {("AIR201", "critical", "enum.bltns.eval")},
    ),
]


@pytest.mark.parametrize("body, expected", [pytest.param(b, e, id=i) for i, b, e in JUDGED])
def test_globals_are_judged_by_how_they_are_used(
    body: bytes, expected: set[tuple[str, str, str]], tmp_path: Path
) -> None:
    path = tmp_path / "j.pkl"
    path.write_bytes(_p4(body))
    report = _scan(path)
    assert {(f.rule, str(f.severity), f.evidence["global"]) for f in report.findings} == expected, [
        (f.rule, f.message) for f in report.findings
    ]
    assert report.passed == all(sev == "medium" for _, sev, _ in expected)


def test_a_global_passed_where_a_helper_calls_it_says_so(tmp_path: Path) -> None:
    path = tmp_path / "j.pkl"
    path.write_bytes(
        _p4(_call(_g("copyreg", "_reconstructor"), _g("mylib", "C"), _g("builtins", "object"), b"N"))
    )
    [finding] = _scan(path).findings
    assert finding.evidence["called_by"] == "copyreg._reconstructor (argument 0)"


def test_a_dotted_path_through_a_module_alias_records_its_hops(tmp_path: Path) -> None:
    path = tmp_path / "alias.pkl"
    path.write_bytes(_p4(_call(_g("argparse", "_os.system"), _CANARY)))
    [finding] = _scan(path).findings
    assert finding.evidence["resolves_to"] == "posix.system"
    assert finding.evidence["hops"] == ["argparse._os is module os", "os.system is posix.system"]
    assert "posix" in finding.message


def test_plainly_safe_pickles_do_not_load_the_resolution_data(tmp_path: Path) -> None:
    from airlock import resolution

    resolution.resolution_data.cache_clear()
    path = tmp_path / "plain.pkl"
    path.write_bytes(pickle.dumps(OrderedDict(a=[1, 2.5]), protocol=2))
    assert _scan(path).findings == ()
    assert resolution.resolution_data.cache_info().currsize == 0


def _payload() -> bytes:
    """A pickle that does not open like one (no PROTO, no GLOBAL first): found only by following a deserialiser."""
    return b"]" + _call(_g("posix", "system"), _s(shell_command("nested"))) + b"a."


NESTED = [
    ("pickle-loads", lambda data: _call(_g("pickle", "loads"), _b(data)), "pickle.loads"),
    (
        "pickle-load-of-bytesio",
        lambda data: _call(_g("pickle", "load"), _call(_g("io", "BytesIO"), _b(data))),
        "pickle.load",
    ),
    (
        "torch-load-of-bytesio",
        lambda data: _call(_g("torch", "load"), _call(_g("_io", "BytesIO"), _b(data))),
        "torch.load",
    ),
    (
        "joblib-load",
        lambda data: _call(_g("joblib", "load"), _call(_g("io", "BytesIO"), _b(data))),
        "joblib.load",
    ),
    (
        "resolved-alias",
        lambda data: _call(_g("torch.serialization", "pickle.loads"), _b(data)),
        "_pickle.loads",
    ),
]


@pytest.mark.parametrize("wrap, reader", [pytest.param(w, r, id=i) for i, w, r in NESTED])
def test_bytes_handed_to_a_deserialiser_are_walked(wrap, reader: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "outer.pkl"
    path.write_bytes(_p4(wrap(_payload())))
    report = _scan(path)
    nested = [f for f in report.findings if f.rule == "AIR207"]
    assert [(str(f.severity), f.evidence["deserialiser"]) for f in nested] == [("critical", reader)]
    inner = [f for f in report.findings if ":[bytes]" in f.location]
    assert [(f.rule, f.evidence["global"]) for f in inner] == [("AIR201", "posix.system")]
    assert not report.passed


def test_a_torch_save_handed_to_torch_load_is_walked_as_an_archive(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    archive = pickles.torch_zip_payload(tmp_path).read_bytes()
    path = tmp_path / "outer.pkl"
    path.write_bytes(_p4(_call(_g("torch", "load"), _call(_g("io", "BytesIO"), _b(archive)))))
    report = _scan(path)
    assert ("AIR207", "critical") in {(f.rule, str(f.severity)) for f in report.findings}
    assert [f.rule for f in report.findings if ":[bytes]" in f.location] == ["AIR201"]


def test_bytes_handed_to_marshal_are_a_code_object(tmp_path: Path) -> None:
    path = tmp_path / "m.pkl"
    path.write_bytes(_p4(_call(_g("marshal", "loads"), _b(b"\xe3" + bytes(40)))))
    report = _scan(path)
    assert {(f.rule, str(f.severity)) for f in report.findings} == {
        ("AIR201", "critical"),
        ("AIR207", "critical"),
    }
    [nested] = [f for f in report.findings if f.rule == "AIR207"]
    assert nested.evidence["deserialiser"] == "marshal.loads"


def test_tensors_pickled_by_pickle_dumps_pass_when_their_nested_archive_is_clean(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    path = tmp_path / "tensors.pkl"
    path.write_bytes(
        pickle.dumps({"weight": torch.ones(2, 3), "bias": torch.zeros(2)})
    )  # _load_from_bytes(zip)
    report = _scan(path)
    assert not [f for f in report.findings if f.scanner == "pickle_opcodes"], report.findings


def test_load_from_bytes_of_a_malicious_archive_stays_dangerous(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    archive = pickles.torch_zip_payload(tmp_path).read_bytes()
    path = tmp_path / "outer.pkl"
    path.write_bytes(_p4(_call(_g("torch.storage", "_load_from_bytes"), _b(archive))))
    rules = {(f.rule, f.evidence.get("global")) for f in _scan(path).findings}
    assert ("AIR201", "torch.storage._load_from_bytes") in rules


def test_load_from_bytes_of_bytes_built_at_load_time_stays_dangerous(tmp_path: Path) -> None:
    path = tmp_path / "outer.pkl"
    built = _call(_g("builtins", "bytes"), _s("not constant"))
    path.write_bytes(_p4(_call(_g("torch.storage", "_load_from_bytes"), built)))
    rules = {(f.rule, f.evidence.get("global")) for f in _scan(path).findings}
    assert ("AIR201", "torch.storage._load_from_bytes") in rules


def test_calling_a_listed_method_lookup_is_calling_that_method(tmp_path: Path) -> None:
    zoneinfo = pytest.importorskip("zoneinfo")
    path = tmp_path / "tz.pkl"
    path.write_bytes(
        pickle.dumps(zoneinfo.ZoneInfo("Europe/Paris"), protocol=4)
    )  # getattr(ZoneInfo, "_unpickle")(...)
    assert not [f for f in _scan(path).findings if f.severity >= Severity.MEDIUM]


def test_calling_an_unlisted_lookup_is_still_an_indirect_call(tmp_path: Path) -> None:
    path = tmp_path / "tz.pkl"
    lookup = _call(_g("builtins", "getattr"), _g("zoneinfo", "ZoneInfo"), _s("clear_cache"))
    path.write_bytes(_p4(_call(lookup)))  # getattr(ZoneInfo, "clear_cache")(): not a listed method
    rules = {f.rule for f in _scan(path).findings}
    assert {"AIR201", "AIR204"} <= rules
