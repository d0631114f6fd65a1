"""The engine's name for `airlock.parsers.formats` (format sniffing is a bounded byte reader)."""

from __future__ import annotations

from airlock.parsers.formats import (  # noqa: F401  re-exported
    ARCHIVES,
    CONTAINERS,
    HEAD_BYTES,
    MODEL_FORMATS,
    NAME_CLAIMS,
    PICKLE_BASED,
    TAIL_BYTES,
    TEXTUAL,
    UNPICKLABLE,
    WEIGHT_FORMATS,
    ZIP_FAMILY,
    Format,
    Reader,
    claimed_formats,
    detect,
    native_kind,
    starts_like_pickle,
)
