"""observability: the service's tracing decorators, written for the sync handlers it started with.

`traced(name)` opens a span around each call. Its wrapper is a plain `def`: applied to an `async def`
(svc/handlers.py) it returns the coroutine at once, so the span closes before the body runs and the
spans the body makes are not its children. proplint reports the wrapper here (PRP412) and every
coroutine it decorates in the other module (PRP401); `proplint fix --unsafe-fixes` adds an
`inspect.iscoroutinefunction` branch with an async wrapper that awaits inside the span.

`instrumented` is the async-aware form, already correct. Not reported.
"""

import functools
import inspect

from opentelemetry import trace

tracer = trace.get_tracer("svc")


def traced(name):
    """Open a span called `name` around every call of the decorated function."""

    def decorator(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):  # expect: PRP412 fix=unsafe
            with tracer.start_as_current_span(name):
                return fn(*args, **kwargs)

        return wrapper

    return decorator


def instrumented(fn):
    """A span named after the function; coroutine functions get an async wrapper that awaits inside it."""
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def async_wrapper(*args, **kwargs):
            with tracer.start_as_current_span(fn.__qualname__):
                return await fn(*args, **kwargs)

        return async_wrapper

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with tracer.start_as_current_span(fn.__qualname__):
            return fn(*args, **kwargs)

    return wrapper
