"""Where a fleet's references come from: the command line, a file, or a Hub listing pinned to commits."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from airlock.errors import AirlockError


def from_file(path: Path) -> list[str]:
    """One reference per line; blank lines and `#` comments are skipped."""
    try:
        text = path.expanduser().read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AirlockError(f"{path}: cannot read the reference list ({exc})") from None
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def hub_query(query: str, *, limit: int, endpoint: str | None = None, token: str | None = None) -> list[str]:
    """`author:NAME` (an organisation or user) or a search term, listed by the Hub and pinned: `hf://ORG/NAME@SHA`.

    Each listed model is resolved to its current commit, so the store keys (and a later re-run) name
    exact bytes; a model that disappears between the listing and the pin is left out.
    """
    import httpx
    from huggingface_hub import HfApi
    from huggingface_hub import errors as hf

    from airlock import config

    if limit <= 0:
        raise AirlockError("--limit must be a positive number")
    endpoint = (endpoint or config.hf_endpoint()).rstrip("/")
    api = HfApi(endpoint=endpoint, token=token if token is not None else config.hf_token())
    kind, sep, value = query.partition(":")
    by_author = bool(sep) and kind in ("author", "org")
    try:
        listing = (
            api.list_models(author=value, limit=limit)
            if by_author
            else api.list_models(search=query, limit=limit)
        )
        listed = [m.id for m in listing]
        pinned: list[str] = []
        for repo_id in listed:
            try:
                sha = api.model_info(repo_id).sha
            except (hf.RepositoryNotFoundError, hf.GatedRepoError):
                continue
            if sha:
                pinned.append(f"hf://{repo_id}@{sha}")
    except hf.HfHubHTTPError as exc:
        raise AirlockError(f"{endpoint}: the Hub listing failed ({str(exc).splitlines()[0]})") from None
    except (OSError, httpx.HTTPError) as exc:
        raise AirlockError(f"{endpoint}: unreachable ({exc})") from None
    return pinned


def collect(references: Sequence[str], file: Path | None, query: str | None, *, limit: int) -> list[str]:
    """Every reference asked for, in order, without duplicates."""
    found = list(references)
    if file is not None:
        found += from_file(file)
    if query is not None:
        found += hub_query(query, limit=limit)
    if not found:
        raise AirlockError("no references: give REF…, --from FILE or --hub-query QUERY")
    return list(dict.fromkeys(found))
