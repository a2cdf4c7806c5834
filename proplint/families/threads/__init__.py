"""Threads, timers, executors and process pools that start without the caller's context (PRP201-PRP208).

What the family contributes, as data (`FAMILY`); `proplint.registry` collects it.
"""

from __future__ import annotations

from proplint.core.family import Collector, Family
from proplint.families.threads import threads, threads_support

FAMILY = Family(
    name="threads",
    prefix="PRP2",
    rules=(threads.ThreadWithoutContext, threads.TimerWithoutContext, threads.ExecutorWithoutContext, threads.RunInExecutorWithoutContext, threads.SharedContextObject, threads.ProcessBoundaryWithoutCarrier, threads.ReliesOnThreadInheritContext, threads.CrossThreadLoopCallback,),
    checks=(threads.ThreadContextCheck,),
    roles=(threads_support.ThreadSpawner, threads_support.ExecutorClass, threads_support.ExecutorCall, threads_support.ProcessSpawner, threads_support.ContextSafe, threads_support.ContextSource, threads_support.CallableWrapper, threads_support.CrossThreadCallback, threads_support.LauncherSignal, threads_support.ContextWrapper,),
    collectors=(
        Collector("thread_classes", threads_support.collect_thread_classes, tokens=(b"class",)),
        Collector("thread_inherit_context", threads_support.collect_flag_mentions, tokens=(b"thread_inherit_context", b"THREAD_INHERIT_CONTEXT")),
    ),
)
