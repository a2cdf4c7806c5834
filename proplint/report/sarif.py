"""SARIF 2.1.0: one run, driver `proplint` with its rules, one result per finding."""

from __future__ import annotations

import json
from pathlib import Path

from proplint import __version__
from proplint.baseline import SARIF_KEY
from proplint.core.rule import Finding, rule_url

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def render(findings: list[Finding]) -> str:
    from proplint.registry import all_rules

    rules = all_rules()
    driver_rules = [
        {
            "id": code,
            "name": rule.name,
            "shortDescription": {"text": rule.summary},
            "helpUri": rule_url(code),
            "properties": {"fix": rule.fix},
        }
        for code, rule in rules.items()
    ]
    order = {code: i for i, code in enumerate(rules)}
    results = []
    for f in findings:
        result = {
            "ruleId": f.code,
            "ruleIndex": order.get(f.code, 0),
            "level": "error" if f.code == "PRP001" else "warning",
            "message": {"text": f.display_message()},
            "locations": [{
                "physicalLocation": {
                    "artifactLocation": {"uri": Path(f.path).as_posix()},
                    "region": {
                        "startLine": f.line,
                        "startColumn": f.column,
                        "endLine": f.end_line,
                        "endColumn": f.end_column,
                    },
                }
            }],
        }
        if f.fingerprint:
            result["partialFingerprints"] = {SARIF_KEY: f.fingerprint}
        results.append(result)
    doc = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "proplint",
                "version": __version__,
                "informationUri": "https://github.com/proplint/proplint",
                "rules": driver_rules,
            }},
            "results": results,
        }],
    }
    return json.dumps(doc, indent=2) + "\n"
