"""Thread and executor targets that read no context (`core/readers.py`, `core/foreign.py`), and callbacks that
hold none (`families/threads/lifetime.py`). Each class has both sides: the shape quoted from real code, not
reported, and its twin, where the context is really read, still reported."""

from __future__ import annotations

import pytest

OTEL_APP = {"app/__init__.py": "", "app/telemetry.py": ("from opentelemetry import trace\n\ntracer = trace.get_tracer('x')\n\n\n"
                                                       "def traced(name):\n    return tracer.start_as_current_span(name)\n")}
#: a project whose log records carry its request context (a request ContextVar a log filter can read)
REQUEST_ID = {**OTEL_APP, "app/ctx.py": "import contextvars\n\nrequest_id = contextvars.ContextVar('rid')\n"}


def codes(project):
    return [f.code for f in project.check()]


# --- lambdas an inert call runs, and comprehensions over inert values ----------------------------------

_PRUNE = ("import json\nimport os\nimport threading\nfrom pathlib import Path\n\n\n"
          "def _record(folder: Path, message: dict) -> None:\n"
          "    files = sorted([f for f in folder.glob('*.json')], key=lambda x: x.stat().st_mtime, reverse=True)\n"
          "    for old in files[100:]:\n        old.unlink()\n"
          "    with open(folder / 'last.json', 'w') as f:\n        json.dump(message, f, default=lambda x: str(x))\n\n\n"
          "def record(folder, message):\n    threading.Thread(target=_record, args=(folder, message)).start()\n")


def test_a_thread_that_sorts_and_writes_files_reads_nothing(make_project):
    assert codes(make_project(_PRUNE, {}, OTEL_APP, path="app/log.py")) == []


@pytest.mark.parametrize("change", [
    # the lambda is handed values the call got from a parameter nobody typed: they may be the project's objects
    ("[f for f in folder.glob('*.json')]", "handlers"),
    # the comprehension iterates over such values
    ("folder.glob('*.json')]", "handlers]"),
    # the lambda itself runs code that may read
    ("x.stat().st_mtime", "x.stat().st_mtime + audit(x)"),
])
def test_a_lambda_or_a_comprehension_over_values_that_may_read_is_reported(make_project, change):
    code = _PRUNE.replace(*change).replace("message: dict) -> None:", "message: dict, handlers=()) -> None:")
    assert codes(make_project(code, {}, OTEL_APP, path="app/log.py")) == ["PRP201"]


def test_a_comprehension_variable_does_not_leak_into_the_function(make_project):
    code = _PRUNE.replace("    for old in files[100:]:\n        old.unlink()\n",
                          "    names = [x for x in folder.iterdir()]\n    x = make_sink()\n    x.write(names)\n")
    assert codes(make_project(code, {}, OTEL_APP, path="app/log.py")) == ["PRP201"]
