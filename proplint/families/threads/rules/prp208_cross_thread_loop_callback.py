"""PRP208 cross-thread-loop-callback: a worker thread schedules work on an event loop in its own, empty,
context.

Found by `check.py`: `ThreadContextCheck.callback` records each `[[cross_thread_callback]]` call with the
function around it; when the module has been walked (`leave_Module`), those in a function some spawn
started without its creator's context (or in `run()` of a project Thread subclass that does not copy) are
reported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from proplint.core.needs import Cond, all_of, any_of, words
from proplint.core.cst import last_part
from proplint.core.rule import SAFE, Fix, Invalid, Rule, Valid
from proplint.families.threads.edits import append_keyword
from proplint.families.threads.model import CrossThreadCallback
from proplint.families.threads.needs import executor_calls, reported_by_entries, thread_pool_calls, thread_spawns

if TYPE_CHECKING:
    from proplint.core.context import NeedsContext


class CrossThreadLoopCallback(Rule):
    code = "PRP208"
    name = "cross-thread-loop-callback"
    summary = "A worker thread schedules work on an event loop in its own, empty, context."
    fix = "sometimes safe"
    what_it_does = """
        Finds `loop.call_soon_threadsafe(cb, ...)` without `context=`, and
        `asyncio.run_coroutine_threadsafe(coro, loop)`, in a function used (in the same module) as the
        target of a thread, timer, executor or `run_in_executor` that is started without its creator's
        context, or in `run()` of a `Thread` subclass that does not capture one.
    """
    why = """
        The callback (and the task `run_coroutine_threadsafe` creates) runs in a copy of the *calling
        thread's* context. In a thread started without its creator's context that is empty: the work on
        the loop starts new traces and sees none of the request's ContextVars. Once the thread itself runs
        in a copy of its creator's context (PRP201-PRP204 fixed), the default is right.
    """
    already_propagated = """
    - `context=` passed to `call_soon_threadsafe`.
    - The thread target runs in its creator's context (see PRP201's list), or is used only with
      context-safe APIs such as `asyncio.to_thread`.
    """
    example = """
        import threading

        def watch(loop, on_change):
            for change in poll_changes():
                loop.call_soon_threadsafe(on_change, change)

        def start(loop, on_change):
            threading.Thread(target=watch, args=(loop, on_change), daemon=True).start()
    """
    use_instead = """
        import contextvars
        import threading

        def watch(loop, on_change, ctx: contextvars.Context):
            for change in poll_changes():
                loop.call_soon_threadsafe(on_change, change, context=ctx)

        def start(loop, on_change):
            threading.Thread(target=watch, args=(loop, on_change, contextvars.copy_context()), daemon=True).start()
    """
    fix_safety = """
        Safe where `context=` is accepted (`call_soon_threadsafe`) and the function has a Context of its
        creator at hand: a parameter annotated `contextvars.Context`, or a name the enclosing function bound
        to one. Otherwise no fix (`run_coroutine_threadsafe` has no `context=`): copy the context where the
        thread is started.
    """
    VALID = (
        Valid("import contextvars, threading\n\ndef watch(loop, cb):\n    loop.call_soon_threadsafe(cb)\n\n"
              "def start(loop, cb):\n"
              "    threading.Thread(target=contextvars.copy_context().run, args=(watch, loop, cb)).start()\n"),
        Valid("import threading\n\ndef watch(loop, cb, ctx):\n    loop.call_soon_threadsafe(cb, context=ctx)\n\n"
              "def start(loop, cb):\n    threading.Thread(target=watch, args=(loop, cb)).start()\n"),
        Valid("import asyncio\n\ndef watch(loop, cb):\n    loop.call_soon_threadsafe(cb)\n\n"
              "async def start(loop, cb):\n    await asyncio.to_thread(watch, loop, cb)\n"),
    )
    INVALID = (
        Invalid("import threading\n\ndef watch(loop, cb):\n    loop.call_soon_threadsafe(cb)\n\n"
                "def start(loop, cb):\n    threading.Thread(target=watch, args=(loop, cb)).start()\n"),
        Invalid("import contextvars, threading\n\ndef watch(loop, cb, ctx: contextvars.Context):\n"
                "    loop.call_soon_threadsafe(cb)\n\ndef start(loop, cb):\n"
                "    threading.Thread(target=watch, args=(loop, cb, contextvars.copy_context())).start()\n",
                fixed="import contextvars, threading\n\ndef watch(loop, cb, ctx: contextvars.Context):\n"
                      "    loop.call_soon_threadsafe(cb, context=ctx)\n\ndef start(loop, cb):\n"
                      "    threading.Thread(target=watch, args=(loop, cb, contextvars.copy_context())).start()\n"),
        Invalid("import asyncio, threading\n\nclass Bridge(threading.Thread):\n    def __init__(self, loop):\n"
                "        super().__init__(daemon=True)\n        self.loop = loop\n\n    def run(self):\n"
                "        asyncio.run_coroutine_threadsafe(notify(), self.loop)\n"),
    )

    @classmethod
    def needs(cls, project: "NeedsContext") -> Cond:
        """A cross-thread callback, in a function some non-safe spawn recorded as a lost target (process
        spawns record nothing), or in run() of a project Thread subclass (in `thread_spawns`)."""
        callbacks = {last_part(e.name) for e in project.catalog.get("cross_thread_callback")}
        spawns = any_of(thread_spawns(project), thread_pool_calls(project), executor_calls(project))
        return any_of(all_of(spawns, words(callbacks)), reported_by_entries(project, cls.code))

    @staticmethod
    def message(entry: CrossThreadCallback, fix: Fix | None) -> str:
        what = entry.name.rsplit(".", 1)[-1]
        what += " runs its callback" if entry.context_keyword else " runs the coroutine"
        if entry.context_keyword:
            how = (f"pass {entry.context_keyword}={fix.message.rsplit('=', 1)[-1]}" if fix else
                   f"pass {entry.context_keyword}= a Context captured by the thread's creator")
        else:
            how = "schedule it with loop.call_soon_threadsafe(..., context=<the creator's Context>)"
        return (f"{what} in this thread's context, and this thread is started without "
                f"its creator's context (see PRP201-PRP204): {how}, or copy the context where the thread "
                f"is started")

    @staticmethod
    def build_fix(call: cst.Call, entry: CrossThreadCallback, context: str | None) -> Fix | None:
        """`context=<name>` for a Context of the thread's creator in scope (`ContextFlow.creator_context`)."""
        if not entry.context_keyword or context is None:
            return None
        new = append_keyword(call, entry.context_keyword, cst.Name(context))
        return Fix(SAFE, f"Pass {entry.context_keyword}={context}", [(call, new)]) if new is not None else None
