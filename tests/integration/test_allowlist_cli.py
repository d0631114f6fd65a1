"""`airlock keygen|sign|verify|allowlist` on a real checkpoint: admitted, and every tamper refused by name."""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from fixtures import formats, pickles
from fixtures.real_models import minilm_dir


@dataclass(frozen=True)
class Signed:
    """A signed allowlist of two models (MiniLM, then a small safetensors model), and a copy at counter 1."""

    root: Path
    key: Path
    minilm: Path
    small: Path
    allowlist: Path
    at_counter_1: Path


def _airlock(*args: object) -> int:
    from airlock.cli.main import main

    with pytest.raises(SystemExit) as exit_info:
        main([str(a) for a in args])
    return int(exit_info.value.code or 0)


def _small_model(dest: Path) -> Path:
    dest.mkdir(parents=True)
    formats.safetensors_file(dest)
    (dest / "config.json").write_text('{"model_type": "bert"}\n')
    return dest


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> Signed:
    root = tmp_path_factory.mktemp("signed")
    minilm = Path(shutil.copytree(minilm_dir(), root / "minilm"))
    small = _small_model(root / "small")
    key, allowlist = root / "team.key", root / "allowlist.jsonl"
    assert _airlock("keygen", key) == 0
    assert _airlock("sign", minilm, "--key", key, "--allowlist", allowlist) == 0
    shutil.copy(allowlist, root / "at-counter-1.jsonl")
    assert _airlock("sign", small, "--key", key, "--allowlist", allowlist) == 0
    return Signed(root, key, minilm, small, allowlist, root / "at-counter-1.jsonl")


@pytest.fixture
def work(signed: Signed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Signed:
    """This test's own copy: the allowlist copied, the models linked (tests that edit bytes copy the file).

    Every copy has the same allowlist id, so each test gets its own rollback state (its own machine)."""
    monkeypatch.setenv("AIRLOCK_CACHE_DIR", str(tmp_path / "airlock-cache"))
    shutil.copytree(signed.minilm, tmp_path / "minilm", copy_function=os.link)
    shutil.copytree(signed.small, tmp_path / "small", copy_function=os.link)
    shutil.copy(signed.allowlist, tmp_path / "allowlist.jsonl")
    shutil.copy(signed.at_counter_1, tmp_path / "at-counter-1.jsonl")
    return Signed(
        tmp_path,
        signed.key,
        tmp_path / "minilm",
        tmp_path / "small",
        tmp_path / "allowlist.jsonl",
        tmp_path / "at-counter-1.jsonl",
    )


def _verify(cli, w: Signed, model: Path, *extra: object):
    return cli("verify", model, "--allowlist", w.allowlist, "--pubkey", f"{w.key}.pub", *extra)


def test_keygen_writes_a_600_private_key_and_refuses_to_overwrite(cli, tmp_path: Path) -> None:
    result = cli("keygen", tmp_path / "k")
    assert result.code == 0, result.err
    assert stat.S_IMODE((tmp_path / "k").stat().st_mode) == 0o600
    assert (tmp_path / "k.pub").read_text().startswith("-----BEGIN PUBLIC KEY-----")
    again = cli("keygen", tmp_path / "k")
    assert (again.code, again.out) == (2, "")
    assert again.err.strip() == f"airlock: error: {tmp_path / 'k'}: already exists (use --force to overwrite)"
    assert cli("keygen", tmp_path / "k", "--force").code == 0


def test_round_trip_admits_the_signed_model_with_the_scan_digest(cli, work: Signed) -> None:
    result = _verify(cli, work, work.minilm, "--format", "json")
    assert (result.code, result.err) == (0, ""), result.out + result.err
    decision = result.json()
    assert decision["decision"] == "admitted" and decision["record"] == 1
    assert decision["allowlist"]["counter"] == 2
    scanned = cli("scan", work.minilm, "--format", "json", "--no-progress").json()
    assert decision["digest"] == scanned["target"]["digest"]
    assert _verify(cli, work, work.small).code == 0


def test_the_same_bytes_elsewhere_are_the_same_model(cli, work: Signed) -> None:
    moved = work.root / "elsewhere" / "renamed-folder"
    moved.parent.mkdir()
    work.minilm.rename(moved)
    result = _verify(cli, work, moved)
    assert result.code == 0, result.out
    assert result.out.startswith(f"admitted: {moved}: record 1, signed by key ")


def test_one_changed_byte_in_a_weight_file_is_refused_by_name(cli, work: Signed) -> None:
    weights = work.minilm / "model.safetensors"
    data = bytearray(weights.read_bytes())
    weights.unlink()  # break the hard link before editing
    data[len(data) // 2] ^= 1
    weights.write_bytes(bytes(data))
    result = _verify(cli, work, work.minilm)
    assert result.code == 1
    assert result.out.startswith(
        f"refused: {work.minilm}: not in the allowlist: model.safetensors changed (compared with record 1"
    )


@pytest.mark.parametrize(
    "tamper, named",
    [
        (lambda m: (m / "extra.py").write_text("import os\n"), "extra.py added"),
        (lambda m: (m / "vocab.txt").unlink(), "vocab.txt removed"),
        (lambda m: (m / "vocab.txt").rename(m / "vocab2.txt"), "vocab.txt renamed to vocab2.txt"),
    ],
    ids=["added", "removed", "renamed"],
)
def test_an_added_removed_or_renamed_file_is_refused_by_name(cli, work: Signed, tamper, named: str) -> None:
    tamper(work.minilm)
    result = _verify(cli, work, work.minilm, "--format", "json")
    assert result.code == 1
    decision = result.json()
    assert decision["decision"] == "refused"
    assert decision["reason"].startswith(f"not in the allowlist: {named} (compared with record 1")


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _rewrite(path: Path, lines: list[dict]) -> None:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))


def test_an_edited_allowlist_entry_is_refused_by_name(cli, work: Signed) -> None:
    lines = _records(work.allowlist)
    lines[1]["body"]["expires"] = "2099-01-01T00:00:00Z"
    _rewrite(work.allowlist, lines)
    result = _verify(cli, work, work.minilm)
    assert result.code == 1
    assert result.out.startswith(f"refused: {work.minilm}: allowlist tampered: record 1 (entry for sha256:")
    assert "was edited (its content does not match its digest)" in result.out


def test_a_deleted_allowlist_entry_is_refused_by_name(cli, work: Signed) -> None:
    lines = _records(work.allowlist)
    _rewrite(work.allowlist, [lines[0], lines[2]])
    result = _verify(cli, work, work.small)
    assert (result.code, result.out.strip()) == (
        1,
        f"refused: {work.small}: allowlist tampered: record 1 was deleted",
    )


def test_reordered_allowlist_entries_are_refused_by_name(cli, work: Signed) -> None:
    lines = _records(work.allowlist)
    _rewrite(work.allowlist, [lines[0], lines[2], lines[1]])
    result = _verify(cli, work, work.small)
    assert result.code == 1
    assert result.out.strip() == (
        f"refused: {work.small}: allowlist tampered: records reordered (record 2 is at position 1)"
    )


def test_an_old_allowlist_replayed_is_refused(cli, work: Signed) -> None:
    assert _verify(cli, work, work.minilm).code == 0  # this machine has now seen counter 2
    shutil.copy(work.at_counter_1, work.allowlist)  # still correctly signed, but older
    result = _verify(cli, work, work.minilm)
    assert result.code == 1
    assert (
        "allowlist rollback: its counter is 1, older than counter 2 already seen on this machine"
        in result.out
    )
    appended = cli(
        "sign", work.small, "--key", work.key, "--allowlist", work.allowlist
    )  # nor is it written on
    assert appended.code == 1 and "allowlist rollback" in appended.out


def test_min_counter_refuses_a_replay_on_a_fresh_machine(cli, work: Signed, monkeypatch) -> None:
    monkeypatch.setenv("AIRLOCK_CACHE_DIR", str(work.root / "fresh-runner-cache"))
    result = cli(
        "verify",
        work.minilm,
        "--allowlist",
        work.at_counter_1,
        "--pubkey",
        f"{work.key}.pub",
        "--min-counter",
        "2",
    )
    assert result.code == 1
    assert "allowlist rollback: its counter is 1, below --min-counter 2" in result.out


def test_a_cache_folder_that_cannot_be_written_does_not_stop_verify(
    cli, work: Signed, monkeypatch, caplog
) -> None:
    (work.root / "not-a-folder").write_text("")
    monkeypatch.setenv("AIRLOCK_CACHE_DIR", str(work.root / "not-a-folder" / "cache"))
    result = _verify(cli, work, work.minilm)
    assert result.code == 0, result.out + result.err
    assert "rollback state not recorded" in caplog.text  # a warning (on stderr); --min-counter is the way out


def test_a_revoked_model_is_refused_and_cannot_be_signed_again(cli, work: Signed) -> None:
    digest = _verify(cli, work, work.small, "--format", "json").json()["digest"]
    revoked = cli(
        "allowlist",
        "revoke",
        digest[:20],
        "--allowlist",
        work.allowlist,
        "--key",
        work.key,
        "--reason",
        "backdoor found in layer 3",
    )
    assert revoked.code == 0, revoked.err
    assert revoked.out.strip() == f"revoked: {digest} in {work.allowlist} as record 3"
    result = _verify(cli, work, work.small)
    assert result.code == 1
    assert result.out.startswith(f"refused: {work.small}: revoked by record 3 on ")
    assert "backdoor found in layer 3" in result.out
    again = cli("sign", work.small, "--key", work.key, "--allowlist", work.allowlist)
    assert again.code == 1 and "revoked by record 3" in again.out
    assert _verify(cli, work, work.minilm).code == 0  # the other model is unaffected


def test_an_unknown_signing_key_is_refused(cli, work: Signed) -> None:
    assert cli("keygen", work.root / "stranger").code == 0
    result = cli("verify", work.minilm, "--allowlist", work.allowlist, "--pubkey", work.root / "stranger.pub")
    assert result.code == 1
    assert "is signed by unknown key" in result.out and "not among the trusted --pubkey keys" in result.out


def test_several_signers_each_trusted_by_their_public_key(cli, work: Signed) -> None:
    assert cli("keygen", work.root / "second").code == 0
    other = _small_model(work.root / "other")
    (other / "config.json").write_text('{"model_type": "gpt2"}\n')
    assert cli("sign", other, "--key", work.root / "second", "--allowlist", work.allowlist).code == 0
    both = ("--pubkey", f"{work.key}.pub", "--pubkey", work.root / "second.pub")
    assert cli("verify", other, "--allowlist", work.allowlist, *both).code == 0
    only_first = _verify(cli, work, other)
    assert (
        only_first.code == 1 and "record 3 (entry for" in only_first.out and "unknown key" in only_first.out
    )


def test_an_expired_entry_is_refused(cli, work: Signed) -> None:
    from airlock.allowlist.keys import trusted
    from airlock.allowlist.records import utc_now
    from airlock.allowlist.verifying import VerifyOptions, verify

    other = _small_model(work.root / "short-lived")
    (other / "config.json").write_text('{"model_type": "t5"}\n')
    assert cli("sign", other, "--key", work.key, "--allowlist", work.allowlist, "--expires", "1d").code == 0
    keys = trusted([Path(f"{work.key}.pub")])
    assert verify(str(other), work.allowlist, keys).admitted
    later = verify(str(other), work.allowlist, keys, VerifyOptions(now=utc_now() + timedelta(days=2)))
    assert not later.admitted
    assert later.reason.startswith("expired: the entry for this model (record 3) expired on ")


def test_a_failing_verdict_is_not_signed(cli, generated, tmp_path: Path) -> None:
    evil = generated(pickles.os_system_canary)
    assert cli("keygen", tmp_path / "k").code == 0
    result = cli("sign", evil, "--key", tmp_path / "k", "--allowlist", tmp_path / "allowlist.jsonl")
    assert result.code == 1
    assert result.out.startswith(f"refused: {evil}: verdict fail: ") and "AIR201" in result.out
    assert not (tmp_path / "allowlist.jsonl").exists()


def test_sign_takes_a_passing_report_only_for_the_same_bytes(cli, work: Signed, tmp_path: Path) -> None:
    other = _small_model(tmp_path / "reported")
    report = tmp_path / "report.json"
    assert cli("scan", other, "--format", "json", "--output", report, "--no-progress").code == 0
    (other / "config.json").write_text('{"model_type": "changed after the scan"}\n')
    refused = cli("sign", other, "--key", work.key, "--allowlist", work.allowlist, "--report", report)
    assert refused.code == 1
    assert "the report is for sha256:" in refused.out and "config.json changed" in refused.out
    assert cli("scan", other, "--format", "json", "--output", report, "--no-progress").code == 0
    accepted = cli("sign", other, "--key", work.key, "--allowlist", work.allowlist, "--report", report)
    assert accepted.code == 0, accepted.out + accepted.err
    shown = cli(
        "allowlist",
        "show",
        _verify(cli, work, other, "--format", "json").json()["digest"],
        "--allowlist",
        work.allowlist,
        "--format",
        "json",
    ).json()
    import hashlib

    assert shown["entries"][0]["report"] == "sha256:" + hashlib.sha256(report.read_bytes()).hexdigest()


def test_list_and_show_read_the_allowlist(cli, work: Signed) -> None:
    listed = cli("allowlist", "list", "--allowlist", work.allowlist, "--pubkey", f"{work.key}.pub")
    assert listed.code == 0, listed.err
    lines = listed.out.splitlines()
    assert lines[0].endswith("counter 2, chain intact; signatures verified with 1 trusted key(s)")
    assert [line.split()[:2] for line in lines[1:]] == [["1", "entry"], ["2", "entry"]]
    assert lines[1].endswith("minilm") and lines[2].endswith("small")
    listing = cli("allowlist", "list", "--allowlist", work.allowlist, "--format", "json").json()
    assert listing["signatures_checked"] is False and listing["counter"] == 2
    digest = listing["records"][0]["model"]
    shown = cli("allowlist", "show", digest[7:19], "--allowlist", work.allowlist)
    assert shown.code == 0
    assert "model.safetensors" in shown.out and "ignored    .git/*, .cache/huggingface/*" in shown.out


def test_list_refuses_a_tampered_allowlist(cli, work: Signed) -> None:
    lines = _records(work.allowlist)
    _rewrite(work.allowlist, lines[:1] + lines[2:])
    result = cli("allowlist", "list", "--allowlist", work.allowlist)
    assert result.code == 1 and "record 1 was deleted" in result.out


@pytest.mark.parametrize(
    "args, message",
    [
        (("--allowlist", "missing.jsonl", "--pubkey", "{key}.pub"), "missing.jsonl: no such allowlist"),
        (("--allowlist", "{allowlist}"), "no trusted key: pass --pubkey"),
        (("--allowlist", "{allowlist}", "--pubkey", "{key}"), "not a PEM public key (that is a private key"),
    ],
    ids=["no-allowlist", "no-pubkey", "private-key-as-pubkey"],
)
def test_could_not_verify_is_exit_2_with_one_line(cli, work: Signed, monkeypatch, args, message: str) -> None:
    monkeypatch.chdir(work.root)
    filled = [a.format(key=work.key, allowlist=work.allowlist) for a in args]
    result = cli("verify", work.minilm, *filled)
    assert (result.code, result.out) == (2, "")
    assert len(result.err.strip().splitlines()) == 1 and message in result.err


# --- safe writes, with real processes ----------------------------------------------------------

_HOOKED = """
import os, sys, time, pathlib
from airlock.allowlist import atomic

marker, mode, args = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3:]
original, calls = atomic._write_all, []

def hooked(fd, data):
    calls.append(fd)
    if len(calls) > 1:                # only the allowlist write (the rollback state comes after)
        return original(fd, data)
    if mode == "hold":                # sit inside the critical section, holding the lock
        marker.write_text("locked")
        time.sleep(3)
        return original(fd, data)
    original(fd, data[: len(data) // 2])  # "die": half the new allowlist is on disk, then wait for SIGKILL
    os.fsync(fd)
    marker.write_text("half written")
    time.sleep(60)

atomic._write_all = hooked
from airlock.cli.main import main
main(args)
"""


def _hooked(tmp_path: Path, mode: str, *args: object) -> tuple[subprocess.Popen[bytes], Path]:
    script = tmp_path / "hooked.py"
    script.write_text(_HOOKED)
    marker = tmp_path / f"marker-{mode}"
    process = subprocess.Popen(
        [sys.executable, str(script), str(marker), mode, *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while not marker.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the hooked signer never reached the write"
        time.sleep(0.02)
    return process, marker


@pytest.fixture
def three_models(tmp_path: Path) -> list[Path]:
    models = []
    for name in ("alpha", "beta", "gamma"):
        model = _small_model(tmp_path / name)
        (model / "config.json").write_text(json.dumps({"model_type": name}))
        models.append(model)
    return models


def test_concurrent_signers_all_land(cli, tmp_path: Path, three_models: list[Path]) -> None:
    assert cli("keygen", tmp_path / "k").code == 0
    allowlist = tmp_path / "allowlist.jsonl"
    alpha, beta, gamma = three_models
    holder, _ = _hooked(tmp_path, "hold", "sign", alpha, "--key", tmp_path / "k", "--allowlist", allowlist)
    others = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "airlock",
                "sign",
                str(model),
                "--key",
                str(tmp_path / "k"),
                "--allowlist",
                str(allowlist),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for model in (beta, gamma)
    ]
    for process in [holder, *others]:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, (out, err)
    listing = cli(
        "allowlist", "list", "--allowlist", allowlist, "--pubkey", tmp_path / "k.pub", "--format", "json"
    )
    assert listing.code == 0, listing.out
    assert listing.json()["counter"] == 3
    assert {Path(r["reference"]).name for r in listing.json()["records"]} == {"alpha", "beta", "gamma"}
    for model in three_models:
        assert cli("verify", model, "--allowlist", allowlist, "--pubkey", tmp_path / "k.pub").code == 0


def test_a_signer_killed_mid_write_leaves_the_previous_allowlist_intact(
    cli, tmp_path: Path, three_models
) -> None:
    alpha, beta, gamma = three_models
    assert cli("keygen", tmp_path / "k").code == 0
    allowlist = tmp_path / "allowlist.jsonl"
    assert cli("sign", alpha, "--key", tmp_path / "k", "--allowlist", allowlist).code == 0
    before = allowlist.read_bytes()
    victim, _ = _hooked(tmp_path, "die", "sign", beta, "--key", tmp_path / "k", "--allowlist", allowlist)
    os.kill(victim.pid, signal.SIGKILL)
    victim.communicate(timeout=30)
    assert victim.returncode == -signal.SIGKILL
    assert allowlist.read_bytes() == before
    assert [p.name for p in tmp_path.glob(".allowlist.jsonl.*.tmp")]  # the half-written copy, never renamed
    assert cli("verify", alpha, "--allowlist", allowlist, "--pubkey", tmp_path / "k.pub").code == 0
    assert (
        cli("sign", gamma, "--key", tmp_path / "k", "--allowlist", allowlist).code == 0
    )  # the lock died with it
    assert list(tmp_path.glob(".allowlist.jsonl.*.tmp")) == []
    assert cli("verify", gamma, "--allowlist", allowlist, "--pubkey", tmp_path / "k.pub").code == 0
    assert cli("verify", beta, "--allowlist", allowlist, "--pubkey", tmp_path / "k.pub").code == 1
