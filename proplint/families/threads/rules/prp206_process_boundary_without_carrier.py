"""PRP206 process-boundary-without-carrier: work sent to another process without a trace carrier.

Found by `check.py` (`ThreadContextCheck.process`): a `[[process_spawner]]`, a method of a process
`[[executor]]`, or an `[[executor_call]]` whose executor is inferred to be a process pool, when no argument
carries a carrier filled by an injector (`core.flow.CarrierFlow`). No fix.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from proplint.core.needs import Cond, all_of, any_of, words
from proplint.core.rule import Invalid, Rule, Valid
from proplint.families.threads.needs import (
    executor_calls, pool_methods, pools, reported_by_entries, spawned_by, words_of,
)

if TYPE_CHECKING:
    from proplint.core.context import NeedsContext


class ProcessBoundaryWithoutCarrier(Rule):
    code = "PRP206"
    name = "process-boundary-without-carrier"
    summary = "Work is sent to another process without a trace carrier."
    fix = "none"
    what_it_does = """
        Finds work sent across a process boundary: `submit`/`map` on `concurrent.futures.ProcessPoolExecutor`
        (and `InterpreterPoolExecutor`), `multiprocessing.Process(target=...)` (also from
        `multiprocessing.get_context(...)`), `multiprocessing.Pool` `apply_async`/`map`/`starmap`/`imap`/...,
        and `loop.run_in_executor` with a process pool, when no argument carries a carrier filled by an
        injector (`opentelemetry.propagate.inject`, a propagator's `inject`, or a configured helper).
    """
    why = """
        Neither contextvars nor the OpenTelemetry context cross a process boundary: a `Context` cannot be
        pickled, spawn/forkserver children start empty, and fork children keep a stale snapshot from when
        the worker forked (the second task sees the first request's values). Spans in the worker are new
        roots or, worse, children of the wrong request.
    """
    already_propagated = """
    - An argument (directly, inside `args=`, a tuple, a dict or a comprehension) is, or was built from, a
      carrier filled by `opentelemetry.propagate.inject(carrier)` / `TraceContextTextMapPropagator().inject`
      or returned by a configured injector. proplint does not look into the callee; it must `extract` it.
    - The target (or a function of its module it hands its parameters to, such as an initializer it calls
      first) sets one of the project's ContextVars from its arguments (`CURRENT_TENANT.set(tenant_id)` with
      `tenant_id` taken from `args`): the project carries its context across the boundary by hand.
    """
    example = """
        from concurrent.futures import ProcessPoolExecutor

        def render_all(pool: ProcessPoolExecutor, docs):
            return [pool.submit(render, doc) for doc in docs]
    """
    use_instead = """
        from concurrent.futures import ProcessPoolExecutor
        from opentelemetry import propagate, trace

        def render_all(pool: ProcessPoolExecutor, docs):
            carrier = {}
            propagate.inject(carrier)
            return [pool.submit(render, doc, carrier) for doc in docs]

        def render(doc, carrier):
            with tracer.start_as_current_span("render", context=propagate.extract(carrier)):
                ...
    """
    fix_safety = """
        No automatic fix: the callee's signature has to change to receive the carrier, and it has to call
        `extract`. The message says what to pass.
    """
    VALID = (
        Valid("from concurrent.futures import ProcessPoolExecutor\nfrom opentelemetry import propagate\n\n"
              "def f(pool: ProcessPoolExecutor, job, payload):\n    carrier = {}\n    propagate.inject(carrier)\n"
              "    return pool.submit(job, payload, carrier)\n"),
        Valid("import multiprocessing\nfrom opentelemetry.propagate import inject\n\ndef f(job):\n"
              "    headers = {}\n    inject(headers)\n"
              "    multiprocessing.Process(target=job, kwargs={'carrier': headers}).start()\n"),
        Valid("from concurrent.futures import ThreadPoolExecutor\nimport contextvars\n\ndef f(job):\n"
              "    with ThreadPoolExecutor() as pool:\n        pool.submit(contextvars.copy_context().run, job)\n"),
    )
    INVALID = (
        Invalid("from concurrent.futures import ProcessPoolExecutor\n\ndef f(docs):\n"
                "    with ProcessPoolExecutor() as pool:\n        return list(pool.map(render, docs))\n"),
        Invalid("import multiprocessing as mp\n\ndef f(job):\n    mp.Process(target=job, args=(1,)).start()\n"),
        Invalid("import multiprocessing\n\ndef f(job):\n    ctx = multiprocessing.get_context('spawn')\n"
                "    ctx.Process(target=job).start()\n"),
        Invalid("import multiprocessing\n\ndef f(job, items):\n    with multiprocessing.Pool(4) as pool:\n"
                "        pool.apply_async(job, (items,))\n"),
        Invalid("import asyncio\nfrom concurrent.futures import ProcessPoolExecutor\n\nasync def f(job):\n"
                "    pool = ProcessPoolExecutor()\n"
                "    return await asyncio.get_running_loop().run_in_executor(pool, job)\n"),
    )

    @classmethod
    def needs(cls, project: "NeedsContext") -> Cond:
        """A process spawner; a process pool's method; or `run_in_executor` on a receiver inferred to be a
        process pool."""
        process = pools(project, "process")
        in_executor = words_of(executor_calls(project))
        return any_of(spawned_by(project, project.catalog.get("process_spawner")), pool_methods(project, "process"),
                      all_of(spawned_by(project, process, [e.name for e in process]), words(in_executor)),
                      reported_by_entries(project, cls.code))

    @staticmethod
    def message(label: str, func: str, carries_context: bool) -> str:
        """`carries_context`: the callable is bound to a `contextvars.Context` (which cannot be pickled)."""
        note = " (a contextvars.Context cannot be pickled: this raises TypeError)" if carries_context else ""
        return (f"{label} sends `{func}` to another process without a trace carrier{note}: contextvars and "
                f"the OpenTelemetry context do not cross process boundaries; pass a carrier filled by "
                f"opentelemetry.propagate.inject and extract it in the callee")
