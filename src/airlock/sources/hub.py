"""Hub source: resolve `ORG/NAME@REV` to a commit sha and download that snapshot.

The real `huggingface_hub` client does the talking (endpoint passed explicitly: the client reads
`HF_ENDPOINT` only when it is imported). Its exceptions are translated here, once. The client
checks only the size of what it downloads; the provenance scanner re-checks every byte against the
records gathered here.
"""

from __future__ import annotations

import errno
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from airlock import config
from airlock.errors import (
    AccessDenied,
    DownloadFailed,
    RepoNotFound,
    RevisionNotFound,
    SourceError,
    SourceUnreachable,
)
from airlock.sources.interface import HubFile, HubMetadata, Reference, Snapshot
from airlock.sources.local import DEFAULT_IGNORES, hub_cache_metadata, walk_files


def fetch_hub(
    reference: Reference,
    *,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    cache_dir: Path | None = None,
    endpoint: str | None = None,
    token: str | None = None,
    offline: bool | None = None,
    progress: bool = True,
) -> Snapshot:
    """Resolve, download (or reuse the cache) and describe a Hub snapshot."""
    assert reference.repo_id is not None
    _quiet_client_logs()
    endpoint = (endpoint or config.hf_endpoint()).rstrip("/")
    token = token if token is not None else config.hf_token()
    offline = config.hf_offline() if offline is None else offline
    cache = cache_dir or config.hf_hub_cache()
    with _translated(reference, endpoint, cache):
        if offline:
            folder = _download(
                reference, reference.revision, include, exclude, cache, endpoint, token, progress, True
            )
            files = walk_files(folder, include=tuple(include), ignores=DEFAULT_IGNORES + tuple(exclude))
            meta = hub_cache_metadata(folder, files)
            sha = folder.name
            hub = meta or HubMetadata(
                reference.repo_id, endpoint, reference.revision, sha, {}, from_cache_only=True
            )
            hub = HubMetadata(
                hub.repo_id, endpoint, reference.revision, sha, hub.files, {}, from_cache_only=True
            )
        else:
            hub = _metadata(reference, endpoint, token)
            folder = _download(reference, hub.sha, include, exclude, cache, endpoint, token, progress, False)
            _record_ref(cache, reference, hub.sha)
            files = walk_files(folder, include=tuple(include), ignores=DEFAULT_IGNORES + tuple(exclude))
    if not files:
        raise DownloadFailed(reference.repo_id, "no files matched (check --include/--exclude)")
    return Snapshot(
        reference=reference,
        source="hf",
        root=folder,
        files=files,
        revision=hub.sha,
        hub=hub,
        ignored=tuple(exclude),
    )


def _record_ref(cache: Path, reference: Reference, sha: str) -> None:
    """Remember which commit a branch or tag named, as the client does, so offline mode can find it.

    airlock downloads by sha (the branch cannot move mid-scan), which the client does not record.
    """
    if reference.pinned:
        return
    assert reference.repo_id is not None
    org, name = reference.repo_id.split("/", 1)
    ref = cache / f"models--{org}--{name}" / "refs" / (reference.revision or "main")
    try:
        ref.parent.mkdir(parents=True, exist_ok=True)
        ref.write_text(sha)
    except OSError:
        pass  # only a convenience for later offline runs


def _quiet_client_logs() -> None:
    """The client logs each retry as a warning; airlock reports the outcome in one line instead.

    Set after importing the client: its import configures its own logger level.
    """
    import logging

    import huggingface_hub  # noqa: F401  (configures the "huggingface_hub" logger)

    if not logging.getLogger("airlock").isEnabledFor(logging.DEBUG):
        logging.getLogger("huggingface_hub").setLevel(logging.ERROR)


def _metadata(reference: Reference, endpoint: str, token: str | None) -> HubMetadata:
    from huggingface_hub import HfApi

    assert reference.repo_id is not None
    api = HfApi(endpoint=endpoint, token=token or None)
    info = api.model_info(
        reference.repo_id, revision=reference.revision, files_metadata=True, securityStatus=True
    )
    if not info.sha:
        raise SourceError(
            f"{reference.repo_id}: the Hub did not return a commit sha for {reference.revision!r}"
        )
    files: dict[str, HubFile] = {}
    for sibling in info.siblings or ():
        files[sibling.rfilename] = HubFile(
            path=sibling.rfilename,
            size=sibling.size,
            blob_id=sibling.blob_id,
            lfs_sha256=sibling.lfs.sha256 if sibling.lfs is not None else None,
        )
    files = _with_file_security(api, reference.repo_id, info.sha, files)
    return HubMetadata(
        repo_id=reference.repo_id,
        endpoint=endpoint,
        requested_revision=reference.revision,
        sha=info.sha,
        files=files,
        info=_facts(info),
    )


def _with_file_security(api: Any, repo_id: str, sha: str, files: dict[str, HubFile]) -> dict[str, HubFile]:
    """Fold in the Hub's per-file scan status when the tree API gives it (best effort: evidence only)."""
    from huggingface_hub.hf_api import RepoFile

    try:
        entries = list(api.list_repo_tree(repo_id, recursive=True, expand=True, revision=sha))
    except Exception:  # noqa: BLE001  an optional enrichment; the download path reports real failures
        return files
    out = dict(files)
    for entry in entries:
        if isinstance(entry, RepoFile) and entry.security is not None and entry.path in out:
            sec = entry.security
            record = out[entry.path]
            out[entry.path] = HubFile(
                record.path,
                record.size,
                record.blob_id,
                record.lfs_sha256,
                {"status": sec.status, "av_scan": sec.av_scan, "pickle_import_scan": sec.pickle_import_scan},
            )
    return out


def _facts(info: Any) -> dict[str, Any]:
    card = info.card_data.to_dict() if getattr(info, "card_data", None) is not None else None

    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "author": info.author,
        "created_at": iso(info.created_at),
        "last_modified": iso(info.last_modified),
        "private": info.private,
        "gated": info.gated,
        "disabled": info.disabled,
        "downloads": info.downloads,
        "likes": info.likes,
        "library_name": info.library_name,
        "pipeline_tag": info.pipeline_tag,
        "tags": list(info.tags or ()),
        "card_data": card,
        "security_repo_status": info.security_repo_status,
    }


def _download(
    reference: Reference,
    revision: str | None,
    include: Sequence[str],
    exclude: Sequence[str],
    cache: Path,
    endpoint: str,
    token: str | None,
    progress: bool,
    local_only: bool,
) -> Path:
    from huggingface_hub import snapshot_download
    from huggingface_hub.utils import disable_progress_bars, enable_progress_bars

    assert reference.repo_id is not None
    if not progress:
        disable_progress_bars()
    try:
        folder = snapshot_download(
            reference.repo_id,
            revision=revision,
            cache_dir=cache,
            allow_patterns=list(include) or None,
            ignore_patterns=list(exclude) or None,
            endpoint=endpoint,
            token=token or None,
            local_files_only=local_only,
        )
    finally:
        if not progress:
            enable_progress_bars()
    return Path(folder)


class _translated:
    """Context manager that turns huggingface_hub / httpx exceptions into airlock SourceErrors."""

    def __init__(self, reference: Reference, endpoint: str, cache: Path) -> None:
        self.reference, self.endpoint, self.cache = reference, endpoint, cache

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: object) -> bool:
        if exc is None or isinstance(exc, SourceError) or not isinstance(exc, Exception):
            return False
        raise _translate(exc, self.reference, self.endpoint, self.cache) from exc


def _translate(exc: Exception, reference: Reference, endpoint: str, cache: Path) -> SourceError:
    from huggingface_hub import errors as hf

    repo = reference.repo_id or reference.raw
    if isinstance(exc, hf.GatedRepoError):
        return AccessDenied(repo, "gated: accept the terms on the Hub and set HF_TOKEN")
    if isinstance(exc, hf.RevisionNotFoundError):
        return RevisionNotFound(repo, reference.revision or "main")
    if isinstance(exc, hf.DisabledRepoError):
        return AccessDenied(repo, "the repository is disabled on the Hub")
    if isinstance(exc, hf.RepositoryNotFoundError):
        return RepoNotFound(repo, endpoint)
    if isinstance(exc, (hf.OfflineModeIsEnabled, hf.LocalEntryNotFoundError)):
        if config.hf_offline():
            return DownloadFailed(
                repo, f"not in the local cache {cache} and offline mode is on (HF_HUB_OFFLINE)"
            )
        if isinstance(exc.__cause__, Exception):  # the client wraps the network error it fell back from
            return _translate(exc.__cause__, reference, endpoint, cache)
        return DownloadFailed(repo, _first_line(exc))
    if isinstance(exc, hf.HfHubHTTPError):
        status = exc.response.status_code if exc.response is not None else None
        if status in (401, 403):
            return AccessDenied(repo, f"HTTP {status}: private or gated; set HF_TOKEN")
        return DownloadFailed(repo, f"HTTP {status} from {endpoint}")
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
        return DownloadFailed(repo, f"no space left while writing to {cache} ({exc.strerror})")
    name = type(exc).__name__
    if name in {"ConnectError", "ConnectTimeout", "ProxyError"}:
        return SourceUnreachable(endpoint, _first_line(exc))
    if name in {
        "ReadError",
        "RemoteProtocolError",
        "ReadTimeout",
        "WriteError",
        "TimeoutException",
        "NetworkError",
    }:
        return DownloadFailed(repo, f"connection lost during download ({_first_line(exc)})")
    if isinstance(exc, OSError):
        return DownloadFailed(repo, _first_line(exc))
    return DownloadFailed(repo, f"{name}: {_first_line(exc)}")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def facts_summary(info: Mapping[str, Any]) -> dict[str, Any]:
    """The repo facts worth showing as evidence (dropping empty values)."""
    return {k: v for k, v in info.items() if v not in (None, [], {}, "")}
