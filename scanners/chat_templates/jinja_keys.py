"""Which lookup keys in a Jinja template are harmless although they are not constants.

jinja2 resolves `obj[key]` as `obj.__getitem__(key)` and, when that fails and `key` is a string,
falls back to `getattr(obj, key)` (and `obj.name` falls back the other way). So a subscript whose key
is a string nobody can work out before rendering is an attribute lookup by a computed name: the shape
of a sandbox escape whose name is hidden in a loop, a macro argument or a chat message. `Keys` says
when such a key is harmless all the same:

- it can never be a string (`KeyKind.NUMBER`): integer literals, arithmetic (`-`, `/`, `//`, `**`,
  unary minus; `+`, `*` and `%` only when their operands are numbers too), comparisons and tests,
  `loop.index0` and kin, `|length`, `|count`, `|int`, `|float`, `|round`, `|abs`, `|sum`, and names
  bound only to such values (`{% for i in range(n) %}`). A number or a slice indexes a sequence: jinja2
  never turns it into an attribute name;
- it is a key the subscripted mapping is known to hold (`KeyKind.OWN`): `{% for k in X %}…X[k]` or
  `{% for k, v in X|items %}…X[k]` (also `|dictsort`, `X.items()`), with `X` the same expression in both
  places, so `__getitem__` succeeds and nothing falls back to `getattr`;
- the subscripted object is a dict or list literal the template wrote itself (`KeyKind.LITERAL`), as in
  Hermes' `basic_type_map[json_spec.type]`: at worst the fallback reaches one attribute of a builtin
  dict or list, which leads nowhere by itself (a further computed step is judged again, and fails).

Everything else that may be a string is `KeyKind.DYNAMIC`. Names and `namespace()` fields are judged by
all their bindings together; a binding that refers back to itself (`{% set ns.i = ns.i + 1 %}`) adds no
string of its own, so the others decide. A name is "bound only to" something when
every place the template binds it agrees and jinja2 cannot also take it from the render context (a
`{% set %}` inside an `{% if %}` leaves the context's value in place on the other branch).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from jinja2 import nodes

from .jinja_fold import Folder

NUMBER_FILTERS = frozenset({"length", "count", "int", "float", "round", "abs", "sum", "wordcount"})
LOOP_NUMBERS = frozenset(
    {"index", "index0", "revindex", "revindex0", "length", "depth", "depth0", "first", "last"}
)
ALWAYS_NUMBER = (nodes.Compare, nodes.Not, nodes.Test, nodes.Sub, nodes.Div, nodes.FloorDiv, nodes.Pow, nodes.Neg,
                 nodes.Pos)  # fmt: skip
PAIRS = frozenset({"items", "dictsort"})  # `X|items` / `X|dictsort` / `X.items()` yield (key, value) of X


class KeyKind(enum.Enum):
    STATIC = "static"  # the constant folder knows every value
    NUMBER = "number"
    OWN = "own"
    LITERAL = "literal"
    DYNAMIC = "dynamic"


@dataclass(frozen=True, slots=True)
class _Loop:
    """`name` is bound by `{% for %}` to an element (`keys_of` None) or to a key of `keys_of`."""

    iterable: nodes.Node
    keys_of: nodes.Node | None


class Keys:
    def __init__(self, tree: nodes.Template, folder: Folder) -> None:
        self._folder = folder
        self._loops: dict[str, list[_Loop]] = {}
        self._values: dict[
            str, list[nodes.Node | None]
        ] = {}  # every other binding: the value, None if unknown
        for node in tree.find_all((nodes.For, nodes.Assign, nodes.AssignBlock, nodes.With, nodes.Macro, nodes.CallBlock,
                                   nodes.Import, nodes.FromImport)):  # fmt: skip
            self._record(node)

    def kind(self, key: nodes.Node, receiver: nodes.Node | None) -> KeyKind:
        """How the key of `receiver[key]` (or of an attribute-taking filter) is known."""
        if isinstance(key, nodes.Slice):
            return KeyKind.NUMBER
        values = self._folder.fold(key)
        if values is not None:
            return KeyKind.STATIC
        if self.never_string(key):
            return KeyKind.NUMBER
        if receiver is not None and self._own_key(key, receiver):
            return KeyKind.OWN
        if receiver is not None and self._literal(receiver):
            return KeyKind.LITERAL
        return KeyKind.DYNAMIC

    def never_string(self, node: nodes.Node, seen: frozenset[str] = frozenset()) -> bool:
        if isinstance(node, nodes.Const):
            return not isinstance(node.value, str)
        if isinstance(node, ALWAYS_NUMBER):
            return True
        if isinstance(node, (nodes.Add, nodes.Mul, nodes.And, nodes.Or)):
            return self.never_string(node.left, seen) and self.never_string(node.right, seen)
        if isinstance(node, nodes.Mod):
            return self.never_string(node.left, seen)
        if isinstance(node, nodes.CondExpr):
            return self.never_string(node.expr1, seen) and (
                node.expr2 is None or self.never_string(node.expr2, seen)
            )
        if isinstance(node, nodes.Filter):
            if node.name in NUMBER_FILTERS:
                return True
            if node.name in ("default", "d") and node.node is not None:
                return self.never_string(node.node, seen) and all(
                    self.never_string(a, seen) for a in node.args[:1]
                )
            return False
        if isinstance(node, nodes.Getattr) and isinstance(node.node, nodes.Name) and node.node.name == "loop":
            return node.attr in LOOP_NUMBERS and self._unbound("loop")
        if isinstance(node, nodes.Getattr) and isinstance(node.node, nodes.Name):  # a namespace() field
            field = f"{node.node.name}.{node.attr}"
            if not self._folder.is_namespace(node.node.name) or not self._values.get(field):
                return False
            return field in seen or all(
                v is not None and self.never_string(v, seen | {field}) for v in self._values[field]
            )
        if isinstance(node, nodes.Name):
            return self._name_never_string(node.name, seen)
        return False

    # -- bindings --------------------------------------------------------------------------------

    def _record(self, node: nodes.Node) -> None:
        if isinstance(node, nodes.For):
            self._record_loop(node.target, node.iter)
        elif isinstance(node, nodes.Assign):
            self._record_value(node.target, node.node)
            value = node.node
            if isinstance(node.target, nodes.Name) and isinstance(value, nodes.Call):  # namespace(field=...)
                for kwarg in value.kwargs:
                    self._values.setdefault(f"{node.target.name}.{kwarg.key}", []).append(kwarg.value)
        elif isinstance(node, nodes.AssignBlock):
            self._record_value(node.target, None)
        elif isinstance(node, nodes.With):
            for target, value in zip(node.targets, node.values, strict=False):
                self._record_value(target, value)
        elif isinstance(node, (nodes.Macro, nodes.CallBlock)):
            for arg in node.args:
                self._record_value(arg, None)
        elif isinstance(node, nodes.Import):
            self._values.setdefault(node.target, []).append(None)
        elif isinstance(node, nodes.FromImport):
            for name in node.names:
                self._values.setdefault(name if isinstance(name, str) else name[1], []).append(None)

    def _record_loop(self, target: nodes.Node, iterable: nodes.Node) -> None:
        if isinstance(target, nodes.Name):
            self._loops.setdefault(target.name, []).append(_Loop(iterable, None))
            return
        pairs = _pairs_of(iterable)
        if isinstance(target, nodes.Tuple) and len(target.items) == 2 and pairs is not None:
            key, value = target.items
            if isinstance(key, nodes.Name):
                self._loops.setdefault(key.name, []).append(_Loop(iterable, pairs))
            self._record_value(value, None)
            return
        self._record_value(target, None)

    def _record_value(self, target: nodes.Node, value: nodes.Node | None) -> None:
        if isinstance(target, nodes.Name):
            self._values.setdefault(target.name, []).append(value)
        elif isinstance(target, nodes.NSRef):
            self._values.setdefault(f"{target.name}.{target.attr}", []).append(value)
        elif isinstance(target, nodes.Tuple):
            for item in target.items:
                self._record_value(item, None)

    def _unbound(self, name: str) -> bool:
        return name not in self._loops and name not in self._values

    def _from_template_only(self, name: str) -> bool:
        return not self._unbound(name) and not self._folder.may_come_from_context(name)

    def _name_never_string(self, name: str, seen: frozenset[str]) -> bool:
        if not self._from_template_only(name):
            return False
        if name in seen:
            return (
                True  # a cycle (`{% set i = i + 1 %}`) adds no string of its own: the other bindings decide
            )
        seen = seen | {name}
        for loop in self._loops.get(name, ()):
            if loop.keys_of is not None or not self._yields_numbers(loop.iterable, seen):
                return False
        return all(v is not None and self.never_string(v, seen) for v in self._values.get(name, ()))

    def _yields_numbers(self, iterable: nodes.Node, seen: frozenset[str]) -> bool:
        if (
            isinstance(iterable, nodes.Call)
            and isinstance(iterable.node, nodes.Name)
            and iterable.node.name == "range"
        ):
            return self._unbound("range")
        if isinstance(iterable, (nodes.List, nodes.Tuple)):
            return all(self.never_string(item, seen) for item in iterable.items)
        return False

    def _own_key(self, key: nodes.Node, receiver: nodes.Node) -> bool:
        if (
            not isinstance(key, nodes.Name)
            or key.name in self._values
            or not self._from_template_only(key.name)
        ):
            return False
        return all(
            receiver == (loop.keys_of if loop.keys_of is not None else loop.iterable)
            for loop in self._loops[key.name]
        )

    def _literal(self, receiver: nodes.Node) -> bool:
        if isinstance(receiver, (nodes.Dict, nodes.List, nodes.Tuple)):
            return True
        if (
            not isinstance(receiver, nodes.Name)
            or receiver.name in self._loops
            or not self._from_template_only(receiver.name)
        ):
            return False
        return all(isinstance(v, (nodes.Dict, nodes.List, nodes.Tuple)) for v in self._values[receiver.name])


def _pairs_of(iterable: nodes.Node) -> nodes.Node | None:
    """`X` when `iterable` yields X's (key, value) pairs: `X|items`, `X|dictsort`, `X.items()`."""
    if isinstance(iterable, nodes.Filter) and iterable.name in PAIRS and iterable.node is not None:
        return iterable.node
    if (isinstance(iterable, nodes.Call) and isinstance(iterable.node, nodes.Getattr) and iterable.node.attr == "items"
            and not iterable.args):  # fmt: skip
        return iterable.node.node
    return None
