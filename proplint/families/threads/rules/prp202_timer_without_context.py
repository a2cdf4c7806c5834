"""PRP202 timer-without-context: `threading.Timer(interval, fn)` runs `fn` without the caller's context.

A Timer is a Thread: the check finds it as a `[[thread_spawner]]` whose `code` is PRP202, and reports it with
PRP201's message and fix (`ThreadWithoutContext.message` / `.build_fix`, in `prp201_thread_without_context.py`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from proplint.core.needs import Cond
from proplint.core.rule import Invalid, Rule, Valid
from proplint.families.threads.needs import reported_by_entries
from proplint.families.threads.rules.common import INSTRUMENTED, PROPAGATED, REQUEST_ID

if TYPE_CHECKING:
    from proplint.core.context import NeedsContext


class TimerWithoutContext(Rule):
    code = "PRP202"
    name = "timer-without-context"
    summary = "`threading.Timer(interval, fn)` runs `fn` without the caller's context."
    fix = "sometimes safe"
    what_it_does = """
        Finds `threading.Timer(interval, function, args=None, kwargs=None)` constructions whose function
        (positional or `function=`) runs without a copy of the caller's context.
    """
    why = """
        `Timer` is a `Thread` subclass: the function runs later, on a new thread, in an empty context. Spans
        it makes start new traces; the caller's ContextVars are unset.
    """
    already_propagated = PROPAGATED
    example = """
        import threading

        def schedule_retry(job):
            threading.Timer(5.0, retry, args=(job,)).start()
    """
    use_instead = """
        import contextvars
        import threading

        def schedule_retry(job):
            threading.Timer(5.0, contextvars.copy_context().run, args=(retry, job)).start()
    """
    fix_safety = """
        Safe. `Timer(interval, fn, args=(a,), kwargs=kw)` becomes `Timer(interval,
        contextvars.copy_context().run, args=(fn, a), kwargs=kw)`; a non-literal `args=x` becomes
        `args=(fn, *x)` (so `args` must not be `None` at run time; a literal `None` becomes `(fn,)`), and
        `import contextvars` is added. No fix when a `*`/`**` argument may hold the function or `args`.
    """
    VALID = (
        # a process exit reads no context
        Valid("import os, threading\n\ndef exit_later():\n    threading.Timer(5, os._exit, args=(1,)).start()\n"),
        Valid("import contextvars, threading\n\ndef later(fn):\n"
              "    threading.Timer(5, contextvars.copy_context().run, args=(fn,)).start()\n"),
        Valid("import threading\n\ndef later(fn):\n    threading.Timer(5, fn).start()\n", files=INSTRUMENTED),
    )
    INVALID = (
        Invalid("import threading\n\ndef later(fn, a, kw):\n    threading.Timer(5, fn, args=(a,), kwargs=kw).start()\n",
                fixed='import contextvars\nimport threading\n\ndef later(fn, a, kw):\n'
                      '    threading.Timer(5, contextvars.copy_context().run, args=(fn, a), kwargs=kw).start()\n'),
        Invalid("from threading import Timer\n\ndef later(fn):\n    Timer(interval=1.0, function=fn).start()\n",
                fixed='import contextvars\nfrom threading import Timer\n\ndef later(fn):\n'
                      '    Timer(interval=1.0, function=contextvars.copy_context().run, args=(fn,)).start()\n'),
        Invalid("import threading\n\ndef later(fn):\n    threading.Timer(5, fn).start()\n",
                files={**INSTRUMENTED, **REQUEST_ID}),
        # `*spec` may hold the function or its arguments: reported, with no fix
        Invalid("import threading\n\ndef later(fn, *spec):\n    threading.Timer(5, fn, *spec).start()\n"),
    )

    @classmethod
    def needs(cls, project: "NeedsContext") -> Cond:
        """A spawner whose entry has this code (`threading.Timer`)."""
        return reported_by_entries(project, cls.code)
