"""How well the evidence-based pickle safe list generalises: scan sklearn estimators the census never saw.

    python tools/pickle_globals_census.py --hold-out && python tools/build_safe_globals.py
    python tools/held_out_safe_globals.py
    make safe-globals   # then rebuild the list from the whole evidence

The census with `--hold-out` leaves out a deterministic fifth of the default-constructible sklearn
estimators (fixtures.benign_breadth.held_out); this writes exactly those, scans each through the
library API with the default policy, and prints which pass and why the others fail. Run it while
the held-out list is in place; with the full list every held-out estimator is evidence and passes.
"""

from __future__ import annotations

import sys
import tempfile
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from airlock.findings import Severity
from airlock.pipeline import ScanOptions, scan
from fixtures import benign_breadth

EVIDENCE = REPO / "signatures" / "pickle-globals-evidence.toml"


def main() -> int:
    summary = tomllib.loads(EVIDENCE.read_text())["summary"]
    if not summary.get("sklearn_held_out"):
        print(
            "the evidence was not built with --hold-out: every held-out estimator is in it", file=sys.stderr
        )
    passed = 0
    with tempfile.TemporaryDirectory(prefix="airlock-held-out-") as tmp:
        written = list(benign_breadth.iter_written(Path(tmp), benign_breadth.held_out_samples()))
        for name, _cls, path in written:
            report = scan(str(Path(tmp) / path), ScanOptions(use_cache=False, download_progress=False))
            failing = sorted(
                {f"{f.rule} {f.message[:90]}" for f in report.findings if f.severity >= Severity.HIGH}
            )
            passed += report.passed
            print(
                f"{'PASS' if report.passed else 'FAIL'} {name}"
                + "".join(f"\n     {line}" for line in failing)
            )
    print(f"{passed}/{len(written)} held-out sklearn estimators pass the default policy")
    return 0


if __name__ == "__main__":
    sys.exit(main())
