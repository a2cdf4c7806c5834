"""GitHub Actions workflow commands: one `::warning` annotation per finding."""

from __future__ import annotations

from proplint.core.rule import Finding


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render(findings: list[Finding]) -> str:
    out = []
    for f in findings:
        out.append(
            f"::warning file={_escape_property(f.path)},line={f.line},col={f.column},"
            f"endLine={f.end_line},endColumn={f.end_column},title={f.code}::"
            f"{_escape_data(f.code + ' ' + f.display_message())}\n"
        )
    return "".join(out)
