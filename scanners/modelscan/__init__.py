"""modelscan as a second opinion, on the same artifacts airlock scans.

## Why it matters
Two independent analysers miss less than one. modelscan (Protect AI) chooses files by their
extension, so it skips a renamed checkpoint; airlock hands it each artifact under a name whose
extension matches the format detected from the bytes, so nothing modelscan can catch is missed.
Its issues become AIR971 with modelscan's own severity; its errors (and a crash or time-out of the
worker process it runs in) become AIR972.

modelscan runs in a worker process (`worker`): the files are handed to it as soon as they
are hashed (`start`), so it works on the other core while airlock's own checks run, and a scan
costs the longer of the two, not their sum. The check's reason in the report gives modelscan's
own time.

## Example
`weights` (no extension) is a pickle calling `os.system`: modelscan reports `posix.system`
(critical) → AIR971 from scanner `modelscan`, beside airlock's own AIR201.

## References
- AML.T0010.003, CWE-502
"""

from __future__ import annotations

import os
import tempfile
from collections import deque
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

from airlock.scanners.modelscan import worker as workers

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

    def __init__(self) -> None:
        self._worker: workers.Worker | None = None
        self._folder: tempfile.TemporaryDirectory[str] | None = None
        self._queue: deque[Artifact] = deque()  # sent, not yet answered, in the order sent
        self._queued: set[str] = set()
        self._answers: dict[str, dict[str, Any]] = {}
        self._sent = 0
        self._seconds = 0.0

    def warm_up(self, files: Sequence[str]) -> None:
        if any(not name.lower().endswith(NEVER_READ) for name in files):
            workers.prestart()

    def start(self, artifacts: Sequence[Artifact]) -> None:
        for artifact in artifacts:
            self._send(artifact)

    def scan(self, artifact: Artifact, ctx: ScanContext) -> Iterator[Finding]:
        result = self._answer(artifact)
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

    def note(self) -> str | None:
        return f"modelscan's own time {self._seconds:.3f} s, in a worker process beside airlock's checks"

    def _send(self, artifact: Artifact) -> None:
        """Hand one artifact to the worker, through a symlink named with the extension of its real format."""
        if self._folder is None:
            self._folder = tempfile.TemporaryDirectory(prefix="airlock-modelscan-")
        link = Path(self._folder.name) / f"{self._sent}{EXTENSION[artifact.format]}"
        self._sent += 1
        os.symlink(artifact.location.resolve(), link)
        if self._worker is None:
            self._worker = workers.take()
        self._queue.append(artifact)
        self._queued.add(artifact.path)
        try:
            self._worker.send(link)
        except workers.WorkerGone:
            pass  # found out, and reported, when its answer is awaited

    def _answer(self, artifact: Artifact) -> dict[str, Any]:
        if artifact.path not in self._answers and artifact.path not in self._queued:
            self._send(artifact)
        while artifact.path not in self._answers:
            assert self._worker is not None
            oldest = self._queue.popleft()
            self._queued.discard(oldest.path)
            try:
                result, seconds = self._worker.receive(CHILD_TIMEOUT)
            except workers.WorkerGone as gone:  # it died on `oldest`; the files after it get a fresh worker
                self._answers[oldest.path] = {"errors": [{"description": str(gone)}]}
                self._worker.close()
                self._worker = None
                waiting = list(self._queue)
                self._queue.clear()
                self._queued.clear()
                for other in waiting:
                    self._send(other)
                continue
            self._answers[oldest.path] = result
            self._seconds += seconds
        if not self._queue:
            self._finish()
        return self._answers.pop(artifact.path)

    def _finish(self) -> None:
        if self._worker is not None:
            workers.give_back(self._worker)
            self._worker = None
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None


CHILD_TIMEOUT = 120  # seconds per artifact, the worker's start-up included
# Names modelscan never reads: a snapshot of only these does not need the worker started early.
NEVER_READ = (".safetensors", ".json", ".txt", ".md", ".gguf", ".onnx", ".py", ".jinja", ".model", ".tiktoken",
              ".gitattributes", ".png", ".jpg", ".csv", ".yaml", ".yml")
