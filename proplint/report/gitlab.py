"""GitLab Code Quality (a JSON array of issues: description, check_name, fingerprint, severity, location)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from proplint.core.rule import Finding


def render(findings: list[Finding]) -> str:
    issues = []
    for f in findings:
        fingerprint = f.fingerprint or hashlib.sha256(
            f"{f.path}\0{f.code}\0{f.line}\0{f.column}".encode()).hexdigest()[:20]
        issues.append({
            "description": f"{f.code} {f.message}",
            "check_name": f.code,
            "fingerprint": fingerprint,
            "severity": "major" if f.code == "PRP001" else "minor",
            "location": {"path": Path(f.path).as_posix(), "lines": {"begin": f.line, "end": f.end_line}},
        })
    return json.dumps(issues, indent=2) + "\n"
