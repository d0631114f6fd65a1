"""Build `signatures/pickle-resolution.json.gz`: what dotted names in the loaders' packages resolve to.

A pickle names a callable as `module` + `name`; the loader imports the module and walks the name's
dots with getattr. What that reaches is not what the spelling suggests: `numpy.testing._private.
utils.os` is the `os` module, `torch.serialization.os.system` is `posix.system`, and a function
re-exported into an innocent module keeps its own identity. This build step imports the real
packages (it is the only place that may) and records, for every module it can import:
- `modules`: every importable module name;
- `module_aliases`: `M.attr` -> the module it is, when that module is not `M.attr` itself;
- `objects`: `M.attr` -> the canonical `module.qualname` of a function or class defined elsewhere.
The scan itself never imports anything: it reads this data (airlock.resolution).

Run with `make resolution`; the result depends on the installed versions, which it records.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "signatures" / "pickle-resolution.json.gz"
PACKAGES = (
    "stdlib",
    "numpy",
    "torch",
    "scipy",
    "sklearn",
    "joblib",
    "transformers",
    "sympy",
    "safetensors",
    "tokenizers",
    "huggingface_hub",
    "pandas",
)
# stdlib modules whose import has side effects, or that need a display, or are test suites
SKIP_PREFIXES = (
    "antigravity",
    "this",
    "idlelib",
    "tkinter",
    "turtle",
    "turtledemo",
    "test",
    "lib2to3",
    "ensurepip",
    "pydoc_data",
    "__main__",
    "xxsubtype",
    "_xx",
    "xxlimited",
    "msilib",
    "winreg",
    "winsound",
    "_winapi",
    "nt",
    "_msi",
    "_tkinter",
    "_overlapped",
    "msvcrt",
)
SKIP_PARTS = ("tests", "test", "testing._private.extbuild", "conftest", "benchmarks", "__main__", "_pytest")
SECONDS_PER_PACKAGE = 900

CHILD = r"""
import importlib, json, pkgutil, sys, types, warnings, io, contextlib, os
warnings.simplefilter("ignore")
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
package, skip_prefixes, skip_parts = sys.argv[1], tuple(json.loads(sys.argv[2])), tuple(json.loads(sys.argv[3]))

def wanted(name):
    first = name.split(".")[0]
    if first in skip_prefixes:
        return False
    parts = name.split(".")
    return not any(p in ("tests", "test", "conftest", "benchmarks", "__main__", "_pytest") for p in parts[1:])

names = []
if package == "stdlib":
    names = sorted(n for n in sys.stdlib_module_names if wanted(n))
else:
    names = [package]
    try:
        root = importlib.import_module(package)
        for info in pkgutil.walk_packages(root.__path__, package + ".", onerror=lambda _: None):
            if wanted(info.name):
                names.append(info.name)
    except Exception:
        pass
    names = sorted(set(names))
sink = io.StringIO()
for name in names:
    if package == "stdlib":
        pass
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            importlib.import_module(name)
    except BaseException:
        continue
    if package == "stdlib":  # also the stdlib's own submodules (os.path, email.mime.text, ...)
        module = sys.modules.get(name)
        for info in pkgutil.walk_packages(getattr(module, "__path__", []) or [], name + ".", onerror=lambda _: None):
            if wanted(info.name):
                try:
                    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                        importlib.import_module(info.name)
                except BaseException:
                    pass

def canonical(obj):
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qualname, str) or "<" in qualname:
        return None
    return f"{module}.{qualname}"

modules, module_aliases, objects = [], {}, {}
prefix = None if package == "stdlib" else package
for name, module in sorted(sys.modules.items()):
    if not isinstance(module, types.ModuleType) or not wanted(name):
        continue
    top = name.split(".")[0]
    if prefix is None:
        if top not in sys.stdlib_module_names:
            continue
    elif top != prefix:
        continue
    modules.append(name)
    try:
        members = list(vars(module).items())
    except Exception:
        continue
    for attr, value in members:
        if attr.startswith("__") and attr.endswith("__"):
            continue
        key = f"{name}.{attr}"
        if isinstance(value, types.ModuleType):
            if value.__name__ != key:
                module_aliases[key] = value.__name__
        elif isinstance(value, (types.FunctionType, types.BuiltinFunctionType, type)) or callable(value):
            try:
                target = canonical(value)
            except Exception:
                target = None
            if target is not None and target != key:
                objects[key] = target
json.dump({"modules": modules, "module_aliases": module_aliases, "objects": objects}, sys.stdout)
"""


def collect(package: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, package, json.dumps(SKIP_PREFIXES), json.dumps(SKIP_PARTS)],
        capture_output=True,
        text=True,
        timeout=SECONDS_PER_PACKAGE,
        check=False,
        cwd="/",
    )
    if done.returncode != 0:
        raise SystemExit(f"{package}: the walk failed ({done.returncode}): {done.stderr[-2000:]}")
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": sys.version.split()[0]}
    for dist in (
        "numpy",
        "torch",
        "scipy",
        "scikit-learn",
        "joblib",
        "transformers",
        "sympy",
        "safetensors",
        "tokenizers",
        "huggingface_hub",
        "pandas",
    ):
        try:
            found[dist] = version(dist)
        except PackageNotFoundError:
            pass
    return found


def main() -> None:
    modules: set[str] = set()
    module_aliases: dict[str, str] = {}
    objects: dict[str, str] = {}
    for package in PACKAGES:
        part = collect(package)
        modules.update(part["modules"])  # type: ignore[arg-type]
        module_aliases.update(part["module_aliases"])  # type: ignore[arg-type]
        objects.update(part["objects"])  # type: ignore[arg-type]
        print(
            f"{package}: {len(part['modules'])} modules, {len(part['module_aliases'])} module aliases, "  # type: ignore[arg-type]
            f"{len(part['objects'])} re-exported objects",
            file=sys.stderr,
        )  # type: ignore[arg-type]
    data = {
        "schema": "airlock.pickle-resolution/1",
        "built_with": versions(),
        "modules": sorted(modules),
        "module_aliases": dict(sorted(module_aliases.items())),
        "objects": dict(sorted(objects.items())),
    }
    raw = json.dumps(data, separators=(",", ":"), sort_keys=False).encode()
    OUT.write_bytes(gzip.compress(raw, mtime=0))
    print(f"wrote {OUT} ({len(raw)} bytes of JSON, {OUT.stat().st_size} compressed)", file=sys.stderr)


if __name__ == "__main__":
    main()
