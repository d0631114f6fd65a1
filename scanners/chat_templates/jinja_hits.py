"""What the chat-template analysis reports: kept apart from `jinja` so that naming the issues does not
import jinja2 (a scan without templates never needs it)."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Issue(enum.StrEnum):
    ESCAPE = "escape"  # reaches globals, builtins, subclasses, frames, or a shell through a dunder
    DUNDER = "dunder"  # dunder or private attributes, not clearly an escape
    DYNAMIC_ATTRIBUTE = (
        "dynamic-attribute"  # an attribute name computed at runtime that could not be resolved
    )
    EXTERNAL = "external"  # include / import / extends
    UNPARSEABLE = "unparseable"
    FORMAT_GADGET = "format-gadget"  # str.format with attribute or index fields
    EXEC_NAME = "exec-name"  # names an execution primitive (os, subprocess, eval, ...)


@dataclass(frozen=True, slots=True)
class Hit:
    issue: Issue
    line: int
    detail: str
