"""Sources: resolve a model reference to an immutable snapshot on disk."""

from __future__ import annotations

from airlock.sources.interface import HubFile, HubMetadata, Reference, Snapshot, parse_reference

__all__ = ["HubFile", "HubMetadata", "Reference", "Snapshot", "parse_reference"]
