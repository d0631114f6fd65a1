"""The savedmodel_graph scanner: TensorFlow SavedModel graphs, read without importing TensorFlow.

`saved_model.pb` is parsed with the bounded protobuf reader: SavedModel → MetaGraphDef → GraphDef
nodes and the function library. Each node's op is looked up in `signatures/savedmodel-ops.toml`;
for checkpoint and file ops the inputs are traced back through the graph to tell a path the loader
feeds (the normal case) from one fixed in the graph. Field numbers are those of
`tensorflow/core/protobuf/{saved_model,meta_graph}.proto` and `tensorflow/core/framework/*.proto`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from airlock.artifacts import Artifact
from airlock.findings import Finding
from airlock.formats import Format
from airlock.parsers.buffers import Buffer, mapped
from airlock.parsers.errors import ParseError
from airlock.parsers.limits import Budget
from airlock.parsers.protobuf import LENGTH, Field, fields, strings, text
from airlock.rules import read_signature_toml
from airlock.scanning import ArtifactScanner, ScanContext

FEED_OPS = frozenset({"Placeholder", "PlaceholderWithDefault", "PlaceholderV2"})
MAX_TRACE = 256  # nodes visited when tracing one input back to its sources
MAX_STRING_VALUES = 8  # string constants kept per Const node
EXAMPLES = 5


@dataclass(frozen=True)
class OpRule:
    rule: str
    reason: str
    when: str
    inputs: tuple[int, ...]
    attr: str
    prefixes: tuple[str, ...]


@functools.cache
def op_rules() -> dict[str, tuple[OpRule, ...]]:
    table: dict[str, list[OpRule]] = {}
    for entry in read_signature_toml("savedmodel-ops.toml")["op"]:
        rule = OpRule(
            rule=entry["rule"],
            reason=entry["reason"],
            when=entry.get("when", "always"),
            inputs=tuple(entry.get("inputs", ())),
            attr=entry.get("attr", ""),
            prefixes=tuple(entry.get("prefixes", ())),
        )
        table.setdefault(entry["name"], []).append(rule)
    return {op: tuple(rules) for op, rules in table.items()}


@dataclass
class Node:
    index: int
    name: str
    op: str
    inputs: list[str]  # data inputs only (control inputs dropped), as node names
    attrs: dict[str, list[str]]  # string-valued attributes (s, list.s, tensor string_val)


@dataclass
class Scope:
    """One graph: the top-level GraphDef or a library function."""

    label: str
    node_field: str
    nodes: list[Node] = field(default_factory=list)
    by_name: dict[str, Node] = field(
        default_factory=dict
    )  # the first node of each name (inputs resolve to it)
    arguments: set[str] = field(default_factory=set)


@dataclass
class MetaGraph:
    index: int
    tags: list[str] = field(default_factory=list)
    scopes: list[Scope] = field(default_factory=list)
    fed: set[str] = field(default_factory=set)  # node names the loader feeds: saver filename, asset paths


@dataclass
class Hit:
    rule: OpRule
    op: str
    location: str
    nodes: list[str]
    detail: dict[str, Any]
    count: int = 1


class SavedModelReader:
    """Collects the meta graphs of a SavedModel buffer; on a parse error, keeps what came before it."""

    def __init__(self, buf: Buffer, budget: Budget) -> None:
        self.buf, self.budget = buf, budget
        self.meta_graphs: list[MetaGraph] = []

    def read(self) -> None:
        for item in self._messages(0, len(self.buf), 2):
            meta = MetaGraph(len(self.meta_graphs))
            self.meta_graphs.append(meta)
            self._meta_graph(item, meta)

    def _meta_graph(self, item: Field, meta: MetaGraph) -> None:
        base = f"meta_graphs[{meta.index}]"
        for sub in fields(self.buf, item.value, item.end, self.budget):
            if sub.wire != LENGTH:
                continue
            if sub.number == 1:  # MetaInfoDef.tags
                meta.tags += strings(self.buf, sub.value, sub.end, 4, self.budget, 256)
            elif sub.number == 2:
                self._graph(sub, meta, f"{base}.graph_def")
            elif sub.number == 3:  # SaverDef.filename_tensor_name
                meta.fed.update(_node_name(s) for s in strings(self.buf, sub.value, sub.end, 1, self.budget))
            elif sub.number == 6:  # AssetFileDef.tensor_info.name
                for info in self._messages(sub.value, sub.end, 1):
                    meta.fed.update(
                        _node_name(s) for s in strings(self.buf, info.value, info.end, 1, self.budget)
                    )

    def _graph(self, item: Field, meta: MetaGraph, label: str) -> None:
        scope = Scope(label, "node")
        meta.scopes.append(scope)
        for sub in fields(self.buf, item.value, item.end, self.budget):
            if sub.wire != LENGTH:
                continue
            if sub.number == 1:
                self._node(sub, scope)
            elif sub.number == 2:  # FunctionDefLibrary.function
                for function in self._messages(sub.value, sub.end, 1):
                    self._function(function, meta, f"{label}.library")

    def _function(self, item: Field, meta: MetaGraph, library: str) -> None:
        scope = Scope(f"{library}.function[?]", "node_def")
        meta.scopes.append(scope)
        for sub in fields(self.buf, item.value, item.end, self.budget):
            if sub.wire != LENGTH:
                continue
            if sub.number == 1:  # OpDef: name, input_arg[].name
                for part in fields(self.buf, sub.value, sub.end, self.budget):
                    if part.number == 1 and part.wire == LENGTH:
                        scope.label = f"{library}.function[{text(self.buf, part, 512)}]"
                    elif part.number == 2 and part.wire == LENGTH:
                        scope.arguments.update(strings(self.buf, part.value, part.end, 1, self.budget, 512))
            elif sub.number == 3:
                self._node(sub, scope)

    def _node(self, item: Field, scope: Scope) -> None:
        node = Node(len(scope.nodes), "", "", [], {})
        scope.nodes.append(node)  # before its fields: a node cut short is still judged by what it has
        for sub in fields(self.buf, item.value, item.end, self.budget):
            if sub.wire != LENGTH:
                continue
            if sub.number == 1:
                node.name = text(self.buf, sub, 512)
            elif sub.number == 2:
                node.op = text(self.buf, sub, 256)
            elif sub.number == 3:
                ref = text(self.buf, sub, 512)
                if not ref.startswith("^"):
                    node.inputs.append(_node_name(ref))
            elif sub.number == 5:
                key, values = self._attr(sub)
                node.attrs[key] = values
        scope.by_name.setdefault(node.name, node)

    def _attr(self, item: Field) -> tuple[str, list[str]]:
        """A NodeDef attr map entry: its key and the strings in its AttrValue (s, list.s, tensor string_val)."""
        key, values = "", list[str]()
        for sub in fields(self.buf, item.value, item.end, self.budget):
            if sub.number == 1 and sub.wire == LENGTH:
                key = text(self.buf, sub, 256)
            elif sub.number == 2 and sub.wire == LENGTH:
                for value in fields(self.buf, sub.value, sub.end, self.budget):
                    if value.wire != LENGTH or len(values) >= MAX_STRING_VALUES:
                        continue
                    if value.number == 2:  # s
                        values.append(text(self.buf, value))
                    elif value.number in (1, 8):  # list.s, tensor.string_val
                        values += strings(
                            self.buf, value.value, value.end, 2 if value.number == 1 else 8, self.budget
                        )
        return key, values[:MAX_STRING_VALUES]

    def _messages(self, start: int, end: int, number: int) -> Iterator[Field]:
        for sub in fields(self.buf, start, end, self.budget):
            if sub.number == number and sub.wire == LENGTH:
                yield sub


def _node_name(ref: str) -> str:
    """`node:0`, `node:output:0`, `^node` → `node` (a function argument name stays as it is)."""
    return ref.lstrip("^").split(":", 1)[0]


def trace_constants(scope: Scope, start: str, fed: set[str]) -> list[str] | None:
    """The string constants an input is computed from, or None if any source is fed at run time
    (a placeholder, a function argument, the saver's filename, an asset path) or is not a constant."""
    constants: list[str] = []
    stack, seen = [start], set()
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        node = scope.by_name.get(name)
        if (
            len(seen) > MAX_TRACE
            or name in fed
            or name in scope.arguments
            or node is None
            or node.op in FEED_OPS
        ):
            return None
        if node.op == "Const":
            constants += node.attrs.get("value", [])
        elif not node.inputs:
            return None  # a variable, a random op, a reader…: not fixed in the graph
        else:
            stack.extend(node.inputs)
    return constants or None


def match(rule: OpRule, node: Node, scope: Scope, fed: set[str]) -> dict[str, Any] | None:
    """Evidence if `rule` applies to `node`, else None."""
    if rule.when == "always":
        return {}
    if rule.when == "constant-path":
        paths: list[str] = []
        for index in rule.inputs:
            if index >= len(node.inputs):
                continue
            found = trace_constants(scope, node.inputs[index], fed)
            if found is None:
                return None
            paths += found
        return {"paths": paths[:EXAMPLES]} if paths else None
    values = node.attrs.get(rule.attr, [])
    if rule.when == "attr-prefix":
        hits = [v for v in values if v.startswith(rule.prefixes)]
    else:
        hits = [v for v in values if v and not v.startswith(rule.prefixes)]
    return {rule.attr: hits[:EXAMPLES]} if hits else None


class SavedModelGraph(ArtifactScanner):
    """Flags TensorFlow ops in a SavedModel that run Python, write or read files, or use the network.

    ## Why it matters
    A SavedModel is a program: its graph runs when the model is served. TensorFlow's own security
    model says so: ops like `WriteFile`, `ReadFile`, `MatchingFiles`, `PyFunc` and debug ops with
    `file://` or `grpc://` URLs let a model write, read and send data. Every SavedModel also holds
    `SaveV2`/`RestoreV2` for its checkpoint; those are normal as long as the loader feeds the path.

    ## What it checks
    Every node of every meta graph and library function, against `signatures/savedmodel-ops.toml`:
    Python callbacks AIR541 (critical), file writes AIR542 (critical), file reads AIR543 (high),
    network AIR544 (critical). Checkpoint, table and dataset ops count only when their path input
    comes from string constants alone, not from a placeholder, function argument, the saver's
    filename tensor or an asset. One finding per op and graph, with the node count. A file that
    cannot be parsed to its end is AIR540; what was read before the break is still judged.

    ## Example
    `saved_model.pb#meta_graphs[0].graph_def.node[3]`: `SaveV2` whose prefix is the constant
    `/tmp/x/ckpt`: AIR542 (critical).

    ## References
    - AML.T0010.003, AML.T0011.000, CWE-73
    - https://github.com/tensorflow/tensorflow/blob/master/SECURITY.md
    """

    name = "savedmodel_graph"
    version = "1"
    formats: ClassVar[frozenset[Format]] = frozenset({Format.TF_SAVEDMODEL})
    rules: ClassVar[frozenset[str]] = frozenset({"AIR540", "AIR541", "AIR542", "AIR543", "AIR544"})

    def scan(self, artifact: Artifact, ctx: ScanContext) -> Iterator[Finding]:
        limits = ctx.limits
        with mapped(artifact.location) as buf:
            reader = SavedModelReader(buf, Budget(limits))
            try:
                reader.read()
                broken = None
            except ParseError as exc:
                broken = exc
        for hit in self._hits(reader.meta_graphs):
            yield ctx.finding(
                hit.rule.rule,
                self.name,
                artifact.path,
                f"{artifact.path}#{hit.location}",
                f"{hit.op}: {hit.rule.reason}" + (f" ({hit.count} nodes)" if hit.count > 1 else ""),
                {
                    "op": hit.op,
                    "reason": hit.rule.reason,
                    "nodes": hit.count,
                    "node_names": hit.nodes,
                    **hit.detail,
                },
            )
        if broken is not None:
            yield ctx.finding(
                "AIR540",
                self.name,
                artifact.path,
                f"{artifact.path}@byte:{broken.offset}",
                f"SavedModel cannot be parsed to its end: {broken.what}",
                {"offset": broken.offset},
            )

    def _hits(self, meta_graphs: list[MetaGraph]) -> Iterator[Hit]:
        table = op_rules()
        for meta in meta_graphs:
            for scope in meta.scopes:
                grouped: dict[tuple[str, str], Hit] = {}
                for node in scope.nodes:
                    for rule in table.get(node.op, ()):
                        detail = match(rule, node, scope, meta.fed)
                        if detail is None:
                            continue
                        hit = grouped.get((rule.rule, node.op))
                        if hit is None:
                            location = f"{scope.label}.{scope.node_field}[{node.index}]"
                            grouped[(rule.rule, node.op)] = Hit(rule, node.op, location, [node.name], detail)
                        else:
                            hit.count += 1
                            if len(hit.nodes) < EXAMPLES:
                                hit.nodes.append(node.name)
                yield from grouped.values()
