"""PRP204 run-in-executor-without-context: `loop.run_in_executor(executor, fn, ...)` runs `fn` without the
caller's context.

Found by `check.py` (`ThreadContextCheck.executor_call`) for an `[[executor_call]]` whose executor argument is
`None`, a thread pool, or of unknown type (`executor` below: "default", "thread", "unknown"); the entry's
`code` picks the rule that reports it, with this module's message and fix.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from proplint.core.needs import Cond
from proplint.core.rule import SAFE, UNSAFE, Fix, Invalid, Rule, Valid
from proplint.families.threads.edits import context_wrapper, insert_before
from proplint.families.threads.model import ExecutorCall
from proplint.families.threads.needs import reported_by_entries
from proplint.families.threads.rules.common import INSTRUMENTED, PROPAGATED

if TYPE_CHECKING:
    from proplint.core.catalog import Catalog
    from proplint.core.context import NeedsContext


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
    already_propagated = PROPAGATED
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
        # a consumer loop handed to a thread once, at start-up
        Valid("import asyncio\n\nclass Worker:\n    async def start(self):\n"
              "        loop = asyncio.get_running_loop()\n        await loop.run_in_executor(None, self._consume_forever)\n\n"
              "    def _consume_forever(self):\n        while True:\n            self.poll()\n"),
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
              "    return await asyncio.get_running_loop().run_in_executor(None, fn)\n", files=INSTRUMENTED),
    )
    INVALID = (
        # keyword arguments: reported, with no automatic fix
        Invalid("import asyncio\n\nasync def handle(work):\n    loop = asyncio.get_running_loop()\n"
                "    await loop.run_in_executor(executor=None, func=work)\n"),
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

    @classmethod
    def needs(cls, project: "NeedsContext") -> Cond:
        """The method's name (`run_in_executor`), on any receiver."""
        return reported_by_entries(project, cls.code)

    @staticmethod
    def message(label: str, fn: str, entry: ExecutorCall, executor: str, awaited: bool) -> str:
        message = (f"{label} runs `{fn}` on a worker thread without the caller's context; pass "
                   f"contextvars.copy_context().run, {fn}")
        if executor == "default" and awaited:
            message += f" (or await {entry.alternative}({fn}, ...))"
        if executor == "unknown":
            message += " (if the executor is a process pool, pass a trace carrier instead: PRP206)"
        return message

    @staticmethod
    def build_fix(call: cst.Call, entry: ExecutorCall, func: cst.BaseExpression, executor: str,
                  catalog: "Catalog") -> Fix | None:
        """`contextvars.copy_context().run` inserted before the function (unsafe when the executor may be a
        process pool); no fix unless every argument up to the function is positional."""
        i = entry.func_index
        head = call.args[: i + 1]
        if len(head) <= i or any(a.star or a.keyword is not None for a in head) or head[i].value is not func:
            return None
        value, imports = context_wrapper(catalog, "spawn")
        new = call.with_changes(args=insert_before(call.args, i, value))
        return Fix(SAFE if executor != "unknown" else UNSAFE, "Run the function in contextvars.copy_context()",
                   [(call, new)], imports)
