"""PRP407 current-context-across-yield: the rule's declaration, docs and VALID/INVALID examples, its `message` and
where it can report (`needs`). What it finds: A current span or attached context is held across a `yield` in a
generator or async generator.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from proplint.core.needs import Cond, all_of, any_of, words
from proplint.core.rule import Invalid, Rule, Valid
from proplint.families.hygiene.needs import attach, with_current

if TYPE_CHECKING:
    from proplint.core.context import NeedsContext


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

    @staticmethod
    def message(call: str, attach: bool) -> str:
        """`call` (its source): an attach (`attach`) or a `with` of a current opener, across a `yield`."""
        if attach:
            return (f"`{call}` makes a context current across a `yield`: while the generator is "
                    f"suspended the consumer runs inside it, and closing the generator from another context "
                    f"fails to detach; attach only around code that does not yield")
        return (f"`{call}` stays current across a `yield`: while the generator is "
                f"suspended the consumer runs inside this span, and closing the generator from "
                f"another context fails to detach; start_span() and end it in `finally`, making it "
                f"current only around code that does not yield")

    @classmethod
    def needs(cls, project: "NeedsContext") -> Cond:
        """An attach in a generator with a `yield` after it, or a `with <current opener>` whose block yields."""
        return all_of(words({"yield"}), any_of(attach(project), with_current(project)))
