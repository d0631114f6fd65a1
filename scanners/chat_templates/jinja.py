"""Static analysis of Jinja chat templates: jinja2's own parser, a walk over the AST, never a render.

A chat template is code that runs in whatever renders it. transformers uses jinja2's sandbox, but
llama-cpp-python (CVE-2024-34359), SGLang (CVE-2026-5760) and litellm rendered templates with a plain
`Environment`, where `cycler.__init__.__globals__.os` is a shell, and the sandbox itself has been
bypassed through `str.format` (CVE-2016-10745, CVE-2019-10906, CVE-2024-56326, CVE-2025-27516).

`analyse` returns the shapes of those escapes as `Hit`s: attribute chains that reach dunders, globals,
frames or a shell; attribute names built at runtime (`'__glo' ~ 'bals__'`, `|reverse`, `|join`,
`dict(__globals__=1)|first`, ...), resolved by a small bounded constant folder (`Folder`); `str.format`
gadgets; and loads of other templates. The template is parsed, never compiled or rendered.
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import jinja2
from jinja2 import nodes
from jinja2.ext import Extension
from jinja2.parser import Parser
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .jinja_fold import Folder
from .jinja_hits import Hit, Issue
from .jinja_keys import KeyKind, Keys

MAX_TEMPLATE_CHARS = 256 << 10  # real chat templates are tens of kilobytes; jinja2 parses ~400 KB/s
MAX_DETAIL = 160

DUNDER = re.compile(r"__\w+__")
MANGLED = re.compile(r"_[A-Za-z]\w*__\w+")  # `_TemplateReference__context`: a private name, mangled
# Names that hand out module globals, builtins, the subclass list, import machinery, frames or code.
GADGETS = frozenset({
    "__globals__", "__builtins__", "__subclasses__", "__import__", "__loader__", "__spec__", "__code__",
    "__closure__", "func_globals", "f_globals", "f_locals", "f_builtins", "f_back", "gi_frame", "gi_code",
    "cr_frame", "cr_code", "ag_frame", "ag_code", "tb_frame", "tb_next",
})  # fmt: skip
# Attribute names that are a process, a module loader or an evaluator: no chat data is called this.
EXEC_ATTRS = frozenset({
    "os", "subprocess", "popen", "Popen", "import_module", "check_output", "check_call", "getoutput",
    "getstatusoutput", "spawnl", "spawnv", "execl", "execv", "execve", "execvp", "pty", "builtins",
    "__import__", "eval", "exec",
})  # fmt: skip
EXEC_ROOTS = EXEC_ATTRS | {"sys", "importlib", "getattr", "setattr", "globals", "locals", "vars", "open", "compile",
                           "breakpoint", "__builtins__", "posix", "nt"}  # fmt: skip
# Filters that look attributes up by name (`map(attribute='x.y')`, `selectattr('x')`, `sort(attribute=)`).
ATTRIBUTE_FILTERS = frozenset(
    {"map", "selectattr", "rejectattr", "sort", "groupby", "sum", "unique", "min", "max"}
)
# Where a filter takes its attribute name positionally (jinja2.filters: `sort(reverse, case_sensitive, attribute)`).
POSITIONAL_ATTRIBUTE = {"attr": 0, "selectattr": 0, "rejectattr": 0, "groupby": 0, "sum": 0, "sort": 2, "unique": 1,
                        "min": 1, "max": 1}  # fmt: skip
FORMAT_METHODS = frozenset({"format", "format_map"})
LOADS = (nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends)
BUILDERS = (
    nodes.Const,
    nodes.Concat,
    nodes.Add,
    nodes.Mul,
    nodes.Mod,
    nodes.Filter,
    nodes.Call,
    nodes.Getitem,
)
LINKS = (nodes.Getattr, nodes.Getitem, nodes.Call, nodes.Filter, nodes.Test)


class _GenerationTag(Extension):
    """transformers' `{% generation %}…{% endgeneration %}`, parsed to its body (never rendered)."""

    tags = {"generation"}  # noqa: RUF012  jinja2's API

    def parse(self, parser: Parser) -> nodes.Node:
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        return nodes.Scope(body, lineno=lineno)


@functools.cache
def _environment() -> jinja2.Environment:
    # The renderers' settings (transformers: loopcontrols, its generation tag); `do` too, which others enable.
    return ImmutableSandboxedEnvironment(
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.loopcontrols", "jinja2.ext.do", _GenerationTag],
    )


def analyse(source: str) -> list[Hit]:
    """Every suspicious construct in `source`; an unparseable template is one UNPARSEABLE hit."""
    if len(source) > MAX_TEMPLATE_CHARS:
        return [Hit(Issue.UNPARSEABLE, 0, f"{len(source)} characters, over the {MAX_TEMPLATE_CHARS} limit")]
    try:
        tree = _environment().parse(source)
    except jinja2.TemplateSyntaxError as exc:
        return [Hit(Issue.UNPARSEABLE, exc.lineno or 0, f"syntax error: {exc.message}"[:MAX_DETAIL])]
    except (jinja2.TemplateError, RecursionError, ValueError, OverflowError) as exc:
        return [Hit(Issue.UNPARSEABLE, 0, f"{type(exc).__name__}: {exc}"[:MAX_DETAIL])]
    try:
        return list(_Walk(tree).hits())
    except RecursionError:
        return [Hit(Issue.UNPARSEABLE, 0, "nested too deeply to analyse")]


@dataclass
class _Link:
    """One step of an access chain: `.attr`, `[key]`, `(…)`, `|filter(…)`, `is test`."""

    node: nodes.Node
    text: str
    attrs: frozenset[str] = frozenset()  # names looked up as attributes (getattr, |attr)
    keys: frozenset[str] = frozenset()  # constant string subscripts
    weak: frozenset[str] = frozenset()  # strings a filter may use as attribute names
    dynamic: bool = False  # an attribute name that could not be resolved
    side: tuple[nodes.Node, ...] = ()  # argument expressions, walked on their own
    receiver: nodes.Node | None = None


@dataclass
class _Walk:
    tree: nodes.Template
    folder: Folder = field(init=False)
    keys: Keys = field(init=False)

    def __post_init__(self) -> None:
        self.folder = Folder(self.tree)
        self.keys = Keys(self.tree, self.folder)

    def hits(self) -> Iterator[Hit]:
        stack: list[nodes.Node] = [self.tree]
        while stack:
            node = stack.pop()
            if isinstance(node, LOADS):
                yield Hit(Issue.EXTERNAL, node.lineno, self._load_text(node))
            if isinstance(node, BUILDERS):
                yield from self._built_names(node)
            if isinstance(node, LINKS) or (isinstance(node, nodes.Name) and node.ctx == "load"):
                root, links = self._unwind(node)
                yield from self._judge(root, links, node.lineno)
                for link in links:
                    if link.node is not node and isinstance(link.node, BUILDERS):
                        yield from self._built_names(link.node)
                    stack.extend(link.side)
                if root is not None and not isinstance(root, nodes.Name):
                    stack.append(root)
                continue
            stack.extend(node.iter_child_nodes())

    # -- chains ----------------------------------------------------------------------------------

    def _unwind(self, node: nodes.Node | None) -> tuple[nodes.Node | None, list[_Link]]:
        links: list[_Link] = []
        while node is not None:
            if isinstance(node, nodes.Getattr):
                links.append(_Link(node, "." + node.attr, attrs=frozenset({node.attr}), receiver=node.node))
            elif isinstance(node, nodes.Getitem):
                keys = self.folder.strings(node.arg) or frozenset()
                text = f"[{next(iter(keys))!r}]" if len(keys) == 1 else "[…]"
                dynamic = self.keys.kind(node.arg, node.node) is KeyKind.DYNAMIC
                links.append(
                    _Link(node, text, keys=keys, dynamic=dynamic, side=(node.arg,), receiver=node.node)
                )
            elif isinstance(node, nodes.Call):
                links.append(_Link(node, "(…)", side=_arguments(node), receiver=node.node))
            elif isinstance(node, (nodes.Filter, nodes.Test)):
                links.append(self._filter_link(node))
            else:
                break
            node = node.node
        links.reverse()
        return node, links

    def _filter_link(self, node: nodes.Filter | nodes.Test) -> _Link:
        side = _arguments(node)
        if isinstance(node, nodes.Test):
            return _Link(node, f" is {node.name}", side=side)
        link = _Link(node, f"|{node.name}(…)" if side else f"|{node.name}", side=side, receiver=node.node)
        names: set[str] = set()
        for key in _attribute_keys(node, self.folder):
            if key is None or self.keys.kind(key, None) is KeyKind.DYNAMIC:
                link.dynamic = True
            else:
                names.update(self.folder.strings(key) or ())
        if node.name == "attr":
            link.attrs = frozenset(names)
            if len(names) == 1 and not link.dynamic:
                link.text = f"|attr({next(iter(names))!r})"
        else:
            link.weak = frozenset(part for name in names for part in name.split("."))
        return link

    def _judge(self, root: nodes.Node | None, links: list[_Link], line: int) -> Iterator[Hit]:
        attrs = {a for link in links for a in link.attrs}
        keys = {k for link in links for k in link.keys}
        weak = {w for link in links for w in link.weak}
        root_name = root.name if isinstance(root, nodes.Name) else None
        text = _chain_text(root, links)
        for index, link in enumerate(links):
            if link.dynamic:
                yield Hit(Issue.DYNAMIC_ATTRIBUTE, line, text)
            if link.attrs & FORMAT_METHODS and link.receiver is not None:
                formats = self.folder.strings(link.receiver)
                called = index + 1 < len(links) and isinstance(links[index + 1].node, nodes.Call)
                if formats is None and called and not self.keys.never_string(link.receiver):
                    yield Hit(Issue.DYNAMIC_ATTRIBUTE, line, f"{text} (a format string computed at runtime)")
                for fmt in formats or ():
                    paths = _format_paths(fmt)
                    if paths:
                        yield Hit(Issue.FORMAT_GADGET, line, f"{fmt!r}.{min(link.attrs & FORMAT_METHODS)}(…)")
                        attrs.update(p for path in paths for p in path)
        names = attrs | keys | weak | ({root_name} if root_name else set())
        gadget = bool(names & GADGETS)
        dunder = any(a.startswith("_") for a in attrs) or any(
            DUNDER.fullmatch(k) or MANGLED.fullmatch(k) for k in keys | weak
        )
        own_name = root_name is not None and self.folder.binds(
            root_name
        )  # `{% set vars = … %}` is the template's own
        executes = (root_name in EXEC_ROOTS and not own_name) or bool((attrs | keys) & EXEC_ATTRS)
        if gadget or (executes and dunder):
            yield Hit(Issue.ESCAPE, line, text)
        elif executes:
            yield Hit(Issue.EXEC_NAME, line, text)
        elif dunder:
            yield Hit(Issue.DUNDER, line, text)

    # -- strings built at runtime ----------------------------------------------------------------

    def _built_names(self, node: nodes.Node) -> Iterator[Hit]:
        for value in self.folder.strings(node) or ():
            if DUNDER.fullmatch(value):
                issue = Issue.ESCAPE if value in GADGETS else Issue.DUNDER
                yield Hit(issue, node.lineno, f"builds the name {value!r}")

    def _load_text(self, node: nodes.Include | nodes.Import | nodes.FromImport | nodes.Extends) -> str:
        names = self.folder.strings(node.template)
        target = repr(min(names)) if names else "<computed>"
        keyword = {
            nodes.Include: "include",
            nodes.Import: "import",
            nodes.FromImport: "from",
            nodes.Extends: "extends",
        }
        return f"{{% {keyword[type(node)]} {target} %}}"


def _attribute_keys(node: nodes.Filter, folder: Folder) -> Iterator[nodes.Node | None]:
    """The expressions `node` looks attributes up by (dotted paths for all but `attr`); None: hidden in *args."""
    takes = ATTRIBUTE_FILTERS | {"attr"}
    yield from (k.value for k in node.kwargs if k.key == "attribute")
    if node.name not in takes:
        return
    if node.dyn_args is not None or node.dyn_kwargs is not None:
        yield None
    if node.name == "map":  # map('filter', *args): the arguments of an attribute-taking filter are names too
        if node.args and node.args[0] is not None:
            filters = folder.strings(node.args[0])
            if filters is None:
                yield None  # a filter chosen at runtime may be `attr`
            elif filters & takes:
                yield from node.args[1:]
        return
    position = POSITIONAL_ATTRIBUTE.get(node.name)
    if position is not None and len(node.args) > position:
        yield node.args[position]


def _arguments(node: nodes.Call | nodes.Filter | nodes.Test) -> tuple[nodes.Node, ...]:
    extra = (node.dyn_args, node.dyn_kwargs)
    return (*node.args, *(k.value for k in node.kwargs), *(e for e in extra if e is not None))


def _chain_text(root: nodes.Node | None, links: Iterable[_Link]) -> str:
    if isinstance(root, nodes.Name):
        head = root.name
    elif isinstance(root, nodes.Const):
        head = repr(root.value)[:40]
    elif isinstance(root, (nodes.Tuple, nodes.List)) and not root.items:
        head = "()" if isinstance(root, nodes.Tuple) else "[]"
    else:
        head = "(…)" if root is not None else ""
    text = head + "".join(link.text for link in links)
    return text if len(text) <= MAX_DETAIL else text[: MAX_DETAIL - 1] + "…"


_FIELD_PART = re.compile(r"\.([^.\[]+)|\[([^\]]*)\]")


def _format_paths(fmt: str, depth: int = 0) -> list[list[str]]:
    """The attribute/index paths of `str.format` replacement fields (`{0.__class__}` → [['__class__']])."""
    paths: list[list[str]] = []
    try:
        parsed = list(string.Formatter().parse(fmt))
    except ValueError:
        return paths
    for _, name, spec, _ in parsed:
        if name and ("." in name or "[" in name):
            paths.append([a or b for a, b in _FIELD_PART.findall(name)])
        if spec and depth < 2:
            paths.extend(_format_paths(spec, depth + 1))
    return paths
