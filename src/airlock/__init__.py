"""airlock: vet third-party ML checkpoints before they enter the organisation."""

from __future__ import annotations

__version__ = "0.1.0"
