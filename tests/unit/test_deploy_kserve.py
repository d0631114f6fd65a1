"""deploy/kserve: the ClusterStorageContainer and the image's Dockerfile agree with `airlock fetch-verified`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from airlock.cli.fetch_verified import ALLOWLIST_ENV, PUBKEYS_ENV
from airlock.cli.main import build_parser

KSERVE = Path(__file__).resolve().parents[2] / "deploy" / "kserve"


def test_the_cluster_storage_container_serves_hf_uris() -> None:
    [doc] = [d for d in yaml.safe_load_all((KSERVE / "cluster-storage-container.yaml").read_text()) if d]
    assert doc["apiVersion"] == "serving.kserve.io/v1alpha1"
    assert doc["kind"] == "ClusterStorageContainer"
    assert doc["metadata"]["name"]
    assert {"prefix": "hf://"} in doc["spec"]["supportedUriFormats"]
    container = doc["spec"]["container"]
    assert container["name"] and container["image"]
    env = {e["name"]: e for e in container["env"]}
    assert {ALLOWLIST_ENV, PUBKEYS_ENV} <= set(env)
    mounted = {m["mountPath"] for m in container["volumeMounts"]}
    for name in (ALLOWLIST_ENV, PUBKEYS_ENV):
        for path in env[name]["value"].split(","):
            assert any(path.startswith(f"{m}/") for m in mounted), path
    assert container["securityContext"]["allowPrivilegeEscalation"] is False


def test_the_dockerfile_runs_fetch_verified_without_torch() -> None:
    text = (KSERVE / "Dockerfile").read_text()
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert lines[0].startswith("FROM python:3.11")
    [entrypoint] = [line for line in lines if line.startswith("ENTRYPOINT")]
    command = json.loads(entrypoint.removeprefix("ENTRYPOINT"))  # exec form, so KServe's args are appended
    assert command == ["airlock", "fetch-verified"]
    build_parser().parse_args([*command[1:], "hf://org/name@" + "0" * 40, "/mnt/models"])
    assert "--no-deps ." in text
    installs = " ".join(line for line in lines if "pip install" in line or line.startswith('"'))
    assert not re.search(r"\btorch\b", installs)
    assert any(line.startswith("USER ") and line != "USER root" for line in lines)
