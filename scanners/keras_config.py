"""The keras_config scanner: Keras model configs (`.keras` `config.json`, legacy `.h5` `model_config`).

It parses the JSON and walks every object in it without importing Keras or unmarshalling anything;
the lists it decides with are `signatures/keras-modules.toml`.
"""

from __future__ import annotations

import base64
import binascii
import builtins
import functools
import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from airlock.artifacts import Artifact
from airlock.findings import Finding, Severity
from airlock.formats import Format
from airlock.parsers.errors import ParseError
from airlock.parsers.hdf5 import Hdf5Crash, Hdf5Unavailable, keras_attributes, names_keras_config
from airlock.parsers.zip_members import members, read_member
from airlock.rules import read_signature_toml
from airlock.scanning import ArtifactScanner, ScanContext

MAX_CONFIG_BYTES = 64 << 20
CONFIG_MEMBER = "config.json"
LAMBDA_FIELDS = ("function", "output_shape", "mask")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SOURCE_SUFFIXES = frozenset({"py", "pyw", "pyc"})  # what follows the module name in a file `import` loads
EXTENSION_SUFFIXES = (
    ".so",
    ".pyd",
)  # extension modules: `name.so`, `name.cpython-311-x86_64-linux-gnu.so`, …


@dataclass(frozen=True)
class ModulePolicy:
    trusted: frozenset[str]
    dangerous_modules: tuple[tuple[str, str], ...]
    builtins: frozenset[str]
    builtins_reason: str
    gadgets: dict[str, str]

    def dangerous_module(self, module: str) -> str | None:
        for prefix, reason in self.dangerous_modules:
            if module == prefix or module.startswith(prefix + "."):
                return reason
        return None


@dataclass(frozen=True)
class ShippedModules:
    """The Python modules a snapshot ships: for each module name, (folder, file) of the files `import` loads."""

    files: dict[str, list[tuple[str, str]]]

    @classmethod
    def of(cls, paths: Iterable[str]) -> ShippedModules:
        files: dict[str, list[tuple[str, str]]] = {}
        for path in sorted(paths, key=lambda p: (p.count("/"), p)):  # the shallowest first, then by name
            folder, _, name = path.rpartition("/")
            stem, dot, rest = name.partition(".")
            if not dot or not (rest in SOURCE_SUFFIXES or f".{rest}".endswith(EXTENSION_SUFFIXES)):
                continue
            if stem == "__init__":  # a package: `folder` itself is the module
                folder, _, stem = folder.rpartition("/")
            if stem.isidentifier():
                files.setdefault(stem, []).append((folder, path))
        return cls(files)

    def paths(self) -> list[str]:
        return sorted(path for entries in self.files.values() for _, path in entries)

    def find(self, module: str, *, anywhere: bool) -> str | None:
        """The shipped file that `import module` runs with the snapshot's top folder on sys.path, or (with
        `anywhere`) any of its folders: the module itself or a package on its way (importing `a.b` runs
        `a/__init__.py` first, or `a.py` before it fails). The shallowest such file, then by name."""
        parts = module.split(".")
        if not all(part.isidentifier() for part in parts):
            return None
        found: list[str] = []
        for i, part in enumerate(parts):
            prefix = "/".join(parts[:i])
            found += [
                path
                for folder, path in self.files.get(part, ())
                if folder == prefix or (anywhere and (not prefix or folder.endswith("/" + prefix)))
            ]
        return min(found, key=lambda path: (path.count("/"), path), default=None)


@functools.cache
def module_policy() -> ModulePolicy:
    raw = read_signature_toml("keras-modules.toml")
    return ModulePolicy(
        trusted=frozenset(raw["trusted"]["packages"]),
        dangerous_modules=tuple((e["match"], e["reason"]) for e in raw["dangerous_module"]),
        builtins=frozenset(raw["builtins"]["dangerous"]),
        builtins_reason=raw["builtins"]["reason"],
        gadgets={e["name"]: e["reason"] for e in raw["gadget"]},
    )


class KerasConfig(ArtifactScanner):
    """Reads Keras model configs (`.keras` `config.json`, legacy `.h5` `model_config`) and flags code they load.

    ## Why it matters
    A Keras config is a recipe for imports and calls. `Lambda` layers carry marshalled Python bytecode
    that Keras rebuilds and calls (CVE-2024-3660; legacy `.h5` ignores `safe_mode`, CVE-2025-9905).
    `module` + `class_name` make Keras import any module and take any attribute from it (CVE-2025-1550),
    and even inside Keras there are gadgets that switch safe mode off (CVE-2025-9906), download files
    (CVE-2025-8747) or load an external SavedModel (CVE-2026-1462).

    ## What it checks
    Every object in the config, at any depth (layers, nested models, losses, metrics, optimizers):
    serialized lambdas and `Lambda` layers with bytecode are AIR501 (critical), with the names and
    strings visible in the bytecode as evidence (it is never unmarshalled); references to dangerous
    modules, dangerous builtins, Keras/TensorFlow gadgets and dangerous `TFOpLambda` functions are
    AIR503 (critical); other modules outside the Keras/TensorFlow packages are AIR502 (medium),
    critical when the snapshot ships the module (`my_layers.py`, `my_layers/__init__.py`, a `.pyc` or an
    extension module; `a.b` as `a/b.py`, in any folder): loading the model where it is importable runs
    it. A module at the top of the snapshot that shadows a Keras/TensorFlow package is critical too. A
    registered name (`package>Name`) is a registry key, not an import, and is only evidence. A config
    that cannot be read or parsed within bounds is AIR509 (high if libhdf5, run in a child process,
    crashes on the file). Lists are `signatures/keras-modules.toml`.

    ## Example
    `model.keras:config.json#layers[2]`: a `Lambda` layer whose bytecode names `__import__`, `os`,
    `system`: AIR501 (critical).

    ## References
    - AML.T0010.003, AML.T0011.000, CWE-94, CWE-502
    - CVE-2024-3660, CVE-2025-1550, CVE-2025-8747, CVE-2025-9905, CVE-2025-9906, CVE-2026-1462
    """

    name = "keras_config"
    version = "2"
    formats: ClassVar[frozenset[Format]] = frozenset({Format.KERAS_ZIP, Format.HDF5})
    rules: ClassVar[frozenset[str]] = frozenset({"AIR501", "AIR502", "AIR503", "AIR509"})

    def __init__(self) -> None:
        self._shipped: tuple[Sequence[Artifact], ShippedModules] | None = None

    def context_key(self, ctx: ScanContext) -> str:
        """AIR502's severity depends on the Python modules the snapshot ships, not only on the config's bytes."""
        modules = self.shipped(ctx).paths()
        return "modules:" + hashlib.sha256("\n".join(modules).encode()).hexdigest()[:16] if modules else ""

    def shipped(self, ctx: ScanContext) -> ShippedModules:
        if self._shipped is None or self._shipped[0] is not ctx.artifacts:
            self._shipped = (ctx.artifacts, ShippedModules.of(a.path for a in ctx.artifacts))
        return self._shipped[1]

    def scan(self, artifact: Artifact, ctx: ScanContext) -> Iterator[Finding]:
        if artifact.format is Format.KERAS_ZIP:
            yield from self._scan_zip(artifact, ctx)
        else:
            yield from self._scan_hdf5(artifact, ctx)

    def _scan_zip(self, artifact: Artifact, ctx: ScanContext) -> Iterator[Finding]:
        where = f"{artifact.path}:{CONFIG_MEMBER}"
        try:
            configs = [m for m in members(artifact.location)[0] if m.name == CONFIG_MEMBER]
            if not configs:
                raise ParseError(f"no {CONFIG_MEMBER} member")
            texts = [read_member(artifact.location, m, max_bytes=MAX_CONFIG_BYTES)[0] for m in configs]
        except (ParseError, OSError) as exc:
            yield self._unreadable(ctx, artifact, where, f"{CONFIG_MEMBER} unreadable: {exc}")
            return
        for text in texts:
            yield from self._check(ctx, artifact, where, text)

    def _scan_hdf5(self, artifact: Artifact, ctx: ScanContext) -> Iterator[Finding]:
        try:
            attributes = keras_attributes(
                artifact.location, MAX_CONFIG_BYTES, ctx.limits.seconds_per_artifact
            )
        except Hdf5Unavailable:
            if names_keras_config(artifact.location):
                yield self._unreadable(
                    ctx, artifact, artifact.path, "h5py is not installed: the model_config was not checked"
                )
            return
        except (
            Hdf5Crash
        ) as exc:  # memory corruption in libhdf5 is what an exploit against the loader looks like
            yield ctx.finding(
                "AIR509", self.name, artifact.path, artifact.path, str(exc), severity=Severity.HIGH
            )
            return
        except ParseError as exc:
            yield self._unreadable(ctx, artifact, artifact.path, f"cannot be read as HDF5: {exc}")
            return
        for name, text in attributes.items():
            yield from self._check(ctx, artifact, f"{artifact.path}:{name}", text)

    def _unreadable(self, ctx: ScanContext, artifact: Artifact, where: str, message: str) -> Finding:
        return ctx.finding("AIR509", self.name, artifact.path, where, message)

    def _check(
        self, ctx: ScanContext, artifact: Artifact, where: str, text: str | bytes
    ) -> Iterator[Finding]:
        try:
            config = json.loads(text)
        except (ValueError, RecursionError) as exc:
            yield self._unreadable(ctx, artifact, where, f"config is not JSON: {str(exc)[:200]}")
            return
        seen = 0
        handled: set[int] = set()
        stack: list[tuple[Any, tuple[str | int, ...]]] = [(config, ())]
        while stack:
            value, path = stack.pop()
            seen += 1
            if seen > ctx.limits.max_entries:
                yield self._unreadable(
                    ctx,
                    artifact,
                    where,
                    f"config holds more than {ctx.limits.max_entries} values: not fully checked",
                )
                return
            if isinstance(value, dict):
                if isinstance(value.get("class_name"), str) and id(value) not in handled:
                    yield from self._judge(ctx, artifact, where, value, path, handled)
                stack.extend((v, (*path, k)) for k, v in reversed(list(value.items())))
            elif isinstance(value, list):
                stack.extend((v, (*path, i)) for i, v in reversed(list(enumerate(value))))

    def _judge(
        self,
        ctx: ScanContext,
        artifact: Artifact,
        where: str,
        obj: dict[str, Any],
        path: tuple[str | int, ...],
        handled: set[int],
    ) -> Iterator[Finding]:
        location = _location(where, path)
        class_name: str = obj["class_name"]
        inner = obj.get("config")
        if class_name == "__lambda__":
            yield self._lambda(ctx, artifact, location, "serialized lambda", _lambda_code(inner))
            return
        if class_name == "Lambda" and isinstance(inner, dict):
            yield from self._lambda_layer(ctx, artifact, location, inner, handled)
        if class_name in ("TFOpLambda", "SlicingOpLambda") and isinstance(inner, dict):
            yield from self._tf_op(ctx, artifact, location, inner)
        module = obj.get("module")
        name = inner if class_name == "function" else class_name
        if isinstance(module, str) and module and isinstance(name, str):
            yield from self._reference(ctx, artifact, location, module, name, obj.get("registered_name"))

    def _lambda_layer(
        self, ctx: ScanContext, artifact: Artifact, location: str, inner: dict[str, Any], handled: set[int]
    ) -> Iterator[Finding]:
        layer = inner.get("name", "?")
        for field in LAMBDA_FIELDS:
            value, kind = inner.get(field), inner.get(f"{field}_type")
            if isinstance(value, dict) and value.get("class_name") == "__lambda__":
                handled.add(id(value))
                code = _lambda_code(value.get("config"))
            elif kind == "lambda" and isinstance(value, (str, list)):
                code = value if isinstance(value, str) else next(iter(value), None)
            else:
                if kind == "function" and isinstance(value, str) and isinstance(inner.get("module"), str):
                    yield from self._reference(ctx, artifact, location, inner["module"], value, None)
                continue
            yield self._lambda(ctx, artifact, location, f"Lambda layer {layer!r} ({field})", code)

    def _lambda(self, ctx: ScanContext, artifact: Artifact, location: str, what: str, code: Any) -> Finding:
        names, strings = bytecode_strings(code) if isinstance(code, str) else ([], [])
        shown = f" (names: {', '.join(names[:8])})" if names else ""
        return ctx.finding(
            "AIR501",
            self.name,
            artifact.path,
            location,
            f"{what} carries marshalled Python bytecode{shown}",
            {"names": names, "strings": strings, "bytecode_chars": len(code) if isinstance(code, str) else 0},
        )

    def _tf_op(
        self, ctx: ScanContext, artifact: Artifact, location: str, inner: dict[str, Any]
    ) -> Iterator[Finding]:
        function = inner.get("function")
        if not isinstance(function, str):
            return
        gadgets = module_policy().gadgets
        for part in function.split("."):
            if part in gadgets:
                yield ctx.finding(
                    "AIR503",
                    self.name,
                    artifact.path,
                    location,
                    f"TFOpLambda calls tf.{function}: {gadgets[part]}",
                    {"function": function, "reason": gadgets[part]},
                )
                return

    def _reference(
        self, ctx: ScanContext, artifact: Artifact, location: str, module: str, name: str, registered: Any
    ) -> Iterator[Finding]:
        policy = module_policy()
        evidence = {"module": module, "name": name, "registered_name": registered}
        target = f"{module}.{name}"
        reason: str | None
        if module in ("builtins", "__builtin__"):
            if name in policy.builtins:
                reason = policy.builtins_reason
            elif ">" not in name and hasattr(builtins, name):
                yield ctx.finding(
                    "AIR502",
                    self.name,
                    artifact.path,
                    location,
                    f"references the Python builtin {name}",
                    evidence,
                )
                return
            else:
                return  # a Keras built-in function or a registry key: Keras resolves it without importing
        elif (reason := policy.dangerous_module(module)) is None:
            trusted = module.split(".", 1)[0] in policy.trusted
            # Anywhere for a custom module (the model needs that code, so whoever loads it makes it
            # importable), at the top only for a trusted package (a vendored copy shadows nothing).
            # Neither depends on where this file sits, so a cached result holds for any copy of its bytes.
            shipped = self.shipped(ctx).find(module, anywhere=not trusted)
            if shipped is not None:
                why = (
                    ", which shadows the installed package: loading the model from the repository's folder runs it"
                    if trusted
                    else ": Keras before 3.9 imports any module a config names (CVE-2025-1550), so "
                    "loading the model where that file is importable (from its folder, for one) runs it"
                )
                yield ctx.finding(
                    "AIR502",
                    self.name,
                    artifact.path,
                    location,
                    f"imports {target}, and the repository ships {shipped}{why}",
                    {**evidence, "shipped_module": shipped},
                    Severity.CRITICAL,
                )
                return
            if not trusted:
                yield ctx.finding(
                    "AIR502",
                    self.name,
                    artifact.path,
                    location,
                    f"imports {target} from outside the Keras and TensorFlow packages",
                    evidence,
                )
                return
            reason = policy.gadgets.get(name)
            if reason is None:
                return
        yield ctx.finding(
            "AIR503",
            self.name,
            artifact.path,
            location,
            f"references {target}: {reason}",
            {**evidence, "reason": reason},
        )


def _lambda_code(inner: Any) -> Any:
    """The base64 bytecode of a serialized lambda: Keras 3 `{"code": …}` or `{"value": [code, …]}`."""
    if not isinstance(inner, dict):
        return None
    if isinstance(inner.get("code"), str):
        return inner["code"]
    value = inner.get("value")
    if isinstance(value, list) and value:
        return value[0]
    return value


def _location(where: str, path: tuple[str | int, ...]) -> str:
    """`model.keras:config.json#layers[2].function`: the JSON path without Keras' `config` wrappers."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part != "config":
            text += f".{part}" if text else part
    return f"{where}#{text}" if text else where


_SHORT_STRINGS = frozenset(b"zZ")  # marshal short ASCII strings: one length byte
_LONG_STRINGS = frozenset(b"aAut")  # marshal ASCII/Unicode/interned strings: four length bytes
_BYTES = ord("s")  # marshal bytes (the bytecode itself): skipped, so opcodes are not read as strings
MAX_BYTECODE_STRINGS = 64


def bytecode_strings(code: str) -> tuple[list[str], list[str]]:
    """Identifiers and other strings visible in base64 `marshal` data, found without unmarshalling it."""
    try:
        raw = base64.b64decode(code[:MAX_CONFIG_BYTES], validate=False)
    except (binascii.Error, ValueError):
        return [], []
    names: list[str] = []
    others: list[str] = []
    pos = 0
    while pos < len(raw) and len(names) + len(others) < MAX_BYTECODE_STRINGS:
        kind = raw[pos] & 0x7F
        if kind in _SHORT_STRINGS and pos + 1 < len(raw):
            start, length = pos + 2, raw[pos + 1]
        elif kind in _LONG_STRINGS | {_BYTES} and pos + 5 <= len(raw):
            start, length = pos + 5, int.from_bytes(raw[pos + 1 : pos + 5], "little")
        else:
            pos += 1
            continue
        chunk = raw[start : start + length]
        if length == 0 or len(chunk) != length:
            pos += 1
            continue
        if kind != _BYTES:
            try:
                text = chunk.decode("utf-8")
            except UnicodeDecodeError:
                pos += 1
                continue
            if not text.isprintable():
                pos += 1
                continue
            target = names if _IDENTIFIER.match(text) else others
            if text not in target:
                target.append(text[:200])
        pos = start + length
    return names, others
