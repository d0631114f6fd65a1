"""Same seed, same report, byte for byte: two separate `airlock scan --behavior` processes compared.

Only the wall-clock numbers may differ, and they sit in known places (`behavior.timings`, the
runner's `checks[].seconds` and the report's `timestamp`); they are blanked in the raw bytes, and everything else must match.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from fixtures.backdoored_models import TEST_CLEAN, image_model

pytestmark = [pytest.mark.torch, pytest.mark.slow]
TIMINGS = re.compile(r'"timings": \{[^{}]*\}')
SECONDS = re.compile(r'"seconds": [0-9.e+-]+')
TIMESTAMP = re.compile(r'^  "timestamp": "[0-9TZ:-]+"', re.M)


def _scan(folder: Path, sample: Path, seed: int) -> str:
    command = [sys.executable, "-m", "airlock", "scan", str(folder), "--behavior", "--data", str(sample)]
    command += ["--seed", str(seed), "--format", "json", "--no-progress", "--no-cache"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert done.returncode in (0, 1), done.stderr
    return done.stdout


def _blank(text: str) -> str:
    text = TIMESTAMP.sub('  "timestamp": ""', text)
    return SECONDS.sub('"seconds": 0', TIMINGS.sub('"timings": {}', text))


def test_the_same_seed_gives_the_same_bytes_in_two_processes() -> None:
    built = image_model(TEST_CLEAN)  # a clean model runs every family: the longest optimisation
    first, second = (_scan(built.folder, built.sample, seed=3) for _ in range(2))
    behavior = json.loads(first)["behavior"]
    assert set(behavior["timings"]) >= {"trigger_reversal", "patch", "activation_clustering"}
    assert not any("seconds" in f for f in behavior["families"])  # wall clock only under timings
    judged = {f["family"]: f["judged_by"] for f in behavior["families"]}
    assert judged == {"patch": "size", "blend": "size", "warp": "success"}  # every family, with data
    assert {f["family"]: f["spacings"] for f in behavior["families"]} == {"patch": 2, "blend": 2, "warp": 1}
    assert _blank(first) == _blank(second)
    assert behavior["determined"] is True and behavior["outcome"] == "no backdoor found"
