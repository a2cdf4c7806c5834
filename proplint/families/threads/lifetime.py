"""How long a spawned thread lives, and whether it is started at all.

A long-running *service thread* (a `while` loop or a queue drain, started once for the life of its owner)
is not a finding: copying its creator's context would pin one request's trace to all later work. This
module owns that judgement, on the stdlib `ast` (for the project index's class facts) and on LibCST (at a
spawn), and `started`: whether a thread object built by a call is started (or escapes to code that may
start it).
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

import libcst as cst

from proplint.core.context import FileContext
from proplint.core.resolve import dotted
from proplint.core.units import importable_tops
from proplint.core.walk import visit

if TYPE_CHECKING:
    from proplint.families.threads.flow import ContextFlow

#: Methods from which a long-running worker is started once, for the life of its owner: these names,
#: and names that (after leading underscores) begin with one of the prefixes (`_ensure_thread`).
SERVICE_STARTERS = frozenset({"__init__", "__post_init__", "__enter__", "__aenter__", "setup"})
SERVICE_STARTER_PREFIXES = ("start", "ensure", "serve", "launch")
#: Functions that run when a process starts, before any request exists (`main`, `initialize_cache`,
#: `bootstrap`, FastAPI's `lifespan`, `on_startup`): whatever they spawn has no request context to lose.
STARTUP_NAMES = frozenset({"main", "lifespan", "on_startup", "startup", "run_server", "serve"})
STARTUP_PREFIXES = ("initialize", "initialise", "init_", "bootstrap", "startup", "on_startup", "setup_",
                    # warming a model or a cache up before traffic: work made of constants, not of a request
                    "warm_up", "warmup", "prewarm", "preload")
#: a target function named so hosts a server or loop for the life of the process (its body may be elsewhere)
_SERVING_NAME = ("serve", "server", "forever", "_loop", "event_loop", "listener", "watchdog", "heartbeat")

# --- long-running service loops ------------------------------------------------------------------------
# A worker whose body is a `while` loop (`while True`, `while not self._stop.is_set()`, `while (item :=
# q.get()) is not None`) or drains a queue (`for item in iter(q.get, None)`) is housekeeping: copying its
# creator's context would pin one request's trace to all later work. Bounded loops (`while i < n`) are not.

_BOUNDED = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)


def _long_running_ast(stmt: ast.stmt) -> bool:
    if isinstance(stmt, ast.While):
        test = stmt.test
        return not (isinstance(test, ast.Compare) and any(isinstance(op, _BOUNDED) for op in test.ops))
    if isinstance(stmt, ast.For):
        it = stmt.iter
        return isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "iter" \
            and len(it.args) == 2
    if isinstance(stmt, (ast.Try, ast.With)):
        return any(_long_running_ast(s) for s in stmt.body)
    return False


def is_service_loop_ast(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any(_long_running_ast(s) for s in fn.body)


_BOUNDED_CST = (cst.LessThan, cst.LessThanEqual, cst.GreaterThan, cst.GreaterThanEqual)


def _long_running_cst(stmt: cst.CSTNode) -> bool:
    if isinstance(stmt, cst.While):
        test = stmt.test
        return not (isinstance(test, cst.Comparison)
                    and any(isinstance(c.operator, _BOUNDED_CST) for c in test.comparisons))
    if isinstance(stmt, cst.For):
        it = stmt.iter
        return isinstance(it, cst.Call) and isinstance(it.func, cst.Name) and it.func.value == "iter" \
            and len(it.args) == 2
    if isinstance(stmt, (cst.Try, cst.With)):
        return any(_long_running_cst(s) for s in stmt.body.body)
    return False


def is_service_loop(fn: cst.FunctionDef | cst.Lambda) -> bool:
    if not isinstance(fn, cst.FunctionDef) or not isinstance(fn.body, cst.IndentedBlock):
        return False
    return any(_long_running_cst(s) for s in fn.body.body)


def is_forever_loop(fn: cst.FunctionDef | cst.Lambda | None) -> bool:
    """A body that is, at its top level, a `while True:` loop that sleeps or waits between rounds: periodic
    housekeeping (a flusher, a poller) that outlives any request, wherever it is started."""
    if not isinstance(fn, cst.FunctionDef) or not isinstance(fn.body, cst.IndentedBlock):
        return False
    for stmt in fn.body.body:
        if isinstance(stmt, cst.While) and ((isinstance(stmt.test, cst.Name) and stmt.test.value == "True")
                                            or (isinstance(stmt.test, cst.Integer) and stmt.test.value == "1")):
            finder = _CallsMatching(lambda f: isinstance(f, cst.Attribute) and f.attr.value in ("sleep", "wait"))
            visit(stmt.body, finder)
            if finder.found:
                return True
    return False


def at_startup(ctx: FileContext) -> bool:
    """The spawn runs when the process starts, before any request: at module level, or in a function named
    for start-up (`STARTUP_NAMES`, `STARTUP_PREFIXES`: `main`, `initialize_*`, `bootstrap`, `lifespan`)."""
    owners = [n for n in ctx.ancestors if isinstance(n, cst.FunctionDef)]
    if not owners:
        return True
    name = owners[0].name.value
    if name.startswith("__") and name.endswith("__"):
        return False  # `__init__` runs whenever an object is made, in a request too
    outer = name.lstrip("_")
    # a boot hook (`before_worker_boot`, `after_process_boot`) runs when a worker process starts
    return outer in STARTUP_NAMES or outer.startswith(STARTUP_PREFIXES) or "boot" in outer.split("_")


def in_library_callback(ctx: FileContext) -> bool:
    """The spawn runs in a callback a library calls with an event of its own (`[[library_callback]]`: a metrics
    collector's `collect()`, a proxy addon's `request(flow)` hook): the library's thread or loop holds no request
    of the project's. Not where the project sets one itself: its class (or module) sets a request ContextVar or
    restores a carrier, or the spawn is inside a `with` of the project's code or of a span."""
    fn = ctx.enclosing(cst.FunctionDef)
    if not isinstance(fn, cst.FunctionDef):
        return False
    cls = ctx.enclosing(cst.ClassDef)
    bases = [ctx.qualified_name(b.value) or "" for b in cls.bases] if isinstance(cls, cst.ClassDef) else []
    params = (*fn.params.posonly_params, *fn.params.params, *fn.params.kwonly_params)
    types = [ctx.qualified_name(p.annotation.annotation) or "" for p in params if p.annotation is not None]
    if not any((not e.methods or fn.name.value in e.methods)
               and any(_named(q, e.name) for q in (bases if e.base else types))
               for e in ctx.catalog.get("library_callback")):
        return False
    return not _within_context(ctx, fn) and not _sets_context(ctx, cls if isinstance(cls, cst.ClassDef) else ctx.module)


def _named(q: str, name: str) -> bool:
    return bool(q) and (q.startswith(name) if name.endswith(".") else q == name)


def _within_context(ctx: FileContext, fn: cst.FunctionDef) -> bool:
    """The spawn is inside a `with` (in `fn`) of something other than a library's call: the project's helper
    (a tenant scope) or a span may make a context current around it."""
    tops = importable_tops(ctx.index)
    chain = list(ctx.ancestors)
    inside = chain[next((i for i, n in enumerate(chain) if n is fn), len(chain)):]
    for node in inside:
        if isinstance(node, cst.With):
            for item in node.items:
                call = item.item
                if not isinstance(call, cst.Call):
                    continue  # `with self._lock:`: a value made elsewhere (a lock), entered here
                q = ctx.qualified_name(call.func)
                if q is None or q.split(".")[0] in tops or q in _activity_names(ctx) or \
                        isinstance(call.func, cst.Attribute) and call.func.attr.value in _activity_methods(ctx):
                    return True
    return False


def _activity_names(ctx: FileContext) -> frozenset[str]:
    return frozenset(e.name for e in ctx.catalog.get("trace_activity") if not e.method and e.kind != "instrumentation")


def _activity_methods(ctx: FileContext) -> frozenset[str]:
    return frozenset(e.name for e in ctx.catalog.get("trace_activity") if e.method)


def _sets_context(ctx: FileContext, scope: cst.CSTNode) -> bool:
    """`scope` sets a context that outlives one call: a project ContextVar's `.set(...)`, a carrier restored or
    attached (`[[trace_activity]]` names, configured extractors), structlog's `bind_contextvars`."""
    finder = _SetsContext(ctx)
    visit(scope, finder)
    return finder.found


class _SetsContext(cst.CSTVisitor):
    def __init__(self, ctx: FileContext) -> None:
        self.ctx = ctx
        self.vars = set(ctx.index.project_contextvars())
        self.names = _activity_names(ctx) | set(getattr(ctx.config, "extractors", ()))
        self.found = False

    def on_visit(self, node: cst.CSTNode) -> bool:
        return not self.found and super().on_visit(node)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        q = self.ctx.qualified_name(func) or ""
        if q in self.names or q.endswith("bind_contextvars"):
            self.found = True
        elif isinstance(func, cst.Attribute) and func.attr.value == "set":
            owner = self.ctx.qualified_name(func.value) or ""
            self.found = bool(owner) and any(owner == v or v.endswith("." + owner) for v in self.vars)


def long_lived_target(ctx: FileContext, func: cst.BaseExpression, flow: "ContextFlow") -> bool:
    """The target hosts an event loop or a server, or exits the process (`[[long_lived_target]]`): as the
    callable itself (`target=loop.run_forever`, `os._exit`) or called in its body."""
    entries = ctx.catalog.get("long_lived_target")
    methods = {e.name for e in entries if e.method}
    names = {e.name for e in entries if not e.method}

    def matches(expr: cst.BaseExpression) -> bool:
        if isinstance(expr, cst.Attribute) and expr.attr.value in methods:
            return True
        return ctx.qualified_name(expr) in names

    if matches(func):
        return True
    fn = flow.resolve_function(func)
    return fn is not None and hosts_long_lived(ctx, fn)


def hosts_long_lived(ctx: FileContext, fn: cst.CSTNode) -> bool:
    """A function body that calls a `[[long_lived_target]]` (`loop.run_forever()`, `server.serve_forever()`)."""
    entries = ctx.catalog.get("long_lived_target")
    methods = {e.name for e in entries if e.method}
    names = {e.name for e in entries if not e.method}

    def matches(expr: cst.BaseExpression) -> bool:
        if isinstance(expr, cst.Attribute) and expr.attr.value in methods:
            return True
        return ctx.qualified_name(expr) in names

    finder = _CallsMatching(matches)
    visit(fn, finder)
    return finder.found


def serving_name(func: cst.BaseExpression) -> bool:
    """A target named for hosting a server or a loop (`_run_exposition_server`, `self._consume_forever`),
    or the run method of an object named so (`healthcheck_server.run`, `self._event_loop.run_forever`), when
    its body is not in this module."""
    parts = (dotted(func) or "").lower().split(".")
    if any(word in parts[-1] for word in _SERVING_NAME):
        return True
    return len(parts) > 1 and parts[-1] in _RUN_METHODS and any(word in parts[-2] for word in _SERVING_NAME)


#: the methods that run an object named for serving (`server.run`, `loop.run_forever`) for good
_RUN_METHODS = frozenset({"run", "serve", "start", "run_forever", "serve_forever", "run_until_complete"})


def _unwrapped(ctx: FileContext, func: cst.BaseExpression) -> cst.BaseExpression:
    """The callable a `functools.partial(f, ...)` target runs (`[[callable_wrapper]]`), else `func`."""
    if isinstance(func, cst.Call) and func.args and func.args[0].keyword is None \
            and ctx.qualified_name(func.func) in ctx.catalog.names("callable_wrapper"):
        return func.args[0].value
    return func


class _CallsMatching(cst.CSTVisitor):
    def __init__(self, matches) -> None:
        self.matches = matches
        self.found = False

    def visit_Call(self, node: cst.Call) -> bool:
        if self.matches(node.func):
            self.found = True
        return not self.found


def starts_service(ctx: FileContext, func: cst.BaseExpression | None, flow: "ContextFlow") -> bool:
    """Long-lived work, which must not inherit a request: a thread, timer or executor task spawned at
    start-up (`at_startup`) or by a library's callback (`in_library_callback`: a metrics scrape), or one
    whose target hosts a loop or a server for good: a long-running loop
    (`is_service_loop`), an event loop or server (`long_lived_target`) or, when its body is elsewhere, a
    target named for serving, started once for the life of its owner: from `__init__`/`start`
    (SERVICE_STARTERS) or kept on the instance (`self._thread = Thread(...)`). `func`: the thread's target
    (None: the loop is already known, a subclass's `run()`)."""
    if at_startup(ctx) or in_library_callback(ctx) or once_per_process(ctx):
        return True
    if func is not None:
        func = _unwrapped(ctx, func)
    if func is not None and long_lived_target(ctx, func, flow):
        return True
    if func is not None and is_forever_loop(flow.resolve_function(func)):
        return True
    owner = ctx.enclosing(cst.FunctionDef)
    if owner is not None:
        name = owner.name.value
        parent = ctx.parent()
        owned = isinstance(parent, cst.Assign) and any(
            (dotted(t.target) or "").startswith("self.") or _kept_on_instance(owner, t.target)
            for t in parent.targets)
        if not (owned or name in SERVICE_STARTERS or name.lstrip("_").startswith(SERVICE_STARTER_PREFIXES)):
            return False
    if func is None:
        return True
    fn = flow.resolve_function(func)
    # a target named for serving (`start_action_server`), started from a starter: its body may hand the loop
    # to a framework (`GunicornApplication(...).run()`)
    return serving_name(func) or (fn is not None and is_service_loop(fn))


def once_per_process(ctx: FileContext) -> bool:
    """The spawn is in a function guarded to run once per process: it declares a module-level flag `global`,
    returns early when the flag is set (`if _sweep_started: return`, `if _worker is not None: return`) and
    sets it (`_sweep_started = True`). The work outlives whichever request happened to trigger it first."""
    owner = ctx.enclosing(cst.FunctionDef)
    if owner is None:
        return False
    finder = _OnceGuard()
    visit(owner.body, finder)
    return bool(finder.declared & finder.checked & finder.set)


class _OnceGuard(cst.CSTVisitor):
    def __init__(self) -> None:
        self.declared: set[str] = set()  # `global NAME`
        self.checked: set[str] = set()  # `if NAME: return` / `if NAME is not None: return`
        self.set: set[str] = set()  # `NAME = <not None, not False>`

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Global(self, node: cst.Global) -> None:
        self.declared |= {n.name.value for n in node.names}

    def visit_If(self, node: cst.If) -> None:
        test = node.test
        if isinstance(test, cst.Comparison) and len(test.comparisons) == 1 and isinstance(
                test.comparisons[0].operator, cst.IsNot) and isinstance(test.comparisons[0].comparator, cst.Name) \
                and test.comparisons[0].comparator.value == "None":
            test = test.left
        body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
        first = body[0] if body else None
        returns = isinstance(first, cst.SimpleStatementLine) and any(isinstance(b, cst.Return) for b in first.body)
        if isinstance(test, cst.Name) and returns:
            self.checked.add(test.value)

    def visit_Assign(self, node: cst.Assign) -> None:
        if isinstance(node.value, cst.Name) and node.value.value in ("None", "False"):
            return
        for t in node.targets:
            if isinstance(t.target, cst.Name):
                self.set.add(t.target.value)


def _kept_on_instance(owner: cst.FunctionDef, target: cst.BaseExpression) -> bool:
    """`thread = Thread(...)` whose name the function later stores on the instance (`self._watch_thread =
    thread`): one thread per owner, started once, like `self._thread = Thread(...)`."""
    if not isinstance(target, cst.Name):
        return False
    finder = _StoredOnSelf(target.value)
    visit(owner, finder)
    return finder.found


class _StoredOnSelf(cst.CSTVisitor):
    def __init__(self, name: str) -> None:
        self.name = name
        self.found = False

    def visit_Assign(self, node: cst.Assign) -> None:
        if isinstance(node.value, cst.Name) and node.value.value == self.name and any(
                (dotted(t.target) or "").startswith("self.") for t in node.targets):
            self.found = True


# --- is the thread started? ------------------------------------------------------------------------------


class _Uses(cst.CSTVisitor):
    """How a bound thread object is used: `.start()` called on it, or handed elsewhere (escapes)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.started = False
        self.escapes = False

    def visit_AssignTarget(self, node: cst.AssignTarget) -> bool:
        return False

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value == "start" and dotted(func.value) == self.name:
            self.started = True

    def visit_Arg(self, node: cst.Arg) -> None:
        if dotted(node.value) == self.name:
            self.escapes = True

    def visit_Return(self, node: cst.Return) -> None:
        if node.value is not None and dotted(node.value) == self.name:
            self.escapes = True

    def visit_Element(self, node: cst.Element) -> None:
        if dotted(node.value) == self.name:
            self.escapes = True


def started(ctx: FileContext, call: cst.Call, self_starts: bool) -> bool:
    """Whether the thread object built by `call` is started (or escapes to code that may start it)."""
    if self_starts:
        return True
    parent = ctx.parent()
    if isinstance(parent, cst.Attribute):
        return parent.attr.value == "start"
    target = None
    if isinstance(parent, cst.Assign) and len(parent.targets) == 1:
        target = dotted(parent.targets[0].target)
    elif isinstance(parent, cst.AnnAssign):
        target = dotted(parent.target)
    if target is None:
        return True  # passed, returned or stored elsewhere: assume it is started there
    scope: cst.CSTNode | None
    if target.startswith("self."):
        scope = ctx.enclosing(cst.ClassDef)
    else:
        scope = ctx.enclosing(cst.FunctionDef) or ctx.module
    if scope is None:
        return True
    uses = _Uses(target)
    visit(scope, uses)
    return uses.started or uses.escapes
