"""PRP203 executor-without-context: `submit` / `map` (and other methods) of a thread pool run the function
without the caller's context.

Found by `check.py` (`ThreadContextCheck.executor_method`) on a receiver inferred to be a catalog
`[[executor]]` of kind "thread" or a project subclass; `kind` below is which of the entry's method lists the
method is in (`submit`, `map`, `other`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from proplint.core.needs import Cond, any_of
from proplint.core.rule import SAFE, Fix, Invalid, Rule, Valid
from proplint.families.threads.edits import context_wrapper, insert_before
from proplint.families.threads.needs import pool_methods, reported_by_entries
from proplint.families.threads.rules.common import INSTRUMENTED, PROPAGATED, REQUEST_ID

if TYPE_CHECKING:
    from proplint.core.catalog import Catalog
    from proplint.core.context import NeedsContext


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
    already_propagated = PROPAGATED + """
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
        # the object copies the caller's context when it is made, and its target runs the work in it
        Valid("import contextvars\nfrom concurrent.futures import ThreadPoolExecutor\n\npool = ThreadPoolExecutor(4)\n\n\n"
              "class Generation:\n    def __init__(self, prompt):\n        self.prompt = prompt\n"
              "        self._context = contextvars.copy_context()\n\n    def start(self):\n"
              "        pool.submit(self._run)\n\n    def _run(self):\n"
              "        self.images = self._context.run(generate, self.prompt)\n"),
        # a loop submitted once when the service starts: long-lived work
        Valid("from concurrent.futures import ThreadPoolExecutor\n\nclass Consumer:\n    def start(self):\n"
              "        self.pool = ThreadPoolExecutor(1)\n        self.pool.submit(self._loop_forever)\n\n"
              "    def _loop_forever(self):\n        while True:\n            self.poll()\n"),
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
              "    pool.submit(fn)\n", files=INSTRUMENTED),
    )
    INVALID = (
        # the same object without the copy
        Invalid("import contextvars\nfrom concurrent.futures import ThreadPoolExecutor\n\npool = ThreadPoolExecutor(4)\n\n\n"
              "class Generation:\n    def __init__(self, prompt):\n        self.prompt = prompt\n"
              "\n    def start(self):\n"
              "        pool.submit(self._run)\n\n    def _run(self):\n"
              "        self.images = generate(self.prompt)\n", unsafe=True, fixed=None),
        # the callable by keyword: reported (the fix, which moves it into the arguments, is left to a human)
        Invalid("from multiprocessing.pool import ThreadPool\n\ndef handle(pool: ThreadPool, work):\n"
                "    pool.apply_async(func=work, args=(1,))\n", files=REQUEST_ID),
        Invalid("from concurrent.futures import ThreadPoolExecutor\n\ndef f(fn, a):\n"
                "    with ThreadPoolExecutor() as pool:\n        pool.submit(fn, a, k=1)\n",
                fixed='import contextvars\nfrom concurrent.futures import ThreadPoolExecutor\n\ndef f(fn, a):\n'
                      '    with ThreadPoolExecutor() as pool:\n'
                      '        pool.submit(contextvars.copy_context().run, fn, a, k=1)\n'),
        Invalid("import concurrent.futures as cf\n\nclass Service:\n    def __init__(self):\n"
                "        self._executor = cf.ThreadPoolExecutor(max_workers=4)\n\n    def handle(self, job):\n"
                "        return self._executor.submit(job)\n",
                fixed="import concurrent.futures as cf\nimport contextvars\n\nclass Service:\n    def __init__(self):\n"
                      "        self._executor = cf.ThreadPoolExecutor(max_workers=4)\n\n    def handle(self, job):\n"
                      "        return self._executor.submit(contextvars.copy_context().run, job)\n"),
        Invalid("from concurrent.futures import ThreadPoolExecutor\n\ndef f(pool: ThreadPoolExecutor, fn, items):\n"
                "    return list(pool.map(fn, items, timeout=5))\n",
                fixed='import contextvars\nimport functools\nfrom concurrent.futures import ThreadPoolExecutor\n'
                      '\ndef f(pool: ThreadPoolExecutor, fn, items):\n'
                      '    return list(pool.map(functools.partial(lambda _c, _f, *_a: _c.copy().run(_f, *_a), contextvars.copy_context(), fn), items, timeout=5))\n'),
        Invalid("from concurrent.futures import ThreadPoolExecutor\n\npool = ThreadPoolExecutor()\n\ndef f(fn):\n"
                "    pool.submit(fn)\n", files={**INSTRUMENTED, **REQUEST_ID},
                fixed='import contextvars\nfrom concurrent.futures import ThreadPoolExecutor\n\n'
                      'pool = ThreadPoolExecutor()\n\ndef f(fn):\n'
                      '    pool.submit(contextvars.copy_context().run, fn)\n'),
        Invalid("from multiprocessing.pool import ThreadPool\n\ndef f(fn, a):\n    with ThreadPool(2) as pool:\n"
                "        pool.apply_async(fn, (a,))\n"),
    )

    @classmethod
    def needs(cls, project: "NeedsContext") -> Cond:
        """One of a thread pool's methods, called on that pool (or a project subclass)."""
        return any_of(pool_methods(project, "thread"), reported_by_entries(project, cls.code))

    @staticmethod
    def message(kind: str, label: str, fn: str, flag_state: str | None) -> str:
        if kind == "map":
            message = (f"{label} runs `{fn}` for each item on worker threads without the caller's context; wrap "
                       f"it to copy the context per item (one Context shared by concurrent items raises RuntimeError)")
        elif kind == "submit":
            message = (f"{label} runs `{fn}` on a worker thread without the caller's context; submit "
                       f"contextvars.copy_context().run, {fn}")
        else:
            message = (f"{label} runs `{fn}` on a worker thread without the caller's context; pass "
                       f"contextvars.copy_context().run as the function, with `{fn}` as its first argument")
        if flag_state is not None:
            message += "; thread_inherit_context does not help here: pool workers keep the context of the " \
                       "submit() that started them"
        return message

    @staticmethod
    def build_fix(call: cst.Call, kind: str, func: cst.BaseExpression, catalog: "Catalog") -> Fix | None:
        """`submit`: `contextvars.copy_context().run` inserted before the function; `map`: the function
        wrapped to copy per item; other methods: no fix. Only for a positional first argument."""
        if not call.args or call.args[0].value is not func:
            return None
        if kind == "submit":
            value, imports = context_wrapper(catalog, "spawn")
            new = call.with_changes(args=insert_before(call.args, 0, value))
            return Fix(SAFE, "Submit contextvars.copy_context().run", [(call, new)], imports)
        if kind == "map":
            value, imports = context_wrapper(catalog, "per_item", fn=func)
            new = call.with_changes(args=[call.args[0].with_changes(value=value), *call.args[1:]])
            return Fix(SAFE, "Copy the context for every item", [(call, new)], imports)
        return None
