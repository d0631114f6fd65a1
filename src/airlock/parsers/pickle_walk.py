"""A pickle opcode walker that never executes: a symbolic stack machine over the bytes.

`decode` reads one opcode and its argument exactly as CPython's unpickler consumes them (so the
walker never drifts out of step with a loader); `walk` runs a symbolic stack and memo over one
pickle and records facts for the judge in `pickle_opcodes`: every global and how its module and
name were obtained (constants, the memo, or a computation), every call (`REDUCE`, `NEWOBJ`,
`NEWOBJ_EX`, `INST`, `OBJ`, `BUILD`) and what it calls, persistent ids, extension codes, state
changes on module-level objects, and byte strings that are themselves pickles. Calls to the
globals a caller asks to `watch` keep a copy of their arguments as they were at the call (the
source code a torch.fx GraphModule carries is such an argument).

joblib files are walked the way `joblib.load` reads them: after the `BUILD` of a
`NumpyArrayWrapper` the array's bytes follow inline; they are skipped by the size the wrapper's
shape and dtype give (an object array is a nested pickle and is walked), and the same bytes are
also read as opcodes, which is what a plain `pickle.load` of that file would do.

Walking stops at STOP, at a malformed opcode, or at a limit; facts gathered before a break are
kept, because a loader has already acted on them. Nothing here imports what a pickle names.
"""

from __future__ import annotations

import codecs
import math
import re
import struct
import time
from dataclasses import dataclass, field

from .buffers import Buffer
from .errors import LimitExceeded, ParseError

MAX_LINE = 1 << 20  # a text argument longer than this is not a name anyone imports
MAX_TEXT = 1 << 20  # longer string constants are kept as "some string" rather than decoded
MAX_ITEMS = 256  # entries remembered per symbolic list/dict (the rest are counted, not kept)
MAX_STACK = 10_000_000  # stack + memo entries (a pickled vocabulary memoizes every word), checked every CHECK_EVERY opcodes
MAX_PROBE_OPCODES = 100_000  # how far raw joblib array bytes are read as opcodes
MAX_NESTED_CANDIDATES = 64
MAX_CAPTURED = 64  # watched calls whose arguments are kept, per pickle
MAX_CAPTURE_DEPTH = 4  # how deep those arguments are copied (a tuple holding a dict holding a string is 3)
CHECK_EVERY = 4096
_RECONSTRUCTORS = frozenset({"copyreg._reconstructor", "copy_reg._reconstructor"})
JOBLIB_WRAPPERS = frozenset(
    {"joblib.numpy_pickle.NumpyArrayWrapper", "sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper"}
)

_I4 = struct.Struct("<i")
_U2 = struct.Struct("<H")
_U4 = struct.Struct("<I")
_U8 = struct.Struct("<Q")
_F8 = struct.Struct(">d")

# Argument layouts.
_NONE, _U1, _U2L, _I4L, _U4L, _U8L, _F8L, _LINE, _LINE2, _LEN1, _LEN4, _LEN4S, _LEN8, _LONG1, _LONG4 = range(
    15
)
_LAYOUT: dict[int, int] = {}
for _codes, _layout in (
    (b"(.012NQRabd}el]ost)u\x81\x85\x86\x87\x88\x89\x8f\x90\x91\x92\x93\x94\x97\x98", _NONE),
    (b"Khq\x80\x82", _U1),
    (b"M\x83", _U2L),
    (b"J\x84", _I4L),
    (b"jr", _U4L),
    (b"\x95", _U8L),
    (b"G", _F8L),
    (b"FILPSVgp", _LINE),
    (b"ci", _LINE2),
    (b"UC\x8c", _LEN1),
    (b"BX", _LEN4),
    (b"T", _LEN4S),
    (b"\x8d\x8e\x96", _LEN8),
    (b"\x8a", _LONG1),
    (b"\x8b", _LONG4),
):
    for _code in _codes:
        _LAYOUT[_code] = _layout
NAMES: dict[int, str] = {
    0x28: "MARK", 0x2E: "STOP", 0x30: "POP", 0x31: "POP_MARK", 0x32: "DUP", 0x46: "FLOAT", 0x49: "INT",
    0x4A: "BININT", 0x4B: "BININT1", 0x4C: "LONG", 0x4D: "BININT2", 0x4E: "NONE", 0x50: "PERSID",
    0x51: "BINPERSID", 0x52: "REDUCE", 0x53: "STRING", 0x54: "BINSTRING", 0x55: "SHORT_BINSTRING",
    0x56: "UNICODE", 0x58: "BINUNICODE", 0x61: "APPEND", 0x62: "BUILD", 0x63: "GLOBAL", 0x64: "DICT",
    0x7D: "EMPTY_DICT", 0x65: "APPENDS", 0x67: "GET", 0x68: "BINGET", 0x69: "INST", 0x6A: "LONG_BINGET",
    0x6C: "LIST", 0x5D: "EMPTY_LIST", 0x6F: "OBJ", 0x70: "PUT", 0x71: "BINPUT", 0x72: "LONG_BINPUT",
    0x73: "SETITEM", 0x74: "TUPLE", 0x29: "EMPTY_TUPLE", 0x75: "SETITEMS", 0x47: "BINFLOAT",
    0x80: "PROTO", 0x81: "NEWOBJ", 0x82: "EXT1", 0x83: "EXT2", 0x84: "EXT4", 0x85: "TUPLE1", 0x86: "TUPLE2",
    0x87: "TUPLE3", 0x88: "NEWTRUE", 0x89: "NEWFALSE", 0x8A: "LONG1", 0x8B: "LONG4", 0x42: "BINBYTES",
    0x43: "SHORT_BINBYTES", 0x8C: "SHORT_BINUNICODE", 0x8D: "BINUNICODE8", 0x8E: "BINBYTES8",
    0x8F: "EMPTY_SET", 0x90: "ADDITEMS", 0x91: "FROZENSET", 0x92: "NEWOBJ_EX", 0x93: "STACK_GLOBAL",
    0x94: "MEMOIZE", 0x95: "FRAME", 0x96: "BYTEARRAY8", 0x97: "NEXT_BUFFER", 0x98: "READONLY_BUFFER",
}  # fmt: skip
assert set(NAMES) == set(_LAYOUT)
OPCODES = frozenset(_LAYOUT)  # every byte a pickle may start with, as far as decoding goes


# --- symbolic values --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class Global:
    """A global the loader imports. `resolved` is False when module or name are not constants."""

    module: str
    name: str
    offset: int
    opcode: str
    protocol: int  # the PROTO in effect: below 3 the loader maps Python 2 names, from 4 it follows dots
    resolved: bool = True
    via: str = ""  # how the walker reached it, when not by the ordinary opcode stream

    @property
    def qualified(self) -> str:
        return f"{self.module}.{self.name}"


@dataclass(slots=True, eq=False)
class Result:
    """An object a call produced; `state` is what BUILD later gave it."""

    callee: object
    opcode: str
    offset: int
    args: object
    state: object = None


@dataclass(frozen=True, slots=True, eq=False)
class Blob:
    """A byte string constant, left where it lies in the buffer."""

    start: int
    length: int


@dataclass(frozen=True, slots=True, eq=False)
class Persistent:
    pid: object
    offset: int


@dataclass(slots=True, eq=False)
class SymList:
    items: list[object]


@dataclass(slots=True, eq=False)
class SymDict:
    items: dict[str, object] = field(default_factory=dict)


class _Unknown:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN = _Unknown()  # a value the walker does not model (a number it did not keep, a set, a buffer)


@dataclass(frozen=True, slots=True)
class Call:
    """One call the loader makes. `args` are symbolic: the argument tuple for REDUCE, NEWOBJ, INST
    and OBJ, `(args, kwargs)` for NEWOBJ_EX, and the state for BUILD (which hands it to the object's
    `__setstate__`, or to its `__dict__`)."""

    callee: object  # a Global, or what a computation produced (an indirect call)
    opcode: str
    offset: int
    args: object = ()


@dataclass(frozen=True, slots=True)
class Captured:
    """A call to a watched global, with a copy of its arguments taken at the call (later SETITEMS on
    the same dict do not change what the loader passed)."""

    callee: Global
    opcode: str
    offset: int
    args: object


@dataclass(frozen=True, slots=True)
class Event:
    kind: str  # "indirect-call" | "extension" | "tampering"
    offset: int
    detail: str
    callee: object = None  # for an indirect call: what is called (a Result of an earlier call, ...)


@dataclass(frozen=True, slots=True)
class Nested:
    """Bytes inside the pickle that are themselves a pickle or an archive (a second payload)."""

    offset: int  # of the opcode that produced them
    data: Buffer
    start: int
    end: int


@dataclass
class WalkResult:
    start: int
    end: int = 0  # just past STOP, or where walking stopped
    opcodes: int = 0
    protocol: int = 0
    globals: list[Global] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    persistent: list[Persistent] = field(default_factory=list)
    nested: list[Nested] = field(default_factory=list)
    captured: list[Captured] = field(default_factory=list)
    arrays: int = 0  # joblib arrays whose inline bytes were skipped
    error: str | None = None
    error_offset: int | None = None
    buffer: Buffer | None = None  # what the offsets of Blobs in `calls` point into
    value: object = None  # what the pickle returns (the top of the stack at STOP)

    def absorb(self, inner: WalkResult) -> None:
        """Take over the facts of a pickle walked inline (a joblib object array, raw array bytes)."""
        self.globals += inner.globals
        self.calls += inner.calls
        self.events += inner.events
        self.persistent += inner.persistent
        self.nested += inner.nested
        self.captured += inner.captured
        self.arrays += inner.arrays
        self.opcodes += inner.opcodes


# --- decoding ---------------------------------------------------------------------------------


def decode(buf: Buffer, pos: int, end: int) -> tuple[int, object, int]:
    """(opcode, raw argument, position after it) for the opcode at `pos`.

    Raw arguments: ints for fixed-size integers, a float for BINFLOAT, the line's bytes (without
    the newline) for text arguments, a pair of lines for GLOBAL/INST, (start, length) for
    length-prefixed data, and the integer for LONG1/LONG4 (None when longer than 64 bytes).
    """
    if pos >= end:
        raise ParseError("truncated: the data ends before a STOP opcode", pos)
    code = buf[pos]
    layout = _LAYOUT.get(code)
    if layout is None:
        raise ParseError(f"invalid opcode byte 0x{code:02x}", pos)
    p = pos + 1
    if layout == _NONE:
        return code, None, p
    if layout == _U1:
        if p >= end:
            raise ParseError("truncated argument", pos)
        return code, buf[p], p + 1
    if layout in (_LEN1, _LONG1):
        if p >= end:
            raise ParseError("truncated argument", pos)
        n = buf[p]
        p += 1
        if p + n > end:
            raise ParseError("truncated argument", pos)
        if layout == _LONG1:
            return code, int.from_bytes(buf[p : p + n], "little", signed=True), p + n
        return code, (p, n), p + n
    if layout == _LINE:
        nl = buf.find(b"\n", p, min(end, p + MAX_LINE + 1))
        if nl < 0:
            raise ParseError("truncated or overlong text argument", pos)
        return code, buf[p:nl], nl + 1
    if layout == _LINE2:
        nl = buf.find(b"\n", p, min(end, p + MAX_LINE + 1))
        nl2 = buf.find(b"\n", nl + 1, min(end, nl + 2 + MAX_LINE)) if nl >= 0 else -1
        if nl2 < 0:
            raise ParseError("truncated or overlong module/name argument", pos)
        return code, (buf[p:nl], buf[nl + 1 : nl2]), nl2 + 1
    width = 2 if layout == _U2L else 8 if layout in (_U8L, _F8L, _LEN8) else 4
    if p + width > end:
        raise ParseError("truncated argument", pos)
    if layout == _U2L:
        return code, _U2.unpack_from(buf, p)[0], p + 2
    if layout == _I4L:
        return code, _I4.unpack_from(buf, p)[0], p + 4
    if layout == _U4L:
        return code, _U4.unpack_from(buf, p)[0], p + 4
    if layout == _U8L:
        return code, _U8.unpack_from(buf, p)[0], p + 8
    if layout == _F8L:
        return code, _F8.unpack_from(buf, p)[0], p + 8
    if layout in (_LEN4, _LEN4S, _LONG4):
        n = (_I4 if layout != _LEN4 else _U4).unpack_from(buf, p)[0]
        if n < 0:
            raise ParseError("negative byte count", pos)
        p += 4
    else:  # _LEN8
        n = _U8.unpack_from(buf, p)[0]
        p += 8
    if n > end - p:
        raise ParseError(f"argument of {n} bytes runs past the end of the data", pos)
    if layout == _LONG4:
        return code, (int.from_bytes(buf[p : p + n], "little", signed=True) if n <= 64 else None), p + n
    return code, (p, n), p + n


# --- walking ----------------------------------------------------------------------------------

_STRINGS = frozenset({0x8C, 0x58, 0x8D, 0x55, 0x54, 0x56, 0x53})  # every opcode that pushes a str
_BYTES = frozenset({0x43, 0x42, 0x8E, 0x96})
_DUNDER = re.compile(r"^__\w+__$")
_IDENT_START = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")


def walk(
    buf: Buffer,
    start: int = 0,
    end: int | None = None,
    *,
    max_opcodes: int = 50_000_000,
    deadline: float | None = None,
    depth: int = 0,
    watch: frozenset[str] = frozenset(),
) -> WalkResult:
    """Walk one pickle from `start` to its STOP opcode (or to the first thing a loader rejects).

    `watch`: qualified names of globals whose calls keep a copy of their arguments (`captured`).
    """
    end = len(buf) if end is None else end
    result = WalkResult(start=start, buffer=buf)
    stack: list[object] = []
    metastack: list[list[object]] = []
    memo: dict[int, object] = {}
    proto = 0
    frame_end = -1
    pos = start
    at = start
    ops = 0
    globals_, calls, events = result.globals, result.calls, result.events
    try:
        while True:
            at = pos
            ops += 1
            if not ops & (CHECK_EVERY - 1):
                _check_limits(ops, max_opcodes, len(stack) + len(memo) + len(metastack), deadline)
            # Fast path: the memo and stack opcodes that make up most of a checkpoint, decoded and
            # applied in one step. Anything unusual (a short buffer, an empty stack) takes the
            # general path below, which reports it.
            code = buf[pos] if pos < end else -1
            if code == 0x68 and pos + 1 < end and buf[pos + 1] in memo:  # BINGET
                stack.append(memo[buf[pos + 1]])
                pos += 2
                continue
            if code == 0x72 and pos + 5 <= end and stack:  # LONG_BINPUT
                memo[_U4.unpack_from(buf, pos + 1)[0]] = stack[-1]
                pos += 5
                continue
            if code == 0x71 and pos + 1 < end and stack:  # BINPUT
                memo[buf[pos + 1]] = stack[-1]
                pos += 2
                continue
            if code == 0x94 and stack:  # MEMOIZE
                memo[len(memo)] = stack[-1]
                pos += 1
                continue
            if code == 0x29:  # EMPTY_TUPLE
                stack.append(())
                pos += 1
                continue
            if code == 0x4B and pos + 1 < end:  # BININT1
                stack.append(buf[pos + 1])
                pos += 2
                continue
            if code == 0x28:  # MARK
                metastack.append(stack)
                stack = []
                pos += 1
                continue
            # General path: decode inline for the common layouts; `decode` does the rest.
            layout = _LAYOUT.get(code)
            if layout == _NONE:
                arg, pos = None, pos + 1
            elif layout == _U1 and pos + 1 < end:
                arg, pos = buf[pos + 1], pos + 2
            elif layout == _U4L and pos + 5 <= end:
                arg, pos = _U4.unpack_from(buf, pos + 1)[0], pos + 5
            else:
                code, arg, pos = decode(buf, pos, end)
            # Every opcode's effect on the stack and memo, the frequent ones first. (EMPTY_TUPLE and
            # MARK never get here: the fast path takes them whole.)
            if code == 0x71 or code == 0x72 or code == 0x70:  # BINPUT, LONG_BINPUT, PUT
                if not stack:
                    raise ParseError("PUT with an empty stack", at)
                key = arg if code != 0x70 else _int_line(arg, at)
                if key < 0:
                    raise ParseError("negative memo index", at)
                memo[key] = stack[-1]
            elif code == 0x94:  # MEMOIZE
                if not stack:
                    raise ParseError("MEMOIZE with an empty stack", at)
                memo[len(memo)] = stack[-1]
            elif code == 0x68 or code == 0x6A or code == 0x67:  # BINGET, LONG_BINGET, GET
                key = arg if code != 0x67 else _int_line(arg, at)
                if key not in memo:
                    raise ParseError(f"memo index {key} was never stored", at)
                stack.append(memo[key])
            elif code == 0x52 or code == 0x81 or code == 0x92:  # REDUCE, NEWOBJ, NEWOBJ_EX
                n = 2 if code != 0x92 else 3
                if len(stack) < n:
                    raise ParseError("stack underflow", at)
                args = stack[-n + 1] if code != 0x92 else (stack[-2], stack[-1])
                callee = stack[-n]
                del stack[-n:]
                name = NAMES[code]
                calls.append(Call(callee, name, at, args))
                if callee.__class__ is not Global:
                    events.append(_indirect(callee, name, at))
                elif code == 0x52 and callee.name == "encode" and callee.module == "_codecs":  # type: ignore[attr-defined]
                    _codecs_payload(args, at, result)
                if watch:
                    _capture(callee, name, at, args, watch, result)
                stack.append(Result(callee, name, at, args))
            elif code == 0x4B or code == 0x4D or code == 0x4A or code == 0x8A or code == 0x8B:
                stack.append(arg if arg is not None else UNKNOWN)
            elif code in _STRINGS:
                stack.append(_text(code, arg, buf, at))
            elif code == 0x85 or code == 0x86 or code == 0x87:  # TUPLE1..3
                n = code - 0x84
                if len(stack) < n:
                    raise ParseError("stack underflow", at)
                items = stack[-n:]
                del stack[-n:]
                stack.append(tuple(items))
            elif code == 0x74:  # TUPLE
                stack, items = _pop_mark(metastack, stack, at), stack
                stack.append(tuple(items))
            elif code == 0x51:  # BINPERSID
                if not stack:
                    raise ParseError("stack underflow", at)
                pid = stack.pop()
                result.persistent.append(Persistent(pid, at))
                stack.append(_persistent_value(pid, at))

            elif code == 0x88 or code == 0x89:
                stack.append(code == 0x88)
            elif code == 0x4E:
                stack.append(None)
            elif code in _BYTES:
                blob = Blob(*arg)  # type: ignore[misc]
                _maybe_nested(buf, blob, at, result)
                stack.append(blob)
            elif code == 0x7D:  # EMPTY_DICT
                stack.append(SymDict())
            elif code == 0x5D:  # EMPTY_LIST
                stack.append(SymList([]))
            elif code == 0x75 or code == 0x73:  # SETITEMS, SETITEM
                if code == 0x75:
                    stack, items = _pop_mark(metastack, stack, at), stack
                else:
                    if len(stack) < 2:
                        raise ParseError("stack underflow", at)
                    items = stack[-2:]
                    del stack[-2:]
                if not stack:
                    raise ParseError("stack underflow", at)
                _set_items(stack[-1], items, at, events)
            elif code == 0x65 or code == 0x61:  # APPENDS, APPEND
                if code == 0x65:
                    stack, items = _pop_mark(metastack, stack, at), stack
                else:
                    if not stack:
                        raise ParseError("stack underflow", at)
                    items = [stack.pop()]
                if not stack:
                    raise ParseError("stack underflow", at)
                target = stack[-1]
                if isinstance(target, SymList):
                    target.items.extend(items[: max(0, MAX_ITEMS - len(target.items))])
                elif isinstance(target, Global):
                    events.append(
                        Event("tampering", at, f"appends to the module-level object {target.qualified}")
                    )
            elif code == 0x62:  # BUILD
                if len(stack) < 2:
                    raise ParseError("stack underflow", at)
                state = stack.pop()
                target = stack[-1]
                _build(target, state, at, calls, events)
                if _is_joblib_wrapper(target):
                    if frame_end >= 0 and pos < frame_end:
                        raise ParseError(
                            "joblib array data inside an unfinished pickle frame: loaders disagree on where it is",
                            at,
                        )
                    pos = _joblib_array(buf, pos, end, state, at, result, max_opcodes, deadline, depth, watch)
                    stack[-1] = UNKNOWN  # joblib puts the array where the wrapper was
            elif code == 0x63 or code == 0x69:  # GLOBAL, INST
                module, name = _name_line(arg[0], at), _name_line(arg[1], at)  # type: ignore[index]
                imported = Global(module, name, at, NAMES[code], proto)
                globals_.append(imported)
                if code == 0x69:
                    stack, items = _pop_mark(metastack, stack, at), stack
                    calls.append(Call(imported, "INST", at, tuple(items)))
                    if watch:
                        _capture(imported, "INST", at, tuple(items), watch, result)
                    stack.append(Result(imported, "INST", at, tuple(items)))
                else:
                    stack.append(imported)
            elif code == 0x93:  # STACK_GLOBAL
                if len(stack) < 2:
                    raise ParseError("stack underflow", at)
                module_v, name_v = stack[-2], stack[-1]
                del stack[-2:]
                imported = _stack_global(module_v, name_v, at, proto)
                globals_.append(imported)
                stack.append(imported)
            elif code == 0x6F:  # OBJ
                stack, items = _pop_mark(metastack, stack, at), stack
                if not items:
                    raise ParseError("OBJ without a class", at)
                calls.append(Call(items[0], "OBJ", at, tuple(items[1:])))
                if items[0].__class__ is not Global:
                    events.append(_indirect(items[0], "OBJ", at))
                elif watch:
                    _capture(items[0], "OBJ", at, tuple(items[1:]), watch, result)
                stack.append(Result(items[0], "OBJ", at, tuple(items[1:])))
            elif code == 0x2E:  # STOP
                if not stack:
                    raise ParseError("STOP with an empty stack", at)
                result.end = pos
                result.opcodes = ops
                result.value = stack[-1]
                return result
            elif code == 0x80:  # PROTO
                if arg > 5:  # type: ignore[operator]
                    raise ParseError(f"unsupported pickle protocol {arg}", at)
                proto = arg  # type: ignore[assignment]
                result.protocol = max(result.protocol, proto)
            elif code == 0x95:  # FRAME
                if arg > end - pos:  # type: ignore[operator]
                    raise ParseError("frame longer than the data", at)
                frame_end = pos + arg  # type: ignore[operator]
            elif code == 0x30:  # POP
                if stack:
                    stack.pop()
                else:
                    stack = _pop_mark(metastack, stack, at)
            elif code == 0x31:  # POP_MARK
                stack = _pop_mark(metastack, stack, at)
            elif code == 0x32:  # DUP
                if not stack:
                    raise ParseError("stack underflow", at)
                stack.append(stack[-1])
            elif code == 0x6C or code == 0x64:  # LIST, DICT
                stack, items = _pop_mark(metastack, stack, at), stack
                if code == 0x6C:
                    stack.append(SymList(items[:MAX_ITEMS]))
                else:
                    if len(items) % 2:
                        raise ParseError("odd number of items for DICT", at)
                    built = SymDict()
                    _set_items(built, items, at, events)
                    stack.append(built)
            elif code == 0x8F:  # EMPTY_SET
                stack.append(UNKNOWN)
            elif code == 0x90:  # ADDITEMS
                stack = _pop_mark(metastack, stack, at)
                if not stack:
                    raise ParseError("stack underflow", at)
                if isinstance(stack[-1], Global):
                    events.append(
                        Event("tampering", at, f"adds items to the module-level object {stack[-1].qualified}")
                    )  # type: ignore[union-attr]
            elif code == 0x91:  # FROZENSET
                stack = _pop_mark(metastack, stack, at)
                stack.append(UNKNOWN)
            elif code == 0x49 or code == 0x4C:  # INT, LONG
                stack.append(_int_text(arg, at, long=code == 0x4C))  # type: ignore[arg-type]
            elif code == 0x46 or code == 0x47:  # FLOAT, BINFLOAT
                stack.append(_float_text(arg, at) if code == 0x46 else arg)  # type: ignore[arg-type]
            elif code == 0x50:  # PERSID
                value = Persistent(_ascii(arg, at), at)  # type: ignore[arg-type]
                result.persistent.append(value)
                stack.append(value)
            elif code == 0x82 or code == 0x83 or code == 0x84:  # EXT1, EXT2, EXT4
                if arg <= 0:  # type: ignore[operator]
                    raise ParseError("extension code must be positive", at)
                imported = Global("copyreg", f"<extension {arg}>", at, NAMES[code], proto, resolved=False)
                globals_.append(imported)
                events.append(
                    Event(
                        "extension",
                        at,
                        f"{NAMES[code]} {arg} imports whatever the loading process registered under that code",
                    )
                )
                stack.append(imported)
            elif code == 0x97:  # NEXT_BUFFER
                stack.append(UNKNOWN)
            elif code == 0x98:  # READONLY_BUFFER
                if not stack:
                    raise ParseError("stack underflow", at)
            else:  # pragma: no cover - every opcode in _LAYOUT is handled above
                raise AssertionError(NAMES[code])
    except LimitExceeded:
        raise
    except ParseError as exc:
        result.error, result.error_offset, result.end = str(exc), exc.offset, at
    result.opcodes = ops
    return result


def _persistent_value(pid: object, at: int) -> object:
    """What a loader pushes for a persistent id. PyTorch's legacy loader answers ('module', cls, ...)
    with the class itself; everything else becomes an opaque reference."""
    if isinstance(pid, tuple) and len(pid) > 1 and pid[0] == "module" and pid[1].__class__ is Global:
        return pid[1]
    return Persistent(pid, at)


def _check_limits(ops: int, max_opcodes: int, held: int, deadline: float | None) -> None:
    if ops > max_opcodes:
        raise LimitExceeded(f"more than {max_opcodes} opcodes in one pickle")
    if held > MAX_STACK:
        raise LimitExceeded(f"more than {MAX_STACK} values held on the stack and in the memo")
    if deadline is not None and time.monotonic() > deadline:
        raise LimitExceeded("time limit reached while walking a pickle")


def _pop_mark(metastack: list[list[object]], stack: list[object], at: int) -> list[object]:
    """The stack below the last MARK (the caller keeps the items above it)."""
    if not metastack:
        raise ParseError("no MARK to pop to", at)
    return metastack.pop()


def _text(code: int, arg: object, buf: Buffer, at: int) -> object:
    if code == 0x53:  # STRING: a quoted Python 2 str literal
        line = bytes(arg)  # type: ignore[arg-type]
        if len(line) < 2 or line[:1] not in (b"'", b'"') or line[-1:] != line[:1]:
            raise ParseError("STRING argument is not quoted", at)
        try:
            return codecs.escape_decode(line[1:-1])[0].decode("latin-1")
        except ValueError:
            raise ParseError("STRING argument has a bad escape", at) from None
    if code == 0x56:  # UNICODE: raw-unicode-escape text line
        try:
            return bytes(arg).decode("raw-unicode-escape")  # type: ignore[arg-type]
        except UnicodeDecodeError:
            raise ParseError("UNICODE argument does not decode", at) from None
    start, length = arg  # type: ignore[misc]
    if length > MAX_TEXT:
        return UNKNOWN
    raw = buf[start : start + length]
    if code in (0x55, 0x54):  # SHORT_BINSTRING, BINSTRING: Python 2 str, decoded by the loader's encoding
        return raw.decode("latin-1")
    try:
        return raw.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        raise ParseError("string argument is not UTF-8", at) from None


def _name_line(raw: object, at: int) -> str:
    try:
        text = bytes(raw).decode("utf-8")  # type: ignore[arg-type]
    except UnicodeDecodeError:
        raise ParseError("module or name is not UTF-8", at) from None
    if not text:
        raise ParseError("empty module or name", at)
    return text


def _ascii(raw: bytes, at: int) -> str:
    try:
        return bytes(raw).decode("ascii")
    except UnicodeDecodeError:
        raise ParseError("persistent id is not ASCII", at) from None


def _int_line(raw: object, at: int) -> int:
    try:
        return int(bytes(raw))  # type: ignore[arg-type]
    except ValueError:
        raise ParseError("memo index is not an integer", at) from None


def _int_text(raw: bytes, at: int, *, long: bool = False) -> object:
    """INT and LONG arguments as CPython's C unpickler (the default) reads them.

    INT: `strtol(text, base 0)` must consume the whole line (so `010` is octal 8 and `0x10` is 16);
    otherwise `int(text, 0)` (whitespace, `+`, underscores). A two-character line worth 0 or 1
    (`00`, `01`, ` 1`, `+0`, `-0`) is a bool. LONG drops one trailing `L` and takes `int(text, 0)`.
    """
    text = bytes(raw)
    try:
        if long:
            return int(text[:-1] if text.endswith(b"L") else text, 0)
        value = _strtol(text)
        if value is not None:
            return bool(value) if len(text) == 2 and value in (0, 1) else value
        if not text:
            raise ValueError
        return int(text, 0)
    except ValueError:
        raise ParseError("integer argument does not parse", at) from None


_C_SPACE = b" \t\n\v\f\r"


def _strtol(text: bytes) -> int | None:
    """C `strtol(text, &end, 0)` when it consumes all of `text` and fits a C long; else None."""
    i = 0
    while i < len(text) and text[i] in _C_SPACE:
        i += 1
    sign = 1
    if i < len(text) and text[i] in b"+-":
        sign = -1 if text[i] == 0x2D else 1
        i += 1
    base, digits = 10, b"0123456789"
    if (
        text[i : i + 2].lower() == b"0x"
        and i + 2 < len(text)
        and text[i + 2 : i + 3].lower() in b"0123456789abcdef"
    ):
        base, digits, i = 16, b"0123456789abcdef", i + 2
    elif text[i : i + 1] == b"0":
        base, digits = 8, b"01234567"
    begin = i
    while i < len(text) and text[i : i + 1].lower() in digits and text[i : i + 1]:
        i += 1
    if i == begin or i != len(text):
        return None
    value = sign * int(text[begin:i], base)
    return value if -(1 << 63) <= value < (1 << 63) else None


def _float_text(raw: bytes, at: int) -> float:
    try:
        return float(bytes(raw))
    except ValueError:
        raise ParseError("float argument does not parse", at) from None


def _stack_global(module: object, name: object, at: int, proto: int) -> Global:
    if isinstance(module, str) and isinstance(name, str):
        return Global(module, name, at, "STACK_GLOBAL", proto)
    for value in (module, name):
        if isinstance(value, (int, float, bool, tuple, Blob, SymList, SymDict)) or value is None:
            raise ParseError(
                "STACK_GLOBAL needs two strings", at
            )  # the loader rejects constants of other types
    return Global(describe(module), describe(name), at, "STACK_GLOBAL", proto, resolved=False)


def _indirect(callee: object, opcode: str, at: int) -> Event:
    return Event("indirect-call", at, f"{opcode} calls {describe(callee)}, not an imported global", callee)


def _set_items(target: object, items: list[object], at: int, events: list[Event]) -> None:
    if len(items) % 2:
        raise ParseError("odd number of items for SETITEMS", at)
    if isinstance(target, SymDict):
        kept = target.items
        for i in range(0, min(len(items), 2 * MAX_ITEMS), 2):
            key = items[i]
            if isinstance(key, str) and len(kept) < MAX_ITEMS:
                kept[key] = items[i + 1]
    elif isinstance(target, Global):
        events.append(Event("tampering", at, f"sets items on the module-level object {target.qualified}"))


def _build(target: object, state: object, at: int, calls: list[Call], events: list[Event]) -> None:
    if isinstance(target, Global):
        events.append(
            Event("tampering", at, f"BUILD sets the state of the module-level object {target.qualified}")
        )
    elif isinstance(target, Result):
        calls.append(Call(target.callee, "BUILD", at, state))
        target.state = state
    parts = state if isinstance(state, tuple) and len(state) == 2 else (state,)
    for part in parts:
        if isinstance(part, SymDict):
            dunders = sorted(k for k in part.items if _DUNDER.match(k))
            if dunders:
                events.append(Event("tampering", at, f"BUILD sets {', '.join(dunders)} on an object"))


def _capture(
    callee: object, opcode: str, at: int, args: object, watch: frozenset[str], result: WalkResult
) -> None:
    if (
        callee.__class__ is Global
        and callee.resolved
        and callee.qualified in watch  # type: ignore[attr-defined]
        and len(result.captured) < MAX_CAPTURED
    ):
        result.captured.append(Captured(callee, opcode, at, _copy(args, 0)))  # type: ignore[arg-type]


def _copy(value: object, depth: int) -> object:
    """A copy of a symbolic value's lists and dicts (strings and the rest are not mutated by later opcodes)."""
    if depth >= MAX_CAPTURE_DEPTH:
        return UNKNOWN if isinstance(value, (tuple, SymList, SymDict)) else value
    if isinstance(value, tuple):
        return tuple(_copy(v, depth + 1) for v in value)
    if isinstance(value, SymList):
        return SymList([_copy(v, depth + 1) for v in value.items])
    if isinstance(value, SymDict):
        return SymDict({k: _copy(v, depth + 1) for k, v in value.items.items()})
    return value


def _codecs_payload(args: object, at: int, result: WalkResult) -> None:
    """Protocols 0-2 pickle bytes as `_codecs.encode(text, 'latin1')`: look inside those too."""
    if (
        isinstance(args, tuple)
        and len(args) == 2
        and isinstance(args[0], str)
        and args[1] in ("latin1", "latin-1")
    ):
        try:
            data = args[0].encode("latin-1")
        except UnicodeEncodeError:
            return
        if _looks_nested(data, 0, len(data)) and len(result.nested) < MAX_NESTED_CANDIDATES:
            result.nested.append(Nested(at, data, 0, len(data)))


def _maybe_nested(buf: Buffer, blob: Blob, at: int, result: WalkResult) -> None:
    if (
        _looks_nested(buf, blob.start, blob.start + blob.length)
        and len(result.nested) < MAX_NESTED_CANDIDATES
    ):
        result.nested.append(Nested(at, buf, blob.start, blob.start + blob.length))


def _looks_nested(buf: Buffer, start: int, end: int) -> bool:
    """Bytes that open like a pickle (PROTO, or a protocol-0 GLOBAL) or a zip (a torch.save)."""
    if end - start < 4:
        return False
    first, second = buf[start], buf[start + 1]
    if first == 0x80:
        return second <= 5
    if first == 0x63:  # 'c': GLOBAL module\nname\n
        return second in _IDENT_START and buf.find(b"\n", start, min(end, start + 256)) > 0
    return buf[start : start + 4] == b"PK\x03\x04"


def describe(value: object, depth: int = 0) -> str:
    """A short, readable rendering of a symbolic value for messages and evidence."""
    if isinstance(value, Global):
        return value.qualified if value.resolved else f"an import of {value.module}.{value.name}"
    if isinstance(value, Result):
        inner = describe(value.callee, depth + 1) if depth < 3 else "…"
        return f"the result of calling {inner}"
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    if isinstance(value, tuple):
        return (
            "(" + ", ".join(describe(v, depth + 1) for v in value[:4]) + (", …)" if len(value) > 4 else ")")
        )
    if isinstance(value, Blob):
        return f"<{value.length} bytes>"
    if isinstance(value, Persistent):
        return "a persistent reference"
    if isinstance(value, (SymList, SymDict)):
        return "a list" if isinstance(value, SymList) else "a dict"
    if value is UNKNOWN:
        return "an unknown value"
    return repr(value)[:60]


# --- joblib -----------------------------------------------------------------------------------


def _is_joblib_wrapper(target: object) -> bool:
    """A NumpyArrayWrapper instance: made by NEWOBJ, or by `copyreg._reconstructor` in Python 2 era files."""
    if not (isinstance(target, Result) and isinstance(target.callee, Global) and target.callee.resolved):
        return False
    made = target.callee
    if made.qualified in _RECONSTRUCTORS and isinstance(target.args, tuple) and target.args:
        made = target.args[0]  # type: ignore[assignment]
    return isinstance(made, Global) and made.qualified in JOBLIB_WRAPPERS


@dataclass(frozen=True, slots=True)
class ArrayLayout:
    nbytes: int
    has_object: bool
    padded: bool  # joblib >= 1.2 writes one byte of padding length, then the padding


def joblib_layout(state: object) -> ArrayLayout | str:
    """How many bytes follow a NumpyArrayWrapper's BUILD, or why that cannot be known."""
    if not isinstance(state, SymDict):
        return "the wrapper's state is not a plain dict"
    fields = state.items
    shape, dtype = fields.get("shape"), fields.get("dtype")
    if not isinstance(shape, tuple) or not all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape
    ):
        return "the array shape is not a tuple of non-negative integers"
    itemsize, has_object = _dtype_facts(dtype)
    if itemsize is None:
        return "the array dtype is not one the walker can size"
    count = math.prod(shape)  # type: ignore[arg-type]
    return ArrayLayout(count * itemsize, has_object, "numpy_array_alignment_bytes" in fields)


def _dtype_facts(dtype: object) -> tuple[int | None, bool]:
    """(itemsize, has Python objects) of a pickled `numpy.dtype(typestr, align, copy)` + its state."""
    if not (
        isinstance(dtype, Result)
        and isinstance(dtype.callee, Global)
        and dtype.callee.qualified == "numpy.dtype"
    ):
        return None, False
    args = dtype.args
    if not (isinstance(args, tuple) and args and isinstance(args[0], str)):
        return None, False
    match = re.fullmatch(r"[<>|=]?([A-Za-z])(\d*)", args[0])
    if match is None:
        return None, False
    kind, digits = match.groups()
    state = dtype.state
    elsize = state[5] if isinstance(state, tuple) and len(state) > 7 and isinstance(state[5], int) else -1
    flags = state[7] if isinstance(state, tuple) and len(state) > 7 and isinstance(state[7], int) else 0
    has_object = kind == "O" or bool(flags & 1) or _fields_hold_objects(state)
    if elsize > 0:
        return elsize, has_object
    if digits:
        return int(digits), has_object
    return None, has_object


def _fields_hold_objects(state: object, depth: int = 0) -> bool:
    if depth > 8 or not isinstance(state, tuple) or len(state) < 5 or not isinstance(state[4], SymDict):
        return False
    for entry in state[4].items.values():
        sub = entry[0] if isinstance(entry, tuple) and entry else None
        if isinstance(sub, Result) and (_dtype_facts(sub)[1] or _fields_hold_objects(sub.state, depth + 1)):
            return True
    return False


def _joblib_array(
    buf: Buffer,
    pos: int,
    end: int,
    state: object,
    at: int,
    result: WalkResult,
    max_opcodes: int,
    deadline: float | None,
    depth: int,
    watch: frozenset[str] = frozenset(),
) -> int:
    """Skip (or, for object arrays, walk) the bytes `joblib.load` reads after this BUILD."""
    layout = joblib_layout(state)
    if isinstance(layout, str):
        raise ParseError(f"cannot size the joblib array data after this BUILD: {layout}", at)
    result.arrays += 1
    if layout.has_object:  # joblib pickles object arrays as a nested pickle, read from the same stream
        inner = walk(buf, pos, end, max_opcodes=max_opcodes, deadline=deadline, depth=depth + 1, watch=watch)
        result.absorb(inner)
        if inner.error is not None:
            raise ParseError(f"object array pickle: {inner.error}", inner.error_offset or pos)
        return inner.end
    if layout.padded:
        if pos >= end:
            raise ParseError("joblib array padding runs past the end of the data", at)
        pos += 1 + buf[pos]
    if layout.nbytes > end - pos:
        raise ParseError(f"joblib array of {layout.nbytes} bytes runs past the end of the data", at)
    _raw_bytes_as_opcodes(buf, pos, pos + layout.nbytes, result, deadline, depth)
    return pos + layout.nbytes


def _raw_bytes_as_opcodes(
    buf: Buffer, start: int, end: int, result: WalkResult, deadline: float | None, depth: int
) -> None:
    """What a plain `pickle.load` would do with the array bytes: read them as opcodes."""
    if start >= end or depth > 2:
        return
    try:
        fragment = walk(buf, start, end, max_opcodes=MAX_PROBE_OPCODES, deadline=deadline, depth=depth + 1)
    except LimitExceeded:
        if deadline is not None and time.monotonic() > deadline:
            raise
        return  # array data that reads as a long run of harmless opcodes (a constant image): stop probing
    via = "array bytes that a plain pickle.load reads as opcodes"
    for imported in fragment.globals:
        result.globals.append(
            Global(
                imported.module,
                imported.name,
                imported.offset,
                imported.opcode,
                imported.protocol,
                imported.resolved,
                via,
            )
        )


# --- reading any file from byte 0 -------------------------------------------------------------

_IMPORTABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")


def acts(result: WalkResult) -> bool:
    """Whether a loader that unpickled these opcodes did something: imported an importable name, called,
    tampered, or met bytes that are another pickle. Constants alone do nothing, which is all that the
    first bytes of most binary formats read as."""
    if result.calls or result.events or result.nested:
        return True
    return any(
        not g.resolved or (_IMPORTABLE.fullmatch(g.module) and _IMPORTABLE.fullmatch(g.name))
        for g in result.globals
    )


def unpickles_from_zero(head: bytes, *, complete: bool) -> bool:
    """Whether `pickle.load`/`torch.load`/`joblib.load` of bytes that start with `head` would act.

    A pickle may start with any opcode. True when the opcodes up to STOP (or up to where the head
    ends, for a longer file) act; a walk that the head cuts off cleanly also counts, since what acts
    may lie past the head."""
    if not head or head[0] not in _LAYOUT:
        return False
    try:
        result = walk(head, 0, len(head), max_opcodes=MAX_PROBE_OPCODES)
    except LimitExceeded:
        return not complete
    if acts(result):
        return True
    truncated = result.error is not None and result.error.startswith(("truncated", "argument of"))
    return not complete and truncated and result.opcodes > 1
