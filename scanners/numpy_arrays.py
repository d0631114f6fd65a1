"""NumPy .npy and .npz files: their headers, read the way `np.load` reads them, and their arrays.

`parse_header` is shared with `pickle_opcodes`, which analyses the pickle an object array carries;
the `NumpyArrays` scanner reports what the headers themselves reveal.
"""

from __future__ import annotations

import ast
import io
import math
import struct
import tokenize
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from airlock.artifacts import Artifact
from airlock.findings import Finding
from airlock.formats import Format
from airlock.scanning import ArtifactScanner, ScanContext

from ._containers import Leaf, expand
from ._zip_members import mapped

if TYPE_CHECKING:
    import numpy as np

MAGIC = b"\x93NUMPY"
MAX_HEADER = 1 << 16  # np.load refuses more than 10000 bytes unless allow_pickle=True lifts the limit


class NpyError(Exception):
    """The bytes do not start with a header `np.load` accepts."""


@dataclass(frozen=True, slots=True)
class NpyHeader:
    version: tuple[int, int]
    descr: str
    shape: tuple[int, ...]
    has_object: bool
    itemsize: int
    data_offset: int  # where the array data (or an object array's pickle) starts

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.itemsize


def parse_header(head: bytes) -> NpyHeader:
    """The header at the start of `head` (the first bytes of an .npy file or member)."""
    if not head.startswith(MAGIC) or len(head) < 10:
        raise NpyError("no .npy magic")
    major, minor = head[6], head[7]
    if major == 1:
        (length,), start = struct.unpack_from("<H", head, 8), 10
    elif major in (2, 3) and len(head) >= 12:
        (length,), start = struct.unpack_from("<I", head, 8), 12
    else:
        raise NpyError(f"unknown .npy format version {major}.{minor}")
    if length > MAX_HEADER:
        raise NpyError(f"header of {length} bytes is longer than airlock reads ({MAX_HEADER})")
    if start + length > len(head):
        raise NpyError(f"header of {length} bytes runs past the end of the data")
    text = head[start : start + length].decode("utf-8" if major == 3 else "latin-1", errors="replace")
    fields = _literal(text, python2_longs=major < 3)
    if not isinstance(fields, dict) or set(fields) != {"descr", "fortran_order", "shape"}:
        raise NpyError("header is not a dict of exactly descr, fortran_order and shape")
    shape = fields["shape"]
    if not isinstance(shape, tuple) or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape):
        raise NpyError(f"shape {shape!r} is not a tuple of non-negative integers")
    if not isinstance(fields["fortran_order"], bool):
        raise NpyError("fortran_order is not a bool")
    dtype = _dtype(fields["descr"])
    return NpyHeader((major, minor), str(fields["descr"])[:200], shape, dtype.hasobject, dtype.itemsize, start + length)


def _literal(text: str, *, python2_longs: bool) -> object:
    """The header's dict, parsed as literals only (what np.load does; nothing is evaluated)."""
    try:
        return ast.literal_eval(text)
    except SyntaxError:
        if not python2_longs:
            raise NpyError("header is not a Python literal") from None
    except (ValueError, TypeError, MemoryError, RecursionError) as exc:
        raise NpyError(f"header is not a Python literal: {type(exc).__name__}") from None
    try:  # Python 2 wrote shapes like (2L, 3L); np.load drops the L and tries again
        return ast.literal_eval(_drop_long_suffixes(text))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError, tokenize.TokenError) as exc:
        raise NpyError(f"header is not a Python literal: {type(exc).__name__}") from None


def _drop_long_suffixes(text: str) -> str:
    kept: list[tokenize.TokenInfo] = []
    after_number = False
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if not (after_number and token.type == tokenize.NAME and token.string == "L"):
            kept.append(token)
        after_number = token.type == tokenize.NUMBER
    return tokenize.untokenize(kept)


def _dtype(descr: object) -> np.dtype[Any]:
    from numpy.lib import format as npy_format  # imported only when an .npy is actually read

    try:
        return npy_format.descr_to_dtype(descr)
    except (TypeError, ValueError, KeyError, IndexError, RecursionError) as exc:
        raise NpyError(f"descr {str(descr)[:80]!r} is not a dtype: {exc}") from None


class NumpyArrays(ArtifactScanner):
    """Reads NumPy .npy headers the way `np.load` reads them and checks the arrays behind them.

    ## Why it matters
    An object array's data is a pickle that `np.load(..., allow_pickle=True)` unpickles; headers
    that lie and bytes that `np.load` never reads make a file look like something else.

    ## What it checks
    Object arrays (AIR220, low: legitimate, but a pickle; the pickle itself is judged by
    `pickle_opcodes`), headers that cannot be parsed or data shorter than the header declares
    (AIR221), bytes after the array data (AIR222). `.npz` members are read one by one.

    ## Example
    `features.npy` with dtype `|O` whose pickle calls `ssl.get_server_certificate`: AIR220 here,
    AIR201 (critical) from `pickle_opcodes`.

    ## References
    - AML.T0010.003, CWE-502, https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
    """

    name = "numpy_arrays"
    version = "1"
    formats: ClassVar[frozenset[Format]] = frozenset({Format.NUMPY, Format.NUMPY_NPZ})
    rules: ClassVar[frozenset[str]] = frozenset({"AIR220", "AIR221", "AIR222"})

    def scan(self, artifact: Artifact, ctx: ScanContext) -> Iterator[Finding]:
        with mapped(artifact.location) as buf:
            for item in expand(buf, artifact.path, artifact.format, ctx.limits):
                if isinstance(item, Leaf) and item.fmt is Format.NUMPY:
                    yield from self._array(item, artifact, ctx)

    def _array(self, leaf: Leaf, artifact: Artifact, ctx: ScanContext) -> Iterator[Finding]:
        try:
            header = parse_header(leaf.head)
        except NpyError as exc:
            yield ctx.finding("AIR221", self.name, artifact.path, leaf.where, f"unreadable .npy header: {exc}")
            return
        facts = {"descr": header.descr, "shape": list(header.shape), "version": ".".join(map(str, header.version))}
        if header.has_object:
            yield ctx.finding(
                "AIR220", self.name, artifact.path, leaf.where,
                f"object array {header.descr}: loading it unpickles its data (np.load needs allow_pickle=True)", facts,
            )
            return
        expected = header.data_offset + header.nbytes
        if leaf.size < expected:
            yield ctx.finding(
                "AIR221", self.name, artifact.path, leaf.where,
                f"the header declares {header.nbytes} bytes of data, the file holds {leaf.size - header.data_offset}",
                facts,
            )
        elif leaf.size > expected:
            yield ctx.finding(
                "AIR222", self.name, artifact.path, f"{leaf.where}@byte:{expected}",
                f"{leaf.size - expected} bytes after the array data, which np.load never reads", facts,
            )
