"""File claims: files whose name promises a model format their bytes are not, and snapshots with no model.

## Why it matters
Loaders pick files by name: transformers reads `model.safetensors` with safetensors and
`pytorch_model.bin` with `torch.load`, llama.cpp wants `*.gguf`, Keras `*.keras`. airlock
identifies every file by its bytes, so a mismatch means the loader will choke on the file or read
it some other way than the one airlock vetted, and tools that trust the name (or skip names they
consider safe) never look inside: a pickle named `model.safetensors`, a zip named `model.gguf`, an
empty or unidentified `model.onnx`, a Git LFS pointer left where the weights should be. Each is
AIR441 (high).

A scan in which nothing was recognised as a model never passes silently: a snapshot with no
model artifact at all is AIR442 (medium: a tokenizer-only or code-only repository is legitimate;
a policy can raise it with `[severity] AIR442 = "high"`), or AIR443 (high) when files were left
unidentified, or nothing was there: then airlock vetted nothing that a loader could take for weights.

## What it checks
`airlock.formats.NAME_CLAIMS` says which formats satisfy each model-format suffix (`.bin`: any
PyTorch format, a pickle, or a raw weight blob; `.pkl`: pickle, joblib (compressed too) or
torch.save; `.npz`: an npz or any zip; ...). It looks at names and detected formats only (and,
for a mismatched text file, its first bytes, to name a Git LFS pointer).

## Example
`model.safetensors` whose bytes are a pickle → AIR441 "named like safetensors but its bytes are pickle".

## References
- AML.T0010, AML.T0011.000, CWE-434, CWE-345
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from airlock.artifacts import Artifact
from airlock.findings import Finding
from airlock.formats import Format, claimed_formats
from airlock.inventory import count, is_model
from airlock.scanning import ScanContext, SnapshotScanner

_LFS_POINTER = b"version https://git-lfs.github.com/spec/v1"


class FileClaims(SnapshotScanner):
    name = "file_claims"
    version = "1"
    rules: ClassVar[frozenset[str]] = frozenset({"AIR441", "AIR442", "AIR443"})

    def scan_snapshot(self, ctx: ScanContext) -> Iterator[Finding]:
        mismatched = 0
        for artifact in ctx.artifacts:
            finding = self._claim(ctx, artifact)
            if finding is not None:
                mismatched += 1
                yield finding
        inventory = count((a.path, a.format) for a in ctx.artifacts)
        if inventory.models:
            return
        evidence = inventory.to_dict()
        if inventory.files == 0:
            yield ctx.finding(
                "AIR443",
                self.name,
                None,
                ctx.subject,
                "the snapshot holds no files: nothing was vetted",
                evidence,
            )
        elif inventory.unidentified or mismatched:
            unknown = [a.path for a in ctx.artifacts if a.format is Format.UNKNOWN][:5]
            yield ctx.finding(
                "AIR443",
                self.name,
                None,
                ctx.subject,
                f"nothing in the snapshot was recognised as a model: {inventory.files} files, "
                f"{inventory.unidentified} unidentified ({', '.join(unknown) or 'none'}), {mismatched} not what "
                "their name claims; whatever a loader takes for weights here was not vetted",
                {**evidence, "unidentified_paths": unknown},
            )
        else:
            yield ctx.finding(
                "AIR442",
                self.name,
                None,
                ctx.subject,
                f"no model file in the snapshot: {inventory.files} files, {inventory.analysed} analysed "
                f"(code, archives), {inventory.data} data (configs, text); if weights were expected, "
                "they were not downloaded or scanned",
                evidence,
            )

    def _claim(self, ctx: ScanContext, artifact: Artifact) -> Finding | None:
        claimed = claimed_formats(artifact.path)
        if claimed is None or (artifact.format in claimed and artifact.format is not Format.EMPTY):
            return None
        suffix = artifact.path.rsplit(".", 1)[-1]
        if artifact.format is Format.EMPTY:
            what = "empty"
        elif artifact.format is Format.UNKNOWN:
            what = "unidentified binary"
        elif artifact.format is Format.TEXT and _lfs_pointer(artifact):
            what = "a Git LFS pointer, not the file it points to (the download is incomplete)"
        else:
            what = str(artifact.format)
        expected = sorted(str(f) for f in claimed if f is not Format.UNKNOWN) or ["a raw weight file"]
        return ctx.finding(
            "AIR441",
            self.name,
            artifact.path,
            artifact.path,
            f"{artifact.path} is named like a .{suffix} model file but its bytes are {what}: a loader that picks "
            "it by name fails on it or reads it some other way",
            {
                "claimed": expected,
                "detected": str(artifact.format),
                "size": artifact.size,
                "counts_as_model": is_model(artifact.path, artifact.format),
            },
        )


def _lfs_pointer(artifact: Artifact) -> bool:
    try:
        with open(artifact.location, "rb") as fh:
            return fh.read(len(_LFS_POINTER)) == _LFS_POINTER
    except OSError:
        return False
