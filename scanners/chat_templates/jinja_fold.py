"""A bounded constant folder for Jinja expressions: which strings an attribute name can be at runtime.

Escapes hide their dunder names from a plain search: `'__glo' ~ 'bals__'`, `'__slabolg__'|reverse`,
`['__glo', 'bals__']|join`, `'%c%c' % (95, 95)`, `dict(__globals__=1)|first`, or a name assembled in a
`{% set %}`. `Folder` evaluates the pure, bounded string operations that build such names (never a
call into the template, never anything it could make expensive) and says "unknown" for the rest.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator

from jinja2 import Environment, TemplateError, meta, nodes
from jinja2.compiler import CodeGenerator

Value = str | int | tuple  # what an expression may evaluate to: strings, ints, and tuples (lists, dict keys)
Values = frozenset[Value]
MAX_CANDIDATES = 64  # values one expression may take before it counts as unknown
MAX_STRING = 4096
ROUNDS = (
    8  # passes over the assignments, so that names built from names resolve (then: a fixpoint or unknown)
)
_PERCENT_FIELD = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")


class _Unknown(Exception):
    """The value cannot be known within the bounds (too long, too many candidates, unsupported)."""


class Folder:
    """Every value an expression may take, flow-insensitively, or None when that is unknown.

    Names get the union of everything assigned to them (`set`, `for`, `with`, macro defaults and call
    arguments, `namespace(...)` fields); a name assigned something unknown is unknown. The union is a
    fixpoint: a name whose values still grow after ROUNDS passes (`{% set ns.n = ns.n ~ c %}` in a
    loop) is unknown, since the loop decides how long it gets. A name jinja2 may also take from the
    render context (`find_undeclared_variables`: read before it is set, or set on one branch only) is
    unknown, and so are the parameters of a macro that is used other than by a direct call with plain
    arguments. Only pure, bounded string operations are evaluated; nothing from the template is called.
    """

    def __init__(self, tree: nodes.Template) -> None:
        self._table: dict[str, Values | None] = {}
        self._cache: dict[int, Values | None] = {}
        self._context = _context_names(tree)
        self._namespaces = _namespace_names(tree)
        sites = list(_sites(tree))
        for _ in range(ROUNDS):
            if not self._round(sites):
                break
        else:
            while self._round(sites, unsettled_to_unknown=True):
                pass
        self._cache.clear()

    def _round(
        self, sites: list[tuple[str, bool, nodes.Node | None]], unsettled_to_unknown: bool = False
    ) -> bool:
        """One pass over the bindings; whether any name gained values (which then become unknown, if asked)."""
        before = dict(self._table)
        for key, each, expr in sites:
            self._cache.clear()
            values = None if expr is None else self.fold(expr)
            if each and values is not None:
                values = self._elements(values)
            self._merge(key, values)
        changed = {key for key, values in self._table.items() if key not in before or before[key] != values}
        if unsettled_to_unknown:
            for key in changed:
                self._table[key] = None
        return bool(changed)

    def is_namespace(self, name: str) -> bool:
        """Whether `name` is only ever the template's own `namespace(k=...)`."""
        return name in self._namespaces and not self.may_come_from_context(name)

    def may_come_from_context(self, name: str) -> bool:
        """Whether jinja2 may resolve `name` from the render context (or does not know)."""
        return self._context is None or name in self._context

    def binds(self, name: str) -> bool:
        """Whether the template assigns `name` itself (`set`, `for`, `with`, a macro argument)."""
        return name in self._table

    def strings(self, node: nodes.Node) -> frozenset[str] | None:
        values = self.fold(node)
        return None if values is None else frozenset(v for v in values if isinstance(v, str))

    def fold(self, node: nodes.Node) -> Values | None:
        key = id(node)
        if key not in self._cache:
            self._cache[key] = None
            try:
                self._cache[key] = self._fold(node)
            except _Unknown:
                pass
        return self._cache[key]

    def _merge(self, key: str, values: Values | None) -> None:
        if key in self._table and self._table[key] is None:
            return
        merged = None if values is None else values | (self._table.get(key) or frozenset())
        self._table[key] = merged if merged is not None and len(merged) <= MAX_CANDIDATES else None

    def _elements(self, values: Values) -> Values | None:
        found: set[Value] = set()
        for v in values:
            if isinstance(v, int):
                return None
            found.update(v)
        return frozenset(found) if len(found) <= MAX_CANDIDATES else None

    def _fold(self, node: nodes.Node) -> Values | None:
        if isinstance(node, nodes.Const):
            return frozenset({node.value}) if _fits(node.value) else None
        if isinstance(node, nodes.TemplateData):
            return frozenset({node.data}) if _fits(node.data) else None
        if isinstance(node, nodes.Name):
            return None if self.may_come_from_context(node.name) else self._table.get(node.name)
        if isinstance(node, nodes.Getattr) and isinstance(node.node, nodes.Name):
            ns = (
                node.node.name
            )  # a namespace() field, when the name is only ever a namespace(...) of the template's
            known = ns in self._namespaces and not self.may_come_from_context(ns)
            return self._table.get(f"{ns}.{node.attr}") if known else None
        if isinstance(node, (nodes.Tuple, nodes.List)):
            return _product(lambda *items: items, [self.fold(i) for i in node.items])
        if isinstance(node, nodes.Dict):
            return _product(lambda *keys: keys, [self.fold(p.key) for p in node.items])
        if isinstance(node, nodes.Concat):
            return _product(lambda *parts: "".join(map(_text, parts)), [self.fold(n) for n in node.nodes])
        if isinstance(node, (nodes.Add, nodes.Mul, nodes.Mod)):
            operation = {nodes.Add: _add, nodes.Mul: _mul, nodes.Mod: _percent}[type(node)]
            return _product(operation, [self.fold(node.left), self.fold(node.right)])
        if isinstance(node, nodes.Neg):
            return _product(_negate, [self.fold(node.node)])
        if isinstance(node, nodes.CondExpr):
            options = [self.fold(e) for e in (node.expr1, node.expr2) if e is not None]
            return None if None in options else frozenset().union(*options)  # type: ignore[arg-type]
        if isinstance(node, nodes.Getitem):
            return self._subscript(node)
        if isinstance(node, nodes.Filter):
            return self._filter(node)
        if isinstance(node, nodes.Call):
            return self._call(node)
        return None

    def _subscript(self, node: nodes.Getitem) -> Values | None:
        if isinstance(node.arg, nodes.Slice):
            parts = [
                frozenset({None}) if e is None else self.fold(e)
                for e in (node.arg.start, node.arg.stop, node.arg.step)
            ]
            return _product(lambda v, *s: v[slice(*s)], [self.fold(node.node), *parts])  # type: ignore[list-item]
        return _product(lambda v, i: v[i], [self.fold(node.node), self.fold(node.arg)])

    def _filter(self, node: nodes.Filter) -> Values | None:
        if node.node is None or node.kwargs or node.dyn_args or node.dyn_kwargs:
            return None
        if node.name in ("default", "d"):
            base = self.fold(node.node)
            return base if base is not None else (self.fold(node.args[0]) if node.args else None)
        operation = _FILTERS.get(node.name)
        if operation is None:
            return None
        return _product(operation, [self.fold(node.node), *(self.fold(a) for a in node.args)])

    def _call(self, node: nodes.Call) -> Values | None:
        callee = node.node
        if isinstance(callee, nodes.Name) and callee.name == "dict" and not node.args:
            return frozenset({tuple(k.key for k in node.kwargs)})  # dict(__globals__=1): its keys
        if node.kwargs or node.dyn_args or node.dyn_kwargs or not isinstance(callee, nodes.Getattr):
            return None
        operation = _METHODS.get(callee.attr)
        if operation is None:
            return None
        return _product(operation, [self.fold(callee.node), *(self.fold(a) for a in node.args)])


def _sites(tree: nodes.Template) -> Iterator[tuple[str, bool, nodes.Node | None]]:
    """(name, iterated?, expression) for every place a template binds a name."""
    macros: dict[str, list[str]] = {}
    for node in tree.find_all((nodes.Assign, nodes.AssignBlock, nodes.For, nodes.With, nodes.Macro)):
        if isinstance(node, nodes.Assign):
            yield from _bind(node.target, node.node)
            value = node.node
            if (
                isinstance(node.target, nodes.Name)
                and isinstance(value, nodes.Call)
                and _named(value.node, "namespace")
            ):
                yield from ((f"{node.target.name}.{k.key}", False, k.value) for k in value.kwargs)
        elif isinstance(node, nodes.AssignBlock):
            outputs = all(isinstance(b, nodes.Output) for b in node.body) and node.filter is None
            body = nodes.Concat([n for b in node.body for n in b.nodes]) if outputs else None
            yield from _bind(node.target, body)
        elif isinstance(node, nodes.For):
            yield from ((k, True, e) for k, _, e in _bind(node.target, node.iter))
        elif isinstance(node, nodes.With):
            for target, value in zip(node.targets, node.values, strict=False):
                yield from _bind(target, value)
        else:
            macros[node.name] = [a.name for a in node.args]
            defaults = dict(zip(reversed(node.args), reversed(node.defaults), strict=False))
            yield from ((a.name, False, d) for a, d in defaults.items())
    calls = [c for c in tree.find_all(nodes.Call) if isinstance(c.node, nodes.Name) and c.node.name in macros]
    callees = {id(c.node) for c in calls}
    aliased = {
        n.name
        for n in tree.find_all(nodes.Name)
        if n.name in macros and n.ctx == "load" and id(n) not in callees
    }
    for call in calls:
        params = macros[call.node.name]  # type: ignore[attr-defined]
        if call.node.name in aliased or call.dyn_args is not None or call.dyn_kwargs is not None:  # type: ignore[attr-defined]
            yield from ((p, False, None) for p in params)  # called through an alias or with *args: unknown
            continue
        yield from ((p, False, a) for p, a in zip(params, call.args, strict=False))
        yield from ((k.key, False, k.value) for k in call.kwargs if k.key in params)
    for name in aliased:
        yield from ((p, False, None) for p in macros[name])


def _context_names(tree: nodes.Template) -> frozenset[str] | None:
    """Names jinja2 would look up in the render context; None when its code generator refuses the tree."""
    codegen = _Tracking(tree.environment)  # type: ignore[arg-type]
    try:
        codegen.visit(tree)  # generates Python source as text into a sink; never compiles or runs it
        return frozenset(codegen.undeclared_identifiers)
    except (TemplateError, RecursionError, ValueError, TypeError, AttributeError, KeyError):
        return None


class _Tracking(meta.TrackingCodeGenerator):
    """`meta.find_undeclared_variables`' generator without the optimizer, which would fold the tree in place."""

    def __init__(self, environment: Environment) -> None:
        CodeGenerator.__init__(self, environment, "<introspection>", "<introspection>", optimized=False)
        self.undeclared_identifiers: set[str] = set()


def _namespace_names(tree: nodes.Template) -> frozenset[str]:
    """Names bound only ever to `namespace(k=...)` (no positional or ** arguments), whose fields can be folded."""
    bound: dict[str, bool] = {}
    for node in tree.find_all(
        (nodes.Assign, nodes.For, nodes.With, nodes.Macro, nodes.CallBlock, nodes.AssignBlock)
    ):
        for target in _targets(node):
            plain = (isinstance(node, nodes.Assign) and target is node.target and isinstance(node.node, nodes.Call)
                     and _named(node.node.node, "namespace") and not node.node.args and node.node.dyn_args is None
                     and node.node.dyn_kwargs is None)  # fmt: skip
            bound[target.name] = bound.get(target.name, True) and plain
    return frozenset(name for name, plain in bound.items() if plain)


def _targets(node: nodes.Node) -> Iterator[nodes.Name]:
    if isinstance(node, (nodes.Assign, nodes.AssignBlock, nodes.For)):
        roots: list[nodes.Node] = [node.target]
    elif isinstance(node, nodes.With):
        roots = list(node.targets)
    else:
        roots = list(node.args)  # type: ignore[attr-defined]
    for root in roots:
        if isinstance(root, nodes.Name):
            yield root
        elif isinstance(root, nodes.Tuple):
            yield from (item for item in root.items if isinstance(item, nodes.Name))


def _bind(target: nodes.Node, value: nodes.Node | None) -> Iterator[tuple[str, bool, nodes.Node | None]]:
    if isinstance(target, nodes.Name):
        yield target.name, False, value
    elif isinstance(target, nodes.NSRef):
        yield f"{target.name}.{target.attr}", False, value
    elif isinstance(target, nodes.Tuple):
        same = isinstance(value, (nodes.Tuple, nodes.List)) and len(value.items) == len(target.items)
        for i, item in enumerate(target.items):
            yield from _bind(item, value.items[i] if same else None)  # type: ignore[union-attr]


def _named(node: nodes.Node, name: str) -> bool:
    return isinstance(node, nodes.Name) and node.name == name


def _product(operation: object, inputs: list[Values | None]) -> Values | None:
    if any(values is None for values in inputs):
        return None
    combinations = 1
    for values in inputs:
        combinations *= len(values)  # type: ignore[arg-type]
    if combinations > MAX_CANDIDATES * 4:
        return None
    results: set[Value] = set()
    stack: list[tuple[Value, ...]] = [()]
    for values in inputs:
        stack = [(*prefix, v) for prefix in stack for v in values]  # type: ignore[union-attr]
    for args in stack:
        try:
            result = operation(*args)  # type: ignore[operator]
        except (TypeError, ValueError, IndexError, KeyError, OverflowError, AttributeError):
            continue  # this combination fails at render time too
        if not _fits(result):
            raise _Unknown
        results.add(result)
    return frozenset(results) if len(results) <= MAX_CANDIDATES else None


def _fits(value: object) -> bool:
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, str):
        return len(value) <= MAX_STRING
    if isinstance(value, int):
        return abs(value) <= 1 << 64
    return isinstance(value, tuple) and len(value) <= 256 and all(_fits(v) for v in value)


def _text(value: Value) -> str:
    if isinstance(value, tuple):
        raise TypeError("a list renders as its repr")
    return str(value)


def _add(left: Value, right: Value) -> Value:
    if type(left) is not type(right):
        raise TypeError("mixed operands")
    return left + right  # type: ignore[operator]


def _mul(left: Value, right: Value) -> Value:
    if isinstance(left, int) and not isinstance(right, int):
        left, right = right, left
    if not isinstance(right, int) or (not isinstance(left, int) and len(left) * max(right, 0) > MAX_STRING):
        raise _Unknown
    return left * right  # type: ignore[operator]


def _negate(value: Value) -> int:
    if not isinstance(value, int):
        raise TypeError("only numbers negate")
    return -value


def _percent(fmt: Value, *args: Value) -> str:
    """`fmt % args` for `%`-formats without width or precision tricks (`%999999999d` is unknown)."""
    if not isinstance(fmt, str):
        raise TypeError("not a format string")
    for match in _PERCENT_FIELD.finditer(fmt):
        if any(g == "*" or (g is not None and int(g) > 64) for g in match.groups()):
            raise _Unknown
    operands = args[0] if len(args) == 1 and isinstance(args[0], tuple) else args
    return fmt % operands


def _braces(fmt: Value, *args: Value) -> str:
    """`fmt.format(*args)` for plain `{}` / `{0}` fields only; anything richer is unknown."""
    if not isinstance(fmt, str):
        raise TypeError("not a format string")
    out: list[str] = []
    auto = 0
    for literal, name, spec, conversion in string.Formatter().parse(fmt):
        out.append(literal)
        if name is None:
            continue
        if spec or conversion or not (name == "" or name.isdigit()):
            raise _Unknown
        index = auto if name == "" else int(name)
        auto += name == ""
        out.append(_text(args[index]))
    return "".join(out)


def _join(value: Value, separator: Value = "") -> str:
    if not isinstance(separator, str) or isinstance(value, int):
        raise TypeError("join needs a sequence and a string")
    parts = [_text(v) for v in value]
    if sum(map(len, parts)) + len(separator) * len(parts) > MAX_STRING:
        raise _Unknown
    return separator.join(parts)


def _replace(value: Value, old: Value, new: Value, count: Value = -1) -> str:
    if not (
        isinstance(value, str) and isinstance(old, str) and isinstance(new, str) and isinstance(count, int)
    ):
        raise TypeError("replace needs strings")
    if len(value) + (len(value) + 1) * len(new) > MAX_STRING:
        raise _Unknown
    return value.replace(old, new, count)


def _string_method(name: str) -> object:
    def call(value: Value, *args: Value) -> Value:
        if not isinstance(value, str) or not all(isinstance(a, str) for a in args):
            raise TypeError("string methods take strings")
        result = getattr(value, name)(*args)
        return tuple(result) if isinstance(result, list) else result

    return call


_STRING_METHODS = ("upper", "lower", "title", "capitalize", "swapcase", "strip", "lstrip", "rstrip",
                   "removeprefix", "removesuffix", "split")  # fmt: skip
_METHODS: dict[str, object] = {name: _string_method(name) for name in _STRING_METHODS} | {
    "format": _braces, "join": lambda sep, value: _join(value, sep), "replace": _replace, "keys": lambda v: v,
}  # fmt: skip
_FILTERS: dict[str, object] = {
    "join": _join, "replace": _replace, "format": _percent, "reverse": lambda v: v[::-1],
    "first": lambda v: v[0], "last": lambda v: v[-1], "list": lambda v: tuple(v) if isinstance(v, str) else v,
    "string": _text, "lower": _string_method("lower"), "upper": _string_method("upper"),
    "title": _string_method("title"), "capitalize": _string_method("capitalize"), "trim": _string_method("strip"),
}  # fmt: skip
