"""Source code that a model file carries and its loader compiles: torch.fx GraphModule code, TorchScript.

A pickled torch.fx GraphModule is `reduce_graph_module(body, import_block)`: on load, PyTorch
`exec`s `import_block + body["_code"]` (or `body["code"]`) and then traces the `forward` it defines,
so every line runs at load time, with all of Python's builtins in reach. What torch writes there is
narrow: a block of imports (`import torch`, `from math import inf`, `from <module> import <fn> as
<name>` for wrapped functions), `NoneType = type(None)`, `torch.fx._symbolic_trace.wrap("<name>")`
calls, and `def forward(...)` made of torch calls. `vet_fx` reads the code with the Python analyser
(`airlock.analysis.pycode`) and against that shape.

TorchScript archives carry `code/**/*.py` that `torch.jit.load` compiles with its own frontend:
it cannot import Python modules, but it can call operators and classes registered by native
libraries (`ops.<ns>.<op>`, `torch.classes.<ns>.<Class>`). `vet_torchscript` parses the files
and reports what no TorchScript writer produces.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from airlock.analysis.pycode import Analysis, ModuleFacts
from airlock.findings import Severity
from airlock.parsers import pysource

MAX_CODE_CHARS = 4 << 20
# Builtins that generated fx code may reference: pure functions and types (fx emits
# `from builtins import getattr as getattr` and wrapped builtins such as `len`).
FX_BUILTINS = frozenset({
    "getattr", "hasattr", "len", "slice", "range", "int", "float", "bool", "str", "bytes", "complex", "tuple", "list",
    "dict", "set", "frozenset", "isinstance", "issubclass", "type", "max", "min", "abs", "sum", "round", "divmod",
    "pow", "any", "all", "enumerate", "zip", "reversed", "sorted", "iter", "next", "hash", "id", "callable", "print",
    "object", "Ellipsis", "NotImplemented", "None", "True", "False", "AssertionError", "RuntimeError", "ValueError",
    "TypeError", "IndexError", "KeyError", "NotImplementedError", "StopIteration",
})  # fmt: skip
# Modules fx code imports from in ordinary use; others are modules of wrapped functions.
FX_MODULES = frozenset({"torch", "math", "builtins", "operator", "typing", "_operator"})
FX_WRAP = "torch.fx._symbolic_trace.wrap"
# `torch.classes.<ns>` namespaces PyTorch itself registers.
STANDARD_CLASS_NAMESPACES = frozenset(
    {"quantized", "xnnpack", "dist_c10d", "dist_rpc", "profiling", "cuda", "c10d"}
)
_TS_CLASS = re.compile(r"\btorch\.classes\.([A-Za-z_][A-Za-z0-9_]*)\b")


@dataclass(frozen=True, slots=True)
class CodeIssue:
    """One thing found in carried code. `kind`: "capability" (the analyser's category is in
    `category`, an AIR62x/AIR63x id), "syntax", "shape", "builtin", "import", "native-class"."""

    kind: str
    line: int
    what: str
    reason: str
    severity: Severity
    category: str = ""


def vet_fx(source: str) -> list[CodeIssue]:
    """What is wrong with code a GraphModule pickle makes PyTorch exec on load (empty: the shape torch writes)."""
    tree = _parse(source, "GraphModule code")
    if isinstance(tree, CodeIssue):
        return [tree]
    facts = ModuleFacts(tree)
    issues = [
        _capability(hit.rule, hit.line, hit.what, hit.reason, Severity.CRITICAL)
        for hit in Analysis(facts).run()
    ]
    issues += _fx_shape(tree)
    issues += _fx_names(tree, facts)
    return _unique(issues)


def vet_torchscript(source: str) -> list[CodeIssue]:
    """What is wrong with one `code/` file of a TorchScript archive (its `ops.<ns>` operators are judged by the caller)."""
    tree = _parse(source, "TorchScript code")
    if isinstance(tree, CodeIssue):
        return [tree]
    issues = [
        _capability(
            hit.rule,
            hit.line,
            hit.what,
            f"{hit.reason}; torch.jit cannot compile it, so the archive was written or edited by something else",
            Severity.HIGH,
        )
        for hit in Analysis(ModuleFacts(tree)).run()
    ]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            issues.append(
                CodeIssue(
                    "shape",
                    node.lineno,
                    ast.unparse(node)[:120],
                    "an import statement, which TorchScript code never holds",
                    Severity.HIGH,
                )
            )
    for lineno, line in enumerate(source.splitlines(), 1):
        for namespace in _TS_CLASS.findall(line):
            if namespace not in STANDARD_CLASS_NAMESPACES:
                issues.append(
                    CodeIssue(
                        "native-class",
                        lineno,
                        f"torch.classes.{namespace}",
                        "a custom class registered by a native library",
                        Severity.HIGH,
                    )
                )
    return _unique(issues)


def _parse(source: str, what: str) -> ast.Module | CodeIssue:
    if len(source) > MAX_CODE_CHARS:
        return CodeIssue(
            "syntax",
            0,
            f"{len(source)} characters",
            f"{what} larger than {MAX_CODE_CHARS} characters: not analysed",
            Severity.HIGH,
        )
    try:
        return pysource.parse(source, filename=what)
    except pysource.Unparseable as exc:
        return CodeIssue(
            "syntax", 0, "does not parse", f"{what} that does not parse as Python: {exc}", Severity.HIGH
        )


def _capability(category: str, line: int, what: str, reason: str, severity: Severity) -> CodeIssue:
    return CodeIssue("capability", line, what, reason, severity, category)


def _fx_shape(tree: ast.Module) -> list[CodeIssue]:
    """Module-level statements torch's fx code generator never writes: they run as soon as the pickle loads."""
    issues = []
    for node in tree.body:
        problem = _fx_statement(node)
        if problem:
            issues.append(
                CodeIssue(
                    "shape",
                    node.lineno,
                    ast.unparse(node).splitlines()[0][:120],
                    f"{problem}; it runs when the pickle is loaded",
                    Severity.CRITICAL,
                )
            )
    for function in tree.body:
        for node in ast.walk(function) if isinstance(function, ast.FunctionDef) else ():
            if isinstance(node, ast.Import | ast.ImportFrom):
                issues.append(
                    CodeIssue(
                        "shape",
                        node.lineno,
                        ast.unparse(node)[:120],
                        "an import inside a function, which fx code never holds; forward is traced "
                        "when the pickle is loaded",
                        Severity.CRITICAL,
                    )
                )
    return issues


def _fx_statement(node: ast.stmt) -> str | None:
    if isinstance(node, ast.Import):
        if all(a.name == "torch" or (a.name.startswith("torch.") and a.asname) for a in node.names):
            return None
        return (
            "an import fx code never writes (it imports `torch` only, everything else with `from … import`)"
        )
    if isinstance(node, ast.ImportFrom):
        return (
            None
            if node.level == 0 and node.module and all(a.name != "*" for a in node.names)
            else "a star or relative import"
        )
    if isinstance(node, ast.Assign) and ast.unparse(node) == "NoneType = type(None)":
        return None
    if (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Call)
        and ast.unparse(node.value.func) == FX_WRAP
    ):
        call = node.value
        if (
            len(call.args) == 1
            and not call.keywords
            and isinstance(call.args[0], ast.Constant)
            and isinstance(call.args[0].value, str)
        ):
            return None
    if isinstance(node, ast.FunctionDef):
        return "a decorated function (decorators run on definition)" if node.decorator_list else None
    return f"a module-level {type(node).__name__} statement, which fx code never holds"


def _fx_names(tree: ast.Module, facts: ModuleFacts) -> list[CodeIssue]:
    """Builtins outside what fx code uses, and imports from modules of wrapped functions."""
    issues = []
    bound = _bound_names(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] not in FX_MODULES:
            names = ", ".join(f"{node.module}.{a.name}" for a in node.names)
            issues.append(
                CodeIssue(
                    "import",
                    node.lineno,
                    f"from {node.module} import …",
                    f"imports {names} when the pickle loads (fx writes this for wrapped functions; "
                    "that module's code runs on import)",
                    Severity.MEDIUM,
                )
            )
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in bound:
            name = facts.resolve(node)
            if (
                name is not None
                and name.startswith("builtins.")
                and name.count(".") == 1
                and name.split(".")[1] not in FX_BUILTINS
                and facts.capabilities.lookup(name) is None
            ):
                issues.append(
                    CodeIssue(
                        "builtin",
                        node.lineno,
                        name,
                        "a builtin that generated fx code never uses",
                        Severity.HIGH,
                    )
                )
    return issues


def _bound_names(tree: ast.Module) -> frozenset[str]:
    """Names the code binds itself (parameters such as `input`, assignment and loop targets): not builtins."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            names.add(node.id)
    return frozenset(names)


def _unique(issues: list[CodeIssue]) -> list[CodeIssue]:
    seen: set[tuple[str, int, str]] = set()
    kept = []
    for issue in issues:
        key = (issue.kind, issue.line, issue.what)
        if key not in seen:
            seen.add(key)
            kept.append(issue)
    return kept
