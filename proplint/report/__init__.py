"""Output formats. Each `render(findings, ...)` returns the text for stdout."""

from __future__ import annotations

from proplint.report import github, gitlab, json_format, junit, sarif, text

FORMATS = {"text": text.render, "json": json_format.render, "sarif": sarif.render, "github": github.render,
           "gitlab": gitlab.render, "junit": junit.render}
