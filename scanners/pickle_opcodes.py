"""pickle_opcodes: judges every pickle an artifact holds, from the facts `airlock.parsers.pickle_walk` gathers.

Pickles are found the way loaders find them (`airlock.parsers.containers`), whatever the files are called: raw
and joblib pickles, the five pickles of a legacy PyTorch file, every pickle member of PyTorch and
TorchScript zips (and the bytes before a zip, which `torch.load` unpickles), the pickle of a NumPy
object array, byte strings inside pickles that are pickles again, and all of these inside zip,
tar, 7z and compressed containers. Globals are decided by `signatures/pickle-globals.toml`.

Globals are judged allowlist-first, by their spelling and by what they resolve to in the installed
packages (`airlock.resolution`, loaded only when a pickle holds a global that is not plainly safe;
the worse verdict wins): a dangerous global is AIR201 whether called or not; a global off the safe
list is AIR213 (high) when the pickle calls it (by an opcode, or by handing it to a safe helper
that calls that argument: `copyreg._reconstructor`'s base, `functools.partial`'s function) and
AIR202 (medium) when it is only imported. Safe helpers whose safety depends on their arguments
(`builtins.getattr` as a listed method lookup, `functools.partial` of safe callables) are checked
per call. Bytes handed to a deserialiser (`pickle.loads`, `torch.load`, `numpy.load`, ...) are
walked as what it reads, and reported beside AIR207.
Source code the pickle makes its loader compile (torch.fx GraphModule code, TorchScript `code/`)
is read by `airlock.analysis.carried_code` (AIR214).
"""

from __future__ import annotations

import _compat_pickle
import functools
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from airlock.artifacts import Artifact
from airlock.findings import Finding, Severity
from airlock.formats import HEAD_BYTES, PICKLE_BASED, TAIL_BYTES, UNPICKLABLE, Format, detect
from airlock.parsers.buffers import Buffer, mapped
from airlock.parsers.containers import CONTAINERS, TORCH_ZIPS, Item, Leaf, Opened, expand
from airlock.parsers.errors import LimitExceeded, ParseError
from airlock.parsers.npy import parse_header
from airlock.parsers.pickle_walk import (
    MAX_ITEMS,
    Blob,
    Call,
    Captured,
    Global,
    Persistent,
    Result,
    SymDict,
    SymList,
    WalkResult,
    acts,
    describe,
    walk,
)
from airlock.resolution import resolve
from airlock.rules import read_signature_toml
from airlock.scanning import ArtifactScanner, ScanContext

if TYPE_CHECKING:
    from airlock.analysis.carried_code import CodeIssue

MAX_PICKLES_PER_STREAM = 64
LEGACY_PICKLES = 5  # magic number, protocol version, system info, the object, the storage keys
TORCH_MAGIC = 0x1950A86A20F9469CFC6C
TORCH_LEGACY_PROTOCOL = 1001
# Bytes per element of the storage classes legacy files name (torch._utils._element_size of their dtype).
STORAGE_ELEMENT_SIZE = {
    "DoubleStorage": 8, "FloatStorage": 4, "HalfStorage": 2, "BFloat16Storage": 2, "LongStorage": 8, "IntStorage": 4,
    "ShortStorage": 2, "CharStorage": 1, "ByteStorage": 1, "BoolStorage": 1, "ComplexDoubleStorage": 16,
    "ComplexFloatStorage": 8, "QUInt8Storage": 1, "QInt8Storage": 1, "QInt32Storage": 4, "QUInt4x2Storage": 1,
    "QUInt2x4Storage": 1, "UntypedStorage": 1,
}  # fmt: skip
TAR_LEGACY_MEMBERS = frozenset({"storages", "tensors", "pickle"})  # what torch's legacy tar loader reads
MAX_NESTING = 3  # pickles in byte strings in pickles
MAX_INDIRECT_FINDINGS = 20
STANDARD_OP_NAMESPACES = frozenset(
    {"aten", "prim", "prims", "_prims", "quantized", "_quantized", "quantized_decomposed", "profiler", "_caffe2",
     "xnnpack", "mkldnn", "onednn", "fbgemm", "sparse", "cuda", "c10d", "_c10d_functional", "higher_order"}
)  # fmt: skip
_TS_OPERATOR = re.compile(rb"\bops\.([A-Za-z_][A-Za-z0-9_]*)\.")
_DUNDER = re.compile(r"^__\w+__$")
MAX_CODE_FINDINGS = 20  # per piece of carried code
# Globals that exec source code taken from their arguments: (index of the code in the arguments,
# where to find it). "body": a GraphModule's __dict__, whose `_code` (or `code`) string is run,
# prefixed with the import block at `prefix`; "text": the argument is the source itself.
FX_CODE_CALLS: dict[str, tuple[str, int, int | None]] = {
    "torch.fx.graph_module.reduce_graph_module": ("body", 0, 1),  # (body, import_block)
    "torch.fx.graph_module.reduce_deploy_graph_module": (
        "body",
        1,
        2,
    ),  # (importer, body, import_block), torch < 2.1
    "torch.fx.graph_module._forward_from_src": ("text", 0, None),  # (src, globals)
    "torch.fx.graph_module._exec_with_source": ("text", 0, None),  # (src, globals)
    "torch.fx.graph_module._method_from_src": ("text", 1, None),  # (method_name, src, globals)
}
WATCHED = frozenset(FX_CODE_CALLS)


# --- the global policy ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Verdict:
    kind: str  # "dangerous" | "safe" | "unknown"
    reason: str = ""
    hops: tuple[str, ...] = ()  # the aliases the loader walks to reach the object (from the resolution data)
    canonical: str = ""  # what the name resolves to, when that differs from its spelling


_RANK = {"safe": 0, "unknown": 1, "dangerous": 2}


@dataclass(frozen=True, slots=True)
class Helper:
    """A safe callable whose safety depends on its arguments (`[helpers]` in pickle-globals.toml)."""

    calls: tuple[int, ...] = ()  # argument positions it calls or instantiates
    state_calls: tuple[int, ...] = ()  # BUILD state positions that become called
    check: str = ""  # "" | "method-lookup" | "constant-args"
    methods: Mapping[str, frozenset[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class GlobalPolicy:
    """`signatures/pickle-globals.toml`, in the order its header describes."""

    safe: frozenset[str]  # exact module.qualname: [generated], [safe] and the [helpers] names
    helpers: Mapping[str, Helper]
    contexts: Mapping[str, tuple[str, ...]]
    dangerous_exact: Mapping[str, str]
    dangerous_modules: tuple[tuple[str, str], ...]  # longest prefix first
    dangerous_attributes: Mapping[str, str]

    def classify(self, module: str, name: str, context: str | None = None) -> Verdict:
        """The verdict on the spelling alone (no resolution)."""
        qualified = f"{module}.{name}"
        if qualified in self.dangerous_exact:
            return Verdict("dangerous", self.dangerous_exact[qualified])
        if qualified in self.safe:
            return Verdict("safe")
        parts = name.split(".")
        reason = self._parts(parts)
        if reason is not None:
            return Verdict("dangerous", reason)
        for i in range(len(parts) if len(parts) > 1 else 0):  # a dotted name is a path: check where it leads
            inner = ".".join(parts[i:])
            reason = self._dangerous(inner)
            if reason is not None:
                return Verdict("dangerous", f"the attribute path reaches {inner}: {reason}")
        return self._rest(qualified, context)

    def classify_canonical(self, canonical: str, context: str | None = None) -> Verdict:
        """The verdict on what a name resolves to (`module.qualname` where the object is defined)."""
        if canonical in self.dangerous_exact:
            return Verdict("dangerous", self.dangerous_exact[canonical])
        if canonical in self.safe:
            return Verdict("safe")
        reason = self._parts(canonical.split(".")[1:])
        if reason is not None:
            return Verdict("dangerous", reason)
        return self._rest(canonical, context)

    def judge(self, module: str, name: str, context: str | None = None) -> Verdict:
        """Spelling and resolved identity both; the worse wins. Plainly safe names are not resolved."""
        spelled = self.classify(module, name, context)
        if spelled.kind == "safe":
            return spelled
        resolved = resolve(module, name)
        if resolved.canonical == f"{module}.{name}":
            return spelled
        target = self.classify_canonical(resolved.canonical, context)
        worst = target if _RANK[target.kind] > _RANK[spelled.kind] else spelled
        reason = f"resolves to {resolved.canonical}: {target.reason}" if worst is target else worst.reason
        return Verdict(worst.kind, reason, resolved.hops, resolved.canonical)

    def _parts(self, parts: list[str]) -> str | None:
        for part in parts:
            if _DUNDER.match(part):
                return f"reaches {part}: interpreter internals through a dunder attribute"
            if part in self.dangerous_attributes:
                return self.dangerous_attributes[part]
        return None

    def _rest(self, qualified: str, context: str | None) -> Verdict:
        if context is not None and _under(qualified, self.contexts.get(context, ())):
            return Verdict("safe")
        reason = self._dangerous(qualified)
        if reason is not None:
            return Verdict("dangerous", reason)
        return Verdict("unknown", "not on the list of known-safe globals")

    def _dangerous(self, qualified: str) -> str | None:
        if qualified in self.dangerous_exact:
            return self.dangerous_exact[qualified]
        for prefix, reason in self.dangerous_modules:
            if _under(qualified, (prefix,)):
                return reason
        return None


def _under(qualified: str, prefixes: Iterable[str]) -> bool:
    return any(qualified == p or qualified.startswith(p + ".") for p in prefixes)


def _strip(match: str) -> str:
    return match.removesuffix(".*")


@functools.cache
def global_policy() -> GlobalPolicy:
    raw = read_signature_toml("pickle-globals.toml")
    exact: dict[str, str] = {}
    modules: list[tuple[str, str]] = []
    attributes: dict[str, str] = {}
    for entry in raw["dangerous"]:
        match, reason = entry["match"], entry["reason"]
        if match.startswith("*."):
            attributes[match[2:]] = reason
        elif match.endswith(".*"):
            modules.append((match[:-2], reason))
        else:
            exact[match] = reason
    helpers = {
        name: Helper(
            tuple(body.get("calls", ())),
            tuple(body.get("state_calls", ())),
            body.get("check", ""),
            {t: frozenset(m) for t, m in body.get("methods", {}).items()},
        )
        for name, body in raw.get("helpers", {}).items()
    }
    return GlobalPolicy(
        safe=frozenset(raw["generated"]["globals"]) | frozenset(raw["safe"]["globals"]) | frozenset(helpers),
        helpers=helpers,
        contexts={
            name: tuple(_strip(p) for p in body["prefixes"]) for name, body in raw.get("context", {}).items()
        },
        dangerous_exact=exact,
        dangerous_modules=tuple(sorted(modules, key=lambda item: -len(item[0]))),
        dangerous_attributes=attributes,
    )


def loader_names(imported: Global) -> tuple[tuple[str, str], tuple[str, str]]:
    """(the name the loader imports, the other spelling): below protocol 3 Python 2 names are mapped."""
    raw = (imported.module, imported.name)
    mapped_name = _compat_pickle.NAME_MAPPING.get(raw)
    if mapped_name is None and imported.module in _compat_pickle.IMPORT_MAPPING:
        mapped_name = (_compat_pickle.IMPORT_MAPPING[imported.module], imported.name)
    mapped_name = mapped_name or raw
    return (mapped_name, raw) if imported.protocol < 3 else (raw, mapped_name)


class _Uses:
    """How a pickle's calls use its globals: which are called (directly, or as an argument a safe
    helper calls) and which safe helpers were called outside their constraints."""

    def __init__(self, policy: GlobalPolicy) -> None:
        self.policy = policy
        self.called: dict[int, str] = {}  # id(Global) -> how it is called
        self.broken: dict[int, str] = {}  # id(Global) of a helper -> the constraint its call broke
        self._names: dict[int, str] = {}

    def name(self, value: Global) -> str:
        key = id(value)
        if key not in self._names:
            self._names[key] = ".".join(loader_names(value)[0])
        return self._names[key]

    def add(self, call: Call) -> None:
        callee = call.callee
        if callee.__class__ is not Global:
            return  # an indirect call: AIR204, from the walker's events
        assert isinstance(callee, Global)
        if call.opcode != "BUILD":
            self.called.setdefault(id(callee), call.opcode)
        if not callee.resolved:
            return
        name = self.name(callee)
        helper = self.policy.helpers.get(name)
        if helper is None:
            return
        args = call.args
        if call.opcode == "NEWOBJ_EX" and isinstance(args, tuple) and len(args) == 2:
            args = args[0]
        values = args if isinstance(args, tuple) else ()
        positions = helper.state_calls if call.opcode == "BUILD" else helper.calls
        for position in positions:
            if position < len(values):
                self._call_argument(values[position], f"{name} (argument {position})")
        if call.opcode != "BUILD" and helper.check == "method-lookup":
            problem = self.method_lookup(helper, values)
            if problem is not None:
                self.broken.setdefault(id(callee), problem)
        elif helper.check == "constant-args":
            for position, value in enumerate(values):
                if position not in positions:
                    self._bound(value, name, 0)

    def _call_argument(self, value: object, how: str) -> None:
        # A value made at load time (a Result) is judged where it was made: by its own call's verdict.
        if value.__class__ is Global:
            self.called.setdefault(id(value), how)

    def _bound(self, value: object, name: str, depth: int) -> None:
        """Globals bound into a partial as further arguments must be safe: they are judged as called."""
        if depth > 4:
            return
        if value.__class__ is Global:
            self.called.setdefault(id(value), f"bound into {name}")
        elif isinstance(value, tuple):
            for item in value:
                self._bound(item, name, depth + 1)
        elif isinstance(value, (SymList, SymDict)):
            for item in value.items if isinstance(value, SymList) else value.items.values():
                self._bound(item, name, depth + 1)

    def method_lookup(self, helper: Helper, values: tuple[object, ...]) -> str | None:
        if len(values) != 2:
            return "getattr with a default or without a name: not a plain method lookup"
        target, attribute = values
        if target.__class__ is not Global:
            return f"getattr on {describe(target)}, not on a listed type"
        owner = self.name(target)  # type: ignore[arg-type]
        if owner not in helper.methods:
            return f"getattr on {owner}, which is not a type whose methods are listed"
        if not isinstance(attribute, str) or attribute not in helper.methods[owner]:
            return f"getattr({owner}, {describe(attribute)}): not a listed method of {owner}"
        return None


# --- the scanner ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Scope:
    """Where a pickle lies and how its loader treats it."""

    artifact: Artifact
    ctx: ScanContext
    where: str
    origin: int  # buffer offset of the leaf's first byte: locations count from there
    context: str | None  # "torchscript" inside TorchScript archives
    storages: str  # how persistent ids resolve: "zip" | "legacy" | "none"
    member: str
    siblings: frozenset[str]
    deadline: float
    depth: int

    def at(self, offset: int) -> str:
        return f"{self.where}@opcode:{offset - self.origin}"


class PickleOpcodes(ArtifactScanner):
    """Walks pickle opcodes without executing them and judges what they import and call.

    ## Why it matters
    Unpickling runs `GLOBAL`/`STACK_GLOBAL`/`INST` imports and calls them through `REDUCE`,
    `BUILD`, `NEWOBJ`, `NEWOBJ_EX`, `INST` and `OBJ`: a checkpoint can run any function the moment
    it is loaded, and keeps running it even if the file breaks right after.

    ## What it checks
    Every pickle in every protocol, found the way loaders find it: raw and joblib files (array
    bytes skipped by their size, object arrays walked), legacy PyTorch files (all five pickles),
    PyTorch and TorchScript zips (every `.pkl`, CRCs not trusted, the bytes before the archive
    too), NumPy object arrays, pickles inside byte strings, and all of it inside zip, tar, 7z and
    compressed containers. Module and name strings are followed through the stack and the memo.
    Dangerous globals (AIR201), globals off the safe list that are called (AIR213) or only
    imported (AIR202), judged by spelling and by what the name resolves to,
    computed imports (AIR203), calls of computed callables (AIR204), extension codes (AIR205),
    patched module objects and dunder state (AIR206), nested payloads and bytes handed to
    deserialisers (AIR207), persistent ids
    the loader cannot resolve (AIR208), pickles that break (AIR209), TorchScript archives
    (AIR210) and their non-PyTorch operators and classes (AIR212), bytes no loader reads (AIR211),
    and source code the loader compiles: a GraphModule's code (exec'd on load) and TorchScript
    `code/`, read by the Python code analyser (AIR214).

    ## Example
    `pytorch_model.bin:archive/data.pkl` imports `posix.system` and calls it: AIR201 (critical).

    ## References
    - AML.T0010.003, AML.T0011.000, CWE-502
    - https://github.com/mmaitre314/picklescan/security/advisories (the bypasses it withstands)
    """

    name = "pickle_opcodes"
    version = "7"
    # every file that is not text: loaders unpickle from byte 0 whatever the file is
    formats: ClassVar[frozenset[Format]] = UNPICKLABLE
    rules: ClassVar[frozenset[str]] = frozenset({f"AIR2{n:02d}" for n in range(1, 16)})

    def scan(self, artifact: Artifact, ctx: ScanContext) -> Iterator[Finding]:
        deadline = time.monotonic() + ctx.limits.seconds_per_artifact
        with mapped(artifact.location) as buf:
            yield from self._items(
                expand(buf, artifact.path, artifact.format, ctx.limits), artifact, ctx, deadline, 0
            )

    def _items(
        self, items: Iterable[Item], artifact: Artifact, ctx: ScanContext, deadline: float, depth: int
    ) -> Iterator[Finding]:
        for item in items:
            if isinstance(item, Opened) and item.fmt is Format.TORCHSCRIPT:
                yield ctx.finding(
                    "AIR210",
                    self.name,
                    artifact.path,
                    item.where,
                    "TorchScript archive: its code/ holds TorchScript that runs when the model is called",
                )
            elif isinstance(item, Leaf):
                yield from self._leaf(item, artifact, ctx, deadline, depth)

    def _leaf(
        self, leaf: Leaf, artifact: Artifact, ctx: ScanContext, deadline: float, depth: int
    ) -> Iterator[Finding]:
        skip = 0
        if leaf.role == "torchscript-code":
            yield from self._torchscript_code(leaf, artifact, ctx)
            return
        if leaf.role == "at-zero":
            yield from self._at_zero(leaf, artifact, ctx, deadline, depth)
            return
        if leaf.fmt is Format.NUMPY:
            try:
                header = parse_header(leaf.head, ctx.limits.max_npy_header)
            except ParseError:
                return  # numpy_arrays reports a header it cannot read
            if not header.has_object:
                return
            skip = header.data_offset
        elif leaf.fmt not in (Format.PICKLE, Format.JOBLIB, Format.PYTORCH_LEGACY):
            return
        try:
            buf, start, end = leaf.read()
        except LimitExceeded as exc:
            yield ctx.finding("AIR209", self.name, artifact.path, leaf.where, f"not analysed: {exc}")
            return
        in_torch_zip = leaf.container in TORCH_ZIPS and leaf.role == "member"
        tar_legacy = leaf.container is Format.TAR and leaf.member in TAR_LEGACY_MEMBERS
        scope = _Scope(
            artifact,
            ctx,
            leaf.where,
            start,
            "torchscript" if leaf.container is Format.TORCHSCRIPT else None,
            "zip"
            if in_torch_zip
            else "legacy"
            if leaf.fmt is Format.PYTORCH_LEGACY or leaf.role == "prefix"
            else "tar"
            if tar_legacy
            else "none",
            leaf.member,
            leaf.siblings,
            deadline,
            depth,
        )
        if tar_legacy and leaf.member != "pickle" and leaf.fmt is not Format.NUMPY:
            yield from self._tar_legacy(buf, start, end, scope)
            return
        if leaf.role == "prefix" or leaf.fmt is Format.PYTORCH_LEGACY:
            mode = "legacy"
        elif in_torch_zip or leaf.fmt is Format.NUMPY:
            mode = "single"
        else:
            mode = "sequence"
        yield from self._stream(buf, start + skip, end, scope, mode, leaf.role == "prefix")

    def _stream(
        self,
        buf: Buffer,
        start: int,
        end: int,
        scope: _Scope,
        mode: str,
        prefix: bool,
        results: list[WalkResult] | None = None,
    ) -> Iterator[Finding]:
        """The pickles from `start` on: one (`single`), the legacy five, or as many as follow each other.

        Bytes after the last pickle that some loader reads are reported (AIR211, high: where the model of
        where loaders stop could be wrong, the payload hides), except the storage records that follow
        the five pickles of a legacy `torch.save`, walked record by record the way `_legacy_load` reads them."""
        limit = LEGACY_PICKLES if mode == "legacy" else MAX_PICKLES_PER_STREAM
        results = [] if results is None else results
        pos = start
        for index in range(limit):
            try:
                result = walk(
                    buf,
                    pos,
                    end,
                    max_opcodes=scope.ctx.limits.max_steps,
                    deadline=scope.deadline,
                    watch=WATCHED,
                )
            except LimitExceeded as exc:
                yield self._finding(scope, "AIR209", scope.at(pos), f"parser limit exceeded: {exc.what}")
                return
            results.append(result)
            not_a_pickle = result.error is not None and result.error_offset == pos
            if not_a_pickle and (index > 0 or prefix):
                if mode != "legacy":
                    yield self._finding(
                        scope,
                        "AIR211",
                        f"{scope.where}@byte:{pos - scope.origin}",
                        f"{end - pos} bytes after the last pickle, which the loader never reads",
                        {"bytes": end - pos},
                    )
                return
            if index > 0 and mode == "single":
                yield self._finding(
                    scope,
                    "AIR211",
                    f"{scope.where}@byte:{pos - scope.origin}",
                    "a second pickle follows the one the loader reads",
                    {"bytes": end - pos},
                )
            yield from self._judge(result, scope, index)
            if result.error is not None:
                return
            pos = result.end
            if pos >= end:
                return
        if mode == "legacy":
            yield from self._legacy_storages(buf, pos, end, scope, results)
        else:
            yield self._finding(
                scope,
                "AIR209",
                f"{scope.where}@byte:{pos - scope.origin}",
                f"parser limit exceeded: more than {limit} pickles in one stream",
            )

    def _at_zero(
        self, leaf: Leaf, artifact: Artifact, ctx: ScanContext, deadline: float, depth: int
    ) -> Iterator[Finding]:
        """A file detected as something else, read from byte 0 the way `pickle.load`, `joblib.load` and
        `torch.load`'s legacy path read any file. Most binary formats read as a few constants and then
        an invalid opcode: that is no pickle. Opcodes that import, call or tamper before STOP or a break
        make the file a polyglot: judged like any pickle, and reported as such (AIR215)."""
        try:
            buf, start, end = leaf.read()
        except LimitExceeded:
            return
        scope = _Scope(
            artifact, ctx, leaf.where, start, None, "legacy", leaf.member, leaf.siblings, deadline, depth
        )
        results: list[WalkResult] = []
        found = list(self._stream(buf, start, end, scope, "legacy", True, results))
        if results and results[0].persistent:
            # none of the three gives the pickle at byte 0 a persistent_load (torch's legacy path reads
            # its magic number with a plain unpickler): each raises at the first persistent id, and
            # nothing after it runs; a header length whose low byte is "P" starts clean safetensors so
            stop = results[0].persistent[0].offset
            results = []
            found = list(self._stream(buf, start, stop, scope, "legacy", True, results))
        if not any(acts(result) for result in results):
            return
        other = artifact.format if leaf.where == artifact.path else _sniff(bytes(leaf.head))
        complete = results[0].error is None
        if other is Format.UNKNOWN:  # nothing else recognised these bytes: they are just a pickle
            yield from found
            return
        yield self._finding(
            scope,
            "AIR215",
            f"{leaf.where}@byte:0",
            f"a {other} whose bytes from 0 are also a pickle that pickle.load, joblib.load and torch.load run"
            + ("" if complete else " (up to where it breaks)"),
            {"format": str(other), "pickle_bytes": results[0].end - start, "complete": complete},
        )
        yield from found

    def _legacy_storages(
        self, buf: Buffer, pos: int, end: int, scope: _Scope, results: list[WalkResult]
    ) -> Iterator[Finding]:
        """After the five pickles of a legacy `torch.save`: one record per storage key of the fifth pickle
        (an int64 element count, then count * element size bytes, the element size from the storage class
        in the fourth pickle's persistent id). Bytes after the last record are read by no loader."""
        if len(results) < LEGACY_PICKLES or any(r.error is not None for r in results):
            return
        if results[0].value != TORCH_MAGIC or results[1].value != TORCH_LEGACY_PROTOCOL:
            return  # torch.load stops with "Invalid magic number" / "Invalid protocol version"
        sizes: dict[str, int] = {}
        for item in results[3].persistent:
            pid = item.pid
            if isinstance(pid, tuple) and len(pid) > 2 and pid[0] == "storage" and isinstance(pid[2], str):
                kind = pid[1]
                name = kind.name if isinstance(kind, Global) else ""
                if name in STORAGE_ELEMENT_SIZE:
                    sizes[pid[2]] = STORAGE_ELEMENT_SIZE[name]
        keys = results[4].value
        if isinstance(keys, SymList) and len(keys.items) < MAX_ITEMS:
            order = [k for k in keys.items if isinstance(k, str)]
            if len(order) != len(keys.items):
                return
        else:
            order = sorted(sizes)  # torch.save writes the keys sorted
        for key in order:
            if key not in sizes:
                return  # a storage airlock cannot size: where the loader stops is not known
            if pos + 8 > end:
                return
            count = int.from_bytes(buf[pos : pos + 8], "little", signed=True)
            if count < 0 or pos + 8 + count * sizes[key] > end:
                return  # the loader fails reading this record
            pos += 8 + count * sizes[key]
        if pos < end:
            yield self._finding(
                scope,
                "AIR211",
                f"{scope.where}@byte:{pos - scope.origin}",
                f"{end - pos} bytes after the last storage record, which torch.load never reads",
                {"bytes": end - pos},
            )

    def _tar_legacy(self, buf: Buffer, start: int, end: int, scope: _Scope) -> Iterator[Finding]:
        """The `storages` and `tensors` members of torch's oldest (tar) format, as `_legacy_load` reads them:
        a pickled count, then per item a pickled tuple and raw bytes (a storage record: int64 count and
        count * element size bytes; a tensor record: int32 ndim, 4 bytes, 2 * ndim int64, int64); then, for
        `storages`, one more pickle (the storage views)."""
        pos = start
        index = 0

        def one() -> Iterator[Finding]:
            nonlocal pos, index, last
            last = walk(buf, pos, end, max_opcodes=scope.ctx.limits.max_steps, deadline=scope.deadline)
            yield from self._judge(last, scope, index)
            index += 1
            pos = last.end

        last: WalkResult | None = None
        try:
            yield from one()
            assert last is not None
            count = last.value
            if last.error is not None or not isinstance(count, int) or isinstance(count, bool) or count < 0:
                return
            for _ in range(min(count, MAX_PICKLES_PER_STREAM * 1024)):
                yield from one()
                args = last.value
                if last.error is not None or not isinstance(args, tuple) or len(args) != 3:
                    return
                if scope.member == "storages":
                    kind = args[2]
                    size = STORAGE_ELEMENT_SIZE.get(kind.name) if isinstance(kind, Global) else None
                    if size is None or pos + 8 > end:
                        return
                    n = int.from_bytes(buf[pos : pos + 8], "little", signed=True)
                    pos += 8 + n * size
                else:
                    if pos + 8 > end:
                        return
                    ndim = int.from_bytes(buf[pos : pos + 4], "little", signed=True)
                    pos += 8 + 16 * ndim + 8
                if not start <= pos <= end:
                    return  # the loader fails reading this record
            if scope.member == "storages":
                yield from one()
                if last.error is not None:
                    return
        except LimitExceeded as exc:
            yield self._finding(scope, "AIR209", scope.at(pos), f"parser limit exceeded: {exc.what}")
            return
        if pos < end:
            yield self._finding(
                scope,
                "AIR211",
                f"{scope.where}@byte:{pos - scope.origin}",
                f"{end - pos} bytes after the last record of torch's legacy tar {scope.member!r}, "
                "which torch.load never reads",
                {"bytes": end - pos},
            )

    # --- judging one pickle ---

    def _judge(self, result: WalkResult, scope: _Scope, index: int) -> Iterator[Finding]:
        vetted: set[int] = set()  # offsets of nested loads whose bytes were walked and found clean
        nested = list(self._nested(result, scope, vetted))
        yield from self._globals(result, scope, vetted)
        indirect = 0
        for event in result.events:
            if event.kind == "indirect-call" and self._listed_method(event.callee):
                continue  # getattr(T, m)(...) with m a listed method of T: calling T.m, which is vetted
            if event.kind == "indirect-call":
                indirect += 1
                if indirect <= MAX_INDIRECT_FINDINGS:
                    yield self._finding(scope, "AIR204", scope.at(event.offset), event.detail)
            elif event.kind == "extension":
                yield self._finding(scope, "AIR205", scope.at(event.offset), event.detail)
            else:
                yield self._finding(scope, "AIR206", scope.at(event.offset), event.detail)
        yield from self._persistent(result.persistent, scope)
        yield from nested
        yield from self._carried(result.captured, scope)
        if result.error is not None:
            yield self._finding(
                scope,
                "AIR209",
                scope.at(result.error_offset or result.start),
                f"pickle {index} cannot be parsed to its end: {result.error}",
                {"opcodes_read": result.opcodes},
            )

    @staticmethod
    def _listed_method(callee: object) -> bool:
        """Whether `callee` is what `builtins.getattr(T, m)` returned, with `m` listed for `T` in its
        method-lookup constraint (a ZoneInfo pickles as getattr(ZoneInfo, "_unpickle")(key, 1))."""
        if not isinstance(callee, Result) or callee.callee.__class__ is not Global:
            return False
        policy = global_policy()
        uses = _Uses(policy)
        getter = callee.callee
        if not getter.resolved or uses.name(getter) != "builtins.getattr":  # type: ignore[arg-type]
            return False
        helper = policy.helpers.get("builtins.getattr")
        values = callee.args if isinstance(callee.args, tuple) else ()
        return helper is not None and uses.method_lookup(helper, values) is None

    def _globals(self, result: WalkResult, scope: _Scope, vetted: set[int]) -> Iterator[Finding]:
        policy = global_policy()
        uses = _Uses(policy)
        offsets: dict[int, list[int]] = {}
        first_calls: dict[int, Call] = {}  # id(Global) -> its first call (not BUILD), shown as evidence
        for call in result.calls:
            uses.add(call)
            if call.callee.__class__ is Global:
                offsets.setdefault(id(call.callee), []).append(call.offset)
                if call.opcode != "BUILD":
                    first_calls.setdefault(id(call.callee), call)
        clean_loads = {key for key, seen in offsets.items() if all(offset in vetted for offset in seen)}
        verdicts: dict[tuple[str, str, bool], tuple[tuple[str, str], Verdict]] = {}
        grouped: dict[tuple[str, str], list[object]] = {}
        for imported in result.globals:
            if not imported.resolved:
                if not imported.opcode.startswith("EXT"):  # extension codes are AIR205, from the events
                    key = ("AIR203", f"{imported.module}/{imported.name}")
                    grouped.setdefault(key, [imported, Verdict("dangerous"), 0])[2] += 1  # type: ignore[operator]
                continue
            memo_key = (imported.module, imported.name, imported.protocol < 3)
            if memo_key not in verdicts:
                verdicts[memo_key] = self._classify(imported, scope.context, policy)
            (module, name), verdict = verdicts[memo_key]
            broken = uses.broken.get(id(imported))
            if verdict.kind == "safe" and broken is not None:
                verdict = Verdict("dangerous", broken)
            if verdict.kind == "safe":
                continue
            if id(imported) in clean_loads and VETTED_LOAD in (f"{module}.{name}", verdict.canonical):
                continue  # every call hands it constant bytes that were walked as torch.load reads them: clean
            if verdict.kind == "dangerous":
                rule = "AIR201"
            else:
                rule = "AIR213" if id(imported) in uses.called else "AIR202"
            grouped.setdefault((rule, f"{module}.{name}"), [imported, verdict, 0])[2] += 1  # type: ignore[operator]
        for (rule, qualified), (imported, verdict, count) in grouped.items():
            assert isinstance(imported, Global) and isinstance(verdict, Verdict)
            how = uses.called.get(id(imported))
            evidence: dict[str, object] = {
                "global": qualified,
                "opcode": imported.opcode,
                "called_by": how,
                "occurrences": count,
            }
            if imported.via:
                evidence["via"] = imported.via
            first = first_calls.get(id(imported))
            if first is not None:
                evidence["call"] = _call_text(qualified, first)
            if rule == "AIR203":
                yield self._finding(
                    scope,
                    rule,
                    scope.at(imported.offset),
                    f"{imported.opcode} imports a name built at load time: module {imported.module}, name {imported.name}",
                    evidence,
                )
                continue
            evidence["reason"] = verdict.reason
            if qualified != imported.qualified:
                evidence["written_as"] = imported.qualified
            if verdict.canonical:
                evidence["resolves_to"] = verdict.canonical
                evidence["hops"] = list(verdict.hops)
            called_text = f", called by {how}" if how else ""
            if rule == "AIR201":
                message = f"imports {qualified}{called_text}: {verdict.reason}"
            elif rule == "AIR213":
                message = f"calls {qualified} (by {how}), which is not on the list of known-safe callables"
            else:
                message = f"imports {qualified} ({verdict.reason}; never called)"
            yield self._finding(scope, rule, scope.at(imported.offset), message, evidence)

    @staticmethod
    def _classify(
        imported: Global, context: str | None, policy: GlobalPolicy
    ) -> tuple[tuple[str, str], Verdict]:
        used, other = loader_names(imported)
        verdict = policy.judge(*used, context)
        if verdict.kind != "dangerous" and other != used:
            alternative = policy.judge(*other, context)
            if alternative.kind == "dangerous":
                return other, alternative
        return used, verdict

    def _persistent(self, items: list[Persistent], scope: _Scope) -> Iterator[Finding]:
        problems = [
            (item, problem) for item in items if (problem := self._persistent_problem(item.pid, scope))
        ]
        if problems:
            item, problem = problems[0]
            yield self._finding(
                scope, "AIR208", scope.at(item.offset), problem, {"occurrences": len(problems)}
            )

    @staticmethod
    def _persistent_problem(pid: object, scope: _Scope) -> str | None:
        if scope.storages == "none":
            return "a persistent id, which no standard loader of this kind of file resolves"
        kind = pid[0] if isinstance(pid, tuple) and pid and isinstance(pid[0], str) else None
        if scope.storages == "legacy":
            return (
                None
                if kind in ("storage", "module")
                else f"persistent id {kind or pid!r} is not a legacy storage"
            )
        if (
            scope.storages == "tar"
        ):  # the tar loader: ('module', ...) tuples, or the int key of a storage or tensor
            if (
                kind == "module"
                or (isinstance(pid, int) and not isinstance(pid, bool))
                or (isinstance(pid, str) and pid.isdigit())
            ):
                return None
            return f"persistent id {pid!r} is not one torch's legacy tar loader resolves"
        if kind != "storage" or len(pid) < 3 or not isinstance(pid[2], str):  # type: ignore[arg-type]
            return "a persistent id that is not ('storage', type, key, ...)"
        stem = scope.member.rsplit(".", 1)[0]
        top = scope.member.split("/", 1)[0]
        key = pid[2]  # type: ignore[index]
        if f"{stem}/{key}" in scope.siblings or f"{top}/.data/{key}" in scope.siblings:
            return None
        return f"persistent id points to storage {key!r}, which is not a record of this archive"

    def _nested(self, result: WalkResult, scope: _Scope, vetted: set[int]) -> Iterator[Finding]:
        """Byte strings that are payloads of their own: handed to a deserialiser (walked as what it
        reads), or just shaped like a pickle or archive (walked when they hold findings). The offsets
        of calls to `VETTED_LOAD` whose bytes hold nothing above low are added to `vetted`."""
        if scope.depth >= MAX_NESTING:
            return
        fed = _fed_to_deserialisers(result, global_policy())
        sniffed: list[tuple[tuple[str, int], int, bytes, str | None]] = []
        for nested in result.nested:
            key = ("buffer", nested.start) if nested.data is result.buffer else ("codecs", nested.offset)
            if key not in fed:
                sniffed.append((key, nested.offset, bytes(nested.data[nested.start : nested.end]), None))
        for key, (offset, data, reader) in fed.items():
            sniffed.append((key, offset, data, reader))
        for _key, offset, data, reader in sniffed:
            if reader is not None and _DESERIALISERS[reader] == "marshal":
                yield self._finding(
                    scope,
                    "AIR207",
                    scope.at(offset),
                    f"{len(data)} bytes handed to {reader}, which turns them into a code object",
                    {"deserialiser": reader, "bytes": len(data)},
                    Severity.CRITICAL,
                )
                continue
            fmt = _sniff(data)
            if fmt not in PICKLE_BASED and fmt not in CONTAINERS:
                if reader is None:
                    continue
                fmt = _READS[_DESERIALISERS[reader]]  # what the deserialiser will read them as
            where = f"{scope.at(offset)}:[bytes]"
            items = expand(data, where, fmt, scope.ctx.limits)
            inner = list(self._items(items, scope.artifact, scope.ctx, scope.deadline, scope.depth + 1))
            if reader == VETTED_LOAD and all(f.severity <= Severity.LOW for f in inner):
                vetted.add(offset)
            if not inner or (reader is None and all(f.rule in ("AIR209", "AIR211") for f in inner)):
                continue  # nothing to report, or bytes that only looked like a pickle
            critical = any(f.severity is Severity.CRITICAL for f in inner)
            handed = f" handed to {reader}" if reader else ""
            evidence: dict[str, object] = {"format": str(fmt), "bytes": len(data)}
            if reader:
                evidence["deserialiser"] = reader
            yield self._finding(
                scope,
                "AIR207",
                scope.at(offset),
                f"a byte string of {len(data)} bytes{handed} is a {fmt} holding {len(inner)} finding(s) of its own",
                evidence,
                Severity.CRITICAL if critical else None,
            )
            yield from inner

    def _torchscript_code(self, leaf: Leaf, artifact: Artifact, ctx: ScanContext) -> Iterator[Finding]:
        buf, start, end = leaf.read()
        data = bytes(buf[start:end])
        spaces = sorted({m.decode() for m in _TS_OPERATOR.findall(data)} - STANDARD_OP_NAMESPACES)
        if spaces:
            yield ctx.finding(
                "AIR212",
                self.name,
                artifact.path,
                leaf.where,
                f"TorchScript code calls operators from {', '.join(spaces)}",
                {"namespaces": spaces},
            )
        try:
            from airlock.analysis.carried_code import vet_torchscript  # the code analyser loads only for code

            issues = vet_torchscript(data.decode("utf-8"))
        except UnicodeDecodeError:
            issues = [
                _issue("syntax", 0, "not UTF-8", "TorchScript code that is not UTF-8 text", Severity.HIGH)
            ]
        for issue in issues[:MAX_CODE_FINDINGS]:
            native = issue.kind == "native-class"  # AIR212, at its severity, like a foreign operator
            yield ctx.finding(
                "AIR212" if native else "AIR214",
                self.name,
                artifact.path,
                f"{leaf.where}@line:{issue.line}",
                f"TorchScript code: {issue.what}: {issue.reason}",
                _code_evidence(issue),
                None if native else issue.severity,
            )

    # --- source code the pickle carries ---

    def _carried(self, captured: list[Captured], scope: _Scope) -> Iterator[Finding]:
        """GraphModule code (and the fx exec helpers' source arguments): exec'd as the pickle loads."""
        for call in captured:
            source = fx_source(call)
            callee = call.callee.qualified
            from airlock.analysis.carried_code import vet_fx

            issues = vet_fx(source) if isinstance(source, str) else [source]
            for issue in issues[:MAX_CODE_FINDINGS]:
                evidence = {"global": callee, "called_by": call.opcode, **_code_evidence(issue)}
                yield self._finding(
                    scope,
                    "AIR214",
                    scope.at(call.offset),
                    f"code {callee} runs on load, line {issue.line}: {issue.what}: {issue.reason}",
                    evidence,
                    issue.severity,
                )

    def _finding(
        self,
        scope: _Scope,
        rule: str,
        location: str,
        message: str,
        evidence: Mapping[str, object] | None = None,
        severity: Severity | None = None,
    ) -> Finding:
        return scope.ctx.finding(rule, self.name, scope.artifact.path, location, message, evidence, severity)


def fx_source(call: Captured) -> str | CodeIssue:
    """The source a watched fx call execs, or why it cannot be read (code no one can vet: high)."""
    how, index, prefix = FX_CODE_CALLS[call.callee.qualified]
    args = call.args
    if not isinstance(args, tuple) or len(args) <= max(index, prefix or 0):
        return _unreadable(f"its arguments are {describe(args)}, not the tuple the loader expects")
    if how == "text":
        code = args[index]
        return (
            code
            if isinstance(code, str)
            else _unreadable(f"the source argument is {describe(code)}, not a string constant")
        )
    body = args[index]
    if not isinstance(body, SymDict):
        return _unreadable(f"the module state is {describe(body)}, not a dict the walker could read")
    code = body.items.get("_code") or body.items.get(
        "code"
    )  # reduce_graph_module: body.get("_code") or body["code"]
    if not isinstance(code, str):
        return _unreadable(
            f"the `_code` entry is {describe(code)}, not a string constant (missing, computed or too long)"
        )
    block = args[prefix] if prefix is not None else ""
    if not isinstance(block, str):
        return _unreadable(f"the import block is {describe(block)}, not a string constant")
    return block + code


def _issue(kind: str, line: int, what: str, reason: str, severity: Severity) -> CodeIssue:
    from airlock.analysis.carried_code import CodeIssue

    return CodeIssue(kind, line, what, reason, severity)


def _unreadable(why: str) -> CodeIssue:
    return _issue("unreadable", 0, "code not read", why, Severity.HIGH)


def _call_text(qualified: str, call: Call) -> str:
    """The call as a person reads it: `posix.system('touch /tmp/x')`; arguments shortened by `describe`."""
    args = call.args
    if call.opcode == "NEWOBJ_EX" and isinstance(args, tuple) and len(args) == 2:
        args = args[0]
    shown = describe(args)
    return f"{qualified}{shown}" if isinstance(args, tuple) else f"{qualified}({shown})"


def _code_evidence(issue: CodeIssue) -> dict[str, object]:
    evidence: dict[str, object] = {"line": issue.line, "kind": issue.kind}
    if issue.category:
        evidence["category"] = issue.category
    return evidence


# Deserialisers, by spelling or by what the spelling resolves to, and what they read their bytes as.
# `pickle.dumps` of a tensor writes `torch.storage._load_from_bytes(<a torch.save zip>)`: a nested
# torch.load, accepted only when every call hands it constant bytes whose own walk is clean.
VETTED_LOAD = "torch.storage._load_from_bytes"
_DESERIALISERS: dict[str, str] = {
    "_pickle.loads": "pickle", "_pickle.load": "pickle", "pickle.loads": "pickle", "pickle.load": "pickle",
    "pickle._loads": "pickle", "pickle._load": "pickle", "dill.loads": "pickle", "dill.load": "pickle",
    "dill._dill.loads": "pickle", "dill._dill.load": "pickle", "cloudpickle.loads": "pickle",
    "cloudpickle.load": "pickle", "pandas.read_pickle": "pickle", "pandas.io.pickle.read_pickle": "pickle",
    "torch.load": "torch", "torch.serialization.load": "torch", "torch.storage._load_from_bytes": "torch",
    "joblib.load": "joblib", "joblib.numpy_pickle.load": "joblib",
    "numpy.load": "numpy", "numpy.lib.npyio.load": "numpy", "numpy.lib.format.read_array": "numpy",
    "numpy.lib._format_impl.read_array": "numpy", "marshal.loads": "marshal", "marshal.load": "marshal",
}  # fmt: skip
_READS = {"pickle": Format.PICKLE, "torch": Format.PICKLE, "joblib": Format.JOBLIB, "numpy": Format.NUMPY}
_BYTES_IO = frozenset({"io.BytesIO", "_io.BytesIO"})


def _fed_to_deserialisers(
    result: WalkResult, policy: GlobalPolicy
) -> dict[tuple[str, int], tuple[int, bytes, str]]:
    """(where the bytes are) -> (offset of the call, the bytes, the deserialiser) for every byte
    string a call hands to a deserialiser, directly or in an `io.BytesIO`."""
    fed: dict[tuple[str, int], tuple[int, bytes, str]] = {}
    for call in result.calls:
        callee = call.callee
        if callee.__class__ is not Global or call.opcode == "BUILD" or not callee.resolved:  # type: ignore[attr-defined]
            continue
        reader = _deserialiser(callee, policy)  # type: ignore[arg-type]
        if reader is None or not isinstance(call.args, tuple) or not call.args:
            continue
        found = _bytes_of(call.args[0], result)
        if found is not None:
            key, data = found
            fed.setdefault(key, (call.offset, data, reader))
    return fed


def _deserialiser(callee: Global, policy: GlobalPolicy) -> str | None:
    module, name = loader_names(callee)[0]
    spelled = f"{module}.{name}"
    if spelled in _DESERIALISERS:
        return spelled
    if spelled in policy.safe:
        return None  # plainly safe: no need to load the resolution data
    canonical = resolve(module, name).canonical
    return canonical if canonical in _DESERIALISERS else None


def _bytes_of(value: object, result: WalkResult, depth: int = 0) -> tuple[tuple[str, int], bytes] | None:
    """The bytes a symbolic argument stands for: a byte string, `_codecs.encode(text, 'latin1')`
    (how protocols 0-2 write bytes), or either wrapped in `io.BytesIO`."""
    if isinstance(value, Blob) and result.buffer is not None:
        return ("buffer", value.start), bytes(result.buffer[value.start : value.start + value.length])
    if not isinstance(value, Result) or value.callee.__class__ is not Global or depth > 2:
        return None
    called = value.callee.qualified  # type: ignore[attr-defined]
    args = value.args if isinstance(value.args, tuple) else ()
    if called == "_codecs.encode" and len(args) == 2 and isinstance(args[0], str):
        try:
            return ("codecs", value.offset), args[0].encode("latin-1")
        except UnicodeEncodeError:
            return None
    if called in _BYTES_IO and args:
        return _bytes_of(args[0], result, depth + 1)
    return None


def _sniff(data: bytes) -> Format:
    def read(offset: int, length: int) -> bytes:
        return data[offset : offset + length]

    return detect(data[:HEAD_BYTES], data[-TAIL_BYTES:], len(data), read) if data else Format.EMPTY
