"""PRP306 celery-delay-drops-headers: celery `delay(...)` cannot carry headers in a project that
propagates by hand.

The rule's whole truth: declaration, examples, message, fix and needs; the visitor is `check.py`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from proplint.core.rule import Fix, Invalid, Rule, Valid
from proplint.families.messaging.needs import sources
from proplint.families.messaging.rules.prp301_producer_without_trace_carrier import LOW_CONFIDENCE

if TYPE_CHECKING:
    from proplint.core.context import NeedsContext
    from proplint.core.needs import Cond
    from proplint.families.messaging.edits import Fixes
    from proplint.families.messaging.model import Producer


class CeleryDelayDropsHeaders(Rule):
    code = "PRP306"
    name = "celery-delay-drops-headers"
    summary = "Celery `delay(...)` cannot carry headers in a project that propagates by hand."
    fix = "always safe"
    what_it_does = """
        Finds `task.delay(...)` (on a task defined with `@app.task`, `@shared_task`, or a signature) in a
        project that propagates by hand, that is where an injector (`opentelemetry.propagate.inject` or a
        configured one) is called somewhere, and `CeleryInstrumentor` is not. Elsewhere the same call is
        PRP301.
    """
    why = """
        `delay(*args, **kwargs)` passes every keyword to the task: there is no way to give it message
        headers, so the carrier that the project builds everywhere else cannot reach the worker and the task
        runs in a new trace.
    """
    already_propagated = """
        `CeleryInstrumentor().instrument()` anywhere in the project (or zero-code): it injects in
        `before_task_publish` and extracts in `task_prerun`, for `delay` too.
    """
    example = """
        from celery import shared_task
        from opentelemetry.propagate import inject

        @shared_task
        def rebuild(index):
            ...

        def on_save(index):
            rebuild.delay(index)
    """
    use_instead = """
        from celery import shared_task
        from opentelemetry.propagate import inject

        @shared_task
        def rebuild(index):
            ...

        def on_save(index):
            carrier = {}
            inject(carrier)
            rebuild.apply_async(args=(index,), headers=carrier)
    """
    fix_safety = """
        Rewrites `t.delay(a, k=v)` to `t.apply_async(args=(a,), kwargs={"k": v}, headers=_carrier)` after
        building the carrier: the same task call plus message headers, so it is safe. The worker reads them
        from `self.request` (or `CeleryInstrumentor` does).
    """
    _INJECTS = {"svc/tracing.py": "from opentelemetry.propagate import inject\n\ndef headers():\n"
                                  "    carrier = {}\n    inject(carrier)\n    return carrier\n"}
    VALID = (
        Valid("from celery import shared_task\n\n@shared_task\ndef rebuild(index):\n    pass\n\n"
              "def on_save(index):\n    rebuild.delay(index)\n",
              files={**_INJECTS, "telemetry.py": "from opentelemetry.instrumentation.celery import CeleryInstrumentor\n\n"
                                                 "CeleryInstrumentor().instrument()\n"}),
        Valid("def on_save(task, index):\n    task.delay(index)\n", files=_INJECTS),
    )
    INVALID = (
        Invalid("from celery import shared_task\n\n@shared_task\ndef rebuild(index):\n    pass\n\n"
                "def on_save(index, *rest, **options):\n    rebuild.delay(index, *rest, force=True, **options)\n",
                fixed='from celery import shared_task\nfrom opentelemetry.propagate import inject\n\n'
                      '@shared_task\ndef rebuild(index):\n    pass\n\ndef on_save(index, *rest, **options):\n'
                      '    _carrier = {}\n    inject(_carrier)\n    rebuild.apply_async(\n'
                      '        args=(index, *rest,),\n        kwargs={"force": True, **options},\n'
                      '        headers=_carrier,\n    )\n',
                files=_INJECTS),
        Invalid("from celery import Celery\n\napp = Celery('svc')\n\n@app.task\ndef send_email(to):\n    pass\n\n"
                "def signup(user):\n    send_email.delay(user.email)\n",
                fixed="from celery import Celery\nfrom opentelemetry.propagate import inject\n\napp = Celery('svc')\n\n"
                      "@app.task\ndef send_email(to):\n    pass\n\ndef signup(user):\n    _carrier = {}\n"
                      "    inject(_carrier)\n    send_email.apply_async(args=(user.email,), headers=_carrier)\n",
                files=_INJECTS),
    )

    @classmethod
    def needs(cls, project: "NeedsContext") -> "Cond":
        """As PRP301, for the producers whose `manual_code` is this rule's, in a project that propagates by
        hand (elsewhere they report PRP301)."""
        return sources(project).produced(cls.code)

    @staticmethod
    def message(entry: "Producer", method: str, guessed: bool) -> str:
        return (f"{entry.library} {method}() cannot carry headers, and this project propagates by hand; use "
                f"apply_async(..., headers=carrier) with a carrier filled by an injector"
                + (LOW_CONFIDENCE if guessed else ""))

    @staticmethod
    def build_fix(edits: "Fixes", call: cst.Call, entry: "Producer", ancestors: list[cst.CSTNode],
                 bound: dict[str, cst.BaseExpression], v5: bool | None) -> Fix | None:
        """The carrier built before the call; the entry's `[[carrier_shape]]` rewrites `delay` to `apply_async`."""
        return edits.producer_fix(call, entry, ancestors, bound, v5)
