"""PRP201-PRP208: threads, timers, executors and process pools that lose the caller's context.

Catalog: `rules/threads.toml` (`[[thread_spawner]]`, `[[executor]]`, `[[executor_call]]`,
`[[process_spawner]]`, `[[context_safe]]`, `[[context_source]]`, `[[cross_thread_callback]]`,
`[[context_wrapper]]` for the exact expressions the fixes write, the `ThreadingInstrumentor` and the
thread_inherit_context launcher signal). The visitor is `threads_check.py`; what counts as "carries
the caller's context" is `threads_flow.py`; project facts and CST edits are `threads_support.py`.

A new thread runs in an empty `contextvars.Context` (before 3.14, and on 3.14 builds with the GIL by
default), and executor workers run every task in the worker's own context: the OpenTelemetry current
span is a ContextVar, so spans made there start new traces, and request ids or tenants are unset.
"""

from __future__ import annotations

from proplint.families.threads.threads_check import ThreadContextBase
from proplint.core.rule import Invalid, Rule, Valid

_PROPAGATED = """
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

_SERVICE = """
    A long-running *service thread* is not a finding: a thread whose target is a loop (`while True`,
    `while not self._stop.is_set()`, `for item in iter(queue.get, None)`; not a bounded `while i < n`)
    started once for the life of its owner: at import, from `__init__`, `__post_init__`, `__enter__`,
    `__aenter__`, `setup` or a method whose name begins with `start`, `ensure`, `serve` or `launch`
    (`_ensure_worker`), or kept on the instance (`self._thread = Thread(...)`). It outlives the request that
    happened to create it; copying that request's context would pin its trace to every later unit of
    work, so such threads should start with an empty context (and take a context, or a carrier, per work
    item). The same loop started from a request handler is reported.
"""

_THREADING_INSTRUMENTOR = "opentelemetry.instrumentation.threading"
_INSTRUMENTED = {"app/telemetry.py": f"from {_THREADING_INSTRUMENTOR} import ThreadingInstrumentor\n\n"
                                     "def setup():\n    ThreadingInstrumentor().instrument()\n"}
_REQUEST_ID = {"app/ctx.py": "import contextvars\n\nrequest_id = contextvars.ContextVar('request_id', default=None)\n"}


class ThreadWithoutContext(Rule):
    code = "PRP201"
    name = "thread-without-context"
    summary = "`threading.Thread(target=...)` runs its target without the caller's context."
    fix = "sometimes safe"
    what_it_does = """
        Finds `threading.Thread(...)` constructions (through any alias, and project subclasses that keep
        `Thread.run`) whose target, given by keyword or positionally, runs without a copy of the caller's
        context, and started `threading.Thread` subclasses that override `run()` without capturing one.
    """
    why = """
        A new thread starts with an empty `contextvars.Context` (always before Python 3.14; on 3.14 unless
        `thread_inherit_context` is on, which it is not by default on builds with the GIL). The
        OpenTelemetry current span lives in a ContextVar, so every span the thread makes is a new root
        trace, and the request id or tenant the caller set is unset in the thread.
    """
    already_propagated = _PROPAGATED + _SERVICE
    example = """
        import threading

        def handle(order):
            with tracer.start_as_current_span("handle"):
                threading.Thread(target=send_receipt, args=(order,), daemon=True).start()
    """
    use_instead = """
        import contextvars
        import threading

        def handle(order):
            with tracer.start_as_current_span("handle"):
                threading.Thread(target=contextvars.copy_context().run, args=(send_receipt, order),
                                 daemon=True).start()

        # target-version = "py314" or later:
        threading.Thread(target=send_receipt, args=(order,), context=contextvars.copy_context())
    """
    fix_safety = """
        Safe. `target=fn, args=(a, b)` becomes `target=contextvars.copy_context().run, args=(fn, a, b)`:
        the target is moved (not re-evaluated) into the arguments, a non-literal `args=x` becomes
        `args=(fn, *x)`, `kwargs=` is kept as it is (`Context.run` forwards keyword arguments), and
        `import contextvars` is added when missing. With `target-version = "py314"` or later the fix
        passes `context=contextvars.copy_context()` instead. The copy is taken when the thread is created
        (the 3.14 flag copies at `start()`); the difference only shows when the caller changes its
        ContextVars between the two. No fix when a `*args`/`**kwargs` argument may hold the target or
        `args`, for a subclass that overrides `__init__`, or for a subclass overriding `run()` (capture
        the context in `__init__`/`start()` and run the body inside it).
    """
    VALID = (
        Valid("import contextvars\nimport threading\n\ndef handle(work):\n"
              "    threading.Thread(target=contextvars.copy_context().run, args=(work,)).start()\n"),
        Valid("import contextvars\nfrom threading import Thread\n\ndef handle(work):\n"
              "    func = contextvars.copy_context().run\n    Thread(target=func, args=(work,)).start()\n"),
        Valid("import contextvars, functools, threading\n\ndef handle(work):\n    ctx = contextvars.copy_context()\n"
              "    threading.Thread(target=functools.partial(ctx.run, work)).start()\n"),
        Valid("import contextvars, threading\n\ndef handle(work):\n    ctx = contextvars.copy_context()\n\n"
              "    def job():\n        ctx.run(work)\n\n    threading.Thread(target=job).start()\n"
              "    threading.Thread(target=lambda: ctx.run(work)).start()\n"),
        Valid("import contextvars, threading\n\ndef handle(work):\n"
              "    threading.Thread(target=work, context=contextvars.copy_context()).start()\n",
              config={"target-version": "py314"}),
        Valid("import threading\n\nclass Poller:\n    def __init__(self):\n        self._stop = threading.Event()\n"
              "        threading.Thread(target=self._loop, daemon=True).start()\n\n    def _loop(self):\n"
              "        while not self._stop.is_set():\n            self._stop.wait(5)\n"),
        Valid("from svc.threads import Thread\n\ndef handle(work):\n    Thread(target=work).start()\n",
              files={"svc/threads.py": "import contextvars\nimport threading\n\nclass Thread(threading.Thread):\n"
                                       "    def start(self):\n        self._ctx = contextvars.copy_context()\n"
                                       "        super().start()\n\n    def run(self):\n"
                                       "        self._ctx.run(super().run)\n"}),
        Valid("import threading\n\ndef handle(work):\n    threading.Thread(target=work).start()\n",
              files=_INSTRUMENTED),
        Valid("import threading\n\ndef handle(work):\n    threading.Thread(target=work).start()\n",
              files={"Dockerfile": 'CMD ["opentelemetry-instrument", "python", "-m", "app"]\n',
                     "requirements.txt": "opentelemetry-instrumentation-threading==0.48b0\n"}),
        Valid("from threading import Thread\n\ndef parent_operation():\n"
              "    with tracer.start_as_current_span('parent') as span:\n"
              "        thread = Thread(target=child_operation, args=(span,))\n        thread.start()\n"),
        Valid("import contextvars, threading\n\nclass Worker(threading.Thread):\n    def __init__(self):\n"
              "        super().__init__()\n        self._ctx = contextvars.copy_context()\n\n    def run(self):\n"
              "        self._ctx.run(work)\n\ndef handle():\n    Worker().start()\n"),
        Valid("import threading\n\nclass Worker(threading.Thread):\n    def run(self):\n        work()\n\n"
              "def build():\n    w = Worker()\n    w.name = 'unused'\n"),
    )
    INVALID = (
        Invalid("import threading\n\ndef handle(work, a, b):\n"
                "    threading.Thread(target=work, args=(a, b), kwargs={'x': 1}, daemon=True).start()\n",
                fixed="import threading\nimport contextvars\n\ndef handle(work, a, b):\n"
                      "    threading.Thread(target=contextvars.copy_context().run, args=(work, a, b), "
                      "kwargs={'x': 1}, daemon=True).start()\n"),
        Invalid("from threading import Thread as T\n\ndef handle(work):\n    T(None, work).start()\n",
                fixed="from threading import Thread as T\nimport contextvars\n\ndef handle(work):\n"
                      "    T(None, contextvars.copy_context().run, args=(work,)).start()\n"),
        Invalid("import threading\n\ndef handle(work, extra):\n    t = threading.Thread(\n"
                "        target=work,  # the job\n        args=extra,\n    )\n    t.start()\n",
                fixed="import threading\nimport contextvars\n\ndef handle(work, extra):\n    t = threading.Thread(\n"
                      "        target=contextvars.copy_context().run,  # the job\n        args=(work, *extra),\n"
                      "    )\n    t.start()\n"),
        Invalid("import threading\n\ndef handle(work):\n    threading.Thread(target=work, daemon=True).start()\n",
                fixed="import threading\nimport contextvars\n\ndef handle(work):\n"
                      "    threading.Thread(target=work, daemon=True, context=contextvars.copy_context()).start()\n",
                config={"target-version": "py314"}),
        Invalid("import threading\n\ndef handle(work):\n    threading.Thread(target=work).start()\n",
                files={**_INSTRUMENTED, **_REQUEST_ID}),
        Invalid("import threading\n\nclass Poller:\n    def poll_now(self):\n"
                "        threading.Thread(target=self._loop).start()\n\n    def _loop(self):\n        while True:\n"
                "            self.tick()\n"),
        Invalid("import threading\n\nclass Worker(threading.Thread):\n    def run(self):\n        work()\n\n"
                "def handle():\n    Worker().start()\n"),
        Invalid("from svc.threads import Thread\n\ndef handle(work):\n    Thread(target=work).start()\n",
                fixed="from svc.threads import Thread\nimport contextvars\n\ndef handle(work):\n"
                      "    Thread(target=contextvars.copy_context().run, args=(work,)).start()\n",
                files={"svc/threads.py": "import threading\n\nclass Thread(threading.Thread):\n    daemon = True\n"}),
    )


class TimerWithoutContext(Rule):
    code = "PRP202"
    name = "timer-without-context"
    summary = "`threading.Timer(interval, fn)` runs `fn` without the caller's context."
    fix = "sometimes safe"
    what_it_does = """
        Finds `threading.Timer(interval, function, args=None, kwargs=None)` constructions whose function
        (positional or `function=`) runs without a copy of the caller's context.
    """
    why = """
        `Timer` is a `Thread` subclass: the function runs later, on a new thread, in an empty context. Spans
        it makes start new traces; the caller's ContextVars are unset.
    """
    already_propagated = _PROPAGATED
    example = """
        import threading

        def schedule_retry(job):
            threading.Timer(5.0, retry, args=(job,)).start()
    """
    use_instead = """
        import contextvars
        import threading

        def schedule_retry(job):
            threading.Timer(5.0, contextvars.copy_context().run, args=(retry, job)).start()
    """
    fix_safety = """
        Safe. `Timer(interval, fn, args=(a,), kwargs=kw)` becomes `Timer(interval,
        contextvars.copy_context().run, args=(fn, a), kwargs=kw)`; a non-literal `args=x` becomes
        `args=(fn, *x)` (so `args` must not be `None` at run time; a literal `None` becomes `(fn,)`), and
        `import contextvars` is added. No fix when a `*`/`**` argument may hold the function or `args`.
    """
    VALID = (
        Valid("import contextvars, threading\n\ndef later(fn):\n"
              "    threading.Timer(5, contextvars.copy_context().run, args=(fn,)).start()\n"),
        Valid("import threading\n\ndef later(fn):\n    threading.Timer(5, fn).start()\n", files=_INSTRUMENTED),
    )
    INVALID = (
        Invalid("import threading\n\ndef later(fn, a, kw):\n    threading.Timer(5, fn, args=(a,), kwargs=kw).start()\n",
                fixed="import threading\nimport contextvars\n\ndef later(fn, a, kw):\n"
                      "    threading.Timer(5, contextvars.copy_context().run, args=(fn, a), kwargs=kw).start()\n"),
        Invalid("from threading import Timer\n\ndef later(fn):\n    Timer(interval=1.0, function=fn).start()\n",
                fixed="from threading import Timer\nimport contextvars\n\ndef later(fn):\n"
                      "    Timer(interval=1.0, function=contextvars.copy_context().run, args=(fn,)).start()\n"),
        Invalid("import threading\n\ndef later(fn):\n    threading.Timer(5, fn).start()\n",
                files={**_INSTRUMENTED, **_REQUEST_ID}),
    )


class ExecutorWithoutContext(Rule):
    code = "PRP203"
    name = "executor-without-context"
    summary = "`submit` / `map` on a thread pool runs the function without the caller's context."
    fix = "sometimes safe"
    what_it_does = """
        Finds `submit(fn, ...)` and `map(fn, ...)` on a thread pool (`concurrent.futures.ThreadPoolExecutor`,
        project subclasses, and the other thread pools of the catalog). The receiver's type is inferred
        from a constructor call, `with ThreadPoolExecutor() as pool`, `self._executor = ...` in the class,
        or an annotation; calls on receivers of unknown type are not reported.
    """
    why = """
        Pool workers run every task in the worker thread's own context, never the submitter's (no Python
        version copies per task, 3.14 included). Spans made in the task start new traces, and a ContextVar
        a task sets leaks into the next task on the same worker.
    """
    already_propagated = _PROPAGATED + """
    For `map`, the function must copy per item: a single `copy_context()` shared by concurrent items raises
    `RuntimeError: cannot enter context` (that is PRP205). The fixed form below (and a lambda over
    pre-captured per-item contexts, `map(lambda c, x: c.run(fn, x), [copy_context() for _ in xs], xs)`)
    counts as propagated.
    """
    example = """
        from concurrent.futures import ThreadPoolExecutor

        def enrich(items):
            with ThreadPoolExecutor(max_workers=8) as pool:
                future = pool.submit(load, items[0], timeout=5)
                return list(pool.map(enrich_one, items))
    """
    use_instead = """
        import contextvars
        import functools
        from concurrent.futures import ThreadPoolExecutor

        def enrich(items):
            with ThreadPoolExecutor(max_workers=8) as pool:
                future = pool.submit(contextvars.copy_context().run, load, items[0], timeout=5)
                return list(pool.map(functools.partial(lambda _c, _f, *_a: _c.copy().run(_f, *_a),
                                                       contextvars.copy_context(), enrich_one), items))
    """
    fix_safety = """
        Safe. `pool.submit(fn, *args, **kwargs)` becomes `pool.submit(contextvars.copy_context().run, fn,
        *args, **kwargs)`: the expression is evaluated on every call, so every task gets its own copy, even
        in a loop. `pool.map(fn, items)` becomes `pool.map(functools.partial(lambda _c, _f, *_a:
        _c.copy().run(_f, *_a), contextvars.copy_context(), fn), items)`: the caller's context is captured
        once, when `map` is called (it submits every item eagerly), and copied again for each item, so
        concurrent items never enter the same Context. `import contextvars` (and `functools`) are added.
        Other pool methods (`apply_async`, ...) are reported without a fix.
    """
    VALID = (
        Valid("import contextvars\nfrom concurrent.futures import ThreadPoolExecutor\n\ndef f(fn, a):\n"
              "    with ThreadPoolExecutor() as pool:\n        pool.submit(contextvars.copy_context().run, fn, a)\n"),
        Valid("import contextvars, functools\nfrom concurrent.futures import ThreadPoolExecutor\n\ndef f(fn, items):\n"
              "    with ThreadPoolExecutor(4) as pool:\n"
              "        return list(pool.map(functools.partial(lambda _c, _f, *_a: _c.copy().run(_f, *_a), "
              "contextvars.copy_context(), fn), items))\n"),
        Valid("import contextvars\nfrom concurrent.futures import ThreadPoolExecutor\n\ndef f(fn, items):\n"
              "    with ThreadPoolExecutor(4) as pool:\n"
              "        return list(pool.map(lambda c, x: c.run(fn, x), [contextvars.copy_context() for _ in items], "
              "items))\n"),
        Valid("from svc.pools import TracedPool\n\npool = TracedPool()\n\ndef f(fn):\n    pool.submit(fn)\n",
              files={"svc/pools.py": "import contextvars\nfrom concurrent.futures import ThreadPoolExecutor\n\n"
                                     "class TracedPool(ThreadPoolExecutor):\n    def submit(self, fn, /, *a, **k):\n"
                                     "        return super().submit(contextvars.copy_context().run, fn, *a, **k)\n"}),
        Valid("import asyncio\n\nasync def f(fn):\n    return await asyncio.to_thread(fn)\n"),
        Valid("def f(pool, fn):\n    pool.submit(fn)\n"),
        Valid("from concurrent.futures import ThreadPoolExecutor\n\npool = ThreadPoolExecutor()\n\ndef f(fn):\n"
              "    pool.submit(fn)\n", files=_INSTRUMENTED),
    )
    INVALID = (
        Invalid("from concurrent.futures import ThreadPoolExecutor\n\ndef f(fn, a):\n"
                "    with ThreadPoolExecutor() as pool:\n        pool.submit(fn, a, k=1)\n",
                fixed="from concurrent.futures import ThreadPoolExecutor\nimport contextvars\n\ndef f(fn, a):\n"
                      "    with ThreadPoolExecutor() as pool:\n"
                      "        pool.submit(contextvars.copy_context().run, fn, a, k=1)\n"),
        Invalid("import concurrent.futures as cf\n\nclass Service:\n    def __init__(self):\n"
                "        self._executor = cf.ThreadPoolExecutor(max_workers=4)\n\n    def handle(self, job):\n"
                "        return self._executor.submit(job)\n",
                fixed="import concurrent.futures as cf\nimport contextvars\n\nclass Service:\n    def __init__(self):\n"
                      "        self._executor = cf.ThreadPoolExecutor(max_workers=4)\n\n    def handle(self, job):\n"
                      "        return self._executor.submit(contextvars.copy_context().run, job)\n"),
        Invalid("from concurrent.futures import ThreadPoolExecutor\n\ndef f(pool: ThreadPoolExecutor, fn, items):\n"
                "    return list(pool.map(fn, items, timeout=5))\n",
                fixed="from concurrent.futures import ThreadPoolExecutor\nimport contextvars\nimport functools\n\n"
                      "def f(pool: ThreadPoolExecutor, fn, items):\n"
                      "    return list(pool.map(functools.partial(lambda _c, _f, *_a: _c.copy().run(_f, *_a), "
                      "contextvars.copy_context(), fn), items, timeout=5))\n"),
        Invalid("from concurrent.futures import ThreadPoolExecutor\n\npool = ThreadPoolExecutor()\n\ndef f(fn):\n"
                "    pool.submit(fn)\n", files={**_INSTRUMENTED, **_REQUEST_ID},
                fixed="from concurrent.futures import ThreadPoolExecutor\nimport contextvars\n\n"
                      "pool = ThreadPoolExecutor()\n\ndef f(fn):\n"
                      "    pool.submit(contextvars.copy_context().run, fn)\n"),
        Invalid("from multiprocessing.pool import ThreadPool\n\ndef f(fn, a):\n    with ThreadPool(2) as pool:\n"
                "        pool.apply_async(fn, (a,))\n"),
    )


class RunInExecutorWithoutContext(Rule):
    code = "PRP204"
    name = "run-in-executor-without-context"
    summary = "`loop.run_in_executor(executor, fn, ...)` runs `fn` without the caller's context."
    fix = "sometimes safe"
    what_it_does = """
        Finds `loop.run_in_executor(executor, func, *args)` when the executor is `None` (the loop's default
        thread pool), a thread pool, or of unknown type. With a process pool the call is PRP206.
    """
    why = """
        `run_in_executor` has no `context=` parameter and submits `func` to the executor as it is, so it
        runs in the worker thread's own context: spans there are new roots and the request's ContextVars
        are unset (cpython#78195, closed in favour of `asyncio.to_thread`).
    """
    already_propagated = _PROPAGATED
    example = """
        import asyncio

        async def render(doc):
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(None, to_pdf, doc)
    """
    use_instead = """
        import asyncio
        import contextvars

        async def render(doc):
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(None, contextvars.copy_context().run, to_pdf, doc)

        # or, when the executor is None and the call is awaited directly:
        async def render(doc):
            return await asyncio.to_thread(to_pdf, doc)
    """
    fix_safety = """
        `loop.run_in_executor(executor, fn, *args)` becomes `loop.run_in_executor(executor,
        contextvars.copy_context().run, fn, *args)`, and `import contextvars` is added. Safe when the
        executor is `None` or inferred to be a thread pool; unsafe when its type is unknown (a bound
        `Context.run` cannot be pickled, so the fix would break a process pool). `asyncio.to_thread` is
        only suggested in the message (executor `None`, call awaited directly): it returns a coroutine
        that does not start until awaited, while `run_in_executor` schedules at once.
    """
    VALID = (
        Valid("import asyncio, contextvars\n\nasync def f(fn):\n    loop = asyncio.get_running_loop()\n"
              "    return await loop.run_in_executor(None, contextvars.copy_context().run, fn)\n"),
        Valid("import asyncio\nfrom concurrent.futures import ProcessPoolExecutor\n\nasync def f(fn):\n"
              "    loop = asyncio.get_running_loop()\n"
              "    return await loop.run_in_executor(ProcessPoolExecutor(), fn)\n"),
        Valid("import asyncio\nfrom svc.pools import TracedPool\n\nasync def f(fn):\n"
              "    return await asyncio.get_running_loop().run_in_executor(TracedPool(), fn)\n",
              files={"svc/pools.py": "import contextvars\nfrom concurrent.futures import ThreadPoolExecutor\n\n"
                                     "class TracedPool(ThreadPoolExecutor):\n    def submit(self, fn, /, *a, **k):\n"
                                     "        ctx = contextvars.copy_context()\n"
                                     "        return super().submit(ctx.run, fn, *a, **k)\n"}),
        Valid("import asyncio\n\nasync def f(fn):\n"
              "    return await asyncio.get_running_loop().run_in_executor(None, fn)\n", files=_INSTRUMENTED),
    )
    INVALID = (
        Invalid("import asyncio\n\nasync def f(fn, a):\n    loop = asyncio.get_running_loop()\n"
                "    return await loop.run_in_executor(None, fn, a)\n",
                fixed="import asyncio\nimport contextvars\n\nasync def f(fn, a):\n"
                      "    loop = asyncio.get_running_loop()\n"
                      "    return await loop.run_in_executor(None, contextvars.copy_context().run, fn, a)\n"),
        Invalid("import asyncio\n\nclass Renderer:\n    async def render(self, doc):\n"
                "        return await self.loop.run_in_executor(self.pool, to_pdf, doc)\n",
                fixed="import asyncio\nimport contextvars\n\nclass Renderer:\n    async def render(self, doc):\n"
                      "        return await self.loop.run_in_executor(self.pool, contextvars.copy_context().run, "
                      "to_pdf, doc)\n", unsafe=True),
    )


class SharedContextObject(Rule):
    code = "PRP205"
    name = "shared-context-object"
    summary = "One `Context` object is entered by several concurrent threads or tasks."
    fix = "always safe"
    what_it_does = """
        Finds a Context made once (a name bound to `copy_context()`, `func = ctx.run`, a stored
        `functools.partial(ctx.run, ...)`, or a lambda / local `def` calling `ctx.run`) that is handed to
        more than one concurrent worker: a spawn inside a loop or comprehension that does not rebind it, or
        `map`, which calls the function for every item.
    """
    why = """
        `Context.run` raises `RuntimeError: cannot enter context: <Context> is already entered` when the
        Context is already entered in another thread. The first worker runs, the others fail; under load
        it looks like a random crash. Sharing one Context also lets one task's `ContextVar.set` leak into
        the others.
    """
    already_propagated = """
    - A fresh copy per worker: `contextvars.copy_context().run` evaluated at each spawn, `ctx.copy().run`,
      a name bound to `copy_context()` inside the loop, `lambda *a: ctx.copy().run(fn, *a)`, and the
      per-item `functools.partial(lambda _c, ...: _c.copy().run(...), contextvars.copy_context(), fn)`.
    - One Context used by one worker (no loop, not `map`).
    """
    example = """
        import contextvars
        from concurrent.futures import ThreadPoolExecutor

        def fan_out(pool: ThreadPoolExecutor, jobs):
            ctx = contextvars.copy_context()
            return [pool.submit(ctx.run, job) for job in jobs]
    """
    use_instead = """
        import contextvars
        from concurrent.futures import ThreadPoolExecutor

        def fan_out(pool: ThreadPoolExecutor, jobs):
            ctx = contextvars.copy_context()
            return [pool.submit(ctx.copy().run, job) for job in jobs]
    """
    fix_safety = """
        Safe: every worker gets its own shallow copy of the same values, which is what the code meant.
        `ctx.run` becomes `ctx.copy().run` where it is evaluated once per worker (a spawn in a loop, the body
        of a lambda or local `def`). Where it is evaluated once for many calls (`map(ctx.run, ...)`, a stored
        `partial(ctx.run, fn)` or `func = ctx.run`), the value becomes `functools.partial(lambda _c, *_a,
        **_k: _c.copy().run(*_a, **_k), ctx, ...)`, which copies on every call.
    """
    VALID = (
        Valid("import contextvars\nfrom concurrent.futures import ThreadPoolExecutor\n\n"
              "def f(pool: ThreadPoolExecutor, jobs):\n    for job in jobs:\n        ctx = contextvars.copy_context()\n"
              "        pool.submit(ctx.run, job)\n"),
        Valid("import contextvars\nfrom concurrent.futures import ThreadPoolExecutor\n\n"
              "def f(pool: ThreadPoolExecutor, jobs):\n    ctx = contextvars.copy_context()\n"
              "    return [pool.submit(ctx.copy().run, job) for job in jobs]\n"),
        Valid("import contextvars, threading\n\ndef f(job):\n    ctx = contextvars.copy_context()\n"
              "    threading.Thread(target=ctx.run, args=(job,)).start()\n"),
        Valid("import contextvars, threading\n\ndef f(jobs):\n    for job in jobs:\n"
              "        threading.Thread(target=contextvars.copy_context().run, args=(job,)).start()\n"),
    )
    INVALID = (
        Invalid("import contextvars\nfrom concurrent.futures import ThreadPoolExecutor\n\n"
                "def f(pool: ThreadPoolExecutor, jobs):\n    ctx = contextvars.copy_context()\n"
                "    return [pool.submit(ctx.run, job) for job in jobs]\n",
                fixed="import contextvars\nfrom concurrent.futures import ThreadPoolExecutor\n\n"
                      "def f(pool: ThreadPoolExecutor, jobs):\n    ctx = contextvars.copy_context()\n"
                      "    return [pool.submit(ctx.copy().run, job) for job in jobs]\n"),
        Invalid("import contextvars\nfrom concurrent.futures import ThreadPoolExecutor\n\n"
                "def f(pool: ThreadPoolExecutor, fns):\n    ctx = contextvars.copy_context()\n"
                "    return list(pool.map(ctx.run, fns))\n",
                fixed="import contextvars\nfrom concurrent.futures import ThreadPoolExecutor\nimport functools\n\n"
                      "def f(pool: ThreadPoolExecutor, fns):\n    ctx = contextvars.copy_context()\n"
                      "    return list(pool.map(functools.partial(lambda _c, *_a, **_k: _c.copy().run(*_a, **_k), "
                      "ctx), fns))\n"),
        Invalid("import contextvars, functools, threading\n\ndef f(work, items):\n"
                "    job = functools.partial(contextvars.copy_context().run, work)\n    for item in items:\n"
                "        threading.Thread(target=job, args=(item,)).start()\n",
                fixed="import contextvars, functools, threading\n\ndef f(work, items):\n"
                      "    job = functools.partial(lambda _c, *_a, **_k: _c.copy().run(*_a, **_k), "
                      "contextvars.copy_context(), work)\n    for item in items:\n"
                      "        threading.Thread(target=job, args=(item,)).start()\n"),
        Invalid("import asyncio, contextvars\n\nasync def f(fns):\n    ctx = contextvars.copy_context()\n"
                "    await asyncio.gather(*(asyncio.to_thread(lambda: ctx.run(fn)) for fn in fns))\n",
                fixed="import asyncio, contextvars\n\nasync def f(fns):\n    ctx = contextvars.copy_context()\n"
                      "    await asyncio.gather(*(asyncio.to_thread(lambda: ctx.copy().run(fn)) for fn in fns))\n"),
    )


class ProcessBoundaryWithoutCarrier(Rule):
    code = "PRP206"
    name = "process-boundary-without-carrier"
    summary = "Work is sent to another process without a trace carrier."
    fix = "none"
    what_it_does = """
        Finds work sent across a process boundary: `submit`/`map` on `concurrent.futures.ProcessPoolExecutor`
        (and `InterpreterPoolExecutor`), `multiprocessing.Process(target=...)` (also from
        `multiprocessing.get_context(...)`), `multiprocessing.Pool` `apply_async`/`map`/`starmap`/`imap`/...,
        and `loop.run_in_executor` with a process pool, when no argument carries a carrier filled by an
        injector (`opentelemetry.propagate.inject`, a propagator's `inject`, or a configured helper).
    """
    why = """
        Neither contextvars nor the OpenTelemetry context cross a process boundary: a `Context` cannot be
        pickled, spawn/forkserver children start empty, and fork children keep a stale snapshot from when
        the worker forked (the second task sees the first request's values). Spans in the worker are new
        roots or, worse, children of the wrong request.
    """
    already_propagated = """
    - An argument (directly, inside `args=`, a tuple, a dict or a comprehension) is, or was built from, a
      carrier filled by `opentelemetry.propagate.inject(carrier)` / `TraceContextTextMapPropagator().inject`
      or returned by a configured injector. proplint does not look into the callee; it must `extract` it.
    """
    example = """
        from concurrent.futures import ProcessPoolExecutor

        def render_all(pool: ProcessPoolExecutor, docs):
            return [pool.submit(render, doc) for doc in docs]
    """
    use_instead = """
        from concurrent.futures import ProcessPoolExecutor
        from opentelemetry import propagate, trace

        def render_all(pool: ProcessPoolExecutor, docs):
            carrier = {}
            propagate.inject(carrier)
            return [pool.submit(render, doc, carrier) for doc in docs]

        def render(doc, carrier):
            with tracer.start_as_current_span("render", context=propagate.extract(carrier)):
                ...
    """
    fix_safety = """
        No automatic fix: the callee's signature has to change to receive the carrier, and it has to call
        `extract`. The message says what to pass.
    """
    VALID = (
        Valid("from concurrent.futures import ProcessPoolExecutor\nfrom opentelemetry import propagate\n\n"
              "def f(pool: ProcessPoolExecutor, job, payload):\n    carrier = {}\n    propagate.inject(carrier)\n"
              "    return pool.submit(job, payload, carrier)\n"),
        Valid("import multiprocessing\nfrom opentelemetry.propagate import inject\n\ndef f(job):\n"
              "    headers = {}\n    inject(headers)\n"
              "    multiprocessing.Process(target=job, kwargs={'carrier': headers}).start()\n"),
        Valid("from concurrent.futures import ThreadPoolExecutor\nimport contextvars\n\ndef f(job):\n"
              "    with ThreadPoolExecutor() as pool:\n        pool.submit(contextvars.copy_context().run, job)\n"),
    )
    INVALID = (
        Invalid("from concurrent.futures import ProcessPoolExecutor\n\ndef f(docs):\n"
                "    with ProcessPoolExecutor() as pool:\n        return list(pool.map(render, docs))\n"),
        Invalid("import multiprocessing as mp\n\ndef f(job):\n    mp.Process(target=job, args=(1,)).start()\n"),
        Invalid("import multiprocessing\n\ndef f(job):\n    ctx = multiprocessing.get_context('spawn')\n"
                "    ctx.Process(target=job).start()\n"),
        Invalid("import multiprocessing\n\ndef f(job, items):\n    with multiprocessing.Pool(4) as pool:\n"
                "        pool.apply_async(job, (items,))\n"),
        Invalid("import asyncio\nfrom concurrent.futures import ProcessPoolExecutor\n\nasync def f(job):\n"
                "    pool = ProcessPoolExecutor()\n"
                "    return await asyncio.get_running_loop().run_in_executor(pool, job)\n"),
    )


class ReliesOnThreadInheritContext(Rule):
    code = "PRP207"
    name = "relies-on-thread-inherit-context"
    summary = "A thread relies on Python 3.14's `thread_inherit_context` flag where it can be off."
    fix = "none"
    what_it_does = """
        Finds threads that rely on `sys.flags.thread_inherit_context` (3.14: a new thread starts with a copy
        of the context of the caller of `start()`) instead of passing a context: `Thread(...,
        context=None)`, and `Thread`/`Timer` constructions or `Thread` subclasses without an explicit context
        in a project that turns the flag on (`-X thread_inherit_context=1` or
        `PYTHON_THREAD_INHERIT_CONTEXT=1` in a launcher or env file, or code that reads or sets it), when
        `target-version` includes builds where the flag is off. Where this rule applies, it replaces
        PRP201/PRP202 for that thread.
    """
    why = """
        The flag is new in 3.14, defaults on only for free-threaded builds (`3.14t`), and off on the default
        builds with the GIL; before 3.14 it does not exist. The same program keeps the trace on one
        interpreter and loses it on another. It also does not help executors: pool workers are started by
        the first `submit()` calls and keep that caller's context for every later task (PRP203 says so).
    """
    already_propagated = """
    - An explicit context: `context=contextvars.copy_context()` (3.14+) or `target=contextvars.copy_context().run`.
    - The flag is set in a launcher or env file and `target-version` is `py314` or later: every supported
      interpreter then runs with it on, and nothing is reported.
    """
    example = """
        # Dockerfile: ENV PYTHON_THREAD_INHERIT_CONTEXT=1; pyproject: target-version = "py311"
        import threading

        def handle(job):
            threading.Thread(target=job).start()
    """
    use_instead = """
        import contextvars
        import threading

        def handle(job):
            threading.Thread(target=contextvars.copy_context().run, args=(job,)).start()
    """
    fix_safety = """
        No automatic fix: the code was written for the flag, so the right explicit form depends on whether
        the thread should see the caller's context (`copy_context()`) or start empty (`Context()`). The
        message names the explicit form.
    """
    _FLAG_ON = {"Dockerfile": "FROM python:3.14\nENV PYTHON_THREAD_INHERIT_CONTEXT=1\n"
                              "CMD [\"python\", \"-m\", \"app\"]\n"}
    VALID = (
        Valid("import threading\n\ndef handle(job):\n    threading.Thread(target=job).start()\n",
              config={"target-version": "py314"}, files=_FLAG_ON),
        Valid("import contextvars, threading\n\ndef handle(job):\n"
              "    threading.Thread(target=contextvars.copy_context().run, args=(job,)).start()\n", files=_FLAG_ON),
        Valid("import threading\n\ndef handle(job):\n    threading.Thread(target=job).start()\n"),
    )
    INVALID = (
        Invalid("import threading\n\ndef handle(job):\n    threading.Thread(target=job).start()\n", files=_FLAG_ON),
        Invalid("import threading\n\ndef handle(job):\n    threading.Thread(target=job, context=None).start()\n",
                config={"target-version": "py314"}),
        Invalid("import sys, threading\n\nassert sys.flags.thread_inherit_context\n\ndef handle(job):\n"
                "    threading.Timer(1, job).start()\n", config={"target-version": "py314"}),
    )


class CrossThreadLoopCallback(Rule):
    code = "PRP208"
    name = "cross-thread-loop-callback"
    summary = "A worker thread schedules work on an event loop in its own, empty, context."
    fix = "sometimes safe"
    what_it_does = """
        Finds `loop.call_soon_threadsafe(cb, ...)` without `context=`, and
        `asyncio.run_coroutine_threadsafe(coro, loop)`, in a function used (in the same module) as the
        target of a thread, timer, executor or `run_in_executor` that is started without its creator's
        context, or in `run()` of a `Thread` subclass that does not capture one.
    """
    why = """
        The callback (and the task `run_coroutine_threadsafe` creates) runs in a copy of the *calling
        thread's* context. In a thread started without its creator's context that is empty: the work on
        the loop starts new traces and sees none of the request's ContextVars. Once the thread itself runs
        in a copy of its creator's context (PRP201-PRP204 fixed), the default is right.
    """
    already_propagated = """
    - `context=` passed to `call_soon_threadsafe`.
    - The thread target runs in its creator's context (see PRP201's list), or is used only with
      context-safe APIs such as `asyncio.to_thread`.
    """
    example = """
        import threading

        def watch(loop, on_change):
            for change in poll_changes():
                loop.call_soon_threadsafe(on_change, change)

        def start(loop, on_change):
            threading.Thread(target=watch, args=(loop, on_change), daemon=True).start()
    """
    use_instead = """
        import contextvars
        import threading

        def watch(loop, on_change, ctx: contextvars.Context):
            for change in poll_changes():
                loop.call_soon_threadsafe(on_change, change, context=ctx)

        def start(loop, on_change):
            threading.Thread(target=watch, args=(loop, on_change, contextvars.copy_context()), daemon=True).start()
    """
    fix_safety = """
        Safe where `context=` is accepted (`call_soon_threadsafe`) and the function has a Context of its
        creator at hand: a parameter annotated `contextvars.Context`, or a name the enclosing function bound
        to one. Otherwise no fix (`run_coroutine_threadsafe` has no `context=`): copy the context where the
        thread is started.
    """
    VALID = (
        Valid("import contextvars, threading\n\ndef watch(loop, cb):\n    loop.call_soon_threadsafe(cb)\n\n"
              "def start(loop, cb):\n"
              "    threading.Thread(target=contextvars.copy_context().run, args=(watch, loop, cb)).start()\n"),
        Valid("import threading\n\ndef watch(loop, cb, ctx):\n    loop.call_soon_threadsafe(cb, context=ctx)\n\n"
              "def start(loop, cb):\n    threading.Thread(target=watch, args=(loop, cb)).start()\n"),
        Valid("import asyncio\n\ndef watch(loop, cb):\n    loop.call_soon_threadsafe(cb)\n\n"
              "async def start(loop, cb):\n    await asyncio.to_thread(watch, loop, cb)\n"),
    )
    INVALID = (
        Invalid("import threading\n\ndef watch(loop, cb):\n    loop.call_soon_threadsafe(cb)\n\n"
                "def start(loop, cb):\n    threading.Thread(target=watch, args=(loop, cb)).start()\n"),
        Invalid("import contextvars, threading\n\ndef watch(loop, cb, ctx: contextvars.Context):\n"
                "    loop.call_soon_threadsafe(cb)\n\ndef start(loop, cb):\n"
                "    threading.Thread(target=watch, args=(loop, cb, contextvars.copy_context())).start()\n",
                fixed="import contextvars, threading\n\ndef watch(loop, cb, ctx: contextvars.Context):\n"
                      "    loop.call_soon_threadsafe(cb, context=ctx)\n\ndef start(loop, cb):\n"
                      "    threading.Thread(target=watch, args=(loop, cb, contextvars.copy_context())).start()\n"),
        Invalid("import asyncio, threading\n\nclass Bridge(threading.Thread):\n    def __init__(self, loop):\n"
                "        super().__init__(daemon=True)\n        self.loop = loop\n\n    def run(self):\n"
                "        asyncio.run_coroutine_threadsafe(notify(), self.loop)\n"),
    )


class ThreadContextCheck(ThreadContextBase):
    rules = (ThreadWithoutContext, TimerWithoutContext, ExecutorWithoutContext, RunInExecutorWithoutContext,
             SharedContextObject, ProcessBoundaryWithoutCarrier, ReliesOnThreadInheritContext,
             CrossThreadLoopCallback)
    RULES = {r.code: r for r in rules}
