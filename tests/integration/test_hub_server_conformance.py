"""Conformance of `fixtures.hub_server` with the real `huggingface_hub` client.

Other tests use `HubServer` in place of the Hub; these prove the stand-in is faithful by driving the real
client (`HfApi`, `hf_hub_download`, `snapshot_download`) against it: metadata, auth, error mapping,
pagination, the LFS redirect to a CDN, and the two fault hooks (`corrupt`, `drop_connection`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2
import pytest
from huggingface_hub import HfApi, hf_hub_download, snapshot_download
from huggingface_hub.errors import (
    GatedRepoError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from fixtures.hub_server import DEFAULT_TOKEN, HubRepo, HubServer

WEIGHTS = bytes(range(256)) * 20  # 5120 bytes: LFS by size and by suffix
CONFIG = b'{"model_type": "bert", "hidden_size": 8}'
FILES = {
    "config.json": CONFIG,
    "README.md": b"---\nlicense: mit\n---\n# tiny\n",
    "nested/deeper/model.safetensors": WEIGHTS,
    "nested/tokenizer.json": b'{"vocab": {}}',
    "nested/with space/vökab+1.txt": b"needs URL quoting",
}


def _git_blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def hub() -> Iterator[HubServer]:
    with HubServer() as server:
        yield server


@pytest.fixture
def api(hub: HubServer) -> HfApi:
    return HfApi(endpoint=hub.url, token=False)  # token=False: never pick up a token from the environment


def test_model_info_files_metadata_describes_the_bytes(hub: HubServer, api: HfApi) -> None:
    sha = hub.add_repo(HubRepo("org/tiny", FILES, card_data={"license": "mit"}))

    info = api.model_info("org/tiny", files_metadata=True)

    assert (info.id, info.sha, info.author) == ("org/tiny", sha, "org")
    assert info.private is False and info.gated is False
    assert info.card_data is not None and info.card_data.license == "mit"
    siblings = {s.rfilename: s for s in info.siblings or []}
    assert set(siblings) == set(FILES)
    for path, data in FILES.items():
        assert siblings[path].size == len(data)
    assert siblings["config.json"].lfs is None
    assert siblings["config.json"].blob_id == _git_blob_id(CONFIG)
    lfs = siblings["nested/deeper/model.safetensors"].lfs
    assert lfs is not None and (lfs.sha256, lfs.size) == (_sha256(WEIGHTS), len(WEIGHTS))
    pointer = (
        f"version https://git-lfs.github.com/spec/v1\noid sha256:{_sha256(WEIGHTS)}\nsize {len(WEIGHTS)}\n"
    )
    assert siblings["nested/deeper/model.safetensors"].blob_id == _git_blob_id(pointer.encode())
    assert lfs.pointer_size == len(pointer)


def test_security_status_in_model_info_and_expanded_tree(hub: HubServer, api: HfApi) -> None:
    repo_status = {"scansDone": True, "filesWithIssues": [{"path": "nested/deeper/model.safetensors"}]}
    file_status = {"status": "unsafe", "pickleImportScan": {"highestSafetyLevel": "dangerous", "imports": []}}
    hub.add_repo(
        HubRepo(
            "org/tiny",
            FILES,
            security_repo_status=repo_status,
            file_security={"nested/deeper/model.safetensors": file_status},
        )
    )

    assert api.model_info("org/tiny", securityStatus=True).security_repo_status == repo_status
    assert api.model_info("org/tiny").security_repo_status is None
    security = {
        e.path: getattr(e, "security", None)
        for e in api.list_repo_tree("org/tiny", recursive=True, expand=True)
    }
    scanned = security.pop("nested/deeper/model.safetensors")
    assert scanned is not None and (scanned.safe, scanned.status) == (False, "unsafe")
    assert scanned.pickle_import_scan == file_status["pickleImportScan"]
    assert all(status is None for status in security.values())


@pytest.mark.parametrize("expand", [False, True])
def test_tree_is_paginated_and_the_client_follows_every_page(
    hub: HubServer, api: HfApi, expand: bool
) -> None:
    files = {f"shards/part-{i:03d}.txt": f"shard {i}".encode() for i in range(hub.page_size * 2 + 7)}
    hub.add_repo(HubRepo("org/many", files))

    listed = {e.path for e in api.list_repo_tree("org/many", recursive=True, expand=expand)}

    assert listed == set(files) | {"shards"}
    tree_calls = [p for m, p in hub.requests if m == "GET" and p.startswith("/api/models/org/many/tree/main")]
    assert len(tree_calls) == 3
    assert all("cursor=" in p for p in tree_calls[1:])


def test_snapshot_download_is_byte_identical_and_lfs_goes_through_the_cdn(
    hub: HubServer, tmp_path: Path
) -> None:
    sha = hub.add_repo(HubRepo("org/tiny", FILES))

    folder = Path(snapshot_download("org/tiny", endpoint=hub.url, cache_dir=tmp_path, token=False))

    assert folder.name == sha
    assert {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    } == FILES
    # The client names cache blobs after the ETag it was given: the sha256 for LFS, the git blob id otherwise.
    blobs = {p.name for p in (tmp_path / "models--org--tiny" / "blobs").iterdir()}
    assert _sha256(WEIGHTS) in blobs and _git_blob_id(CONFIG) in blobs
    gets = [p for m, p in hub.requests if m == "GET"]
    assert f"/cdn-lfs/org/tiny/{sha}/nested/deeper/model.safetensors" in gets
    assert f"/org/tiny/resolve/{sha}/config.json" in gets
    assert not any(p.startswith("/org/tiny/resolve/") and p.endswith(".safetensors") for p in gets)


def test_branches_resolve_to_their_head_commit(hub: HubServer, api: HfApi, tmp_path: Path) -> None:
    first = hub.add_repo(HubRepo("org/tiny", FILES))
    second = hub.commit("org/tiny", {**FILES, "config.json": b'{"v": 2}'})
    dev = hub.commit("org/tiny", {"config.json": b'{"v": "dev"}'}, branch="dev")

    assert len({first, second, dev}) == 3
    assert api.repo_info("org/tiny", revision="main").sha == second
    assert api.repo_info("org/tiny").sha == second
    assert api.repo_info("org/tiny", revision="dev").sha == dev
    assert api.repo_info("org/tiny", revision=first).sha == first
    dev_config = hf_hub_download(
        "org/tiny", "config.json", revision="dev", endpoint=hub.url, cache_dir=tmp_path, token=False
    )
    assert Path(dev_config).read_bytes() == b'{"v": "dev"}'
    with pytest.raises(RemoteEntryNotFoundError):
        hf_hub_download(
            "org/tiny", "README.md", revision="dev", endpoint=hub.url, cache_dir=tmp_path, token=False
        )


def test_tags_pin_an_older_commit(hub: HubServer, api: HfApi, tmp_path: Path) -> None:
    first = hub.add_repo(HubRepo("org/tiny", FILES))
    hub.tag("org/tiny", "v1.0", first)
    hub.commit("org/tiny", {**FILES, "config.json": b'{"v": 2}'})

    assert api.model_info("org/tiny", revision="v1.0").sha == first
    path = hf_hub_download(
        "org/tiny", "config.json", revision="v1.0", endpoint=hub.url, cache_dir=tmp_path, token=False
    )
    assert Path(path).read_bytes() == CONFIG
    assert (tmp_path / "models--org--tiny" / "refs" / "v1.0").read_text() == first


def test_unknown_repo_raises_repository_not_found(hub: HubServer, api: HfApi, tmp_path: Path) -> None:
    with pytest.raises(RepositoryNotFoundError) as from_api:
        api.model_info("org/missing")
    with pytest.raises(RepositoryNotFoundError) as from_download:
        hf_hub_download("org/missing", "config.json", endpoint=hub.url, cache_dir=tmp_path, token=False)
    # Exactly this type, not its GatedRepoError child.
    assert type(from_api.value) is type(from_download.value) is RepositoryNotFoundError


def test_unknown_revision_raises_revision_not_found(hub: HubServer, api: HfApi, tmp_path: Path) -> None:
    hub.add_repo(HubRepo("org/tiny", FILES))

    with pytest.raises(RevisionNotFoundError):
        api.model_info("org/tiny", revision="no-such-branch")
    with pytest.raises(RevisionNotFoundError):
        hf_hub_download(
            "org/tiny", "config.json", revision="f" * 40, endpoint=hub.url, cache_dir=tmp_path, token=False
        )
    with pytest.raises(RevisionNotFoundError):
        snapshot_download(
            "org/tiny", revision="no-such-branch", endpoint=hub.url, cache_dir=tmp_path, token=False
        )


def test_gated_repo_needs_a_token(hub: HubServer, tmp_path: Path) -> None:
    hub.add_repo(HubRepo("org/gated", FILES, gated=True))
    download = {"endpoint": hub.url, "cache_dir": tmp_path}

    assert HfApi(endpoint=hub.url, token=False).model_info("org/gated").gated == "auto"  # metadata is public
    with pytest.raises(GatedRepoError):
        hf_hub_download("org/gated", "nested/deeper/model.safetensors", **download, token=False)
    with pytest.raises(GatedRepoError):
        hf_hub_download("org/gated", "config.json", **download, token="hf_not_a_valid_token")
    with pytest.raises(GatedRepoError):
        snapshot_download("org/gated", **download, token=False)

    assert HfApi(endpoint=hub.url, token=DEFAULT_TOKEN).model_info("org/gated").gated == "auto"
    # The CDN answers 400 to a request carrying Authorization, so this also proves the client drops the token
    # when it follows the LFS redirect off the Hub's origin.
    folder = Path(snapshot_download("org/gated", **download, token=DEFAULT_TOKEN))
    assert (folder / "nested/deeper/model.safetensors").read_bytes() == WEIGHTS


def test_private_repo_is_invisible_without_a_token(hub: HubServer, tmp_path: Path) -> None:
    hub.add_repo(HubRepo("org/secret", FILES, private=True))
    download = {"endpoint": hub.url, "cache_dir": tmp_path}

    failures = []
    for attempt in (
        lambda: HfApi(endpoint=hub.url, token=False).model_info("org/secret"),
        lambda: list(HfApi(endpoint=hub.url, token=False).list_repo_tree("org/secret")),
        lambda: hf_hub_download("org/secret", "config.json", **download, token=False),
        lambda: snapshot_download("org/secret", **download, token=False),
    ):
        with pytest.raises(RepositoryNotFoundError) as raised:
            attempt()
        failures.append(type(raised.value))
    assert set(failures) == {RepositoryNotFoundError}

    assert HfApi(endpoint=hub.url, token=DEFAULT_TOKEN).model_info("org/secret").private is True
    folder = Path(snapshot_download("org/secret", **download, token=DEFAULT_TOKEN))
    assert (folder / "config.json").read_bytes() == CONFIG


@pytest.mark.parametrize("path", ["nested/deeper/model.safetensors", "config.json"])
def test_corrupted_bytes_are_accepted_because_the_client_only_checks_the_size(
    hub: HubServer, api: HfApi, tmp_path: Path, path: str
) -> None:
    hub.add_repo(HubRepo("org/tiny", FILES))
    hub.corrupt("org/tiny", path)
    sibling = next(
        s for s in api.model_info("org/tiny", files_metadata=True).siblings or [] if s.rfilename == path
    )

    # No exception: huggingface_hub compares the received length with the advertised size and nothing else.
    received = Path(
        hf_hub_download("org/tiny", path, endpoint=hub.url, cache_dir=tmp_path, token=False)
    ).read_bytes()

    assert len(received) == len(FILES[path]) == sibling.size
    assert sum(a != b for a, b in zip(received, FILES[path], strict=True)) == 1
    if sibling.lfs is not None:
        assert _sha256(received) != sibling.lfs.sha256
    else:
        assert _git_blob_id(received) != sibling.blob_id


def test_a_dropped_download_is_retried_to_the_right_bytes(hub: HubServer, tmp_path: Path) -> None:
    sha = hub.add_repo(HubRepo("org/tiny", FILES))
    hub.drop_connection("org/tiny", "nested/deeper/model.safetensors", after_bytes=1000, times=1)

    path = hf_hub_download(
        "org/tiny", "nested/deeper/model.safetensors", endpoint=hub.url, cache_dir=tmp_path, token=False
    )

    assert Path(path).read_bytes() == WEIGHTS
    cdn_gets = [p for m, p in hub.requests if m == "GET" and p.startswith(f"/cdn-lfs/org/tiny/{sha}/")]
    # The client keeps what it receives in 10 MiB chunks, so for a small file the bytes before the cut are
    # lost and the second GET starts over from byte 0; a `Range: bytes=N-` resume only happens past 10 MiB.
    assert len(cdn_gets) == 2


def test_a_download_that_always_drops_fails_instead_of_hanging(hub: HubServer, tmp_path: Path) -> None:
    hub.add_repo(HubRepo("org/tiny", FILES))
    hub.drop_connection("org/tiny", "nested/deeper/model.safetensors", after_bytes=1000)
    pool = ThreadPoolExecutor(max_workers=1)
    attempt = pool.submit(
        hf_hub_download,
        "org/tiny",
        "nested/deeper/model.safetensors",
        endpoint=hub.url,
        cache_dir=tmp_path,
        token=False,
    )
    try:
        # huggingface_hub 2.4 retries 5 times, 1 s apart, then re-raises the transport error
        # `httpx2.RemoteProtocolError` ("peer closed connection without sending complete message body").
        with pytest.raises(httpx2.RemoteProtocolError):
            attempt.result(timeout=30)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    cdn_gets = [p for m, p in hub.requests if m == "GET" and p.startswith("/cdn-lfs/")]
    assert len(cdn_gets) == 6
    assert not list((tmp_path / "models--org--tiny" / "snapshots").rglob("model.safetensors"))
