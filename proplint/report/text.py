"""`path:line:col: CODE message`, flake8-style, sorted by path and position."""

from __future__ import annotations

from proplint.core.rule import Finding


def render(findings: list[Finding]) -> str:
    return "".join(f"{f.path}:{f.line}:{f.column}: {f.code} {f.display_message()}\n" for f in findings)
