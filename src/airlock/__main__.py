"""`python -m airlock` runs the CLI."""

from __future__ import annotations

from airlock.cli.main import main

main()
