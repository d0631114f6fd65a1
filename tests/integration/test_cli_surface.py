"""What a user trips over first: file modes, leftovers, --debug, help examples, Ctrl-C, the README policy."""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fixtures import formats
from fixtures.real_models import minilm_dir
from tests.conftest import REPO, assert_valid_report

AIRLOCK = Path(sys.executable).parent / "airlock"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _small_model(dest: Path) -> Path:
    dest.mkdir(parents=True)
    formats.safetensors_file(dest)
    (dest / "config.json").write_text('{"model_type": "bert"}\n')
    return dest


def test_outputs_are_readable_by_others_keys_are_not_and_nothing_is_left_behind(cli, tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        model = _small_model(tmp_path / "model")
        out = tmp_path / "out"
        out.mkdir()
        key, allowlist = out / "team.key", out / "allowlist.jsonl"
        assert cli("scan", model, "--format", "json", "-o", out / "report.json").code == 0
        assert cli("keygen", key).code == 0
        signed = cli("sign", model, "--key", key, "--allowlist", allowlist, "--signature", out / "model.sig")
        assert signed.code == 0, signed.err
        assert cli("verify", model, "--allowlist", allowlist, "--pubkey", f"{key}.pub").code == 0
    finally:
        os.umask(old)
    assert _mode(key) == 0o600
    for shared in ("report.json", "team.key.pub", "allowlist.jsonl", "model.sig"):
        assert _mode(out / shared) == 0o644, shared
    assert sorted(p.name for p in out.iterdir()) == [
        "allowlist.jsonl",
        "model.sig",
        "report.json",
        "team.key",
        "team.key.pub",
    ]  # no FILE.lock, no temp files


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_is_accepted_before_and_after_the_command(cli, where: str, tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    args = ["--debug", "scan", missing] if where == "before" else ["scan", missing, "--debug"]
    result = cli(*args)
    assert result.code == 2
    assert "Traceback" in result.err and "no such file" in result.err
    plain = cli("scan", missing)
    assert "Traceback" not in plain.err and len(plain.err.strip().splitlines()) == 1


def test_every_command_help_has_an_example() -> None:
    from airlock.cli.main import build_parser, subcommands

    found = subcommands(build_parser())
    assert {name for name, _ in found} >= {"scan", "data", "verify", "sign", "allowlist revoke", "precommit"}
    for name, parser in found:
        text = parser.format_help()
        assert re.search(r"^examples?:\n  airlock " + re.escape(name) + " ", text, re.M), name


def test_format_words_are_shared(cli, tmp_path: Path) -> None:
    model = _small_model(tmp_path / "model")
    key, allowlist = tmp_path / "k.key", tmp_path / "a.jsonl"
    assert (
        cli("keygen", key).code == 0 and cli("sign", model, "--key", key, "--allowlist", allowlist).code == 0
    )
    for word in ("table", "text"):  # `text` was verify's word for what scan calls `table`
        assert (
            cli("verify", model, "--allowlist", allowlist, "--pubkey", f"{key}.pub", "--format", word).code
            == 0
        )
        assert cli("scan", model, "--format", word).out.startswith("airlock ")
    md = cli("verify", model, "--allowlist", allowlist, "--pubkey", f"{key}.pub", "--format", "markdown")
    assert md.code == 0 and md.out.startswith("## ✅ admitted")
    assert cli("allowlist", "list", "--allowlist", allowlist, "--format", "text").code == 0
    bad = cli("verify", model, "--allowlist", allowlist, "--format", "sarif")
    assert (
        bad.code == 2 and "'sarif' is not one of: table, json, markdown" in bad.err
    )  # plain words, not enum reprs


def test_ctrl_c_exits_130(tmp_path: Path) -> None:
    # `--from -` waits on stdin, which stays open: the process is busy when the interrupt arrives
    # as from a terminal: SIGINT at its default in the child even when the suite runs as a background
    # job (which inherits SIGINT ignored, so Python installs no KeyboardInterrupt handler)
    proc = subprocess.Popen(
        [str(AIRLOCK), "scan", "--from", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        _wait_until_reading_stdin(proc.pid)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)  # stdin stays open until then: the interrupt, not end-of-file, ends it
        assert proc.stderr is not None
        err = proc.stderr.read()
    finally:
        proc.kill()
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    assert proc.returncode == 130, err
    assert err.strip() == "airlock: interrupted"


def _wait_until_reading_stdin(pid: int, timeout: float = 30.0) -> None:
    """Until the process sits in read(0, …): then it is past its imports, inside the command."""
    read = {"x86_64": "0", "aarch64": "63"}.get(os.uname().machine)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            fields = Path(f"/proc/{pid}/syscall").read_text().split()
        except OSError:
            fields = []
        if read is None or not fields:
            time.sleep(3.0)  # no way to look: give it time to start
            return
        if fields[:2] == [read, "0x0"]:
            return
        time.sleep(0.05)
    raise AssertionError("airlock never started reading stdin")


def test_json_and_sarif_carry_a_timestamp(cli, tmp_path: Path, report_schema) -> None:
    model = _small_model(tmp_path / "model")
    report = cli("scan", model, "--format", "json").json()
    assert_valid_report(report, report_schema)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", report["timestamp"])
    sarif = json.loads(cli("scan", model, "--format", "sarif").out)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", sarif["runs"][0]["invocations"][0]["endTimeUtc"])


def test_the_readme_policy_example_passes_on_the_readme_model(cli, tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text()
    example = readme.split("\n## Policy\n", 1)[1].split("```toml\n", 1)[1].split("```", 1)[0]
    policy = tmp_path / "policy.toml"
    policy.write_text(example)
    result = cli("scan", minilm_dir(), "--policy", policy, "--format", "json", "--no-progress")
    assert result.code == 0, result.out[-2000:]
    report = result.json()
    assert report["verdict"]["policy"].startswith("team-default")
    required = re.search(r"required_scanners = \[(.*?)\]", example)
    assert required is not None
    statuses = {c["scanner"]: c for c in report["checks"]}
    for name in re.findall(r'"(\w+)"', required.group(1)):
        assert statuses[name]["status"] in ("ran", "skipped"), name
