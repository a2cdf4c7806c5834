"""Runtime proof: the requests really lack trace context before `proplint fix` and carry it after.

A real HTTP server (stdlib, 127.0.0.1, ephemeral port) records the headers it receives. The project code
runs in a fresh interpreter each time (no in-process instrumentation can leak), and the fix is applied
by the real CLI (`python -m proplint fix`) in a subprocess.
"""

from __future__ import annotations

import ast
import json
import re
import uuid

import pytest

from runtime_support import RecordingServer, run_proplint, run_python, write_files

TRACEPARENT = r"^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$"


@pytest.fixture
def server():
    srv = RecordingServer().start()
    try:
        yield srv
    finally:
        srv.stop()


def _fix_and_check_clean(root, *fix_args: str) -> None:
    fixed = run_proplint("fix", *fix_args, str(root), cwd=root)
    assert fixed.returncode == 0, f"proplint fix failed:\n{fixed.stdout}\n{fixed.stderr}"
    assert "Fixed 1 finding in 1 file" in fixed.stderr, fixed.stderr
    checked = run_proplint("check", str(root), cwd=root)
    assert checked.returncode == 0, f"proplint check is not clean after the fix:\n{checked.stdout}\n{checked.stderr}"
    assert checked.stdout == ""


# --- OpenTelemetry profile ------------------------------------------------------------------------------

OTEL_APP = '''\
import httpx
from opentelemetry import trace

tracer = trace.get_tracer(__name__)


async def call(url):
    with tracer.start_as_current_span("caller"):
        # the client below sends no traceparent until it is instrumented
        async with httpx.AsyncClient(timeout=10.0) as c:
            response = await c.get(url)
            response.raise_for_status()
'''

# The driver configures the SDK, runs app.call and prints every finished span as JSON. It is passed
# with -c (not written into the project), so proplint never sees it.
OTEL_DRIVER = '''\
import asyncio, json, sys
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)

import app

asyncio.run(app.call(sys.argv[1]))
provider.force_flush()
spans = [
    {
        "name": s.name,
        "trace_id": format(s.context.trace_id, "032x"),
        "span_id": format(s.context.span_id, "016x"),
        "parent": format(s.parent.span_id, "016x") if s.parent else None,
    }
    for s in exporter.get_finished_spans()
]
print(json.dumps(spans))
'''


def _run_otel_app(root, server: RecordingServer, path: str) -> list[dict]:
    proc = run_python(["-c", OTEL_DRIVER, server.url(path)], cwd=root, pythonpath=[root])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_otel_instrument_client_fix_propagates_traceparent(tmp_path, server):
    root = tmp_path / "otelproj"
    write_files(root, {
        "pyproject.toml": '[project]\nname = "otelproj"\nversion = "0"\n\n[tool.proplint]\n',
        "requirements.txt": "httpx\nopentelemetry-sdk\nopentelemetry-instrumentation-httpx\n",
        "app.py": OTEL_APP,
    })
    app = root / "app.py"

    # Before: proplint reports it, and the request reaches the server without any trace context.
    before_check = run_proplint("check", str(root), cwd=root)
    assert before_check.returncode == 1 and "PRP101" in before_check.stdout, before_check.stdout
    spans = _run_otel_app(root, server, "before")
    caller = [s for s in spans if s["name"] == "caller"]
    assert len(caller) == 1, spans
    assert len(spans) == 1, f"nothing should trace the raw client: {spans}"
    [req] = server.for_path("before")
    assert "traceparent" not in req.headers, req.headers
    assert "tracestate" not in req.headers

    # The real CLI fixes it (safe: the instrumentation is in requirements.txt) and the project is clean.
    _fix_and_check_clean(root)
    fixed = app.read_text(encoding="utf-8")
    assert fixed != OTEL_APP
    assert "HTTPXClientInstrumentor.instrument_client(c)" in fixed
    assert "from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor" in fixed
    compile(fixed, str(app), "exec")

    # After: the server receives a traceparent in the caller span's trace.
    spans = _run_otel_app(root, server, "after")
    [caller] = [s for s in spans if s["name"] == "caller"]
    [req] = server.for_path("after")
    assert "traceparent" in req.headers, req.headers
    match = re.match(TRACEPARENT, req.headers["traceparent"])
    assert match, req.headers["traceparent"]
    trace_id, parent_span = match.groups()
    assert trace_id == caller["trace_id"]
    # The header's parent is the instrumented client's span, itself a child of the caller span.
    client_spans = [s for s in spans if s["span_id"] == parent_span]
    assert len(client_spans) == 1, (parent_span, spans)
    assert client_spans[0]["parent"] == caller["span_id"]
    assert client_spans[0]["trace_id"] == caller["trace_id"]


# --- factory profile (seed 001) ---------------------------------------------------------------------------

FACTORY_MODULE = '''\
from contextlib import asynccontextmanager
from contextvars import ContextVar

import httpx

trace_id_var: ContextVar[str | None] = ContextVar("trace_id", default=None)


class TraceTransport(httpx.AsyncHTTPTransport):
    """Sends the current trace id (from the ContextVar) as X-Trace-ID."""

    async def handle_async_request(self, request):
        trace_id = trace_id_var.get()
        if trace_id:
            request.headers["X-Trace-ID"] = trace_id
        return await super().handle_async_request(request)


@asynccontextmanager
async def traced_client(timeout=10.0, **kwargs):
    async with httpx.AsyncClient(transport=TraceTransport(), timeout=timeout, **kwargs) as client:
        yield client
'''

WORKER = '''\
import httpx

from svc.shared.http_client import trace_id_var


async def fetch(url, trace_id):
    trace_id_var.set(trace_id)
    async with httpx.AsyncClient(timeout=5.0) as client:
        response = await client.get(url)
    return response.status_code
'''

FACTORY_DRIVER = '''\
import asyncio, sys
from svc.worker import fetch
print(asyncio.run(fetch(sys.argv[1], sys.argv[2])))
'''


def _imports_traced_client(source: str) -> bool:
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module == "svc.shared.http_client" and node.level == 0:
            if any(a.name == "traced_client" and a.asname is None for a in node.names):
                return True
    return False


def test_factory_fix_sends_trace_id_from_contextvar(tmp_path, server):
    root = tmp_path / "factoryproj"
    write_files(root, {
        "pyproject.toml": '[project]\nname = "svc"\nversion = "0"\n\n[tool.proplint]\n'
                          'http-client-factory = "svc.shared.http_client:traced_client"\n',
        "svc/__init__.py": "",
        "svc/shared/__init__.py": "",
        "svc/shared/http_client.py": FACTORY_MODULE,
        "svc/worker.py": WORKER,
    })
    worker = root / "svc" / "worker.py"
    factory = root / "svc" / "shared" / "http_client.py"

    before_check = run_proplint("check", str(root), cwd=root)
    assert before_check.returncode == 1, before_check.stdout + before_check.stderr
    reported = [line for line in before_check.stdout.splitlines() if "PRP101" in line]
    assert len(reported) == 1 and "worker.py" in reported[0], before_check.stdout

    # Before: the raw client bypasses the factory's transport, so no X-Trace-ID reaches the server.
    trace_id = uuid.uuid4().hex
    out = run_python(["-c", FACTORY_DRIVER, server.url("before"), trace_id], cwd=root, pythonpath=[root])
    assert out.stdout.strip() == "200"
    [req] = server.for_path("before")
    assert "x-trace-id" not in req.headers, req.headers

    # The real CLI rewrites the call to the factory (safe: it takes timeout= and **kwargs).
    _fix_and_check_clean(root)
    fixed = worker.read_text(encoding="utf-8")
    assert "async with traced_client(timeout=5.0) as client:" in fixed, fixed
    assert "httpx.AsyncClient" not in fixed
    assert _imports_traced_client(fixed), fixed
    assert factory.read_text(encoding="utf-8") == FACTORY_MODULE, "the factory's own definition must not change"
    compile(fixed, str(worker), "exec")

    # After: the server sees the ContextVar's value.
    trace_id = uuid.uuid4().hex
    out = run_python(["-c", FACTORY_DRIVER, server.url("after"), trace_id], cwd=root, pythonpath=[root])
    assert out.stdout.strip() == "200"
    [req] = server.for_path("after")
    assert req.headers.get("x-trace-id") == trace_id, req.headers


# --- factory profile, a client closed in `finally` (issue #13) ---------------------------------------------

OTEL_FACTORY_MODULE = '''\
from contextlib import asynccontextmanager

import httpx
from opentelemetry.propagate import inject


async def _inject(request):
    inject(request.headers)


@asynccontextmanager
async def traced_client(**kwargs):
    async with httpx.AsyncClient(event_hooks={"request": [_inject]}, **kwargs) as client:
        yield client
'''

CLOSING_APP = '''\
import httpx
from opentelemetry import trace

tracer = trace.get_tracer(__name__)


async def call(url):
    with tracer.start_as_current_span("caller"):
        client = httpx.AsyncClient(timeout=10.0)
        try:
            response = await client.get(url)
            response.raise_for_status()
        finally:
            await client.aclose()
'''


def test_factory_fix_of_a_client_closed_in_finally_joins_the_callers_trace(tmp_path, server):
    root = tmp_path / "closingproj"
    write_files(root, {
        "pyproject.toml": '[project]\nname = "svc"\nversion = "0"\n\n[tool.proplint]\n'
                          'http-client-factory = "svc.http:traced_client"\n',
        "svc/__init__.py": "",
        "svc/http.py": OTEL_FACTORY_MODULE,
        "app.py": CLOSING_APP,
    })
    app = root / "app.py"

    before_check = run_proplint("check", str(root), cwd=root)
    reported = [line for line in before_check.stdout.splitlines() if "PRP101" in line]
    assert len(reported) == 1 and "app.py" in reported[0], before_check.stdout

    # Before: the raw client sends no traceparent.
    spans = _run_otel_app(root, server, "before")
    assert [s["name"] for s in spans] == ["caller"], spans
    [req] = server.for_path("before")
    assert "traceparent" not in req.headers, req.headers

    # The fix is unsafe: a plain `fix` leaves the file alone; --unsafe-fixes rewrites it and it is clean.
    safe_only = run_proplint("fix", str(root), cwd=root)
    assert app.read_text(encoding="utf-8") == CLOSING_APP, safe_only.stdout + safe_only.stderr
    _fix_and_check_clean(root, "--unsafe-fixes")
    fixed = app.read_text(encoding="utf-8")
    assert "async with traced_client(timeout=10.0) as client:" in fixed, fixed
    assert "aclose" not in fixed and "httpx.AsyncClient" not in fixed, fixed
    assert "from svc.http import traced_client" in fixed, fixed

    # After: the request carries the caller span's trace, the caller span as its parent.
    spans = _run_otel_app(root, server, "after")
    [caller] = [s for s in spans if s["name"] == "caller"]
    [req] = server.for_path("after")
    match = re.match(TRACEPARENT, req.headers.get("traceparent", ""))
    assert match, req.headers
    assert match.groups() == (caller["trace_id"], caller["span_id"])
