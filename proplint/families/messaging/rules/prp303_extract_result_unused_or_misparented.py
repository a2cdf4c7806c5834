"""PRP303 extract-result-unused-or-misparented: an extracted or captured context is never applied.

The rule's whole truth: declaration, examples, message, fix and needs; the visitor is `check.py`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from proplint.core.flow import GLOBAL_TEXTMAP
from proplint.core.needs import all_of, any_of, words
from proplint.core.rule import Invalid, Rule, Valid
from proplint.families.messaging.needs import PROPAGATOR_METHODS

if TYPE_CHECKING:
    from proplint.core.context import NeedsContext
    from proplint.core.needs import Cond

_APPLY = "pass it as context= to the processing span, or attach it"
_SEND = "pass it with the message (headers, properties or payload)"


class ExtractResultUnused(Rule):
    code = "PRP303"
    name = "extract-result-unused-or-misparented"
    summary = "An extracted or captured context is never applied, or a span is only linked to it."
    fix = "none"
    what_it_does = """
        Finds `opentelemetry.propagate.extract(...)` (or `TraceContextTextMapPropagator().extract(...)`, or a
        configured extractor) whose result is discarded, or bound to a name that is never passed as
        `context=`, attached, handed to another call, returned or stored; a span started with `links=`
        built from an extracted context but no `context=`; and, on the producer side, a carrier filled by
        `inject(carrier)` (or captured by a configured injector such as a
        `capture_trace_context()` helper) that is never used afterwards.
    """
    why = """
        `extract()` returns a `Context`; it does nothing until it becomes the parent of a span or the current
        context. Links alone do not parent: a span with `links=[...]` and no `context=` is a new root trace
        (opentelemetry-python-contrib #1678). A carrier that is filled but never put into the message is
        the producer-side twin: the work to capture the context is done, and the consumer still gets
        nothing.
    """
    example = """
        from opentelemetry import trace
        from opentelemetry.propagate import extract

        tracer = trace.get_tracer(__name__)

        def handle(message):
            ctx = extract(message.headers)
            with tracer.start_as_current_span("process"):
                print(message.body)
    """
    use_instead = """
        from opentelemetry import trace
        from opentelemetry.propagate import extract

        tracer = trace.get_tracer(__name__)

        def handle(message):
            ctx = extract(message.headers)
            with tracer.start_as_current_span("process", context=ctx):
                print(message.body)
    """
    fix_safety = """
        No automatic fix: which span should take the context (or whether a link was meant on purpose, for a
        batch) is the author's decision.
    """
    VALID = (
        # the project's extractor attaches the context itself: a bare call restores it
        Valid("from app.tracing import restore\n\n\ndef on_message(headers, body):\n    restore(headers)\n    handle(body)\n", config={"extractors": ["app.tracing.restore"]},
              files={"app/__init__.py": "", "app/tracing.py": "from opentelemetry import context\n"
                     "from opentelemetry.propagate import extract\n\n\ndef restore(carrier):\n"
                     "    return context.attach(extract(carrier))\n"}),
        Valid("from opentelemetry import trace\nfrom opentelemetry.propagate import extract\n\n"
              "tracer = trace.get_tracer(__name__)\n\ndef handle(headers):\n    ctx = extract(headers)\n"
              "    link = trace.Link(trace.get_current_span(ctx).get_span_context())\n"
              "    with tracer.start_as_current_span('p', context=ctx, links=[link]):\n        pass\n"),
        Valid("from opentelemetry import context\nfrom opentelemetry.propagate import extract\n\n"
              "def handle(headers):\n    token = context.attach(extract(headers))\n    try:\n        pass\n"
              "    finally:\n        context.detach(token)\n"),
        Valid("from opentelemetry.propagate import extract, inject\n\ndef restore(headers):\n"
              "    ctx = extract(headers)\n    return ctx\n\ndef fill(carrier):\n    inject(carrier)\n"),
    )
    INVALID = (
        # the project's extractor hands the context back: called as a bare statement, nothing is restored
        Invalid("from app.tracing import restore\n\n\ndef on_message(headers, body):\n    restore(headers)\n    handle(body)\n", config={"extractors": ["app.tracing.restore"]},
                files={"app/__init__.py": "", "app/tracing.py": "from opentelemetry.propagate import extract\n\n\n"
                       "def restore(carrier):\n    return extract(carrier)\n"}),
        Invalid("from opentelemetry.propagate import extract\n\ndef handle(headers):\n    extract(headers)\n"
                "    print('processing')\n"),
        Invalid("from opentelemetry import trace\nfrom opentelemetry.propagate import extract\n\n"
                "tracer = trace.get_tracer(__name__)\n\ndef handle(headers):\n    ctx = extract(headers)\n"
                "    with tracer.start_as_current_span('p', links=[trace.Link(trace.get_current_span(ctx)"
                ".get_span_context())]):\n        pass\n"),
        Invalid("from opentelemetry.propagate import inject\n\ndef publish(send, body):\n    carrier = {}\n"
                "    inject(carrier)\n    send(body)\n"),
        Invalid("from svc.tracing import capture_trace_context_for_queue\n\ndef submit(queue, data):\n"
                "    trace_context = capture_trace_context_for_queue()\n    queue.put(data)\n",
                config={"injectors": ["svc.tracing.capture_trace_context_for_queue"]}),
    )

    @classmethod
    def needs(cls, project: "NeedsContext") -> "Cond":
        """Each report starts from a call of a catalog or configured extractor (`is_extract`), filling injector
        (`filled_argument`) or returning one (`returns_carrier`), or from `<propagator>.extract(...)` /
        `.inject(...)` on a receiver built or typed as a propagator class or `get_global_textmap()`."""
        catalog, config, layout = project.catalog, project.config, project.layout
        helpers = [*catalog.names("injector"), *catalog.names("extractor"), *config.injectors, *config.extractors]
        propagators = [*catalog.names("propagator_class"), GLOBAL_TEXTMAP]
        return any_of(*(layout.named(h) for h in helpers),
                      all_of(words(PROPAGATOR_METHODS), any_of(*(layout.named(p) for p in propagators))))

    @staticmethod
    def message(what: str, name: str = "") -> str:
        """`what`: "discarded" (an extract() result), "never applied" (the extracted context `name`), "links"
        (a span only linked to one), "filled" (the carrier `name` filled by an injector but never sent),
        "captured" (the carrier `name` an injector returned, never sent)."""
        return {
            "discarded": f"the context returned by extract() is discarded: {_APPLY}",
            "never applied": f"the extracted context {name} is never applied: {_APPLY}",
            "links": "a span linked to an extracted context but given no context=: it starts a new trace; pass "
                     "context=<the extracted context> as well",
            "filled": f"{name} is filled with the trace context but never sent: {_SEND}",
            "captured": f"the captured trace context {name} is never sent: {_SEND}",
        }[what]
