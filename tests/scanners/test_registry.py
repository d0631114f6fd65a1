"""The scanner registry is complete, and every rule is owned by exactly one scanner."""

from __future__ import annotations

import pkgutil

import airlock.scanners
from airlock.scanners import REGISTRY

from airlock.data.checks import DATA_CHECKS
from airlock.rules import load_rules


def test_every_scanner_module_is_registered() -> None:
    modules = {m.name for m in pkgutil.iter_modules(airlock.scanners.__path__) if not m.name.startswith("_")}
    assert modules == {cls.__module__.rsplit(".", 1)[1] for cls in REGISTRY}


def test_scanner_names_are_unique_and_versioned() -> None:
    names = [cls.name for cls in REGISTRY]
    assert len(names) == len(set(names))
    assert all(cls.version for cls in REGISTRY)


def test_every_declared_rule_exists_and_belongs_to_its_scanner() -> None:
    rules = load_rules()
    for cls in REGISTRY:
        for rule_id in cls.rules:
            assert rules[rule_id].scanner == cls.name, (cls.name, rule_id)


def test_every_data_check_rule_exists_and_belongs_to_its_check() -> None:
    rules = load_rules()
    for cls in DATA_CHECKS:
        for rule_id in cls.rules:
            assert rules[rule_id].scanner == cls.name, (cls.name, rule_id)


def test_every_rule_in_the_data_is_emitted_by_someone() -> None:
    declared = {rule for cls in (*REGISTRY, *DATA_CHECKS) for rule in cls.rules} | {"AIR901"}
    assert set(load_rules().rules) == declared
