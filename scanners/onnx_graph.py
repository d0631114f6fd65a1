"""The onnx_graph scanner: ONNX models, read with the bounded protobuf reader (the onnx package is not used).

It walks the ModelProto (main graph, subgraphs in attributes, model-local functions, training
graphs) for two things: where tensors say their external data lives, and which operator domains
the nodes use. Field numbers are those of `onnx/onnx.proto`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import ClassVar

from airlock.artifacts import Artifact
from airlock.findings import Finding, Severity
from airlock.formats import Format
from airlock.parsers.buffers import Buffer, mapped
from airlock.parsers.errors import ParseError
from airlock.parsers.limits import Budget
from airlock.parsers.protobuf import LENGTH, Field, fields, text
from airlock.scanning import ArtifactScanner, ScanContext

STANDARD_DOMAINS = frozenset({"", "ai.onnx", "ai.onnx.ml", "ai.onnx.preview.training", "com.microsoft"})
EXTERNAL_DATA_KEYS = frozenset({"location", "offset", "length", "checksum", "basepath"})
EXAMPLES = 5  # node or tensor names kept as evidence per finding
_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass
class Usage:
    """Where something was first seen, how often, and a few names."""

    location: str
    count: int = 0
    names: list[str] = field(default_factory=list)

    def add(self, name: str) -> None:
        self.count += 1
        if name and len(self.names) < EXAMPLES:
            self.names.append(name)


@dataclass
class ModelWalk:
    """What the walk collected: custom-domain operators, external-data locations and keys."""

    buf: Buffer
    budget: Budget
    local_functions: set[tuple[str, str]] = field(default_factory=set)
    operators: dict[tuple[str, str], Usage] = field(default_factory=dict)
    locations: dict[str, Usage] = field(default_factory=dict)
    odd_keys: dict[str, Usage] = field(default_factory=dict)

    def model(self) -> None:
        functions = 0
        for item in self._messages(0, len(self.buf), {7, 20, 25}):
            if item.number == 7:
                self.graph(item, "graph", 1)
            elif item.number == 25:
                self.function(item, f"functions[{functions}]")
                functions += 1
            else:
                for sub in self._messages(item.value, item.end, {1, 2}):
                    self.graph(
                        sub, f"training_info.{'initialization' if sub.number == 1 else 'algorithm'}", 1
                    )

    def graph(self, item: Field, path: str, depth: int) -> None:
        self.budget.nested(depth, item.value)
        nodes = tensors = 0
        for sub in self._messages(item.value, item.end, {1, 5, 15}):
            if sub.number == 1:
                self.node(sub, f"{path}.node[{nodes}]", depth)
                nodes += 1
            else:
                kind = "initializer" if sub.number == 5 else "sparse_initializer"
                self.tensor(sub, f"{path}.{kind}[{tensors}]", sparse=sub.number == 15)
                tensors += 1

    def function(self, item: Field, path: str) -> None:
        name = domain = ""
        nodes = 0
        for sub in fields(self.buf, item.value, item.end, self.budget):
            if sub.wire != LENGTH:
                continue
            if sub.number == 1:
                name = text(self.buf, sub)
            elif sub.number == 10:
                domain = text(self.buf, sub)
            elif sub.number == 7:
                self.node(sub, f"{path}.node[{nodes}]", 1)
                nodes += 1
        self.local_functions.add((domain, name))

    def node(self, item: Field, path: str, depth: int) -> None:
        op_type = domain = name = ""
        for sub in fields(self.buf, item.value, item.end, self.budget):
            if sub.wire != LENGTH:
                continue
            if sub.number == 4:
                op_type = text(self.buf, sub)
            elif sub.number == 7:
                domain = text(self.buf, sub)
            elif sub.number == 3:
                name = text(self.buf, sub)
            elif sub.number == 5:
                self.attribute(sub, path, depth)
        if domain not in STANDARD_DOMAINS:
            self.operators.setdefault((domain, op_type), Usage(path)).add(name)

    def attribute(self, item: Field, path: str, depth: int) -> None:
        label = "?"  # the name (field 1) comes first in what exporters write
        for sub in fields(self.buf, item.value, item.end, self.budget):
            if sub.wire != LENGTH:
                continue
            if sub.number == 1:
                label = text(self.buf, sub, 256)
            elif sub.number in (5, 10):  # t, tensors
                self.tensor(sub, f"{path}.attribute[{label}]", sparse=False)
            elif sub.number in (22, 23):  # sparse_tensor, sparse_tensors
                self.tensor(sub, f"{path}.attribute[{label}]", sparse=True)
            elif sub.number in (6, 11):  # g, graphs
                self.graph(sub, f"{path}.attribute[{label}]", depth + 1)

    def tensor(self, item: Field, path: str, *, sparse: bool) -> None:
        if sparse:  # SparseTensorProto: values and indices are TensorProtos
            for sub in self._messages(item.value, item.end, {1, 2}):
                self.tensor(sub, path, sparse=False)
            return
        name = ""  # exporters write the name (field 8) before external_data (field 13)
        for sub in fields(self.buf, item.value, item.end, self.budget):
            if sub.number == 8 and sub.wire == LENGTH:
                name = text(self.buf, sub, 256)
            elif sub.number == 13 and sub.wire == LENGTH:
                pair = {
                    e.number: text(self.buf, e)
                    for e in fields(self.buf, sub.value, sub.end, self.budget)
                    if e.wire == LENGTH and e.number in (1, 2)
                }
                key, value = pair.get(1, ""), pair.get(2, "")
                if key == "location":
                    self.locations.setdefault(value, Usage(path)).add(name)
                elif key not in EXTERNAL_DATA_KEYS:
                    self.odd_keys.setdefault(key, Usage(path)).add(name)

    def _messages(self, start: int, end: int, numbers: set[int]) -> Iterator[Field]:
        for sub in fields(self.buf, start, end, self.budget):
            if sub.number in numbers and sub.wire == LENGTH:
                yield sub


def escape(location: str) -> str | None:
    """Why an external-data location reaches outside the model folder, or None if it stays inside."""
    if "\x00" in location:
        return "contains a NUL byte"
    normal = location.replace("\\", "/")
    if normal.startswith("/") or _DRIVE.match(normal):
        return "is an absolute path"
    if ".." in normal.split("/"):
        return "climbs out of the model folder with '..'"
    return None


class OnnxGraph(ArtifactScanner):
    """Walks ONNX graphs for external-data path traversal and operators that need native code.

    ## Why it matters
    A tensor's `external_data` `location` names the side file a loader reads (and writes on save):
    absolute paths and `..` read any file the process can reach (CVE-2022-25882, CVE-2024-27318,
    CVE-2025-51480). Unknown external-data keys overwrite attributes of onnx's own objects
    (CVE-2026-34445). Operators from custom domains need a native custom-op library to run (a library
    shipped beside the model is the native_binaries scanner's AIR630).

    ## What it checks
    Every tensor (initializers, sparse initializers, attribute tensors, in the main graph, its
    subgraphs, model-local functions and training graphs): absolute or `..` locations are AIR521
    (critical); keys other than location/offset/length/checksum/basepath are AIR524, medium, and high
    when the key starts with `_` (`__dict__`, `__class__`: onnx's own object). Nodes in a domain other
    than `ai.onnx`, `ai.onnx.ml`, `ai.onnx.preview.training` or `com.microsoft`, and not defined as a
    function inside the model, are AIR522 (medium), once per operator. A model that cannot be parsed
    to its end is AIR523; what was read before the break is still judged.

    ## Example
    `model.onnx#graph.initializer[0]` stores its data at `../../../../etc/passwd`: AIR521 (critical).

    ## References
    - AML.T0010.003, CWE-22, CVE-2022-25882, CVE-2024-27318, CVE-2025-51480, CVE-2026-34445
    """

    name = "onnx_graph"
    version = "2"
    formats: ClassVar[frozenset[Format]] = frozenset({Format.ONNX})
    rules: ClassVar[frozenset[str]] = frozenset({"AIR521", "AIR522", "AIR523", "AIR524"})

    def scan(self, artifact: Artifact, ctx: ScanContext) -> Iterator[Finding]:
        limits = ctx.limits
        with mapped(artifact.location) as buf:
            walk = ModelWalk(buf, Budget(limits))
            try:
                walk.model()
                broken = None
            except ParseError as exc:
                broken = exc
        yield from self._judge(walk, artifact, ctx)
        if broken is not None:
            yield ctx.finding(
                "AIR523",
                self.name,
                artifact.path,
                f"{artifact.path}@byte:{broken.offset}",
                f"ONNX model cannot be parsed to its end: {broken.what}",
                {"offset": broken.offset},
            )

    def _judge(self, walk: ModelWalk, artifact: Artifact, ctx: ScanContext) -> Iterator[Finding]:
        for value, usage in walk.locations.items():
            why = escape(value)
            if why is not None:
                yield ctx.finding(
                    "AIR521",
                    self.name,
                    artifact.path,
                    f"{artifact.path}#{usage.location}",
                    f"external data location {value[:200]!r} {why}",
                    {"location": value, "reason": why, "tensors": usage.count, "tensor_names": usage.names},
                )
        for key, usage in walk.odd_keys.items():
            private = key.startswith(
                "_"
            )  # `__dict__`, `__class__`, `_x`: the loader's own object, not a stray field
            what = (
                " and starts with '_': setattr reaches the loader's own private and dunder attributes"
                if private
                else ""
            )
            yield ctx.finding(
                "AIR524",
                self.name,
                artifact.path,
                f"{artifact.path}#{usage.location}",
                f"external data key {key[:100]!r} is not one onnx defines{what}",
                {"key": key, "private": private, "tensors": usage.count, "tensor_names": usage.names},
                Severity.HIGH if private else None,
            )
        for (domain, op_type), usage in walk.operators.items():
            if (domain, op_type) in walk.local_functions:
                continue
            yield ctx.finding(
                "AIR522",
                self.name,
                artifact.path,
                f"{artifact.path}#{usage.location}",
                f"operator {op_type[:100]} from custom domain {domain[:100]!r} ({usage.count} node(s))",
                {"domain": domain, "op_type": op_type, "nodes": usage.count, "node_names": usage.names},
            )
