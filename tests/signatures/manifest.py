"""The digest of signatures/ recorded for its VERSION: rule data never changes without a version bump.

`signatures/MANIFEST` holds the VERSION and the sha256 over every file in signatures/ except
VERSION, MANIFEST and CHANGELOG.md. `python -m tests.signatures.manifest --write` (`make
signatures-manifest`) rewrites it, and refuses while the data changed under an unchanged VERSION
or the CHANGELOG has no entry for the VERSION.
"""

from __future__ import annotations

import hashlib
import re
import sys
from dataclasses import dataclass
from pathlib import Path

SIGNATURES = Path(__file__).resolve().parents[2] / "signatures"
NOT_DIGESTED = frozenset({"VERSION", "MANIFEST", "CHANGELOG.md"})
HEADER = (
    "# The sha256 of signatures/ (every file but VERSION, MANIFEST and CHANGELOG.md) for this VERSION.\n"
    "# Written by `make signatures-manifest`; tests/signatures/test_manifest.py checks it.\n"
)


@dataclass(frozen=True)
class Manifest:
    version: str
    sha256: str


def digest(root: Path = SIGNATURES) -> str:
    """sha256 over (relative path, NUL, content digest) of each data file, in path order."""
    total = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if path.is_dir() or rel.as_posix() in NOT_DIGESTED or "__pycache__" in rel.parts:
            continue
        total.update(rel.as_posix().encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return total.hexdigest()


def version(root: Path = SIGNATURES) -> str:
    return (root / "VERSION").read_text(encoding="utf-8").strip()


def recorded(root: Path = SIGNATURES) -> Manifest:
    fields = dict(
        line.split(None, 1)
        for line in (root / "MANIFEST").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    )
    return Manifest(fields["version"].strip(), fields["sha256"].strip())


def changelog_versions(root: Path = SIGNATURES) -> list[str]:
    """Versions with a `## VERSION` heading in CHANGELOG.md, newest first."""
    text = (root / "CHANGELOG.md").read_text(encoding="utf-8")
    return re.findall(r"^## (\S+)", text, flags=re.MULTILINE)


def problems(root: Path = SIGNATURES) -> list[str]:
    """What is out of step between the data, VERSION, MANIFEST and CHANGELOG.md (empty when all agree)."""
    found = []
    current, data = version(root), digest(root)
    record = recorded(root) if (root / "MANIFEST").exists() else Manifest("", "")
    if data != record.sha256 and current == record.version:
        found.append(
            f"signatures changed under VERSION {current}: bump VERSION and add a CHANGELOG entry, "
            "then run `make signatures-manifest`"
        )
    elif record != Manifest(current, data):
        found.append(
            f"MANIFEST records {record.version or 'nothing'}, VERSION is {current}: run `make signatures-manifest`"
        )
    versions = changelog_versions(root)
    if not versions or versions[0] != current:
        found.append(
            f"signatures/CHANGELOG.md: the newest entry must be `## {current}` (it is {versions[:1]})"
        )
    return found


def write(root: Path = SIGNATURES) -> None:
    current, data = version(root), digest(root)
    if (root / "MANIFEST").exists():
        record = recorded(root)
        if record.version == current and record.sha256 != data:
            raise SystemExit(f"signatures changed but VERSION is still {current}: bump it first")
    versions = changelog_versions(root)
    if not versions or versions[0] != current:
        raise SystemExit(f"signatures/CHANGELOG.md has no entry `## {current}` at the top: add one first")
    (root / "MANIFEST").write_text(f"{HEADER}version {current}\nsha256 {data}\n", encoding="utf-8")
    print(f"signatures/MANIFEST: {current} {data}")


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        write()
    else:
        sys.exit("\n".join(problems()) or None)
