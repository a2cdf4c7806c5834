"""Rule declarations PRP402-PRP406 of the hygiene family (bound to the check in `hygiene.py`)."""

from __future__ import annotations

from proplint.core.rule import Invalid, Rule, Valid


class ContextVarNotModuleLevel(Rule):
    code = "PRP402"
    name = "contextvar-not-module-level"
    summary = "`contextvars.ContextVar(...)` is created inside a function, method, lambda or closure."
    fix = "unsafe"
    what_it_does = """
        Finds `contextvars.ContextVar(...)` (through any alias, `ContextVar[str](...)` included) evaluated
        inside a function, method, lambda or closure: a factory, a request path, a `disconnect`/`reset` method.
    """
    why = """
        Python's documentation: "Context Variables should be created at the top module level and never in
        closures. Context objects hold strong references to context variables which prevents context
        variables from being properly garbage collected." It is also wrong at run time: every call makes a
        new variable, so a value set through one instance is invisible through the next (`unset`), and a
        request id or tenant set by a middleware never reaches the code that reads "the same" variable.
    """
    already_propagated = """
        Variables made once are not findings: at module level, in a class body at module level, in a
        comprehension at module level, in a default argument of a top-level def or method, stored once per
        key in a module-level mapping (`_VARS[key] = ContextVar(key)`, `_VARS.setdefault(key,
        ContextVar(key))`), returned by a function cached with `functools.cache` / `lru_cache`, or assigned
        to a name the function declares `global` (lazy creation). In `__init__`, the variable is reported
        only when the same module creates instances inside a function: a singleton held at module level,
        or a class whose instances proplint cannot see being made, is not reported.
    """
    example = """
        import contextvars


        def handle(request):
            request_id = contextvars.ContextVar("request_id", default=None)
            request_id.set(request.headers.get("x-request-id"))
    """
    use_instead = """
        import contextvars

        request_id = contextvars.ContextVar("request_id", default=None)


        def handle(request):
            request_id.set(request.headers.get("x-request-id"))
    """
    fix_safety = """
        Opt-in (`--unsafe-fixes`): when every argument is a literal (the name string, `default=` a literal),
        the call moves to a module-level `_<name>_var = contextvars.ContextVar(...)` just above the top-level
        statement that contained it, and the call becomes that name. Unsafe because per-instance variables
        may be intentional (each instance of a class now shares one). No fix for non-literal arguments.
    """
    VALID = (
        Valid("import contextvars\n\nrequest_id = contextvars.ContextVar('request_id')\n\n\nclass Holder:\n"
              "    var = contextvars.ContextVar('holder')\n\n\n"
              "VARS = [contextvars.ContextVar(n) for n in ('a', 'b')]\n"),
        Valid("from contextvars import ContextVar\n\n_VARS: dict = {}\n\n\ndef var_for(key):\n"
              "    if key not in _VARS:\n"
              "        _VARS[key] = ContextVar(key)\n    return _VARS[key]\n\n\ndef other(key):\n"
              "    return _VARS.setdefault(key, ContextVar(key))\n"),
        Valid("import functools\nfrom contextvars import ContextVar\n\n\n@functools.lru_cache(maxsize=None)\n"
              "def var_for(key):\n    return ContextVar(key)\n"),
        Valid("from contextvars import ContextVar\n\n_var = None\n\n\ndef init():\n    global _var\n"
              "    if _var is None:\n"
              "        _var = ContextVar('lazy')\n"),
        Valid("from contextvars import ContextVar\n\n\nclass Registry:\n    def __init__(self):\n"
              "        self.current = ContextVar('current', default=None)\n\n\nregistry = Registry()\n"),
        Valid("from contextvars import ContextVar\n\n\nclass Runtime:\n    def __init__(self):\n"
              "        self._current = ContextVar('current_context')\n"),
        Valid("from contextvars import ContextVar\n\n\nclass Store:\n    def get(self, var=ContextVar('default')):\n"
              "        return var.get(None)\n"),
    )
    INVALID = (
        Invalid("import contextvars\n\n\ndef handle(request):\n    request_id = contextvars.ContextVar(\"request_id\", "
                "default=None)\n    request_id.set(request.id)\n",
                fixed="import contextvars\n\n\n_request_id_var = contextvars.ContextVar(\"request_id\", default=None)\n"
                      "\n\n"
                      "def handle(request):\n    request_id = _request_id_var\n    request_id.set(request.id)\n",
                unsafe=True),
        Invalid("import os\n\n\ndef factory():\n    from contextvars import ContextVar\n"
                "    return ContextVar('tenant')\n",
                fixed="import os\nimport contextvars\n\n\n_tenant_var = contextvars.ContextVar('tenant')\n\n\n"
                      "def factory():\n    from contextvars import ContextVar\n    return _tenant_var\n",
                unsafe=True),
        Invalid("from contextvars import ContextVar\n\n\nclass Client:\n    def disconnect(self):\n"
                "        self._ctx = ContextVar(f'client-{id(self)}')\n"),
        Invalid("from contextvars import ContextVar\n\n\nclass Session:\n    def __init__(self):\n"
                "        self.user = ContextVar('user')\n\n\ndef handle():\n    return Session()\n",
                fixed="from contextvars import ContextVar\n\n\n_user_var = ContextVar('user')\n\n\nclass Session:\n"
                      "    def __init__(self):\n        self.user = _user_var\n\n\ndef handle():\n"
                      "    return Session()\n",
                unsafe=True),
        Invalid("import contextvars\n\nmake = lambda: contextvars.ContextVar('x')\n"),
    )


class ThreadingLocalInAsync(Rule):
    code = "PRP403"
    name = "threading-local-in-async"
    summary = "`threading.local()` (or a subclass) is used in code that runs on an event loop."
    fix = "none"
    what_it_does = """
        Finds `threading.local()` and instances of its subclasses created in an `async def`, or in a module
        that has `async def`s or imports asyncio, anyio, trio, starlette, fastapi, aiohttp, quart, sanic or
        tornado; and, through the project index, attributes of a thread-local defined in another (sync)
        module read or written inside an `async def`.
    """
    why = """
        Every task on the event loop runs on the same thread, so they all share one `threading.local`.
        Measured: two concurrent handlers that stored the user in a thread-local both read `['bob', 'bob']`;
        the same code with a ContextVar returned `['alice', 'bob']`. Seed 004 asks for the same: contextvars,
        not thread-local storage, in async code.
    """
    already_propagated = """
        A thread-local in a module with no async code and no event-loop import is not reported, nor a
        `contextvars.ContextVar`. A thread-local that deliberately holds per-thread resources (a connection
        per executor worker) in an async module is reported: suppress it with `# noqa: PRP403`.
    """
    example = """
        import threading

        _state = threading.local()


        async def handle(request):
            _state.user = request.user
            return await render()
    """
    use_instead = """
        import contextvars

        current_user = contextvars.ContextVar("current_user", default=None)


        async def handle(request):
            current_user.set(request.user)
            return await render()
    """
    fix_safety = """
        No automatic fix: a ContextVar is read with `.get()` and written with `.set()`, not attributes, so
        every use changes. Replace the thread-local with a module-level ContextVar.
    """
    VALID = (
        Valid("import threading\n\n_local = threading.local()\n\n\ndef connection():\n    return _local.conn\n"),
        Valid("import contextvars\nimport asyncio\n\nuser = contextvars.ContextVar('user')\n\n\nasync def f():\n"
              "    user.set(1)\n    await asyncio.sleep(0)\n"),
        Valid("from app.state import _local\n\n\ndef sync_handler():\n    _local.user = 1\n",
              files={"app/__init__.py": "", "app/state.py": "import threading\n_local = threading.local()\n"},
              path="app/views.py"),
    )
    INVALID = (
        Invalid("import threading\n\n_state = threading.local()\n\n\nasync def handle(request):\n"
                "    _state.user = request.user\n"),
        Invalid("import threading\n\n\nasync def handle():\n    state = threading.local()\n    state.x = 1\n"),
        Invalid("import threading\nfrom fastapi import FastAPI\n\n\nclass RequestState(threading.local):\n"
                "    user = None\n\n\nstate = RequestState()\napp = FastAPI()\n"),
        Invalid("from app.state import _local\n\n\nasync def handler():\n    _local.user = 1\n    return _local.user\n",
                files={"app/__init__.py": "", "app/state.py": "import threading\n_local = threading.local()\n"},
                path="app/views.py"),
    )


class AttachWithoutDetach(Rule):
    code = "PRP404"
    name = "attach-without-detach"
    summary = "`opentelemetry.context.attach(...)` whose token is discarded or not detached on every path."
    fix = "sometimes safe"
    what_it_does = """
        Finds `opentelemetry.context.attach(ctx)` in a function when its token is discarded, assigned and
        never detached, or detached by a `detach(token)` that is not in a `finally` (skipped when the code
        in between raises).
    """
    why = """
        `attach` makes a context current on this thread until the token is detached. Without the detach the
        context outlives the job: on a pooled thread the next task's current span was still `request-A`
        (measured), which mis-parents unrelated work. A detach that an exception skips does the same.
    """
    already_propagated = """
        `detach(token)` in a `finally` (anywhere in the function); a token stored elsewhere (`self._token`,
        `request.state.token`), returned, yielded or passed to another call (a callback that detaches it):
        it is detached elsewhere. A setter helper whose last action is the `attach` (the context is meant to
        outlive the call), and an `attach` at module level (a script's process-wide context), are not
        reported.
    """
    example = """
        from opentelemetry import context, propagate


        def handle(message):
            context.attach(propagate.extract(message.headers))
            process(message)
    """
    use_instead = """
        from opentelemetry import context, propagate


        def handle(message):
            token = context.attach(propagate.extract(message.headers))
            try:
                process(message)
            finally:
                context.detach(token)

        # or, when the context came from extract:
        #     with tracer.start_as_current_span("handle", context=propagate.extract(message.headers)):
    """
    fix_safety = """
        Safe where the rest of the block is clear. A discarded (or never used) token: `token = attach(...)`
        and the rest of the function body moves into `try: ... finally: detach(token)`; only when the
        `attach` is a statement of the function body itself (so the rest of the block is the rest of the
        function), that rest is not empty and contains no `yield`, other `attach`/`detach`/`reset`. A detach
        outside `finally`: the statements between the attach and the detach move into the `try` and the
        detach into the `finally`. `detach` is imported from `opentelemetry.context` when the code imported
        `attach` by name. Otherwise the finding has no fix.
    """
    VALID = (
        Valid("from opentelemetry import context\n\n\ndef handle(ctx):\n    token = context.attach(ctx)\n    try:\n"
              "        work()\n    finally:\n        context.detach(token)\n"),
        Valid("from opentelemetry import context\n\n\nclass Job:\n    def __enter__(self):\n"
              "        self._token = context.attach(self.ctx)\n        return self\n\n    def __exit__(self, *exc):\n"
              "        context.detach(self._token)\n"),
        Valid("from opentelemetry.context import attach\n\n\ndef activate(ctx):\n    token = attach(ctx)\n"
              "    return token\n"),
        Valid("from opentelemetry import context, propagate\nimport os\n\n"
              "context.attach(propagate.extract(os.environ))\n"),
        Valid("from opentelemetry import context\n\n\ndef set_labeler(ctx):\n    try:\n        context.attach(ctx)\n"
              "    except Exception:\n        pass\n"),
        Valid("from opentelemetry.context import attach, detach\n\n\ndef handle(ctx, future):\n"
              "    token = attach(ctx)\n"
              "    future.add_done_callback(lambda _: detach(token))\n"),
        Valid("from opentelemetry.context import attach, detach\n\n\ndef handle(ctx):\n    token = None\n    try:\n"
              "        token = attach(ctx)\n        work()\n    finally:\n        if token is not None:\n"
              "            detach(token)\n"),
    )
    INVALID = (
        Invalid("from opentelemetry import context, propagate\n\n\ndef handle(message):\n"
                "    context.attach(propagate.extract(message.headers))  # adopt the caller's trace\n"
                "    process(message)\n    return True\n",
                fixed="from opentelemetry import context, propagate\n\n\ndef handle(message):\n"
                      "    token = context.attach(propagate.extract(message.headers))  # adopt the caller's trace\n"
                      "    try:\n        process(message)\n        return True\n    finally:\n"
                      "        context.detach(token)\n"),
        Invalid("from opentelemetry.context import attach, detach\n\n\ndef handle(ctx):\n    token = attach(ctx)\n"
                "    process()\n    detach(token)\n    log()\n",
                fixed="from opentelemetry.context import attach, detach\n\n\ndef handle(ctx):\n"
                      "    token = attach(ctx)\n"
                      "    try:\n        process()\n    finally:\n        detach(token)\n    log()\n"),
        Invalid("from opentelemetry.context import attach\n\n\ndef handle(ctx):\n    attach(ctx)\n    process()\n",
                fixed="from opentelemetry.context import detach, attach\n\n\ndef handle(ctx):\n"
                      "    token = attach(ctx)\n"
                      "    try:\n        process()\n    finally:\n        detach(token)\n"),
        Invalid("from opentelemetry import context\n\n\ndef handle(ctx, enabled):\n    if enabled:\n"
                "        context.attach(ctx)\n    process()\n"),
    )


class CurrentSpanPassedToTask(Rule):
    code = "PRP405"
    name = "current-span-passed-to-task"
    summary = "The current span is passed by hand to a task (`create_task`, `ensure_future`, `start_soon`)."
    fix = "none"
    what_it_does = """
        Finds `asyncio.create_task(work(span))`, `asyncio.ensure_future(...)`, `TaskGroup.create_task(...)`,
        `loop.create_task(...)` and anyio's `tg.start_soon(work, span)` when an argument is
        `trace.get_current_span()`, `context.get_current()`, a name assigned from one of them, or the span
        bound by an enclosing `with tracer.start_as_current_span(...) as span:`.
    """
    why = """
        A task runs in a copy of the context current when it was created: inside it,
        `trace.get_current_span()` already returns that span and new spans are its children (seed 000,
        section 3: "DON'T DO THIS - unnecessary in asyncio!"). The extra parameter is noise, and code that
        re-activates it by hand (`use_span(span, end_on_exit=...)`) risks ending the caller's span.
    """
    already_propagated = """
        A span that is not the current one is fine to pass: from `tracer.start_span(...)` (also as
        `with tracer.start_span(...) as span`), or a `with ... as span` whose block ended before the task
        was created. Threads are another matter (PRP2xx): they do not copy the context.
    """
    example = """
        import asyncio

        from opentelemetry import trace


        async def api_handler():
            span = trace.get_current_span()
            asyncio.create_task(background_work(span))
    """
    use_instead = """
        import asyncio


        async def api_handler():
            asyncio.create_task(background_work())   # trace.get_current_span() inside is the same span
    """
    fix_safety = """
        No automatic fix: removing the argument also changes the coroutine's signature.
    """
    VALID = (
        Valid("import asyncio\n\n\nasync def handler():\n    with tracer.start_as_current_span('api'):\n"
              "        asyncio.create_task(work())\n"),
        Valid("import asyncio\n\n\nasync def handler():\n    with tracer.start_span('batch') as span:\n"
              "        asyncio.create_task(work(span))\n"),
        Valid("import asyncio\n\n\nasync def handler():\n    with tracer.start_as_current_span('api') as span:\n"
              "        pass\n    asyncio.create_task(work(span))\n"),
    )
    INVALID = (
        Invalid("import asyncio\nfrom opentelemetry import trace\n\n\nasync def api_handler():\n"
                "    span = trace.get_current_span()\n    asyncio.create_task(background_work(span))\n"),
        Invalid("import asyncio\n\n\nasync def handler():\n    with tracer.start_as_current_span('api') as span:\n"
                "        async with asyncio.TaskGroup() as tg:\n            tg.create_task(work(1, parent=span))\n"),
        Invalid("from opentelemetry import trace\n\n\nasync def handler(tg):\n"
                "    tg.start_soon(work, trace.get_current_span())\n"),
    )


_FLASK = ("from contextvars import ContextVar\n\nfrom flask import Flask\n\napp = Flask(__name__)\n"
          "request_user = ContextVar(\"request_user\", default=None)\n\n\n")
_OPT_IN = {"select": ["PRP406"]}


class ContextVarSetWithoutReset(Rule):
    code = "PRP406"
    name = "contextvar-set-without-reset"
    summary = "`ContextVar.set(...)` with its token discarded, in code that runs on pooled threads."
    fix = "sometimes safe"
    default_enabled = False
    what_it_does = """
        Finds `<var>.set(value)` on a known ContextVar (module-level in this file, or found by the project
        index) whose token is discarded (or assigned and never used), in a sync function that runs on a
        pooled thread or a reused worker: a Flask route (`@app.route`, `@bp.get`, ...), a Celery
        (`@app.task`, `@shared_task`) or Dramatiq task, a Django class-based view method, a WSGI
        application `(environ, start_response)`, or a function this module hands to
        `ThreadPoolExecutor.submit` / `map` or `loop.run_in_executor`.
    """
    why = """
        A pooled thread runs every job in the same context, so a value set and never reset is still there
        when the next job starts: measured, the next task on the same pooled thread saw the previous
        request's user (`alice`). Off by default because setter helpers persist values on purpose.
    """
    already_propagated = """
        `var.reset(token)` in a `finally`; a token that is stored, returned or passed on; jobs run through
        `contextvars.copy_context().run` (`submit(ctx.run, fn)`), `asyncio.to_thread`, `anyio.to_thread` or
        Starlette's `run_in_threadpool` (they run in a copy, so nothing leaks); `async def` code.
    """
    example = """
        from contextvars import ContextVar

        from flask import Flask

        app = Flask(__name__)
        request_user = ContextVar("request_user", default=None)


        @app.route("/orders")
        def orders():
            request_user.set(current_user())
            return list_orders()
    """
    use_instead = """
        @app.route("/orders")
        def orders():
            _token = request_user.set(current_user())
            try:
                return list_orders()
            finally:
                request_user.reset(_token)
    """
    fix_safety = """
        Safe where the rest of the block is clear: when the `set` is a statement of the function body itself
        and the rest of the body is not empty and has no `yield`, `attach`, `detach` or `reset`, the token is
        kept (`_token = var.set(...)`) and the rest of the body moves into `try: ... finally:
        var.reset(_token)`. Otherwise no fix.
    """
    VALID = (
        Valid(_FLASK + "@app.route(\"/orders\")\ndef orders():\n    token = request_user.set(current_user())\n"
                       "    try:\n        return list_orders()\n    finally:\n        request_user.reset(token)\n",
              config=_OPT_IN),
        Valid(_FLASK + "def remember(user):\n    request_user.set(user)\n", config=_OPT_IN),
        Valid(_FLASK + "@app.route(\"/orders\")\nasync def orders():\n    request_user.set(1)\n    return []\n",
              config=_OPT_IN),
        Valid("import contextvars\nfrom concurrent.futures import ThreadPoolExecutor\n\n"
              "tenant = contextvars.ContextVar('tenant')\npool = ThreadPoolExecutor()\n\n\ndef job(t):\n"
              "    tenant.set(t)\n    work()\n\n\ndef submit(t):\n"
              "    pool.submit(contextvars.copy_context().run, job, t)\n",
              config=_OPT_IN),
    )
    INVALID = (
        Invalid(_FLASK + "@app.route(\"/orders\")\ndef orders():\n    request_user.set(current_user())\n"
                         "    return list_orders()\n",
                fixed=_FLASK + "@app.route(\"/orders\")\ndef orders():\n    _token = request_user.set(current_user())\n"
                               "    try:\n        return list_orders()\n    finally:\n"
                               "        request_user.reset(_token)\n",
                config=_OPT_IN),
        Invalid("import contextvars\nfrom concurrent.futures import ThreadPoolExecutor\n\n"
                "tenant = contextvars.ContextVar('tenant')\npool = ThreadPoolExecutor()\n\n\ndef job(t):\n"
                "    tenant.set(t)\n    work()\n\n\ndef submit(t):\n    pool.submit(job, t)\n",
                fixed="import contextvars\nfrom concurrent.futures import ThreadPoolExecutor\n\n"
                      "tenant = contextvars.ContextVar('tenant')\npool = ThreadPoolExecutor()\n\n\ndef job(t):\n"
                      "    _token = tenant.set(t)\n    try:\n        work()\n    finally:\n"
                      "        tenant.reset(_token)\n\n\n"
                      "def submit(t):\n    pool.submit(job, t)\n",
                config=_OPT_IN),
        Invalid("from celery import shared_task\nfrom app.ctx import tenant\n\n\n@shared_task\ndef rebuild(t):\n"
                "    if t:\n        tenant.set(t)\n    rebuild_index()\n",
                files={"app/__init__.py": "",
                       "app/ctx.py": "import contextvars\ntenant = contextvars.ContextVar('t')\n"},
                config=_OPT_IN, path="app/tasks.py"),
    )
