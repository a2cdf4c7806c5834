"""Runtime proof of the PRP201-PRP205 fixes under the OpenTelemetry SDK (in-memory exporter); PRP201's
includes its (unsafe) fix of a Thread subclass that overrides run().

Each scenario is a small program in a temporary project. It runs in a fresh interpreter before the fix
(the worker's span is a new root: no parent, another trace id; the caller's request-id ContextVar is
unset in the worker), then the real `python -m proplint fix` rewrites it, and it runs again (the worker
span's parent is the caller's span, in the caller's trace, and the worker sees the request id). PRP205's
bug is not a lost context but a crash: before the fix, concurrent workers entering one Context raise
`RuntimeError: cannot enter context`; after it, none does and every worker is parented.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from runtime_support import run_proplint, run_python, write_files

HARNESS = '''
"""Tracing set-up shared by the scenarios: an in-memory exporter and a project ContextVar."""
import contextvars
import json
import threading
import time

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)
tracer = trace.get_tracer("proplint-runtime-proof")

request_id = contextvars.ContextVar("request_id", default=None)
seen = []
errors = []
_lock = threading.Lock()


def work(tag, delay=0.0):
    with tracer.start_as_current_span(f"worker:{tag}"):
        time.sleep(delay)
        with _lock:
            seen.append([tag, request_id.get()])


def report():
    spans = exporter.get_finished_spans()
    caller = next(s for s in spans if s.name == "caller")
    print(json.dumps({
        "caller": {"trace": caller.context.trace_id, "span": caller.context.span_id},
        "workers": [{"name": s.name, "trace": s.context.trace_id,
                     "parent": s.parent.span_id if s.parent is not None else None}
                    for s in spans if s.name.startswith("worker:")],
        "seen": seen,
        "errors": errors,
    }))
'''

SCENARIOS = {
    "PRP201": '''
        import threading

        from harness import report, request_id, tracer, work


        def handle():
            with tracer.start_as_current_span("caller"):
                request_id.set("req-42")
                t = threading.Thread(target=work, args=("thread",), kwargs={"delay": 0.01})
                t.start()
                t.join()


        handle()
        report()
    ''',
    # Thread subclasses overriding run(), one without an __init__ (its name passed through to Thread's),
    # one with its own
    "PRP201-subclass": '''
        import threading

        from harness import report, request_id, tracer, work


        class Named(threading.Thread):
            def run(self):
                work(self.name, 0.01)


        class Tagged(threading.Thread):
            def __init__(self, tag):
                super().__init__(daemon=True)
                self.tag = tag

            def run(self):
                work(self.tag, 0.01)


        def handle():
            with tracer.start_as_current_span("caller"):
                request_id.set("req-42")
                threads = [Named(name="subclass-named"), Tagged("subclass-tagged")]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()


        handle()
        report()
    ''',
    "PRP202": '''
        from threading import Timer

        from harness import report, request_id, tracer, work


        def handle():
            with tracer.start_as_current_span("caller"):
                request_id.set("req-42")
                timer = Timer(0.01, work, args=("timer",))
                timer.start()
                timer.join()


        handle()
        report()
    ''',
    "PRP203-submit": '''
        from concurrent.futures import ThreadPoolExecutor

        from harness import report, request_id, tracer, work


        def handle():
            with tracer.start_as_current_span("caller"):
                request_id.set("req-42")
                with ThreadPoolExecutor(max_workers=4) as pool:
                    futures = [pool.submit(work, f"submit-{i}", delay=0.02) for i in range(4)]
                    for future in futures:
                        future.result()


        handle()
        report()
    ''',
    "PRP203-map": '''
        from concurrent.futures import ThreadPoolExecutor

        from harness import report, request_id, tracer, work

        ITEMS = [f"map-{i}" for i in range(8)]


        def handle():
            with tracer.start_as_current_span("caller"):
                request_id.set("req-42")
                with ThreadPoolExecutor(max_workers=4) as pool:
                    # concurrent items, each sleeping while it holds its context
                    list(pool.map(work, ITEMS, [0.05] * len(ITEMS)))


        handle()
        report()
    ''',
    "PRP204": '''
        import asyncio

        from harness import report, request_id, tracer, work


        async def handle():
            with tracer.start_as_current_span("caller"):
                request_id.set("req-42")
                loop = asyncio.get_running_loop()
                await loop.run_in_executor(None, work, "executor")


        asyncio.run(handle())
        report()
    ''',
    "PRP205": '''
        import contextvars
        from concurrent.futures import ThreadPoolExecutor

        from harness import errors, report, request_id, tracer, work


        def handle():
            with tracer.start_as_current_span("caller"):
                request_id.set("req-42")
                ctx = contextvars.copy_context()
                with ThreadPoolExecutor(max_workers=4) as pool:
                    futures = [pool.submit(ctx.run, work, f"shared-{i}", 0.2) for i in range(4)]
                    for future in futures:
                        try:
                            future.result()
                        except RuntimeError as exc:
                            errors.append(str(exc))


        handle()
        report()
    ''',
    # The tempting map "fix": one copy shared by every concurrent item (the domain catalog's trap).
    "PRP205-map": '''
        import contextvars
        import functools
        from concurrent.futures import ThreadPoolExecutor

        from harness import errors, report, request_id, tracer, work

        ITEMS = [f"map-{i}" for i in range(8)]


        def handle():
            with tracer.start_as_current_span("caller"):
                request_id.set("req-42")
                with ThreadPoolExecutor(max_workers=4) as pool:
                    try:
                        list(pool.map(functools.partial(contextvars.copy_context().run, work), ITEMS, [0.05] * 8))
                    except RuntimeError as exc:
                        errors.append(str(exc))


        handle()
        report()
    ''',
}

WORKERS = {"PRP201": 1, "PRP201-subclass": 2, "PRP202": 1, "PRP203-submit": 4, "PRP203-map": 8, "PRP204": 1, "PRP205": 4,
           "PRP205-map": 8}
#: scenarios whose fix is unsafe (applied with --unsafe-fixes)
UNSAFE = {"PRP201-subclass"}


def _run(project: Path) -> dict:
    proc = run_python(["app.py"], cwd=project, timeout=60)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _project(tmp_path: Path, name: str) -> Path:
    project = tmp_path / name
    write_files(project, {
        "pyproject.toml": '[tool.proplint]\nselect = ["PRP2"]\n',
        "harness.py": HARNESS.lstrip(),
        "app.py": textwrap.dedent(SCENARIOS[name]).lstrip(),
    })
    return project


def _assert_lost(result: dict) -> None:
    caller = result["caller"]
    assert result["workers"], "the worker made no span"
    for span in result["workers"]:
        assert span["parent"] is None, f"{span['name']} has a parent before the fix"
        assert span["trace"] != caller["trace"], f"{span['name']} is in the caller's trace before the fix"
    assert all(value is None for _, value in result["seen"]), result["seen"]


def _assert_propagated(result: dict, workers: int) -> None:
    caller = result["caller"]
    assert result["errors"] == []
    assert len(result["workers"]) == workers
    for span in result["workers"]:
        assert span["parent"] == caller["span"], f"{span['name']} is not a child of the caller's span"
        assert span["trace"] == caller["trace"]
    assert sorted(value for _, value in result["seen"]) == ["req-42"] * workers


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_fix_propagates_the_span_and_the_request_id(tmp_path, name):
    project = _project(tmp_path, name)
    code = name.split("-")[0]
    before = _run(project)
    if code == "PRP205":
        # the bug: workers entering the one shared Context at the same time crash
        assert any("cannot enter context" in e for e in before["errors"]), before
        for span in before["workers"]:
            assert span["parent"] == before["caller"]["span"]
    else:
        assert before["errors"] == []
        _assert_lost(before)

    original = (project / "app.py").read_text()
    check = run_proplint("check", "--no-cache", "--output-format", "json", "app.py", cwd=project)
    assert {f["code"] for f in json.loads(check.stdout)} == {code}, check.stdout

    if name in UNSAFE:
        run_proplint("fix", "--no-cache", "app.py", cwd=project)
        assert (project / "app.py").read_text() == original, "an unsafe fix was applied without --unsafe-fixes"
    fixed = run_proplint("fix", "--no-cache", *(["--unsafe-fixes"] if name in UNSAFE else []), "app.py", cwd=project)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    after_text = (project / "app.py").read_text()
    assert after_text != original
    assert "import contextvars" in after_text or code == "PRP205"

    _assert_propagated(_run(project), WORKERS[name])

    clean = run_proplint("check", "--no-cache", "app.py", cwd=project)
    assert clean.returncode == 0, clean.stdout + clean.stderr
