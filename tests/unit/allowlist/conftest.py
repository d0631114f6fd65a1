"""Shared pieces for allowlist unit tests: real key pairs and allowlists built with the real store."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from airlock.allowlist import store
from airlock.allowlist.entry import Entry, FileRecord, PolicyRef, digest_of
from airlock.allowlist.keys import PrivateKey, generate, load_private
from airlock.allowlist.records import utc_now


@pytest.fixture
def keypair(tmp_path: Path) -> Callable[[str], PrivateKey]:
    def make(name: str) -> PrivateKey:
        generate(tmp_path / name)
        return load_private(tmp_path / name)

    return make


def entry_body(tag: str) -> dict[str, object]:
    """An entry for a one-file model whose bytes are `tag` (the OMS bundle is irrelevant to the store)."""
    import hashlib

    files = (FileRecord("model.safetensors", len(tag), hashlib.sha256(tag.encode()).hexdigest()),)
    return Entry(
        model=digest_of(files),
        reference=f"/models/{tag}",
        source="local",
        revision=None,
        report="sha256:" + "0" * 64,
        policy=PolicyRef("default", None),
        verdict={"decision": "pass"},
        expires=None,
        ignored=(),
        files=files,
        oms={},
    ).to_body()


def add_entries(path: Path, key: PrivateKey, *tags: str) -> store.Allowlist:
    allowlist = None
    for tag in tags:
        allowlist, _ = store.append(
            path, key, lambda _current, t=tag: ("entry", entry_body(t)), utc_now(), {}
        )
    assert allowlist is not None
    return allowlist
