"""PRP403 threading-local-in-async: the rule's declaration, docs and VALID/INVALID examples, its `message` and
where it can report (`needs`). What it finds: `threading.local()` (or a subclass) is used in code that runs on
an event loop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from proplint.core.needs import Cond, all_of, any_of, words
from proplint.core.rule import Invalid, Rule, Valid
from proplint.families.hygiene.facts import foreign_thread_locals, subclasses
from proplint.families.hygiene.needs import any_named, last

if TYPE_CHECKING:
    from proplint.core.context import NeedsContext


class ThreadingLocalInAsync(Rule):
    code = "PRP403"
    name = "threading-local-in-async"
    summary = "`threading.local()` (or a subclass) is used in code that runs on an event loop."
    fix = "none"
    what_it_does = """
        Finds `threading.local()` and instances of its subclasses created in an `async def`, or in a module
        that has `async def`s or imports asyncio, anyio, trio, starlette, fastapi, aiohttp, quart, sanic or
        tornado; and, through the project index, attributes of a thread-local defined in another (sync)
        module read or written inside an `async def`.
    """
    why = """
        Every task on the event loop runs on the same thread, so they all share one `threading.local`.
        Measured: two concurrent handlers that stored the user in a thread-local both read `['bob', 'bob']`;
        the same code with a ContextVar returned `['alice', 'bob']`: async code keeps request state in
        contextvars, not in thread-local storage.
    """
    already_propagated = """
        A thread-local in a module with no async code and no event-loop import is not reported, nor a
        `contextvars.ContextVar`. A thread-local that deliberately holds per-thread resources (a connection
        per executor worker) in an async module is reported: suppress it with `# noqa: PRP403`.
    """
    example = """
        import threading

        _state = threading.local()


        async def handle(request):
            _state.user = request.user
            return await render()
    """
    use_instead = """
        import contextvars

        current_user = contextvars.ContextVar("current_user", default=None)


        async def handle(request):
            current_user.set(request.user)
            return await render()
    """
    fix_safety = """
        No automatic fix: a ContextVar is read with `.get()` and written with `.set()`, not attributes, so
        every use changes. Replace the thread-local with a module-level ContextVar.
    """
    VALID = (
        Valid("import threading\n\n_local = threading.local()\n\n\ndef connection():\n    return _local.conn\n"),
        # a per-thread resource cache: every value stored is an object the module builds (one loop per thread)
        Valid("import asyncio\nimport threading\n\n_thread_local = threading.local()\n\n\n"
              "def loop():\n    if getattr(_thread_local, 'loop', None) is None:\n"
              "        _thread_local.loop = asyncio.new_event_loop()\n    return _thread_local.loop\n"),
        Valid("import contextvars\nimport asyncio\n\nuser = contextvars.ContextVar('user')\n\n\nasync def f():\n"
              "    user.set(1)\n    await asyncio.sleep(0)\n"),
        Valid("from app.state import _local\n\n\ndef sync_handler():\n    _local.user = 1\n",
              files={"app/__init__.py": "", "app/state.py": "import threading\n_local = threading.local()\n"},
              path="app/views.py"),
    )
    INVALID = (
        # the twin: request data stored next to the cached loop
        Invalid("import asyncio\nimport threading\n\n_thread_local = threading.local()\n\n\n"
                "def loop(request):\n    _thread_local.loop = asyncio.new_event_loop()\n"
                "    _thread_local.user = request.user\n    return _thread_local.loop\n"),
        Invalid("import threading\n\n_state = threading.local()\n\n\nasync def handle(request):\n"
                "    _state.user = request.user\n"),
        Invalid("import threading\n\n\nasync def handle():\n    state = threading.local()\n    state.x = 1\n"),
        Invalid("import threading\nfrom fastapi import FastAPI\n\n\nclass RequestState(threading.local):\n"
                "    user = None\n\n\nstate = RequestState()\napp = FastAPI()\n"),
        Invalid("from app.state import _local\n\n\nasync def handler():\n    _local.user = 1\n    return _local.user\n",
                files={"app/__init__.py": "", "app/state.py": "import threading\n_local = threading.local()\n"},
                path="app/views.py"),
    )

    @staticmethod
    def message(func: str, in_async: bool) -> str:
        """A thread-local made by `func` (its source) in an `async def` or (not `in_async`) a loop module."""
        where = "an `async def`" if in_async else "a module that runs on an event loop"
        return (f"`{func}()` in {where}: every task on the loop thread shares one thread-local, so "
                f"concurrent requests overwrite each other's values; use a module-level contextvars.ContextVar")

    @staticmethod
    def use_message(local: str, function: str) -> str:
        """The thread-local `local` (qualified) of a module without async code, used in `async def function`."""
        return (f"thread-local `{local}` used in `async def {function}`: every task on the loop thread shares "
                f"it, so concurrent requests overwrite each other's values; use a module-level ContextVar")

    @classmethod
    def needs(cls, project: "NeedsContext") -> Cond:
        """A catalog thread-local class (or a class of this file based on one, same words) or a project
        subclass (index) created in an `async def` or a module that `loop_module` calls event-loop code
        (`async`/`await` syntax, or an import of an event-loop module, relative ones too); or a
        thread-local of a sync module (index) used in an `async def`."""
        thread_locals = project.catalog.names("thread_local_class")
        local_subclasses = subclasses(project.index, "hygiene.local_subclasses", thread_locals)
        loop = any_of(words({"async", "await"}), any_named(
            project, (e.name for e in project.catalog.get("event_loop_module")), prefix=True))
        created = all_of(any_of(any_named(project, thread_locals), words(last(local_subclasses))), loop)
        # a foreign thread-local is found by the name it resolves to through an import (`Variables.attribute`)
        return any_of(created, all_of(words({"async"}), any_named(project, foreign_thread_locals(project.index))))
