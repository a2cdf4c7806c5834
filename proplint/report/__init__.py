"""Output formats. Each `render(findings, ...)` returns the text for stdout."""

from __future__ import annotations

from proplint.report import github, json_format, sarif, text

FORMATS = {"text": text.render, "json": json_format.render, "sarif": sarif.render, "github": github.render}

#: Where rule documentation is published (one page per code under docs/rules/).
DOCS_URL = "https://github.com/proplint/proplint/blob/main/docs/rules/{code}.md"


def rule_url(code: str) -> str:
    return DOCS_URL.format(code=code)
