"""Walks pickle opcodes without executing them and flags imports of dangerous callables.

## Why it matters
Unpickling runs `GLOBAL`/`STACK_GLOBAL` imports and calls them through `REDUCE`, `BUILD`, `NEWOBJ`,
`INST` and `OBJ`: a checkpoint can run any function the moment it is loaded.

## What it checks
Raw pickles of every protocol, legacy PyTorch files (the sequence of pickles), every `.pkl` member
of PyTorch zip and TorchScript archives (read like PyTorch reads them: any prefix, CRCs not
trusted). Globals are decided allowlist-first from `signatures/pickle-globals.toml`: dangerous
ones are AIR201 (critical), anything not known to be safe is AIR202, and a pickle that cannot be
parsed to its end is AIR209 (the loader already ran what came before the break).

## Example
`archive/data.pkl` imports `posix.system` and calls it: AIR201 (critical).

## References
- AML.T0010.003, AML.T0011.000, CWE-502
"""

from __future__ import annotations

import functools
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from airlock.artifacts import Artifact
from airlock.findings import Finding, Severity
from airlock.formats import Format
from airlock.rules import read_signature_toml
from airlock.scanning import ArtifactScanner, ScanContext

from ._pickle_walk import Import, LimitExceeded, WalkResult, walk
from ._zip_members import ZipReadError, members, read_member

MAX_PICKLES_PER_FILE = 16
MAX_MEMBER_BYTES = 1 << 30
LEGACY_PICKLES = 4  # magic number, protocol version, sys info, the object; storages follow as raw bytes


@dataclass(frozen=True)
class GlobalPolicy:
    safe: frozenset[str]
    notable: tuple[tuple[str, Severity], ...]
    dangerous_exact: dict[str, str]
    dangerous_modules: tuple[tuple[str, str], ...]

    def classify(self, qualified: str) -> tuple[str, str, Severity | None]:
        """("dangerous"|"safe"|"notable"|"unknown", reason, severity override)."""
        if qualified in self.dangerous_exact:
            return "dangerous", self.dangerous_exact[qualified], None
        module = qualified.rsplit(".", 1)[0]
        for prefix, reason in self.dangerous_modules:
            if qualified.startswith(prefix + ".") or module == prefix:
                return "dangerous", reason, None
        if qualified in self.safe:
            return "safe", "", None
        for prefix, severity in self.notable:
            if qualified.startswith(prefix + "."):
                return "notable", f"{prefix} content", severity
        return "unknown", "not on the list of known-safe globals", None


@functools.cache
def global_policy() -> GlobalPolicy:
    raw = read_signature_toml("pickle-globals.toml")
    exact: dict[str, str] = {}
    modules: list[tuple[str, str]] = []
    for entry in raw["dangerous"]:
        match, reason = entry["match"], entry["reason"]
        if match.endswith(".*"):
            modules.append((match[:-2], reason))
        else:
            exact[match] = reason
    notable = tuple(
        (prefix[:-2] if prefix.endswith(".*") else prefix, Severity.parse(sev))
        for prefix, sev in sorted(raw["notable"].items(), key=lambda kv: -len(kv[0]))
    )
    return GlobalPolicy(frozenset(raw["safe"]["globals"]), notable, exact, tuple(modules))


class PickleOpcodes(ArtifactScanner):
    name = "pickle_opcodes"
    version = "1"
    formats: ClassVar[frozenset[Format]] = frozenset(
        {Format.PICKLE, Format.JOBLIB, Format.PYTORCH_LEGACY, Format.PYTORCH_ZIP, Format.TORCHSCRIPT}
    )
    rules: ClassVar[frozenset[str]] = frozenset({"AIR201", "AIR202", "AIR209"})

    def scan(self, artifact: Artifact, ctx: ScanContext) -> Iterator[Finding]:
        if artifact.format in (Format.PYTORCH_ZIP, Format.TORCHSCRIPT):
            yield from self._scan_zip(artifact, ctx)
            return
        limit = LEGACY_PICKLES if artifact.format is Format.PYTORCH_LEGACY else MAX_PICKLES_PER_FILE
        with open(artifact.location, "rb") as fh:
            yield from self._scan_stream(fh, artifact, ctx, artifact.path, limit, artifact.size)

    def _scan_zip(self, artifact: Artifact, ctx: ScanContext) -> Iterator[Finding]:
        try:
            entries, _ = members(artifact.location)
        except (ZipReadError, OSError) as exc:
            yield ctx.finding("AIR209", self.name, artifact.path, artifact.path, f"zip directory unreadable: {exc}")
            return
        pickles = [m for m in entries if m.name.endswith(".pkl")]
        for member in pickles:
            where = f"{artifact.path}:{member.name}"
            try:
                data, anomalies = read_member(artifact.location, member, max_bytes=MAX_MEMBER_BYTES)
            except (ZipReadError, OSError) as exc:
                yield ctx.finding("AIR209", self.name, artifact.path, where, f"{member.name} unreadable: {exc}")
                continue
            del anomalies  # reported by the archive scanner (issue: containers); the bytes are analysed regardless
            yield from self._scan_stream(io.BytesIO(data), artifact, ctx, where, 1, len(data))

    def _scan_stream(
        self, stream: io.BufferedIOBase | io.BytesIO, artifact: Artifact, ctx: ScanContext,
        where: str, max_pickles: int, size: int,
    ) -> Iterator[Finding]:
        for index in range(max_pickles):
            start = stream.tell()
            try:
                result = walk(stream, max_opcodes=ctx.limits.max_entries * 20)
            except LimitExceeded as exc:
                yield ctx.finding("AIR209", self.name, artifact.path, f"{where}@byte:{start}", f"parser limit exceeded: {exc.what}")
                return
            yield from self._judge(result, artifact, ctx, where)
            if result.error is not None:
                yield ctx.finding(
                    "AIR209", self.name, artifact.path, f"{where}@opcode:{result.error_offset}",
                    f"pickle {index} cannot be parsed to its end: {result.error}",
                    {"opcodes_read": result.opcodes},
                )
                return
            stream.seek(result.end)
            nxt = stream.read(1)
            if not nxt or (nxt != b"\x80" and max_pickles != LEGACY_PICKLES):
                return
            stream.seek(result.end)

    def _judge(self, result: WalkResult, artifact: Artifact, ctx: ScanContext, where: str) -> Iterator[Finding]:
        policy = global_policy()
        called = {id(c.callee): c for c in result.calls}
        seen: set[str] = set()
        for imp in result.imports:
            verdict, reason, severity = ("dangerous", "import target is not a constant string (dynamic import)", None) if not imp.resolved else policy.classify(imp.qualified)
            if verdict == "safe":
                continue
            key = f"{imp.qualified}@{imp.offset}"
            if key in seen:
                continue
            seen.add(key)
            call = called.get(id(imp))
            evidence = {"global": imp.qualified, "opcode_offset": imp.offset, "reason": reason,
                        "called_by": call.opcode if call else None}
            how = f", called by {call.opcode}" if call else ""
            if verdict == "dangerous":
                yield ctx.finding("AIR201", self.name, artifact.path, f"{where}@opcode:{imp.offset}",
                                  f"imports {_describe(imp)}{how}: {reason}", evidence)
            else:
                yield ctx.finding("AIR202", self.name, artifact.path, f"{where}@opcode:{imp.offset}",
                                  f"imports {_describe(imp)}{how} ({reason})", evidence, severity=severity)


def _describe(imp: Import) -> str:
    return imp.qualified if imp.resolved else f"an unresolved global ({imp.module}.{imp.name})"
