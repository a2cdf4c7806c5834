"""PRP411 task-context-captured-at-creation: the rule's declaration, docs and VALID/INVALID examples, its `message`
and where it can report (`needs`). What it finds: A long-lived task started at module level or in
startup/lifespan code makes spans without its own root.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from proplint.core.needs import Cond, all_of, words
from proplint.core.rule import Invalid, Rule, Valid
from proplint.families.hygiene.needs import creators, opener

if TYPE_CHECKING:
    from proplint.core.context import NeedsContext

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

    @staticmethod
    def message(worker: str, startup: str | None) -> str:
        """The task runs `worker`; started in the startup function `startup` (None: at module level)."""
        where = "at module level" if startup is None else f"in startup code `{startup}`"
        return (f"long-lived task `{worker}` started {where} inherits that context forever: every span "
                f"it makes in its loop joins the startup trace; give each unit of work its own root "
                f"(`context=Context()`) or an extracted parent")

    @classmethod
    def needs(cls, project: "NeedsContext") -> Cond:
        """A task creator (last name) whose worker is a `def` of this module that loops (`while`,
        `async for`) around an opener of a current span or span."""
        return all_of(creators(project), words({"def"}), words({"while", "async"}),
                      opener(project, ("current", "span")))
