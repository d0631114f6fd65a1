"""`python -m bench.fresh_corpus [FOLDER]`: build and verify the fresh corpus, print counts per class."""

from __future__ import annotations

import sys
import tempfile
from collections import Counter
from pathlib import Path

from bench.fresh_corpus import WEAKNESS_CLASSES, build


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="fresh-corpus-"))
    samples = build(folder)
    for s in samples:
        print(f"{'verified' if s.verified else 'NOT-FIRED':9}  {s.weakness_class}  {s.loader:13}  {s.name}")
    total, fired = (
        Counter(s.weakness_class for s in samples),
        Counter(s.weakness_class for s in samples if s.verified),
    )
    print()
    for number, label in WEAKNESS_CLASSES.items():
        print(f"class {number} {label:28} samples {total[number]:3}  verified {fired[number]:3}")
    print(f"total {len(samples)}, verified {sum(fired.values())}, folder {folder}")


if __name__ == "__main__":
    main()
