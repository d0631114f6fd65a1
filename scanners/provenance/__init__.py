"""Provenance: where the model came from, and whether the bytes are the ones the Hub recorded.

## Why it matters
A model is only as trustworthy as its origin. A branch can move, a mirror or cache can swap bytes
(the Hub client checks only sizes), an organisation name can imitate a trusted one, and a repo can
require its own code to load.

## What it checks
Hub sources: the revision is pinned (AIR101); every file's sha256 equals the Hub's LFS sha256
(AIR102) and every other file's git blob sha1 equals its blob id (AIR103); no file is outside the
commit's listing (AIR104); the Hub's own scan status (AIR105, evidence only); repo facts (AIR109),
model card (AIR107) and licence (AIR108); publisher trust and impersonation (AIR110-AIR112).
Every source: weights only in pickle-based formats (AIR113); custom code required (AIR114). Local
Hugging Face cache snapshots are checked against the cache's blob names (AIR115, AIR106). Local
folders: symbolic links that lead outside the model folder (AIR116).

## References
- AML.T0010 (ML supply chain compromise), CWE-494, CWE-345
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any, ClassVar

from airlock.artifacts import Artifact
from airlock.findings import Finding
from airlock.formats import PICKLE_BASED, WEIGHT_FORMATS, Format
from airlock.scanning import ScanContext, SnapshotScanner
from airlock.sources.hub import facts_summary
from airlock.sources.interface import HubFile, HubMetadata

from .publishers import lookalike

MAX_CONFIG_BYTES = 8 << 20
CODE_CONFIGS = ("config.json", "tokenizer_config.json", "processor_config.json", "preprocessor_config.json")


class Provenance(SnapshotScanner):
    name = "provenance"
    version = "2"
    rules: ClassVar[frozenset[str]] = frozenset({f"AIR1{n:02d}" for n in range(1, 17)})

    def scan_snapshot(self, ctx: ScanContext) -> Iterator[Finding]:
        hub = ctx.snapshot.hub
        if hub is not None:
            yield from self._publisher(ctx, hub.repo_id.split("/", 1)[0])
            if hub.from_cache_only:
                yield from self._cache_snapshot(ctx, hub)
            else:
                yield from self._pinning(ctx, hub)
                yield from self._integrity(ctx, hub)
                yield from self._repo_facts(ctx, hub)
        yield from self._weights(ctx)
        yield from self._custom_code(ctx)
        yield from self._outside_links(ctx)

    def _outside_links(self, ctx: ScanContext) -> Iterator[Finding]:
        for path, target in ctx.snapshot.outside_links:
            yield ctx.finding(
                "AIR116",
                self.name,
                path,
                path,
                f"{path} is a symbolic link to {target}, outside the model folder: loaders that follow it "
                "read or overwrite that file",
                {"target": target},
            )

    # -- Hub -------------------------------------------------------------------------------------

    def _pinning(self, ctx: ScanContext, hub: HubMetadata) -> Iterator[Finding]:
        if ctx.snapshot.reference.pinned:
            return
        asked = hub.requested_revision or "the default branch"
        yield ctx.finding(
            "AIR101",
            self.name,
            None,
            "reference",
            f"{asked} is mutable; scanned commit {hub.sha}: pin it as {hub.repo_id}@{hub.sha}",
            {"requested": hub.requested_revision, "resolved": hub.sha},
        )

    def _integrity(self, ctx: ScanContext, hub: HubMetadata) -> Iterator[Finding]:
        for artifact in ctx.artifacts:
            record = hub.files.get(artifact.path)
            if record is None:
                yield ctx.finding(
                    "AIR104",
                    self.name,
                    artifact.path,
                    artifact.path,
                    f"{artifact.path} is not in the Hub's listing of {hub.repo_id}@{hub.sha[:12]}",
                    {"sha256": artifact.sha256, "size": artifact.size},
                )
                continue
            yield from self._compare(ctx, artifact, record)
            yield from self._file_security(ctx, artifact, record)

    def _compare(self, ctx: ScanContext, artifact: Artifact, record: HubFile) -> Iterator[Finding]:
        size_ok = record.size is None or record.size == artifact.size
        if record.lfs_sha256 is not None:
            if record.lfs_sha256 != artifact.sha256 or not size_ok:
                yield ctx.finding(
                    "AIR102",
                    self.name,
                    artifact.path,
                    artifact.path,
                    f"{artifact.path}: sha256 {artifact.sha256[:16]}… is not the Hub's {record.lfs_sha256[:16]}…",
                    {
                        "expected_sha256": record.lfs_sha256,
                        "actual_sha256": artifact.sha256,
                        "expected_size": record.size,
                        "actual_size": artifact.size,
                        "location": str(artifact.location),
                    },
                )
        elif record.blob_id is not None:
            actual = artifact.git_sha1 or git_blob_sha1(artifact)
            if actual != record.blob_id or not size_ok:
                yield ctx.finding(
                    "AIR103",
                    self.name,
                    artifact.path,
                    artifact.path,
                    f"{artifact.path}: git blob {actual[:12]} is not the Hub's {record.blob_id[:12]}",
                    {
                        "expected_blob_id": record.blob_id,
                        "actual_blob_id": actual,
                        "expected_size": record.size,
                        "actual_size": artifact.size,
                        "location": str(artifact.location),
                    },
                )
        else:
            yield ctx.finding(
                "AIR106",
                self.name,
                artifact.path,
                artifact.path,
                f"{artifact.path}: the Hub gave no hash for this file",
                {"sha256": artifact.sha256},
            )

    def _file_security(self, ctx: ScanContext, artifact: Artifact, record: HubFile) -> Iterator[Finding]:
        status = (record.security or {}).get("status")
        if status is not None and status != "safe":
            yield ctx.finding(
                "AIR105",
                self.name,
                artifact.path,
                artifact.path,
                f"the Hub's scan marks {artifact.path} as {status}",
                {"hub_security": dict(record.security or {})},
            )

    def _repo_facts(self, ctx: ScanContext, hub: HubMetadata) -> Iterator[Finding]:
        info = hub.info
        facts = facts_summary(info)
        yield ctx.finding(
            "AIR109",
            self.name,
            None,
            "repository",
            f"{hub.repo_id}@{hub.sha[:12]} by {info.get('author') or '?'}, last modified {info.get('last_modified') or '?'}",
            facts,
        )
        status = info.get("security_repo_status") or {}
        flagged = status.get("filesWithIssues") if isinstance(status, dict) else None
        if flagged:
            yield ctx.finding(
                "AIR105",
                self.name,
                None,
                "repository",
                f"the Hub's scan reports issues in {len(flagged)} file(s) of {hub.repo_id}",
                {"security_repo_status": status},
            )
        if "README.md" not in hub.files:
            yield ctx.finding(
                "AIR107", self.name, None, "repository", f"{hub.repo_id} has no README.md model card"
            )
        card = info.get("card_data") or {}
        if "README.md" in hub.files and not card.get("license"):
            yield ctx.finding(
                "AIR108", self.name, None, "repository", f"{hub.repo_id}'s model card declares no licence"
            )

    def _cache_snapshot(self, ctx: ScanContext, hub: HubMetadata) -> Iterator[Finding]:
        yield ctx.finding(
            "AIR115",
            self.name,
            None,
            "snapshot",
            f"Hugging Face cache snapshot of {hub.repo_id}@{hub.sha[:12]}: files checked against cache blob names",
            {"repo_id": hub.repo_id, "commit": hub.sha, "recorded": len(hub.files)},
        )
        for artifact in ctx.artifacts:
            record = hub.files.get(artifact.path)
            if record is None:
                yield ctx.finding(
                    "AIR106",
                    self.name,
                    artifact.path,
                    artifact.path,
                    f"{artifact.path} has no cache blob record to verify against",
                    {"sha256": artifact.sha256},
                )
            else:
                yield from self._compare(ctx, artifact, record)

    def _publisher(self, ctx: ScanContext, org: str) -> Iterator[Finding]:
        name = org.lower()
        if name in ctx.blocked_publishers:
            yield ctx.finding("AIR110", self.name, None, "publisher", f"publisher {org} is blocked by policy")
            return
        if ctx.trusted_publishers and name not in ctx.trusted_publishers:
            yield ctx.finding(
                "AIR111",
                self.name,
                None,
                "publisher",
                f"publisher {org} is not on the policy's trusted list",
                {"trusted": sorted(ctx.trusted_publishers)},
            )
        if name in ctx.trusted_publishers:
            return
        match = lookalike(org)
        if match is not None:
            yield ctx.finding(
                "AIR112",
                self.name,
                None,
                "publisher",
                f"publisher {org} imitates {match.imitates} ({match.technique})",
                {"imitates": match.imitates, "technique": match.technique},
            )

    # -- every source ----------------------------------------------------------------------------

    def _weights(self, ctx: ScanContext) -> Iterator[Finding]:
        weights = [a for a in ctx.artifacts if a.format in WEIGHT_FORMATS]
        if weights and all(a.format in PICKLE_BASED for a in weights):
            names = [a.path for a in weights]
            yield ctx.finding(
                "AIR113",
                self.name,
                None,
                "model",
                f"weights only in pickle-based format(s): {', '.join(names[:5])}{'…' if len(names) > 5 else ''}",
                {"files": names, "formats": sorted({str(a.format) for a in weights})},
            )

    def _custom_code(self, ctx: ScanContext) -> Iterator[Finding]:
        for artifact in ctx.artifacts:
            if artifact.path.rsplit("/", 1)[-1] not in CODE_CONFIGS or artifact.format is not Format.JSON:
                continue
            config = _read_json(artifact)
            auto_map = config.get("auto_map") if isinstance(config, dict) else None
            if not auto_map:
                continue
            modules = sorted({_module_of(v) for v in _flatten(auto_map)} - {""})
            yield ctx.finding(
                "AIR114",
                self.name,
                artifact.path,
                f"{artifact.path}#auto_map",
                f"loading needs trust_remote_code: auto_map imports {', '.join(modules) or 'repository code'}",
                {"auto_map": auto_map, "modules": modules},
            )


def git_blob_sha1(artifact: Artifact) -> str:
    """Git's blob id for a file too big to have been hashed with sha1 in the main pass (rare)."""
    digest = hashlib.sha1(f"blob {artifact.size}\0".encode())
    with open(artifact.location, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _read_json(artifact: Artifact) -> Any:
    if artifact.size > MAX_CONFIG_BYTES:
        return None
    try:
        return json.loads(artifact.location.read_bytes())
    except (OSError, ValueError, RecursionError):
        return None


def _flatten(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _flatten(v)
    elif isinstance(value, list):
        for v in value:
            yield from _flatten(v)


def _module_of(ref: str) -> str:
    """`repo--module.Class` or `module.Class` → the module file it loads."""
    body = ref.split("--", 1)[-1]
    return body.rsplit(".", 1)[0] + ".py" if "." in body else ""
