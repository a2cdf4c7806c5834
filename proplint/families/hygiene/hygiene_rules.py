"""Rule declarations PRP407-PRP412 of the hygiene family (bound to the check in `hygiene.py`)."""

from __future__ import annotations

from proplint.core.rule import Invalid, Rule, Valid


class CurrentContextAcrossYield(Rule):
    code = "PRP407"
    name = "current-context-across-yield"
    summary = "A current span or attached context is held across a `yield` in a generator or async generator."
    fix = "none"
    what_it_does = """
        Finds `with tracer.start_as_current_span(...)` / `trace.use_span(...)` (also `async with`) whose block
        contains a `yield` of the enclosing generator or async generator, and `context.attach(...)` followed
        by a `yield` in the same block. Streaming responses and LLM stream wrappers are the typical cases.
    """
    why = """
        While the generator is suspended at `yield`, the consumer runs inside the generator's span
        (measured: `-> gen-span`), so its spans are mis-parented. If the generator is finalised from another
        context (an early `break`, `aclose()` in another task, garbage collection), the detach raises
        `ValueError: <Token ...> was created in a different Context`, logged by OpenTelemetry as "Failed to
        detach context".
    """
    already_propagated = """
        Generators decorated with `contextlib.contextmanager`, `asynccontextmanager` or `pytest.fixture`:
        yielding inside the scope is their protocol. A span made current only around code without `yield`,
        and `span = tracer.start_span(...)` ended in `finally` (not current), are correct.
    """
    example = """
        from opentelemetry import trace

        tracer = trace.get_tracer(__name__)


        async def stream_completion(prompt):
            with tracer.start_as_current_span("llm.stream"):
                async for chunk in client.stream(prompt):
                    yield chunk
    """
    use_instead = """
        from opentelemetry import trace

        tracer = trace.get_tracer(__name__)


        async def stream_completion(prompt):
            span = tracer.start_span("llm.stream")
            try:
                async for chunk in client.stream(prompt):
                    span.add_event("chunk")
                    yield chunk
            finally:
                span.end()

        # and at the consumer: async with contextlib.aclosing(stream_completion(p)) as chunks: ...
    """
    fix_safety = """
        No automatic fix: where the span should be current, and how the consumer closes the generator
        (`contextlib.aclosing`), are decisions for the author.
    """
    VALID = (
        Valid("import contextlib\n\n\n@contextlib.contextmanager\ndef traced_block(name):\n"
              "    with tracer.start_as_current_span(name) as span:\n        yield span\n"),
        Valid("def rows():\n    with tracer.start_as_current_span('load'):\n        data = load()\n"
              "    for row in data:\n        yield row\n"),
        Valid("def rows():\n    span = tracer.start_span('rows')\n    try:\n        yield from load()\n    finally:\n"
              "        span.end()\n"),
    )
    INVALID = (
        Invalid("async def stream_completion(prompt):\n    with tracer.start_as_current_span('llm.stream'):\n"
                "        async for chunk in client.stream(prompt):\n            yield chunk\n"),
        Invalid("from opentelemetry import trace\n\n\ndef rows(span):\n    with trace.use_span(span):\n"
                "        yield 1\n"),
        Invalid("from opentelemetry import context\n\n\ndef consume(ctx, queue):\n    token = context.attach(ctx)\n"
                "    try:\n        for item in queue:\n            yield item\n    finally:\n"
                "        context.detach(token)\n"),
    )


_STARLETTE = "from starlette.middleware.base import BaseHTTPMiddleware\nfrom app.ctx import user_var\n\n\n"
_CTX = {"app/__init__.py": "", "app/ctx.py": "import contextvars\n\n"
                                             "user_var = contextvars.ContextVar('user', default=None)\n",
        "app/deps.py": "from app.ctx import user_var\n\n\nasync def current_user(request):\n"
                       "    user_var.set(request.headers.get('x-user'))\n"}


class BaseHttpMiddlewareContextVars(Rule):
    code = "PRP408"
    name = "basehttpmiddleware-contextvars"
    summary = "A `BaseHTTPMiddleware` (or `@app.middleware(\"http\")`) reads a ContextVar after `await call_next(...)`."
    fix = "none"
    what_it_does = """
        Finds, in the `dispatch` of a `starlette.middleware.base.BaseHTTPMiddleware` subclass (also through
        project subclasses), a FastAPI/Starlette `@app.middleware("http")` function or a function registered
        with `app.add_middleware(BaseHTTPMiddleware, dispatch=...)`, a `<var>.get()` after
        `await call_next(...)`, where `var` is a ContextVar the project sets somewhere else and the dispatch
        did not set before `call_next`.
    """
    why = """
        `BaseHTTPMiddleware` runs the endpoint in a separate anyio task. Values set in `dispatch` before
        `call_next` reach the endpoint, but values the endpoint sets are not visible after `call_next`
        (measured with Starlette 1.10: `unset`); a pure ASGI middleware sees them (`set-in-endpoint`).
        Starlette's documentation adds that a BaseHTTPMiddleware also breaks propagation to later pure ASGI
        middleware.
    """
    already_propagated = """
        Reads before `call_next`, reads of a variable the dispatch set itself before `call_next`, and
        variables nothing else in the project sets (they can only hold what the middleware or an outer
        layer put there). Pure ASGI middleware (`async def __call__(self, scope, receive, send)`) is correct.
    """
    example = """
        from starlette.middleware.base import BaseHTTPMiddleware

        from app.ctx import user_var


        class AuditMiddleware(BaseHTTPMiddleware):
            async def dispatch(self, request, call_next):
                response = await call_next(request)
                audit(request.url.path, user_var.get())
                return response
    """
    use_instead = """
        from app.ctx import user_var


        class AuditMiddleware:
            def __init__(self, app):
                self.app = app

            async def __call__(self, scope, receive, send):
                await self.app(scope, receive, send)
                if scope["type"] == "http":
                    audit(scope["path"], user_var.get())
    """
    fix_safety = """
        No automatic fix: rewriting a middleware as pure ASGI changes how it sees the request and response.
    """
    VALID = (
        Valid(_STARLETTE + "class M(BaseHTTPMiddleware):\n    async def dispatch(self, request, call_next):\n"
                           "        before = user_var.get()\n        return await call_next(request)\n", files=_CTX,
              path="app/middleware.py"),
        Valid(_STARLETTE + "class M(BaseHTTPMiddleware):\n    async def dispatch(self, request, call_next):\n"
                           "        token = user_var.set('x')\n        response = await call_next(request)\n"
                           "        response.headers['x-user'] = user_var.get()\n        return response\n",
              files=_CTX, path="app/middleware.py"),
        Valid("from app.ctx import user_var\n\n\nclass Pure:\n    def __init__(self, app):\n        self.app = app\n\n"
              "    async def __call__(self, scope, receive, send):\n        await self.app(scope, receive, send)\n"
              "        audit(user_var.get())\n", files=_CTX, path="app/middleware.py"),
    )
    INVALID = (
        Invalid(_STARLETTE + "class AuditMiddleware(BaseHTTPMiddleware):\n"
                             "    async def dispatch(self, request, call_next):\n"
                             "        response = await call_next(request)\n        audit(user_var.get())\n"
                             "        return response\n", files=_CTX, path="app/middleware.py"),
        Invalid("from fastapi import FastAPI\nfrom app.ctx import user_var\n\napp = FastAPI()\n\n\n"
                "@app.middleware('http')\n"
                "async def audit(request, call_next):\n    response = await call_next(request)\n"
                "    response.headers['x-user'] = str(user_var.get())\n    return response\n",
                files=_CTX, path="app/main.py"),
    )


class SpanDecoratorOnGenerator(Rule):
    code = "PRP409"
    name = "span-decorator-on-generator"
    summary = "`@tracer.start_as_current_span(...)` decorates a generator or an async generator."
    fix = "none"
    what_it_does = """
        Finds `@<tracer>.start_as_current_span(...)` on a `def` or `async def` containing `yield`.
    """
    why = """
        OpenTelemetry's decorator (`_AgnosticContextManager.__call__`) special-cases only
        `inspect.iscoroutinefunction`. On a generator it wraps the call that creates the generator object:
        measured, generator and async-generator spans lasted 0.01 ms and the spans made while iterating were
        not their children, while the same decorator on an `async def` lasted 50.6 ms and parented correctly.
    """
    already_propagated = """
        The decorator on a plain `def` or an `async def` without `yield` (PRP410 covers old versions).
    """
    example = """
        from opentelemetry import trace

        tracer = trace.get_tracer(__name__)


        @tracer.start_as_current_span("export.rows")
        def rows(query):
            for row in query:
                yield row
    """
    use_instead = """
        from opentelemetry import trace

        tracer = trace.get_tracer(__name__)


        def rows(query):
            span = tracer.start_span("export.rows")
            try:
                for row in query:
                    yield row
            finally:
                span.end()
    """
    fix_safety = """
        No automatic fix: open the span inside the generator body (or `start_span` and end it in
        `finally`, not current across `yield`: see PRP407).
    """
    VALID = (
        Valid("@tracer.start_as_current_span('load')\ndef load():\n    return [1]\n"),
        Valid("@tracer.start_as_current_span('load')\nasync def load():\n    return [1]\n"),
    )
    INVALID = (
        Invalid("from opentelemetry import trace\n\ntracer = trace.get_tracer(__name__)\n\n\n"
                "@tracer.start_as_current_span('export.rows')\ndef rows(query):\n    for row in query:\n"
                "        yield row\n"),
        Invalid("@tracer.start_as_current_span('stream')\nasync def stream():\n    yield 1\n"),
    )


_ASYNC_SPAN = "@tracer.start_as_current_span('checkout')\nasync def checkout(cart):\n    return await charge(cart)\n"


class OtelAsyncDecoratorTooOld(Rule):
    code = "PRP410"
    name = "otel-async-decorator-too-old"
    summary = "`@tracer.start_as_current_span(...)` on an `async def` with opentelemetry-api pinned below 1.24.0."
    fix = "none"
    what_it_does = """
        Finds `@<tracer>.start_as_current_span(...)` on an `async def` when the project's dependency or lock
        files (requirements*.txt, constraints, pyproject.toml, setup.cfg, Pipfile(.lock), poetry.lock,
        uv.lock, pdm.lock) keep `opentelemetry-api` (or `opentelemetry-sdk`, which pins the API to its own
        version) below 1.24.0: `==1.22.0`, `<1.24`, `~=1.23.0`, `^0.x`, or a locked version.
    """
    why = """
        Before opentelemetry-api 1.24.0 (PR #3633, "Make `tracer.start_as_current_span()` decorator work
        with async functions", released 2024-03-28) the decorator wrapped the call that creates the
        coroutine: the span ends before the body runs and the body's spans are not its children.
    """
    already_propagated = """
        No pin (or one that allows 1.24.0 or later, such as `>=1.20`): the resolver is free to install a
        fixed release, so nothing is reported.
    """
    example = """
        # requirements.txt: opentelemetry-api==1.22.0
        from opentelemetry import trace

        tracer = trace.get_tracer(__name__)


        @tracer.start_as_current_span("checkout")
        async def checkout(cart):
            return await charge(cart)
    """
    use_instead = """
        # requirements.txt: opentelemetry-api>=1.24.0
        from opentelemetry import trace

        tracer = trace.get_tracer(__name__)


        async def checkout(cart):
            with tracer.start_as_current_span("checkout"):
                return await charge(cart)
    """
    fix_safety = """
        No automatic fix: raise the pin to 1.24.0 or later, or open the span inside the function.
    """
    VALID = (
        Valid(_ASYNC_SPAN),
        Valid(_ASYNC_SPAN, files={"requirements.txt": "opentelemetry-api==1.27.0\n"}),
        Valid(_ASYNC_SPAN, files={"pyproject.toml": "[project]\nname = 'x'\n"
                                                    "dependencies = ['opentelemetry-api>=1.20']\n"}),
        Valid("@tracer.start_as_current_span('sync')\ndef checkout(cart):\n    return cart\n",
              files={"requirements.txt": "opentelemetry-api==1.20.0\n"}),
    )
    INVALID = (
        Invalid(_ASYNC_SPAN, files={"requirements.txt": "opentelemetry-api==1.22.0\n"}),
        Invalid(_ASYNC_SPAN, files={"pyproject.toml": "[project]\nname = 'x'\n"
                                                      "dependencies = ['opentelemetry-sdk>=1.15,<1.24']\n"}),
        Invalid(_ASYNC_SPAN,
                files={"poetry.lock": "[[package]]\nname = \"opentelemetry-api\"\nversion = \"1.21.0\"\n"}),
    )


_WORKER = ("import asyncio\nfrom contextlib import asynccontextmanager\n\nfrom fastapi import FastAPI\n\n\n"
           "async def consume(queue):\n    while True:\n        message = await queue.get()\n"
           "        with tracer.start_as_current_span('consume'):\n            await handle(message)\n\n\n")
_OPT_411 = {"select": ["PRP411"]}


class TaskContextCapturedAtCreation(Rule):
    code = "PRP411"
    name = "task-context-captured-at-creation"
    summary = "A long-lived task started at module level or in startup/lifespan code makes spans without its own root."
    fix = "none"
    default_enabled = False
    what_it_does = """
        Finds `asyncio.create_task(worker())`, `ensure_future`, `loop.create_task` and `tg.start_soon(worker)`
        at module level or in startup code (a `lifespan` function, a function passed as `lifespan=` or in
        `on_startup=[...]`, `@app.on_event("startup")`, `app.add_event_handler("startup", ...)`,
        `app.on_startup.append(...)`) when the worker, defined in the same module, loops (`while`,
        `async for`) and makes spans in its loop without `context=`/`links=` and without extracting or
        attaching a context.
    """
    why = """
        A task copies the context once, when it is created. A worker started at startup keeps the startup
        context forever: measured, it saw `BEFORE-TASK` after the parent set `AFTER-TASK-CREATED`, and its
        own sets do not flow back. If startup ran inside a span (or set request-scoped ContextVars), every
        message the worker handles joins that one trace.
    """
    already_propagated = """
        Spans made with an explicit parent (`context=Context()` for a new root, `context=extract(headers)`),
        or a worker that calls `extract`/`attach` per unit of work; tasks created per request; short tasks
        without a loop.
    """
    example = """
        import asyncio
        from contextlib import asynccontextmanager


        async def consume(queue):
            while True:
                message = await queue.get()
                with tracer.start_as_current_span("consume"):
                    await handle(message)


        @asynccontextmanager
        async def lifespan(app):
            task = asyncio.create_task(consume(app.state.queue))
            yield
            task.cancel()
    """
    use_instead = """
        from opentelemetry.context import Context


        async def consume(queue):
            while True:
                message = await queue.get()
                with tracer.start_as_current_span("consume", context=Context()):
                    await handle(message)
    """
    fix_safety = """
        No automatic fix: whether each unit of work is a new root or continues a trace carried by the
        message (`extract`) is the author's decision.
    """
    VALID = (
        Valid(_WORKER.replace("'consume')", "'consume', context=Context())") +
              "@asynccontextmanager\nasync def lifespan(app):\n    asyncio.create_task(consume(app.state.q))\n"
              "    yield\n",
              config=_OPT_411),
        Valid(_WORKER + "async def handler(request):\n    asyncio.create_task(consume(request.app.state.q))\n",
              config=_OPT_411),
        Valid("from opentelemetry.propagate import extract\n" +
              _WORKER.replace("message = await queue.get()", "message = await queue.get()\n"
                              "        ctx = extract(message.headers)") +
              "@asynccontextmanager\nasync def lifespan(app):\n    asyncio.create_task(consume(app.state.q))\n"
              "    yield\n",
              config=_OPT_411),
    )
    INVALID = (
        Invalid(_WORKER + "@asynccontextmanager\nasync def lifespan(app):\n"
                          "    task = asyncio.create_task(consume(app.state.q))\n"
                          "    yield\n    task.cancel()\n\n\napp = FastAPI(lifespan=lifespan)\n", config=_OPT_411),
        Invalid(_WORKER + "app = FastAPI()\n\n\n@app.on_event('startup')\nasync def start():\n"
                          "    asyncio.ensure_future(consume(app.state.q))\n", config=_OPT_411),
    )


_TIMED = ("import functools\nimport logging\nimport time\n\nlog = logging.getLogger(__name__)\n\n\n"
          "def timed(fn):\n    @functools.wraps(fn)\n    def wrapper(*args, **kwargs):\n"
          "        start = time.perf_counter()\n"
          "        result = fn(*args, **kwargs)\n"
          "        log.info('%s took %.3fs', fn.__name__, time.perf_counter() - start)\n"
          "        return result\n    return wrapper\n")
_TIMED_FIXED = ("import functools\nimport logging\nimport time\nimport inspect\n\nlog = logging.getLogger(__name__)\n\n"
                "\n"
                "def timed(fn):\n    if inspect.iscoroutinefunction(fn):\n        @functools.wraps(fn)\n"
                "        async def _async_wrapper(*args, **kwargs):\n            start = time.perf_counter()\n"
                "            result = await fn(*args, **kwargs)\n"
                "            log.info('%s took %.3fs', fn.__name__, time.perf_counter() - start)\n"
                "            return result\n        return _async_wrapper\n\n"
                "    @functools.wraps(fn)\n    def wrapper(*args, **kwargs):\n        start = time.perf_counter()\n"
                "        result = fn(*args, **kwargs)\n"
                "        log.info('%s took %.3fs', fn.__name__, time.perf_counter() - start)\n"
                "        return result\n    return wrapper\n")
_ASYNC_FILE = {"app/handlers.py": "async def handler():\n    pass\n"}
_APPLIED = {"app/__init__.py": "", "app/handlers.py": "from example import timed\n\n\n@timed\nasync def handler():\n"
                                                      "    pass\n"}


class SyncOnlyDecoratorWrapper(Rule):
    code = "PRP412"
    name = "sync-only-decorator-wrapper"
    summary = "A decorator's only wrapper is a plain `def` that does work after `fn(...)` returns."
    fix = "unsafe"
    what_it_does = """
        Finds the definition of a decorator (plain or factory) whose wrapper is sync-only (no
        `inspect.iscoroutinefunction` branch, no async wrapper) and does work once `fn(...)` returns that
        assumes the call has finished: closing a span or scope (`with`, `end()`, `detach`, `reset`), a
        `finally`, an "end" log or timing. Reported once, on the wrapper's `def` line, when the decorator is
        applied to a coroutine function (or an awaitable-returning `def`) somewhere in the project, found
        through the project index; and, for a library's users, when it is a generic (`*args`/`**kwargs`)
        tracing decorator (its wrapper opens a span or scope) in a project with async code.
    """
    why = """
        Whoever applies it to a coroutine function (in this project, or a library's users) gets a
        zero-length span and unparented children: the wrapper returns the coroutine object at once, so its
        "after" work runs before the body does (PRP401 reports each such use). A timing or "done" log
        measures the creation of the coroutine, not its run, and a `finally` cleans up before the work.
    """
    already_propagated = """
        An async-aware decorator (see PRP401); a wrapper that does nothing after `fn(...)` returns (checks
        before the call only). A decorator whose after-work is only a `finally`, a log or a timing is not
        reported until something in the project applies it to a coroutine function (sync-only helpers such
        as lock or signal guards are common and harmless); a tracing decorator is not reported in a
        project without any `async def`.
    """
    example = """
        import functools
        import logging
        import time

        log = logging.getLogger(__name__)


        def timed(fn):
            @functools.wraps(fn)
            def wrapper(*args, **kwargs):
                start = time.perf_counter()
                result = fn(*args, **kwargs)
                log.info("%s took %.3fs", fn.__name__, time.perf_counter() - start)
                return result
            return wrapper
    """
    use_instead = """
        import functools
        import inspect
        import logging
        import time

        log = logging.getLogger(__name__)


        def timed(fn):
            if inspect.iscoroutinefunction(fn):
                @functools.wraps(fn)
                async def _async_wrapper(*args, **kwargs):
                    start = time.perf_counter()
                    result = await fn(*args, **kwargs)
                    log.info("%s took %.3fs", fn.__name__, time.perf_counter() - start)
                    return result
                return _async_wrapper

            @functools.wraps(fn)
            def wrapper(*args, **kwargs):
                start = time.perf_counter()
                result = fn(*args, **kwargs)
                log.info("%s took %.3fs", fn.__name__, time.perf_counter() - start)
                return result
            return wrapper
    """
    fix_safety = """
        Unsafe, the same async-branch rewrite as PRP401 (same conditions: one `fn(...)` call and
        `return wrapper` right after the wrapper): it changes the decorator for every user.
    """
    VALID = (
        Valid(_TIMED),
        Valid(_TIMED, files=_ASYNC_FILE),
        Valid("import sys\n\nif sys.version_info >= (3, 11):\n    def helper(fn):\n        def inner():\n"
              "            try:\n                return fn()\n            finally:\n                pass\n"
              "        return inner\n", files=_ASYNC_FILE),
        Valid(_TIMED.replace("def timed(fn):\n", "def timed(fn):\n    if inspect.iscoroutinefunction(fn):\n"
                             "        return _timed_async(fn)\n"), files=_ASYNC_FILE),
        Valid("import functools\n\n\ndef login_required(fn):\n    @functools.wraps(fn)\n"
              "    def wrapper(*args, **kwargs):\n"
              "        check_user()\n        return fn(*args, **kwargs)\n    return wrapper\n", files=_ASYNC_FILE),
    )
    INVALID = (
        Invalid(_TIMED, fixed=_TIMED_FIXED, unsafe=True, files=_APPLIED),
        Invalid("import functools\n\n\ndef traced(fn):\n    @functools.wraps(fn)\n    def wrapper(*args, **kwargs):\n"
                "        with tracer.start_as_current_span(fn.__name__):\n            return fn(*args, **kwargs)\n"
                "    return wrapper\n", files=_ASYNC_FILE),
        Invalid("import logging\n\n\ndef audited(fn):\n    def wrapper(request):\n        try:\n"
                "            return fn(request)\n"
                "        finally:\n            audit_log.write('done')\n    return wrapper\n\n\n@audited\n"
                "async def view(request):\n"
                "    pass\n",
                fixed="import logging\nimport functools\nimport inspect\n\n\ndef audited(fn):\n"
                      "    if inspect.iscoroutinefunction(fn):\n"
                      "        @functools.wraps(fn)\n        async def _async_wrapper(request):\n            try:\n"
                      "                return await fn(request)\n            finally:\n"
                      "                audit_log.write('done')\n"
                      "        return _async_wrapper\n\n    def wrapper(request):\n        try:\n"
                      "            return fn(request)\n"
                      "        finally:\n            audit_log.write('done')\n    return wrapper\n\n\n@audited\n"
                      "async def view(request):\n"
                      "    pass\n",
                unsafe=True),
    )
