"""Threads, timers, executors and process pools that start without the caller's context (PRP201-PRP208).

What the family contributes, as data (`FAMILY`); `proplint.registry` collects it. Catalog: `rules/threads.toml`
(roles in `model.py`). The visitor is `check.py`; each rule's truth is in `rules/prp2*.py`.

A new thread runs in an empty `contextvars.Context` (before 3.14, and on 3.14 builds with the GIL by
default), and executor workers run every task in the worker's own context: the OpenTelemetry current
span is a ContextVar, so spans made there start new traces, and request ids or tenants are unset.
"""

from __future__ import annotations

from proplint.core.family import Collector, Family
from proplint.families.threads import facts, model
from proplint.families.threads.check import ThreadContextCheck

FAMILY = Family(
    name="threads",
    prefix="PRP2",
    rules=ThreadContextCheck.rules,
    checks=(ThreadContextCheck,),
    roles=(model.ThreadSpawner, model.ExecutorClass, model.ExecutorCall, model.ProcessSpawner, model.ContextSafe,
           model.ContextSource, model.CallableWrapper, model.CrossThreadCallback, model.LauncherSignal,
           model.ContextWrapper, model.LongLivedTarget, model.LibraryCallback),
    collectors=(
        Collector("thread_classes", facts.collect_thread_classes, tokens=(b"class",)),
        Collector("thread_inherit_context", facts.collect_flag_mentions,
                  tokens=(b"thread_inherit_context", b"THREAD_INHERIT_CONTEXT")),
    ),
)
