"""The engine's name for `airlock.parsers.formats` (format sniffing is a bounded byte reader)."""

from __future__ import annotations

from airlock.parsers.formats import (
    ARCHIVES as ARCHIVES,
)
from airlock.parsers.formats import (
    CONTAINERS as CONTAINERS,
)
from airlock.parsers.formats import (
    HEAD_BYTES as HEAD_BYTES,
)
from airlock.parsers.formats import (
    MODEL_FORMATS as MODEL_FORMATS,
)
from airlock.parsers.formats import (
    NAME_CLAIMS as NAME_CLAIMS,
)
from airlock.parsers.formats import (
    PICKLE_BASED as PICKLE_BASED,
)
from airlock.parsers.formats import (
    TAIL_BYTES as TAIL_BYTES,
)
from airlock.parsers.formats import (
    TEXTUAL as TEXTUAL,
)
from airlock.parsers.formats import (
    UNPICKLABLE as UNPICKLABLE,
)
from airlock.parsers.formats import (
    WEIGHT_FORMATS as WEIGHT_FORMATS,
)
from airlock.parsers.formats import (
    ZIP_FAMILY as ZIP_FAMILY,
)
from airlock.parsers.formats import (
    Format as Format,
)
from airlock.parsers.formats import (
    Reader as Reader,
)
from airlock.parsers.formats import (
    claimed_formats as claimed_formats,
)
from airlock.parsers.formats import (
    detect as detect,
)
from airlock.parsers.formats import (
    native_kind as native_kind,
)
from airlock.parsers.formats import (
    starts_like_pickle as starts_like_pickle,
)
