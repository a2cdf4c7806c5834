"""PRP401 sync-wrapper-on-coroutine-function: the rule's declaration, docs and VALID/INVALID examples, its
`message`, its fix (`build_fix`) and where it can report (`needs`, and the exact `ast_gate` the
check hands to the engine). What it finds: A decorator whose plain `def` wrapper opens a span or scope decorates
an `async def` or a generator.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import libcst as cst

from proplint.core.needs import Cond, all_of, any_of, words
from proplint.core.rule import Fix, Invalid, Rule, Valid
from proplint.families.hygiene.decorator_shapes import PROJECT_CM, SHAPES, library
from proplint.families.hygiene.decorators import brackets, gate_facts, project_span_cms, settle
from proplint.families.hygiene.edits import async_branch_fix, find_wrapper
from proplint.families.hygiene.decorators import scoped_decorators
from proplint.families.hygiene.needs import bracket, last, scope, target

if TYPE_CHECKING:
    from proplint.core.context import AstFile, NeedsContext

# A decorator factory of the common `@traced(name)` shape, and its async-aware form (the PRP401/PRP412 fix's output).
_TRACED = (
    "import functools\n\nfrom opentelemetry import trace\n\ntracer = trace.get_tracer(__name__)\n\n\n"
    "def traced(name):\n    def decorator(fn):\n        @functools.wraps(fn)\n        def wrapper(*args, **kwargs):\n"
    "            with tracer.start_as_current_span(name):\n                return fn(*args, **kwargs)\n"
    "        return wrapper\n    return decorator\n"
)
_TRACED_FIXED = (
    "import functools\nimport inspect\n\nfrom opentelemetry import trace\n\ntracer = trace.get_tracer(__name__)\n\n\n"
    "def traced(name):\n    def decorator(fn):\n        if inspect.iscoroutinefunction(fn):\n"
    "            @functools.wraps(fn)\n            async def _async_wrapper(*args, **kwargs):\n"
    "                with tracer.start_as_current_span(name):\n                    return await fn(*args, **kwargs)\n"
    "            return _async_wrapper\n\n"
    "        @functools.wraps(fn)\n        def wrapper(*args, **kwargs):\n"
    "            with tracer.start_as_current_span(name):\n                return fn(*args, **kwargs)\n"
    "        return wrapper\n    return decorator\n"
)
_AWARE = (
    "import functools\nimport inspect\n\nfrom opentelemetry import trace\n\ntracer = trace.get_tracer(__name__)\n\n\n"
    "def traced(fn):\n    if inspect.iscoroutinefunction(fn):\n        @functools.wraps(fn)\n"
    "        async def async_wrapper(*args, **kwargs):\n            with tracer.start_as_current_span(fn.__name__):\n"
    "                return await fn(*args, **kwargs)\n        return async_wrapper\n\n"
    "    @functools.wraps(fn)\n    def wrapper(*args, **kwargs):\n"
    "        with tracer.start_as_current_span(fn.__name__):\n"
    "            return fn(*args, **kwargs)\n    return wrapper\n"
)
_PLAIN = (
    "import functools\n\nfrom opentelemetry import trace\n\ntracer = trace.get_tracer(__name__)\n\n\n"
    "def traced(fn):\n    @functools.wraps(fn)\n    def wrapper(*args, **kwargs):\n"
    "        with tracer.start_as_current_span(fn.__name__):\n            return fn(*args, **kwargs)\n"
    "    return wrapper\n"
)
_PKG = {"pkg/__init__.py": "", "pkg/observability.py": _TRACED}
_PKG_PLAIN = {"pkg/__init__.py": "", "pkg/observability.py": _PLAIN}


#: How a message names each target kind (`target_kind`): (the function, the object a call returns).
KIND_TEXT = {
    "coroutine": ("an `async def`", "coroutine"),
    "asyncgen": ("an async generator", "async generator"),
    "generator": ("a generator", "generator"),
    "awaitable": ("a function returning an awaitable", "awaitable"),
}


class SyncWrapperOnCoroutineFunction(Rule):
    code = "PRP401"
    name = "sync-wrapper-on-coroutine-function"
    summary = "A decorator whose plain `def` wrapper opens a span or scope decorates an `async def` or a generator."
    fix = "unsafe"
    what_it_does = """
        Finds `@traced` / `@traced("x")` on an `async def`, an async generator, a generator, or a plain `def`
        annotated to return an awaitable, when the decorator's wrapper is a plain `def` that opens a span or
        scope around `fn(...)`: `with tracer.start_as_current_span(...)`, `start_span(...)` + `end()`,
        `context.attach(...)` + `detach` (in try/finally or after), `ContextVar.set` + `reset`. The decorator
        may be defined in the same module or anywhere in the project: it is resolved through imports
        (relative imports and package re-exports included) with the project index, whether it is a
        decorator factory (`@traced("x")`, `@trace(name="x")` of a `def trace(func=None, *, name=None)`), a
        three-level factory (`@factory(kind)(name="x")`, or `traced = factory(kind)` then `@traced(...)`) or
        a plain decorator (`@traced`). The scope may be the library's or the project's own span API (`with
        start_span(...)`, `with getattr(Tracer, kind)(...)`, a project `@contextmanager` that opens a span,
        in any module), opened by hand (`scope = start_active_span(name); scope.__enter__()` ...
        `scope.__exit__(...)`), or a bracket without a span: a `finally` that logs, times or ends something,
        or a "start" and an "end" log record (or a timer read) before and after the call. A lock, a
        transaction or `contextlib.suppress` around the call is none of these. Reported on the decorator
        line.
    """
    why = """
        Calling a coroutine function only creates the coroutine: the wrapper's `with` block exits (and its
        span ends) before the body runs. Measured: the span lasts 0.01 ms and the spans the body makes are
        not its children (`child parented to sync_wrapper? False`). A generator behaves the same way: the
        work happens while iterating, after the wrapper returned. Instrumentation that treats `async`
        functions as synchronous makes the same mistake in other languages too.
    """
    already_propagated = """
        - The wrapper is an `async def` that awaits `fn(...)`, or the decorator branches on
          `inspect.iscoroutinefunction` / `asyncio.iscoroutinefunction` (or checks the result with
          `inspect.isawaitable` / `inspect.iscoroutine`, or calls a project helper named like
          `is_async_callable`). A decorator that only checks and refuses coroutine functions is correct too.
        - For generators: an `inspect.isgeneratorfunction` / `inspect.isasyncgenfunction` branch.
        - `functools.wraps` over an async-aware helper: a wrapper that opens no scope itself is not reported.
        - A decorator below it that changes what is wrapped (`contextlib.contextmanager`,
          `asynccontextmanager`, `staticmethod`, `classmethod`, `property`, `pytest.fixture`).
        - Decorators proplint cannot see into (from a library, class-based, built by a call) are not reported.
    """
    example = """
        import functools

        from opentelemetry import trace

        tracer = trace.get_tracer(__name__)


        def traced(name):
            def decorator(fn):
                @functools.wraps(fn)
                def wrapper(*args, **kwargs):
                    with tracer.start_as_current_span(name):
                        return fn(*args, **kwargs)
                return wrapper
            return decorator


        @traced("orders.create")
        async def create_order(order):
            ...
    """
    use_instead = """
        import functools
        import inspect

        from opentelemetry import trace

        tracer = trace.get_tracer(__name__)


        def traced(name):
            def decorator(fn):
                if inspect.iscoroutinefunction(fn):
                    @functools.wraps(fn)
                    async def _async_wrapper(*args, **kwargs):
                        with tracer.start_as_current_span(name):
                            return await fn(*args, **kwargs)
                    return _async_wrapper

                @functools.wraps(fn)
                def wrapper(*args, **kwargs):
                    with tracer.start_as_current_span(name):
                        return fn(*args, **kwargs)
                return wrapper
            return decorator
    """
    fix_safety = """
        Unsafe. When the decorator is defined in the same file, its wrapper calls `fn(...)` exactly once (as
        `return fn(...)`, `x = fn(...)` or a bare call, inside a `with`, a try/finally or between a start and
        an end) and the statement after the wrapper is `return wrapper`, the fix inserts an
        `if inspect.iscoroutinefunction(fn):` branch with an `async def` copy of the wrapper that awaits
        `fn(...)` inside the same block, and returns it (adding `import inspect`, and `functools` when the
        wrapper had no `@functools.wraps`). It changes the decorator for every user, and code that relied
        on `inspect.iscoroutinefunction(decorated)` being False sees True. No fix on generators or
        awaitable-returning functions (the branch would not apply to them), nor at an application site in
        another module: the message names the wrapper's file and line, where PRP412 offers the same fix.
    """
    VALID = (
        Valid(_AWARE + "\n\n@traced\nasync def handle(order):\n    return order\n"),
        Valid(_TRACED + "\n\n@traced('sync')\ndef handle(order):\n    return order\n"),
        Valid("import functools\n\n\ndef traced(fn):\n    @functools.wraps(fn)\n"
              "    async def wrapper(*args, **kwargs):\n"
              "        with tracer.start_as_current_span(fn.__name__):\n            return await fn(*args, **kwargs)\n"
              "    return wrapper\n\n\n@traced\nasync def handle():\n    pass\n"),
        Valid("from pkg.observability import traced\n\n\n@traced\nasync def handle():\n    pass\n",
              files={"pkg/__init__.py": "", "pkg/observability.py": _AWARE}, path="pkg/handlers.py"),
        Valid("import functools\nimport inspect\n\n\ndef traced(fn):\n    if inspect.iscoroutinefunction(fn):\n"
              "        raise TypeError('traced is for sync functions')\n\n    @functools.wraps(fn)\n"
              "    def wrapper(*args, **kwargs):\n        with tracer.start_as_current_span('x'):\n"
              "            return fn(*args, **kwargs)\n    return wrapper\n"),
        Valid("import functools\n\n\ndef traced(fn):\n    @functools.wraps(fn)\n    def wrapper(*args, **kwargs):\n"
              "        return _run_traced(fn, args, kwargs)\n    return wrapper\n\n\n@traced\nasync def handle():\n"
              "    pass\n"),
        Valid(_PLAIN + "\n\nclass Repo:\n    @traced\n    @property\n    def name(self):\n        return 'x'\n"),
        # the real shapes (`decorator_shapes.py`), once they branch on coroutine functions
        *(Valid(apps, files=library(aware), path="app.py") for _, _, aware, apps in SHAPES),
        # a lock, a transaction or `contextlib.suppress` around the call is not a tracing, logging or timing scope
        Valid("import contextlib\nimport functools\nimport threading\n\nlock = threading.Lock()\n\n\n"
              "def serialized(fn):\n    @functools.wraps(fn)\n    def wrapper(*args, **kwargs):\n        with lock:\n"
              "            with contextlib.suppress(KeyError):\n                return fn(*args, **kwargs)\n"
              "    return wrapper\n\n\n@serialized\nasync def handle():\n    pass\n"),
    )
    INVALID = (
        # the real shapes (`decorator_shapes.py`), applied in another module: found at each application
        *(Invalid(apps, count=apps.count("\n@"), files=library(module), path="app.py")
          for _, module, _, apps in SHAPES),
        # the span opened by the project's own `@contextmanager`, defined in a third module
        Invalid("from obs.project_cm import traced\n\n\n@traced\nasync def fetch(key):\n    return key\n",
                files={**library(""), "obs/project_cm.py": PROJECT_CM}, path="app.py"),
        Invalid(_TRACED + "\n\n@traced(\"orders.create\")\nasync def create_order(order):\n    return order\n",
                fixed=_TRACED_FIXED + "\n\n@traced(\"orders.create\")\nasync def create_order(order):\n"
                                      "    return order\n",
                unsafe=True),
        Invalid("from .observability import traced\n\n\n@traced(\"orders.create\")\nasync def create_order(order):\n"
                "    return order\n", files=_PKG, path="pkg/handlers.py"),
        Invalid("from pkg.observability import traced\n\n\nclass Handlers:\n    @traced\n    async def one(self):\n"
                "        pass\n\n    @traced\n    async def two(self):\n        pass\n",
                files=_PKG_PLAIN, path="pkg/handlers.py", count=2),
        Invalid("from pkg import traced\n\n\n@traced('feed')\nasync def feed():\n    yield 1\n",
                files={"pkg/__init__.py": "from .observability import traced\n", "pkg/observability.py": _TRACED},
                path="app/stream.py"),
        Invalid(_PLAIN + "\n\n@traced\ndef rows():\n    yield from range(3)\n"),
        Invalid("import functools\n\n\ndef traced(fn=None, *, name=None):\n    def decorator(f):\n"
                "        @functools.wraps(f)\n        def wrapper(*args, **kwargs):\n"
                "            with tracer.start_as_current_span(name or f.__name__):\n"
                "                return f(*args, **kwargs)\n"
                "        return wrapper\n    return decorator if fn is None else decorator(fn)\n\n\n"
                "@traced\nasync def a():\n    pass\n\n\n@traced(name='b')\nasync def b():\n    pass\n", count=2),
        Invalid("import typing\n" + _PLAIN + "\n\n@traced\ndef process(self) -> typing.Awaitable[str]:\n"
                "    return self._impl()\n"),
        Invalid("from opentelemetry import context\n\n\ndef with_context(ctx):\n    def decorator(fn):\n"
                "        def wrapper(*args, **kwargs):\n            token = context.attach(ctx)\n            try:\n"
                "                return fn(*args, **kwargs)\n            finally:\n"
                "                context.detach(token)\n"
                "        return wrapper\n    return decorator\n\n\n@with_context(None)\nasync def job():\n    pass\n",
                fixed='import functools\nimport inspect\n\nfrom opentelemetry import context\n\n\n'
                      'def with_context(ctx):\n    def decorator(fn):\n'
                      '        if inspect.iscoroutinefunction(fn):\n            @functools.wraps(fn)\n'
                      '            async def _async_wrapper(*args, **kwargs):\n'
                      '                token = context.attach(ctx)\n                try:\n'
                      '                    return await fn(*args, **kwargs)\n                finally:\n'
                      '                    context.detach(token)\n            return _async_wrapper\n\n'
                      '        def wrapper(*args, **kwargs):\n            token = context.attach(ctx)\n'
                      '            try:\n                return fn(*args, **kwargs)\n            finally:\n'
                      '                context.detach(token)\n        return wrapper\n    return decorator\n\n\n'
                      '@with_context(None)\nasync def job():\n    pass\n',
                unsafe=True),
    )

    @staticmethod
    def message(decorator: str, kind: str, function: str, facts: dict[str, Any], here: bool) -> str:
        """`decorator` (its source) on `function` of target `kind`; `facts` of the decorator; `here`: defined
        in the checked file (else the message says where the wrapper is)."""
        desc, obj = KIND_TEXT[kind]
        if facts["scope"]:
            message = (f"`@{decorator}` wraps {desc} `{function}` in a plain `def` wrapper: its "
                       f"`{facts['scope']}` scope closes as soon as the {obj} object is returned, before the body "
                       f"runs, so the span is near zero-length and spans inside are not its children")
        else:
            what = {"timing": "its timing", "log": "its closing log record", "span": "its scope"}.get(
                facts.get("bracket", ""), "its closing work")
            message = (f"`@{decorator}` wraps {desc} `{function}` in a plain `def` wrapper: {what} runs "
                       f"({facts['after']}) as soon as the {obj} object is returned, before the body runs, so it "
                       f"measures or records nothing of it; add a coroutine branch (an `async def` twin that "
                       f"awaits the call)")
        if not here:
            message += f" (the wrapper is at {facts['file']}:{facts['line']}; fix it there, see PRP412)"
        return message

    @staticmethod
    def build_fix(module: cst.Module, facts: dict[str, Any], kind: str, here: bool) -> Fix | None:
        """The async branch in the decorator's wrapper, when it is defined in this file and can take one."""
        if not here or kind != "coroutine" or not facts["fixable"]:
            return None
        found = find_wrapper(module, facts["path"])
        return async_branch_fix(found[0], found[1], facts["fn"]) if found else None

    @classmethod
    def needs(cls, project: "NeedsContext") -> Cond:
        """A decorator with a scope, on a target kind; the decorator is defined in this file (its wrapper's
        scope words are here) or is a project decorator with a scope, named by its last name or a
        re-export's (the check's `_may_wrap` -> `resolve_decorator`)."""
        return all_of(target(project), any_of(scope(project), bracket(project),
                                              words(last(scoped_decorators(project.index)))))

    @classmethod
    def ast_gate(cls, catalog, index) -> Callable[["AstFile"], bool]:
        """The exact test on the file's `ast` (`HygieneCheck.ast_gates`): a def that can be a coroutine,
        generator or awaitable-returning function (async, a yield anywhere in it, a return annotation)
        decorated by a name whose facts have a scope: this file's own decorators (same facts as the check's
        `local()`), or a project decorator or re-export (`resolve_decorator`), by its last name or an import
        alias of it."""
        project_scoped = frozenset(q.rsplit(".", 1)[-1] for q in scoped_decorators(index))
        span_cms = project_span_cms(index)

        def sync_wrapper_on_target(f: "AstFile") -> bool:
            facts = gate_facts(f, catalog)  # this file's own decorators: the same facts as the check's `local()`
            names = {n for n, found in facts["local"].items() if brackets(settle(found, span_cms))} | project_scoped
            # a decorated name, or an import alias of one
            return any(d in names or facts["aliases"].get(d) in names for d in facts["decorated"])

        return sync_wrapper_on_target
