"""`airlock fetch-verified` against the local Hub: only an allowlisted, untampered snapshot reaches DEST."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save

from fixtures.hub_server import HubRepo, HubServer

pytestmark = pytest.mark.slow


def _files(seed: int) -> dict[str, bytes]:
    return {
        "config.json": json.dumps({"model_type": "bert", "seed": seed}).encode(),
        "model.safetensors": save({"dense.weight": np.full((8, 8), seed, dtype=np.float32)}),
        "sub/tokenizer.json": json.dumps({"seed": seed}).encode(),
    }


@dataclass(frozen=True)
class World:
    hub: HubServer
    root: Path
    allowlist: Path
    pubkey: Path
    good_sha: str
    tampered_sha: str
    unknown_sha: str
    revoked_sha: str


def _airlock(*args: object, capsys: pytest.CaptureFixture[str] | None = None) -> tuple[int, str]:
    from airlock.cli.main import main

    with pytest.raises(SystemExit) as exit_info:
        main([str(a) for a in args])
    err = capsys.readouterr().err if capsys is not None else ""
    return int(exit_info.value.code or 0), err


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("fetch")
    with HubServer() as hub, pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_ENDPOINT", hub.url)
        mp.setenv("HF_HOME", str(root / "hf-home"))
        mp.setenv("AIRLOCK_CACHE_DIR", str(root / "cache"))
        mp.delenv("HF_TOKEN", raising=False)
        good = hub.add_repo(HubRepo("acme/tiny-bert", _files(1)))
        tampered = hub.add_repo(HubRepo("acme/tampered", _files(2)))
        unknown = hub.add_repo(HubRepo("acme/newcomer", _files(3)))
        revoked = hub.add_repo(HubRepo("acme/withdrawn", _files(4)))
        key, allowlist = root / "team.key", root / "allowlist.jsonl"
        assert _airlock("keygen", key)[0] == 0
        for repo, sha in (("acme/tiny-bert", good), ("acme/tampered", tampered), ("acme/withdrawn", revoked)):
            assert _airlock("sign", f"hf://{repo}@{sha}", "--key", key, "--allowlist", allowlist)[0] == 0
        digest = json.loads(allowlist.read_text().splitlines()[-1])["body"]["model"]
        assert (
            _airlock(
                "allowlist", "revoke", digest, "--allowlist", allowlist, "--key", key, "--reason", "test"
            )[0]
            == 0
        )
        hub.corrupt("acme/tampered", "model.safetensors")  # served bytes now differ from the signed digest
        yield World(hub, root, allowlist, Path(f"{key}.pub"), good, tampered, unknown, revoked)


@pytest.fixture
def env(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HF_ENDPOINT", world.hub.url)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("AIRLOCK_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("HF_TOKEN", raising=False)
    parent = tmp_path / "mnt"
    parent.mkdir()
    return parent


def _fetch(world: World, ref: str, dest: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    return _airlock(
        "fetch-verified", ref, dest, "--allowlist", world.allowlist, "--pubkey", world.pubkey, capsys=capsys
    )


def test_an_allowlisted_snapshot_lands_in_dest(
    world: World, env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dest = env / "models"
    code, err = _fetch(world, f"hf://acme/tiny-bert@{world.good_sha}", dest, capsys)
    assert code == 0, err
    files = {p.relative_to(dest).as_posix(): p.read_bytes() for p in dest.rglob("*") if p.is_file()}
    assert files == _files(1)
    assert not any(p.is_symlink() for p in dest.rglob("*"))
    assert sorted(p.name for p in env.iterdir()) == ["models"]  # no staging folder left beside it


def test_a_mounted_empty_dest_gets_the_files_and_kserve_spelling_works(
    world: World, env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dest = env / "models"
    dest.mkdir()  # like KServe's /mnt/models volume: it exists, and cannot be renamed over
    code, err = _fetch(world, f"hf://acme/tiny-bert:{world.good_sha}", dest, capsys)
    assert code == 0, err
    assert sorted(p.name for p in dest.iterdir()) == ["config.json", "model.safetensors", "sub"]


@pytest.mark.parametrize("existing", [False, True])
@pytest.mark.parametrize(
    "case, why",
    [
        ("tampered", "digest-mismatch"),
        ("unknown", "not-allowlisted"),
        ("revoked", "revoked"),
        ("branch", "unpinned"),
        ("no-revision", "unpinned"),
        ("missing-repo", "download"),
    ],
)
def test_every_refusal_names_why_and_leaves_dest_empty(
    world: World, env: Path, capsys: pytest.CaptureFixture[str], case: str, why: str, existing: bool
) -> None:
    ref = {
        "tampered": f"hf://acme/tampered@{world.tampered_sha}",
        "unknown": f"hf://acme/newcomer@{world.unknown_sha}",
        "revoked": f"hf://acme/withdrawn@{world.revoked_sha}",
        "branch": "hf://acme/tiny-bert@main",
        "no-revision": "hf://acme/tiny-bert",
        "missing-repo": f"hf://acme/nowhere@{'0' * 40}",
    }[case]
    dest = env / "models"
    if existing:
        dest.mkdir()
    before = len(world.hub.requests)
    code, err = _fetch(world, ref, dest, capsys)
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and f"refused ({why})" in lines[0], err
    if existing:
        assert list(dest.iterdir()) == []
    else:
        assert not dest.exists()
    assert [p.name for p in env.iterdir()] == (["models"] if existing else [])
    if why == "unpinned":
        assert len(world.hub.requests) == before  # refused before any download


def test_a_dest_with_files_is_refused_untouched(
    world: World, env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dest = env / "models"
    dest.mkdir()
    (dest / "old.bin").write_bytes(b"old")
    code, err = _fetch(world, f"hf://acme/tiny-bert@{world.good_sha}", dest, capsys)
    assert code == 1 and "refused (dest)" in err
    assert [p.name for p in dest.iterdir()] == ["old.bin"]


def test_fetch_verified_runs_without_torch(world: World, tmp_path: Path) -> None:
    """The storage-initializer image installs airlock without torch: the command must not import it."""
    dest = tmp_path / "models"
    script = (
        "import sys\n"
        "for name in ('torch', 'transformers', 'sklearn', 'scipy', 'modelscan', 'h5py'):\n"
        "    sys.modules[name] = None  # any import of these now fails\n"
        "from airlock.cli.main import main\n"
        "main(sys.argv[1:])\n"
    )
    env = {
        **os.environ,
        "HF_ENDPOINT": world.hub.url,
        "HF_HOME": str(tmp_path / "hf-home"),
        "AIRLOCK_CACHE_DIR": str(tmp_path / "cache"),
        "AIRLOCK_ALLOWLIST": str(world.allowlist),
        "AIRLOCK_PUBKEYS": str(world.pubkey),
    }
    env.pop("HF_TOKEN", None)
    done = subprocess.run(
        [sys.executable, "-c", script, "fetch-verified", f"hf://acme/tiny-bert@{world.good_sha}", str(dest)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (dest / "model.safetensors").read_bytes() == _files(1)["model.safetensors"]
