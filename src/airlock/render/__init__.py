"""Renderers: turn a Report into text (terminal table, JSON, SARIF 2.1.0, HTML). They return str; only the CLI prints."""
