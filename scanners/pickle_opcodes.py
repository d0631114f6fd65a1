"""pickle_opcodes: judges every pickle an artifact holds, from the facts `airlock.parsers.pickle_walk` gathers.

Pickles are found the way loaders find them (`airlock.parsers.containers`), whatever the files are called: raw
and joblib pickles, the five pickles of a legacy PyTorch file, every pickle member of PyTorch and
TorchScript zips (and the bytes before a zip, which `torch.load` unpickles), the pickle of a NumPy
object array, byte strings inside pickles that are pickles again, and all of these inside zip,
tar, 7z and compressed containers. Globals are decided by `signatures/pickle-globals.toml`.
"""

from __future__ import annotations

import _compat_pickle
import functools
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import ClassVar

from airlock.artifacts import Artifact
from airlock.findings import Finding, Severity
from airlock.formats import HEAD_BYTES, PICKLE_BASED, TAIL_BYTES, UNPICKLABLE, Format, detect
from airlock.parsers.buffers import Buffer, mapped
from airlock.parsers.containers import CONTAINERS, TORCH_ZIPS, Item, Leaf, Opened, expand
from airlock.parsers.errors import LimitExceeded, ParseError
from airlock.parsers.npy import parse_header
from airlock.parsers.pickle_walk import MAX_ITEMS, Global, Persistent, SymList, WalkResult, acts, walk
from airlock.rules import read_signature_toml
from airlock.scanning import ArtifactScanner, ScanContext

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


# --- the global policy ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Verdict:
    kind: str  # "dangerous" | "safe" | "notable" | "unknown"
    reason: str = ""
    severity: Severity | None = None  # for notable globals: the severity to report them at


@dataclass(frozen=True)
class GlobalPolicy:
    """`signatures/pickle-globals.toml`, in the order its header describes."""

    safe: frozenset[str]
    safe_prefixes: tuple[str, ...]
    contexts: Mapping[str, tuple[str, ...]]
    notable: tuple[tuple[str, Severity], ...]  # longest prefix first
    dangerous_exact: Mapping[str, str]
    dangerous_modules: tuple[tuple[str, str], ...]  # longest prefix first
    dangerous_attributes: Mapping[str, str]

    def classify(self, module: str, name: str, context: str | None = None) -> Verdict:
        qualified = f"{module}.{name}"
        if qualified in self.dangerous_exact:
            return Verdict("dangerous", self.dangerous_exact[qualified])
        if qualified in self.safe:
            return Verdict("safe")
        parts = name.split(".")
        for part in parts:
            if _DUNDER.match(part):
                return Verdict("dangerous", f"reaches {part}: interpreter internals through a dunder attribute")
            if part in self.dangerous_attributes:
                return Verdict("dangerous", self.dangerous_attributes[part])
        for i in range(len(parts) if len(parts) > 1 else 0):  # a dotted name is a path: check where it leads
            inner = ".".join(parts[i:])
            reason = self._dangerous(inner)
            if reason is not None:
                return Verdict("dangerous", f"the attribute path reaches {inner}: {reason}")
        if context is not None and _under(qualified, self.contexts.get(context, ())):
            return Verdict("safe")
        reason = self._dangerous(qualified)
        if reason is not None:
            return Verdict("dangerous", reason)
        if _under(qualified, self.safe_prefixes):
            return Verdict("safe")
        for prefix, severity in self.notable:
            if _under(qualified, (prefix,)):
                return Verdict("notable", f"{prefix} content: legitimate, but unusual in a checkpoint", severity)
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
    notable = [(_strip(prefix), Severity.parse(sev)) for prefix, sev in raw["notable"].items()]
    return GlobalPolicy(
        safe=frozenset(raw["safe"]["globals"]),
        safe_prefixes=tuple(_strip(p) for p in raw["safe"].get("prefixes", ())),
        contexts={name: tuple(_strip(p) for p in body["prefixes"]) for name, body in raw.get("context", {}).items()},
        notable=tuple(sorted(notable, key=lambda item: -len(item[0]))),
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
    Dangerous globals (AIR201), unknown ones (AIR202, low for unusual but legitimate content),
    computed imports (AIR203), calls of computed callables (AIR204), extension codes (AIR205),
    patched module objects and dunder state (AIR206), nested payloads (AIR207), persistent ids
    the loader cannot resolve (AIR208), pickles that break (AIR209), TorchScript archives
    (AIR210) and their non-PyTorch operators (AIR212), and bytes no loader reads (AIR211).

    ## Example
    `pytorch_model.bin:archive/data.pkl` imports `posix.system` and calls it: AIR201 (critical).

    ## References
    - AML.T0010.003, AML.T0011.000, CWE-502
    - https://github.com/mmaitre314/picklescan/security/advisories (the bypasses it withstands)
    """

    name = "pickle_opcodes"
    version = "3"
    # every file that is not text: loaders unpickle from byte 0 whatever the file is
    formats: ClassVar[frozenset[Format]] = UNPICKLABLE
    rules: ClassVar[frozenset[str]] = frozenset({f"AIR2{n:02d}" for n in range(1, 14)})

    def scan(self, artifact: Artifact, ctx: ScanContext) -> Iterator[Finding]:
        deadline = time.monotonic() + ctx.limits.seconds_per_artifact
        with mapped(artifact.location) as buf:
            yield from self._items(expand(buf, artifact.path, artifact.format, ctx.limits), artifact, ctx, deadline, 0)

    def _items(
        self, items: Iterable[Item], artifact: Artifact, ctx: ScanContext, deadline: float, depth: int
    ) -> Iterator[Finding]:
        for item in items:
            if isinstance(item, Opened) and item.fmt is Format.TORCHSCRIPT:
                yield ctx.finding("AIR210", self.name, artifact.path, item.where,
                                  "TorchScript archive: its code/ holds TorchScript that runs when the model is called")
            elif isinstance(item, Leaf):
                yield from self._leaf(item, artifact, ctx, deadline, depth)

    def _leaf(self, leaf: Leaf, artifact: Artifact, ctx: ScanContext, deadline: float, depth: int) -> Iterator[Finding]:
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
            artifact, ctx, leaf.where, start,
            "torchscript" if leaf.container is Format.TORCHSCRIPT else None,
            "zip" if in_torch_zip else "legacy" if leaf.fmt is Format.PYTORCH_LEGACY or leaf.role == "prefix"
            else "tar" if tar_legacy else "none",
            leaf.member, leaf.siblings, deadline, depth,
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
        self, buf: Buffer, start: int, end: int, scope: _Scope, mode: str, prefix: bool,
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
                result = walk(buf, pos, end, max_opcodes=scope.ctx.limits.max_steps, deadline=scope.deadline)
            except LimitExceeded as exc:
                yield self._finding(scope, "AIR209", scope.at(pos), f"parser limit exceeded: {exc.what}")
                return
            results.append(result)
            not_a_pickle = result.error is not None and result.error_offset == pos
            if not_a_pickle and (index > 0 or prefix):
                if mode != "legacy":
                    yield self._finding(scope, "AIR211", f"{scope.where}@byte:{pos - scope.origin}",
                                        f"{end - pos} bytes after the last pickle, which the loader never reads",
                                        {"bytes": end - pos})
                return
            if index > 0 and mode == "single":
                yield self._finding(scope, "AIR211", f"{scope.where}@byte:{pos - scope.origin}",
                                    "a second pickle follows the one the loader reads", {"bytes": end - pos})
            yield from self._judge(result, scope, index)
            if result.error is not None:
                return
            pos = result.end
            if pos >= end:
                return
        if mode == "legacy":
            yield from self._legacy_storages(buf, pos, end, scope, results)
        else:
            yield self._finding(scope, "AIR209", f"{scope.where}@byte:{pos - scope.origin}",
                                f"parser limit exceeded: more than {limit} pickles in one stream")

    def _at_zero(self, leaf: Leaf, artifact: Artifact, ctx: ScanContext, deadline: float, depth: int) -> Iterator[Finding]:
        """A file detected as something else, read from byte 0 the way `pickle.load`, `joblib.load` and
        `torch.load`'s legacy path read any file. Most binary formats read as a few constants and then
        an invalid opcode: that is no pickle. Opcodes that import, call or tamper before STOP or a break
        make the file a polyglot: judged like any pickle, and reported as such (AIR213)."""
        try:
            buf, start, end = leaf.read()
        except LimitExceeded:
            return
        scope = _Scope(artifact, ctx, leaf.where, start, None, "legacy", leaf.member, leaf.siblings, deadline, depth)
        results: list[WalkResult] = []
        found = list(self._stream(buf, start, end, scope, "legacy", True, results))
        if not any(acts(result) for result in results):
            return
        other = artifact.format if leaf.where == artifact.path else _sniff(bytes(leaf.head))
        complete = results[0].error is None
        if other is Format.UNKNOWN:  # nothing else recognised these bytes: they are just a pickle
            yield from found
            return
        yield self._finding(
            scope, "AIR213", f"{leaf.where}@byte:0",
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
            yield self._finding(scope, "AIR211", f"{scope.where}@byte:{pos - scope.origin}",
                                f"{end - pos} bytes after the last storage record, which torch.load never reads",
                                {"bytes": end - pos})

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
            yield self._finding(scope, "AIR211", f"{scope.where}@byte:{pos - scope.origin}",
                                f"{end - pos} bytes after the last record of torch's legacy tar {scope.member!r}, "
                                "which torch.load never reads", {"bytes": end - pos})

    # --- judging one pickle ---

    def _judge(self, result: WalkResult, scope: _Scope, index: int) -> Iterator[Finding]:
        yield from self._globals(result, scope)
        indirect = 0
        for event in result.events:
            if event.kind == "indirect-call":
                indirect += 1
                if indirect <= MAX_INDIRECT_FINDINGS:
                    yield self._finding(scope, "AIR204", scope.at(event.offset), event.detail)
            elif event.kind == "extension":
                yield self._finding(scope, "AIR205", scope.at(event.offset), event.detail)
            else:
                yield self._finding(scope, "AIR206", scope.at(event.offset), event.detail)
        yield from self._persistent(result.persistent, scope)
        yield from self._nested(result, scope)
        if result.error is not None:
            yield self._finding(
                scope, "AIR209", scope.at(result.error_offset or result.start),
                f"pickle {index} cannot be parsed to its end: {result.error}",
                {"opcodes_read": result.opcodes},
            )

    def _globals(self, result: WalkResult, scope: _Scope) -> Iterator[Finding]:
        policy = global_policy()
        called: dict[int, str] = {}
        for call in result.calls:
            if call.callee.__class__ is Global:
                called.setdefault(id(call.callee), call.opcode)
        grouped: dict[tuple[str, str], list[object]] = {}
        for imported in result.globals:
            if not imported.resolved:
                if not imported.opcode.startswith("EXT"):  # extension codes are AIR205, from the events
                    key = ("AIR203", f"{imported.module}/{imported.name}")
                    grouped.setdefault(key, [imported, Verdict("dangerous"), 0])[2] += 1  # type: ignore[operator]
                continue
            (module, name), verdict = self._classify(imported, scope.context, policy)
            if verdict.kind == "safe":
                continue
            rule = "AIR201" if verdict.kind == "dangerous" else "AIR202"
            grouped.setdefault((rule, f"{module}.{name}"), [imported, verdict, 0])[2] += 1  # type: ignore[operator]
        for (rule, qualified), (imported, verdict, count) in grouped.items():
            assert isinstance(imported, Global) and isinstance(verdict, Verdict)
            how = called.get(id(imported))
            evidence: dict[str, object] = {"global": qualified, "opcode": imported.opcode, "called_by": how,
                                           "occurrences": count}
            if imported.via:
                evidence["via"] = imported.via
            if rule == "AIR203":
                yield self._finding(
                    scope, rule, scope.at(imported.offset),
                    f"{imported.opcode} imports a name built at load time: module {imported.module}, name {imported.name}",
                    evidence,
                )
                continue
            evidence["reason"] = verdict.reason
            if qualified != imported.qualified:
                evidence["written_as"] = imported.qualified
            called_text = f", called by {how}" if how else ""
            if rule == "AIR201":
                message = f"imports {qualified}{called_text}: {verdict.reason}"
            else:
                message = f"imports {qualified}{called_text} ({verdict.reason})"
            yield self._finding(scope, rule, scope.at(imported.offset), message, evidence, verdict.severity)

    @staticmethod
    def _classify(imported: Global, context: str | None, policy: GlobalPolicy) -> tuple[tuple[str, str], Verdict]:
        used, other = loader_names(imported)
        verdict = policy.classify(*used, context)
        if verdict.kind != "dangerous" and other != used:
            alternative = policy.classify(*other, context)
            if alternative.kind == "dangerous":
                return other, alternative
        return used, verdict

    def _persistent(self, items: list[Persistent], scope: _Scope) -> Iterator[Finding]:
        problems = [(item, problem) for item in items if (problem := self._persistent_problem(item.pid, scope))]
        if problems:
            item, problem = problems[0]
            yield self._finding(scope, "AIR208", scope.at(item.offset), problem, {"occurrences": len(problems)})

    @staticmethod
    def _persistent_problem(pid: object, scope: _Scope) -> str | None:
        if scope.storages == "none":
            return "a persistent id, which no standard loader of this kind of file resolves"
        kind = pid[0] if isinstance(pid, tuple) and pid and isinstance(pid[0], str) else None
        if scope.storages == "legacy":
            return None if kind in ("storage", "module") else f"persistent id {kind or pid!r} is not a legacy storage"
        if scope.storages == "tar":  # the tar loader: ('module', ...) tuples, or the int key of a storage or tensor
            if kind == "module" or (isinstance(pid, int) and not isinstance(pid, bool)) or (isinstance(pid, str) and pid.isdigit()):
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

    def _nested(self, result: WalkResult, scope: _Scope) -> Iterator[Finding]:
        if scope.depth >= MAX_NESTING:
            return
        for nested in result.nested:
            data = bytes(nested.data[nested.start : nested.end])
            fmt = _sniff(data)
            if fmt not in PICKLE_BASED and fmt not in CONTAINERS:
                continue
            where = f"{scope.at(nested.offset)}:[bytes]"
            items = expand(data, where, fmt, scope.ctx.limits)
            inner = list(self._items(items, scope.artifact, scope.ctx, scope.deadline, scope.depth + 1))
            if all(f.rule in ("AIR209", "AIR211") for f in inner):
                continue  # bytes that only looked like a pickle
            critical = any(f.severity is Severity.CRITICAL for f in inner)
            yield self._finding(
                scope, "AIR207", scope.at(nested.offset),
                f"a byte string of {len(data)} bytes is a {fmt} holding {len(inner)} finding(s) of its own",
                {"format": str(fmt), "bytes": len(data)}, Severity.CRITICAL if critical else None,
            )
            yield from inner

    def _torchscript_code(self, leaf: Leaf, artifact: Artifact, ctx: ScanContext) -> Iterator[Finding]:
        buf, start, end = leaf.read()
        spaces = sorted({m.decode() for m in _TS_OPERATOR.findall(bytes(buf[start:end]))} - STANDARD_OP_NAMESPACES)
        if spaces:
            yield ctx.finding("AIR212", self.name, artifact.path, leaf.where,
                              f"TorchScript code calls operators from {', '.join(spaces)}", {"namespaces": spaces})

    def _finding(
        self, scope: _Scope, rule: str, location: str, message: str,
        evidence: Mapping[str, object] | None = None, severity: Severity | None = None,
    ) -> Finding:
        return scope.ctx.finding(rule, self.name, scope.artifact.path, location, message, evidence, severity)


def _sniff(data: bytes) -> Format:
    def read(offset: int, length: int) -> bytes:
        return data[offset : offset + length]

    return detect(data[:HEAD_BYTES], data[-TAIL_BYTES:], len(data), read) if data else Format.EMPTY
