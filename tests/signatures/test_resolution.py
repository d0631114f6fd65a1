"""The shipped resolution data: dotted names resolve to what the loaders' packages really hold."""

from __future__ import annotations

import pytest

from airlock.resolution import resolution_data, resolve


@pytest.mark.parametrize(
    "module, name, canonical",
    [
        ("torch.serialization", "os.system", "posix.system"),  # through a module attribute
        ("numpy.testing._private.utils", "os.system", "posix.system"),
        ("os", "system", "posix.system"),  # a second name for the same function
        ("torch", "load", "torch.serialization.load"),  # a re-export into the package root
        ("collections", "OrderedDict", "collections.OrderedDict"),  # already canonical
        ("numpy", "ndarray.tofile", "numpy.ndarray.tofile"),  # a method of a class
    ],
)
def test_names_resolve_to_their_definition(module: str, name: str, canonical: str) -> None:
    assert resolve(module, name).canonical == canonical


def test_an_unknown_module_is_not_guessed() -> None:
    resolved = resolve("not_a_module_anywhere", "system")
    assert not resolved.known and resolved.canonical == "not_a_module_anywhere.system" and not resolved.hops


def test_the_data_records_the_versions_it_was_built_from() -> None:
    data = resolution_data()
    assert {"python", "torch", "numpy"} <= set(data.built_with)
    assert len(data.modules) > 1000 and "torch.serialization" in data.modules
