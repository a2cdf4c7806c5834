"""PRP205 shared-context-object: one `Context` object entered by several concurrent threads or tasks.

Found by `check.py` (`ThreadContextCheck.spawn`) when the spawned callable carries a Context (`flow.py`,
`ContextFlow.carry`) that is not fresh per call and is used by a loop that does not rebind it, or by `map`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from proplint.core.needs import Cond, all_of, any_of, words
from proplint.core.rule import SAFE, Fix, Invalid, Rule, Valid
from proplint.core.cst import append_args
from proplint.families.threads.edits import context_wrapper, copy_run
from proplint.families.threads.flow import RUN, Carry
from proplint.families.threads.needs import (
    executor_calls, named, reported_by_entries, spawned_by, thread_pool_calls, thread_spawns, words_of,
)

if TYPE_CHECKING:
    from proplint.core.catalog import Catalog
    from proplint.core.context import NeedsContext


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
                fixed='import contextvars\nimport functools\nfrom concurrent.futures import ThreadPoolExecutor\n'
                      '\ndef f(pool: ThreadPoolExecutor, fns):\n    ctx = contextvars.copy_context()\n'
                      '    return list(pool.map(functools.partial(lambda _c, *_a, **_k: _c.copy().run(*_a, **_k), ctx), fns))\n'),
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

    @classmethod
    def needs(cls, project: "NeedsContext") -> Cond:
        """A spawn of any kind whose callable carries one Context object (`ContextFlow.carry`): every carry
        is a `.run` of something `is_context` accepts, a call, annotation or attribute resolved to a catalog
        context. An alternative holds one import: the context's, the rarer one."""
        catalog = project.catalog
        contexts = [e.name for e in catalog.get("context_source") if e.kind == "context" and not e.method]
        spawned = words_of(any_of(thread_spawns(project), thread_pool_calls(project), executor_calls(project),
                                  spawned_by(project, catalog.get("context_safe"))))
        return any_of(all_of(named(project, contexts), words({RUN}, spawned)), reported_by_entries(project, cls.code))

    @staticmethod
    def message(label: str, reason: str) -> str:
        return (f"one Context object is entered by several concurrent workers of {label} ({reason}): the "
                f"second raises RuntimeError: cannot enter context; copy it per task (`ctx.copy().run`)")

    @staticmethod
    def build_fix(carry: Carry, mapped: bool, catalog: "Catalog") -> Fix:
        """`ctx.run` -> `ctx.copy().run` where it is evaluated once per worker; where it is evaluated once for
        many calls (`mapped`: handed to `map`; or a stored value), a `per_call` wrapper that copies on every
        call."""
        node, imports = carry.node, []
        if carry.fix == "closure" or (carry.fix == "attr" and not mapped):
            new: cst.CSTNode = copy_run(node)  # type: ignore[arg-type]
        elif carry.fix == "partial" and not mapped:
            assert isinstance(node, cst.Call)
            first = node.args[0]
            inner = first.with_changes(value=copy_run(first.value))  # type: ignore[arg-type]
            new = node.with_changes(args=[inner, *node.args[1:]])
        else:
            assert carry.context is not None
            wrapped, imports = context_wrapper(catalog, "per_call", ctx=carry.context)
            new = append_args(wrapped, carry.partial_args)  # type: ignore[arg-type]
        return Fix(SAFE, "Copy the Context for every task", [(node, new)], imports)
