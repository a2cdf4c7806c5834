"""Runtime proof, under the OpenTelemetry SDK, that the PRP401/PRP412 and PRP404 fixes repair tracing.

Each scenario is a small project in a temporary directory. The code runs in a fresh interpreter (one
subprocess per run) with an in-memory span exporter; the fix is the real `python -m proplint fix`, run
as a user would; the same code then runs again. Nothing is mocked.

PRP401: a decorator whose plain `def` wrapper opens a span around `return fn(*args, **kwargs)`, applied
to an `async def` whose body awaits `asyncio.sleep(0.05)` inside a child span. Before the fix the
decorator's span ends before the body starts and the child is not its child; after
`fix --unsafe-fixes` the child is parented and the span covers the await. Two layouts: the decorator in
the same module (PRP401's own fix) and in another module (the fix comes from PRP412 at the definition).

PRP404: a job that attaches an extracted context and never detaches it, run on a reused thread
(`ThreadPoolExecutor(max_workers=1)`): before the fix the next job on that thread still sees the first
job's trace; after `fix` (safe) it sees none.
"""

from __future__ import annotations

import json
from pathlib import Path

from runtime_support import run_proplint, run_python, write_files

_SDK = """
import json
import sys

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)


def dump(extra=None):
    spans = [{"name": s.name, "id": s.context.span_id, "trace": s.context.trace_id,
              "parent": s.parent.span_id if s.parent else None, "start": s.start_time, "end": s.end_time}
             for s in exporter.get_finished_spans()]
    print(json.dumps({"spans": spans, "extra": extra}))
"""

# --- PRP401 / PRP412 ------------------------------------------------------------------------------------

_DECORATOR_PROJECT = {
    "pyproject.toml": "[project]\nname = \"demo\"\nversion = \"0\"\n\n[tool.proplint]\n",
    # the decorator in one module...
    "observability.py": (
        "import functools\n\nfrom opentelemetry import trace\n\ntracer = trace.get_tracer(\"svc\")\n\n\n"
        "def traced(name):\n    def decorator(fn):\n        @functools.wraps(fn)\n"
        "        def wrapper(*args, **kwargs):\n            with tracer.start_as_current_span(name):\n"
        "                return fn(*args, **kwargs)\n        return wrapper\n    return decorator\n"
    ),
    # ...applied in another
    "handlers.py": (
        "import asyncio\n\nfrom opentelemetry import trace\n\nfrom observability import traced\n\n"
        "tracer = trace.get_tracer(\"handlers\")\n\n\n@traced(\"register\")\nasync def register(device_id):\n"
        "    with tracer.start_as_current_span(\"register.persist\"):\n        await asyncio.sleep(0.05)\n"
        "    return device_id\n"
    ),
    # and a plain decorator (start_span + attach/detach in try/finally) applied in its own module
    "local.py": (
        "import asyncio\nimport functools\n\nfrom opentelemetry import context, trace\n\n"
        "tracer = trace.get_tracer(\"local\")\n\n\n"
        "def spanned(fn):\n    @functools.wraps(fn)\n    def wrapper(*args, **kwargs):\n"
        "        span = tracer.start_span(fn.__name__)\n"
        "        token = context.attach(trace.set_span_in_context(span))\n        try:\n"
        "            return fn(*args, **kwargs)\n        finally:\n            context.detach(token)\n"
        "            span.end()\n    return wrapper\n\n\n@spanned\nasync def create_order(order):\n"
        "    with tracer.start_as_current_span(\"create_order.charge\"):\n        await asyncio.sleep(0.05)\n"
        "    return order\n"
    ),
}

_DECORATOR_RUN = _SDK + """
import asyncio

import handlers
import local


async def main():
    assert await handlers.register("d1") == "d1"
    assert await local.create_order("o1") == "o1"

asyncio.run(main())
dump()
"""

_PAIRS = [("register", "register.persist"), ("create_order", "create_order.charge")]
SLEEP_NS = 50_000_000


def _spans(proc) -> dict[str, dict]:
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    return {s["name"]: s for s in data["spans"]}


def _run(project: Path, runner: Path, script: str):
    runner.write_text(script, encoding="utf-8")
    return _spans(run_python([str(runner)], cwd=runner.parent, pythonpath=[project], timeout=60))


def test_prp401_fix_makes_the_span_cover_the_awaited_body(tmp_path):
    project, runner = tmp_path / "project", tmp_path / "runner" / "run.py"
    write_files(project, _DECORATOR_PROJECT)
    runner.parent.mkdir()

    before = _run(project, runner, _DECORATOR_RUN)
    for parent, child in _PAIRS:
        p, c = before[parent], before[child]
        assert p["end"] <= c["start"], f"{parent} should end before its body runs (sync wrapper)"
        assert c["parent"] != p["id"], f"{child} should not be a child of {parent} before the fix"
        assert p["end"] - p["start"] < SLEEP_NS

    checked = run_proplint("check", "--no-cache", "--output-format", "json", ".", cwd=project)
    codes = sorted((Path(f["filename"]).name, f["code"]) for f in json.loads(checked.stdout))
    assert codes == [("handlers.py", "PRP401"), ("local.py", "PRP401"), ("local.py", "PRP412"),
                     ("observability.py", "PRP412")], checked.stdout

    fixed = run_proplint("fix", "--no-cache", "--unsafe-fixes", ".", cwd=project)
    assert fixed.returncode in (0, 1), fixed.stderr
    for name in ("observability.py", "local.py"):
        text = (project / name).read_text(encoding="utf-8")
        assert "if inspect.iscoroutinefunction(fn):" in text and "await fn(*args, **kwargs)" in text, text
        compile(text, name, "exec")
    after_check = run_proplint("check", "--no-cache", "--output-format", "json", ".", cwd=project)
    assert json.loads(after_check.stdout) == [], after_check.stdout

    after = _run(project, runner, _DECORATOR_RUN)
    for parent, child in _PAIRS:
        p, c = after[parent], after[child]
        assert c["parent"] == p["id"], f"{child} should be a child of {parent} after the fix"
        assert p["start"] <= c["start"] and c["end"] <= p["end"], f"{parent} should cover its body"
        assert p["end"] - p["start"] >= SLEEP_NS, f"{parent} should cover the awaited sleep"


# --- PRP404 ---------------------------------------------------------------------------------------------

_TRACE_A = "4bf92f3577b34da6a3ce929d0e0e4736"
_JOBS = {
    "pyproject.toml": "[project]\nname = \"jobs\"\nversion = \"0\"\n\n[tool.proplint]\n",
    "jobs.py": (
        "from opentelemetry import context, propagate, trace\n\ntracer = trace.get_tracer(\"jobs\")\n\n\n"
        "def handle(carrier):\n    context.attach(propagate.extract(carrier))\n"
        "    with tracer.start_as_current_span(\"job\"):\n        return \"done\"\n\n\n"
        "def current_trace_id():\n    return format(trace.get_current_span().get_span_context().trace_id, \"032x\")\n"
    ),
}
_JOBS_RUN = _SDK + f"""
from concurrent.futures import ThreadPoolExecutor

import jobs

with ThreadPoolExecutor(max_workers=1) as pool:   # one worker thread, reused by every job
    first = pool.submit(jobs.handle, {{"traceparent": "00-{_TRACE_A}-00f067aa0ba902b7-01"}}).result()
    seen_by_next = pool.submit(jobs.current_trace_id).result()
dump({{"first": first, "seen_by_next": seen_by_next}})
"""


def test_prp404_fix_stops_the_context_leaking_into_the_next_job(tmp_path):
    project, runner = tmp_path / "project", tmp_path / "runner" / "run.py"
    write_files(project, _JOBS)
    runner.parent.mkdir()
    runner.write_text(_JOBS_RUN, encoding="utf-8")

    def run() -> dict:
        proc = run_python([str(runner)], cwd=runner.parent, pythonpath=[project], timeout=60)
        return json.loads(proc.stdout.strip().splitlines()[-1])

    before = run()
    assert before["extra"]["first"] == "done"
    job = next(s for s in before["spans"] if s["name"] == "job")
    assert format(job["trace"], "032x") == _TRACE_A  # the job joined the caller's trace (that part works)
    assert before["extra"]["seen_by_next"] == _TRACE_A, "before the fix the next job sees the previous context"

    fixed = run_proplint("fix", "--no-cache", ".", cwd=project)  # safe fix: no --unsafe-fixes
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    text = (project / "jobs.py").read_text(encoding="utf-8")
    assert "token = context.attach(propagate.extract(carrier))" in text and "context.detach(token)" in text, text

    after = run()
    assert after["extra"]["first"] == "done"
    job = next(s for s in after["spans"] if s["name"] == "job")
    assert format(job["trace"], "032x") == _TRACE_A
    assert after["extra"]["seen_by_next"] == "0" * 32, "after the fix the next job runs with no current span"
