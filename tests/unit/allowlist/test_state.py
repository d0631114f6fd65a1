"""Rollback protection: an old allowlist, even correctly signed, is refused once a newer one was seen."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from airlock.allowlist import state, store
from airlock.allowlist.errors import UntrustedAllowlist
from tests.unit.allowlist.conftest import add_entries


def test_an_old_copy_is_refused_after_a_newer_one_was_seen(tmp_path: Path, keypair) -> None:
    key = keypair("team")
    path = tmp_path / "allowlist.jsonl"
    add_entries(path, key, "a")
    shutil.copy(path, tmp_path / "old.jsonl")
    add_entries(path, key, "b")  # the writer remembers counter 2
    old = store.read(tmp_path / "old.jsonl")
    with pytest.raises(
        UntrustedAllowlist, match="allowlist rollback: its counter is 1, older than counter 2 already seen"
    ):
        state.check(old)
    state.check(store.read(path))


def test_min_counter_protects_a_machine_without_state(tmp_path: Path, keypair) -> None:
    key = keypair("team")
    allowlist = add_entries(tmp_path / "allowlist.jsonl", key, "a", "b")
    state.state_path().unlink()
    with pytest.raises(UntrustedAllowlist, match="its counter is 2, below --min-counter 3"):
        state.check(allowlist, min_counter=3)
    state.check(allowlist, min_counter=2)


def test_a_rewritten_history_with_a_higher_counter_is_refused(tmp_path: Path, keypair, monkeypatch) -> None:
    key = keypair("team")
    path = tmp_path / "allowlist.jsonl"
    seen = add_entries(path, key, "a", "b")
    # elsewhere (another machine's state), a signer forks after record 1 and writes records 2' and 3'
    fork_path = tmp_path / "fork.jsonl"
    fork_path.write_text(store.Allowlist(seen.id, seen.records[:1]).to_text())
    with monkeypatch.context() as elsewhere:
        elsewhere.setenv("AIRLOCK_CACHE_DIR", str(tmp_path / "elsewhere"))
        forked = add_entries(fork_path, key, "c", "d")
    assert forked.counter == 3 and forked.records[1].digest != seen.records[1].digest
    with pytest.raises(
        UntrustedAllowlist, match="history rewritten: record 2 differs from the one seen before"
    ):
        state.check(store.read(fork_path))


def test_remember_never_lowers_the_counter(tmp_path: Path, keypair) -> None:
    key = keypair("team")
    allowlist = add_entries(tmp_path / "allowlist.jsonl", key, "a", "b")
    state.remember(store.Allowlist(allowlist.id, allowlist.records[:1]))
    with pytest.raises(UntrustedAllowlist, match="rollback"):
        state.check(store.Allowlist(allowlist.id, allowlist.records[:1]))


def test_a_writer_refuses_to_append_to_a_replayed_copy(tmp_path: Path, keypair) -> None:
    key = keypair("team")
    path = tmp_path / "allowlist.jsonl"
    add_entries(path, key, "a")
    old = path.read_bytes()
    add_entries(path, key, "b")
    path.write_bytes(old)
    with pytest.raises(UntrustedAllowlist, match="rollback"):
        add_entries(path, key, "c")
