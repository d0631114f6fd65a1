"""Published bypasses of picklescan, modelscan, fickling and ModelAudit: each must fail the scan here.

One case per advisory or issue, with its link. Unlisted-callable bypasses are rebuilt from the
module and name the advisory gives (called with a canary string); structural ones use the corpus.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from airlock.pipeline import ScanOptions, scan
from airlock.policy import default_policy
from airlock.report import Report
from fixtures import archives, pickles
from fixtures.canary import shell_command

SCANNERS = ["pickle_opcodes", "numpy_arrays", "archives"]


def _scan(path: Path) -> Report:
    return scan(str(path), ScanOptions(policy=default_policy(), use_cache=False, scanners=SCANNERS))


def _failing_rules(path: Path) -> set[str]:
    report = _scan(path)
    assert not report.passed, [(f.rule, f.location, f.message) for f in report.findings]
    return {f.rule for f in report.findings if f.severity >= default_policy().fail_at}


UNLISTED_CALLABLES = [
    # https://github.com/advisories/GHSA-655q-fx9r-782v (CVE-2025-1716): pip.main installs packages
    pytest.param("pip", "main", id="CVE-2025-1716-pip-main"),
    # https://github.com/mmaitre314/picklescan/security/advisories/GHSA-vvpj-8cmc-gx39: pkgutil.resolve_name
    pytest.param("pkgutil", "resolve_name", id="GHSA-vvpj-8cmc-gx39"),
    # https://github.com/advisories/GHSA-7wx9-6375-f5wh: module-level profile.run, not Profile.run
    pytest.param("profile", "run", id="GHSA-7wx9-6375-f5wh"),
    # https://github.com/advisories/GHSA-g38g-8gr9-h9xp: stdlib functions that run commands or compile code
    pytest.param("uuid", "_get_command_stdout", id="GHSA-g38g-8gr9-h9xp-uuid"),
    pytest.param("_osx_support", "_read_output", id="GHSA-g38g-8gr9-h9xp-osx-support"),
    pytest.param("_aix_support", "_read_cmd_output", id="GHSA-g38g-8gr9-h9xp-aix-support"),
    pytest.param("imaplib", "IMAP4_stream", id="GHSA-g38g-8gr9-h9xp-imaplib"),
    pytest.param("_pyrepl.pager", "pipe_pager", id="GHSA-g38g-8gr9-h9xp-pyrepl-pager"),
    pytest.param("test.support.script_helper", "assert_python_ok", id="GHSA-g38g-8gr9-h9xp-test-support"),
    pytest.param("codeop", "compile_command", id="GHSA-g38g-8gr9-h9xp-codeop"),
    pytest.param("compileall", "compile_file", id="GHSA-g38g-8gr9-h9xp-compileall"),
    # https://github.com/mmaitre314/picklescan/security/advisories/GHSA-xp4f-hrf8-rxw7: ensurepip._run_pip
    pytest.param("ensurepip", "_run_pip", id="GHSA-xp4f-hrf8-rxw7"),
    # https://github.com/advisories/GHSA-v7x6-rv5q-mhwc: timeit.timeit executes its statement
    pytest.param("timeit", "timeit", id="GHSA-v7x6-rv5q-mhwc"),
    # https://github.com/mmaitre314/picklescan/security/advisories/GHSA-4r9r-ch6f-vxmx
    pytest.param("torch.utils.bottleneck.__main__", "run_cprofile", id="GHSA-4r9r-ch6f-vxmx"),
    # https://github.com/mmaitre314/picklescan/security/advisories/GHSA-4whj-rm5r-c2v8
    pytest.param("torch.utils.bottleneck.__main__", "run_autograd_prof", id="GHSA-4whj-rm5r-c2v8"),
    # https://github.com/mmaitre314/picklescan/security/advisories/GHSA-86cj-95qr-2p4f
    pytest.param("torch._dynamo.guards", "GuardBuilder.get", id="GHSA-86cj-95qr-2p4f"),
    # https://github.com/mmaitre314/picklescan/security/advisories/GHSA-f4x7-rfwp-v3xw
    pytest.param(
        "torch.fx.experimental.symbolic_shapes",
        "ShapeEnv.evaluate_guards_expression",
        id="GHSA-f4x7-rfwp-v3xw",
    ),
    # https://github.com/mmaitre314/picklescan/security/advisories/GHSA-f745-w6jp-hpxx
    pytest.param("torch.utils.collect_env", "run", id="GHSA-f745-w6jp-hpxx"),
    # https://github.com/mmaitre314/picklescan/security/advisories/GHSA-jhph-76pp-mggw
    pytest.param("torch.utils.collect_env", "run_and_read_all", id="GHSA-jhph-76pp-mggw"),
    # https://github.com/mmaitre314/picklescan/security/advisories/GHSA-h3qp-7fh3-f8h4
    pytest.param("torch.utils.data.datapipes.utils.decoder", "basichandlers", id="GHSA-h3qp-7fh3-f8h4"),
    # https://github.com/mmaitre314/picklescan/security/advisories/GHSA-vr7h-p6mm-wpmh
    pytest.param("torch.jit.unsupported_tensor_ops", "execWrapper", id="GHSA-vr7h-p6mm-wpmh"),
    # https://github.com/mmaitre314/picklescan/security/advisories/GHSA-vv6j-3g6g-2pvj
    pytest.param("torch.utils._config_module", "ConfigModule.load_config", id="GHSA-vv6j-3g6g-2pvj"),
    # https://github.com/mmaitre314/picklescan/security/advisories/GHSA-5qwp-399c-mjwf
    pytest.param("trace", "Trace.run", id="GHSA-5qwp-399c-mjwf"),
    # https://github.com/mmaitre314/picklescan/security/advisories/GHSA-g344-hcph-8vgg
    pytest.param("trace", "Trace.runctx", id="GHSA-g344-hcph-8vgg"),
    # https://github.com/mmaitre314/picklescan/security/advisories/GHSA-x696-vm39-cp64
    pytest.param("profile", "Profile.run", id="GHSA-x696-vm39-cp64"),
    # https://github.com/mmaitre314/picklescan/security/advisories/GHSA-f54q-57x4-jg88
    pytest.param("lib2to3.pgen2.grammar", "Grammar.loads", id="GHSA-f54q-57x4-jg88"),
    # https://github.com/mmaitre314/picklescan/security/advisories/GHSA-p9w7-82w4-7q8m
    pytest.param("lib2to3.pgen2.pgen", "ParserGenerator.make_label", id="GHSA-p9w7-82w4-7q8m"),
    # https://github.com/mmaitre314/picklescan/security/advisories/GHSA-3vg9-h568-4w9m
    pytest.param("idlelib.debugobj", "ObjectTreeItem.SetText", id="GHSA-3vg9-h568-4w9m"),
    # https://github.com/mmaitre314/picklescan/security/advisories/GHSA-m869-42cg-3xwr
    pytest.param("idlelib.run", "Executive.runcode", id="GHSA-m869-42cg-3xwr"),
    # https://github.com/mmaitre314/picklescan/security/advisories/GHSA-cj3c-v495-4xqh
    pytest.param("code", "InteractiveInterpreter.runcode", id="GHSA-cj3c-v495-4xqh"),
    # https://github.com/mmaitre314/picklescan/security/advisories/GHSA-fqq6-7vqf-w3fg
    pytest.param("doctest", "debug_script", id="GHSA-fqq6-7vqf-w3fg"),
    # https://github.com/mmaitre314/picklescan/security/advisories/GHSA-49gj-c84q-6qm9
    pytest.param("cProfile", "run", id="GHSA-49gj-c84q-6qm9"),
    # https://github.com/mmaitre314/picklescan/security/advisories/GHSA-9w88-8rmg-7g2p
    pytest.param("cProfile", "runctx", id="GHSA-9w88-8rmg-7g2p"),
    # https://github.com/mmaitre314/picklescan/security/advisories/GHSA-q77w-mwjj-7mqx (and JFrog's
    # CVE-2025-10157: a submodule of a listed module, https://jfrog.com/blog/unveiling-3-zero-day-vulnerabilities-in-picklescan/)
    pytest.param("asyncio.unix_events", "_UnixSubprocessTransport._start", id="GHSA-q77w-mwjj-7mqx"),
    # https://github.com/mmaitre314/picklescan/security/advisories/GHSA-m273-6v24-x4m4
    pytest.param("distutils.file_util", "write_file", id="GHSA-m273-6v24-x4m4"),
    # https://github.com/mmaitre314/picklescan/security/advisories/GHSA-4675-36f9-wf6r
    pytest.param("ctypes", "CDLL", id="GHSA-4675-36f9-wf6r"),
    # https://github.com/mmaitre314/picklescan/security/advisories/GHSA-vqmv-47xg-9wpr
    pytest.param("pty", "spawn", id="GHSA-vqmv-47xg-9wpr"),
    # https://github.com/mmaitre314/picklescan/security/advisories/GHSA-r8g5-cgf2-4m4m
    pytest.param("numpy.f2py.crackfortran", "getlincoef", id="GHSA-r8g5-cgf2-4m4m"),
    # https://github.com/mmaitre314/picklescan/issues/66 and pull 74: importlib and marshal
    pytest.param("importlib", "import_module", id="picklescan-74-importlib"),
    pytest.param("marshal", "loads", id="picklescan-74-marshal"),
    # https://aithreatalert.com/cve/CVE-2026-56304: logging.FileHandler creates files on the scanning host
    pytest.param("logging", "FileHandler", id="CVE-2026-56304-logging-filehandler"),
    # https://github.com/protectai/modelscan/pull/346: mailcap.findmatch runs test commands
    pytest.param("mailcap", "findmatch", id="modelscan-346-mailcap"),
    # https://github.com/mmaitre314/picklescan/security/advisories/GHSA-84r2-jw7c-4r5q: pydoc.locate imports anything
    pytest.param("pydoc", "locate", id="GHSA-84r2-jw7c-4r5q"),
    # https://github.com/protectai/modelscan/issues/267: a nested pickle.loads
    pytest.param("_pickle", "loads", id="modelscan-267-nested-loads"),
    # the ModelAudit write-up (https://www.promptfoo.dev/blog/open-sourcing-modelaudit/): NewstaR/GPTagalog
    pytest.param("torch.storage", "_load_from_bytes", id="modelaudit-torch-load-from-bytes"),
]


@pytest.mark.parametrize("module, name", UNLISTED_CALLABLES)
def test_unlisted_callable_is_critical(module: str, name: str, tmp_path: Path) -> None:
    path = tmp_path / "pytorch_model.bin"
    path.write_bytes(pickles.reduce_call(module, name, shell_command("bypass"), 4))
    assert _failing_rules(path) == {"AIR201"}


STRUCTURAL = [
    # https://github.com/mmaitre314/picklescan/issues/22 (and issue 14, memo confusion with mixed PUT/MEMOIZE)
    pytest.param(pickles.stack_global_names_from_memo, {"AIR201"}, id="picklescan-22-memo"),
    # https://github.com/mmaitre314/picklescan/security/advisories/GHSA-9gvj-pp9x-gcfr: STRING opcodes for STACK_GLOBAL
    pytest.param(pickles.stack_global_string_opcodes, {"AIR201"}, id="GHSA-9gvj-pp9x-gcfr"),
    # picklescan's keyerror exploit (tests/data2/keyerror-exploit.pkl): payload, then a missing memo key
    pytest.param(
        pickles.memo_key_error_after_payload, {"AIR201", "AIR209"}, id="picklescan-keyerror-exploit"
    ),
    # https://github.com/trailofbits/fickling/issues/138 and pull 139: a pickle broken after its payload
    pytest.param(pickles.truncated_after_payload, {"AIR201", "AIR209"}, id="fickling-138-invalid-opcode"),
    # fickling GHSA-mxhj-88fx-4pcv (https://www.promptfoo.dev/blog/open-sourcing-modelaudit/): OBJ then POP
    pytest.param(pickles.obj_then_pop, {"AIR201"}, id="GHSA-mxhj-88fx-4pcv"),
    # picklescan malicious12 (operator.attrgetter chain)
    pytest.param(pickles.attrgetter_chain, {"AIR201", "AIR204"}, id="picklescan-attrgetter"),
    # picklescan malicious19: functools.partial(torch.load, other_file, weights_only=False)
    pytest.param(pickles.torch_load_partial, {"AIR201", "AIR204"}, id="picklescan-partial-torch-load"),
    # picklescan malicious22: numpy.testing._private.utils.runstring
    pytest.param(pickles.numpy_runstring, {"AIR201"}, id="picklescan-numpy-runstring"),
    # picklescan malicious6: a second pickle after a clean one
    pytest.param(pickles.two_pickles_second_malicious, {"AIR201"}, id="picklescan-two-pickles"),
    # https://github.com/protectai/modelscan/issues/85: BUILD on a module-level object, names read back
    pytest.param(pickles.build_on_module_global, {"AIR203", "AIR206"}, id="modelscan-85-build-global"),
    # https://github.com/protectai/modelscan/issues/89: numpy.__builtins__ and dict.get
    pytest.param(
        pickles.numpy_builtins_dict_get, {"AIR201", "AIR204", "AIR213"}, id="modelscan-89-numpy-builtins"
    ),
    # https://github.com/protectai/modelscan/issues/331: STACK_GLOBAL operands computed at load time
    pytest.param(pickles.dynamic_import_from_call, {"AIR203"}, id="modelscan-331-computed-names"),
    # picklescan tests/data2/dns_exfiltration.npy: a payload in a NumPy object array
    pytest.param(pickles.npy_object_array_payload, {"AIR201"}, id="picklescan-npy-object-array"),
    # https://github.com/advisories/GHSA-7q5r-7gvp-wc82, CVE-2025-10156 (JFrog): a CRC PyTorch ignores
    pytest.param(archives.torch_zip_bad_crc, {"AIR201", "AIR301"}, id="CVE-2025-10156-bad-crc"),
    # https://github.com/advisories/GHSA-w8jq-xcqf-f792, CVE-2025-1945: zip flag bits
    pytest.param(archives.zip_encrypted_flag, {"AIR201", "AIR302"}, id="CVE-2025-1945-flag-bits"),
    # CVE-2025-1944 (picklescan tests/data/malicious1_central_directory.zip): local and central names differ
    pytest.param(archives.torch_zip_local_name_mismatch, {"AIR201", "AIR302"}, id="CVE-2025-1944-local-name"),
    # https://github.com/advisories/GHSA-769v-p64c-89pr, CVE-2025-1889: a pickle under another extension
    pytest.param(archives.zip_pickle_misnamed, {"AIR201"}, id="CVE-2025-1889-extension"),
    # picklescan tests/data/malicious1.7z
    pytest.param(archives.seven_zip_pickle, {"AIR201"}, id="picklescan-7z"),
]


@pytest.mark.parametrize("generator, expected", STRUCTURAL)
def test_structural_bypass_fails_the_scan(
    generator: pickles.Generator, expected: set[str], generated
) -> None:
    assert _failing_rules(generated(generator)) == expected


def test_cve_2025_10155_a_raw_pickle_named_like_a_torch_file(tmp_path: Path) -> None:
    # https://jfrog.com/blog/unveiling-3-zero-day-vulnerabilities-in-picklescan/ (CVE-2025-10155): a plain
    # pickle named .bin/.pt sent down the PyTorch path, which failed, so the file passed
    for name in ("pytorch_model.bin", "model.pt", "weights.ckpt"):
        path = tmp_path / name
        path.write_bytes(pickles.reduce_call("os", "system", shell_command("extension"), 2))
        assert _failing_rules(path) == {"AIR201"}


def test_modelscan_330_build_on_numpy_size_with_builtins(tmp_path: Path) -> None:
    # https://github.com/protectai/modelscan/issues/330: numpy.size BUILD with numpy.__builtins__ as state,
    # then eval fetched through the patched object (rebuilt here with a canary instead of `id`)
    code = f"__import__('os').system({shell_command('modelscan-330')!r})".encode()
    body = (
        b"\x80\x04\x8c\x05numpy\x8c\x04size\x93\x94\x94\x8c\x05numpy\x8c\x0c__builtins__\x93\x94\x94"
        b"h\x01}}\x8c\x05shapeh\x03s\x86bh\x01h\x01\x8c\x04eval\x86R"
        b"\x8c" + bytes([len(code)]) + code + b"\x85R."
    )
    path = tmp_path / "numpy_allowlist.pkl"
    path.write_bytes(body)
    assert {"AIR201", "AIR206"} <= _failing_rules(path)


def test_modelaudit_main_class_is_reported_not_ignored(tmp_path: Path) -> None:
    # the ModelAudit write-up: 0xnu/mnist-ocr's `__main__.ImageTokenizer` via NEWOBJ. A `__main__` class
    # is how a whole model pickled from a script looks; like any called global off the safe list it is
    # high (AIR213), failing the default policy; anything reached through it is critical.
    path = tmp_path / "mnist_tokenizer.pkl"
    path.write_bytes(b"\x80\x04\x8c\x08__main__\x8c\x0eImageTokenizer\x93)\x81}b.")
    [finding] = _scan(path).findings
    assert (finding.rule, str(finding.severity), finding.evidence["called_by"]) == (
        "AIR213",
        "high",
        "NEWOBJ",
    )
    through = tmp_path / "through_main.pkl"
    through.write_bytes(pickles.reduce_call("__main__", "os.system", shell_command("main"), 4))
    assert _failing_rules(through) == {"AIR201"}
