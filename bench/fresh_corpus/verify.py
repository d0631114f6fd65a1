"""Prove a sample is a real attack: load it with the real loader in a child process and watch the canary.

The child runs with its working directory in a fresh temp folder; the payloads only create the
canary marker, so running them is harmless. Scanning code never imports this module.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_CHILD = r"""
import json, sys
loader, path = sys.argv[1], sys.argv[2]

def render(template):
    import jinja2  # the unsandboxed environment llama-cpp-python < 0.2.72 used (CVE-2024-34359)
    env = jinja2.Environment(loader=jinja2.BaseLoader(), trim_blocks=True, lstrip_blocks=True)
    env.from_string(template).render(messages=[{"role": "user", "content": "hi"}], add_generation_prompt=True,
                                     bos_token="<s>", eos_token="</s>")

def templates(config):
    value = config.get("chat_template")
    return [t["template"] for t in value] if isinstance(value, list) else [value]

if loader == "pickle":
    import pickle
    with open(path, "rb") as f:
        pickle.load(f)
elif loader == "torch":
    import torch
    torch.load(path, weights_only=False)
elif loader == "joblib":
    import joblib
    joblib.load(path)
elif loader == "numpy":
    import numpy as np
    result = np.load(path, allow_pickle=True)
    if hasattr(result, "files"):
        [result[k] for k in result.files]
elif loader == "torch-package":
    from torch.package import PackageImporter
    PackageImporter(path).load_pickle("model", "model.pkl")
elif loader == "jinja-file":
    render(open(path, encoding="utf-8").read())
elif loader in ("jinja-config", "jinja-json"):
    for template in templates(json.load(open(path, encoding="utf-8"))):
        render(template)
elif loader == "jinja-gguf":
    import gguf
    field = gguf.GGUFReader(path).fields["tokenizer.chat_template"]
    render(bytes(field.parts[field.data[0]]).decode("utf-8"))
elif loader == "python-module":
    import importlib.util, os
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)  # what transformers' dynamic module import does
else:
    raise SystemExit("unknown loader " + loader)
"""

LOADERS = (
    "pickle",
    "torch",
    "joblib",
    "numpy",
    "torch-package",
    "jinja-file",
    "jinja-config",
    "jinja-json",
    "jinja-gguf",
    "python-module",
)


def fires(loader: str, path: Path, marker: Path, timeout: float = 180) -> bool:
    """Load `path` the normal way in a child process; True when the canary marker appears."""
    if loader not in LOADERS:
        return False
    marker.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="fresh-corpus-load-") as cwd:
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        try:
            subprocess.run(
                [sys.executable, "-c", _CHILD, loader, str(path.resolve())],
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            pass
        deadline = time.monotonic() + 3  # spawned processes may still be finishing
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    fired = marker.exists()
    marker.unlink(missing_ok=True)
    return fired
