"""The allowlist file: every edit, deletion, reordering and forgery is refused with a message naming it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from airlock.allowlist import store
from airlock.allowlist.errors import UntrustedAllowlist
from airlock.allowlist.records import canonical, pae, sha256_digest
from tests.unit.allowlist.conftest import add_entries, entry_body


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def _write(path: Path, lines: list[str]) -> None:
    path.write_text("\n".join(lines) + "\n")


def _refusal(path: Path, *keys) -> str:
    allowlist = None
    with pytest.raises(UntrustedAllowlist) as info:  # noqa: PT012  reading or checking may refuse it
        allowlist = store.read(path)
        store.check_signatures(allowlist, {k.public.keyid: k.public for k in keys})
    return str(info.value)


def test_round_trip_keeps_the_chain_and_counts(tmp_path: Path, keypair) -> None:
    key = keypair("team")
    path = tmp_path / "allowlist.jsonl"
    written = add_entries(path, key, "a", "b", "c")
    read = store.read(path)
    store.check_signatures(read, {key.public.keyid: key.public})
    assert read == written
    assert read.counter == 3
    assert [r.seq for r in read.records] == [1, 2, 3]
    assert read.records[1].prev == read.records[0].digest
    assert [e.value.reference for e in read.entries()] == ["/models/a", "/models/b", "/models/c"]
    assert json.loads(_lines(path)[0]) == {"id": read.id, "schema": "airlock.allowlist/v1"}


def test_an_edited_entry_is_named(tmp_path: Path, keypair) -> None:
    key = keypair("team")
    path = tmp_path / "allowlist.jsonl"
    add_entries(path, key, "a", "b", "c")
    lines = _lines(path)
    record = json.loads(lines[2])
    record["body"]["reference"] = "/models/evil"
    lines[2] = json.dumps(record)
    _write(path, lines)
    assert _refusal(path, key).startswith("allowlist tampered: record 2 (entry for sha256:")
    assert "was edited" in _refusal(path, key)


def test_a_deleted_entry_is_named(tmp_path: Path, keypair) -> None:
    key = keypair("team")
    path = tmp_path / "allowlist.jsonl"
    add_entries(path, key, "a", "b", "c")
    lines = _lines(path)
    _write(path, lines[:2] + lines[3:])
    assert _refusal(path, key) == "allowlist tampered: record 2 was deleted"


def test_reordered_entries_are_named(tmp_path: Path, keypair) -> None:
    key = keypair("team")
    path = tmp_path / "allowlist.jsonl"
    add_entries(path, key, "a", "b", "c")
    lines = _lines(path)
    _write(path, [lines[0], lines[1], lines[3], lines[2]])
    assert _refusal(path, key) == "allowlist tampered: records reordered (record 3 is at position 2)"


def test_a_duplicated_entry_is_named(tmp_path: Path, keypair) -> None:
    key = keypair("team")
    path = tmp_path / "allowlist.jsonl"
    add_entries(path, key, "a", "b")
    lines = _lines(path)
    _write(path, [*lines, lines[2]])
    assert _refusal(path, key) == "allowlist tampered: record 2 appears twice"


def test_an_edit_with_recomputed_digests_fails_the_signature(tmp_path: Path, keypair) -> None:
    """An attacker who rewrites a record and re-chains everything after it still cannot sign."""
    key = keypair("team")
    path = tmp_path / "allowlist.jsonl"
    add_entries(path, key, "a", "b")
    lines = _lines(path)
    records = [json.loads(line) for line in lines[1:]]
    records[0]["body"] = entry_body("evil")
    prev = records[0]["prev"]
    for record in records:
        record["prev"] = prev
        payload = canonical({k: record[k] for k in ("body", "kind", "prev", "seq", "signer", "time")})
        record["digest"] = prev = sha256_digest(payload)
    _write(path, [lines[0]] + [json.dumps(r) for r in records])
    message = _refusal(path, key)
    assert message.startswith("allowlist tampered: record 1 (entry for")
    assert message.endswith("has an invalid signature (edited and re-hashed, or forged)")


def test_a_record_signed_by_an_unknown_key_is_named(tmp_path: Path, keypair) -> None:
    team, stranger = keypair("team"), keypair("stranger")
    path = tmp_path / "allowlist.jsonl"
    add_entries(path, team, "a")
    add_entries(path, stranger, "b")
    message = _refusal(path, team)
    assert message.startswith("record 2 (entry for sha256:")
    assert f"signed by unknown key {stranger.public.keyid[:16]}…" in message
    store.check_signatures(
        store.read(path), {k.public.keyid: k.public for k in (team, stranger)}
    )  # both trusted: fine


def test_a_signature_from_another_record_does_not_transfer(tmp_path: Path, keypair) -> None:
    key = keypair("team")
    path = tmp_path / "allowlist.jsonl"
    add_entries(path, key, "a", "b")
    lines = _lines(path)
    first, second = json.loads(lines[1]), json.loads(lines[2])
    second["signature"] = first["signature"]
    _write(path, [lines[0], lines[1], json.dumps(second)])
    assert "record 2 (entry for" in _refusal(path, key) and "invalid signature" in _refusal(path, key)


def test_a_changed_header_id_breaks_the_chain(tmp_path: Path, keypair) -> None:
    key = keypair("team")
    path = tmp_path / "allowlist.jsonl"
    add_entries(path, key, "a")
    lines = _lines(path)
    lines[0] = json.dumps({"schema": "airlock.allowlist/v1", "id": "0" * 32})
    _write(path, lines)
    assert _refusal(path, key) == (
        "allowlist tampered: chain broken at record 1 (it does not follow the allowlist id in the header)"
    )


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", "empty file: not a signed allowlist"),
        ('{"schema":"airlock.allowlist/v1","id":"x"}\n', "unsigned: the allowlist holds no signed record"),
        ("[1, 2]\n", "not an airlock.allowlist/v1 allowlist (bad header line)"),
        ('{"schema":"airlock.allowlist/v1","id":"x"}\n{oops\n', "line 2 is not JSON"),
        (
            '{"schema":"airlock.allowlist/v1","id":"x"}\n{"seq": 1}\n',
            "line 2: field 'prev' missing or not a str",
        ),
    ],
)
def test_unsigned_or_malformed_files_are_never_accepted(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "allowlist.jsonl"
    path.write_text(text)
    with pytest.raises(UntrustedAllowlist, match=re.escape(expected)):
        store.read(path)


def test_records_are_signed_over_the_dsse_encoding_of_their_payload(tmp_path: Path, keypair) -> None:
    import base64

    key = keypair("team")
    record = add_entries(tmp_path / "allowlist.jsonl", key, "a").records[0]
    signed = pae("application/vnd.airlock.allowlist.record.v1+json", record.payload())
    assert key.public.verify(base64.b64decode(record.signature), signed)
    assert record.digest == sha256_digest(record.payload())
