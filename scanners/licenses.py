"""Licences: what the model's licence is, whether its sources agree, and whether the policy admits it.

## Why it matters
Legal teams ask "may we ship this model?" before security does. A model's licence is stated in up
to four places that nothing keeps in step: the model card's front matter (`license`, or
`license: other` with `license_name` / `license_link`), a `LICENSE` file, the safetensors header's
`__metadata__` (`license`, `modelspec.license`) and GGUF's `general.license`. A fine-tune may
relabel its base model's licence (a Llama derivative published as `apache-2.0`), or train on data
whose licence forbids what the model's licence allows (a commercial-use model trained on a
non-commercial dataset).

## What it checks
Every source is read without executing anything: YAML through the safe loader, a bounded prefix of
the LICENSE file, only the header of a safetensors or GGUF file. Values are named through
`signatures/licenses.toml` (SPDX ids, the spellings model cards use, and model licences without an
SPDX id); a LICENSE text by the marker phrases listed there, then by spdx-matcher.
- AIR461 (high): a licence the policy's `[licenses] deny` names, or one not on its `allow` list.
- AIR462 (high, or low with `unknown = "warn"`): the policy has a `[licenses]` table and no licence
  can be named (none declared, `other` with no recognisable `license_name`, an unidentified text).
- AIR463 (medium): the sources name different licences.
- AIR464 (medium): the card's `base_model` has a card available locally (a folder, or the Hugging
  Face cache airlock downloads into) whose licence differs from this model's.
- AIR465 (medium): a dataset in the card's `datasets` whose card is available locally is licensed
  non-commercial while this model's licence is not, or share-alike under another licence.
Without a `[licenses]` table in the policy, AIR461 and AIR462 are not raised.

## Example
Card `license: apache-2.0`, LICENSE file the Llama 3.1 Community License → AIR463; with
`deny = ["llama3.1"]` also AIR461.

## References
- AML.T0010, OWASP-ML06, OWASP-LLM03, CWE-1357
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from airlock import config
from airlock.findings import Finding, Severity
from airlock.formats import Format
from airlock.licenses import Catalog, License, catalog
from airlock.modelcard import front_matter
from airlock.parsers.gguf import read_header
from airlock.scanning import ScanContext, SnapshotScanner

if TYPE_CHECKING:
    from airlock.policy import LicensePolicy

MAX_LICENSE_FILE = 256 << 10
LICENSE_FILES = frozenset({"license", "licence", "copying"})  # file stems, any case, top level only
LICENSE_SUFFIXES = frozenset({"", ".txt", ".md", ".rst"})
METADATA_KEYS = ("license", "modelspec.license")  # safetensors __metadata__
GGUF_KEYS = ("general.license", "general.license.name")
_REPO_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?")
MAX_SNAPSHOTS = 16  # cached snapshots of one repository looked at for a card


@dataclass(frozen=True)
class Statement:
    """What one source says the licence is."""

    source: str  # "model card", "LICENSE", "model.safetensors __metadata__", ...
    artifact: str | None
    location: str
    said: str
    license: License | None


class Licenses(SnapshotScanner):
    name = "licenses"
    version = "1"
    rules: ClassVar[frozenset[str]] = frozenset({"AIR461", "AIR462", "AIR463", "AIR464", "AIR465"})

    def scan_snapshot(self, ctx: ScanContext) -> Iterator[Finding]:
        known = catalog()
        card = _card(ctx)
        statements = [*_card_statements(card, known), *self._files(ctx, known)]
        named = [s for s in statements if s.license is not None]
        ids = list(dict.fromkeys(s.license.id for s in named if s.license is not None))
        said = {f"{s.source}: {s.said}": s.license.id if s.license else None for s in statements}
        if len(ids) > 1:
            listed = "; ".join(f"{s.source} says {s.said} ({s.license.id})" for s in named if s.license)
            yield ctx.finding(
                "AIR463",
                self.name,
                None,
                ctx.subject,
                f"the licence sources disagree: {listed}",
                {"sources": said},
            )
        model = named[0].license if named else None  # the card first, then LICENSE, then weights metadata
        policy = ctx.licenses
        if policy is not None:
            yield from self._policy(ctx, policy, named, statements, said)
        if model is None:
            return
        yield from self._base(ctx, card, model, known)
        yield from self._datasets(ctx, card, model, known)

    def _policy(
        self,
        ctx: ScanContext,
        policy: LicensePolicy,
        named: list[Statement],
        statements: list[Statement],
        said: Mapping[str, str | None],
    ) -> Iterator[Finding]:
        if not named:
            what = "; ".join(f"{s.source} says {s.said}" for s in statements) or "no source declares one"
            severity = Severity.HIGH if policy.unknown == "fail" else Severity.LOW
            yield ctx.finding(
                "AIR462",
                self.name,
                None,
                ctx.subject,
                f"the licence is unknown: {what}",
                {"sources": said, "unknown": policy.unknown},
                severity=severity,
            )
            return
        seen: set[str] = set()
        for statement in named:
            assert statement.license is not None
            license = statement.license
            why = policy.refuses(license.id)
            if why is None or license.id in seen:
                continue
            seen.add(license.id)
            yield ctx.finding(
                "AIR461",
                self.name,
                statement.artifact,
                statement.location,
                f"licence {license.id} ({license.name}) is {why}",
                {"license": license.id, "source": statement.source, "said": statement.said},
            )

    def _files(self, ctx: ScanContext, known: Catalog) -> Iterator[Statement]:
        for artifact in ctx.artifacts:
            path = Path(artifact.path)
            if (
                len(path.parts) == 1
                and path.stem.lower() in LICENSE_FILES
                and path.suffix.lower() in LICENSE_SUFFIXES
            ):
                text = _read(artifact.location, MAX_LICENSE_FILE).decode("utf-8", errors="replace")
                license = known.identify_text(text)
                said = license.id if license else f"an unidentified text ({_first_line(text)!r})"
                yield Statement("LICENSE file", artifact.path, artifact.path, said, license)
            elif artifact.format is Format.SAFETENSORS:
                for key, value in _safetensors_metadata(
                    artifact.location, ctx.limits.max_header_bytes
                ).items():
                    if key in METADATA_KEYS and isinstance(value, str) and value.strip():
                        yield _named(
                            f"{artifact.path} __metadata__",
                            artifact.path,
                            f"header:__metadata__:{key}",
                            value,
                            known,
                        )
            elif artifact.format is Format.GGUF:
                header = read_header(
                    artifact.location, artifact.size, artifact.sha256,
                    limit=ctx.limits.max_header_bytes, max_entries=ctx.limits.max_entries,
                )  # fmt: skip
                for kv in header.kvs:
                    if kv.key in GGUF_KEYS and isinstance(kv.value, str) and kv.value.strip():
                        yield _named(
                            f"{artifact.path} {kv.key}", artifact.path, f"metadata:{kv.key}", kv.value, known
                        )

    def _base(
        self, ctx: ScanContext, card: Mapping[str, Any], model: License, known: Catalog
    ) -> Iterator[Finding]:
        for base in _names(card.get("base_model")):
            other = _related_license(ctx, base, "model", known)
            if other is None or other.id == model.id:
                continue
            yield ctx.finding(
                "AIR464",
                self.name,
                None,
                ctx.subject,
                f"the licence changed from the base model {base} ({other.id}) to {model.id}",
                {"base_model": base, "base_license": other.id, "license": model.id},
            )

    def _datasets(
        self, ctx: ScanContext, card: Mapping[str, Any], model: License, known: Catalog
    ) -> Iterator[Finding]:
        for dataset in _names(card.get("datasets")):
            other = _related_license(ctx, dataset, "dataset", known)
            if other is None:
                continue
            if other.non_commercial and not model.non_commercial:
                why = f"is non-commercial ({other.id}) while the model's licence {model.id} allows commercial use"
            elif other.share_alike and other.id != model.id:
                why = f"is share-alike ({other.id}) while the model is licensed {model.id}"
            else:
                continue
            yield ctx.finding(
                "AIR465",
                self.name,
                None,
                ctx.subject,
                f"training dataset {dataset} {why}",
                {"dataset": dataset, "dataset_license": other.id, "license": model.id},
            )


def _card(ctx: ScanContext) -> dict[str, Any]:
    files = dict(ctx.snapshot.files)
    card = front_matter(files["README.md"]) if "README.md" in files else {}
    hub = ctx.snapshot.hub.info.get("card_data") if ctx.snapshot.hub is not None else None
    return {**hub, **card} if isinstance(hub, dict) else card


def _card_statements(card: Mapping[str, Any], known: Catalog) -> Iterator[Statement]:
    names = _names(card.get("license"))
    extra = _names(card.get("license_name"))
    link = card.get("license_link") if isinstance(card.get("license_link"), str) else None
    for value in names:
        if known.is_placeholder(value) and (extra or link):
            continue  # `other`: the licence is license_name's
        yield _named("model card", "README.md", "card:license", value, known)
    for value in extra if (not names or all(known.is_placeholder(n) for n in names)) else ():
        yield _named("model card", "README.md", "card:license_name", value, known)
    if link and not extra and all(known.is_placeholder(n) for n in names):
        yield Statement("model card", "README.md", "card:license_link", f"a licence at {link}", None)


def _named(source: str, artifact: str, location: str, value: str, known: Catalog) -> Statement:
    return Statement(source, artifact, location, value.strip()[:200], known.identify(value))


def _related_license(ctx: ScanContext, name: str, kind: str, known: Catalog) -> License | None:
    """The licence on the card of a base model or dataset, when that card is on this machine."""
    readme = _related_card(ctx, name, kind)
    if readme is None:
        return None
    card = front_matter(readme)
    for statement in _card_statements(card, known):
        if statement.license is not None:
            return statement.license
    return None


def _related_card(ctx: ScanContext, name: str, kind: str) -> Path | None:
    """A README.md for `name`: a folder (absolute, or beside the snapshot), or the Hub cache (no download)."""
    folder = Path(name).expanduser()
    candidates = [folder] if folder.is_absolute() else [ctx.snapshot.root.parent / folder]
    for candidate in candidates:
        if (candidate / "README.md").is_file() and candidate.resolve() != ctx.snapshot.root.resolve():
            return candidate / "README.md"
    return _hub_cached_card(name, kind)


def _hub_cached_card(name: str, kind: str) -> Path | None:
    """The README.md of `name` in the Hugging Face cache, read by its layout (huggingface_hub is not
    imported: that alone costs more than the whole check): `<cache>/<kind>s--<org>--<name>/`, the
    snapshot `refs/main` names, else the newest snapshot that has a card."""
    if not _REPO_ID.fullmatch(name) or ".." in name:
        return None
    folder = config.hf_hub_cache() / f"{kind}s--{name.replace('/', '--')}"
    try:
        sha = (folder / "refs" / "main").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        sha = ""
    cards = [folder / "snapshots" / sha / "README.md"] if re.fullmatch(r"[0-9a-f]{40}", sha) else []
    try:
        snapshots = sorted((folder / "snapshots").iterdir(), key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        snapshots = []
    cards += [snapshot / "README.md" for snapshot in snapshots[:MAX_SNAPSHOTS]]
    return next((card for card in cards if card.is_file()), None)


def _safetensors_metadata(path: Path, limit: int) -> dict[str, Any]:
    """The header's `__metadata__`, or {} when the header cannot be read (safetensors_header reports why)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
            if len(head) < 8:
                return {}
            length = struct.unpack("<Q", head)[0]
            if length > limit:
                return {}
            header = json.loads(fh.read(length))
    except (OSError, ValueError, RecursionError):
        return {}
    metadata = header.get("__metadata__") if isinstance(header, dict) else None
    return metadata if isinstance(metadata, dict) else {}


def _names(value: Any) -> tuple[str, ...]:
    values = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    return tuple(dict.fromkeys(v.strip() for v in values if isinstance(v, str) and v.strip()))


def _read(path: Path, limit: int) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read(limit)
    except OSError:
        return b""


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")[:80]
