"""Header-first triage: decide a Hub model from what can be read remotely, before a full download.

The Hub's file listing gives every file's size and, for LFS files, its sha256. HTTP range requests
give a safetensors header (8 bytes of length, then the JSON) and a GGUF header; small files (configs,
code, small pickles) are fetched whole. airlock's own scanners then read those bytes, exactly as in a
full scan, never executing anything:

* files fetched whole go through the static scanners that read single files (pickle imports, archives,
  custom code, chat templates, …);
* a large safetensors or GGUF file becomes a sparse stand-in: its real header bytes at their offsets,
  its real size, its listed sha256; only the header scanners read it (they never read tensor data).

Triage only ever *fails* a model: a finding at or above the policy's threshold is one the full scan
would also report, since it only adds files and checks. Anything else (a clean header, nothing
readable, a listing that disagrees with the bytes) falls through to the full download and scan.
"""

from __future__ import annotations

import io
import os
import struct
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO, cast

from airlock.artifacts import Artifact, read_artifact
from airlock.formats import Format, detect
from airlock.policy import Policy
from airlock.report import Report, build_report
from airlock.sources.interface import Reference

WHOLE_FILE_BYTES = 1 << 20  # LFS files up to this size are fetched whole
HEADER_MAX_BYTES = 64 << 20  # a safetensors or GGUF header larger than this is left to the full scan
BUDGET_BYTES = 128 << 20  # at most this much is fetched for one model's triage
GGUF_FIRST_BYTES = 256 << 10  # first GGUF request; doubled until the header fits
GGUF_MAGIC = b"GGUF"

# Scanners that read one whole file at a time (what triage fetches whole). The snapshot-level ones
# (provenance, file claims) and the second opinion (which re-reads every file) wait for the full scan.
WHOLE_FILE_SCANNERS = (
    "pickle_opcodes",
    "numpy_arrays",
    "archives",
    "keras_config",
    "onnx_graph",
    "custom_code",
    "native_binaries",
    "safetensors_header",
    "gguf_header",
    "chat_templates",
)
HEADER_SCANNERS = ("safetensors_header", "gguf_header")  # the only ones that see a sparse stand-in


@dataclass(frozen=True)
class _Listed:
    path: str
    size: int
    lfs_sha256: str | None


def triage_reference(
    ref: Reference, policy: Policy, endpoint: str, scratch: Path
) -> tuple[Report | None, dict[str, Any]]:
    """The failing report when the remote headers already fail the policy, else None; and the triage facts."""
    from huggingface_hub import HfApi

    from airlock import config
    from airlock.sources.hub import _translated  # the one place Hub errors become airlock errors
    from airlock.sources.local import DEFAULT_IGNORES, matches

    assert ref.repo_id is not None
    token = config.hf_token()
    with _translated(ref, endpoint, scratch):
        info = HfApi(endpoint=endpoint, token=token).model_info(
            ref.repo_id, revision=ref.revision, files_metadata=True, securityStatus=True
        )
    listed = [
        _Listed(s.rfilename, int(s.size or 0), s.lfs.sha256 if s.lfs is not None else None)
        for s in info.siblings or ()
        if not matches(s.rfilename, DEFAULT_IGNORES)
    ]
    facts: dict[str, Any] = {
        "decided": False,
        "bytes_total": sum(f.size for f in listed),
        "bytes_fetched": 0,
        "hub_security": info.security_repo_status,
    }
    if not info.sha or not listed:
        return None, facts
    fetch = _Fetcher(ref.repo_id, info.sha, endpoint, token)
    scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="airlock-triage-", dir=scratch) as tmp:
        with _translated(ref, endpoint, scratch):
            whole, headers, unread = _gather(listed, fetch, Path(tmp))
        facts["bytes_fetched"] = fetch.fetched
        facts["headers_read"] = sorted(a.path for a in headers)
        if whole is None:  # the bytes disagree with the listing, or the budget ran out: the full scan decides
            return None, facts
        report = _judge(ref, info.sha, policy, whole, headers, unread)
    if report.passed:
        return None, facts
    facts["decided"] = True
    facts["bytes_saved"] = max(0, facts["bytes_total"] - fetch.fetched)
    return report, facts


class _Fetcher:
    """Range requests against the Hub's resolve URLs, counting the bytes that came back."""

    def __init__(self, repo_id: str, sha: str, endpoint: str, token: str | None) -> None:
        from huggingface_hub import get_session, hf_hub_url
        from huggingface_hub.utils import build_hf_headers  # type: ignore[attr-defined]

        self.url: Callable[[str], str] = lambda path: hf_hub_url(
            repo_id, path, revision=sha, endpoint=endpoint
        )
        self.headers = build_hf_headers(token=token)
        self.session = get_session()
        self.fetched = 0

    def get(self, path: str, start: int, end: int) -> bytes:
        """Bytes [start, end) of `path` (fewer if the file is shorter)."""
        if end <= start:
            return b""
        if self.fetched + (end - start) > BUDGET_BYTES:
            raise _OverBudget(path)
        headers = {**self.headers, "Range": f"bytes={start}-{end - 1}"}
        response = self.session.get(self.url(path), headers=headers, follow_redirects=True)
        response.raise_for_status()
        data = response.content
        if response.status_code == 200:  # a server that ignores Range sends the whole file
            data = data[start:end]
        self.fetched += len(data)
        return data[: end - start]


class _OverBudget(Exception):
    pass


def _gather(
    listed: list[_Listed], fetch: _Fetcher, folder: Path
) -> tuple[list[Artifact] | None, list[Artifact], list[_Listed]]:
    """Artifacts of the files read whole, sparse stand-ins for headers, and the files left unread."""
    whole: list[Artifact] = []
    headers: list[Artifact] = []
    unread: list[_Listed] = []
    try:
        for item in listed:
            location = folder / f"{len(whole) + len(headers) + len(unread)}.bin"
            if item.lfs_sha256 is None or item.size <= WHOLE_FILE_BYTES:
                location.write_bytes(fetch.get(item.path, 0, item.size) if item.size else b"")
                artifact = read_artifact(item.path, location)
                if item.lfs_sha256 is not None and artifact.sha256 != item.lfs_sha256:
                    return (
                        None,
                        headers,
                        unread,
                    )  # not what the listing says: provenance is the full scan's job
                whole.append(artifact)
                continue
            stand_in = _header_stand_in(item, fetch, location)
            if stand_in is None:
                unread.append(item)
            else:
                headers.append(stand_in)
    except _OverBudget:
        return None, headers, unread
    return whole, headers, unread


def _header_stand_in(item: _Listed, fetch: _Fetcher, location: Path) -> Artifact | None:
    """A sparse file with the real header bytes of a large safetensors or GGUF file, or None."""
    assert item.lfs_sha256 is not None
    first = fetch.get(
        item.path, 0, min(item.size, 8 if not item.path.endswith(".gguf") else GGUF_FIRST_BYTES)
    )
    prefix: bytes | None = None
    if first.startswith(GGUF_MAGIC):
        prefix = _gguf_prefix(item, fetch, first)
    elif len(first) >= 8:
        length = struct.unpack("<Q", first[:8])[0]
        if length > HEADER_MAX_BYTES or 8 + length > item.size:
            prefix = first[:8] + fetch.get(item.path, 8, min(item.size, 64))  # the length alone fails it
        else:
            prefix = first[:8] + fetch.get(item.path, 8, 8 + length)
            if not prefix[8:].lstrip(b" \t\r\n").startswith(b"{"):
                return None  # not a safetensors header: nothing triage can read cheaply
    if prefix is None:
        return None
    with open(location, "wb") as fh:
        fh.write(prefix)
        fh.truncate(item.size)  # sparse: the real size, no tensor bytes

    def read_at(offset: int, length: int) -> bytes:
        return prefix[offset : offset + length]

    fmt = detect(prefix[:4096], b"", item.size, read_at)
    if fmt not in (Format.SAFETENSORS, Format.GGUF, Format.UNKNOWN):
        return None
    if fmt is Format.UNKNOWN and first.startswith(GGUF_MAGIC):
        return None
    return Artifact(item.path, item.size, item.lfs_sha256, fmt, location)


def _gguf_prefix(item: _Listed, fetch: _Fetcher, first: bytes) -> bytes | None:
    """Enough leading bytes of a GGUF file for its whole header, fetched in doubling steps.

    The parser reads the known bytes followed by zeros; its answer stands once it stopped (finished,
    or found a problem) within the bytes that were really fetched."""
    from airlock.parsers.gguf import parse
    from airlock.parsers.limits import Limits

    limits = Limits()
    prefix = first
    while True:
        header = parse(cast(BinaryIO, _ZeroPadded(prefix, item.size)), item.size, limit=limits.max_header_bytes, max_entries=limits.max_entries)  # fmt: skip
        if header.end <= len(prefix):
            return prefix
        if len(prefix) >= min(item.size, HEADER_MAX_BYTES):
            return None
        prefix += fetch.get(item.path, len(prefix), min(item.size, max(len(prefix) * 2, header.end + 4096)))


class _ZeroPadded(io.RawIOBase):
    """A file of `size` bytes of which only `data`, the start, is known; the rest reads as zeros."""

    def __init__(self, data: bytes, size: int) -> None:
        self.data, self.size, self.pos = data, size, 0

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        self.pos = offset if whence == os.SEEK_SET else self.pos + offset
        return self.pos

    def read(self, n: int = -1) -> bytes:
        end = self.size if n < 0 else min(self.pos + n, self.size)
        out = self.data[self.pos : end]
        out += bytes(max(0, end - self.pos - len(out)))
        self.pos = end
        return out


def _judge(
    ref: Reference,
    sha: str,
    policy: Policy,
    whole: list[Artifact],
    headers: list[Artifact],
    unread: list[_Listed],
) -> Report:
    """The report of the triage checks: whole files through the single-file scanners, headers through theirs."""
    from airlock.pipeline import selected_entries
    from airlock.rules import load_rules
    from airlock.scanning import ScanContext, ScanOutcome, run_scanners
    from airlock.sources.interface import HubMetadata, Snapshot

    rules = load_rules()
    hub = HubMetadata(ref.repo_id or "", "", ref.revision, sha, {})
    snapshot = Snapshot(
        reference=ref,
        source="hf",
        root=Path(tempfile.gettempdir()),
        files=tuple((a.path, a.location) for a in whole),
        revision=sha,
        hub=hub,
    )
    entries = selected_entries(WHOLE_FILE_SCANNERS)
    passes = []
    for names, artifacts in ((WHOLE_FILE_SCANNERS, whole), (HEADER_SCANNERS, headers)):
        if not artifacts:
            continue
        ctx = ScanContext(rules=rules, snapshot=snapshot, artifacts=artifacts)
        scanners = [e.load()() for e in entries if e.name in names]
        passes.append(run_scanners(scanners, ctx))
    checks = tuple(c for p in passes for c in p.checks)
    findings = tuple(f for p in passes for f in p.findings)
    unread_artifacts = [
        Artifact(u.path, u.size, u.lfs_sha256 or "", Format.UNKNOWN, Path(os.devnull)) for u in unread
    ]
    everything = sorted([*whole, *headers, *unread_artifacts], key=lambda a: a.path)
    return build_report(
        reference=ref.raw,
        source="hf",
        revision=sha,
        extra={
            "repo_id": ref.repo_id,
            "requested_revision": ref.revision,
            "triage": {"decided_by": "header-first triage", "unread": [u.path for u in unread]},
        },
        artifacts=everything,
        outcome=ScanOutcome(checks=checks, findings=findings),
        policy=replace(
            policy, required_scanners=()
        ),  # the full set of scanners did not run: only findings fail
        signatures_version=rules.version,
    )
