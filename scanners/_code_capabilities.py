"""The capability map for Python shipped with a model: qualified name → dangerous capability.

The table is data (`signatures/code-capabilities.toml`); this module loads it and answers one
question: which capability, if any, a fully-qualified name such as `os.system` or
`subprocess.Popen` reaches. The custom_code scanner resolves every reference in a file to such
a name (imports, aliases, attribute chains) and asks here.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from fnmatch import fnmatchcase

from airlock.errors import RuleDataError
from airlock.findings import Severity
from airlock.rules import read_signature_toml

CAPABILITIES_FILE = "code-capabilities.toml"


@dataclass(frozen=True, slots=True)
class Capability:
    name: str
    rule: str
    severity: Severity
    reason: str
    names: tuple[str, ...]
    allow: tuple[str, ...] = ()

    def matches(self, qualified: str) -> bool:
        return any(fnmatchcase(qualified, p) for p in self.names) and not any(fnmatchcase(qualified, p) for p in self.allow)


@dataclass(frozen=True)
class CapabilityMap:
    capabilities: tuple[Capability, ...]

    @functools.cached_property
    def roots(self) -> frozenset[str]:
        """First segments of every pattern (`os`, `subprocess`, `builtins`): where a re-export may restart a name."""
        return frozenset(p.split(".")[0] for c in self.capabilities for p in c.names)

    @functools.cached_property
    def _seen(self) -> dict[str, Capability | None]:
        return {}

    def lookup(self, qualified: str) -> Capability | None:
        """The capability `qualified` reaches, directly or through a module re-export (`os.path.os.system`)."""
        if qualified in self._seen:
            return self._seen[qualified]
        if len(self._seen) > 100_000:
            self._seen.clear()
        found = self._seen[qualified] = self._find(qualified)
        return found

    def _find(self, qualified: str) -> Capability | None:
        parts = qualified.split(".")
        for start in range(len(parts)):
            if start and parts[start] not in self.roots:
                continue
            tail = ".".join(parts[start:])
            for capability in self.capabilities:
                if capability.matches(tail):
                    return capability
        return None


@functools.cache
def load_capabilities() -> CapabilityMap:
    """The shipped capability map, validated once per process."""
    raw = read_signature_toml(CAPABILITIES_FILE)
    capabilities: list[Capability] = []
    for name, body in raw.items():
        where = f"signatures/{CAPABILITIES_FILE} [{name}]"
        if not isinstance(body, dict):
            raise RuleDataError(f"{where}: must be a table")
        names, allow = body.get("names"), body.get("allow", [])
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in [*names, *allow]):
            raise RuleDataError(f"{where}: names must be a non-empty list of strings")
        try:
            severity = Severity.parse(str(body.get("severity")))
        except ValueError as exc:
            raise RuleDataError(f"{where}: {exc}") from None
        rule, reason = body.get("rule"), body.get("reason")
        if not isinstance(rule, str) or not isinstance(reason, str):
            raise RuleDataError(f"{where}: rule and reason must be strings")
        capabilities.append(Capability(name, rule, severity, reason, tuple(names), tuple(allow)))
    return CapabilityMap(tuple(capabilities))
