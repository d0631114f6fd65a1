"""NumPy .npy headers, read the way `np.load` reads them: literals only, nothing evaluated.

Shared by the `numpy_arrays` plug-in (what headers reveal) and `pickle_opcodes` (the pickle an object
array carries). A header `np.load` would refuse raises `ParseError`.
"""

from __future__ import annotations

import ast
import io
import math
import struct
import tokenize
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import LimitExceeded, ParseError
from .limits import DEFAULT_LIMITS

if TYPE_CHECKING:
    import numpy as np

MAGIC = b"\x93NUMPY"


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


def parse_header(head: bytes, max_header: int = DEFAULT_LIMITS.max_npy_header) -> NpyHeader:
    """The header at the start of `head` (the first bytes of an .npy file or member)."""
    if not head.startswith(MAGIC) or len(head) < 10:
        raise ParseError("no .npy magic")
    major, minor = head[6], head[7]
    if major == 1:
        (length,), start = struct.unpack_from("<H", head, 8), 10
    elif major in (2, 3) and len(head) >= 12:
        (length,), start = struct.unpack_from("<I", head, 8), 12
    else:
        raise ParseError(f"unknown .npy format version {major}.{minor}")
    if length > max_header:
        raise LimitExceeded(f"header of {length} bytes is longer than airlock reads ({max_header})")
    if start + length > len(head):
        raise ParseError(f"header of {length} bytes runs past the end of the data")
    text = head[start : start + length].decode("utf-8" if major == 3 else "latin-1", errors="replace")
    fields = _literal(text, python2_longs=major < 3)
    if not isinstance(fields, dict) or set(fields) != {"descr", "fortran_order", "shape"}:
        raise ParseError("header is not a dict of exactly descr, fortran_order and shape")
    shape = fields["shape"]
    if not isinstance(shape, tuple) or not all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape
    ):
        raise ParseError(f"shape {shape!r} is not a tuple of non-negative integers")
    if not isinstance(fields["fortran_order"], bool):
        raise ParseError("fortran_order is not a bool")
    dtype = _dtype(fields["descr"])
    return NpyHeader(
        (major, minor), str(fields["descr"])[:200], shape, dtype.hasobject, dtype.itemsize, start + length
    )


def _literal(text: str, *, python2_longs: bool) -> object:
    """The header's dict, parsed as literals only (what np.load does; nothing is evaluated)."""
    try:
        return ast.literal_eval(text)
    except SyntaxError:
        if not python2_longs:
            raise ParseError("header is not a Python literal") from None
    except (ValueError, TypeError, MemoryError, RecursionError) as exc:
        raise ParseError(f"header is not a Python literal: {type(exc).__name__}") from None
    try:  # Python 2 wrote shapes like (2L, 3L); np.load drops the L and tries again
        return ast.literal_eval(_drop_long_suffixes(text))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError, tokenize.TokenError) as exc:
        raise ParseError(f"header is not a Python literal: {type(exc).__name__}") from None


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
        raise ParseError(f"descr {str(descr)[:80]!r} is not a dtype: {exc}") from None
