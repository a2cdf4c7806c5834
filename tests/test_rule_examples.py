"""Every rule's VALID/INVALID examples, run through the engine and the fixer."""

from __future__ import annotations

import pytest

from proplint.registry import all_rules
from proplint.core.rule import Invalid, Valid


def _cases():
    for code, rule in all_rules().items():
        for i, ex in enumerate(rule.VALID, 1):
            yield pytest.param(code, ex, id=f"{code}-valid-{i}")
        for i, ex in enumerate(rule.INVALID, 1):
            yield pytest.param(code, ex, id=f"{code}-invalid-{i}")


CASES = list(_cases())


def test_every_rule_has_examples():
    for code, rule in all_rules().items():
        assert rule.VALID, f"{code} has no VALID example"
        assert rule.INVALID, f"{code} has no INVALID example"


def _describe(findings):
    return "\n".join(f"{f.line}:{f.column} {f.code} {f.message}" for f in findings) or "(none)"


@pytest.mark.parametrize(("code", "ex"), CASES)
def test_example(code, ex, make_project):
    project = make_project(ex.code, ex.config, ex.files, ex.path)
    findings = [f for f in project.check() if f.code == code]
    if isinstance(ex, Valid):
        assert not findings, f"expected no {code} finding, got:\n{_describe(findings)}"
        return
    assert isinstance(ex, Invalid)
    assert len(findings) == ex.count, f"expected {ex.count} {code} finding(s), got:\n{_describe(findings)}"
    if ex.fixed is None:
        return

    result = project.fix(unsafe=ex.unsafe)
    assert result.error is None, result.error
    assert result.fixed is not None, "the fix changed nothing"
    assert result.fixed.decode("utf-8") == ex.fixed
    assert project.main.read_text(encoding="utf-8") == ex.code, "write=False must not touch the file"

    if ex.unsafe:
        safe_only = project.fix(unsafe=False)
        assert safe_only.error is None, safe_only.error
        safe_text = (safe_only.fixed or safe_only.original).decode("utf-8")
        assert safe_text != ex.fixed, "an unsafe example's fix was applied without --unsafe-fixes"
        assert any(f.code == code and f.fix is not None for f in safe_only.remaining), \
            "the finding should remain with its (unsafe) fix attached"

    # The fixed text is clean and a second fix is a no-op.
    project.main.write_text(ex.fixed, encoding="utf-8")
    assert [f for f in project.check() if f.code == code] == []
    again = project.fix(unsafe=ex.unsafe)
    assert again.error is None, again.error
    assert again.fixed is None and again.applied == 0
