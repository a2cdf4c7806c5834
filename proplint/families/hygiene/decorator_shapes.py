"""Real shapes of sync-only tracing, logging and timing decorators, written as library code (PRP401's and
PRP412's examples): each `SHAPES` entry is `(name, library module, its coroutine-aware twin, applications)`.

They are the forms published decorators took before their authors added a coroutine branch: a factory with
an optional function, a three-level factory over a tracer's span kinds, a scope entered and exited by hand
(OpenTracing), and a start/end log bracket in `try`/`finally`; plus a wrapper whose span comes from the
project's own `@contextmanager` in another module.
"""

from __future__ import annotations

OPTIONAL_FUNC = '''import functools

from opentelemetry import trace

tracer = trace.get_tracer(__name__)


def trace_call(func=None, *, name=None):
    def decorator(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with tracer.start_as_current_span(name or fn.__qualname__):
                return fn(*args, **kwargs)
        return wrapper
    return decorator(func) if func else decorator
'''

OPTIONAL_FUNC_AWARE = OPTIONAL_FUNC.replace('''import functools
''', '''import functools
import inspect
''').replace('''    def decorator(fn):
        @functools.wraps(fn)''', '''    def decorator(fn):
        if inspect.iscoroutinefunction(fn):
            @functools.wraps(fn)
            async def awrapper(*args, **kwargs):
                with tracer.start_as_current_span(name or fn.__qualname__):
                    return await fn(*args, **kwargs)
            return awrapper

        @functools.wraps(fn)''')

THREE_LEVELS = '''import functools

from apm import Tracer


def instrument(kind):
    def decorator(**options):
        def inner(func):
            @functools.wraps(func)
            def wrapper(*args, **kwargs):
                with getattr(Tracer, kind)(func.__name__, **options):
                    return func(*args, **kwargs)
            return wrapper
        return inner
    return decorator


db_span = instrument("db")
'''

THREE_LEVELS_AWARE = THREE_LEVELS.replace('''import functools
''', '''import asyncio
import functools
''').replace('''        def inner(func):
            @functools.wraps(func)''', '''        def inner(func):
            if asyncio.iscoroutinefunction(func):
                @functools.wraps(func)
                async def awrapper(*args, **kwargs):
                    with getattr(Tracer, kind)(func.__name__, **options):
                        return await func(*args, **kwargs)
                return awrapper

            @functools.wraps(func)''')

MANUAL_SCOPE = '''import functools

import opentracing


def traced(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        scope = opentracing.global_tracer().start_active_span(func.__name__)
        scope.__enter__()
        try:
            return func(*args, **kwargs)
        finally:
            scope.__exit__(None, None, None)
    return wrapper
'''

MANUAL_SCOPE_AWARE = MANUAL_SCOPE.replace('''import functools
''', '''import functools
import inspect
''').replace('''def traced(func):
''', '''def traced(func):
    if inspect.iscoroutinefunction(func):
        @functools.wraps(func)
        async def awrapper(*args, **kwargs):
            with opentracing.global_tracer().start_active_span(func.__name__):
                return await func(*args, **kwargs)
        return awrapper

''')

LOG_BRACKET = '''import functools
import logging
import time

log = logging.getLogger(__name__)


def logged(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        log.info("start %s", func.__name__)
        started = time.monotonic()
        try:
            return func(*args, **kwargs)
        finally:
            log.info("end %s after %.3fs", func.__name__, time.monotonic() - started)
    return wrapper
'''

LOG_BRACKET_AWARE = LOG_BRACKET.replace('''import functools
''', '''import functools
import inspect
''').replace('''def logged(func):
''', '''def logged(func):
    if inspect.iscoroutinefunction(func):
        @functools.wraps(func)
        async def awrapper(*args, **kwargs):
            log.info("start %s", func.__name__)
            started = time.monotonic()
            try:
                return await func(*args, **kwargs)
            finally:
                log.info("end %s after %.3fs", func.__name__, time.monotonic() - started)
        return awrapper

''')

#: the project's own span helper, in another module, used by `PROJECT_CM`
SPANS_MODULE = '''from contextlib import contextmanager

from opentelemetry import trace

tracer = trace.get_tracer(__name__)


@contextmanager
def operation(name):
    with tracer.start_as_current_span(name) as span:
        yield span
'''

PROJECT_CM = '''import functools

from obs.spans import operation


def traced(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with operation(fn.__name__):
            return fn(*args, **kwargs)
    return wrapper
'''

#: (name, the library module `obs/decorators.py`, its coroutine-aware twin, code applying it to `async def`s)
SHAPES = (
    ("optional function", OPTIONAL_FUNC, OPTIONAL_FUNC_AWARE,
     "from obs.decorators import trace_call\n\n\n@trace_call\nasync def fetch(key):\n    return key\n\n\n"
     "@trace_call(name='orders.save')\nasync def save(order):\n    return order\n"),
    ("three levels", THREE_LEVELS, THREE_LEVELS_AWARE,
     "from obs.decorators import db_span, instrument\n\n\n@db_span(table='orders')\nasync def load(key):\n"
     "    return key\n\n\n@instrument('http')(route='/orders')\nasync def handler(request):\n    return request\n"),
    ("manual enter/exit", MANUAL_SCOPE, MANUAL_SCOPE_AWARE,
     "from obs.decorators import traced\n\n\n@traced\nasync def fetch(key):\n    return key\n"),
    ("try/finally log bracket", LOG_BRACKET, LOG_BRACKET_AWARE,
     "from obs.decorators import logged\n\n\n@logged\nasync def fetch(key):\n    return key\n"),
)


def library(module: str, aware: bool = False) -> dict[str, str]:
    """The files of a project holding `module` as `obs/decorators.py` (and the project's span helper)."""
    return {"obs/__init__.py": "", "obs/decorators.py": module, "obs/spans.py": SPANS_MODULE}
