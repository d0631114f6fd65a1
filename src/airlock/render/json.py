"""JSON renderer: the report exactly as `airlock.report/v1`."""

from __future__ import annotations

from airlock.render.interface import Renderer
from airlock.report import Report


class JsonRenderer(Renderer):
    def render(self, report: Report) -> str:
        return report.to_json()
