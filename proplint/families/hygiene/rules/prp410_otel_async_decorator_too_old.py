"""PRP410 otel-async-decorator-too-old: the rule's declaration, docs and VALID/INVALID examples, its `message` and
where it can report (`needs`). What it finds: `@tracer.start_as_current_span(...)` on an `async def` with
opentelemetry-api pinned below 1.24.0.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from proplint.core.needs import Cond, all_of, words
from proplint.core.rule import Invalid, Rule, Valid
from proplint.core.versions import pinned_below

if TYPE_CHECKING:
    from proplint.core.context import NeedsContext

_ASYNC_SPAN = "@tracer.start_as_current_span('checkout')\nasync def checkout(cart):\n    return await charge(cart)\n"


class OtelAsyncDecoratorTooOld(Rule):
    code = "PRP410"
    name = "otel-async-decorator-too-old"
    summary = "`@tracer.start_as_current_span(...)` on an `async def` with opentelemetry-api pinned below 1.24.0."
    fix = "none"
    what_it_does = """
        Finds `@<tracer>.start_as_current_span(...)` on an `async def` when the project's dependency or lock
        files (requirements*.txt, constraints, pyproject.toml, setup.cfg, Pipfile(.lock), poetry.lock,
        uv.lock, pdm.lock) keep `opentelemetry-api` (or `opentelemetry-sdk`, which pins the API to its own
        version) below 1.24.0: `==1.22.0`, `<1.24`, `~=1.23.0`, `^0.x`, or a locked version.
    """
    why = """
        Before opentelemetry-api 1.24.0 (PR #3633, "Make `tracer.start_as_current_span()` decorator work
        with async functions", released 2024-03-28) the decorator wrapped the call that creates the
        coroutine: the span ends before the body runs and the body's spans are not its children.
    """
    already_propagated = """
        No pin (or one that allows 1.24.0 or later, such as `>=1.20`): the resolver is free to install a
        fixed release, so nothing is reported.
    """
    example = """
        # requirements.txt: opentelemetry-api==1.22.0
        from opentelemetry import trace

        tracer = trace.get_tracer(__name__)


        @tracer.start_as_current_span("checkout")
        async def checkout(cart):
            return await charge(cart)
    """
    use_instead = """
        # requirements.txt: opentelemetry-api>=1.24.0
        from opentelemetry import trace

        tracer = trace.get_tracer(__name__)


        async def checkout(cart):
            with tracer.start_as_current_span("checkout"):
                return await charge(cart)
    """
    fix_safety = """
        No automatic fix: raise the pin to 1.24.0 or later, or open the span inside the function.
    """
    VALID = (
        Valid(_ASYNC_SPAN),
        Valid(_ASYNC_SPAN, files={"requirements.txt": "opentelemetry-api==1.27.0\n"}),
        Valid(_ASYNC_SPAN, files={"pyproject.toml": "[project]\nname = 'x'\n"
                                                    "dependencies = ['opentelemetry-api>=1.20']\n"}),
        Valid("@tracer.start_as_current_span('sync')\ndef checkout(cart):\n    return cart\n",
              files={"requirements.txt": "opentelemetry-api==1.20.0\n"}),
    )
    INVALID = (
        Invalid(_ASYNC_SPAN, files={"requirements.txt": "opentelemetry-api==1.22.0\n"}),
        Invalid(_ASYNC_SPAN, files={"pyproject.toml": "[project]\nname = 'x'\n"
                                                      "dependencies = ['opentelemetry-sdk>=1.15,<1.24']\n"}),
        Invalid(_ASYNC_SPAN,
                files={"poetry.lock": "[[package]]\nname = \"opentelemetry-api\"\nversion = \"1.21.0\"\n"}),
    )

    @staticmethod
    def message(decorator: str, function: str, entry, pin: tuple[str, str]) -> str:
        """`decorator` (its source, catalog `entry`) on `async def function`; `pin`: (dist, constraint)."""
        return (f"`@{decorator}` on `async def {function}` needs {entry.dist[0]} >= "
                f"{entry.async_decorator_since}, but the project pins {pin[0]}{pin[1]}: the span ends "
                f"before the coroutine runs; raise the pin or open the span inside the function")

    @classmethod
    def needs(cls, project: "NeedsContext") -> Cond:
        """`@<x>.<method opener usable as a decorator>(...)` on an `async def`, only where the project pins
        the distribution below the fixed release."""
        pins = getattr(project.index, "pins", {})
        pinned = {e.name for e in project.catalog.get("span_opener") if e.method and e.decorator
                  and e.async_decorator_since and pinned_below(pins, e.dist, e.async_decorator_since)}
        return all_of(words({"async"}), words(pinned))
