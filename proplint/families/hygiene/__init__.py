"""Async and ContextVar hygiene: sync wrappers on coroutines, ContextVars, attach/detach, context across yield (PRP401-PRP412).

What the family contributes, as data (`FAMILY`); `proplint.registry` collects it.
"""

from __future__ import annotations

from proplint.core.family import Collector, Family
from proplint.families.hygiene import hygiene, hygiene_decorators, hygiene_rules, hygiene_rules_a, hygiene_support

FAMILY = Family(
    name="hygiene",
    prefix="PRP4",
    boundary=False,
    rules=(hygiene.SyncWrapperOnCoroutineFunction, hygiene_rules.CurrentContextAcrossYield, hygiene_rules.BaseHttpMiddlewareContextVars, hygiene_rules.SpanDecoratorOnGenerator, hygiene_rules.OtelAsyncDecoratorTooOld, hygiene_rules.TaskContextCapturedAtCreation, hygiene_rules.SyncOnlyDecoratorWrapper, hygiene_rules_a.ContextVarNotModuleLevel, hygiene_rules_a.ThreadingLocalInAsync, hygiene_rules_a.AttachWithoutDetach, hygiene_rules_a.CurrentSpanPassedToTask, hygiene_rules_a.ContextVarSetWithoutReset,),
    checks=(hygiene.HygieneCheck,),
    roles=(hygiene_support.SpanOpener, hygiene_support.ContextVarClass, hygiene_support.TaskCreator, hygiene_support.ThreadLocalClass, hygiene_support.EventLoopModule, hygiene_support.CoroutineCheck, hygiene_support.KindChangingDecorator, hygiene_support.AwaitableType, hygiene_support.CurrentSpanGetter, hygiene_support.HttpMiddleware, hygiene_support.PooledEntry, hygiene_support.StartupHook, hygiene_support.FinishMarker,),
    collectors=(
        Collector("hygiene.decorators", hygiene_decorators.collect_decorators, tokens=hygiene_decorators.DECORATOR_TOKENS),
        Collector("hygiene.applications", hygiene_decorators.collect_applications, tokens=(b"async def", b"Awaitable", b"Coroutine", b"Future", b"Task")),
        Collector("hygiene.reexports", hygiene_decorators.collect_reexports, tokens=(b"from .", b"__all__")),
        Collector("hygiene.thread_locals", hygiene_support.collect_thread_locals, tokens=(b"local",)),
        Collector("hygiene.cv_sets", hygiene_support.collect_cv_sets, tokens=(b".set(",)),
    ),
)
