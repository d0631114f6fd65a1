"""archives: what is wrong with the containers themselves (zip, tar, 7z, compressed streams, nested).

The contents are someone else's job: `pickle_opcodes` and `numpy_arrays` analyse what these
containers hold, through the same `airlock.parsers.containers.expand` walk.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from airlock.artifacts import Artifact
from airlock.findings import Finding
from airlock.formats import Format
from airlock.parsers.buffers import mapped
from airlock.parsers.containers import CONTAINERS, Anomaly, expand
from airlock.scanning import ArtifactScanner, ScanContext

RULE_OF = {
    "crc": "AIR301",
    "header": "AIR302",
    "prefix": "AIR303",
    "duplicate": "AIR304",
    "path": "AIR305",
    "link": "AIR306",
    "limit": "AIR307",
    "depth": "AIR308",
    "unreadable": "AIR309",
    "native": "AIR310",
}


class Archives(ArtifactScanner):
    """Opens containers the way loaders open them and reports what strict readers would choke on.

    ## Why it matters
    Scanners and loaders read archives differently. PyTorch loads a zip member whose CRC is wrong,
    whose local header names another file, or that sits after a prefix; strict readers give up on
    it, and a scanner that gives up passes the file. Archives also carry the classic extraction
    attacks: names that climb out of the target folder, links, duplicates, and bombs.

    ## What it checks
    CRC mismatches (AIR301), local headers or flags that disagree with the directory (AIR302),
    bytes before a zip (AIR303), duplicate names (AIR304), absolute or `..` names (AIR305), links
    and devices (AIR306), limits on ratio, size, count, overlap and time (AIR307), nesting deeper
    than `Limits.max_nesting` (AIR308), containers that cannot be read to the end (AIR309), and
    compiled libraries or executables inside a container (AIR310).
    Every member is analysed regardless by the content scanners.

    ## Example
    `model.pt` is a PyTorch zip whose `archive/data.pkl` has a wrong CRC: AIR301 (high), and
    `pickle_opcodes` still reports the `os.system` inside.

    ## References
    - AML.T0010.003, CWE-22, CWE-409, CVE-2025-10156, CVE-2025-1944, CVE-2025-1945
    """

    name = "archives"
    version = "3"
    formats: ClassVar[frozenset[Format]] = CONTAINERS
    rules: ClassVar[frozenset[str]] = frozenset(RULE_OF.values())

    def scan(self, artifact: Artifact, ctx: ScanContext) -> Iterator[Finding]:
        seen: set[tuple[str, str, str]] = set()
        with mapped(artifact.location) as buf:
            for item in expand(buf, artifact.path, artifact.format, ctx.limits):
                if not isinstance(item, Anomaly):
                    continue
                key = (item.kind, item.where, item.message)
                if key in seen:
                    continue
                seen.add(key)
                evidence = {"container_check": item.kind, **item.evidence}
                yield ctx.finding(
                    RULE_OF[item.kind], self.name, artifact.path, item.where, item.message, evidence
                )
