"""`airlock scan hf://…` against a local Hub-compatible server, driving the real huggingface_hub client.

Covers the happy path, pinning, gated/private/missing repos and revisions, bytes that do not match the
Hub's records (the client's own size-only check lets them through), dropped connections, patterns,
offline mode, a full disk, and the Hub-side provenance findings.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save

from fixtures import pickles
from fixtures.canary import shell_command
from fixtures.hub_server import DEFAULT_TOKEN, HubRepo, HubServer
from tests.conftest import assert_valid_report

CARD = {"license": "apache-2.0", "base_model": "org/base", "datasets": ["mnist"]}


def _files(**extra: bytes) -> dict[str, bytes]:
    weights = save({"dense.weight": np.arange(600, dtype=np.float32).reshape(20, 30)})
    return {
        "README.md": b"---\nlicense: apache-2.0\n---\n# tiny model\n",
        "config.json": json.dumps({"model_type": "bert", "hidden_size": 30}).encode(),
        "model.safetensors": weights,
        "nested/tokenizer_config.json": b'{"model_max_length": 512}',
        **extra,
    }


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[HubServer]:
    with HubServer() as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
        monkeypatch.delenv("HF_TOKEN", raising=False)
        monkeypatch.delenv("HF_HUB_CACHE", raising=False)
        yield server


def _scan(cli, ref: str, *extra: str):
    return cli("scan", ref, "--format", "json", "--no-progress", *extra)


def _rules(report: dict) -> list[str]:
    return sorted(f["rule"] for f in report["findings"])


def test_happy_path_resolves_the_branch_and_verifies_every_byte(
    cli, hub: HubServer, report_schema, tmp_path: Path
) -> None:
    sha = hub.add_repo(HubRepo("acme/tiny-bert", _files(), card_data=CARD))
    result = _scan(cli, "hf://acme/tiny-bert")
    assert result.code == 0, result.err
    report = result.json()
    assert_valid_report(report, report_schema)
    assert report["target"]["source"] == "hf" and report["target"]["revision"] == sha
    assert report["target"]["repo_id"] == "acme/tiny-bert"
    assert _rules(report) == ["AIR101", "AIR109"]  # mutable reference (low) and the repo facts (info)
    pin = next(f for f in report["findings"] if f["rule"] == "AIR101")
    assert sha in pin["message"] and pin["evidence"]["resolved"] == sha
    facts = next(f for f in report["findings"] if f["rule"] == "AIR109")["evidence"]
    assert facts["author"] == "acme" and facts["card_data"]["license"] == "apache-2.0"
    assert {a["path"]: a["sha256"] for a in report["artifacts"]} == {
        p: hashlib.sha256(d).hexdigest() for p, d in _files().items()
    }
    assert any(r.startswith("/api/models/acme/tiny-bert") for _, r in hub.requests)


def test_a_pinned_sha_has_no_mutable_reference_finding(cli, hub: HubServer) -> None:
    sha = hub.add_repo(HubRepo("acme/tiny-bert", _files(), card_data=CARD))
    result = _scan(cli, f"acme/tiny-bert@{sha}")
    assert result.code == 0, result.err
    assert _rules(result.json()) == ["AIR109"]


def test_a_tag_is_resolved_to_its_commit(cli, hub: HubServer) -> None:
    first = hub.add_repo(HubRepo("acme/tiny-bert", _files(), card_data=CARD))
    hub.tag("acme/tiny-bert", "v1", first)
    hub.commit("acme/tiny-bert", _files(**{"extra.json": b"{}"}))
    report = _scan(cli, "hf://acme/tiny-bert@v1").json()
    assert report["target"]["revision"] == first
    assert "extra.json" not in {a["path"] for a in report["artifacts"]}
    assert next(f for f in report["findings"] if f["rule"] == "AIR101")["evidence"]["requested"] == "v1"


def test_same_length_lfs_substitution_fails_closed(cli, hub: HubServer) -> None:
    hub.add_repo(HubRepo("acme/tiny-bert", _files(), card_data=CARD))
    hub.corrupt("acme/tiny-bert", "model.safetensors")
    result = _scan(cli, "hf://acme/tiny-bert")
    assert result.code == 1
    bad = [f for f in result.json()["findings"] if f["severity"] == "critical"]
    assert [(f["rule"], f["artifact"]) for f in bad] == [("AIR102", "model.safetensors")]
    assert bad[0]["evidence"]["expected_sha256"] == hashlib.sha256(_files()["model.safetensors"]).hexdigest()


def test_git_file_substitution_fails_closed(cli, hub: HubServer) -> None:
    hub.add_repo(HubRepo("acme/tiny-bert", _files(), card_data=CARD))
    hub.corrupt("acme/tiny-bert", "config.json")
    result = _scan(cli, "hf://acme/tiny-bert")
    assert result.code == 1
    assert [f["rule"] for f in result.json()["findings"] if f["severity"] == "critical"] == ["AIR103"]


def test_gated_repo_needs_a_token(cli, hub: HubServer, monkeypatch: pytest.MonkeyPatch) -> None:
    hub.add_repo(HubRepo("acme/gated", _files(), gated=True, card_data=CARD))
    denied = _scan(cli, "hf://acme/gated")
    assert denied.code == 2 and denied.out == ""
    assert "gated" in denied.err and "HF_TOKEN" in denied.err and len(denied.err.strip().splitlines()) == 1
    monkeypatch.setenv("HF_TOKEN", DEFAULT_TOKEN)
    allowed = _scan(cli, "hf://acme/gated")
    assert allowed.code == 0, allowed.err
    facts = next(f for f in allowed.json()["findings"] if f["rule"] == "AIR109")["evidence"]
    assert facts["gated"] == "auto"


def test_private_repo_without_a_token_reads_as_not_found(
    cli, hub: HubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub.add_repo(HubRepo("acme/secret", _files(), private=True))
    result = _scan(cli, "hf://acme/secret")
    assert result.code == 2 and "acme/secret: repository not found" in result.err and "HF_TOKEN" in result.err
    monkeypatch.setenv("HF_TOKEN", DEFAULT_TOKEN)
    assert _scan(cli, "hf://acme/secret").code == 0


def test_missing_repo_and_missing_revision(cli, hub: HubServer) -> None:
    hub.add_repo(HubRepo("acme/tiny-bert", _files(), card_data=CARD))
    missing = _scan(cli, "hf://acme/nothing-here")
    assert missing.code == 2 and "acme/nothing-here: repository not found" in missing.err
    bad_rev = _scan(cli, "hf://acme/tiny-bert@no-such-branch")
    assert bad_rev.code == 2 and "revision 'no-such-branch' not found" in bad_rev.err


def test_a_dropped_connection_that_recovers_gives_the_right_bytes(cli, hub: HubServer) -> None:
    hub.add_repo(HubRepo("acme/tiny-bert", _files(), card_data=CARD))
    hub.drop_connection("acme/tiny-bert", "model.safetensors", after_bytes=100, times=1)
    result = _scan(cli, "hf://acme/tiny-bert")
    assert result.code == 0, result.err


@pytest.mark.slow
def test_a_connection_that_keeps_dropping_is_exit_2(cli, hub: HubServer) -> None:
    hub.add_repo(HubRepo("acme/tiny-bert", _files(), card_data=CARD))
    hub.drop_connection("acme/tiny-bert", "model.safetensors", after_bytes=100, times=None)
    result = _scan(cli, "hf://acme/tiny-bert")
    assert result.code == 2 and result.out == ""
    assert "connection lost during download" in result.err and len(result.err.strip().splitlines()) == 1


def test_include_and_exclude_patterns(cli, hub: HubServer) -> None:
    hub.add_repo(HubRepo("acme/tiny-bert", _files(), card_data=CARD))
    only_json = _scan(cli, "hf://acme/tiny-bert", "--include", "*.json")
    assert only_json.code == 0, only_json.err
    assert {a["path"] for a in only_json.json()["artifacts"]} == {
        "config.json",
        "nested/tokenizer_config.json",
    }
    no_nested = _scan(cli, "hf://acme/tiny-bert", "--exclude", "nested/*")
    assert {a["path"] for a in no_nested.json()["artifacts"]} == {
        "README.md",
        "config.json",
        "model.safetensors",
    }


def test_offline_mode_uses_the_cache_and_still_verifies(
    cli, hub: HubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    sha = hub.add_repo(HubRepo("acme/tiny-bert", _files(), card_data=CARD))
    assert _scan(cli, "hf://acme/tiny-bert").code == 0
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    before = len(hub.requests)
    offline = _scan(cli, "hf://acme/tiny-bert")
    assert offline.code == 0, offline.err
    assert len(hub.requests) == before  # not one request
    report = offline.json()
    assert report["target"]["revision"] == sha
    assert "AIR115" in _rules(report)
    never = _scan(cli, "hf://acme/never-downloaded")
    assert never.code == 2 and "offline" in never.err


def test_an_unlisted_file_in_the_snapshot_folder_is_flagged(cli, hub: HubServer, tmp_path: Path) -> None:
    """Something other than the Hub added a file to the cached snapshot: it is not in the commit."""
    sha = hub.add_repo(HubRepo("acme/tiny-bert", _files(), card_data=CARD))
    assert _scan(cli, "hf://acme/tiny-bert").code == 0
    snapshot = tmp_path / "hf-home" / "hub" / "models--acme--tiny-bert" / "snapshots" / sha
    (snapshot / "sneaky.pkl").write_bytes(pickle.dumps({"a": 1}))
    result = _scan(cli, "hf://acme/tiny-bert")
    assert result.code == 1
    assert [(f["rule"], f["artifact"]) for f in result.json()["findings"] if f["severity"] == "high"] == [
        ("AIR104", "sneaky.pkl")
    ]


def test_malicious_pickle_on_the_hub(cli, hub: HubServer) -> None:
    evil = pickles.reduce_call("os", "system", shell_command("hub"), 2)
    hub.add_repo(HubRepo("acme/pickled", {"README.md": b"# m", "pytorch_model.bin": evil}, card_data=CARD))
    result = _scan(cli, "hf://acme/pickled")
    assert result.code == 1
    rules = _rules(result.json())
    assert "AIR201" in rules and "AIR113" in rules


def test_hub_security_flags_and_impersonation_and_missing_card(cli, hub: HubServer) -> None:
    files = _files()
    del files["README.md"]
    hub.add_repo(
        HubRepo(
            "g00gle/bert-base",
            files,
            file_security={
                "model.safetensors": {
                    "status": "unsafe",
                    "avScan": {"virusFound": False},
                    "pickleImportScan": None,
                }
            },
        )
    )
    result = _scan(cli, "hf://g00gle/bert-base")
    assert result.code == 1
    report = result.json()
    assert {"AIR105", "AIR107", "AIR112"} <= set(_rules(report))
    imitation = next(f for f in report["findings"] if f["rule"] == "AIR112")
    assert imitation["evidence"] == {"imitates": "google", "technique": "homoglyph"}


def test_policy_publisher_lists_apply_to_hub_models(cli, hub: HubServer, tmp_path: Path) -> None:
    hub.add_repo(HubRepo("acme/tiny-bert", _files(), card_data=CARD))
    policy = tmp_path / "p.toml"
    policy.write_text('[publishers]\nblocked = ["ACME"]\n')
    result = _scan(cli, "hf://acme/tiny-bert", "--policy", str(policy))
    assert result.code == 1 and "AIR110" in _rules(result.json())


@pytest.mark.slow
def test_disk_full_while_downloading_is_exit_2(hub: HubServer, tmp_path: Path) -> None:
    """A file-size limit makes every write past 1 KiB fail, as a full disk does (in a subprocess)."""
    hub.add_repo(HubRepo("acme/tiny-bert", _files(), card_data=CARD))
    code = (
        "import resource, signal, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))\n"
        "from airlock.cli.main import main\n"
        "main(['scan', 'hf://acme/tiny-bert', '--no-progress', '--no-cache'])\n"
    )
    env = {
        "HF_ENDPOINT": hub.url,
        "HF_HOME": str(tmp_path / "small"),
        "PATH": "/usr/bin:/bin",
        "PYTHONDONTWRITEBYTECODE": "1",  # the size limit would truncate .pyc files
        "AIRLOCK_CACHE_DIR": str(tmp_path / "c"),
    }
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "no space" in lines[0] and str(tmp_path / "small") in lines[0]


def test_cyclonedx_carries_the_hub_provenance_and_card(cli, hub: HubServer) -> None:
    from tests.integration.test_bom import assert_valid_cyclonedx

    sha = hub.add_repo(HubRepo("acme/tiny-bert", _files(), card_data=CARD))
    result = cli("scan", "hf://acme/tiny-bert", "--format", "cyclonedx", "--no-progress")
    assert result.code == 0, result.err
    bom = result.json()
    assert_valid_cyclonedx(bom)
    model = bom["metadata"]["component"]
    assert model["name"] == "acme/tiny-bert" and model["version"] == sha and model["author"] == "acme"
    props = {p["name"]: p["value"] for p in model["properties"]}
    assert props["huggingface:repo_id"] == "acme/tiny-bert" and props["huggingface:commit"] == sha
    assert model["externalReferences"][0]["url"] == f"{hub.url}/acme/tiny-bert/tree/{sha}"
    assert model["pedigree"]["ancestors"] == [{"type": "machine-learning-model", "name": "org/base"}]
    assert model["modelCard"]["modelParameters"]["datasets"] == [{"type": "dataset", "name": "mnist"}]
    card = {p["name"]: p["value"] for p in model["modelCard"]["properties"]}
    assert card["airlock:parameter_count"] == "600"  # the one 20x30 tensor, from the safetensors header
