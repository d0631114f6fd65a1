"""The renderer plug-in axis and the output-format choice that maps onto it."""

from __future__ import annotations

import argparse
import enum
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, assert_never

if TYPE_CHECKING:  # importing the report model is not needed to parse command-line choices
    from airlock.modelcard import ModelFacts
    from airlock.report import Report


class Renderer(ABC):
    @abstractmethod
    def render(self, report: Report) -> str: ...


class OutputFormat(enum.StrEnum):
    """Every `--format` word, for every command (each command accepts the subset it can produce)."""

    TABLE = "table"
    JSON = "json"
    SARIF = "sarif"
    HTML = "html"
    MARKDOWN = "markdown"
    CYCLONEDX = "cyclonedx"
    SPDX = "spdx"

    @classmethod
    def parse(cls, text: str) -> OutputFormat:
        """A `--format` value: a format's name, or an alias (`text` for `table`, `md` for `markdown`)."""
        text = _ALIASES.get(text.strip().lower(), text.strip().lower())
        try:
            return cls(text)
        except ValueError:
            raise ValueError(f"unknown format {text!r}") from None

    @property
    def is_bom(self) -> bool:
        """A bill of materials, which carries facts from the snapshot itself (model card, parameter count)."""
        return self in (OutputFormat.CYCLONEDX, OutputFormat.SPDX)

    def renderer(self, *, color: bool = False, facts: ModelFacts | None = None) -> Renderer:
        match self:
            case OutputFormat.TABLE:
                from airlock.render.table import TableRenderer

                return TableRenderer(color=color)
            case OutputFormat.JSON:
                from airlock.render.json import JsonRenderer

                return JsonRenderer()
            case OutputFormat.SARIF:
                from airlock.render.sarif import SarifRenderer

                return SarifRenderer()
            case OutputFormat.HTML:
                from airlock.render.html import HtmlRenderer

                return HtmlRenderer()
            case OutputFormat.MARKDOWN:
                from airlock.render.markdown import MarkdownRenderer

                return MarkdownRenderer()
            case OutputFormat.CYCLONEDX:
                from airlock.render.cyclonedx import CycloneDxRenderer

                return CycloneDxRenderer(facts)
            case OutputFormat.SPDX:
                from airlock.render.spdx import SpdxRenderer

                return SpdxRenderer(facts)
            case _:
                assert_never(self)


_ALIASES = {"text": "table", "md": "markdown"}


def add_format_argument(
    parser: argparse.ArgumentParser,
    choices: Sequence[OutputFormat] = tuple(OutputFormat),
    default: OutputFormat = OutputFormat.TABLE,
) -> None:
    """`--format` with the one vocabulary all commands share (`text` is accepted for `table`)."""
    allowed = tuple(choices)
    words = ", ".join(allowed)

    def parse(text: str) -> OutputFormat:
        try:
            chosen = OutputFormat.parse(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not one of: {words}") from None
        if chosen not in allowed:
            raise argparse.ArgumentTypeError(f"{text!r} is not one of: {words}")
        return chosen

    parser.add_argument(
        "--format",
        type=parse,
        default=default,
        metavar="{" + ",".join(choices) + "}",
        help=f"report format (default: {default}; `text` is an alias of `table`)",
    )
