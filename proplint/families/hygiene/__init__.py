"""Async and ContextVar hygiene (PRP401-PRP412): sync wrappers on coroutines, ContextVars, attach/detach,
context across yield.

What the family contributes, as data (`FAMILY`); `proplint.registry` collects it. The rules are
`rules/prp4NN_*.py` (one module per code); the visitor is `check.py`; the catalog roles `model.py`; the
index collectors and project facts `facts.py` and, for decorators, `decorators.py`.

Verified facts (domain catalog, section D): a plain `def` wrapper around a coroutine function closes its
span when the coroutine is created (0.01 ms, children unparented); tasks copy the context at creation;
`ContextVar.set` and `context.attach` without reset/detach leak into the next job of a pooled thread.
"""

from __future__ import annotations

from proplint.core.family import Collector, Family
from proplint.families.hygiene import decorators, facts, model
from proplint.families.hygiene.check import HygieneCheck

FAMILY = Family(
    name="hygiene",
    prefix="PRP4",
    boundary=False,
    rules=HygieneCheck.rules,
    checks=(HygieneCheck,),
    roles=(model.SpanOpener, model.ContextVarClass, model.TaskCreator, model.ThreadLocalClass, model.EventLoopModule,
           model.CoroutineCheck, model.KindChangingDecorator, model.AwaitableType, model.CurrentSpanGetter,
           model.HttpMiddleware, model.PooledEntry, model.StartupHook, model.FinishMarker),
    collectors=(
        Collector("hygiene.decorators", decorators.collect_decorators, tokens=decorators.DECORATOR_TOKENS),
        Collector("hygiene.applications", decorators.collect_applications,
                  tokens=(b"async def", b"Awaitable", b"Coroutine", b"Future", b"Task")),
        Collector("hygiene.thread_locals", facts.collect_thread_locals, tokens=(b"local",)),
        Collector("hygiene.cv_sets", facts.collect_cv_sets, tokens=(b".set(",)),
        # both gates need a `def` (a decorated one, or a decorator's); a file no other collector parses is
        # parsed by the engine if a gate is asked about it
        Collector(decorators.GATE_FACTS, decorators.collect_gate_facts, tokens=(b"def",), parse=False),
    ),
)
