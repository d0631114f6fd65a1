"""MLflow source: a registered model version (`models:/NAME/VERSION`) downloaded by MLflow's own client.

`mlflow.artifacts.download_artifacts` resolves the version to its source (a run's or a logged model's
artifacts) and fetches them from the tracking server's artifact store; the folder is then scanned like
any local one, under the `models:/…` reference. The tracking server comes from `MLFLOW_TRACKING_URI`
(or `tracking_uri`). Needs the `mlflow` extra (`mlflow-skinny` is enough).
"""

from __future__ import annotations

import re
from pathlib import Path

from airlock.errors import DownloadFailed, SourceError
from airlock.sources.interface import Reference, Snapshot

_MODEL_VERSION = re.compile(r"^models:/([^/\x00-\x1f]{1,256})/([0-9]{1,9})$")


def is_model_version(reference: str) -> bool:
    return bool(_MODEL_VERSION.match(reference))


def model_version(name: str, version: str) -> str:
    """The reference of one registered model version; raises ValueError for names MLflow cannot have."""
    reference = f"models:/{name}/{version}"
    if not is_model_version(reference):
        raise ValueError(f"not a model version: name {name!r}, version {version!r}")
    return reference


def fetch_mlflow(reference: str, dest: Path, *, tracking_uri: str | None = None) -> Snapshot:
    """Download the artifacts of `models:/NAME/VERSION` into `dest` and open them as a snapshot."""
    if not is_model_version(reference):
        raise SourceError(f"{reference!r}: not an MLflow model version (models:/NAME/VERSION)")
    try:
        import mlflow.artifacts
        from mlflow.exceptions import MlflowException
    except ImportError:
        raise SourceError(
            "MLflow model versions need the mlflow extra: pip install 'model-airlock[mlflow]'"
        ) from None
    try:
        folder = mlflow.artifacts.download_artifacts(
            artifact_uri=reference, dst_path=str(dest), tracking_uri=tracking_uri
        )
    except (MlflowException, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DownloadFailed(reference, first) from None
    from airlock.sources.local import open_local

    return open_local(Reference(raw=reference, kind="local", path=Path(folder)))
