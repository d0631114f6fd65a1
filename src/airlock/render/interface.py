"""The renderer plug-in axis and the output-format choice that maps onto it."""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, assert_never

if TYPE_CHECKING:  # importing the report model is not needed to parse command-line choices
    from airlock.modelcard import ModelFacts
    from airlock.report import Report


class Renderer(ABC):
    @abstractmethod
    def render(self, report: Report) -> str: ...


class OutputFormat(enum.StrEnum):
    TABLE = "table"
    JSON = "json"
    SARIF = "sarif"
    HTML = "html"
    CYCLONEDX = "cyclonedx"
    SPDX = "spdx"

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
            case OutputFormat.CYCLONEDX:
                from airlock.render.cyclonedx import CycloneDxRenderer

                return CycloneDxRenderer(facts)
            case OutputFormat.SPDX:
                from airlock.render.spdx import SpdxRenderer

                return SpdxRenderer(facts)
            case _:
                assert_never(self)
