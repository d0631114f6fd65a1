"""modelscan as a second opinion, on the same artifacts airlock scans.

## Why it matters
Two independent analysers miss less than one. modelscan (Protect AI) chooses files by their
extension, so it skips a renamed checkpoint; airlock hands it each artifact under a name whose
extension matches the format detected from the bytes, so nothing modelscan can catch is missed.
Its issues become AIR971 with modelscan's own severity; its errors become AIR972. The time it
takes is this check's time in the report.

## Example
`weights` (no extension) is a pickle calling `os.system`: modelscan reports `posix.system`
(critical) → AIR971 from scanner `modelscan`, beside airlock's own AIR201.

## References
- AML.T0010.003, CWE-502
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from airlock.artifacts import Artifact
from airlock.findings import Finding, Severity
from airlock.formats import Format
from airlock.scanning import ArtifactScanner, ScanContext

# The extension modelscan needs to pick the scanner that matches the detected format.
EXTENSION: dict[Format, str] = {
    Format.PICKLE: ".pkl",
    Format.JOBLIB: ".joblib",
    Format.PYTORCH_LEGACY: ".pt",
    Format.PYTORCH_ZIP: ".pt",
    Format.TORCHSCRIPT: ".pt",
    Format.NUMPY: ".npy",
    Format.NUMPY_NPZ: ".npz",
    Format.HDF5: ".h5",
    Format.KERAS_ZIP: ".keras",
    Format.TF_SAVEDMODEL: ".pb",
    Format.ZIP: ".zip",
}
_SEVERITY = {"LOW": Severity.LOW, "MEDIUM": Severity.MEDIUM, "HIGH": Severity.HIGH, "CRITICAL": Severity.CRITICAL}


class ModelscanSecondOpinion(ArtifactScanner):
    name = "modelscan"
    version = "1"
    formats: ClassVar[frozenset[Format]] = frozenset(EXTENSION)
    rules: ClassVar[frozenset[str]] = frozenset({"AIR971", "AIR972"})

    def warm_up(self) -> None:
        import modelscan.modelscan  # noqa: F401  (h5py and numpy come with it: ~0.15 s)

    def scan(self, artifact: Artifact, ctx: ScanContext) -> Iterator[Finding]:
        result = _modelscan(artifact)
        for issue in result.get("issues", []):
            module, operator = issue.get("module", "?"), issue.get("operator", "?")
            yield ctx.finding(
                "AIR971", self.name, artifact.path, f"{artifact.path}#{module}.{operator}",
                f"modelscan: unsafe operator {module}.{operator} ({issue.get('scanner', '?')})",
                {"module": module, "operator": operator, "modelscan_severity": issue.get("severity")},
                severity=_SEVERITY.get(str(issue.get("severity")).upper(), Severity.CRITICAL),
            )
        for error in result.get("errors", []):
            yield ctx.finding(
                "AIR972", self.name, artifact.path, artifact.path,
                f"modelscan: {error.get('description') or error.get('message') or 'error'}"[:300],
                {"modelscan_error": {k: str(v) for k, v in error.items()}},
            )


# modelscan reads HDF5 through libhdf5, which a hostile file can crash: those run in a child process.
NATIVE_PARSERS = frozenset({Format.HDF5})
CHILD_TIMEOUT = 120
_CHILD = (
    "import json, logging, sys\n"
    "logging.disable(logging.CRITICAL)\n"
    "from modelscan.modelscan import ModelScan\n"
    "print(json.dumps(ModelScan().scan(sys.argv[1]), default=str))\n"
)


def _modelscan(artifact: Artifact) -> dict[str, Any]:
    """Run modelscan on one artifact through a symlink named with the extension of its real format."""
    with tempfile.TemporaryDirectory(prefix="airlock-modelscan-") as folder:
        link = Path(folder) / f"artifact{EXTENSION[artifact.format]}"
        os.symlink(artifact.location.resolve(), link)
        if artifact.format in NATIVE_PARSERS:
            return _modelscan_in_child(link)
        from modelscan.modelscan import ModelScan

        logging.getLogger("modelscan").setLevel(logging.CRITICAL)  # its findings come back as data
        return ModelScan().scan(link)


def _modelscan_in_child(link: Path) -> dict[str, Any]:
    try:
        done = subprocess.run([sys.executable, "-I", "-c", _CHILD, str(link)], capture_output=True, text=True,
                              timeout=CHILD_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        return {"errors": [{"description": f"modelscan did not finish within {CHILD_TIMEOUT} s"}]}
    if done.returncode != 0:
        how = f"signal {-done.returncode}" if done.returncode < 0 else f"exit {done.returncode}"
        return {"errors": [{"description": f"modelscan crashed on this file ({how})"}]}
    try:
        return json.loads(done.stdout)
    except ValueError:
        return {"errors": [{"description": "modelscan printed no readable result"}]}
