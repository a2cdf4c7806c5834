"""Fixes that introduce names: fresh per file (two hoisted ContextVars never share one), and verification
refuses a fix that rebinds a module-level name or makes a module import itself."""

from __future__ import annotations

import subprocess
import sys

from proplint.fixes import _rebinds

TWO_TENANTS = (
    "import contextvars\n\n\ndef handle_a(value):\n    tenant = contextvars.ContextVar('tenant')\n"
    "    tenant.set(value)\n    return tenant.get()\n\n\n"
    "def handle_b():\n    tenant = contextvars.ContextVar('tenant', default='none')\n    return tenant.get()\n\n\n"
    "print(handle_a('acme'), handle_b())\n"
)


def _run(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout


def test_two_contextvars_of_one_name_are_hoisted_under_two_names_and_behave_the_same(make_project):
    project = make_project(TWO_TENANTS)
    result = project.fix(unsafe=True)
    assert result.error is None and result.fixed is not None
    fixed = result.fixed.decode()
    assert "_tenant_var = contextvars.ContextVar('tenant')" in fixed
    assert "_tenant_var2 = contextvars.ContextVar('tenant', default='none')" in fixed
    assert _run(fixed) == _run(TWO_TENANTS) == "acme none\n"


def test_verification_refuses_a_rebound_module_name_and_a_self_import():
    before = b"x = 1\n\n\ndef f():\n    return x\n"
    assert _rebinds(before, b"x = 1\nx = 2\n\n\ndef f():\n    return x\n", "m") == "bind `x` twice at module level"
    assert _rebinds(before, b"from m import f\n" + before, "m") == "make m import itself"
    assert _rebinds(before, b"import os\n" + before, "m") is None
    # a name the module already bound twice is the module's business, not the fix's
    twice = b"x = 1\nx = 2\n"
    assert _rebinds(twice, twice + b"y = 3\n", "m") is None


def test_an_import_the_file_already_had_is_not_the_fix_s():
    # `kafka.py` at a project root that imports the kafka library: the import was there before the fix
    old = b"from kafka import KafkaProducer\n"
    assert _rebinds(old, old + b"from opentelemetry.propagate import inject\n", "kafka") is None
