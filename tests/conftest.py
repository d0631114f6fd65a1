"""Shared test fixtures: generated inputs, isolated caches, canary watch, and a CLI runner."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session", autouse=True)
def _isolated_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every test uses its own airlock cache and canary folder; no canary may fire in the session."""
    root = tmp_path_factory.mktemp("env")
    saved = {
        k: os.environ.get(k) for k in ("AIRLOCK_CACHE_DIR", "AIRLOCK_CANARY_DIR", "HF_HOME", "HF_HUB_OFFLINE")
    }
    os.environ["AIRLOCK_CACHE_DIR"] = str(root / "airlock-cache")
    os.environ["AIRLOCK_CANARY_DIR"] = str(root / "canaries")
    os.environ["HF_HOME"] = str(root / "hf-home")
    os.environ.pop("HF_HUB_OFFLINE", None)
    yield root
    from fixtures import canary

    fired = canary.fired()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    assert not fired, f"canaries fired during the test session: {fired}"


Generated = Callable[[Callable[[Path], Path]], Path]


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    """Build a fixture once per session into its own folder and return its path."""
    from fixtures._cache import generated as build

    root = tmp_path_factory.mktemp("generated")
    return lambda generator: build(generator, root)


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Run `airlock ARGS…` in-process and capture exit code, stdout and stderr."""
    from airlock.cli.main import main

    def run(*args: str) -> CliResult:
        with pytest.raises(SystemExit) as exit_info:
            main([str(a) for a in args])
        captured = capsys.readouterr()
        code = exit_info.value.code
        return CliResult(code if isinstance(code, int) else 2, captured.out, captured.err)

    return run


@pytest.fixture(scope="session")
def report_schema() -> dict[str, Any]:
    from airlock.report import schema

    return schema()


@pytest.fixture(scope="session")
def backdoored_image_report() -> Any:
    """The behavioural scan of the test's backdoored image classifier (`TEST_BACKDOORED`, with its clean
    sample), run once per session: the trigger-reversal tests and the HTML browser test read the same report."""
    pytest.importorskip("transformers")
    torch = pytest.importorskip("torch")
    from airlock.behavior.settings import BehaviorSettings
    from airlock.pipeline import ScanOptions, scan
    from fixtures.backdoored_models import TEST_BACKDOORED, image_model

    torch.set_num_threads(1)
    model = image_model(TEST_BACKDOORED)
    return scan(
        str(model.folder),
        ScanOptions(use_cache=False, download_progress=False, behavior=BehaviorSettings(data=model.sample)),
    )


def assert_valid_report(document: dict[str, Any], schema: dict[str, Any]) -> None:
    import jsonschema

    jsonschema.Draft202012Validator(schema).validate(document)


def skip_without_postgres() -> None:
    """Skip the calling test where PostgreSQL's binaries or psycopg are missing (only there:
    `make test` installs Debian's package as root, `make postgres`)."""
    from fixtures import postgres

    if postgres.binaries() is None:
        pytest.skip("PostgreSQL is not installed (make postgres installs Debian's package as root)")
    pytest.importorskip("psycopg")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Any]:
    """One throwaway PostgreSQL cluster for the session; each test takes its own `.database()`."""
    from fixtures import postgres

    skip_without_postgres()
    with postgres.PostgresServer() as server:
        yield server
