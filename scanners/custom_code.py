"""The custom_code scanner: Python files shipped with a model, read as syntax trees and never imported.

It resolves what each call refers to through the file's imports and simple assignments
(`import subprocess as sp`, `s = os.system`, `__import__("os").system`, `getattr(os, "system")`)
and matches the result against the tables below. Which files transformers would import comes from
`auto_map` in the snapshot's `*config.json` files, followed through their relative imports.
"""

from __future__ import annotations

import ast
import builtins
import json
import posixpath
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any, ClassVar

from airlock.artifacts import Artifact
from airlock.findings import Finding, Severity
from airlock.formats import Format
from airlock.parsers import pysource
from airlock.scanning import ScanContext, SnapshotScanner

MAX_SOURCE_BYTES = 4 << 20
MAX_CONFIG_BYTES = 8 << 20
MAX_FOLLOW = 32  # how deep an expression (names followed to their assignments included) is followed
PROCESS, NETWORK, DYNAMIC, DECODE_EXEC, WRITE, SECRETS, BUILTINS, UNPARSEABLE = (
    "AIR621", "AIR622", "AIR623", "AIR624", "AIR625", "AIR626", "AIR627", "AIR628",
)

# (pattern over the resolved dotted name, rule, reason); the first match wins.
CALLS: tuple[tuple[str, str, str], ...] = (
    *((p, PROCESS, "runs a command") for p in (
        "os.system", "os.popen", "os.exec*", "os.spawn*", "os.posix_spawn*", "os.fork*", "os.startfile",
        "posix.system", "nt.system", "subprocess.*", "pty.*", "commands.*", "platform.popen",
        "asyncio.create_subprocess_*")),
    ("ctypes.*", PROCESS, "loads or calls native code"),
    *((p, NETWORK, "opens a network connection") for p in (
        "socket.*", "urllib.request.*", "urllib2.*", "urllib3.*", "requests.*", "httpx.*", "http.client.*",
        "aiohttp.*", "ftplib.*", "smtplib.*", "telnetlib.*", "paramiko.*", "websocket.*", "websockets.*",
        "xmlrpc.client.*", "pycurl.*")),
    *((p, DYNAMIC, "runs code built at run time") for p in (
        "builtins.eval", "builtins.exec", "builtins.compile", "types.FunctionType", "types.CodeType",
        "runpy.*", "code.interact", "code.InteractiveInterpreter", "code.InteractiveConsole")),
    *((p, DYNAMIC, "deserializes objects, which runs code") for p in (
        "pickle.load*", "_pickle.load*", "marshal.load*", "dill.load*", "cloudpickle.load*", "shelve.open")),
    ("importlib.machinery.SourceFileLoader", DYNAMIC, "loads a module from a path"),
    ("importlib.util.spec_from_file_location", DYNAMIC, "loads a module from a path"),
    ("shutil.rmtree", WRITE, "deletes a folder tree"),
)
EXEC_SINKS = ("builtins.eval", "builtins.exec", "builtins.compile", "pickle.load*", "_pickle.load*",
              "marshal.load*", "dill.load*", "cloudpickle.load*", "types.FunctionType")
DECODERS = ("base64.*decode*", "zlib.decompress", "bz2.decompress", "lzma.decompress", "gzip.decompress",
            "codecs.decode", "binascii.a2b_*", "binascii.unhexlify", "builtins.bytes.fromhex")
IMPORTERS = ("builtins.__import__", "importlib.import_module", "importlib.__import__")
OPEN = ("builtins.open", "io.open", "os.open", "codecs.open")
PATH_WRITERS = ("os.remove", "os.unlink", "os.rmdir", "os.removedirs", "os.rename", "os.replace", "os.makedirs",
                "os.mkdir", "os.chmod", "os.chown", "os.symlink", "os.link", "os.truncate", "shutil.move",
                "shutil.copy*", "shutil.chown")
PATH_METHODS = frozenset({"write_text", "write_bytes", "touch", "unlink", "rmdir", "mkdir", "chmod", "symlink_to", "rename", "replace"})
DANGEROUS_ROOTS = frozenset({"os", "posix", "nt", "subprocess", "builtins", "importlib", "sys", "socket", "shutil",
                             "ctypes", "pty", "runpy", "pickle", "marshal"})
HOME = ("os.path.expanduser", "pathlib.Path.home", "pathlib.Path.expanduser", "os.getlogin")
SECRET_NAME = re.compile(r"(?:^|_)(?:TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS?|KEY|APIKEY|AUTH)(?:_|$)")
SECRET_PATH = re.compile(r"\.ssh/|\.aws/|\.netrc|\.git-credentials|\.pypirc|\.docker/config|\.kube/config|"
                         r"huggingface/token|\.gnupg|id_rsa|id_ed25519")
WHOLE_ENV = frozenset({"copy", "items", "keys", "values", "__iter__"})
_BUILTIN_NAMES = frozenset(dir(builtins))


def _is(name: str | None, patterns: tuple[str, ...]) -> bool:
    return name is not None and any(fnmatchcase(name, p) for p in patterns)


@dataclass(frozen=True, slots=True)
class Hit:
    rule: str
    line: int
    what: str
    reason: str


class ModuleFacts:
    """What one file's syntax tree says: import aliases, assignments, parents of nodes."""

    def __init__(self, tree: ast.Module) -> None:
        self.tree = tree
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
                    self.aliases[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
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
                if _is(f"{module}.{expr.id}", tuple(p for p, _, _ in CALLS)):
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


class Analysis:
    """Walks one file's tree and collects hits."""

    def __init__(self, facts: ModuleFacts) -> None:
        self.facts = facts
        self.hits: list[Hit] = []

    def run(self) -> list[Hit]:
        facts = self.facts
        docstrings = {id(n.value) for n in ast.walk(facts.tree) if isinstance(n, ast.Expr)}
        for node in ast.walk(facts.tree):
            if isinstance(node, ast.Call):
                self._call(node)
            elif isinstance(node, (ast.Assign, ast.AugAssign, ast.Delete)):
                self._tamper(node)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings and SECRET_PATH.search(node.value):
                self._add(SECRETS, node, repr(node.value[:80]), "names a credential file")
            if isinstance(node, (ast.Attribute, ast.Name)) and facts.resolve(node) == "os.environ":
                self._environ(node)
        return self.hits

    def _add(self, rule: str, node: ast.AST, what: str, reason: str) -> None:
        self.hits.append(Hit(rule, getattr(node, "lineno", 0), what, reason))

    def _call(self, node: ast.Call) -> None:
        facts = self.facts
        name = facts.resolve(node.func)
        args = [*node.args, *(k.value for k in node.keywords)]
        if _is(name, EXEC_SINKS) and any(facts.derives(a, self._decoded) for a in args):
            self._add(DECODE_EXEC, node, f"{name}(…)", "runs data it decoded first (base64/zlib/codecs/marshal)")
            return
        if _is(name, IMPORTERS) or name == "builtins.getattr":
            self._indirect(node, name)
            return
        if name == "builtins.setattr" and node.args and facts.resolve(node.args[0]) in ("builtins", "builtins.__dict__"):
            self._add(BUILTINS, node, "setattr(builtins, …)", "replaces a builtin for all code in the process")
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
        if isinstance(node.func, ast.Attribute) and node.func.attr in PATH_METHODS and self._outside(node.func.value):
            self._add(WRITE, node, f".{node.func.attr}(…)", "writes outside the model cache")
            return
        for pattern, rule, reason in CALLS:
            if name is not None and fnmatchcase(name, pattern):
                self._add(rule, node, f"{name}(…)", reason)
                return

    def _indirect(self, node: ast.Call, name: str | None) -> None:
        if name != "builtins.getattr":
            if not (node.args and isinstance(_const(node.args[0]), str)):
                self._add(DYNAMIC, node, f"{name}(…)", "imports a module whose name is computed at run time")
            return
        base = self.facts.resolve(node.args[0]) if node.args else None
        if len(node.args) >= 2 and not isinstance(_const(node.args[1]), str) and base and base.split(".")[0] in DANGEROUS_ROOTS:
            self._add(DYNAMIC, node, f"getattr({base}, …)", "reaches an attribute of a dangerous module by a computed name")

    def _open(self, node: ast.Call, name: str | None) -> None:
        mode = node.args[1] if len(node.args) > 1 else next((k.value for k in node.keywords if k.arg in ("mode", "flags")), None)
        text = _const(mode) if mode is not None else "r"
        writes = isinstance(text, str) and any(c in text for c in "wax+") or (name == "os.open" and mode is not None)
        if writes and node.args and self._outside(node.args[0]):
            self._add(WRITE, node, f"{name}(…, {text!r})", "writes outside the model cache")

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
        elif (isinstance(parent, ast.Attribute) and parent.attr in WHOLE_ENV) or isinstance(
            parent, (ast.Call, ast.keyword, ast.For, ast.comprehension, ast.Dict, ast.Starred)
        ) and not (isinstance(parent, ast.keyword) and parent.arg == "env"):
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
                isinstance(expr.op, ast.Div) and self._outside(expr.right, depth + 1, seen))
        if isinstance(expr, ast.Name):
            if expr.id in seen:
                return False
            seen.add(expr.id)
            return any(self._outside(v, depth + 1, seen) for v in self.facts.assigned.get(expr.id, []))
        if isinstance(expr, ast.Subscript):  # os.environ["HOME"]
            return self.facts.resolve(expr.value) == "os.environ" and _const(expr.slice) in ("HOME", "USERPROFILE")
        if isinstance(expr, ast.Call):
            name = self.facts.resolve(expr.func)
            if _is(name, HOME) or (isinstance(expr.func, ast.Attribute) and expr.func.attr in ("home", "expanduser")):
                return True
            if name in ("os.getenv", "os.environ.get") and expr.args and _const(expr.args[0]) in ("HOME", "USERPROFILE"):
                return True
            return any(self._outside(a, depth + 1, seen) for a in expr.args)  # os.path.join, Path(…), str(…)
        return False


class CustomCode(SnapshotScanner):
    """Reads Python files shipped with a model as syntax trees and flags what they would do on import.

    ## Why it matters
    `auto_map` in `config.json` makes transformers import the repository's own Python files when a
    user passes `trust_remote_code=True`: that code runs with the user's privileges, on their
    machine or CI runner, with their tokens in the environment. Malicious repositories have used it
    to start shells, download second stages and steal credentials.

    ## What it checks
    Process execution and native code AIR621, network connections AIR622, eval/exec/compile,
    computed imports and deserialization AIR623, decoding fed into exec/eval/loads AIR624, writes
    and deletes outside the model cache (absolute or home paths, `shutil.rmtree`) AIR625, secret
    environment variables, the whole environment or credential files AIR626, replacing builtins
    AIR627, and a `.py` file that does not parse AIR628. Files that `auto_map` makes transformers
    import (and what they import relatively) get the rule's severity; in other Python files, code
    at module level keeps it too (it runs as soon as anything runs or imports the file), while code
    inside functions or under a `__main__` guard is reported lower (medium at most).

    ## Example
    `modeling_evil.py@line:12` calls `os.system(...)` and `config.json` maps `AutoModel` to it:
    AIR621 (critical).

    ## References
    - AML.T0010.001, AML.T0011.001, CWE-94, CWE-78, CWE-829
    """

    name = "custom_code"
    version = "1"
    rules: ClassVar[frozenset[str]] = frozenset({PROCESS, NETWORK, DYNAMIC, DECODE_EXEC, WRITE, SECRETS, BUILTINS, UNPARSEABLE})

    def scan_snapshot(self, ctx: ScanContext) -> Iterator[Finding]:
        sources = [a for a in ctx.artifacts if a.format is Format.PYTHON or a.path.endswith(".py")]
        trees: dict[str, ast.Module] = {}
        broken: list[tuple[Artifact, str]] = []
        for artifact in sources:
            tree = _parse(artifact)
            if isinstance(tree, str):
                broken.append((artifact, tree))
            else:
                trees[artifact.path] = tree
        loaded = loaded_modules(ctx, {a.path for a in sources}, trees)
        for artifact, problem in broken:
            yield self._finding(ctx, artifact, UNPARSEABLE, 1, problem, loaded.get(artifact.path))
        for artifact in sources:
            if artifact.path not in trees:
                continue
            seen: set[tuple[str, int, str]] = set()
            deferred = deferred_lines(trees[artifact.path])
            for hit in Analysis(ModuleFacts(trees[artifact.path])).run():
                if (hit.rule, hit.line, hit.what) not in seen:
                    seen.add((hit.rule, hit.line, hit.what))
                    loaded_by = loaded.get(artifact.path) or (None if hit.line in deferred else MODULE_LEVEL)
                    yield self._finding(ctx, artifact, hit.rule, hit.line, f"{hit.what}: {hit.reason}", loaded_by)

    def _finding(
        self, ctx: ScanContext, artifact: Artifact, rule: str, line: int, message: str, loaded_by: str | None
    ) -> Finding:
        severity = None if loaded_by else _demoted(ctx.rules[rule].severity)
        suffix = ""
        if loaded_by is None:
            suffix = " (not loaded through auto_map)"
        elif loaded_by == MODULE_LEVEL:
            suffix = " (not loaded through auto_map, but at module level: whatever runs or imports the file runs it)"
        return ctx.finding(rule, self.name, artifact.path, f"{artifact.path}@line:{line}", message + suffix,
                           {"loaded_by": loaded_by}, severity)


# A file nothing loads keeps the full severity for code at module level: legitimate scripts keep
# their work in functions or under `if __name__ == "__main__":`, a payload runs on import.
MODULE_LEVEL = "module level of a file anything may run or import"


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
    return (any(isinstance(side, ast.Name) and side.id == "__name__" for side in sides)
            and any(isinstance(side, ast.Constant) and side.value == "__main__" for side in sides))


def _demoted(severity: Severity) -> Severity:
    return Severity.MEDIUM if severity >= Severity.HIGH else Severity.LOW


def _parse(artifact: Artifact) -> ast.Module | str:
    """The file's syntax tree, or why there is none."""
    if artifact.size > MAX_SOURCE_BYTES:
        return f"larger than {MAX_SOURCE_BYTES} bytes: not analysed"
    try:
        return pysource.parse(artifact.location.read_bytes(), filename=artifact.path)
    except pysource.Unparseable as exc:
        return f"does not parse as Python: {exc}"


def loaded_modules(ctx: ScanContext, paths: set[str], trees: dict[str, ast.Module]) -> dict[str, str]:
    """The Python files (of `paths`) transformers imports for this snapshot, each with the reason."""
    loaded: dict[str, str] = {}
    for artifact in ctx.artifacts:
        if artifact.format is not Format.JSON or not artifact.path.endswith("config.json") or artifact.size > MAX_CONFIG_BYTES:
            continue
        try:
            config = json.loads(artifact.location.read_bytes())
        except (OSError, ValueError, RecursionError):
            continue
        for ref in _strings(config.get("auto_map") if isinstance(config, dict) else None):
            if "--" in ref or "." not in ref:
                continue  # another repository's code, or not a module reference
            module = ref.rsplit(".", 1)[0].replace(".", "/") + ".py"
            path = posixpath.join(posixpath.dirname(artifact.path), module)
            if path in paths:
                loaded.setdefault(path, f"auto_map in {artifact.path}")
    queue = [path for path in loaded if path in trees]
    while queue:
        path = queue.pop()
        for target in _relative_imports(path, trees[path]):
            if target in paths and target not in loaded:
                loaded[target] = f"imported by {path}"
                if target in trees:
                    queue.append(target)
    return loaded


def _strings(value: Any) -> Iterator[str]:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _relative_imports(path: str, tree: ast.Module) -> Iterator[str]:
    """Files a module's relative imports (`from .x import y`, `from . import x`) may name."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom) or not node.level:
            continue
        folder = posixpath.dirname(path)
        for _ in range(node.level - 1):
            folder = posixpath.dirname(folder)
        stem = posixpath.join(folder, *node.module.split(".")) if node.module else folder
        if node.module:
            yield stem + ".py"
            yield posixpath.join(stem, "__init__.py")
        for alias in node.names:
            yield posixpath.join(stem, alias.name + ".py")
