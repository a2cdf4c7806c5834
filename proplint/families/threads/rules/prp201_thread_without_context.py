"""PRP201 thread-without-context: `threading.Thread(target=...)` (and project subclasses) started without the
caller's context.

The message and fix of any lost "thread" spawn live here; the catalog's `[[thread_spawner]]` `code` picks the
rule that reports it (PRP202 for `threading.Timer`, a Thread subclass). Found by `check.py`
(`ThreadContextCheck.thread`, `.thread_subclass`); the fix's expressions are `[[context_wrapper]]` templates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from proplint.core.needs import Cond
from proplint.core.rule import SAFE, UNSAFE, Fix, Invalid, Rule, Valid
from proplint.families.threads.edits import append_keyword, context_wrapper, thread_call_fix
from proplint.families.threads.model import CONTEXT_KEYWORD, ThreadSpawner
from proplint.families.threads.needs import reported_by_entries
from proplint.families.threads.rules.common import INSTRUMENTED, PROPAGATED, REQUEST_ID, SERVICE
from proplint.families.threads.subclass import run_in_captured_context

if TYPE_CHECKING:
    from proplint.core.catalog import Catalog
    from proplint.core.context import NeedsContext


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
    already_propagated = PROPAGATED + SERVICE
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
        `args`, or for a subclass that overrides `__init__` (and keeps `Thread.run`).

        A subclass overriding `run()`, defined in the file that starts it, gets an unsafe fix: its
        `__init__` (a new `__init__(self, *args, **kwargs)` calling `super().__init__`, or its own, right
        after the `super().__init__(...)` call) stores `self._caller_context = contextvars.copy_context()`,
        and `run()` becomes `self._caller_context.run(self._run)`, the original body moved unchanged to
        `_run`. (Not `self._context`: Python 3.14's `Thread` keeps its own context there and enters it
        around `run()`.) Unsafe because the class changes shape: the context is the creator's, which is not
        the starter's when the object is made earlier than it is started; subclasses that override `_run`
        or call `run()` differently, and code that introspects `__init__`'s signature, see a different
        class. No fix for a decorated or `async` `run`, or a class defined in another file.
    """
    VALID = (
        # periodic housekeeping: a `while True` loop that sleeps between rounds outlives any request
        Valid("import threading\nimport time\n\n\ndef start_flusher(producers):\n    def flush():\n"
              "        while True:\n            for p in producers:\n                p.flush(5.0)\n"
              "            time.sleep(1)\n\n    threading.Thread(target=flush, daemon=True).start()\n"),
        # the context's run is the callable the subclass's run() calls
        Valid("import contextvars\nimport threading\n\n\nclass TimeoutThread(threading.Thread):\n"
              "    def __init__(self, func, *args):\n        super().__init__()\n        self.func = func\n"
              "        self.args = args\n\n    def run(self):\n        self.result = self.func(*self.args)\n\n\n"
              "def run_with_timeout(timeout, func, *args):\n"
              "    task = TimeoutThread(contextvars.copy_context().run, func, *args)\n"
              "    task.start()\n    task.join(timeout)\n    return task.result\n"),
        # long-lived work, which must not inherit a request: spawned at start-up, or hosting a loop or server
        Valid("import threading\n\ndef initialize_cache(cache):\n"
              "    threading.Thread(target=cache.refresh, daemon=True).start()\n"),
        Valid("import asyncio, threading\n\nclass Bridge:\n    def open(self):\n"
              "        self.loop = asyncio.new_event_loop()\n"
              "        threading.Thread(target=self.loop.run_forever, daemon=True).start()\n"),
        Valid("import threading\n\nfrom app.health import run_exposition_server\n\ndef start():\n"
              "    threading.Thread(target=run_exposition_server, daemon=True).start()\n"),
        # test code: no request, no trace
        Valid("import threading\n\ndef test_worker():\n    threading.Thread(target=print).start()\n",
              path="tests/test_worker.py"),
        # a deployed service with no tracing and no request context of its own has nothing to lose
        Valid("import threading\n\ndef handle(job):\n    threading.Thread(target=job).start()\n",
              files={"Dockerfile": "FROM python:3.12\n"}),
        # Sentry, the project's only tracing (no request ContextVars), forks its scopes into new threads
        Valid("import threading\n\ndef handle(job):\n    threading.Thread(target=job).start()\n",
              files={"app/__init__.py": "", "app/monitoring.py": "import sentry_sdk\n\nsentry_sdk.init(dsn='x')\n"}),
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
              files=INSTRUMENTED),
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
        # the same subclass given the function itself
        Invalid("import contextvars\nimport threading\n\n\nclass TimeoutThread(threading.Thread):\n"
              "    def __init__(self, func, *args):\n        super().__init__()\n        self.func = func\n"
              "        self.args = args\n\n    def run(self):\n        self.result = self.func(*self.args)\n\n\n"
              "def run_with_timeout(timeout, func, *args):\n"
              "    task = TimeoutThread(func, *args)\n"
              "    task.start()\n    task.join(timeout)\n    return task.result\n"),
        Invalid("import threading\n\ndef handle(work, a, b):\n"
                "    threading.Thread(target=work, args=(a, b), kwargs={'x': 1}, daemon=True).start()\n",
                fixed='import contextvars\nimport threading\n\ndef handle(work, a, b):\n'
                      "    threading.Thread(target=contextvars.copy_context().run, args=(work, a, b), kwargs={'x': 1}, daemon=True).start()\n"),
        Invalid("from threading import Thread as T\n\ndef handle(work):\n    T(None, work).start()\n",
                fixed='import contextvars\nfrom threading import Thread as T\n\ndef handle(work):\n'
                      '    T(None, contextvars.copy_context().run, args=(work,)).start()\n'),
        Invalid("import threading\n\ndef handle(work, extra):\n    t = threading.Thread(\n"
                "        target=work,  # the job\n        args=extra,\n    )\n    t.start()\n",
                fixed='import contextvars\nimport threading\n\ndef handle(work, extra):\n'
                      '    t = threading.Thread(\n        target=contextvars.copy_context().run,  # the job\n'
                      '        args=(work, *extra),\n    )\n    t.start()\n'),
        Invalid("import threading\n\ndef handle(work):\n    threading.Thread(target=work, daemon=True).start()\n",
                fixed='import contextvars\nimport threading\n\ndef handle(work):\n'
                      '    threading.Thread(target=work, daemon=True, context=contextvars.copy_context()).start()\n',
                config={"target-version": "py314"}),
        Invalid("import threading\n\ndef handle(work):\n    threading.Thread(target=work).start()\n",
                files={**INSTRUMENTED, **REQUEST_ID}),
        Invalid("import threading\n\nclass Poller:\n    def poll_now(self):\n"
                "        threading.Thread(target=self._loop).start()\n\n    def _loop(self):\n        while True:\n"
                "            self.tick()\n"),
        # a subclass overriding run(): the creator's context captured in a new __init__, the body run in it
        Invalid("import threading\n\nclass Worker(threading.Thread):\n    def run(self):\n        work()\n\n"
                "def handle():\n    Worker().start()\n",
                fixed="import contextvars\nimport threading\n\nclass Worker(threading.Thread):\n"
                      "    def __init__(self, *args, **kwargs):\n        super().__init__(*args, **kwargs)\n"
                      "        self._caller_context = contextvars.copy_context()\n\n"
                      "    def run(self):\n        self._caller_context.run(self._run)\n\n"
                      "    def _run(self):\n        work()\n\ndef handle():\n    Worker().start()\n",
                unsafe=True),
        # ... in its own __init__, right after Thread.__init__ (before it starts itself); comments stay put
        Invalid("import threading\n\n\nclass Job(threading.Thread):\n    \"\"\"One order.\"\"\"\n\n"
                "    def __init__(self, order):\n        super().__init__(name='job')\n        self.order = order\n"
                "        self.start()\n\n    # the job itself\n    def run(self):  # Thread.run\n"
                "        send(self.order)  # may retry\n\n\ndef handle(order):\n    Job(order)\n",
                fixed="import contextvars\nimport threading\n\n\nclass Job(threading.Thread):\n"
                      "    \"\"\"One order.\"\"\"\n\n    def __init__(self, order):\n"
                      "        super().__init__(name='job')\n        self._caller_context = contextvars.copy_context()\n"
                      "        self.order = order\n        self.start()\n\n    # the job itself\n"
                      "    def run(self):  # Thread.run\n        self._caller_context.run(self._run)\n\n"
                      "    def _run(self):\n        send(self.order)  # may retry\n\n\ndef handle(order):\n"
                      "    Job(order)\n",
                unsafe=True),
        Invalid("from svc.threads import Thread\n\ndef handle(work):\n    Thread(target=work).start()\n",
                fixed='import contextvars\n\nfrom svc.threads import Thread\n\ndef handle(work):\n'
                      '    Thread(target=contextvars.copy_context().run, args=(work,)).start()\n',
                files={"svc/threads.py": "import threading\n\nclass Thread(threading.Thread):\n    daemon = True\n"}),
    )

    @classmethod
    def needs(cls, project: "NeedsContext") -> Cond:
        """A spawner whose entry has this code, or a project subclass of a base one (`reported_by_entries`)."""
        return reported_by_entries(project, cls.code)

    @staticmethod
    def message(label: str, fn: str) -> str:
        """A thread spawn whose target runs without the caller's context."""
        return (f"{label} runs `{fn}` with an empty context: its spans start a new trace and the caller's "
                f"ContextVars are unset; run it in contextvars.copy_context()")

    @staticmethod
    def run_message(label: str) -> str:
        """A started Thread subclass that overrides `run()` without capturing a context."""
        return (f"{label} overrides run(), which runs with an empty context (and ThreadingInstrumentor does not "
                f"cover overridden run methods): capture contextvars.copy_context() in __init__/start() and "
                f"run the body in it, or pass context= to Thread.__init__ on 3.14+")

    @staticmethod
    def build_fix(call: cst.Call, spawner: ThreadSpawner | None, catalog: "Catalog", target_minor: int) -> Fix | None:
        """`context=contextvars.copy_context()` where the target Python takes it, else the target run in
        `contextvars.copy_context().run` (None: no fix, e.g. a subclass that overrides `__init__`)."""
        if spawner is None:
            return None
        if spawner.context_since and target_minor >= spawner.context_since:
            value, imports = context_wrapper(catalog, "context")
            new = append_keyword(call, CONTEXT_KEYWORD, value)
            how = "Pass context=contextvars.copy_context()"
        else:
            value, imports = context_wrapper(catalog, "spawn")
            new = thread_call_fix(call, spawner, value)
            how = "Run the target in contextvars.copy_context()"
        return Fix(SAFE, how, [(call, new)], imports) if new is not None else None

    @staticmethod
    def build_run_fix(cls: cst.ClassDef | None, catalog: "Catalog") -> Fix | None:
        """The subclass (defined in this module) captures `contextvars.copy_context()` in `__init__` and its
        `run()` runs the original body, moved to `_run`, in it (`subclass.py`). Unsafe: see `fix_safety`."""
        if cls is None:
            return None
        capture, imports = context_wrapper(catalog, "context")
        new = run_in_captured_context(cls, capture)
        if new is None:
            return None
        return Fix(UNSAFE, "Capture the creator's context in __init__ and run the body in it", [(cls, new)], imports)
