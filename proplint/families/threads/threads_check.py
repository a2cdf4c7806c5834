"""The visitor behind PRP201-PRP208 (the rules, their docs and examples are in `threads.py`).

Every call that hands a callable to another thread, task or process is a *spawn*: `threading.Thread`
/ `Timer` and their project subclasses, executor `submit`/`map` (receiver inferred by the resolver),
`loop.run_in_executor`, the context-safe helpers, and the process boundaries. For each spawn, in order:
a shared Context (PRP205), a callable that already carries the caller's context, the caller handing its
context/span/carrier over as an argument, `ThreadingInstrumentor` (only without project ContextVars),
a housekeeping service thread, and finally the finding with its fix. PRP208 is decided when the module
has been walked, because a thread target is usually defined before the code that starts it.

`ThreadContextBase.needs` gives the prefilter, per rule, the words (and imports) every one of these paths
to that rule's report requires; a rule ruled out for a file is skipped (`self.ctx.enabled`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import libcst as cst

from proplint.core.context import Check, provides_module
from proplint.families.threads.threads_flow import RUN, Carry, ContextFlow, enclosing_loop, rebinds, started
from proplint.families.threads.threads_support import (
    append_args, append_keyword, argument, copy_run, insert_before, is_service_loop, keyword, render,
    thread_call_fix,
)
from proplint.core.flow import CarrierFlow
from proplint.core.needs import Need
from proplint.core.resolve import dotted
from proplint.core.rule import SAFE, UNSAFE, Fix, ImportRequest

#: Methods from which a long-running worker is started once, for the life of its owner: these names,
#: and names that (after leading underscores) begin with one of the prefixes (`_ensure_thread`).
SERVICE_STARTERS = frozenset({"__init__", "__post_init__", "__enter__", "__aenter__", "setup"})
SERVICE_STARTER_PREFIXES = ("start", "ensure", "serve", "launch")
FLAG = "thread_inherit_context"
#: the keyword through which `threading.Thread` takes a Context on 3.14+ (`context=None`: PRP207)
CONTEXT_KEYWORD = "context"


@dataclass
class Spawn:
    node: cst.Call
    code: str
    func: cst.BaseExpression
    kind: str  # "thread" | "submit" | "map" | "executor" | "other" | "safe"
    label: str
    entry: Any = None  # the ThreadSpawner whose fix applies (None: no fix), or the ExecutorCall
    items: list[cst.BaseExpression] = field(default_factory=list)
    instrumented_by: str = ""
    executor: str = ""  # run_in_executor: "default" | "thread" | "unknown"


@dataclass(frozen=True)
class ClassInfo:
    """A project class that derives (through project classes) from a catalog thread or executor class."""

    base: str
    copies: bool
    submit_copies: bool
    run: bool
    init: bool
    self_start: bool
    service: bool


def short(node: cst.CSTNode, limit: int = 40) -> str:
    text = " ".join(cst.Module(body=[]).code_for_node(node).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def flag_state(index, config) -> str | None:
    """None: nothing relies on thread_inherit_context; "on": it is on wherever the code runs; else why not."""
    launcher = FLAG in index.signals
    if not launcher and not index.facts(FLAG):
        return None
    if launcher and config.target_minor >= 14:
        return "on"
    where = "a launcher or env file turns it on" if launcher else "the code reads or sets it"
    if config.target_minor < 14:
        return (f"{where}, but target-version {config.target_version} includes Pythons before 3.14, "
                f"where the flag does not exist")
    return f"{where}, but it is off by default on 3.14 builds with the GIL"


# --- prefilter needs ------------------------------------------------------------------------------------
#: (words one of which the file has, modules one of which it imports; empty: no import needed)
Alt = tuple[frozenset[str], frozenset[str]]


def _last(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def _named(root: Path, names: Iterable[str]) -> list[Alt]:
    """Catalog names as prefilter alternatives, one per top-level module: (their last names, that module).

    Sound because every qualified name the resolver gives (`callee`, `type_of`, `annotation_type`) ends
    with a word written in the file (the name called, the attribute, the annotation, or the imported name
    on an `import ... as` line), and starts with a module named on an import line, except for a module's
    own definitions and relative imports (`_local`, `from .thread import ...`), which need the file to be
    inside that module: then the project itself provides it, and the word alone is required.
    """
    tops: dict[str, set[str]] = {}
    for name in names:
        tops.setdefault(name.split(".", 1)[0], set()).add(_last(name))
    return [(frozenset(words), frozenset() if provides_module(root, top) else frozenset({top}))
            for top, words in sorted(tops.items())]


def _subclasses(index, bases: frozenset[str] | set[str]) -> frozenset[str]:
    """Last names of the project classes deriving (through project classes) from `bases`: what
    `project_class` can find, always called by its own name (the call, an annotation, a class statement)."""
    bases = frozenset(bases)

    def names(ix) -> frozenset[str]:
        return frozenset(_last(q) for q in ix.class_bases() if q not in bases and ix.is_subclass(q, bases))

    return index.derived(f"threads.subclasses:{','.join(sorted(bases))}", names) if bases else frozenset()


class ThreadContextBase(Check):
    """Shared machinery; `threads.ThreadContextCheck` binds it to the rules."""

    RULES: dict[str, Any] = {}

    @classmethod
    def project_tokens(cls, index, catalog) -> set[str]:
        """Names of the project's own Thread and executor subclasses (a file may use only those)."""
        bases = {e.name for e in catalog.get("thread_spawner") if e.base} | catalog.names("executor")
        return set(_subclasses(index, bases))

    @classmethod
    def needs(cls, catalog, config, index) -> list[Need]:
        """Per rule, the words (and imports) without which no path of this check reaches its report.

        The building blocks are *alternatives* (`_named`): a catalog callable or class is only ever found
        under its own last name, with its top-level module on an import line; a project subclass under its
        own name (see `_named` and `_subclasses` for why).
        """
        root = Path(config.root)
        spawners = catalog.get("thread_spawner")
        pools = {kind: [e for e in catalog.get("executor") if e.kind == kind] for kind in ("thread", "process")}
        calls = catalog.get("executor_call")
        call_names = {e.name for e in calls}
        callbacks = {_last(e.name) for e in catalog.get("cross_thread_callback")}
        contexts = [e.name for e in catalog.get("context_source") if e.kind == "context" and not e.method]

        def alts(entries, bases=()) -> list[Alt]:
            """The entries named, or a project class deriving from `bases` (catalog names) named."""
            out = _named(root, [e.name for e in entries])
            own = _subclasses(index, frozenset(bases))
            return out + [(own, frozenset())] if own else out

        def need(code: str, alternatives: list[Alt], *groups: set[str]) -> list[Need]:
            if not all(groups):
                return []  # an empty group (e.g. a pool without methods): no path can meet it
            return [Need.of([code], words, *groups, imported=mods) for words, mods in alternatives]

        def methods(entries) -> set[str]:
            return {m for e in entries for m in (*e.submit, *e.map, *e.other)}

        def words(alternatives: list[Alt]) -> set[str]:
            return {w for ws, _ in alternatives for w in ws}

        bases = [e.name for e in spawners if e.base]
        #: every spawn of kind "thread": a spawner, or a project subclass of a base spawner (`thread_subclass`)
        threads = alts(spawners, bases)
        #: executor `submit`/`map`/...: the receiver's type is inferred from a constructor call, annotation,
        #: with-item or `self.x` assignment, each of which names the class (or a project subclass)
        thread_pools = alts(pools["thread"], [e.name for e in pools["thread"]])
        #: `run_in_executor` is matched by method name on any receiver: the word alone
        run_in = [(frozenset(call_names), frozenset())] if call_names else []
        out: list[Need] = []
        # PRP201/PRP202: `thread()` or `thread_subclass()` reports the code of the spawner (for a project
        # subclass, of the base spawner it derives from)
        for code in sorted({e.code for e in spawners}):
            mine = [e for e in spawners if e.code == code]
            out += need(code, alts(mine, [e.name for e in mine if e.base]))
        # PRP203: `executor_method` on a thread pool: one of that pool's methods, called on the pool
        for e in pools["thread"]:
            out += need("PRP203", alts([e], [e.name]), methods([e]))
        # PRP204: `executor_call` reports the entry's code
        for e in calls:
            out.append(Need.of([e.code], [e.name]))
        # PRP205 (`_report_shared`): a spawn of any kind whose callable carries one Context object
        # (`ContextFlow.carry`): every carry is a `.run` of something `is_context` accepts, a call, annotation
        # or attribute resolved to a catalog context. A need holds one import: the context's, the rarer one.
        spawned = words(threads + thread_pools + run_in + alts(catalog.get("context_safe")))
        out += need("PRP205", _named(root, contexts), {RUN}, spawned)
        # PRP206 (`process()`): a process spawner; a process pool's method; or `run_in_executor` on a
        # receiver inferred to be a process pool
        out += need("PRP206", alts(catalog.get("process_spawner")))
        for e in pools["process"]:
            out += need("PRP206", alts([e], [e.name]), methods([e]))
        out += need("PRP206", alts(pools["process"], [e.name for e in pools["process"]]), call_names)
        # PRP207: `Thread(..., context=None)` unless the flag is on everywhere; and, where the project relies
        # on thread_inherit_context without it being on everywhere, any thread spawn (`_report_lost`,
        # `thread_subclass`)
        state = flag_state(index, config)
        if state != "on":
            takes = [e for e in spawners if e.context_since]
            out += need("PRP207", alts(takes, [e.name for e in takes if e.base]), {CONTEXT_KEYWORD}, {"None"})
        if state not in (None, "on"):
            out += need("PRP207", threads)
        # PRP208: a cross-thread callback, in a function some non-safe spawn recorded as a lost target (process
        # spawns record nothing), or in run() of a project Thread subclass (in `threads`)
        out += need("PRP208", threads + thread_pools + run_in, callbacks)
        return out

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        cat = ctx.catalog
        self.spawners = {e.name: e for e in cat.get("thread_spawner")}
        self.thread_bases = {n for n, e in self.spawners.items() if e.base}
        self.executors = {e.name: e for e in cat.get("executor")}
        self.executor_calls = {e.name: e for e in cat.get("executor_call")}
        self.process_spawners = {e.name: e for e in cat.get("process_spawner")}
        self.safe = {e.name: e for e in cat.get("context_safe")}
        callbacks = cat.get("cross_thread_callback")
        self.callbacks = {e.name: e for e in callbacks if not e.method}
        self.callback_methods = {e.name: e for e in callbacks if e.method}
        self.wrappers = {e.name: e for e in cat.get("context_wrapper")}
        #: method names worth inferring a receiver type for (inference scans the class: not for every call):
        #: executor methods lead to PRP203/205/206/208 only, `<mp context>.Process` to PRP206 only
        self.methods: set[str] = set()
        if ctx.enabled & {"PRP203", "PRP205", "PRP206", "PRP208"}:
            self.methods |= {m for e in self.executors.values() for m in (*e.submit, *e.map, *e.other)}
        if "PRP206" in ctx.enabled:
            self.methods |= {_last(n) for n in self.process_spawners}
        #: last name components worth resolving: catalog callables, their local aliases, project classes
        called = [*self.spawners, *self.process_spawners, *self.safe, *self.callbacks]
        own = self.project_tokens(ctx.index, cat)
        self.candidates = {n.rsplit(".", 1)[-1] for n in called} | self.methods | own
        self.candidates |= {local for local, q in ctx.resolver.module_scope.imports().items()
                            if q in called or q.rsplit(".", 1)[-1] in own}
        sources = cat.get("context_source")
        self.flow = ContextFlow(
            ctx,
            contexts={e.name for e in sources if e.kind == "context" and not e.method},
            handles={e.name for e in sources if e.kind == "handle" and not e.method},
            handle_methods={e.name for e in sources if e.method},
            partials=cat.names("callable_wrapper"),
        )
        self.carriers = CarrierFlow(ctx)
        self.project_vars = ctx.index.project_contextvars()
        self.flag_state = flag_state(ctx.index, ctx.config)
        self.targets: dict[int, bool] = {}  # id(function) -> it runs with its creator's context
        self.pending: list[tuple[cst.Call, cst.CSTNode, str | None, Any, Fix | None]] = []
        self._classes: dict[str, ClassInfo | None] = {}
        self._covered: dict[str, bool] = {}

    # -- project facts ---------------------------------------------------------------------------------
    def _covered_by(self, library: str) -> bool:
        """An instrumentor for `library` is on (project call or zero-code)."""
        if not library:
            return False
        if library not in self._covered:
            index = self.ctx.index
            package = next((e.package for e in self.ctx.catalog.get("instrumentor") if e.library == library), "")
            self._covered[library] = index.instrumented(library) or index.zero_code(library, package)
        return self._covered[library]

    def _vars_note(self) -> str:
        names = [v.rsplit(".", 1)[-1] for v in self.project_vars[:3]]
        more = ", ..." if len(self.project_vars) > 3 else ""
        return (f"; ThreadingInstrumentor is on, but it carries only the OpenTelemetry context: the project's "
                f"ContextVars ({', '.join(names)}{more}) are still lost")

    def project_class(self, qualname: str | None) -> ClassInfo | None:
        """What the project index knows about a project class deriving from a thread or executor class."""
        if not qualname:
            return None
        if qualname in self._classes:
            return self._classes[qualname]
        index = self.ctx.index
        bases = index.class_bases()
        all_facts = index.derived("threads.class_facts",
                                  lambda ix: {q: f for _, d in ix.facts("thread_classes") for q, f in d.items()})
        known = self.thread_bases | set(self.executors)
        info = None
        if qualname in bases:
            order, seen, base = [qualname], {qualname}, None
            for cls in order:
                for b in bases.get(cls, ()):
                    if b in known:
                        base = base or b
                    elif b in bases and b not in seen:
                        seen.add(b)
                        order.append(b)
            if base is not None:
                facts = [all_facts.get(c, {}) for c in order]
                run = next((f for f in facts if f.get("run")), None)
                info = ClassInfo(base, any(f.get("copies") for f in facts), any(f.get("submit_copies") for f in facts),
                                 run is not None, any(f.get("init") for f in facts),
                                 any(f.get("self_start") for f in facts), bool(run and run.get("service")))
        self._classes[qualname] = info
        return info

    def _local(self, name: str) -> str | None:
        module = self.ctx.module_name
        return f"{module}.{name}" if module else None

    def type_of(self, expr: cst.BaseExpression) -> str | None:
        t = self.ctx.resolver.receiver_type(expr)
        if t is not None and t.startswith("<local>."):
            return self._local(t[len("<local>."):])
        return t

    def callee(self, func: cst.BaseExpression) -> str | None:
        """The qualified name of what is called: imported, a class of this module, or `<type>.<method>`."""
        q = self.ctx.qualified_name(func)
        if q is not None:
            return q
        if isinstance(func, cst.Name) and self.ctx.resolver.module_defines(func.value):
            return self._local(func.value)
        if isinstance(func, cst.Attribute) and func.attr.value in self.methods:
            owner = self.type_of(func.value)
            if owner is not None:
                return f"{owner}.{func.attr.value}"
        return None

    # -- fixes -----------------------------------------------------------------------------------------
    def wrap(self, name: str, **values: cst.BaseExpression) -> tuple[cst.BaseExpression, list[ImportRequest]]:
        entry = self.wrappers[name]
        return render(entry.template, **values), [ImportRequest(m) for m in entry.imports]

    def record_target(self, expr: cst.BaseExpression, propagated: bool) -> None:
        fn = self.flow.resolve_function(expr)
        if fn is not None:
            self.targets[id(fn)] = self.targets.get(id(fn), True) and propagated

    def starts_service(self, func: cst.BaseExpression | None) -> bool:
        """A long-running loop started once for the life of its owner: at import, from `__init__`/`start`
        (see SERVICE_STARTERS), or kept on the instance (`self._thread = Thread(...)`)."""
        owner = self.ctx.enclosing(cst.FunctionDef)
        if owner is not None:
            name = owner.name.value
            parent = self.ctx.parent()
            owned = isinstance(parent, cst.Assign) and any(
                (dotted(t.target) or "").startswith("self.") for t in parent.targets)
            if not (owned or name in SERVICE_STARTERS or name.lstrip("_").startswith(SERVICE_STARTER_PREFIXES)):
                return False
        if func is None:
            return True
        fn = self.flow.resolve_function(func)
        return fn is not None and is_service_loop(fn)

    # -- the spawn pipeline ------------------------------------------------------------------------------
    def spawn(self, s: Spawn) -> None:
        carry = self.flow.carry(s.func, s.items or None)
        if carry is not None:
            reason = self._shared(carry, s)
            if reason:
                self._report_shared(s, carry, reason)
            self.record_target(s.func, True)
            return
        if s.kind == "safe":
            self.record_target(s.func, True)
            return
        if self._hands_over(s):
            self.record_target(s.func, False)  # handed over, but not active in the thread (PRP208)
            return
        covered = self._covered_by(s.instrumented_by)
        if covered and not self.project_vars:
            self.record_target(s.func, True)
            return
        self.record_target(s.func, False)
        if s.kind == "thread" and self.starts_service(s.func):
            return
        self._report_lost(s, covered)

    def _hands_over(self, s: Spawn) -> bool:
        for arg in s.node.args:
            if arg.value is s.func or (arg.keyword is not None and arg.keyword.value in ("name", "daemon")):
                continue
            if self.flow.hands_over(arg.value) or self.carriers.enriched(arg.value):
                return True
        return False

    def _shared(self, carry: Carry, s: Spawn) -> str | None:
        if carry.fresh:
            return None
        if s.kind == "map":
            return "map calls it for every item, concurrently"
        loop = enclosing_loop(self.ctx.ancestors)
        if loop is None:
            return None
        for name in carry.names:
            if not rebinds(loop, name):
                return f"`{name}` is made once, outside the loop that starts the workers"
        return None

    def _report_shared(self, s: Spawn, carry: Carry, reason: str) -> None:
        if "PRP205" not in self.ctx.enabled:
            return
        node, imports = carry.node, []
        if carry.fix == "closure" or (carry.fix == "attr" and s.kind != "map"):
            new: cst.CSTNode = copy_run(node)  # type: ignore[arg-type]
        elif carry.fix == "partial" and s.kind != "map":
            assert isinstance(node, cst.Call)
            first = node.args[0]
            inner = first.with_changes(value=copy_run(first.value))  # type: ignore[arg-type]
            new = node.with_changes(args=[inner, *node.args[1:]])
        else:
            assert carry.context is not None
            wrapped, imports = self.wrap("per_call", ctx=carry.context)
            new = append_args(wrapped, carry.partial_args)  # type: ignore[arg-type]
        fix = Fix(SAFE, "Copy the Context for every task", [(node, new)], imports)
        message = (f"one Context object is entered by several concurrent workers of {s.label} ({reason}): the "
                   f"second raises RuntimeError: cannot enter context; copy it per task (`ctx.copy().run`)")
        self.report(self.RULES["PRP205"], s.func, message, fix)

    def _report_lost(self, s: Spawn, covered: bool) -> None:
        rule = self.RULES[s.code]
        if ("PRP207" if s.kind == "thread" and self.flag_state is not None else s.code) not in self.ctx.enabled:
            return
        fn = short(s.func)
        note = self._vars_note() if covered else ""
        if s.kind == "thread" and self.flag_state is not None:
            if self.flag_state == "on":
                return
            self.report(self.RULES["PRP207"], s.node,
                        f"{s.label} starts `{fn}` relying on thread_inherit_context: {self.flag_state}; pass the "
                        f"context explicitly (target=contextvars.copy_context().run, args=({fn}, ...))" + note)
            return
        fix = self._fix(s)
        if s.kind == "thread":
            message = (f"{s.label} runs `{fn}` with an empty context: its spans start a new trace and the caller's "
                       f"ContextVars are unset; run it in contextvars.copy_context()")
        elif s.kind == "map":
            message = (f"{s.label} runs `{fn}` for each item on worker threads without the caller's context; wrap "
                       f"it to copy the context per item (one Context shared by concurrent items raises RuntimeError)")
        elif s.kind == "executor":
            message = (f"{s.label} runs `{fn}` on a worker thread without the caller's context; pass "
                       f"contextvars.copy_context().run, {fn}")
            if s.executor == "default" and isinstance(self.ctx.parent(), cst.Await):
                message += f" (or await {s.entry.alternative}({fn}, ...))"
            if s.executor == "unknown":
                message += " (if the executor is a process pool, pass a trace carrier instead: PRP206)"
        elif s.kind == "submit":
            message = (f"{s.label} runs `{fn}` on a worker thread without the caller's context; submit "
                       f"contextvars.copy_context().run, {fn}")
        else:
            message = (f"{s.label} runs `{fn}` on a worker thread without the caller's context; pass "
                       f"contextvars.copy_context().run as the function, with `{fn}` as its first argument")
        if s.kind in ("submit", "map", "other") and self.flag_state is not None:
            message += "; thread_inherit_context does not help here: pool workers keep the context of the " \
                       "submit() that started them"
        self.report(rule, s.node, message + note, fix)

    def _fix(self, s: Spawn) -> Fix | None:
        node = s.node
        if s.kind == "thread":
            sp = s.entry
            if sp is None:
                return None
            if sp.context_since and self.ctx.config.target_minor >= sp.context_since:
                value, imports = self.wrap("context")
                new = append_keyword(node, "context", value)
                how = "Pass context=contextvars.copy_context()"
            else:
                value, imports = self.wrap("spawn")
                new = thread_call_fix(node, sp, value)
                how = "Run the target in contextvars.copy_context()"
            return Fix(SAFE, how, [(node, new)], imports) if new is not None else None
        # submit/map: the function is the first argument, positional (checked when the spawn was made)
        if s.kind == "submit" and node.args and node.args[0].value is s.func:
            value, imports = self.wrap("spawn")
            new = node.with_changes(args=insert_before(node.args, 0, value))
            return Fix(SAFE, "Submit contextvars.copy_context().run", [(node, new)], imports)
        if s.kind == "map" and node.args and node.args[0].value is s.func:
            value, imports = self.wrap("per_item", fn=s.func)
            new = node.with_changes(args=[node.args[0].with_changes(value=value), *node.args[1:]])
            return Fix(SAFE, "Copy the context for every item", [(node, new)], imports)
        if s.kind == "executor":
            i = s.entry.func_index
            head = node.args[: i + 1]
            if len(head) <= i or any(a.star or a.keyword is not None for a in head) or head[i].value is not s.func:
                return None
            value, imports = self.wrap("spawn")
            new = node.with_changes(args=insert_before(node.args, i, value))
            return Fix(SAFE if s.executor != "unknown" else UNSAFE, "Run the function in contextvars.copy_context()",
                       [(node, new)], imports)
        return None

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
                self.report(self.RULES["PRP207"], node,
                            f"{label}(context=None) leaves the thread's context to thread_inherit_context: {why}; "
                            f"pass context=contextvars.copy_context()")
            return
        self.spawn(Spawn(node, spawner.code, target.value, "thread", label, spawner if fixable else None,
                         instrumented_by=spawner.instrumented_by))

    def thread_subclass(self, node: cst.Call, qualname: str, info: ClassInfo) -> None:
        spawner = self.spawners[info.base]
        label = qualname.rsplit(".", 1)[-1]
        if info.copies:
            return
        if not info.run:
            self.thread(node, spawner, label, fixable=not info.init, positional=not info.init)
            return
        if not started(self.ctx, node, info.self_start):
            return
        if info.service and self.starts_service(None):
            return
        if self.flag_state is not None:
            if self.flag_state != "on":
                self.report(self.RULES["PRP207"], node,
                            f"{label} overrides run() and relies on thread_inherit_context: {self.flag_state}; "
                            f"capture contextvars.copy_context() in __init__/start() and run the body in it")
            return
        self.report(self.RULES[spawner.code], node,
                    f"{label} overrides run(), which runs with an empty context (and ThreadingInstrumentor does not "
                    f"cover overridden run methods): capture contextvars.copy_context() in __init__/start() and "
                    f"run the body in it, or pass context= to Thread.__init__ on 3.14+")

    def executor_method(self, node: cst.Call, entry, copies: bool, method: str) -> None:
        if method not in (*entry.submit, *entry.map, *entry.other):
            return
        if not node.args or node.args[0].star or node.args[0].keyword is not None:
            return
        func = node.args[0].value
        label = f"{entry.name.rsplit('.', 1)[-1]}.{method}"
        if entry.kind == "process":
            self.process(node, func, label)
            return
        if copies:
            self.record_target(func, True)
            return
        kind = "submit" if method in entry.submit else "map" if method in entry.map else "other"
        items = [a.value for a in node.args[1:] if a.keyword is None and not a.star] if kind == "map" else []
        self.spawn(Spawn(node, "PRP203", func, kind, label, items=items, instrumented_by=entry.instrumented_by))

    def executor_call(self, node: cst.Call, entry) -> None:
        ex = argument(node, entry.executor_index, None)
        fn = argument(node, entry.func_index, None)
        if ex is None or fn is None:
            return
        label = f"loop.{entry.name}"
        if isinstance(ex.value, cst.Name) and ex.value.value == "None":
            kind = "default"
        else:
            found = self.executor_of(self.type_of(ex.value))
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
        self.spawn(Spawn(node, entry.code, fn.value, "executor", label, entry, instrumented_by=entry.instrumented_by,
                         executor=kind))

    def executor_of(self, qualname: str | None) -> tuple[Any, bool] | None:
        """(catalog executor, its submit copies the context) for a receiver type."""
        if qualname is None:
            return None
        if qualname in self.executors:
            return self.executors[qualname], False
        info = self.project_class(qualname)
        if info is not None and info.base in self.executors:
            return self.executors[info.base], info.submit_copies
        return None

    def process(self, node: cst.Call, func: cst.BaseExpression, label: str) -> None:
        if "PRP206" not in self.ctx.enabled:
            return
        for arg in node.args:
            if arg.value is not func and self.carriers.enriched(arg.value):
                return
        note = ""
        if self.flow.carry(func) is not None:
            note = " (a contextvars.Context cannot be pickled: this raises TypeError)"
        self.report(self.RULES["PRP206"], node,
                    f"{label} sends `{short(func)}` to another process without a trace carrier{note}: contextvars and "
                    f"the OpenTelemetry context do not cross process boundaries; pass a carrier filled by "
                    f"opentelemetry.propagate.inject and extract it in the callee")

    def callback(self, node: cst.Call, entry) -> None:
        if "PRP208" not in self.ctx.enabled:
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
            run_class = self._local(ancestors[i - 2].name.value)  # type: ignore[union-attr]
        fix = None
        if entry.context_keyword:
            name = self._creator_context(fn)
            if name is not None:
                new = append_keyword(node, entry.context_keyword, cst.Name(name))
                if new is not None:
                    fix = Fix(SAFE, f"Pass {entry.context_keyword}={name}", [(node, new)])
        self.pending.append((node, fn, run_class, entry, fix))

    def _creator_context(self, fn: cst.CSTNode) -> str | None:
        """A Context of the thread's creator visible in `fn`: a parameter annotated `contextvars.Context`,
        or a name the enclosing function bound to one (a closure)."""
        if isinstance(fn, cst.FunctionDef):
            for p in (*fn.params.posonly_params, *fn.params.params, *fn.params.kwonly_params):
                if p.annotation is not None and \
                        self.ctx.resolver.annotation_type(p.annotation.annotation) in self.flow.contexts:
                    return p.name.value
        scopes = self.ctx.resolver.scopes
        own = scopes[-1].collected().bound if scopes[-1].node is fn else set()
        for scope in reversed(scopes[:-1] if scopes[-1].node is fn else scopes):
            if scope.kind != "function":
                continue
            for name in scope.collected().evidence:
                if name not in own and self.flow.is_context(cst.Name(name)):
                    return name
        return None

    def leave_Module(self, node: cst.Module) -> None:
        for call, fn, run_class, entry, fix in self.pending:
            lost = self.targets.get(id(fn)) is False
            if not lost and run_class is not None:
                info = self.project_class(run_class)
                lost = info is not None and info.base in self.thread_bases and not info.copies
            if not lost:
                continue
            what = entry.name.rsplit(".", 1)[-1]
            what += " runs its callback" if entry.context_keyword else " runs the coroutine"
            if entry.context_keyword:
                how = (f"pass {entry.context_keyword}={fix.message.rsplit('=', 1)[-1]}" if fix else
                       f"pass {entry.context_keyword}= a Context captured by the thread's creator")
            else:
                how = "schedule it with loop.call_soon_threadsafe(..., context=<the creator's Context>)"
            self.report(self.RULES["PRP208"], call,
                        f"{what} in this thread's context, and this thread is started without "
                        f"its creator's context (see PRP201-PRP204): {how}, or copy the context where the thread "
                        f"is started", fix)

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
        if last not in self.candidates:
            return
        q = self.callee(func)
        if q is None:
            return
        if q in self.spawners:
            self.thread(node, self.spawners[q], q)
        elif q in self.process_spawners:
            target = argument(node, self.process_spawners[q].target_index, self.process_spawners[q].target_keyword)
            if target is not None:
                self.process(node, target.value, q.rsplit(".", 1)[-1])
        elif q in self.safe:
            fn = argument(node, self.safe[q].func_index, None)
            if fn is not None:
                self.spawn(Spawn(node, "PRP205", fn.value, "safe", q))
        elif q in self.callbacks:
            self.callback(node, self.callbacks[q])
        else:
            info = self.project_class(q)
            if info is not None and info.base in self.thread_bases:
                self.thread_subclass(node, q, info)
            elif isinstance(func, cst.Attribute):
                found = self.executor_of(q.rpartition(".")[0])
                if found is not None:
                    self.executor_method(node, found[0], found[1], func.attr.value)
