"""PRP409 span-decorator-on-generator: the rule's declaration, docs and VALID/INVALID examples, its `message` and
where it can report (`needs`). What it finds: `@tracer.start_as_current_span(...)` decorates a generator or an
async generator.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from proplint.core.needs import Cond, all_of, words
from proplint.core.rule import Invalid, Rule, Valid
from proplint.families.hygiene.rules.prp401_sync_wrapper_on_coroutine_function import KIND_TEXT

if TYPE_CHECKING:
    from proplint.core.context import NeedsContext


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

    @staticmethod
    def message(decorator: str, kind: str, function: str) -> str:
        """`decorator` (its source) on `function`, a generator or async generator (`kind`)."""
        return (f"`@{decorator}` on {KIND_TEXT[kind][0]} `{function}`: the span ends when the generator "
                f"object is created, before the first item, and spans made while iterating are not its "
                f"children; open the span inside the generator (or start_span + end() in finally)")

    @classmethod
    def needs(cls, project: "NeedsContext") -> Cond:
        """`@<x>.<method opener usable as a decorator>(...)` on a generator (`yield`)."""
        span_decorators = [e for e in project.catalog.get("span_opener") if e.method and e.decorator]
        return all_of(words({"yield"}), words({e.name for e in span_decorators}))
