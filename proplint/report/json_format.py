"""The schema of `ruff check --output-format json`, so tools that read ruff's JSON read ours."""

from __future__ import annotations

import json
import os

from proplint.core.rule import Finding, rule_url


def finding_to_json(f: Finding) -> dict:
    fix = None
    if f.fix is not None:
        fix = {"applicability": f.fix.applicability, "message": f.fix.message, "edits": f.edits or []}
    return {
        "cell": None,
        "code": f.code,
        "end_location": {"column": f.end_column, "row": f.end_line},
        "filename": os.path.abspath(f.path),
        "fix": fix,
        "location": {"column": f.column, "row": f.line},
        "message": f.message,
        "noqa_row": f.line,
        "url": rule_url(f.code),
    }


def render(findings: list[Finding]) -> str:
    return json.dumps([finding_to_json(f) for f in findings], indent=2) + "\n"
