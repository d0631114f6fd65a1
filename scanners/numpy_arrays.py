"""NumPy .npy and .npz files: what their headers (read by `airlock.parsers.npy`) reveal about the arrays."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from airlock.artifacts import Artifact
from airlock.findings import Finding
from airlock.formats import Format
from airlock.parsers.buffers import mapped
from airlock.parsers.containers import Leaf, expand
from airlock.parsers.errors import ParseError
from airlock.parsers.npy import parse_header
from airlock.scanning import ArtifactScanner, ScanContext


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
            header = parse_header(leaf.head, ctx.limits.max_npy_header)
        except ParseError as exc:
            yield ctx.finding(
                "AIR221", self.name, artifact.path, leaf.where, f"unreadable .npy header: {exc}"
            )
            return
        facts = {
            "descr": header.descr,
            "shape": list(header.shape),
            "version": ".".join(map(str, header.version)),
        }
        if header.has_object:
            yield ctx.finding(
                "AIR220",
                self.name,
                artifact.path,
                leaf.where,
                f"object array {header.descr}: loading it unpickles its data (np.load needs allow_pickle=True)",
                facts,
            )
            return
        expected = header.data_offset + header.nbytes
        if leaf.size < expected:
            yield ctx.finding(
                "AIR221",
                self.name,
                artifact.path,
                leaf.where,
                f"the header declares {header.nbytes} bytes of data, the file holds {leaf.size - header.data_offset}",
                facts,
            )
        elif leaf.size > expected:
            yield ctx.finding(
                "AIR222",
                self.name,
                artifact.path,
                f"{leaf.where}@byte:{expected}",
                f"{leaf.size - expected} bytes after the array data, which np.load never reads",
                facts,
            )
