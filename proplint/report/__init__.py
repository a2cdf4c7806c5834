"""Output formats. Each `render(findings, ...)` returns the text for stdout."""

from __future__ import annotations

from proplint.report import github, json_format, sarif, text

FORMATS = {"text": text.render, "json": json_format.render, "sarif": sarif.render, "github": github.render}
