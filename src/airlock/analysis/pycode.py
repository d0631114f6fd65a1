"""Static analysis of Python source, read as a syntax tree and never run.

The analyser behind the custom_code scanner (Python files shipped with a model) and behind the
pickle scanner's look at source code a pickle carries (torch.fx GraphModule code, TorchScript).
Every name a file references is resolved through its imports and simple assignments
(`import subprocess as sp`, `s = os.system`, `__import__("os").system`, `getattr(os, "system")`)
and looked up in the capability map (data in `signatures/code-capabilities.toml`: qualified name
→ dangerous capability); the tables below cover what depends on arguments (paths, modes,
environment keys) and on how a value was built (decoding, assembling strings). Hits carry the
custom_code rule ids (AIR62x/AIR63x) as categories; a caller reports them under its own rules.
"""

from __future__ import annotations

import ast
import builtins
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from airlock.errors import RuleDataError
from airlock.findings import Severity
from airlock.rules import read_signature_toml

MAX_FOLLOW = 32  # how deep an expression (names followed to their assignments included) is followed
PROCESS, NETWORK, DYNAMIC, DECODE_EXEC, WRITE, SECRETS, BUILTINS, UNPARSEABLE = (
    "AIR621",
    "AIR622",
    "AIR623",
    "AIR624",
    "AIR625",
    "AIR626",
    "AIR627",
    "AIR628",
)
OBFUSCATED, NAMESPACES, REMOTE_CODE = "AIR629", "AIR631", "AIR632"
MIN_ENCODED_LITERAL = 1024  # a base64/hex string this long in source is a payload, not a constant
ENCODED = re.compile(r"[A-Za-z0-9+/=_\-]+|(?:[0-9a-fA-F]{2}|\\x[0-9a-fA-F]{2})+")

EXEC_SINKS = (
    "builtins.eval",
    "builtins.exec",
    "builtins.compile",
    "pickle.load*",
    "_pickle.load*",
    "marshal.load*",
    "dill.load*",
    "cloudpickle.load*",
    "types.FunctionType",
)
DECODERS = (
    "base64.*decode*",
    "zlib.decompress",
    "bz2.decompress",
    "lzma.decompress",
    "gzip.decompress",
    "codecs.decode",
    "binascii.a2b_*",
    "binascii.unhexlify",
    "builtins.bytes.fromhex",
)
IMPORTERS = ("builtins.__import__", "importlib.import_module", "importlib.__import__")
OPEN = ("builtins.open", "io.open", "os.open", "codecs.open")
PATH_WRITERS = (
    "os.remove",
    "os.unlink",
    "os.rmdir",
    "os.removedirs",
    "os.rename",
    "os.replace",
    "os.makedirs",
    "os.mkdir",
    "os.chmod",
    "os.chown",
    "os.symlink",
    "os.link",
    "os.truncate",
    "shutil.move",
    "shutil.copy*",
    "shutil.chown",
)
PATH_METHODS = frozenset(
    {
        "write_text",
        "write_bytes",
        "touch",
        "unlink",
        "rmdir",
        "mkdir",
        "chmod",
        "symlink_to",
        "rename",
        "replace",
    }
)
DANGEROUS_ROOTS = frozenset(
    {
        "os",
        "posix",
        "nt",
        "subprocess",
        "builtins",
        "importlib",
        "sys",
        "socket",
        "shutil",
        "ctypes",
        "pty",
        "runpy",
        "pickle",
        "marshal",
    }
)
# what a string is built with when its text is meant to be hidden (chr() arithmetic, reversal, hex, decoding)
HIDING_CALLS = ("builtins.chr", "builtins.bytes.fromhex", "codecs.decode", "binascii.*", "base64.*")
HIDING_METHODS = frozenset({"decode", "fromhex", "translate"})
BUILDING_METHODS = frozenset(
    {"join", "format", "replace", "decode", "fromhex", "translate", "lower", "upper"}
)
HOME = ("os.path.expanduser", "pathlib.Path.home", "pathlib.Path.expanduser", "os.getlogin")
SECRET_NAME = re.compile(r"(?:^|_)(?:TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS?|KEY|APIKEY|AUTH)(?:_|$)")
SECRET_PATH = re.compile(
    r"\.ssh/|\.aws/|\.netrc|\.git-credentials|\.pypirc|\.docker/config|\.kube/config|"
    r"huggingface/token|\.gnupg|id_rsa|id_ed25519"
)
WHOLE_ENV = frozenset({"copy", "items", "keys", "values", "__iter__"})
_BUILTIN_NAMES = frozenset(dir(builtins))


# --- the capability map ----------------------------------------------------------------------

CAPABILITIES_FILE = "code-capabilities.toml"


@dataclass(frozen=True, slots=True)
class Capability:
    name: str
    rule: str
    severity: Severity
    reason: str
    names: tuple[str, ...]
    allow: tuple[str, ...] = ()
    attributes: frozenset[str] = frozenset()  # attribute names that reach it on any object

    def matches(self, qualified: str) -> bool:
        return any(fnmatchcase(qualified, p) for p in self.names) and not any(
            fnmatchcase(qualified, p) for p in self.allow
        )


@dataclass(frozen=True)
class CapabilityMap:
    capabilities: tuple[Capability, ...]

    @functools.cached_property
    def roots(self) -> frozenset[str]:
        """First segments of every pattern (`os`, `subprocess`, `builtins`): where a re-export may restart a name."""
        return frozenset(p.split(".")[0] for c in self.capabilities for p in c.names)

    @functools.cached_property
    def _seen(self) -> dict[str, Capability | None]:
        return {}

    @functools.cached_property
    def by_attribute(self) -> dict[str, Capability]:
        """Attribute names that reach a capability whatever they are read from (`x.__globals__`)."""
        return {attribute: c for c in self.capabilities for attribute in c.attributes}

    def lookup(self, qualified: str) -> Capability | None:
        """The capability `qualified` reaches, directly or through a module re-export (`os.path.os.system`)."""
        if qualified in self._seen:
            return self._seen[qualified]
        if len(self._seen) > 100_000:
            self._seen.clear()
        found = self._seen[qualified] = self._find(qualified)
        return found

    def _find(self, qualified: str) -> Capability | None:
        parts = qualified.split(".")
        for start in range(len(parts)):
            if start and parts[start] not in self.roots:
                continue
            tail = ".".join(parts[start:])
            for capability in self.capabilities:
                if capability.matches(tail):
                    return capability
        return None


@functools.cache
def load_capabilities() -> CapabilityMap:
    """The shipped capability map, validated once per process."""
    raw = read_signature_toml(CAPABILITIES_FILE)
    capabilities: list[Capability] = []
    for name, body in raw.items():
        where = f"signatures/{CAPABILITIES_FILE} [{name}]"
        if not isinstance(body, dict):
            raise RuleDataError(f"{where}: must be a table")
        names, allow, attributes = body.get("names", []), body.get("allow", []), body.get("attributes", [])
        texts = (
            [*names, *allow, *attributes]
            if all(isinstance(x, list) for x in (names, allow, attributes))
            else [0]
        )
        if not (names or attributes) or not all(isinstance(n, str) for n in texts):
            raise RuleDataError(f"{where}: names (or attributes) must be a non-empty list of strings")
        try:
            severity = Severity.parse(str(body.get("severity")))
        except ValueError as exc:
            raise RuleDataError(f"{where}: {exc}") from None
        rule, reason = body.get("rule"), body.get("reason")
        if not isinstance(rule, str) or not isinstance(reason, str):
            raise RuleDataError(f"{where}: rule and reason must be strings")
        capabilities.append(
            Capability(name, rule, severity, reason, tuple(names), tuple(allow), frozenset(attributes))
        )
    return CapabilityMap(tuple(capabilities))


# --- the analyser ---------------------------------------------------------------------------


def _is(name: str | None, patterns: tuple[str, ...]) -> bool:
    return name is not None and any(fnmatchcase(name, p) for p in patterns)


@dataclass(frozen=True, slots=True)
class Hit:
    rule: str
    line: int
    what: str
    reason: str
    severity: Severity | None = None  # None: the rule's severity
    statement: bool = False  # an import statement: a capability the file holds, which nothing runs by itself


class ModuleFacts:
    """What one file's syntax tree says: import aliases, assignments, parents of nodes."""

    def __init__(self, tree: ast.Module, capabilities: CapabilityMap | None = None) -> None:
        self.tree = tree
        self.capabilities = capabilities or load_capabilities()
        self.aliases: dict[str, str] = {}
        self.stars: list[str] = []
        self.assigned: dict[str, list[ast.expr]] = {}
        self.defined: set[str] = set()
        self.parents: dict[ast.AST, ast.AST] = {}
        self._names: dict[str, str | None] = {}  # resolved names; also cuts assignment cycles
        for node in ast.walk(tree):
            for child in ast.iter_child_nodes(node):
                self.parents[child] = node
            if isinstance(node, ast.Import):
                for a in node.names:
                    self.aliases[a.asname or a.name.split(".")[0]] = (
                        a.name if a.asname else a.name.split(".")[0]
                    )
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                for a in node.names:
                    if a.name == "*":
                        self.stars.append(node.module)
                    else:
                        self.aliases[a.asname or a.name] = f"{node.module}.{a.name}"
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self.defined.add(node.name)
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.NamedExpr)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    self._assign(target, node.value)

    def _assign(self, target: ast.expr, value: ast.expr) -> None:
        if isinstance(target, ast.Name):
            self.assigned.setdefault(target.id, []).append(value)
        elif isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, (ast.Tuple, ast.List)):
            for element, item in zip(target.elts, value.elts, strict=False):
                self._assign(element, item)

    def resolve(self, expr: ast.AST, depth: int = 0) -> str | None:
        """The dotted name an expression refers to (`sp.run` → `subprocess.run`), or None."""
        if depth > MAX_FOLLOW:
            return None
        if isinstance(expr, ast.Name):
            if expr.id in self.aliases:
                return self.aliases[expr.id]
            if expr.id == "__builtins__":
                return "builtins"
            values = self.assigned.get(expr.id, [])
            if values:
                if expr.id not in self._names:
                    self._names[expr.id] = None
                    # any of its assignments: which one runs is not known statically
                    found = (self.resolve(value, depth + 1) for value in values)
                    self._names[expr.id] = next((name for name in found if name is not None), None)
                return self._names[expr.id]
            if expr.id in _BUILTIN_NAMES and expr.id not in self.defined:
                return f"builtins.{expr.id}"
            for module in self.stars:
                if self.capabilities.lookup(f"{module}.{expr.id}") is not None:
                    return f"{module}.{expr.id}"
            return None
        if isinstance(expr, ast.Attribute):
            base = self.resolve(expr.value, depth + 1)
            return f"{base}.{expr.attr}" if base else None
        if isinstance(expr, ast.Subscript) and _const(expr.slice) is not None:
            base = self.resolve(expr.value, depth + 1)
            return f"builtins.{_const(expr.slice)}" if base in ("builtins", "builtins.__dict__") else None
        if isinstance(expr, ast.Call):
            func = self.resolve(expr.func, depth + 1)
            first = _const(expr.args[0]) if expr.args else None
            if _is(func, IMPORTERS) and isinstance(first, str):
                return first
            if func == "builtins.getattr" and len(expr.args) >= 2 and isinstance(_const(expr.args[1]), str):
                base = self.resolve(expr.args[0], depth + 1)
                return f"{base}.{_const(expr.args[1])}" if base else None
        return None

    def derives(self, expr: ast.AST, test: Callable[[ast.AST], bool], seen: set[str] | None = None) -> bool:
        """Whether `test` holds for a sub-expression of `expr`, following names to what they were assigned."""
        seen = set() if seen is None else seen
        for node in ast.walk(expr):
            if test(node):
                return True
            if isinstance(node, ast.Name) and node.id not in seen and len(seen) < MAX_FOLLOW * 2:
                seen.add(node.id)
                if any(self.derives(v, test, seen) for v in self.assigned.get(node.id, [])):
                    return True
        return False


def _const(expr: ast.AST) -> Any:
    return expr.value if isinstance(expr, ast.Constant) else None


def _int_list(expr: ast.AST) -> bool:
    """A literal list or tuple of at least three integers (character codes)."""
    return (
        isinstance(expr, ast.List | ast.Tuple)
        and len(expr.elts) >= 3
        and all(isinstance(_const(e), int) for e in expr.elts)
    )


class Analysis:
    """Walks one file's tree and collects hits: the capabilities it references, and what its calls do."""

    def __init__(self, facts: ModuleFacts) -> None:
        self.facts = facts
        self.hits: list[Hit] = []
        self.deferred = deferred_lines(facts.tree)

    def run(self) -> list[Hit]:
        facts = self.facts
        docstrings = {id(n.value) for n in ast.walk(facts.tree) if isinstance(n, ast.Expr)}
        for node in ast.walk(facts.tree):
            if isinstance(node, ast.Call):
                self._call(node)
            elif isinstance(node, (ast.Assign, ast.AugAssign, ast.Delete)):
                self._tamper(node)
            elif (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str | bytes)
                and id(node) not in docstrings
            ):
                self._literal(node)
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                self._imported(node)
            elif isinstance(node, (ast.Attribute, ast.Name, ast.Subscript, ast.Call)):
                self._reference(node)
            if isinstance(node, ast.Attribute):
                self._reflective(node, node.attr)
            elif (
                isinstance(node, ast.Call)
                and facts.resolve(node.func) == "builtins.getattr"
                and len(node.args) >= 2
            ):
                attribute = _const(node.args[1])
                if isinstance(attribute, str):
                    self._reflective(node, attribute)
            if isinstance(node, ast.BinOp) and not isinstance(facts.parents.get(node), ast.BinOp):
                self._chr_arithmetic(node)
            if isinstance(node, (ast.Attribute, ast.Name)) and facts.resolve(node) == "os.environ":
                self._environ(node)
        first: dict[tuple[str, int], Hit] = {}
        for hit in self.hits:  # one hit per rule and line: a call and the name it calls are one fact
            kept = first.setdefault((hit.rule, hit.line), hit)
            if kept is not hit and (hit.severity or Severity.CRITICAL) > (kept.severity or Severity.CRITICAL):
                first[(hit.rule, hit.line)] = hit
        # decoding fed to exec is the finding; the exec it names on that line is part of it
        return [h for h in first.values() if not (h.rule == DYNAMIC and (DECODE_EXEC, h.line) in first)]

    def _imported(self, node: ast.Import | ast.ImportFrom) -> None:
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif node.level == 0 and node.module:
            names = [node.module if a.name == "*" else f"{node.module}.{a.name}" for a in node.names]
        else:
            return
        for name in names:
            self._capability(node, name, statement=True)

    def _reference(self, node: ast.expr) -> None:
        """A name, attribute chain, subscript or getattr/__import__ call, reported at its outermost resolvable form."""
        if isinstance(getattr(node, "ctx", None), ast.Store | ast.Del):
            return  # a name being bound or replaced (replacing builtins is AIR627's)
        parent = self.facts.parents.get(node)
        if (
            isinstance(parent, ast.Attribute | ast.Subscript)
            and parent.value is node
            and self.facts.resolve(parent)
        ):
            return  # the longer chain is reported instead (`os.system`, not `os`); `sys.modules[name]` with a
            # key worked out only at run time is reported as `sys.modules`
        if isinstance(parent, ast.Call) and parent.func is node and self.facts.resolve(parent) is not None:
            return  # `__import__("json")`, `getattr(os, "getcwd")`: what the call resolves to is what counts
        name = self.facts.resolve(node)
        if name is not None:
            self._capability(node, name)

    def _capability(self, node: ast.AST, name: str, statement: bool = False) -> None:
        capability = self.facts.capabilities.lookup(name)
        if capability is not None:
            what = f"import {name}" if statement else name
            self.hits.append(
                Hit(
                    capability.rule,
                    getattr(node, "lineno", 0),
                    what,
                    f"{capability.reason} ({capability.name} capability)",
                    capability.severity,
                    statement,
                )
            )

    def _reflective(self, node: ast.AST, attribute: str) -> None:
        """An attribute that reaches interpreter internals from any object (`().__class__.__base__`)."""
        capability = self.facts.capabilities.by_attribute.get(attribute)
        if capability is not None:
            self.hits.append(
                Hit(
                    capability.rule,
                    getattr(node, "lineno", 0),
                    f".{attribute}",
                    f"{capability.reason} ({capability.name} capability)",
                    capability.severity,
                )
            )

    def _add(self, rule: str, node: ast.AST, what: str, reason: str) -> None:
        self.hits.append(Hit(rule, getattr(node, "lineno", 0), what, reason))

    def _call(self, node: ast.Call) -> None:
        facts = self.facts
        name = facts.resolve(node.func)
        args = [*node.args, *(k.value for k in node.keywords)]
        if _is(name, EXEC_SINKS) and any(facts.derives(a, self._decoded) for a in args):
            self._add(
                DECODE_EXEC, node, f"{name}(…)", "runs data it decoded first (base64/zlib/codecs/marshal)"
            )
            return
        if _is(name, EXEC_SINKS) and node.args and facts.derives(node.args[0], self._built):
            self._add(OBFUSCATED, node, f"{name}(…)", "runs a string it assembled at run time")
        if _is(name, IMPORTERS) or name == "builtins.getattr":
            self._indirect(node, name)
            return
        if (
            name == "builtins.setattr"
            and node.args
            and facts.resolve(node.args[0]) in ("builtins", "builtins.__dict__")
        ):
            self._add(
                BUILTINS, node, "setattr(builtins, …)", "replaces a builtin for all code in the process"
            )
            return
        if _is(name, OPEN):
            self._open(node, name)
            return
        key = _const(node.args[0]) if node.args else None
        if name == "os.getenv" and isinstance(key, str) and SECRET_NAME.search(key.upper()):
            self._add(SECRETS, node, f"os.getenv({key!r})", "reads a secret from the environment")
            return
        if _is(name, PATH_WRITERS) and node.args and self._outside(node.args[0]):
            self._add(WRITE, node, f"{name}(…)", "changes files outside the model cache")
            return
        if (
            isinstance(node.func, ast.Attribute)
            and node.func.attr in PATH_METHODS
            and self._outside(node.func.value)
        ):
            self._add(WRITE, node, f".{node.func.attr}(…)", "writes outside the model cache")
            return
        if (
            isinstance(node.func, ast.Attribute)
            and node.func.attr in ("join", "decode")
            and self._hidden_text(node)
        ):
            self._add(OBFUSCATED, node, f".{node.func.attr}(…)", "spells a string out of character codes")

    def _indirect(self, node: ast.Call, name: str | None) -> None:
        first = node.args[0] if node.args else None
        if name != "builtins.getattr":
            if first is not None and not isinstance(_const(first), str):
                self._add(DYNAMIC, node, f"{name}(…)", "imports a module whose name is computed at run time")
                if self.facts.derives(first, self._built):
                    self._add(
                        OBFUSCATED, node, f"{name}(…)", "imports a module whose name is assembled from pieces"
                    )
            return
        if len(node.args) < 2 or isinstance(_const(node.args[1]), str):
            return
        base = self.facts.resolve(node.args[0])
        dangerous = base is not None and (
            base.split(".")[0] in DANGEROUS_ROOTS or self.facts.capabilities.lookup(base) is not None
        )
        if dangerous:
            self._add(
                DYNAMIC,
                node,
                f"getattr({base}, …)",
                "reaches an attribute of a dangerous module by a computed name",
            )
        if (
            self._folds(node.args[1])
            or (dangerous and self.facts.derives(node.args[1], self._built))
            or self.facts.derives(node.args[1], self._hiding)
        ):
            self._add(
                OBFUSCATED,
                node,
                f"getattr({base or '…'}, …)",
                "looks up an attribute whose name is assembled from pieces",
            )

    def _open(self, node: ast.Call, name: str | None) -> None:
        mode = (
            node.args[1]
            if len(node.args) > 1
            else next((k.value for k in node.keywords if k.arg in ("mode", "flags")), None)
        )
        text = _const(mode) if mode is not None else "r"
        writes = (isinstance(text, str) and any(c in text for c in "wax+")) or (
            name == "os.open" and mode is not None
        )
        if writes and node.args and self._outside(node.args[0]):
            self._add(WRITE, node, f"{name}(…, {text!r})", "writes outside the model cache")
        elif writes and node.args and _const(node.args[0]) is None and node.lineno not in self.deferred:
            self._add(
                WRITE, node, f"{name}(…, {text!r})", "writes a computed path as soon as the file is imported"
            )

    def _environ(self, node: ast.AST) -> None:
        parent = self.facts.parents.get(node)
        if isinstance(parent, ast.Attribute) and parent.attr in ("get", "pop", "setdefault"):
            call = self.facts.parents.get(parent)
            key = _const(call.args[0]) if isinstance(call, ast.Call) and call.args else None
            if isinstance(key, str) and SECRET_NAME.search(key.upper()):
                self._add(SECRETS, node, f"os.environ[{key!r}]", "reads a secret from the environment")
        elif isinstance(parent, ast.Subscript) and isinstance(_const(parent.slice), str):
            key = _const(parent.slice)
            if SECRET_NAME.search(key.upper()) and isinstance(parent.ctx, ast.Load):
                self._add(SECRETS, node, f"os.environ[{key!r}]", "reads a secret from the environment")
        elif (isinstance(parent, ast.Attribute) and parent.attr in WHOLE_ENV) or (
            isinstance(parent, (ast.Call, ast.keyword, ast.For, ast.comprehension, ast.Dict, ast.Starred))
            and not (isinstance(parent, ast.keyword) and parent.arg == "env")
        ):
            self._add(SECRETS, node, "os.environ", "reads the whole environment (tokens and keys included)")

    def _tamper(self, node: ast.Assign | ast.AugAssign | ast.Delete) -> None:
        targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
        for target in targets:
            if isinstance(target, (ast.Attribute, ast.Subscript)):
                base = self.facts.resolve(target.value)
                if base in ("builtins", "builtins.__dict__"):
                    self._add(BUILTINS, node, "builtins", "replaces a builtin for all code in the process")

    def _decoded(self, node: ast.AST) -> bool:
        return isinstance(node, ast.Call) and _is(self.facts.resolve(node.func), DECODERS)

    def _built(self, node: ast.AST) -> bool:
        """A string assembled at run time: concatenation or % with text, f-strings, join/format/decode, chr()."""
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
            return any(isinstance(_const(side), str | bytes) for side in (node.left, node.right))
        if isinstance(node, ast.JoinedStr):
            return True
        return self._hiding(node) or (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in BUILDING_METHODS
        )

    def _hiding(self, node: ast.AST) -> bool:
        """What only hides text: chr(), reversing slices, hex and other decoding."""
        if (
            isinstance(node, ast.Subscript)
            and isinstance(node.slice, ast.Slice)
            and node.slice.step is not None
        ):
            return True
        if not isinstance(node, ast.Call):
            return False
        return _is(self.facts.resolve(node.func), HIDING_CALLS) or (
            isinstance(node.func, ast.Attribute) and node.func.attr in HIDING_METHODS
        )

    def _folds(self, expr: ast.AST, depth: int = 0) -> bool:
        """Whether a non-constant expression is made of constants only (`"sy" + "stem"`): a name spelled so no one reads it."""
        for _ in range(MAX_FOLLOW):  # `NAME = "gelu"; getattr(F, NAME)` is spelled out, not assembled
            values = self.facts.assigned.get(expr.id, []) if isinstance(expr, ast.Name) else []
            if len(values) != 1:
                break
            expr = values[0]
        return not isinstance(expr, ast.Constant | ast.Name) and self._constant(expr, depth)

    def _constant(self, expr: ast.AST, depth: int = 0) -> bool:
        if depth > MAX_FOLLOW:
            return False
        if isinstance(expr, ast.Constant):
            return isinstance(expr.value, str | bytes | int)
        if isinstance(expr, ast.BinOp):
            return self._constant(expr.left, depth + 1) and self._constant(expr.right, depth + 1)
        if isinstance(expr, ast.List | ast.Tuple):
            return all(self._constant(e, depth + 1) for e in expr.elts)
        if isinstance(expr, ast.Subscript):
            return self._constant(expr.value, depth + 1)
        if isinstance(expr, ast.Name):
            values = self.facts.assigned.get(expr.id, [])
            return len(values) == 1 and self._constant(values[0], depth + 1)
        if isinstance(expr, ast.Call):
            func = expr.func
            parts = [*expr.args, *(func.value for _ in [0] if isinstance(func, ast.Attribute))]
            known = (isinstance(func, ast.Attribute) and func.attr in BUILDING_METHODS) or self.facts.resolve(
                func
            ) in ("builtins.chr", "builtins.bytes", "builtins.bytearray", "builtins.str")
            return known and all(self._constant(p, depth + 1) for p in parts)
        return False

    def _hidden_text(self, node: ast.Call) -> bool:
        """`"".join(map(chr, [111, 115]))`, `"".join(chr(c) for c in […])`, `bytes([…]).decode()`."""
        facts = self.facts
        if node.func.attr == "decode":  # type: ignore[attr-defined]
            inner = node.func.value  # type: ignore[attr-defined]
            return (
                isinstance(inner, ast.Call)
                and facts.resolve(inner.func) in ("builtins.bytes", "builtins.bytearray")
                and bool(inner.args)
                and _int_list(inner.args[0])
            )
        if not node.args:
            return False
        arg = node.args[0]
        if isinstance(arg, ast.Call) and facts.resolve(arg.func) == "builtins.map" and len(arg.args) == 2:
            return facts.resolve(arg.args[0]) == "builtins.chr" and _int_list(arg.args[1])
        if isinstance(arg, ast.GeneratorExp | ast.ListComp) and isinstance(arg.elt, ast.Call):
            return facts.resolve(arg.elt.func) == "builtins.chr" and _int_list(arg.generators[0].iter)
        return False

    def _chr_arithmetic(self, node: ast.BinOp) -> None:
        calls = [
            n
            for n in ast.walk(node)
            if isinstance(n, ast.Call) and self.facts.resolve(n.func) == "builtins.chr"
        ]
        if len(calls) >= 2 and isinstance(node.op, ast.Add):
            self._add(OBFUSCATED, node, "chr(…) + chr(…)", "spells a string out of character codes")

    def _literal(self, node: ast.Constant) -> None:
        text = node.value if isinstance(node.value, str) else node.value.decode("latin-1")
        if SECRET_PATH.search(text):
            self._add(SECRETS, node, repr(text[:80]), "names a credential file")
        if len(text) >= MIN_ENCODED_LITERAL and ENCODED.fullmatch(text.replace("\n", "")):
            self._add(
                OBFUSCATED,
                node,
                f"{len(text)}-character encoded literal",
                "carries an encoded blob (base64 or hex)",
            )

    def _outside(self, expr: ast.AST, depth: int = 0, seen: set[str] | None = None) -> bool:
        """Whether a path expression points at an absolute path or the home folder."""
        seen = set() if seen is None else seen
        if depth > MAX_FOLLOW:
            return False
        value = _const(expr)
        if isinstance(value, str):
            return value.startswith(("/", "~", "\\")) or bool(re.match(r"^[A-Za-z]:[\\/]", value))
        if isinstance(expr, ast.JoinedStr):
            return bool(expr.values) and self._outside(expr.values[0], depth + 1, seen)
        if isinstance(expr, ast.FormattedValue):
            return self._outside(expr.value, depth + 1, seen)
        if isinstance(expr, ast.BinOp):
            return self._outside(expr.left, depth + 1, seen) or (
                isinstance(expr.op, ast.Div) and self._outside(expr.right, depth + 1, seen)
            )
        if isinstance(expr, ast.Name):
            if expr.id in seen:
                return False
            seen.add(expr.id)
            return any(self._outside(v, depth + 1, seen) for v in self.facts.assigned.get(expr.id, []))
        if isinstance(expr, ast.Subscript):  # os.environ["HOME"]
            return self.facts.resolve(expr.value) == "os.environ" and _const(expr.slice) in (
                "HOME",
                "USERPROFILE",
            )
        if isinstance(expr, ast.Call):
            name = self.facts.resolve(expr.func)
            if _is(name, HOME) or (
                isinstance(expr.func, ast.Attribute) and expr.func.attr in ("home", "expanduser")
            ):
                return True
            if (
                name in ("os.getenv", "os.environ.get")
                and expr.args
                and _const(expr.args[0]) in ("HOME", "USERPROFILE")
            ):
                return True
            return any(self._outside(a, depth + 1, seen) for a in expr.args)  # os.path.join, Path(…), str(…)
        return False


def deferred_lines(tree: ast.Module) -> frozenset[int]:
    """Lines that run only when called: function and lambda bodies, `if __name__ == "__main__":` blocks."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            first = node.body[0].lineno if isinstance(node.body, list) and node.body else node.lineno
            lines.update(range(first, (node.end_lineno or node.lineno) + 1))
        elif isinstance(node, ast.If) and _is_main_guard(node.test):
            lines.update(range(node.body[0].lineno, (node.body[-1].end_lineno or node.body[-1].lineno) + 1))
    return frozenset(lines)


def _is_main_guard(test: ast.expr) -> bool:
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = [test.left, test.comparators[0]]
    return any(isinstance(side, ast.Name) and side.id == "__name__" for side in sides) and any(
        isinstance(side, ast.Constant) and side.value == "__main__" for side in sides
    )
