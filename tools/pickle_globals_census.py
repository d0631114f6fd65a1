"""Census of the pickle globals real libraries write: the evidence for the pickle safe list.

Builds the benign corpus (fixtures/benign_corpus.py) and the other fixture families' benign samples
(class "fixtures") into a temporary folder, opens every file the
way the `pickle_opcodes` scanner does (zip members, legacy torch files, joblib's compressors,
containers) and walks every pickle with airlock's own static walker, never loading one. For each
global (module.qualname, as the loader imports it) it counts how it is used and in which sample
classes, and writes `signatures/pickle-globals-evidence.toml` (`make safe-globals`).

Uses, per occurrence of an import:
- `reduce`, `newobj`, `newobj_ex`, `inst`, `obj`: the global is called by that opcode;
- `build`: an object the global made (through any of those calls) gets state from BUILD;
- `argument`: the global is passed to a call (in its arguments or its BUILD state);
- `persistent_id`: it sits inside a persistent id (torch storages name their type there);
- `imported_only`: none of the above (a value kept in a container, or unused).
"""

from __future__ import annotations

import _compat_pickle
import argparse
import importlib
import os
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # fixtures/ is not installed

from airlock.formats import HEAD_BYTES, TAIL_BYTES, Format, detect
from airlock.parsers import containers
from airlock.parsers import pickle_walk as walker
from airlock.parsers.buffers import mapped
from airlock.parsers.npy import parse_header
from airlock.scanning import Limits
from fixtures import benign_breadth
from fixtures.benign_corpus import BenignSample, write

OUTPUT = REPO / "signatures" / "pickle-globals-evidence.toml"
USES = ("reduce", "newobj", "newobj_ex", "inst", "obj", "build", "argument", "persistent_id", "imported_only")
_PICKLED = frozenset({Format.PICKLE, Format.JOBLIB, Format.PYTORCH_LEGACY, Format.NUMPY})
FIXTURE_FAMILIES = (
    "pickles",
    "archives",
    "weights_files",
    "templates",
    "graph_files",
    "code_files",
)  # their BENIGN samples
MAX_PICKLES_PER_STREAM = 64  # joblib and plain files hold a few; legacy torch files five


@dataclass
class Entry:
    uses: Counter[str] = field(default_factory=Counter)
    classes: set[str] = field(default_factory=set)
    samples: set[str] = field(default_factory=set)
    imports: int = 0
    written_as: set[str] = field(default_factory=set)


def loader_name(imported: Any) -> str:
    """The name the loader imports: below protocol 3 Python 2 names are mapped (__builtin__ -> builtins)."""
    module, name = imported.module, imported.name
    if imported.protocol < 3:
        module, name = _compat_pickle.NAME_MAPPING.get(
            (module, name), (_compat_pickle.IMPORT_MAPPING.get(module, module), name)
        )
    return f"{module}.{name}"


def _globals_in(value: object, found: set[int], depth: int = 0) -> None:
    """Ids of the Globals inside a symbolic value (tuples, lists, dicts; call results count as opaque)."""
    if depth > 12:
        return
    if isinstance(value, walker.Global):
        found.add(id(value))
    elif isinstance(value, tuple):
        for item in value:
            _globals_in(item, found, depth + 1)
    elif isinstance(value, walker.SymList):
        for item in value.items:
            _globals_in(item, found, depth + 1)
    elif isinstance(value, walker.SymDict):
        for item in value.items.values():
            _globals_in(item, found, depth + 1)
    elif isinstance(value, walker.Persistent):
        _globals_in(value.pid, found, depth + 1)


def _uses(result: Any) -> dict[int, set[str]]:
    """For each Global (by id) of one walk, how the pickle used it."""
    uses: dict[int, set[str]] = defaultdict(set)
    for call in result.calls:
        if isinstance(call.callee, walker.Global):
            uses[id(call.callee)].add("build" if call.opcode == "BUILD" else call.opcode.lower())
        passed: set[int] = set()
        _globals_in(call.args, passed)
        for ident in passed:
            uses[ident].add("argument")
    for persistent in result.persistent:
        ids: set[int] = set()
        _globals_in(persistent.pid, ids)
        for ident in ids:
            uses[ident].add("persistent_id")
    return uses


def _pickles(buf: Any, start: int, end: int, legacy: bool) -> Iterator[Any]:
    """Every pickle of a stream, one after the other (five in a legacy torch file), walked statically."""
    pos = start
    for index in range(5 if legacy else MAX_PICKLES_PER_STREAM):
        result = walker.walk(buf, pos, end)
        if result.error is not None and result.error_offset == pos and index > 0:
            return  # not a pickle: the bytes after the last one (torch storages, joblib arrays)
        yield result
        if result.error is not None or result.end >= end:
            return
        pos = result.end


def _format(path: Path) -> Format:
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(HEAD_BYTES)
        fh.seek(max(0, size - TAIL_BYTES))
        tail = fh.read()

        def read_at(offset: int, length: int) -> bytes:
            return os.pread(fh.fileno(), min(length, max(0, size - offset)), offset)

        return detect(head, tail, size, read_at)


def census_file(path: Path, where: str) -> Iterator[tuple[Any, str]]:
    """Walk every pickle in one file; yields (walk result, where)."""
    fmt = _format(path)
    with mapped(path) as buf:
        for item in containers.expand(buf, where, fmt, Limits()):
            if (
                not isinstance(item, containers.Leaf)
                or item.fmt not in _PICKLED
                or item.role == "torchscript-code"
            ):
                continue
            data, start, end = item.read()
            legacy = item.fmt is Format.PYTORCH_LEGACY or item.role == "prefix"
            skip = 0
            if item.fmt is Format.NUMPY:  # an object array: its data is a pickle
                header = parse_header(item.head, Limits().max_npy_header)
                if not header.has_object:
                    continue
                skip = header.data_offset
            for result in _pickles(data, start + skip, end, legacy):
                yield result, item.where


def census(root: Path, samples: list[BenignSample]) -> tuple[dict[str, Entry], dict[str, int]]:
    entries: dict[str, Entry] = defaultdict(Entry)
    stats: Counter[str] = Counter()
    for sample in samples:
        target = root / sample.path
        files = sorted(p for p in target.rglob("*") if p.is_file()) if target.is_dir() else [target]
        for path in files:
            for result, _where in census_file(path, str(path.relative_to(target.parent))):
                stats["pickles"] += 1
                stats["errors"] += result.error is not None
                uses = _uses(result)
                for imported in result.globals:
                    if not imported.resolved:
                        stats["unresolved"] += 1
                        continue
                    name = loader_name(imported)
                    entry = entries[name]
                    entry.imports += 1
                    if imported.qualified != name:
                        entry.written_as.add(imported.qualified)
                    entry.classes.add(sample.cls)
                    entry.samples.add(sample.name)
                    for use in uses.get(id(imported)) or {"imported_only"}:
                        entry.uses[use] += 1
        stats["samples"] += 1
    return dict(entries), dict(stats)


def write_fixture_samples(root: Path) -> list[BenignSample]:
    """The benign samples of the other fixture families (the ones tests/integration/test_corpus.py scans), class "fixtures"."""
    samples = []
    for family in FIXTURE_FAMILIES:
        module = importlib.import_module(f"fixtures.{family}")
        for name, generator in sorted(getattr(module, "BENIGN", {}).items()):
            folder = root / family / name
            folder.mkdir(parents=True)
            made = Path(generator(folder))
            where = (
                made.relative_to(root.parent) if made.is_relative_to(root.parent) else made
            )  # real files stay where they are
            samples.append(BenignSample(f"{family}.{name}", "fixtures", where))
    return samples


def write_breadth_samples(root: Path, hold_out: bool) -> list[BenignSample]:
    """The census-only breadth samples (fixtures/benign_breadth.py) the benign corpus does not scan one by one."""
    table = benign_breadth.census_only(hold_out)
    if benign_breadth.SKIPPED:
        print(
            f"{len(benign_breadth.SKIPPED)} sklearn estimators need arguments or other data (the meta-estimators are "
            f"built as wrappers instead): {', '.join(sorted(benign_breadth.SKIPPED))}"
        )
    return [BenignSample(name, cls, path) for name, cls, path in benign_breadth.iter_written(root, table)]


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _toml_list(items: list[str]) -> str:
    return "[" + ", ".join(_toml_string(i) for i in items) + "]"


VERSIONED = ("numpy", "scipy", "pandas", "sklearn", "joblib", "torch", "transformers")


def library_versions() -> dict[str, str]:
    """The versions of the libraries that wrote the samples (the evidence holds for these)."""
    versions = {"python": sys.version.split()[0]}
    for name in VERSIONED:
        versions[name] = getattr(importlib.import_module(name), "__version__", "?")
    return versions


def render(
    entries: dict[str, Entry], stats: dict[str, int], samples: list[BenignSample], held_out: bool = False
) -> str:
    classes = Counter(s.cls for s in samples)
    per_use = {use: sum(1 for e in entries.values() if e.uses[use]) for use in USES}
    lines = [
        "# Generated by `make safe-globals` (tools/pickle_globals_census.py): do not edit by hand.",
        "# Every pickle global the benign corpus (fixtures/benign_corpus.py, written by the real libraries), the",
        "# census-only breadth samples (fixtures/benign_breadth.py: every default-constructible sklearn estimator,",
        "# pandas, SciPy sparse, torch optimizers/schedulers/modules, transformers objects) and the other fixture",
        "# families' benign samples (class \"fixtures\") import, found by airlock's static",
        "# walker without loading anything. The evidence tools/build_safe_globals.py derives the [generated]",
        "# safe list in pickle-globals.toml from.",
        "# uses: how many imports of the global were called by REDUCE / NEWOBJ / NEWOBJ_EX / INST / OBJ,",
        "# gave the object they made state through BUILD, were passed as an argument (or in BUILD state),",
        "# sat inside a persistent id, or none of these (imported_only). One import can have several uses.",
        "",
        "[summary]",
        f"samples = {stats.get('samples', 0)}",
        f"pickles = {stats.get('pickles', 0)}",
        f"pickles_with_errors = {stats.get('errors', 0)}",
        f"unresolved_imports = {stats.get('unresolved', 0)}",
        f"distinct_globals = {len(entries)}",
        f"sklearn_held_out = {'true' if held_out else 'false'}",
        "versions = { " + ", ".join(f"{k} = {_toml_string(v)}" for k, v in library_versions().items()) + " }",
        "classes = { " + ", ".join(f"{_toml_string(k)} = {v}" for k, v in sorted(classes.items())) + " }",
        "distinct_globals_per_use = { " + ", ".join(f"{k} = {v}" for k, v in per_use.items()) + " }",
    ]
    for name in sorted(entries):
        entry = entries[name]
        lines += [
            "",
            "[[global]]",
            f"name = {_toml_string(name)}",
            f"imports = {entry.imports}",
            "uses = { " + ", ".join(f"{u} = {entry.uses[u]}" for u in USES if entry.uses[u]) + " }",
            f"classes = {_toml_list(sorted(entry.classes))}",
            f"samples = {len(entry.samples)}",
        ]
        if entry.written_as:
            lines.append(f"written_as = {_toml_list(sorted(entry.written_as))}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument(
        "--hold-out",
        action="store_true",
        help="leave out the held-out fifth of the sklearn estimators (fixtures.benign_breadth.held_out)",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="airlock-benign-") as tmp:
        root = Path(tmp) / "corpus"
        samples = write(root) + write_fixture_samples(root / "fixtures")
        breadth = write_breadth_samples(root / "breadth", args.hold_out)
        samples += [BenignSample(s.name, s.cls, Path("breadth") / s.path) for s in breadth]
        entries, stats = census(root, samples)
    args.output.write_text(render(entries, stats, samples, args.hold_out))
    per_use = {use: sum(1 for e in entries.values() if e.uses[use]) for use in USES}
    print(
        f"{stats.get('pickles', 0)} pickles in {len(samples)} samples: {len(entries)} distinct globals; per use {per_use}"
    )
    print(f"written {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
