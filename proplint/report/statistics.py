"""`--statistics`: how many findings per rule, most frequent first (`[*]`: a safe fix exists)."""

from __future__ import annotations

import json
from collections import Counter

from proplint.core.rule import Finding


def counts(findings: list[Finding]) -> list[dict]:
    from proplint.registry import all_rules

    rules = all_rules()
    per_code = Counter(f.code for f in findings)
    fixable = {f.code for f in findings if f.fix is not None and f.fix.applicability == "safe"}
    rows = [{"code": code, "name": rules[code].name if code in rules else "", "count": n, "fixable": code in fixable}
            for code, n in per_code.items()]
    return sorted(rows, key=lambda r: (-r["count"], r["code"]))


def render(findings: list[Finding], json_output: bool = False) -> str:
    rows = counts(findings)
    if json_output:
        return json.dumps(rows, indent=2) + "\n"
    width = max((len(str(r["count"])) for r in rows), default=1)
    return "".join(f"{r['count']:>{width}}  {r['code']}  {'[*]' if r['fixable'] else '   '} {r['name']}\n"
                   for r in rows)
