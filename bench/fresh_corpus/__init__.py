"""A second, independent adversarial corpus for the static scanner (issue 11, evaluation side).

Written from published scanner-bypass write-ups and from reading the real loaders, NOT from
airlock's rules: it measures generalisation and must never be used to tune rules (README.md).
`build(folder)` writes every sample into its own sub-folder and, unless `verify=False`, proves each
one by loading it with the real loader in a child process and watching its canary marker.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.fresh_corpus import containers, pickles, shipped
from bench.fresh_corpus._spec import Spec
from bench.fresh_corpus.verify import fires
from fixtures.canary import marker

WEAKNESS_CLASSES = {
    1: "allowlist",
    2: "resolution",
    3: "loader modelling",
    4: "nested payloads",
    5: "templates and shipped code",
    6: "false claims",
    7: "second opinion",
}


@dataclass(frozen=True)
class Sample:
    name: str
    weakness_class: int
    description: str
    reference: str
    path: Path
    verified: bool  # the real loader fired the canary in a child process during this build
    loader: str  # how it was (or would be) loaded; "none" for samples with no payload
    canary: Path


def specs() -> list[Spec]:
    return [*pickles.SPECS, *containers.SPECS, *shipped.SPECS]


def build(folder: Path, verify: bool = True) -> list[Sample]:
    """Write every sample under `folder` (one sub-folder each) and a manifest.json; return them."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    samples = []
    for spec in specs():
        home = folder / spec.name
        home.mkdir(parents=True, exist_ok=True)
        canary = marker(f"fresh-{spec.name}")
        path = spec.write(home, str(canary))
        verified = verify and fires(spec.loader, path, canary)
        samples.append(
            Sample(
                spec.name,
                spec.weakness_class,
                spec.description,
                spec.reference,
                path,
                verified,
                spec.loader,
                canary,
            )
        )
    manifest = [
        {**asdict(s), "path": str(s.path.relative_to(folder)), "canary": str(s.canary)} for s in samples
    ]
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return samples
