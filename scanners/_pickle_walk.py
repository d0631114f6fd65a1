"""A pickle opcode walker that never executes: it tracks a symbolic stack and memo.

It resolves `GLOBAL`, `STACK_GLOBAL`, `INST` and `OBJ` (module and name strings pushed by any
string opcode or fetched from the memo), and records every callable that `REDUCE`, `BUILD`,
`NEWOBJ`, `NEWOBJ_EX`, `INST` or `OBJ` reaches. Parsing stops at STOP, at a malformed opcode, or at a
limit; imports seen before a break are still reported, because a loader has already run them.
"""

from __future__ import annotations

import io
import pickletools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO


@dataclass(frozen=True, slots=True)
class Import:
    module: str
    name: str
    offset: int  # opcode offset in the pickle stream
    resolved: bool = True  # False when module/name were not constant strings

    @property
    def qualified(self) -> str:
        module = "builtins" if self.module == "__builtin__" else self.module
        return f"{module}.{self.name}"


@dataclass(frozen=True, slots=True)
class Call:
    callee: Import
    opcode: str
    offset: int


@dataclass
class WalkResult:
    imports: list[Import] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    error: str | None = None  # why parsing stopped early
    error_offset: int | None = None
    end: int = 0  # offset just past STOP (or where parsing stopped)
    opcodes: int = 0
    protocol: int | None = None


class _Mark:
    __slots__ = ()


_MARK = _Mark()
_UNKNOWN = object()
_STRING_OPS = frozenset({
    "SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "STRING", "BINSTRING", "SHORT_BINSTRING",
})
_CALL_OPS = frozenset({"REDUCE", "NEWOBJ", "NEWOBJ_EX", "BUILD"})


class LimitExceeded(Exception):
    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


def walk(stream: IO[bytes], *, max_opcodes: int = 20_000_000, max_memo: int = 5_000_000) -> WalkResult:
    """Walk one pickle from the stream's current position to its STOP opcode."""
    result = WalkResult()
    stack: list[object] = []
    memo: dict[int, object] = {}
    start = stream.tell()
    ops = pickletools.genops(stream)
    pos = start
    try:
        for opcode, arg, pos in _guarded(ops):
            result.opcodes += 1
            if result.opcodes > max_opcodes:
                raise LimitExceeded(f"more than {max_opcodes} opcodes")
            name = opcode.name
            if name == "STOP":
                result.end = stream.tell()
                return result
            if name == "PROTO":
                result.protocol = arg
                continue
            if name in _STRING_OPS:
                stack.append(arg if isinstance(arg, str) else _decode(arg))
            elif name == "GLOBAL" or name == "INST":
                module, _, attr = str(arg).partition(" ")
                imp = Import(module, attr, pos)
                result.imports.append(imp)
                if name == "INST":
                    _pop_mark(stack)
                    result.calls.append(Call(imp, name, pos))
                    stack.append(_UNKNOWN)
                else:
                    stack.append(imp)
            elif name == "STACK_GLOBAL":
                attr = stack.pop() if stack else _UNKNOWN
                module = stack.pop() if stack else _UNKNOWN
                resolved = isinstance(module, str) and isinstance(attr, str)
                imp = Import(module if isinstance(module, str) else "?", attr if isinstance(attr, str) else "?", pos, resolved)
                result.imports.append(imp)
                stack.append(imp)
            elif name == "MARK":
                stack.append(_MARK)
            elif name == "MEMOIZE":
                if len(memo) >= max_memo:
                    raise LimitExceeded(f"more than {max_memo} memo entries")
                memo[len(memo)] = stack[-1] if stack else _UNKNOWN
            elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
                if len(memo) >= max_memo:
                    raise LimitExceeded(f"more than {max_memo} memo entries")
                memo[int(arg)] = stack[-1] if stack else _UNKNOWN
            elif name in ("GET", "BINGET", "LONG_BINGET"):
                stack.append(memo.get(int(arg), _UNKNOWN))
            elif name in _CALL_OPS:
                _call(name, stack, result, pos)
            elif name == "OBJ":
                items = _pop_mark(stack)
                if items and isinstance(items[0], Import):
                    result.calls.append(Call(items[0], name, pos))
                stack.append(_UNKNOWN)
            elif name in ("EXT1", "EXT2", "EXT4"):
                imp = Import("copyreg", f"extension[{arg}]", pos, resolved=False)
                result.imports.append(imp)
                stack.append(imp)
            else:
                _generic(opcode, stack)
    except LimitExceeded:
        raise
    except Exception as exc:  # pickletools raises ValueError and friends on malformed input
        result.error = f"{type(exc).__name__}: {exc}"
        result.error_offset = pos
        result.end = stream.tell()
        return result
    result.error = "truncated: no STOP opcode"
    result.error_offset = pos
    result.end = stream.tell()
    return result


def _guarded(ops: Iterator[tuple[pickletools.OpcodeInfo, object, int | None]]) -> Iterator[tuple[pickletools.OpcodeInfo, object, int]]:
    for opcode, arg, pos in ops:
        yield opcode, arg, pos or 0


def _call(name: str, stack: list[object], result: WalkResult, pos: int) -> None:
    pops = {"REDUCE": 2, "NEWOBJ": 2, "NEWOBJ_EX": 3, "BUILD": 2}[name]
    if len(stack) < pops:
        raise ValueError(f"{name} at {pos} with {len(stack)} item(s) on the stack")
    args = [stack.pop() for _ in range(pops)]
    callee = args[-1]
    if isinstance(callee, Import):
        result.calls.append(Call(callee, name, pos))
    # BUILD leaves the object; the others leave the call's result
    stack.append(callee if name == "BUILD" else _UNKNOWN)


def _pop_mark(stack: list[object]) -> list[object]:
    items: list[object] = []
    while stack:
        item = stack.pop()
        if item is _MARK:
            items.reverse()
            return items
        items.append(item)
    raise ValueError("MARK expected on the stack")


def _generic(opcode: pickletools.OpcodeInfo, stack: list[object]) -> None:
    before = opcode.stack_before
    if pickletools.markobject in before:
        _pop_mark(stack)
        extra = before.index(pickletools.markobject)
        for _ in range(extra):
            if not stack:
                raise ValueError(f"{opcode.name}: stack underflow")
            stack.pop()
    else:
        for _ in before:
            if not stack:
                raise ValueError(f"{opcode.name}: stack underflow")
            stack.pop()
    for _ in opcode.stack_after:
        stack.append(_UNKNOWN)


def _decode(value: object) -> object:
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return value.decode("latin-1")
    return value


def walk_bytes(data: bytes) -> WalkResult:
    return walk(io.BytesIO(data))
