"""Errors airlock raises on purpose. Each one explains itself in one line via `diagnostics()`.

Third-party exceptions are translated into these at the boundary (sources, rule loading), once.
"""

from __future__ import annotations

from pathlib import Path


class AirlockError(Exception):
    """Base for every error airlock raises on purpose."""

    def diagnostics(self) -> str:
        return str(self)


class InvalidReference(AirlockError):
    """The model reference is neither an existing path nor a valid Hub repo id."""

    def __init__(self, reference: str, why: str) -> None:
        super().__init__(f"{reference!r}: {why}")
        self.reference = reference


class SourceError(AirlockError):
    """A source could not produce a snapshot."""


class LocalPathError(SourceError):
    def __init__(self, path: Path | str, why: str) -> None:
        super().__init__(f"{path}: {why}")
        self.path = str(path)


class RepoNotFound(SourceError):
    def __init__(self, repo_id: str, endpoint: str) -> None:
        super().__init__(f"{repo_id}: repository not found on {endpoint}")
        self.repo_id, self.endpoint = repo_id, endpoint

    def diagnostics(self) -> str:
        return f"{self} (check the name; private repos need HF_TOKEN)"


class RevisionNotFound(SourceError):
    def __init__(self, repo_id: str, revision: str) -> None:
        super().__init__(f"{repo_id}: revision {revision!r} not found")
        self.repo_id, self.revision = repo_id, revision

    def diagnostics(self) -> str:
        return f"{self}; check the branch/tag name on the Hub, or pin a commit sha"


class AccessDenied(SourceError):
    def __init__(self, repo_id: str, why: str) -> None:
        super().__init__(f"{repo_id}: access denied ({why})")
        self.repo_id = repo_id


class SourceUnreachable(SourceError):
    def __init__(self, endpoint: str, why: str) -> None:
        super().__init__(f"{endpoint}: unreachable ({why})")
        self.endpoint = endpoint


class DownloadFailed(SourceError):
    def __init__(self, repo_id: str, why: str) -> None:
        super().__init__(f"{repo_id}: download failed ({why})")
        self.repo_id = repo_id


class ArtifactError(AirlockError):
    def __init__(self, path: Path | str, why: str) -> None:
        super().__init__(f"{path}: {why}")
        self.path = str(path)


class RuleDataError(AirlockError):
    """The shipped signatures/ data is inconsistent (a packaging bug, never user input)."""


class PolicyError(AirlockError):
    def __init__(self, source: str, why: str) -> None:
        super().__init__(f"policy {source}: {why}")
        self.source = source


class ScannerError(AirlockError):
    """A scanner itself broke (not the file it read)."""


class ReportError(AirlockError):
    """A report could not be read or does not follow airlock.report/v1."""


class DatasetError(AirlockError):
    """A dataset is missing, malformed, empty, or in a layout airlock does not read."""

    def __init__(self, path: Path | str, why: str) -> None:
        super().__init__(f"{path}: {why}")
        self.path = str(path)


class MissingDependency(AirlockError):
    """An optional package that this input needs is not installed."""

    def __init__(self, package: str, extra: str, needed_for: str) -> None:
        super().__init__(f"{needed_for} needs {package}: pip install 'model-airlock[{extra}]'")
        self.package, self.extra = package, extra


class ModelRefused(AirlockError):
    """A model that airlock will not load (remote code, unknown architecture, failed static scan)."""

    def __init__(self, reference: str, why: str) -> None:
        super().__init__(f"model {reference}: {why}")
        self.reference = reference


class RemoteCodeRefused(ModelRefused):
    """The model (or its tokenizer) asks for code shipped with it (`auto_map`): never run."""

    def __init__(self, reference: str, name: str) -> None:
        super().__init__(reference, f"{name} asks for remote code (auto_map); airlock never runs model code")
        self.file = name


class ArchRefused(ModelRefused):
    """`--arch` does not name a usable factory (or names code shipped with the model)."""

    def __init__(self, spec: str, why: str) -> None:
        super().__init__(f"--arch {spec}", why)
        self.spec = spec
