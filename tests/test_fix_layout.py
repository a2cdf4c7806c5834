"""Fixes a maintainer keeps (snapshot tests through the real CLI): a multi-line call keeps its layout, a
line the fix would make longer than the project's line length is split one argument per line, new imports
land in their isort section, and one carrier serves every message of a block."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import libcst as cst
import pytest

from proplint.core.cst import append_args
from proplint.edits import add_imports
from proplint.core.rule import ImportRequest

PYPROJECT = textwrap.dedent("""\
    [project]
    name = "shop"
    dependencies = ["opentelemetry-api", "aiokafka"]

    [tool.proplint]
    {ruff}
""")

BEFORE = textwrap.dedent('''\
    import json
    import logging

    from aiokafka import AIOKafkaProducer
    from opentelemetry import trace

    from shop import settings

    tracer = trace.get_tracer(__name__)


    async def publish(producer: AIOKafkaProducer, order, other):
        with tracer.start_as_current_span("publish"):
            await producer.send_and_wait(
                settings.ORDERS_TOPIC,
                value=json.dumps(order).encode(),
                key=order["id"].encode(),
            )
            await producer.send_and_wait(settings.AUDIT_TOPIC, value=json.dumps(other).encode(), key=b"a")
''')

AFTER = textwrap.dedent('''\
    import json
    import logging

    from aiokafka import AIOKafkaProducer
    from opentelemetry import trace
    from opentelemetry.propagate import inject

    from shop import settings

    tracer = trace.get_tracer(__name__)


    async def publish(producer: AIOKafkaProducer, order, other):
        with tracer.start_as_current_span("publish"):
            _carrier = {}
            inject(_carrier)
            await producer.send_and_wait(
                settings.ORDERS_TOPIC,
                value=json.dumps(order).encode(),
                key=order["id"].encode(),
                headers=[(k, v.encode()) for k, v in _carrier.items()],
            )
            await producer.send_and_wait(
                settings.AUDIT_TOPIC,
                value=json.dumps(other).encode(),
                key=b"a",
                headers=[(k, v.encode()) for k, v in _carrier.items()],
            )
''')


def _project(tmp_path: Path, ruff: str = "") -> Path:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT.format(ruff=ruff))
    pkg = tmp_path / "shop"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "settings.py").write_text('ORDERS_TOPIC = "orders"\nAUDIT_TOPIC = "audit"\n')
    (pkg / "publish.py").write_text(BEFORE)
    return pkg / "publish.py"


def _fix(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "proplint", "fix", "--unsafe-fixes", "--no-cache", "."],
                          cwd=root, capture_output=True, text=True, timeout=120)


def test_multi_line_calls_imports_and_one_carrier_per_block(tmp_path):
    target = _project(tmp_path)
    done = _fix(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert target.read_text() == AFTER
    # idempotent: a second run changes nothing
    assert _fix(tmp_path).returncode == 0 and target.read_text() == AFTER


def test_the_projects_line_length_decides_when_a_call_is_split(tmp_path):
    target = _project(tmp_path, ruff="\n[tool.ruff]\nline-length = 200\n")
    assert _fix(tmp_path).returncode == 0
    text = target.read_text()
    # within 200 characters, the one-line call stays on one line
    assert ('await producer.send_and_wait(settings.AUDIT_TOPIC, value=json.dumps(other).encode(), key=b"a", '
            'headers=[(k, v.encode()) for k, v in _carrier.items()])\n') in text
    assert text.count("_carrier = {}") == 1


@pytest.mark.parametrize(("before", "after"), [
    ("f(\n    a,\n    b=1,\n)\n", "f(\n    a,\n    b=1,\n    new=x,\n)\n"),  # magic trailing comma kept
    ("f(\n    a,\n    b=1\n)\n", "f(\n    a,\n    b=1,\n    new=x\n)\n"),  # none added where there was none
    ("f(a, b=1)\n", "f(a, b=1, new=x)\n"),
    ("f()\n", "f(new=x)\n"),
    ("if y:\n    f(\n        a,\n    )\n", "if y:\n    f(\n        a,\n        new=x,\n    )\n"),
])
def test_an_argument_is_appended_in_the_calls_layout(before, after):
    new = cst.Arg(keyword=cst.Name("new"), value=cst.Name("x"),
                  equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")))

    class Append(cst.CSTTransformer):
        def leave_Call(self, original, updated):
            return append_args(updated, [new])

    assert cst.parse_module(before).visit(Append()).code == after


@pytest.mark.parametrize(("source", "request_", "expected"), [
    # third party: after the other third-party imports, before the project's
    ("import json\n\nfrom opentelemetry import trace\n\nfrom shop import x\n\ny = 1\n",
     ImportRequest("opentelemetry.propagate", "inject"),
     "import json\n\nfrom opentelemetry import trace\nfrom opentelemetry.propagate import inject\n\n"
     "from shop import x\n\ny = 1\n"),
    # the standard library, in alphabetical order, before third-party imports
    ("import json\n\nfrom shop import x\n\ny = 1\n", ImportRequest("contextvars"),
     "import contextvars\nimport json\n\nfrom shop import x\n\ny = 1\n"),
    # a section of its own when the file has none of its kind
    ("import json\n\nfrom shop import x\n\ny = 1\n", ImportRequest("opentelemetry.propagate", "inject"),
     "import json\n\nfrom opentelemetry.propagate import inject\n\nfrom shop import x\n\ny = 1\n"),
    # the project's own helper goes with the project's imports
    ("import json\n\nfrom opentelemetry import trace\n\nfrom shop import x\n\ny = 1\n",
     ImportRequest("shop.tracing", "inject_trace"),
     "import json\n\nfrom opentelemetry import trace\n\nfrom shop import x\nfrom shop.tracing import inject_trace\n\n"
     "y = 1\n"),
    # after `from __future__`, and first of all when it sorts first
    ("from __future__ import annotations\n\nfrom shop import x\n", ImportRequest("contextvars"),
     "from __future__ import annotations\n\nimport contextvars\n\nfrom shop import x\n"),
])
def test_new_imports_land_in_their_isort_section(source, request_, expected):
    assert add_imports(cst.parse_module(source), [request_], frozenset({"shop"})).code == expected
