"""PRP207 relies-on-thread-inherit-context: a thread relies on Python 3.14's `thread_inherit_context` flag
where it can be off.

Found by `check.py`: `Thread(..., context=None)` (`ThreadContextCheck.thread`), and, where the project relies
on the flag (`facts.flag_state`) without it being on everywhere, any thread spawn that would otherwise be
PRP201/PRP202 (`spawn`, `thread_subclass`). No fix.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from proplint.core.needs import NEVER, Cond, all_of, any_of, words
from proplint.core.rule import Invalid, Rule, Valid
from proplint.families.threads.facts import flag_state
from proplint.families.threads.model import CONTEXT_KEYWORD
from proplint.families.threads.needs import reported_by_entries, thread_spawns

if TYPE_CHECKING:
    from proplint.core.context import NeedsContext


class ReliesOnThreadInheritContext(Rule):
    code = "PRP207"
    name = "relies-on-thread-inherit-context"
    summary = "A thread relies on Python 3.14's `thread_inherit_context` flag where it can be off."
    fix = "none"
    what_it_does = """
        Finds threads that rely on `sys.flags.thread_inherit_context` (3.14: a new thread starts with a copy
        of the context of the caller of `start()`) instead of passing a context: `Thread(...,
        context=None)`, and `Thread`/`Timer` constructions or `Thread` subclasses without an explicit context
        in a project that turns the flag on (`-X thread_inherit_context=1` or
        `PYTHON_THREAD_INHERIT_CONTEXT=1` in a launcher or env file, or code that reads or sets it), when
        `target-version` includes builds where the flag is off. Where this rule applies, it replaces
        PRP201/PRP202 for that thread.
    """
    why = """
        The flag is new in 3.14, defaults on only for free-threaded builds (`3.14t`), and off on the default
        builds with the GIL; before 3.14 it does not exist. The same program keeps the trace on one
        interpreter and loses it on another. It also does not help executors: pool workers are started by
        the first `submit()` calls and keep that caller's context for every later task (PRP203 says so).
    """
    already_propagated = """
    - An explicit context: `context=contextvars.copy_context()` (3.14+) or `target=contextvars.copy_context().run`.
    - The flag is set in a launcher or env file and `target-version` is `py314` or later: every supported
      interpreter then runs with it on, and nothing is reported.
    """
    example = """
        # Dockerfile: ENV PYTHON_THREAD_INHERIT_CONTEXT=1; pyproject: target-version = "py311"
        import threading

        def handle(job):
            threading.Thread(target=job).start()
    """
    use_instead = """
        import contextvars
        import threading

        def handle(job):
            threading.Thread(target=contextvars.copy_context().run, args=(job,)).start()
    """
    fix_safety = """
        No automatic fix: the code was written for the flag, so the right explicit form depends on whether
        the thread should see the caller's context (`copy_context()`) or start empty (`Context()`). The
        message names the explicit form.
    """
    # a deployed service with a request context (a project with no context has nothing to lose)
    _FLAG_ON = {"Dockerfile": "FROM python:3.14\nENV PYTHON_THREAD_INHERIT_CONTEXT=1\n"
                              "CMD [\"python\", \"-m\", \"app\"]\n",
                "app/__init__.py": "", "app/ctx.py": "import contextvars\n\nrequest_id = contextvars.ContextVar('request_id')\n"}
    VALID = (
        Valid("import threading\n\ndef handle(job):\n    threading.Thread(target=job).start()\n",
              config={"target-version": "py314"}, files=_FLAG_ON),
        Valid("import contextvars, threading\n\ndef handle(job):\n"
              "    threading.Thread(target=contextvars.copy_context().run, args=(job,)).start()\n", files=_FLAG_ON),
        Valid("import threading\n\ndef handle(job):\n    threading.Thread(target=job).start()\n"),
    )
    INVALID = (
        Invalid("import threading\n\ndef handle(job):\n    threading.Thread(target=job).start()\n", files=_FLAG_ON),
        Invalid("import threading\n\ndef handle(job):\n    threading.Thread(target=job, context=None).start()\n",
                config={"target-version": "py314"}),
        Invalid("import sys, threading\n\nassert sys.flags.thread_inherit_context\n\ndef handle(job):\n"
                "    threading.Timer(1, job).start()\n", config={"target-version": "py314"}),
    )

    @classmethod
    def needs(cls, project: "NeedsContext") -> Cond:
        """`Thread(..., context=None)` unless the flag is on everywhere; and, where the project relies on the
        flag without it being on everywhere, any thread spawn."""
        state = flag_state(project.index, project.config)
        takes = [e for e in project.catalog.get("thread_spawner") if e.context_since]
        explicit_none = all_of(thread_spawns(project, takes), words({CONTEXT_KEYWORD}, {"None"}))
        return any_of(explicit_none if state != "on" else NEVER,
                      thread_spawns(project) if state not in (None, "on") else NEVER,
                      reported_by_entries(project, cls.code))

    @staticmethod
    def message(label: str, fn: str, state: str) -> str:
        """A thread spawn without an explicit context, in a project that relies on the flag."""
        return (f"{label} starts `{fn}` relying on thread_inherit_context: {state}; pass the "
                f"context explicitly (target=contextvars.copy_context().run, args=({fn}, ...))")

    @staticmethod
    def context_none_message(label: str, why: str) -> str:
        return (f"{label}(context=None) leaves the thread's context to thread_inherit_context: {why}; "
                f"pass context=contextvars.copy_context()")

    @staticmethod
    def run_message(label: str, state: str) -> str:
        """A started Thread subclass overriding `run()`, in a project that relies on the flag."""
        return (f"{label} overrides run() and relies on thread_inherit_context: {state}; "
                f"capture contextvars.copy_context() in __init__/start() and run the body in it")
