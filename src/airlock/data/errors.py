"""Errors of the data scan: a dataset that cannot be read, and a model that cannot give features."""

from __future__ import annotations

from pathlib import Path

from airlock.errors import AirlockError


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
