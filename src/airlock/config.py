"""Settings read from the environment at call time (never at import time).

`HF_*` variables belong to huggingface_hub; airlock reads the few it must pass on explicitly,
because the client itself reads `HF_ENDPOINT` and `HF_HUB_OFFLINE` once, when it is imported.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_ENDPOINT = "https://huggingface.co"


def cache_dir() -> Path:
    """airlock's own cache (result cache); `AIRLOCK_CACHE_DIR`, else `$XDG_CACHE_HOME/airlock`."""
    explicit = os.environ.get("AIRLOCK_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "airlock"


def hf_endpoint() -> str:
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def hf_token() -> str | None:
    return os.environ.get("HF_TOKEN") or None


def hf_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def hf_hub_cache() -> Path:
    """Where Hub snapshots go: `HF_HUB_CACHE`, else `HF_HOME/hub`, else `~/.cache/huggingface/hub`."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    home = os.environ.get("HF_HOME") or str(Path.home() / ".cache" / "huggingface")
    return Path(home).expanduser() / "hub"
