"""What the thread rules share: the "already propagated" doc texts of PRP201-PRP204, the project files
their examples use (ThreadingInstrumentor on; a project ContextVar), and the note a lost-context message
gets when ThreadingInstrumentor is on but the project has ContextVars of its own.
"""

from __future__ import annotations

PROPAGATED = """
    - The callable already runs in a copy of the caller's context: `contextvars.copy_context().run`,
      `ctx.run` / `ctx.copy().run` for a `ctx` bound to `copy_context()` (or `self._ctx`, or a parameter
      annotated `contextvars.Context`), `functools.partial(ctx.run, fn)`, a name bound to one of these
      earlier (`func = contextvars.copy_context().run`), or a lambda / local `def` of the caller whose body
      calls `ctx.run(...)` on a context captured in the caller.
    - `context=` passed to `threading.Thread` (3.14+), other than `context=None` (PRP207).
    - The caller hands its context over as an argument: `copy_context()`, `opentelemetry.context.get_current()`,
      `trace.get_current_span()`, a span from `start_as_current_span` / `start_span`, or a carrier filled
      by `opentelemetry.propagate.inject` (the worker attaches it itself).
    - The work goes through a context-safe API instead: `asyncio.to_thread`, `anyio.to_thread.run_sync`,
      `starlette.concurrency.run_in_threadpool`, `asgiref.sync.sync_to_async`.
    - The class is the project's own and already copies: a `Thread` subclass whose `__init__`, `start` or
      `run` captures `copy_context()` (or passes `context=` to `Thread.__init__`), an executor subclass
      whose `submit` does. The name is resolved to the class actually imported (a project class called
      `Thread` is not `threading.Thread`), through the project index.
    - `ThreadingInstrumentor().instrument()` anywhere in the project (or `opentelemetry-instrument` with
      `opentelemetry-instrumentation-threading` installed), **only when the project defines no ContextVars
      of its own**: the instrumentor carries the OpenTelemetry context alone, so with project ContextVars
      (request ids, tenants) the finding stands and its message says why. It does not cover a Thread
      subclass that overrides `run()`, nor process pools.
"""

SERVICE = """
    A long-running *service thread* is not a finding: a thread whose target is a loop (`while True`,
    `while not self._stop.is_set()`, `for item in iter(queue.get, None)`; not a bounded `while i < n`)
    started once for the life of its owner: at import, from `__init__`, `__post_init__`, `__enter__`,
    `__aenter__`, `setup` or a method whose name begins with `start`, `ensure`, `serve` or `launch`
    (`_ensure_worker`), or kept on the instance (`self._thread = Thread(...)`). It outlives the request that
    happened to create it; copying that request's context would pin its trace to every later unit of
    work, so such threads should start with an empty context (and take a context, or a carrier, per work
    item). The same loop started from a request handler is reported.
"""

THREADING_INSTRUMENTOR = "opentelemetry.instrumentation.threading"
INSTRUMENTED = {"app/telemetry.py": f"from {THREADING_INSTRUMENTOR} import ThreadingInstrumentor\n\n"
                                     "def setup():\n    ThreadingInstrumentor().instrument()\n"}
REQUEST_ID = {"app/ctx.py": "import contextvars\n\nrequest_id = contextvars.ContextVar('request_id', default=None)\n"}


def instrumentor_note(project_vars: list[str]) -> str:
    """Appended to a lost-context message (PRP201-PRP204) that ThreadingInstrumentor would have covered,
    were it not for the project's own ContextVars."""
    names = [v.rsplit(".", 1)[-1] for v in project_vars[:3]]
    more = ", ..." if len(project_vars) > 3 else ""
    return (f"; ThreadingInstrumentor is on, but it carries only the OpenTelemetry context: the project's "
            f"ContextVars ({', '.join(names)}{more}) are still lost")
