"""Deploy units: where a trace context exists on the caller's side, and where someone reads it.

A repository may hold one service or twenty. A *deploy unit* is a folder with a deployment file of its own
(a Dockerfile, a compose file, a Procfile, a service unit: `project_files.DEPLOYMENT_FILES`) and Python code
below it; a file belongs to the deepest unit above it. A deployment file in a folder with no Python below it
(`docker/Dockerfile`) deploys the project root. Code under no unit is a library: the application that imports
it may hold a context, so it is always checked.

What a unit does with trace context comes from its application code and from the project code it imports,
directly or through what that imports (a service's `from shared_lib.tracing import traced` brings in what
`shared_lib/tracing.py` and the modules it imports do, not the rest of `shared_lib`):

* a **source** makes a context exist: a span started (`start_as_current_span`, `start_span`, OpenTracing's
  `start_active_span`), a carrier restored (`extract`, `attach`), a server or consumer instrumentation (one
  span per request or message), `opentelemetry-instrument`, a tracing SDK that instruments by being imported
  and initialised (Sentry, ddtrace, Logfire, ...), a context library, a request-scoped ContextVar;
* an **entry** makes a context exist only in the code that serves requests: a server instrumentation or
  interceptor (one span per request);
* a **reader** reads the current context: every source, a client instrumentation or interceptor, an injector.
  An entry is not one for a message consumer: nothing its processing runs is under a server's span.

The catalog says which calls are which (`[[trace_activity]]`, `[[tracing_sdk]]` in `rules/common.toml`).
A deployed unit with no source has nothing its HTTP calls, threads or producers could lose (a unit that
sets up a `TracerProvider` and never starts a span has no span current in its handlers); one with no reader
has no one to read what its consumers would restore (a unit whose only tracing is its gRPC server's
interceptor reads nothing in its Kafka consumer).

Activity in a task handler's own body (`@shared_task`, `@app.task`, `@actor`, a timer's function:
`task_decorators`), or in a module-level function only such handlers reach in every application file that
names it (`init_tracer()` called by a telemetry task), sets tracing up in a worker's task, not in the code
that serves requests: it is no evidence for the unit.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from proplint.core.ast_names import all_nodes, ast_qualname, decorator_name
from proplint.core.reach import reached_by_decorated
from proplint.core.relevance import REQUEST_SCOPED, path_kind

def activity_tokens(catalog) -> tuple[bytes, ...]:
    names = {e.name.rsplit(".", 1)[-1] for e in catalog.get("trace_activity") if e.kind != "instrumentation"}
    return tuple(sorted({n.encode() for n in names} | {b"instrument", b"LoggingHandler", b"otelTraceID",
                                                        b"otelSpanID"}))


def _instrumentation(catalog, qualname: str):
    """The `kind = "instrumentation"` entry with the longest name prefixing `qualname`, or None."""
    best = None
    for e in catalog.get("trace_activity"):
        if e.kind == "instrumentation" and (qualname == e.name or qualname.startswith(e.name + ".")):
            if best is None or len(e.name) > len(best.name):
                best = e
    return best


_OTEL_LOGS, _OTEL_LOG_HANDLER = "opentelemetry.sdk._logs", "LoggingHandler"
#: a unit's evidence that is only the project's own ContextVar (no span, no instrumentor)
CONTEXTVAR_EVIDENCE = "defines the request-scoped ContextVar"


def collect_activity(tree, imports, module, config, catalog) -> dict[str, list[str]]:
    """Index collector: `{"source": [...], "entry": [...], "reader": [...]}`, the `[[trace_activity]]` names
    this application file calls (at most a few of each: they are reasons, not a census), and `instruments`:
    the OpenTelemetry instrumentation packages it turns on (`pymongo`, `redis`)."""
    if module and path_kind(module.replace(".", "/") + ".py"):
        return {}
    entries = [e for e in catalog.get("trace_activity") if e.kind != "instrumentation"]
    by_name = {e.name: e for e in entries if not e.method}
    methods = {e.name: e for e in entries if e.method}
    last_names = {name.rsplit(".", 1)[-1] for name in by_name}
    instances: dict[str, str] = {}
    for node in all_nodes(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            q = ast_qualname(node.value.func, imports)
            if q and q.startswith("opentelemetry.instrumentation."):
                for t in node.targets:
                    if isinstance(t, ast.Name):
                        instances[t.id] = q
    found: dict[str, set[str]] = {"source": set(), "entry": set(), "reader": set()}
    packages: set[str] = set()
    tasks = task_decorators(catalog)
    #: the module-level function each piece of activity was seen in ("" at module level or in a class), and
    #: the activity only task handlers' own bodies hold (their spans cover their own work only)
    within: dict[str, str] = {}
    nodes = []
    for top in tree.body:
        decorated = isinstance(top, (ast.FunctionDef, ast.AsyncFunctionDef)) and top.decorator_list
        if decorated and any(decorator_name(d) in tasks for d in top.decorator_list):
            continue  # a task's own spans and instrumentation: not the serving code's
        name = top.name if isinstance(top, (ast.FunctionDef, ast.AsyncFunctionDef)) and not decorated else ""
        nodes += [(n, name) for n in all_nodes(top)]
    for node, fn in nodes:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            attr = node.func.attr
            if attr in methods:
                _seen(found, within, methods[attr].does, f"calls .{attr}()", fn)
                continue
            if attr.startswith("instrument"):
                recv = node.func.value
                q = ast_qualname(recv.func, imports) if isinstance(recv, ast.Call) else (
                    instances.get(recv.id) or ast_qualname(recv, imports) if isinstance(recv, ast.Name)
                    else ast_qualname(recv, imports))
                entry = _instrumentation(catalog, q) if q else None
                if entry is not None:
                    _seen(found, within, entry.does, f"calls {q.rsplit('.', 1)[-1]}.{attr}()", fn)
                    if q.startswith("opentelemetry.instrumentation.") and q.count(".") >= 3:
                        packages.add(q.split(".")[2])
        elif isinstance(node, (ast.Name, ast.Attribute)) and _OTEL_LOG_HANDLER == (
                node.attr if isinstance(node, ast.Attribute) else node.id) and \
                ast_qualname(node, imports) == f"{_OTEL_LOGS}.{_OTEL_LOG_HANDLER}":
            packages.add("logging")  # OpenTelemetry's log handler stamps the current span on every record
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and (
                "otelTraceID" in node.value or "otelSpanID" in node.value):
            packages.add("logging")  # a log format of the fields OpenTelemetry's logging instrumentation sets
        elif isinstance(node, ast.ClassDef) and _log_stamper(node, imports):
            packages.add("logging")  # a log filter or formatter that reads the current span
        elif isinstance(node, ast.Attribute) and node.attr in last_names and isinstance(node.ctx, ast.Load):
            q = ast_qualname(node, imports)  # ends with `.attr`: only then can it be one of `by_name`
            if q in by_name:
                _seen(found, within, by_name[q].does, f"uses {q}", fn)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            q = imports.get(node.id)  # what `ast_qualname` gives a bare name
            if q in by_name:
                _seen(found, within, by_name[q].does, f"uses {q}", fn)
    out: dict[str, Any] = {k: sorted(v)[:3] for k, v in found.items() if v}
    helpers = {why: fn for why, fn in within.items() if fn}
    if helpers:
        out["within"] = helpers
    if packages:
        out["instruments"] = sorted(packages)
    return out


_LOG_CLASSES = ("logging.Filter", "logging.Formatter")


def _log_stamper(cls: ast.ClassDef, imports: dict[str, str]) -> bool:
    """A `logging.Filter` or `logging.Formatter` subclass whose body reads the current span (it stamps the
    trace on every record it sees)."""
    if not any(ast_qualname(b, imports) in _LOG_CLASSES for b in cls.bases):
        return False
    return any(isinstance(n, ast.Call) and (ast_qualname(n.func, imports) or "").endswith(
        ("trace.get_current_span", "trace.format_trace_id")) for n in all_nodes(cls))


def _seen(found: dict[str, set[str]], within: dict[str, str], does: str, why: str, fn: str) -> None:
    """Record activity `why`, and the one undecorated module-level function holding every sighting of it
    ("" once it is also seen anywhere else)."""
    found[does].add(why)
    within[why] = fn if within.get(why, fn) == fn else ""


def task_decorators(catalog) -> frozenset[str]:
    """The last names of the decorators that make a function a task handler or run it on a timer (the catalog's
    message clients' `decorators`, `[[client_method]]`s with `decorator = true`, `[[scheduled_decorator]]`s):
    `shared_task`, `task` of `@app.task`, `actor`, `register_recurring_task`..."""
    names = {d.rsplit(".", 1)[-1] for e in catalog.get("message_client") for d in getattr(e, "decorators", ())}
    names |= {e.method for e in catalog.get("client_method") if getattr(e, "decorator", False)}
    names |= {e.name for e in catalog.get("scheduled_decorator")}
    return frozenset(names)


@dataclass(frozen=True)
class Unit:
    """A deploy unit (`path`, "" for the project root) and why a context exists in it (`sources`: what starts
    or restores one, entries included) or is read by code a consumer's processing may run (`readers`:
    sources, not entries, and readers)."""

    path: str
    deployed: bool
    sources: tuple[str, ...] = ()
    readers: tuple[str, ...] = ()


class Units:
    """The project's deploy units and what each does with trace context; `of(relpath)` is a file's unit."""

    def __init__(self, index, catalog):
        self._index = index
        dirs = sorted(index.units, key=len, reverse=True)
        self._dirs = dirs
        self._cache: dict[str, Unit] = {}
        self._by_module: dict[str, str] | None = None
        self._trees: dict[str, "ast.Module | None"] = {}
        self._names: dict[str, list[str]] | None = None
        self._task_names: frozenset[str] | None = None
        by_import = {e.name for e in catalog.get("tracing_sdk") if e.by_import}
        files = index.files
        self._evidence: dict[str, tuple[list[str], list[str]]] = {}
        for rel, facts in files.items():
            if path_kind(rel):
                continue
            src: list[str] = []
            entry: list[str] = []
            rd: list[str] = []
            act = facts.get("activity") or {}
            only_tasks = {why for why, fn in (act.get("within") or {}).items()
                          if self._reached_by_tasks(rel, fn, catalog)}
            src += [f"{rel} {why}" for why in act.get("source", ()) if why not in only_tasks]
            entry += [f"{rel} {why}" for why in act.get("entry", ()) if why not in only_tasks]
            rd += [f"{rel} {why}" for why in act.get("reader", ()) if why not in only_tasks]
            src += [f"{rel} imports {sdk}" for sdk in facts.get("tracing", ()) if sdk in by_import]
            src += [f"{rel} {CONTEXTVAR_EVIDENCE} {v}" for v in facts.get("contextvars", ())
                    if REQUEST_SCOPED.search(v.rsplit(".", 1)[-1])]
            if src or entry or rd:
                self._evidence[rel] = (src, entry, rd)
        self._global: list[str] = []
        if index.launcher:
            self._global.append("the project runs under opentelemetry-instrument")
        self._global += [f"{sdk} is among the dependencies or launchers" for sdk in sorted(index.sdks)
                         if sdk in by_import]

    def _reached_by_tasks(self, rel: str, fn: str, catalog) -> bool:
        """Module-level function `fn` of `rel` runs only inside task handlers (or functions on a timer): every
        application file naming it, its own module included, uses it only in such handlers or in helpers only
        they reach (`core/reach.py`). Tracing it sets up or spans it starts then exist in workers' tasks, not
        in the code that serves requests (a telemetry task calling `init_tracer()`)."""
        tree = self._tree(rel)
        if tree is None:
            return False
        if self._task_names is None:
            self._task_names = task_decorators(catalog)
        names = self._task_names
        if not any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
                decorator_name(d) in names for d in n.decorator_list) for n in all_nodes(tree)) \
                and not self._named_in_tasks(fn):
            return False  # no task handler in the module, and none in a file naming the function

        def referring(name: str):
            for other in self._naming(name):
                if other != rel:
                    yield self._tree(other)

        return reached_by_decorated(tree, fn, names, referring)

    def _named_in_tasks(self, name: str) -> bool:
        """Some application file naming `name` may hold a task handler (cheap: a decorator's name in its text)."""
        words = [n.encode() for n in self._task_names or ()]
        return any(any(w in self._source(other) for w in words) for other in self._naming(name))

    def _naming(self, name: str) -> list[str]:
        """The application files whose references include `name` (an index built once)."""
        if self._names is None:
            out: dict[str, list[str]] = {}
            for other, facts in self._index.files.items():
                if facts.get("refs") and path_kind(other) is None:
                    for n in facts["refs"]:
                        out.setdefault(n, []).append(other)
            self._names = out
        return self._names.get(name, [])

    def _source(self, rel: str) -> bytes:
        try:
            return (Path(self._index.root or ".") / rel).read_bytes()
        except OSError:
            return b""

    def _tree(self, rel: str) -> "ast.Module | None":
        if rel not in self._trees:
            try:
                self._trees[rel] = ast.parse(self._source(rel))
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                self._trees[rel] = None
        return self._trees[rel]

    def unit_dir(self, relpath: str) -> str | None:
        for d in self._dirs:
            if d == "" or relpath.startswith(d + "/"):
                return d
        return None

    def of(self, relpath: str) -> Unit:
        d = self.unit_dir(relpath)
        if d is None:
            return Unit(path="", deployed=False)
        if d not in self._cache:
            self._cache[d] = self._unit(d)
        return self._cache[d]

    def module_files(self) -> dict[str, str]:
        """Dotted module name -> file, under every name a file can be imported by: from the import roots,
        below a `src/` folder, below its deploy unit's folder (`orders/app/x.py` is `app.x` in its container)."""
        if self._by_module is None:
            out: dict[str, str] = {}
            for rel in self._index.files:
                if not rel.endswith(".py"):
                    continue
                parts = rel[:-3].split("/")
                if parts[-1] == "__init__":
                    parts = parts[:-1]
                names = {self._index.module_name(rel)}
                names |= {".".join(parts[i + 1:]) for i, p in enumerate(parts[:-1]) if p == "src"}
                unit = self.unit_dir(rel)
                if unit:
                    names.add(".".join(parts[unit.count("/") + 1:]))
                for n in names:
                    if n:
                        out.setdefault(n, rel)
            self._by_module = out
        return self._by_module

    def _loaded(self, mine: list[str]) -> set[str]:
        """The project files the unit's own files import, directly or through the files they import (a package
        imported runs its `__init__.py` too)."""
        by_module = self.module_files()
        files = self._index.files
        todo = [m for rel in mine for m in files[rel].get("modules", ())]
        seen: set[str] = set()
        done: set[str] = set()
        while todo:
            name = todo.pop()
            if name in done:
                continue
            done.add(name)
            parts = name.split(".")
            for i in range(len(parts), 0, -1):
                rel = by_module.get(".".join(parts[:i]))
                if rel is not None and rel not in seen:
                    seen.add(rel)
                    todo.extend(files[rel].get("modules", ()))
        return seen

    def _unit(self, d: str) -> Unit:
        mine = [rel for rel in self._index.files if self.unit_dir(rel) == d]
        loaded = self._loaded(mine)
        src: list[str] = list(self._global)
        entry: list[str] = []
        rd: list[str] = []
        for rel, (s, e, r) in sorted(self._evidence.items()):
            owner = self.unit_dir(rel)
            if owner == d or (self._shared(owner, d) and rel in loaded):
                src += s
                entry += e
                rd += r
        return Unit(path=d, deployed=True, sources=tuple(src + entry), readers=tuple(src + rd))

    @staticmethod
    def _shared(owner: str | None, d: str) -> bool:
        """Code another unit may import: a library (no unit) or the root unit's code seen from a nested one."""
        return owner is None or (owner == "" and d != "")


def units(index, catalog) -> Units:
    return index.derived("core.units", lambda ix: Units(ix, catalog))


def importable_tops(index) -> frozenset[str]:
    """The top-level names the project's modules can be imported under: the first folder (or module) of
    each file's path, the one below each deploy unit's folder (`orders/app/x.py` is `app.x` in its
    container), the one below a `src/` folder (`libs/shared/src/shared/x.py`), and the first part of each
    file's module name from the import roots (`services/shared/x.py` is `shared.x` with `src = ["services"]`)."""

    def compute(ix) -> frozenset[str]:
        dirs = sorted(ix.units, key=len, reverse=True)
        out: set[str] = set()
        for rel in ix.files:
            parts = rel[:-3].split("/") if rel.endswith(".py") else rel.split("/")
            out.add(parts[0])
            name = ix.module_name(rel) if ix.src else None
            if name:
                out.add(name.split(".")[0])
            for d in dirs:
                if d and rel.startswith(d + "/"):
                    out.add(parts[d.count("/") + 1])
                    break
            for i, part in enumerate(parts[:-1]):
                if part == "src":
                    out.add(parts[i + 1])
        return frozenset(out)

    return index.derived("core.importable_tops", compute)
