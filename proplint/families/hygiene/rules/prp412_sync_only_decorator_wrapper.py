"""PRP412 sync-only-decorator-wrapper: the rule's declaration, docs and VALID/INVALID examples, its `message`, its
fix (`build_fix`, when it has one) and where it can report (`needs`, and the exact `ast_gate` the check hands to
the engine). What it finds: A decorator's only wrapper is a plain `def` that does work after `fn(...)` returns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import libcst as cst

from proplint.families.hygiene.decorator_shapes import SHAPES
from proplint.core.needs import ALWAYS, Cond, all_of, any_of, inside, words
from proplint.core.rule import Fix, Invalid, Rule, Valid
from proplint.families.hygiene.decorators import gate_facts, vocabulary
from proplint.families.hygiene.edits import async_branch_fix
from proplint.families.hygiene.decorators import applied_to_coroutines
from proplint.families.hygiene.needs import awaitable, last, scope

if TYPE_CHECKING:
    from proplint.core.context import AstFile, NeedsContext

_TIMED = ("import functools\nimport logging\nimport time\n\nlog = logging.getLogger(__name__)\n\n\n"
          "def timed(fn):\n    @functools.wraps(fn)\n    def wrapper(*args, **kwargs):\n"
          "        start = time.perf_counter()\n"
          "        result = fn(*args, **kwargs)\n"
          "        log.info('%s took %.3fs', fn.__name__, time.perf_counter() - start)\n"
          "        return result\n    return wrapper\n")
_TIMED_FIXED = ("import functools\nimport inspect\nimport logging\nimport time\n\nlog = logging.getLogger(__name__)\n\n"
                "\n"
                "def timed(fn):\n    if inspect.iscoroutinefunction(fn):\n        @functools.wraps(fn)\n"
                "        async def _async_wrapper(*args, **kwargs):\n            start = time.perf_counter()\n"
                "            result = await fn(*args, **kwargs)\n"
                "            log.info('%s took %.3fs', fn.__name__, time.perf_counter() - start)\n"
                "            return result\n        return _async_wrapper\n\n"
                "    @functools.wraps(fn)\n    def wrapper(*args, **kwargs):\n        start = time.perf_counter()\n"
                "        result = fn(*args, **kwargs)\n"
                "        log.info('%s took %.3fs', fn.__name__, time.perf_counter() - start)\n"
                "        return result\n    return wrapper\n")
_ASYNC_FILE = {"app/handlers.py": "async def handler():\n    pass\n"}
_APPLIED = {"app/__init__.py": "", "app/handlers.py": "from example import timed\n\n\n@timed\nasync def handler():\n"
                                                      "    pass\n"}


class SyncOnlyDecoratorWrapper(Rule):
    code = "PRP412"
    name = "sync-only-decorator-wrapper"
    summary = "A decorator's only wrapper is a plain `def` that does work after `fn(...)` returns."
    fix = "unsafe"
    what_it_does = """
        Finds the definition of a decorator (plain or factory) whose wrapper is sync-only (no
        `inspect.iscoroutinefunction` branch, no async wrapper) and does work once `fn(...)` returns that
        assumes the call has finished: closing a span or scope (`with`, `end()`, `detach`, `reset`), a
        `finally`, an "end" log or timing. Reported once, on the wrapper's `def` line, when the decorator is
        applied to a coroutine function (or an awaitable-returning `def`) somewhere in the project, found
        through the project index; and, for a library's users, when it is a generic (`*args`/`**kwargs`)
        tracing decorator (its wrapper opens a span or scope) in a project with async code.
    """
    why = """
        Whoever applies it to a coroutine function (in this project, or a library's users) gets a
        zero-length span and unparented children: the wrapper returns the coroutine object at once, so its
        "after" work runs before the body does (PRP401 reports each such use). A timing or "done" log
        measures the creation of the coroutine, not its run, and a `finally` cleans up before the work.
    """
    already_propagated = """
        An async-aware decorator (see PRP401); a wrapper that does nothing after `fn(...)` returns (checks
        before the call only). A decorator whose after-work is only a `finally`, a log or a timing is not
        reported until something in the project applies it to a coroutine function (sync-only helpers such
        as lock or signal guards are common and harmless); a tracing decorator is not reported in a
        project without any `async def`, nor where the project applies it itself and never to a coroutine
        function (a decorator nothing in the project applies is its users' to put on one).
    """
    example = """
        import functools
        import logging
        import time

        log = logging.getLogger(__name__)


        def timed(fn):
            @functools.wraps(fn)
            def wrapper(*args, **kwargs):
                start = time.perf_counter()
                result = fn(*args, **kwargs)
                log.info("%s took %.3fs", fn.__name__, time.perf_counter() - start)
                return result
            return wrapper
    """
    use_instead = """
        import functools
        import inspect
        import logging
        import time

        log = logging.getLogger(__name__)


        def timed(fn):
            if inspect.iscoroutinefunction(fn):
                @functools.wraps(fn)
                async def _async_wrapper(*args, **kwargs):
                    start = time.perf_counter()
                    result = await fn(*args, **kwargs)
                    log.info("%s took %.3fs", fn.__name__, time.perf_counter() - start)
                    return result
                return _async_wrapper

            @functools.wraps(fn)
            def wrapper(*args, **kwargs):
                start = time.perf_counter()
                result = fn(*args, **kwargs)
                log.info("%s took %.3fs", fn.__name__, time.perf_counter() - start)
                return result
            return wrapper
    """
    fix_safety = """
        Unsafe, the same async-branch rewrite as PRP401 (same conditions: one `fn(...)` call and
        `return wrapper` right after the wrapper): it changes the decorator for every user.
    """
    VALID = (
        *(Valid(aware, files={"app.py": apps.replace("obs.decorators", "example")}) for _, _, aware, apps in SHAPES),
        Valid(_TIMED),
        Valid(_TIMED, files=_ASYNC_FILE),
        Valid("import sys\n\nif sys.version_info >= (3, 11):\n    def helper(fn):\n        def inner():\n"
              "            try:\n                return fn()\n            finally:\n                pass\n"
              "        return inner\n", files=_ASYNC_FILE),
        Valid(_TIMED.replace("def timed(fn):\n", "def timed(fn):\n    if inspect.iscoroutinefunction(fn):\n"
                             "        return _timed_async(fn)\n"), files=_ASYNC_FILE),
        Valid("import functools\n\n\ndef login_required(fn):\n    @functools.wraps(fn)\n"
              "    def wrapper(*args, **kwargs):\n"
              "        check_user()\n        return fn(*args, **kwargs)\n    return wrapper\n", files=_ASYNC_FILE),
    )
    INVALID = (
        # the real shapes (`decorator_shapes.py`), applied to `async def`s in another module: found at the wrapper
        *(Invalid(module, files={"app.py": apps.replace("obs.decorators", "example")})
          for _, module, _, apps in SHAPES),
        Invalid(_TIMED, fixed=_TIMED_FIXED, unsafe=True, files=_APPLIED),
        Invalid("import functools\n\n\ndef traced(fn):\n    @functools.wraps(fn)\n    def wrapper(*args, **kwargs):\n"
                "        with tracer.start_as_current_span(fn.__name__):\n            return fn(*args, **kwargs)\n"
                "    return wrapper\n", files=_ASYNC_FILE),
        Invalid("import logging\n\n\ndef audited(fn):\n    def wrapper(request):\n        try:\n"
                "            return fn(request)\n"
                "        finally:\n            audit_log.write('done')\n    return wrapper\n\n\n@audited\n"
                "async def view(request):\n"
                "    pass\n",
                fixed='import functools\nimport inspect\nimport logging\n\n\ndef audited(fn):\n'
                      '    if inspect.iscoroutinefunction(fn):\n        @functools.wraps(fn)\n'
                      '        async def _async_wrapper(request):\n            try:\n'
                      '                return await fn(request)\n            finally:\n'
                      "                audit_log.write('done')\n        return _async_wrapper\n\n"
                      '    def wrapper(request):\n        try:\n            return fn(request)\n'
                      "        finally:\n            audit_log.write('done')\n    return wrapper\n\n\n@audited\n"
                      'async def view(request):\n    pass\n',
                unsafe=True),
    )

    @staticmethod
    def message(decorator: str, wrapper: str, facts: dict[str, Any]) -> str:
        """`decorator` (its name) wraps in `def wrapper`; `facts` of the decorator (`decorators.py`)."""
        return (f"`{decorator}` wraps every function in the sync-only `def {wrapper}`: "
                f"{facts['after']} as soon as `{facts['fn']}(...)` returns, which for a coroutine function is "
                f"before its body runs{' (a zero-length span, unparented children)' if facts['scope'] else ''}; "
                f"add an `inspect.iscoroutinefunction` branch with an async wrapper")

    @staticmethod
    def build_fix(container: cst.CSTNode, wrapper: cst.FunctionDef, facts: dict[str, Any]) -> Fix | None:
        """The async branch before `wrapper` in its `container` def, when the facts say it applies."""
        if facts["fixable"] and isinstance(container, cst.FunctionDef):
            return async_branch_fix(container, wrapper, facts["fn"])
        return None

    @classmethod
    def needs(cls, project: "NeedsContext") -> Cond:
        """A nested `def` wrapper with "after" work (`decorators._wrapper_facts`: a `with`, a `finally`, a
        closer, a `.reset`, or a finish marker by its last name), reported when the decorator is applied to
        a coroutine/awaitable function here (`async`, an awaitable annotation) or in the project (index), or
        opens a scope in a project with async code (here, or anywhere per the index)."""
        index = project.index
        voc = vocabulary(project.catalog)
        openers = project.catalog.get("span_opener")
        after = {"with", "finally", *voc.markers, *voc.cv_reset, *last(e.closer for e in openers if e.closer)}
        # The application's qualified name must be `<module of the checked file>.<name>` (the bare name in a
        # file without a module name): the decorator's name in a file of that module.
        by_module: dict[str, set[str]] = {}
        for a in applied_to_coroutines(index):
            module, _, name = a.rpartition(".")
            by_module.setdefault(module, set()).add(name)
        applied = any_of(*(all_of(inside(module), words(names)) if module else words(names)
                           for module, names in sorted(by_module.items())))
        project_async = any(f.get("async") for _, f in index.facts("hygiene.applications"))
        return all_of(words({"def"}), words(after), any_of(
            words({"async"}), awaitable(project), applied,
            all_of(scope(project), ALWAYS if project_async else words({"async"}))))

    @classmethod
    def ast_gate(cls, catalog, index) -> Callable[["AstFile"], bool]:
        """The exact test on the file's `ast` (`HygieneCheck.ast_gates`): the check reports a wrapper only
        if this file's own decorator facts (its `local()`, from the same `ast` of the same text) have one
        with "after" work that does not handle coroutines. On the benchmark corpus 366 files pass the words
        of PRP412 alone and 2 of them have such a decorator."""
        def sync_only_wrapper(f: "AstFile") -> bool:
            return gate_facts(f, catalog)["sync_only"]

        return sync_only_wrapper
