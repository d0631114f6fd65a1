"""Optional extras: fail early, with the one line that says what to install, when one is missing.

`pip install model-airlock` scans, signs and verifies; `behavior` (torch, transformers), `data`
(scikit-learn, SciPy and the readers) and `serve` add the rest. Commands check here before any work.
"""

from __future__ import annotations

import importlib.util

from airlock.errors import MissingDependency

# import name -> the package a user installs
_PACKAGES = {"sklearn": "scikit-learn", "scipy": "SciPy", "torch": "torch", "transformers": "transformers"}

BEHAVIOR = ("torch", "transformers", "sklearn", "scipy")
DATA = ("sklearn", "scipy")


def require(extra: str, needed_for: str, modules: tuple[str, ...]) -> None:
    """Raise `MissingDependency` naming the first of `modules` that is not installed."""
    for module in modules:
        if importlib.util.find_spec(module) is None:
            raise MissingDependency(_PACKAGES.get(module, module), extra, needed_for)
