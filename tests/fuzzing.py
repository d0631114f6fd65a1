"""How hard the property tests try: the suite runs short campaigns, `make fuzz` long ones.

`AIRLOCK_FUZZ_SCALE` multiplies every property test's example count (default 1).
"""

from __future__ import annotations

import os


def examples(count: int) -> int:
    return count * max(1, int(os.environ.get("AIRLOCK_FUZZ_SCALE", "1")))
