"""Rule data shipped with airlock (read through importlib.resources; no code lives here)."""
