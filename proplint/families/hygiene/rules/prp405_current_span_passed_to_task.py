"""PRP405 current-span-passed-to-task: the rule's declaration, docs and VALID/INVALID examples, its `message` and
where it can report (`needs`). What it finds: The current span is passed by hand to a task (`create_task`,
`ensure_future`, `start_soon`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from proplint.core.needs import Cond, all_of, any_of
from proplint.core.rule import Invalid, Rule, Valid
from proplint.families.hygiene.needs import any_named, creators, with_current

if TYPE_CHECKING:
    from proplint.core.context import NeedsContext


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
        `trace.get_current_span()` already returns that span and new spans are its children: passing the
        span along is unnecessary in asyncio. The extra parameter is noise, and code that
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

    @staticmethod
    def message(what: str, creator: str) -> str:
        """`what`: how the span is named (a getter call, `the current span `x``); `creator`: the call's function."""
        return (f"{what} passed to a task by hand: `{creator}` already runs the task in a copy "
                f"of the current context, where `trace.get_current_span()` returns this span; drop the "
                f"argument")

    @classmethod
    def needs(cls, project: "NeedsContext") -> Cond:
        """A task creator (by its last name) given the current span: a getter call, a name assigned from
        one, or the `as` name of an enclosing `with <current opener>`."""
        getters = any_named(project, project.catalog.names("current_span_getter"))
        return all_of(creators(project), any_of(getters, with_current(project)))
