"""The custom_code scanner: Python files shipped with a model, read as syntax trees and never imported.

The analysis of one file (names resolved through imports and assignments, looked up in the
capability map) is `airlock.analysis.pycode`; this plug-in decides which files transformers would
import (`auto_map` in the snapshot's `*config.json` files, followed through their relative
imports) and how severe each hit is for a file loaded that way or not.
"""

from __future__ import annotations

import ast
import json
import posixpath
from collections.abc import Iterator
from typing import Any, ClassVar

from airlock.analysis.pycode import (
    BUILTINS,
    DECODE_EXEC,
    DYNAMIC,
    NAMESPACES,
    NETWORK,
    OBFUSCATED,
    PROCESS,
    REMOTE_CODE,
    SECRETS,
    UNPARSEABLE,
    WRITE,
    Analysis,
    ModuleFacts,
)
from airlock.artifacts import Artifact
from airlock.findings import Finding, Severity
from airlock.formats import Format
from airlock.parsers import pysource
from airlock.scanning import ScanContext, SnapshotScanner

MAX_SOURCE_BYTES = 4 << 20
MAX_CONFIG_BYTES = 8 << 20


class CustomCode(SnapshotScanner):
    """Reads Python files shipped with a model as syntax trees and flags what they would do on import.

    ## Why it matters
    `auto_map` in `config.json` makes transformers import the repository's own Python files when a
    user passes `trust_remote_code=True`: that code runs with the user's privileges, on their
    machine or CI runner, with their tokens in the environment. Malicious repositories have used it
    to start shells, download second stages and steal credentials.

    ## What it checks
    Every name a file references is resolved (imports and their aliases, `from m import *`,
    assignments, attribute chains and re-exports such as `os.path.os`, constant `getattr` and
    `__import__`) and looked up in the capability map, `signatures/code-capabilities.toml`; a
    reference counts even if it is never called (passed to `map`, stored in a dict, a default
    argument, a decorator). Process execution and native code AIR621, network AIR622, exec/eval/
    compile, the import machinery and deserialization AIR623, decoding fed into exec/eval/loads
    AIR624, deleting or moving files and writes outside the model cache AIR625, secret environment
    variables, the whole environment or credential files AIR626, replacing builtins AIR627, a `.py`
    file that does not parse AIR628, obfuscation (names spelled from pieces or character codes,
    exec of assembled strings, long encoded literals) AIR629, interpreter namespaces (`sys.modules`,
    `globals()`, `vars()`, `builtins`) AIR631. A file `auto_map` loads that references nothing
    dangerous is still code that runs under trust_remote_code: AIR632 (medium), once per file,
    when no loaded file raised anything else. Files that `auto_map` makes transformers import (and
    what they import relatively) get the capability's severity; in other Python files, code at
    module level keeps it too (it runs as soon as anything runs or imports the file), imports alone
    are not reported, and code inside functions or under a `__main__` guard is reported lower
    (medium at most). A policy may approve reviewed files by sha256 (`[code] approved`): their
    findings drop to info.

    ## Example
    `modeling_evil.py@line:12` calls `os.system(...)` and `config.json` maps `AutoModel` to it:
    AIR621 (critical).

    ## References
    - AML.T0010.001, AML.T0011.001, CWE-94, CWE-78, CWE-829
    """

    name = "custom_code"
    version = "2"
    rules: ClassVar[frozenset[str]] = frozenset(
        {
            PROCESS,
            NETWORK,
            DYNAMIC,
            DECODE_EXEC,
            WRITE,
            SECRETS,
            BUILTINS,
            UNPARSEABLE,
            OBFUSCATED,
            NAMESPACES,
            REMOTE_CODE,
        }
    )

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
        flagged: set[str] = set()
        for artifact, problem in broken:
            flagged.add(artifact.path)
            yield self._finding(ctx, artifact, UNPARSEABLE, 1, problem, loaded.get(artifact.path))
        for artifact in sources:
            if artifact.path not in trees:
                continue
            seen: set[tuple[str, int, str]] = set()
            analysis = Analysis(ModuleFacts(trees[artifact.path]))
            deferred = analysis.deferred
            for hit in analysis.run():
                if hit.statement and artifact.path not in loaded:
                    continue  # an import in a file nothing loads runs nothing by itself; its uses are reported
                if (hit.rule, hit.line, hit.what) not in seen:
                    seen.add((hit.rule, hit.line, hit.what))
                    flagged.add(artifact.path)
                    loaded_by = loaded.get(artifact.path) or (None if hit.line in deferred else MODULE_LEVEL)
                    yield self._finding(
                        ctx,
                        artifact,
                        hit.rule,
                        hit.line,
                        f"{hit.what}: {hit.reason}",
                        loaded_by,
                        hit.severity,
                    )
        if not flagged & loaded.keys():  # trust_remote_code still runs this code: say so, once per file
            for artifact in sources:
                if artifact.path in loaded:
                    yield self._finding(
                        ctx,
                        artifact,
                        REMOTE_CODE,
                        1,
                        "runs with trust_remote_code (no dangerous capability found)",
                        loaded[artifact.path],
                    )

    def _finding(
        self,
        ctx: ScanContext,
        artifact: Artifact,
        rule: str,
        line: int,
        message: str,
        loaded_by: str | None,
        severity: Severity | None = None,
    ) -> Finding:
        if loaded_by is None:
            severity = _demoted(severity or ctx.rules[rule].severity)
        suffix = ""
        if loaded_by is None:
            suffix = " (not loaded through auto_map)"
        elif loaded_by == MODULE_LEVEL:
            suffix = " (not loaded through auto_map, but at module level: whatever runs or imports the file runs it)"
        return ctx.finding(
            rule,
            self.name,
            artifact.path,
            f"{artifact.path}@line:{line}",
            message + suffix,
            {"loaded_by": loaded_by, "sha256": artifact.sha256},
            severity,
        )


# A file nothing loads keeps the full severity for code at module level: legitimate scripts keep
# their work in functions or under `if __name__ == "__main__":`, a payload runs on import.
MODULE_LEVEL = "module level of a file anything may run or import"


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
        if (
            artifact.format is not Format.JSON
            or not artifact.path.endswith("config.json")
            or artifact.size > MAX_CONFIG_BYTES
        ):
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
