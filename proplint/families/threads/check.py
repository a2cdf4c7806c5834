"""The visitor behind PRP201-PRP208: it finds every spawn and asks the rule modules for messages and fixes.

Every call that hands a callable to another thread, task or process is a *spawn*: `threading.Thread`
/ `Timer` and their project subclasses, executor `submit`/`map` (receiver inferred by the resolver,
`receivers.py`), `loop.run_in_executor`, the context-safe helpers, and the process boundaries. For each
spawn, in order: a shared Context (PRP205), a callable that already carries the caller's context
(`flow.py`), the caller handing its context/span/carrier over as an argument, `ThreadingInstrumentor`
(only without project ContextVars), a housekeeping service thread (`lifetime.py`), and finally the finding
with its fix. PRP208 is decided when the module has been walked, because a thread target is usually defined
before the code that starts it. Where the catalog decides the code (`[[thread_spawner]]`/`[[executor_call]]`
`code`), the rule is looked up among `rules` by that code. The class is one visitor (~255 lines): the spawn
kinds share the per-file state (the targets recorded for PRP208), so they are not split across classes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import libcst as cst

from proplint.core.context import Check
from proplint.core.cst import keyword, last_part, short
from proplint.core.flow import CarrierFlow
from proplint.core.readers import Readers
from proplint.core.rule import Fix, Rule
from proplint.core.units import CONTEXTVAR_EVIDENCE, units
from proplint.core.walk import visit
from proplint.families.threads.edits import argument
from proplint.families.threads.facts import covered_by, flag_state
from proplint.families.threads.flow import ContextFlow, shared
from proplint.families.threads.lifetime import hosts_long_lived, is_service_loop, started, starts_service
from proplint.families.threads.model import CONTEXT_KEYWORD
from proplint.families.threads.receivers import Receivers
from proplint.families.threads.restore import restores_from_arguments
from proplint.families.threads.rules.common import instrumentor_note
from proplint.families.threads.rules.prp201_thread_without_context import ThreadWithoutContext
from proplint.families.threads.rules.prp202_timer_without_context import TimerWithoutContext
from proplint.families.threads.rules.prp203_executor_without_context import ExecutorWithoutContext
from proplint.families.threads.rules.prp204_run_in_executor_without_context import RunInExecutorWithoutContext
from proplint.families.threads.rules.prp205_shared_context_object import SharedContextObject
from proplint.families.threads.rules.prp206_process_boundary_without_carrier import ProcessBoundaryWithoutCarrier
from proplint.families.threads.rules.prp207_relies_on_thread_inherit_context import ReliesOnThreadInheritContext
from proplint.families.threads.rules.prp208_cross_thread_loop_callback import CrossThreadLoopCallback


@dataclass
class Spawn:
    node: cst.Call
    rule: type[Rule]  # the rule that reports the callable running without the caller's context
    func: cst.BaseExpression
    kind: str  # "thread" | "submit" | "map" | "executor" | "other" | "safe"
    label: str
    entry: Any = None  # the ThreadSpawner whose fix applies (None: no fix), or the ExecutorCall
    items: list[cst.BaseExpression] = field(default_factory=list)
    instrumented_by: str = ""
    executor: str = ""  # run_in_executor: "default" | "thread" | "unknown"
    keyword_form: bool = False  # the callable is passed by keyword: reported, no automatic fix


#: a spawn's kind -> the `boundary` of `[[sdk_propagation]]` that carries it (a Timer is a `thread` spawn of
#: PRP202; its spawner's code tells them apart)
_BOUNDARY = {"submit": "executor", "map": "executor", "other": "executor", "executor": "run_in_executor"}


class ThreadContextCheck(Check):
    rules = (ThreadWithoutContext, TimerWithoutContext, ExecutorWithoutContext, RunInExecutorWithoutContext,
             SharedContextObject, ProcessBoundaryWithoutCarrier, ReliesOnThreadInheritContext,
             CrossThreadLoopCallback)

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        cat = ctx.catalog
        #: the rule a catalog entry's `code` names
        self.by_code = {rule.code: rule for rule in self.rules}
        self.spawners = {e.name: e for e in cat.get("thread_spawner")}
        self.thread_bases = {n for n, e in self.spawners.items() if e.base}
        executors = {e.name: e for e in cat.get("executor")}
        self.executor_calls = {e.name: e for e in cat.get("executor_call")}
        self.process_spawners = {e.name: e for e in cat.get("process_spawner")}
        self.safe = {e.name: e for e in cat.get("context_safe")}
        callbacks = cat.get("cross_thread_callback")
        self.callbacks = {e.name: e for e in callbacks if not e.method}
        self.callback_methods = {e.name: e for e in callbacks if e.method}
        #: method names worth inferring a receiver type for (inference scans the class: not for every call):
        #: executor methods lead to PRP203/205/206/208 only, `<mp context>.Process` to PRP206 only
        methods: set[str] = set()
        if any(self.enabled(r) for r in (ExecutorWithoutContext, SharedContextObject, ProcessBoundaryWithoutCarrier,
                                         CrossThreadLoopCallback)):
            methods |= {m for e in executors.values() for m in (*e.submit, *e.map, *e.other)}
        if self.enabled(ProcessBoundaryWithoutCarrier):
            methods |= {last_part(n) for n in self.process_spawners}
        called = [*self.spawners, *self.process_spawners, *self.safe, *self.callbacks]
        self.receivers = Receivers(ctx, executors, self.thread_bases, methods, called)
        self.flow = ContextFlow.from_catalog(ctx)
        self.carriers = CarrierFlow(ctx)
        self.readers = Readers(ctx)
        self.project_vars = ctx.index.project_contextvars()
        self.flag_state = flag_state(ctx.index, ctx.config)
        self.targets: dict[int, bool] = {}  # id(function) -> it runs with its creator's context
        self.pending: list[tuple[cst.Call, cst.CSTNode, str | None, Any, Fix | None]] = []
        self._covered: dict[str, bool] = {}

    def record_target(self, expr: cst.BaseExpression, propagated: bool) -> None:
        fn = self.flow.resolve_function(expr)
        if fn is not None:
            self.targets[id(fn)] = self.targets.get(id(fn), True) and propagated

    # -- the spawn pipeline ------------------------------------------------------------------------------
    def spawn(self, s: Spawn) -> None:
        carry = self.flow.carry(s.func, s.items or None)
        if carry is not None:
            reason = shared(carry, s.kind == "map", self.ctx.ancestors)
            if reason and self.enabled(SharedContextObject):
                fix = SharedContextObject.build_fix(carry, s.kind == "map", self.ctx.catalog)
                self.report(SharedContextObject, s.func, SharedContextObject.message(s.label, reason), fix)
            self.record_target(s.func, True)
            return
        if s.kind == "safe":
            self.record_target(s.func, True)
            return
        if self._hands_over(s):
            self.record_target(s.func, False)  # handed over, but not active in the thread (PRP208)
            return
        if s.instrumented_by not in self._covered:
            self._covered[s.instrumented_by] = covered_by(self.ctx.index, self.ctx.catalog, s.instrumented_by)
        covered = self._covered[s.instrumented_by]
        if covered and not self.project_vars:
            self.record_target(s.func, True)
            return
        self.record_target(s.func, False)
        if s.kind != "process" and starts_service(self.ctx, s.func, self.flow):
            return  # long-lived work: it must not inherit a request (`lifetime.py`)
        target = self.flow.resolve_function(s.func)
        if isinstance(target, (cst.FunctionDef, cst.Lambda)) and not self.readers.reads([target.body], set(), target):
            return  # the target reads no context: nothing there would continue it (`core/readers.py`)
        if target is None and self._foreign_reads_nothing(s.func):
            return  # the project's function of another module, which reads none (`core/foreign.py`)
        if isinstance(target, cst.FunctionDef) and self._runs_in_stored_context(target):
            self.record_target(s.func, True)
            return
        boundary = _BOUNDARY.get(s.kind, s.kind)
        if boundary == "executor" and self._executor_made_here(s.node):
            boundary = "thread"  # its worker threads start in this call, from this thread (`Thread.start`)
        if self.ctx.project.carried_by_sdk(self.ctx.catalog, boundary, whole_context=True):
            return
        if self.ctx.project.carried_by_sdk(self.ctx.catalog, boundary, whole_context=False, in_process=True) and (
                target is None and self._library_callable(s.func)
                or isinstance(target, (cst.FunctionDef, cst.Lambda)) and not self.readers.reads_beyond_trace(target)):
            return  # the SDK carries the trace; what else the target could lose, it never reads
        if self._context_reset_before(s.node):
            return  # the caller's own context is already reset here: the thread would get the defaults anyway
        self._report_lost(s, covered)

    def _context_reset_before(self, call: cst.Call) -> bool:
        """In a deploy unit whose only context is the project's own ContextVars (no span, no instrumentor, no
        context library), every one of them is reset (`var.reset(token)`) by a statement before the spawn in a
        block enclosing it (a middleware's `finally:` that resets the request id, then hands the request's log
        to a thread): at the spawn the caller holds the defaults, so nothing of the request is there to lose."""
        project = self.ctx.project
        anc = self.ctx.ancestors
        if project.context_libraries or not project.request_vars or self.ctx.index.launcher \
                or not any(node is call for node in anc):
            return False
        unit = units(self.ctx.index, self.ctx.catalog).of(self.ctx.relpath)
        if any(CONTEXTVAR_EVIDENCE not in why for why in (*unit.sources, *unit.readers)):
            return False  # the unit starts or reads a trace too (a span, an instrumentor): that is not reset
        wanted = {v.rsplit(".", 1)[-1] for v in project.request_vars}
        finder = _Resets(self.ctx)
        for i, node in enumerate(anc[:-1]):
            if isinstance(node, cst.IndentedBlock):
                for stmt in node.body:
                    if stmt is anc[i + 1]:
                        break
                    visit(stmt, finder)
        return wanted <= finder.names

    def _executor_made_here(self, call: cst.Call) -> bool:
        """`pool.submit(...)`/`pool.map(...)` on a thread pool the enclosing function makes itself (`with
        ThreadPoolExecutor() as pool`, `pool = ThreadPoolExecutor()`) and keeps to itself: the pool starts its
        worker threads lazily, inside these calls, so they are started by this caller like a `Thread`."""
        func = call.func
        fn = self.ctx.enclosing(cst.FunctionDef)
        if not (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name)) or fn is None:
            return False
        finder = _LocalPools(self.ctx, func.value.value)
        visit(fn.body, finder)
        return finder.made and not finder.escapes

    def _local_class(self, qualname: str) -> cst.ClassDef | None:
        """A thread subclass defined at the top of this module."""
        owner, _, name = qualname.rpartition(".")
        if owner and owner != self.ctx.module_name:
            return None
        return next((s for s in self.ctx.module.body if isinstance(s, cst.ClassDef) and s.name.value == name
                     and isinstance(s.body, cst.IndentedBlock)), None)

    @staticmethod
    def _run_method(cls: cst.ClassDef | None) -> cst.FunctionDef | None:
        if cls is None:
            return None
        return next((f for f in cls.body.body if isinstance(f, cst.FunctionDef) and f.name.value == "run"), None)

    def _runs_in_stored_context(self, fn: cst.FunctionDef, cls: cst.CSTNode | None = None) -> bool:
        """The method `fn` runs its work in a context its object copied when it was made: `self._context =
        contextvars.copy_context()` in the class (`cls`, else the class around the node being visited),
        `self._context.run(work)` in `fn`. For a Thread subclass of this module, read from the module's
        text, which is newer than the project index while a fix is verified."""
        cls = cls or self.ctx.enclosing(cst.ClassDef)
        if not isinstance(cls, cst.ClassDef):
            return False
        stored = _StoredContexts(self.ctx)
        visit(cls, stored)
        if not stored.names:
            return False
        runs = _AttrRuns()
        visit(fn, runs)
        return bool(runs.names & stored.names)

    def _foreign_reads_nothing(self, func: cst.BaseExpression) -> bool:
        """The callable is the project's function in another module (`jobs.digest`, `partial(jobs.digest,
        ...)`) and nothing it runs reads a context."""
        if isinstance(func, cst.Call) and self.ctx.qualified_name(func.func) in self.flow.partials and func.args:
            func = func.args[0].value
        q = self.ctx.qualified_name(func)
        if not q or q.split(".")[0] not in self.readers.project_tops():
            return False
        found = self.readers.foreign(q)
        return found is not None and not found.maybe

    def _library_callable(self, func: cst.BaseExpression) -> bool:
        """The callable is a library's, not the project's: its qualified name (or its receiver's type) starts
        with a name that is not one of the project's import names."""
        q = self.ctx.qualified_name(func)
        if q is None and isinstance(func, cst.Attribute):
            t = self.ctx.resolver.receiver_type(func.value)
            q = f"{t}.{func.attr.value}" if t else None
            if q is None and isinstance(func.value, cst.Name):
                tops = self._annotated_tops(func.value.value)
                return bool(tops) and not tops & self.readers.project_tops()
        return q is not None and q.split(".")[0] not in self.readers.project_tops()

    def _annotated_tops(self, name: str) -> set[str]:
        """The top-level packages of every class named in the annotation of the enclosing function's
        parameter `name` (`pool: HTTPConnectionPool | HTTPSConnectionPool` -> {"urllib3"}); empty when a
        part is unknown."""
        fn = self.ctx.enclosing(cst.FunctionDef)
        if not isinstance(fn, cst.FunctionDef):
            return set()
        for p in (*fn.params.posonly_params, *fn.params.params, *fn.params.kwonly_params):
            if p.name.value != name or p.annotation is None:
                continue
            members: list[cst.BaseExpression] = []
            todo = [p.annotation.annotation]
            while todo:
                ann = todo.pop()
                if isinstance(ann, cst.BinaryOperation) and isinstance(ann.operator, cst.BitOr):
                    todo += [ann.left, ann.right]
                elif not (isinstance(ann, cst.Name) and ann.value == "None"):
                    members.append(ann)
            tops = set()
            for m in members:
                q = self.ctx.qualified_name(m)
                if not q:
                    return set()
                tops.add(q.split(".")[0])
            return tops
        return set()

    def _hands_over(self, s: Spawn) -> bool:
        for arg in s.node.args:
            if arg.value is s.func or (arg.keyword is not None and arg.keyword.value in ("name", "daemon")):
                continue
            if self.flow.hands_over(arg.value) or self.carriers.enriched(arg.value):
                return True
        return False

    def _report_lost(self, s: Spawn, covered: bool) -> None:
        relies_on_flag = s.kind == "thread" and self.flag_state is not None
        if not self.enabled(ReliesOnThreadInheritContext if relies_on_flag else s.rule):
            return
        fn = short(s.func)
        note = instrumentor_note(self.project_vars) if covered else ""
        catalog = self.ctx.catalog
        if relies_on_flag:
            if self.flag_state != "on":
                message = ReliesOnThreadInheritContext.message(s.label, fn, self.flag_state)  # type: ignore[arg-type]
                self.report(ReliesOnThreadInheritContext, s.node, message + note)
            return
        if s.kind == "thread":
            message = ThreadWithoutContext.message(s.label, fn)
            fix = ThreadWithoutContext.build_fix(s.node, s.entry, catalog, self.ctx.config.target_minor)
        elif s.kind == "executor":
            awaited = isinstance(self.ctx.parent(), cst.Await)
            message = RunInExecutorWithoutContext.message(s.label, fn, s.entry, s.executor, awaited)
            fix = RunInExecutorWithoutContext.build_fix(s.node, s.entry, s.func, s.executor, catalog)
        else:
            message = ExecutorWithoutContext.message(s.kind, s.label, fn, self.flag_state)
            fix = ExecutorWithoutContext.build_fix(s.node, s.kind, s.func, catalog)
        self.report(s.rule, s.node, message + note, None if s.keyword_form else fix)

    # -- spawn kinds ----------------------------------------------------------------------------------
    def thread(self, node: cst.Call, spawner, label: str, fixable: bool = True, positional: bool = True) -> None:
        target = argument(node, spawner.target_index if positional else None, spawner.target_keyword)
        if target is None or (isinstance(target.value, cst.Name) and target.value.value == "None"):
            return
        context = keyword(node, CONTEXT_KEYWORD) if spawner.context_since else None
        if context is not None:
            explicit = not (isinstance(context.value, cst.Name) and context.value.value == "None")
            self.record_target(target.value, explicit)
            if not explicit and self.flag_state != "on":
                why = self.flag_state or "it is off by default on 3.14 builds with the GIL" + (
                    "" if self.ctx.config.target_minor >= 14 else ", and before 3.14 `context=` does not exist")
                self.report(ReliesOnThreadInheritContext, node,
                            ReliesOnThreadInheritContext.context_none_message(label, why))
            return
        self.spawn(Spawn(node, self.by_code[spawner.code], target.value, "thread", label, spawner if fixable else None,
                         instrumented_by=spawner.instrumented_by))

    def thread_subclass(self, node: cst.Call, qualname: str, info) -> None:
        spawner = self.spawners[info.base]
        label = last_part(qualname)
        if info.copies:
            return
        if not info.run:
            self.thread(node, spawner, label, fixable=not info.init, positional=not info.init)
            return
        if not started(self.ctx, node, info.self_start):
            return
        if info.service and starts_service(self.ctx, None, self.flow):
            return
        if any(self.flow.carry(a.value) is not None for a in node.args if not a.star):
            return  # `TimeoutThread(t, contextvars.copy_context().run, fn)`: its run() calls the context's run
        cls = self._local_class(qualname)
        run = self._run_method(cls)
        if run is not None and (is_service_loop(run) or hosts_long_lived(self.ctx, run)
                                or not self.readers.reads([run.body], set(), run)):
            return  # its run() loops for good, hosts an event loop, or reads no context
        if cls is not None and run is not None and self._runs_in_stored_context(run, cls):
            return
        if self.flag_state is not None:
            if self.flag_state != "on":
                self.report(ReliesOnThreadInheritContext, node,
                            ReliesOnThreadInheritContext.run_message(label, self.flag_state))
            return
        fix = ThreadWithoutContext.build_run_fix(cls if run is not None else None, self.ctx.catalog)
        self.report(self.by_code[spawner.code], node, ThreadWithoutContext.run_message(label), fix)

    def executor_method(self, node: cst.Call, entry, copies: bool, method: str) -> None:
        if method not in (*entry.submit, *entry.map, *entry.other):
            return
        found = argument(node, 0, entry.func_keyword or None)
        if found is None:
            return
        func = found.value
        keyword_form = found.keyword is not None
        label = f"{last_part(entry.name)}.{method}"
        if entry.kind == "process":
            self.process(node, func, label)
            return
        if copies:
            self.record_target(func, True)
            return
        kind = "submit" if method in entry.submit else "map" if method in entry.map else "other"
        items = [a.value for a in node.args[1:] if a.keyword is None and not a.star] if kind == "map" else []
        self.spawn(Spawn(node, ExecutorWithoutContext, func, kind, label, items=items,
                         instrumented_by=entry.instrumented_by, keyword_form=keyword_form))

    def executor_call(self, node: cst.Call, entry) -> None:
        ex = argument(node, entry.executor_index, entry.executor_keyword or None)
        fn = argument(node, entry.func_index, entry.func_keyword or None)
        if ex is None or fn is None:
            return
        label = f"loop.{entry.name}"
        if isinstance(ex.value, cst.Name) and ex.value.value == "None":
            kind = "default"
        else:
            found = self.receivers.executor_of(self.receivers.type_of(ex.value))
            if found is None:
                kind = "unknown"
            elif found[0].kind == "process":
                self.process(node, fn.value, label)
                return
            elif found[1]:
                self.record_target(fn.value, True)
                return
            else:
                kind = "thread"
        self.spawn(Spawn(node, self.by_code[entry.code], fn.value, "executor", label, entry,
                         instrumented_by=entry.instrumented_by, executor=kind,
                         keyword_form=fn.keyword is not None or ex.keyword is not None))

    def process(self, node: cst.Call, func: cst.BaseExpression, label: str) -> None:
        if not self.enabled(ProcessBoundaryWithoutCarrier):
            return
        for arg in node.args:
            if arg.value is not func and self.carriers.enriched(arg.value):
                return
        if starts_service(self.ctx, func, self.flow):
            return  # a server or worker process started for good: it serves requests of its own
        target = self.flow.resolve_function(func)
        if isinstance(target, cst.FunctionDef) and not self.readers.reads([target.body], set(), target):
            return  # the child reads no context (numpy statistics, a key derivation)
        if isinstance(target, cst.FunctionDef) and restores_from_arguments(self.ctx, target):
            return  # the child sets the project's ContextVars from its arguments: its own propagation
        if target is None and self._foreign_reads_nothing(func):
            return
        message = ProcessBoundaryWithoutCarrier.message(label, short(func), self.flow.carry(func) is not None)
        self.report(ProcessBoundaryWithoutCarrier, node, message)

    def callback(self, node: cst.Call, entry) -> None:
        if not self.enabled(CrossThreadLoopCallback):
            return
        if entry.context_keyword and keyword(node, entry.context_keyword) is not None:
            return
        ancestors = self.ctx.ancestors
        for i in range(len(ancestors) - 2, -1, -1):
            fn = ancestors[i]
            if isinstance(fn, (cst.FunctionDef, cst.Lambda)):
                break
        else:
            return
        run_class = None
        top_level_method = i >= 2 and isinstance(ancestors[i - 2], cst.ClassDef) and \
            sum(isinstance(a, cst.ClassDef) for a in ancestors) == 1
        if isinstance(fn, cst.FunctionDef) and fn.name.value == "run" and top_level_method:
            run_class = self.receivers.local(ancestors[i - 2].name.value)  # type: ignore[union-attr]
        context = self.flow.creator_context(fn) if entry.context_keyword else None
        self.pending.append((node, fn, run_class, entry, CrossThreadLoopCallback.build_fix(node, entry, context)))

    def leave_Module(self, node: cst.Module) -> None:
        for call, fn, run_class, entry, fix in self.pending:
            lost = self.targets.get(id(fn)) is False
            if not lost and run_class is not None:
                info = self.receivers.project_class(run_class)
                lost = info is not None and info.base in self.thread_bases and not info.copies
            if lost:
                self.report(CrossThreadLoopCallback, call, CrossThreadLoopCallback.message(entry, fix), fix)

    # -- dispatch ---------------------------------------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute):
            attr = func.attr.value
            if attr in self.executor_calls:
                self.executor_call(node, self.executor_calls[attr])
                return
            if attr in self.callback_methods:
                self.callback(node, self.callback_methods[attr])
                return
        elif not isinstance(func, cst.Name):
            return
        last = func.attr.value if isinstance(func, cst.Attribute) else func.value
        if last not in self.receivers.candidates:
            return
        q = self.receivers.callee(func)
        if q is None:
            return
        if q in self.spawners:
            self.thread(node, self.spawners[q], q)
        elif q in self.process_spawners:
            target = argument(node, self.process_spawners[q].target_index, self.process_spawners[q].target_keyword)
            if target is not None:
                self.process(node, target.value, last_part(q))
        elif q in self.safe:
            fn = argument(node, self.safe[q].func_index, None)
            if fn is not None:
                self.spawn(Spawn(node, SharedContextObject, fn.value, "safe", q))
        elif q in self.callbacks:
            self.callback(node, self.callbacks[q])
        else:
            info = self.receivers.project_class(q)
            if info is not None and info.base in self.thread_bases:
                self.thread_subclass(node, q, info)
            elif isinstance(func, cst.Attribute):
                found = self.receivers.executor_of(q.rpartition(".")[0])
                if found is not None:
                    self.executor_method(node, found[0], found[1], func.attr.value)


class _StoredContexts(cst.CSTVisitor):
    """`self.<name> = contextvars.copy_context()` anywhere in a class."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.names: set[str] = set()

    def visit_Assign(self, node: cst.Assign) -> None:
        if isinstance(node.value, cst.Call) and self.ctx.qualified_name(node.value.func) == "contextvars.copy_context":
            for t in node.targets:
                if isinstance(t.target, cst.Attribute) and isinstance(t.target.value, cst.Name) \
                        and t.target.value.value == "self":
                    self.names.add(t.target.attr.value)


class _AttrRuns(cst.CSTVisitor):
    """`self.<name>.run(...)` calls."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value == "run" and isinstance(func.value, cst.Attribute) \
                and isinstance(func.value.value, cst.Name) and func.value.value.value == "self":
            self.names.add(func.value.attr.value)


class _LocalPools(cst.CSTVisitor):
    """Whether a function binds `name` to a thread pool it builds (`made`), and whether it binds the name
    to anything else or lets the pool out of the function (`escapes`: stored, returned, passed on)."""

    def __init__(self, ctx, name: str) -> None:
        self.ctx = ctx
        self.name = name
        self.made = False
        self.escapes = False

    def _pool(self, expr: cst.BaseExpression) -> bool:
        q = self.ctx.qualified_name(expr.func) if isinstance(expr, cst.Call) else None
        return bool(q) and q.rsplit(".", 1)[-1] == "ThreadPoolExecutor"

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None and isinstance(node.asname.name, cst.Name) and node.asname.name.value == self.name:
            if self._pool(node.item):
                self.made = True
            else:
                self.escapes = True

    def visit_Assign(self, node: cst.Assign) -> None:
        for t in node.targets:
            if isinstance(t.target, cst.Name) and t.target.value == self.name:
                if self._pool(node.value):
                    self.made = True
                else:
                    self.escapes = True
            elif isinstance(node.value, cst.Name) and node.value.value == self.name:
                self.escapes = True  # `self._pool = pool`

    def visit_Return(self, node: cst.Return) -> None:
        if isinstance(node.value, cst.Name) and node.value.value == self.name:
            self.escapes = True

    def visit_Arg(self, node: cst.Arg) -> None:
        if isinstance(node.value, cst.Name) and node.value.value == self.name:
            self.escapes = True  # handed to other code, which may keep it

    def visit_Global(self, node: cst.Global) -> None:
        if any(n.name.value == self.name for n in node.names):
            self.escapes = True


class _Resets(cst.CSTVisitor):
    """The last names of the ContextVars a statement resets (`request_id_var.reset(token)`)."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.names: set[str] = set()

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value == "reset" and isinstance(func.value, cst.Name):
            q = self.ctx.qualified_name(func.value) or func.value.value
            self.names.add(q.rsplit(".", 1)[-1])
