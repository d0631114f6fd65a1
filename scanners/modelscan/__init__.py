"""modelscan as a second opinion, on the same artifacts airlock scans.

## Why it matters
Two independent analysers miss less than one. modelscan (Protect AI) chooses files by their
extension, so it skips a renamed checkpoint; airlock hands it each artifact under every extension
that a loader might read it by (`views`): the format detected from the bytes, the file's own
extension (a loader keys on the name), and the pickle readings (`.pkl`: every pickle in the file;
`.pt`: the PyTorch magic, for unidentified binaries) when `pickle.load` would start executing its
first bytes (a zip that is also a pickle from byte 0, an unidentified or truncated pickle). Readings that modelscan treats alike are handed
once, so a multi-GiB PyTorch zip named `.bin` is read once; a pickle view only parses opcodes up
to the first STOP or garbage. Issues from every view count; errors only from the detected format's
own view (a file is expected to fail the readings it is not).
Its issues become AIR971 with modelscan's own severity; its errors (and a crash or time-out of the
worker process it runs in) become AIR972. modelscan flags some callables by name alone whose safety
airlock's own pickle check decides by their arguments (`[helpers]` with a `check` in
`signatures/pickle-globals.toml`: `getattr(str, "lower")` is how scikit-learn pickles
`preprocessor=str.lower`); on files that check reads, those issues are medium, because every use
outside the constraint is AIR201 (critical) from `pickle_opcodes` anyway.

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

import functools
import hashlib
import os
import tempfile
from collections import deque
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

from airlock.artifacts import Artifact
from airlock.findings import Finding, Severity
from airlock.formats import PICKLE_BASED, UNPICKLABLE, ZIP_FAMILY, Format, starts_like_pickle
from airlock.rules import read_signature_toml
from airlock.scanners.modelscan import worker as workers
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
# modelscan's own suffixes, by the reading each selects (one extension stands for each reading).
_READING: dict[str, str] = {
    **dict.fromkeys((".pkl", ".pickle", ".joblib", ".dill", ".dat", ".data"), ".pkl"),
    **dict.fromkeys((".bin", ".pt", ".pth", ".ckpt"), ".pt"),
    ".npy": ".npy",
    ".h5": ".h5",
    ".keras": ".keras",
    ".pb": ".pb",
    ".zip": ".zip",
    ".npz": ".npz",
}
_HEAD = 4096  # bytes read to tell whether pickle.load would start executing a file
_SEVERITY = {
    "LOW": Severity.LOW,
    "MEDIUM": Severity.MEDIUM,
    "HIGH": Severity.HIGH,
    "CRITICAL": Severity.CRITICAL,
}


class ModelscanSecondOpinion(ArtifactScanner):
    name = "modelscan"
    formats: ClassVar[frozenset[Format]] = frozenset(EXTENSION)
    rules: ClassVar[frozenset[str]] = frozenset({"AIR971", "AIR972"})
    version = "3"

    def __init__(self) -> None:
        self._worker: workers.Worker | None = None
        self._folder: tempfile.TemporaryDirectory[str] | None = None
        self._queue: deque[tuple[str, str]] = deque()  # (path, extension) sent, not yet answered, in order
        self._queued: set[tuple[str, str]] = set()
        self._locations: dict[str, Path] = {}
        self._answers: dict[tuple[str, str], dict[str, Any]] = {}
        self._views: dict[str, tuple[str, ...]] = {}
        self._sent = 0
        self._seconds = 0.0

    def applies(self, artifact: Artifact) -> bool:
        return bool(self.views(artifact))

    def views(self, artifact: Artifact) -> tuple[str, ...]:
        """The extensions the artifact is handed to modelscan under, the detected format's first."""
        if artifact.path not in self._views:
            self._views[artifact.path] = views(artifact)
        return self._views[artifact.path]

    def context_key(self, ctx: ScanContext) -> str:
        """The views depend on file names as well as bytes: key the cache on the names that add a reading."""
        extra = sorted(
            f"{a.sha256}{a.path[a.path.rfind('.') :].lower()}"
            for a in ctx.artifacts
            if _READING.get(_suffix(a.path)) is not None and _suffix(a.path) != EXTENSION.get(a.format)
        )
        return hashlib.sha256("\n".join(extra).encode()).hexdigest()[:16] if extra else ""

    def warm_up(self, files: Sequence[str]) -> None:
        if any(not name.lower().endswith(NEVER_READ) for name in files):
            workers.prestart()

    def start(self, artifacts: Sequence[Artifact]) -> None:
        for artifact in artifacts:
            for extension in self.views(artifact):
                self._send(artifact, extension)

    def scan(self, artifact: Artifact, ctx: ScanContext) -> Iterator[Finding]:
        seen: set[tuple[str, str]] = set()
        for index, extension in enumerate(self.views(artifact)):
            result = self._answer(artifact, extension)
            for issue in result.get("issues", []):
                module, operator = issue.get("module", "?"), issue.get("operator", "?")
                if (module, operator) in seen:
                    continue
                seen.add((module, operator))
                evidence: dict[str, object] = {
                    "module": module,
                    "operator": operator,
                    "modelscan_severity": issue.get("severity"),
                    "read_as": extension,
                }
                severity = _SEVERITY.get(str(issue.get("severity")).upper(), Severity.CRITICAL)
                if f"{module}.{operator}" in argument_checked() and artifact.format in UNPICKLABLE:
                    severity = min(severity, Severity.MEDIUM)
                    evidence["airlock"] = (
                        "pickle_opcodes judges each use by its arguments (AIR201 outside the constraint)"
                    )
                yield ctx.finding(
                    "AIR971",
                    self.name,
                    artifact.path,
                    f"{artifact.path}#{module}.{operator}",
                    f"modelscan: unsafe operator {module}.{operator} ({issue.get('scanner', '?')}, read as {extension})",
                    evidence,
                    severity=severity,
                )
            if index > 0 or artifact.format not in EXTENSION:
                continue  # a file fails the readings that are not its own format: not a missing second opinion
            for error in result.get("errors", []):
                yield ctx.finding(
                    "AIR972",
                    self.name,
                    artifact.path,
                    artifact.path,
                    f"modelscan: {error.get('description') or error.get('message') or 'error'}"[:300],
                    {"modelscan_error": {k: str(v) for k, v in error.items()}},
                )

    def note(self) -> str | None:
        return f"modelscan's own time {self._seconds:.3f} s, in a worker process beside airlock's checks"

    def _send(self, artifact: Artifact, extension: str) -> None:
        self._locations[artifact.path] = artifact.location
        self._hand(artifact.path, extension)

    def _hand(self, path: str, extension: str) -> None:
        """Hand one reading of a file to the worker, through a symlink named with that extension."""
        if self._folder is None:
            self._folder = tempfile.TemporaryDirectory(prefix="airlock-modelscan-")
        link = Path(self._folder.name) / f"{self._sent}{extension}"
        self._sent += 1
        os.symlink(self._locations[path].resolve(), link)
        if self._worker is None:
            self._worker = workers.take()
        key = (path, extension)
        self._queue.append(key)
        self._queued.add(key)
        try:
            self._worker.send(link)
        except workers.WorkerGone:
            pass  # found out, and reported, when its answer is awaited

    def _answer(self, artifact: Artifact, extension: str) -> dict[str, Any]:
        key = (artifact.path, extension)
        if key not in self._answers and key not in self._queued:
            self._send(artifact, extension)
        while key not in self._answers:
            assert self._worker is not None
            oldest = self._queue.popleft()
            self._queued.discard(oldest)
            try:
                result, seconds = self._worker.receive(CHILD_TIMEOUT)
            except workers.WorkerGone as gone:  # it died on `oldest`; the files after it get a fresh worker
                self._answers[oldest] = {"errors": [{"description": str(gone)}]}
                self._worker.close()
                self._worker = None
                waiting = list(self._queue)
                self._queue.clear()
                self._queued.clear()
                for path, ext in waiting:
                    self._hand(path, ext)
                continue
            self._answers[oldest] = result
            self._seconds += seconds
        if not self._queue:
            self._finish()
        return self._answers.pop(key)

    def _finish(self) -> None:
        if self._worker is not None:
            workers.give_back(self._worker)
            self._worker = None
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None


@functools.cache
def argument_checked() -> frozenset[str]:
    """Callables airlock's pickle check judges by their arguments (`[helpers]` entries with a `check`)."""
    helpers = read_signature_toml("pickle-globals.toml").get("helpers", {})
    return frozenset(name for name, body in helpers.items() if "check" in body)


def _suffix(path: str) -> str:
    base = path.rsplit("/", 1)[-1].lower()
    dot = base.rfind(".")
    return base[dot:] if dot > 0 else ""


def _reading(extension: str, fmt: Format) -> str:
    """What modelscan does with a file under `extension`: a zip's members are read whatever its name."""
    reading = _READING.get(extension, extension)
    return ".zip" if fmt in ZIP_FAMILY and reading in (".pt", ".zip", ".npz") else reading


def views(artifact: Artifact) -> tuple[str, ...]:
    """Every extension a loader might read the artifact by, one per distinct modelscan reading."""
    candidates: list[str] = []
    if artifact.format in EXTENSION:
        candidates.append(EXTENSION[artifact.format])
    if _suffix(artifact.path) in _READING:
        candidates.append(_suffix(artifact.path))
    # A legacy PyTorch file is not also handed as .pkl, though modelscan's .pt reading stops after the
    # magic-number pickle: its .pkl reading costs seconds per 100k tensors (4x airlock's own walk of the
    # same pickle, which pickle_opcodes always does), and would make modelscan the slower half of the scan.
    if artifact.format not in PICKLE_BASED and _pickle_head(artifact):
        candidates += (
            [".pkl", ".pt"] if artifact.format is Format.UNKNOWN else [".pkl"]
        )  # .pt: a legacy magic
    chosen: dict[str, str] = {}
    for extension in candidates:
        chosen.setdefault(_reading(extension, artifact.format), extension)
    return tuple(chosen.values())


def _pickle_head(artifact: Artifact) -> bool:
    if artifact.format not in (Format.UNKNOWN, Format.TEXT) and artifact.format not in ZIP_FAMILY:
        return False
    try:
        with open(artifact.location, "rb") as fh:
            head = fh.read(_HEAD)
    except OSError:
        return False
    return starts_like_pickle(head, binary=artifact.format is Format.UNKNOWN)


CHILD_TIMEOUT = 120  # seconds per artifact, the worker's start-up included
# Names modelscan never reads: a snapshot of only these does not need the worker started early.
NEVER_READ = (
    ".safetensors",
    ".json",
    ".txt",
    ".md",
    ".gguf",
    ".onnx",
    ".py",
    ".jinja",
    ".model",
    ".tiktoken",
    ".gitattributes",
    ".png",
    ".jpg",
    ".csv",
    ".yaml",
    ".yml",
)
