"""The root-group string attributes that legacy Keras `.h5` models keep their config in.

Keras reads `model_config` and `training_config` from the root group's attributes through h5py;
so does this module, in read-only mode (h5py only reads data). libhdf5 is C code that crashes on
some malformed files, so the reading happens in a child process (this file, run as a script in
isolated mode, with a memory cap): a crash there is reported, never shared. h5py is optional:
without it the caller can still tell whether a file names a Keras config (`names_keras_config`).
"""

from __future__ import annotations

import json
import mmap
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from airlock.parsers.errors import ParseError  # absolute: this file also runs as the child's script

KERAS_ATTRIBUTES = ("model_config", "training_config")
CHILD_MEMORY = 4 << 30  # address-space cap for the reader process


class Hdf5Unavailable(Exception):
    """h5py is not installed, so HDF5 attributes cannot be read."""


class Hdf5Crash(ParseError):
    """The HDF5 library crashed while reading the file (it corrupts libhdf5's memory)."""


def keras_attributes(path: Path, max_bytes: int, timeout: float) -> dict[str, str]:
    """The Keras config attributes present on the root group, as text, read in a child process."""
    command = [sys.executable, "-I", __file__, str(path), str(max_bytes)]
    try:
        done = subprocess.run(
            command, capture_output=True, timeout=timeout, cwd=tempfile.gettempdir(), check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise ParseError(f"the HDF5 reader took longer than {timeout:.0f} s") from exc
    except OSError as exc:
        raise ParseError(f"the HDF5 reader could not start: {exc}") from exc
    if done.returncode < 0:
        raise Hdf5Crash(f"the HDF5 library crashed on this file (signal {-done.returncode})")
    try:
        answer = json.loads(done.stdout)
    except ValueError:
        tail = done.stderr.decode("utf-8", errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise ParseError(f"the HDF5 reader failed (exit {done.returncode}): {tail[0][:200]}") from None
    if answer.get("unavailable"):
        raise Hdf5Unavailable("h5py is not installed")
    if "error" in answer:
        raise ParseError(answer["error"])
    return {str(k): str(v) for k, v in answer["attributes"].items()}


def read_attributes(path: Path, max_bytes: int) -> dict[str, str]:
    """What the child process does: open the file with h5py and read the Keras attributes."""
    try:
        import h5py
    except ImportError as exc:
        raise Hdf5Unavailable("h5py is not installed") from exc
    found: dict[str, str] = {}
    try:
        with h5py.File(path, "r", locking=False) as h5:
            for name in KERAS_ATTRIBUTES:
                if name not in h5.attrs:
                    continue
                size = h5.attrs.get_id(name).get_storage_size()
                if size > max_bytes:
                    raise ParseError(f"attribute {name} holds {size} bytes (limit {max_bytes})")
                found[name] = _as_text(name, h5.attrs[name], max_bytes)
    except ParseError:
        raise
    except Exception as exc:  # h5py raises OSError, KeyError, TypeError, RuntimeError…: one boundary
        raise ParseError(f"{type(exc).__name__}: {exc}") from exc
    return found


def _as_text(name: str, value: Any, max_bytes: int) -> str:
    if hasattr(value, "shape") and getattr(value, "size", 0) == 1 and value.shape != ():
        value = value.reshape(()).item()  # a one-element array of strings
    elif hasattr(value, "item") and getattr(value, "shape", None) == ():
        value = value.item()
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if not isinstance(value, str):
        raise ParseError(f"attribute {name} is not a string ({type(value).__name__})")
    if len(value) > max_bytes:
        raise ParseError(f"attribute {name} holds {len(value)} characters (limit {max_bytes})")
    return value


def names_keras_config(path: Path) -> bool:
    """Whether the bytes contain an attribute name Keras keeps its config under (no h5py needed)."""
    with open(path, "rb") as fh:
        try:
            view = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError:
            return False
        with view:
            return view.find(KERAS_ATTRIBUTES[0].encode()) >= 0


def _child(argv: list[str]) -> int:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY, CHILD_MEMORY))
    try:
        answer: dict[str, Any] = {"attributes": read_attributes(Path(argv[0]), int(argv[1]))}
    except Hdf5Unavailable:
        answer = {"unavailable": True}
    except (ParseError, MemoryError) as exc:
        answer = {"error": str(exc) or type(exc).__name__}
    sys.stdout.write(json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1:]))
