"""Does code on the other side of a boundary read the context it would be given? (A consumer's processing,
PRP302; a thread's, an executor's or a process's target, PRP201-PRP206.)

A context matters only where the code reads it: it starts a span, injects a carrier, calls a library that is
instrumented in its deploy unit (an HTTP client, a producer, a database), reads a request ContextVar, logs in
a project that stamps its request context on log records, or calls code proplint cannot see through. A
consumer that writes the message to a store through uninstrumented libraries, prints it, or relays it to a
browser's WebSocket continues no trace; a worker that derives a key with `hashlib` or computes statistics
with numpy reads nothing.

A call in the processing is *inert* (reads nothing) when it is:

* a builtin (`print`, `len`), or a call of a library (the standard library's or a third party's) that is not
  instrumented in the consumer's unit and is no `[[trace_activity]]`, injector or extractor;
* a method of the message itself, of a parameter annotated with a library class (`websocket: WebSocket`), or
  of a value an inert call returned (`items = await Model.find(...)`; `item.delete()`);
* a method or the constructor of a project class derived from a library class (an ODM or ORM model) that the
  project class does not define itself, where that library is not instrumented;
* a method of a messaging client of a library that is not instrumented in the unit.

Anything else (the project's own functions, `self.handler(msg)`, an unannotated parameter) may read it, and
the consumer is reported as before. Under a zero-code launcher every library may be instrumented: always read.
"""

from __future__ import annotations

import builtins
import sys

import libcst as cst

from proplint.core.context import FileContext
from proplint.core.cst import target_names
from proplint.core.foreign import DEBUG_METHODS, LOG_METHODS, PLAIN_TYPES, Judge, project_code
from proplint.core.reexports import defining_name
from proplint.core.resolve import dotted, self_attribute
from proplint.core.relevance import path_kind, project_context
from proplint.core.units import importable_tops, units
from proplint.core.walk import visit

_BUILTINS = frozenset(dir(builtins))
_STDLIB = frozenset(getattr(sys, "stdlib_module_names", ())) | {"asyncio", "json", "datetime", "uuid", "time",
                                                                "logging", "re", "os", "typing"}
_MAX_DEPTH = 12
_PLAIN_TYPES = PLAIN_TYPES
#: builtins that run their argument's code (a generator's body, a callable): `next(gen)`, `list(rows)`
_ITERATING = frozenset({"next", "iter", "list", "tuple", "set", "frozenset", "dict", "sorted", "sum", "min", "max",
                        "any", "all", "map", "filter", "enumerate", "zip", "reversed", "anext", "aiter"})
#: how many calls deep the module's own helpers are followed
_MAX_FOLLOW = 3
_PROTOCOLS = frozenset({"typing", "typing_extensions", "collections", "abc", "builtins", "types"})
_LOGGING = frozenset({"logging", "structlog", "loguru"})
_LOG_METHODS = LOG_METHODS
#: OpenTelemetry instrumentations of databases and caches: an object mapper's model calls reach them
_STORES = frozenset({"sqlalchemy", "pymongo", "psycopg2", "psycopg", "asyncpg", "aiopg", "mysql", "mysqlclient",
                     "pymysql", "sqlite3", "redis", "cassandra", "elasticsearch", "tortoiseorm", "pymemcache",
                     "dbapi", "motor", "aiomysql"})


class Readers:
    def __init__(self, ctx: FileContext, clients: "dict[str, str] | None" = None,
                 client_libraries: "dict[str, str] | None" = None) -> None:
        self.ctx = ctx
        #: the project's module-level messaging clients (qualified name -> kind) and kind -> library: a family's
        #: facts (the messaging family passes them; the core knows no family)
        self.clients = clients or {}
        self.client_libraries = client_libraries or {}
        context = project_context(ctx.index, ctx.catalog)
        #: log records carry the request context (a context library, or request ContextVars a filter can read)
        self.logs_read = bool(context.context_libraries or context.request_vars)
        cat = ctx.catalog
        acts = cat.get("trace_activity")
        self.methods = {e.name for e in acts if e.method}
        self.names = {e.name for e in acts if not e.method and e.kind != "instrumentation"}
        self.names |= {e.name for e in cat.get("injector")} | {e.name for e in cat.get("extractor")}
        self.names |= set(ctx.config.injectors) | set(getattr(ctx.config, "extractors", ()))
        self._instrumented: frozenset[str] | None = None
        self._memo: dict[tuple, bool] = {}
        self._tops: frozenset[str] | None = None
        self._judge: Judge | None = None
        self._client_suffixes: dict[str, list[str]] | None = None
        self._selves: set[str] = set()
        #: parameters annotated with a project class (a model): parameter -> the class's qualified name
        self._models: dict[str, str] = {}

    # -- the unit -----------------------------------------------------------------------------------------
    def instrumented(self) -> frozenset[str]:
        """The libraries instrumented in this file's deploy unit (its own files and the code shared with it):
        the catalog's `[[instrumentor]]` libraries and every OpenTelemetry instrumentation package."""
        if self._instrumented is None:
            where = units(self.ctx.index, self.ctx.catalog)
            mine = where.unit_dir(self.ctx.relpath)

            def unit_libraries(index) -> frozenset[str]:  # once per deploy unit, not per file
                def here(rel: str) -> bool:  # application code of this unit (an example's instrumentor is not)
                    return (mine is None or where.unit_dir(rel) in (mine, None, "")) and path_kind(rel) is None

                libs = {lib for rel, found in index.facts("instrumented") if here(rel) for lib in found}
                libs |= {pkg for rel, act in index.facts("activity") if here(rel) for pkg in act.get("instruments", ())}
                return frozenset(libs)

            self._instrumented = self.ctx.index.derived(f"readers.instrumented:{mine!r}", unit_libraries)
        return self._instrumented

    def stores_instrumented(self) -> bool:
        """A database or cache instrumentation is on in the unit: an object mapper's calls reach it."""
        return bool(self.instrumented() & _STORES)

    def records_read(self) -> bool:
        """Log records carry a context in this unit: the project stamps its request context on them
        (`logs_read`), or OpenTelemetry's logging instrumentation or log handler stamps the current span."""
        return self.logs_read or self._instrumented_top("logging")

    def project_tops(self) -> frozenset[str]:
        """The names the project's modules can be imported under (`core.units.importable_tops`): a qualified
        name starting with one is the project's (`app.db.neomodel` does not make `neomodel` the project's)."""
        if self._tops is None:
            self._tops = importable_tops(self.ctx.index)
        return self._tops

    def classes(self) -> dict[str, tuple[list[str], list[str]]]:
        """Project class -> (bases, methods it defines), once per index."""
        return self.ctx.index.derived("readers.classes", _project_classes)[0]

    # -- the processing -----------------------------------------------------------------------------------
    def reads(self, statements, inert_names: set[str], fn: cst.FunctionDef | cst.Lambda | None = None) -> bool:
        """Whether `statements` (the processing of a message bound to `inert_names`) may read the context."""
        if self.ctx.index.launcher:
            return True
        self._memo: dict[tuple, bool] = {}
        #: `task.delay(rest)` in the task's own body enqueues the same body again: it reads what this one reads
        self._selves = {fn.name.value} if isinstance(fn, cst.FunctionDef) else set()
        self._models = {}
        inert = set(inert_names) | self._inert_params(fn if isinstance(fn, cst.FunctionDef) else None)
        finder = _Calls(self, inert)
        for stmt in statements:
            visit(stmt, finder)
            if finder.reads:
                return True
        return False

    def reads_beyond_trace(self, fn: cst.FunctionDef | cst.Lambda | None) -> bool:
        """Whether a thread's target shows that it reads context *other than the trace* (positive evidence
        only): a log record of a project whose logs carry its request context, one of the project's request
        ContextVars, or the module's own helpers doing so. Asked where a tracing SDK already carries the
        trace across the boundary: the loss left is the rest of the context, and it matters only where
        something reads it. A target proplint cannot see (a library's function) reads none of it."""
        if fn is None:
            return False
        if self.ctx.index.launcher:
            return True
        finder = _RequestReads(self)
        fn.body.visit(finder)
        return finder.reads

    def _inert_params(self, fn: cst.FunctionDef | None) -> set[str]:
        out: set[str] = set()
        if fn is None:
            return out
        for p in (*fn.params.posonly_params, *fn.params.params, *fn.params.kwonly_params):
            if p.annotation is not None:
                ann = p.annotation.annotation
                if isinstance(ann, cst.SimpleString):  # `variant: "ProductVariant"` (a forward reference)
                    try:
                        ann = cst.parse_expression(ann.evaluated_value.strip())
                    except (cst.ParserSyntaxError, ValueError, TypeError):
                        continue
                q = self.ctx.qualified_name(ann) if isinstance(ann, (cst.Name, cst.Attribute)) else None
                if q and self._class(q) is not None:
                    self._models[p.name.value] = q  # `instance: ProductType`: its library members read nothing
                    continue
                if isinstance(ann, cst.Subscript) and not (isinstance(ann.value, cst.Name) and ann.value.value
                                                           in ("Optional", "Union", "Annotated")):
                    ann = ann.value  # `process: subprocess.Popen[bytes]`: a `Popen`
                if isinstance(ann, cst.Name) and ann.value in _PLAIN_TYPES:
                    out.add(p.name.value)  # `host: str`: its methods run no code of the caller's
                    continue
                q = self.ctx.qualified_name(ann)
                top = q.split(".")[0] if q else ""
                # a third-party class (`WebSocket`); not a protocol of `typing` (an `Iterator` runs its owner's code)
                if q and top not in _PROTOCOLS and self._library(top) and not self._instrumented_top(top):
                    out.add(p.name.value)
        return out

    def _library(self, top: str) -> bool:
        return top in _STDLIB or top not in self.project_tops()

    def _instrumented_top(self, top: str) -> bool:
        return top in self.instrumented() or top.replace("_", "-") in self.instrumented()

    def _helper(self, func: cst.BaseExpression) -> cst.FunctionDef | None:
        """`helper(...)` defined at this module's top level, or `self.method(...)` of the enclosing class."""
        if isinstance(func, cst.Name) and self.ctx.qualified_name(func) is None:
            for anc in reversed(self.ctx.ancestors):  # a def nested in an enclosing function, then the module's
                if isinstance(anc, cst.FunctionDef) and isinstance(anc.body, cst.IndentedBlock):
                    found = _def_named(anc.body.body, func.value)
                    if found is not None:
                        return found
            return _def_named(self.ctx.module.body, func.value)
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
            cls = self.ctx.enclosing(cst.ClassDef)
            # `self.m()`, `cls.m()`, and `Klass.m()` of a static method called by its own class's name
            if isinstance(cls, cst.ClassDef) and isinstance(cls.body, cst.IndentedBlock) and \
                    func.value.value in ("self", "cls", cls.name.value):
                return _def_named(cls.body.body, func.attr.value)
        return None

    def _helper_inert(self, fn: cst.FunctionDef, follow: int, given: frozenset[str] = frozenset()) -> bool:
        """The helper reads nothing; `given`: its parameters the call binds to inert values (`rows` of
        `_in_batches(rows)` where `rows` came from a library call)."""
        key = (id(fn), given)
        if key not in self._memo:
            self._memo[key] = False  # a recursive call: conservative
            finder = _Calls(self, self._inert_params(fn) | given, follow)
            visit(fn.body, finder)
            self._memo[key] = not finder.reads
        return self._memo[key]

    def call_inert(self, call: cst.Call, inert: set[str], depth: int = 0, follow: int = 0) -> bool:
        func = call.func
        last = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""
        if last in self.methods:
            return False
        root, chain = _root(func)
        if root is None:
            # a method of a value built from literals and inert names: `(host or "").strip()`
            receiver = func.value if isinstance(func, cst.Attribute) else None
            return receiver is not None and _inert_expr(self, receiver, inert)
        if isinstance(root, cst.Call):
            return depth < _MAX_DEPTH and self.call_inert(root, inert, depth + 1, follow)
        name = root.value
        if name in self._models and name not in inert and isinstance(func, cst.Attribute):
            path = dotted(func)  # `instance.products.all` of `instance: ProductType`
            if path and self._model_call(self._models[name] + path[len(name):]):
                return True
            if func.value is root and follow < _MAX_FOLLOW:  # a method the project class defines: judged
                found = self.foreign(f"{self._models[name]}.{func.attr.value}")
                if found is not None:
                    return not found.maybe
        if name in self._selves and isinstance(func, cst.Attribute) and func.value is root and name not in inert:
            return True  # the processing enqueues itself again (`task.delay(remaining)`): no read of its own
        if name in inert or _debug_record(func):
            return True  # an inert value's method; a debug record, off where the service runs
        if self.logs_read and last in _LOG_METHODS and _log_receiver(func):
            return False  # `self.logger.warning(...)`: a log record, whatever the logger's class
        if last in _LOG_METHODS and _log_receiver(func) and not self.records_read():
            return True  # `logger.warning(...)` where no record carries a context: nobody reads one there
        helper = self._helper(func)
        if helper is not None:  # the module's own function, or a method of the class at hand: look inside
            return follow < _MAX_FOLLOW and self._helper_inert(helper, follow + 1,
                                                               self._bound_inert(helper, call, inert))
        q = self.ctx.qualified_name(func)
        if q in self.names:
            return False
        if q is None and isinstance(func, cst.Attribute) and follow < _MAX_FOLLOW:
            typed = self._typed_receiver(func)
            if typed is not None:
                return typed
        if q is None:
            # a builtin, whose arguments are inert too (`next(gen)` runs the generator's code)
            return name in _BUILTINS and not chain and (name not in _ITERATING or all(
                _inert_expr(self, a.value, inert) for a in call.args if isinstance(a.value, (cst.Name, cst.Attribute))))
        if isinstance(func, cst.Attribute):
            kind = self._client_kind(q.rsplit(".", 1)[0])
            if kind:
                library = self.client_libraries.get(kind, "")
                return bool(library) and library not in self.instrumented()
        top = q.split(".")[0]
        if self.logs_read and (top in _LOGGING or (last in _LOG_METHODS and "log" in name.lower())):
            return last in DEBUG_METHODS  # a log record: the project's request context is stamped on it
        if self._library(top):
            return not self._instrumented_top(top)
        if self._model_call(q):
            return True
        found = self.foreign(q) if follow < _MAX_FOLLOW else None
        return found is not None and not found.maybe  # the project's function in another module: look inside

    def _bound_inert(self, fn: cst.FunctionDef, call: cst.Call, inert: set[str]) -> frozenset[str]:
        """The parameters of `fn` that `call` binds to inert values (by position, then by keyword)."""
        params = [p.name.value for p in (*fn.params.posonly_params, *fn.params.params)]
        if params and params[0] in ("self", "cls") and isinstance(call.func, cst.Attribute):
            params = params[1:]
        out = set()
        for i, arg in enumerate(call.args):
            if arg.star:
                break
            name = arg.keyword.value if arg.keyword is not None else params[i] if i < len(params) else None
            if name and _inert_expr(self, arg.value, inert):
                out.add(name)
        return frozenset(out)

    def foreign(self, q: str):
        """The `core.foreign.Verdict` of the project's function or method `q` of another module, or None when
        proplint cannot find it."""
        if self._judge is None:
            self._judge = Judge(self, project_code(self.ctx.index, units(self.ctx.index, self.ctx.catalog)
                                                   .module_files()))
        if self._judge.code.function(q) is None and q not in self._judge.code.inherited:
            return None  # (a project class with no `__init__` of its own is judged by its bases)
        return self._judge.verdict(q)

    def _typed_receiver(self, func: cst.Attribute) -> bool | None:
        """`self.repo.save(...)` where `self.repo` has a type proplint can tell (an annotation, a constructor):
        a library's class not instrumented in the unit reads nothing; a project class's method is judged
        (`core/foreign.py`); None when the type or the method is unknown."""
        if self_attribute(func.value) is None:
            return None
        t = self.ctx.resolver.receiver_type(func.value)
        if not t or t.startswith("<local>"):
            return None
        top = t.split(".")[0]
        if self._library(top):
            return None if top in _PROTOCOLS else not self._instrumented_top(top)
        found = self.foreign(f"{t}.{func.attr.value}")
        return None if found is None else not found.maybe

    def _model_call(self, q: str) -> bool:
        """`Model(...)`, `Model.find(...)`, `Model.nodes.get(...)` of a project class derived from an
        uninstrumented library class that does not define the method itself."""
        parts = q.split(".")
        for cut in range(len(parts), 0, -1):
            cls = self._class(".".join(parts[:cut]))
            if cls is None:
                continue
            bases, methods = cls
            called = parts[cut] if cut < len(parts) else "__init__"
            if called in methods:
                # a class attribute's method (`Order.objects.filter`: a model's manager) that no project
                # class defines is the library's, on a model of library classes
                after = parts[cut + 1] if cut + 1 < len(parts) else None
                by_library = self.ctx.index.derived("readers.methods_by_library", _methods_by_library)
                if after is None or any(after in by_library.get(top, ()) for top in _library_tops(
                        self.ctx.index, ".".join(parts[:cut]))):
                    return False
                called = after
            return not self.stores_instrumented() and self._library_derived(bases, called)
        return False

    def _library_derived(self, bases: list[str], called: str, depth: int = 0) -> bool:
        """Every base is an uninstrumented library class, or a project class (an abstract model, a mixin)
        that does not define `called` and derives from such classes in turn."""
        if not bases or depth > 5:
            return False
        for base in bases:
            top = base.split(".")[0]
            if self._library(top):
                if self._instrumented_top(top):
                    return False
                continue
            cls = self._class(base)
            if cls is None or called in cls[1] or not self._library_derived(cls[0], called, depth + 1):
                return False
        return True

    def _class(self, q: str):
        classes, suffixes = self.ctx.index.derived("readers.classes", _project_classes)
        key = self._lookup(classes, suffixes, q)
        if key is None:
            defined = defining_name(self.ctx.index, q)  # `pkg.models.Attribute` of `pkg.models.base`
            key = self._lookup(classes, suffixes, defined) if defined else None
        return classes[key] if key else None

    def _client_kind(self, q: str) -> str | None:
        """The messaging client kind of a module-level object of the project (`app.constants.producer`)."""
        if self._client_suffixes is None:
            self._client_suffixes = _suffixes(self.clients)
        key = self._lookup(self.clients, self._client_suffixes, q)
        return self.clients[key] if key else None

    def _lookup(self, table: dict, suffixes: dict[str, list[str]], q: str) -> str | None:
        """`q` as a key of `table`, or the one key ending with `.q` (a module imported from an import root
        below the project root), preferring this file's deploy unit when several services have one.
        `suffixes`: `_suffixes(table)` (a look-up, not a scan of the project's names per call)."""
        if q in table:
            return q
        matches = suffixes.get(q, [])
        if len(matches) > 1:  # `app.models.X` of several services of a monorepo: this file's unit's
            unit = units(self.ctx.index, self.ctx.catalog).unit_dir(self.ctx.relpath)
            prefix = unit.replace("/", ".") + "." if unit else ""
            matches = [k for k in matches if k.startswith(prefix)] if prefix else []
        return matches[0] if len(matches) == 1 else None


def _library_tops(index, q: str) -> set[str]:
    """The top-level packages of the library classes project class `q` derives from, through its project
    bases."""
    classes = index.class_bases()
    out: set[str] = set()
    todo, seen = [q], set()
    while todo and len(seen) < 50:
        c = todo.pop()
        if c in seen:
            continue
        seen.add(c)
        for base in classes.get(c, ()):
            if base in classes:
                todo.append(base)
            else:
                out.add(base.split(".")[0])
    return out


def _methods_by_library(index) -> dict[str, frozenset[str]]:
    """Library top-level package -> the names the project's classes deriving from it define (a custom
    QuerySet's `active`, a Manager's `filter` override): on a model of that library, a member of another
    name is the library's own."""
    methods = {k: v for _, found in index.facts("class_methods") for k, v in found.items()}
    out: dict[str, set[str]] = {}
    for cls, names in methods.items():
        for top in _library_tops(index, cls):
            out.setdefault(top, set()).update(names)
    return {k: frozenset(v) for k, v in out.items()}


def _project_classes(index) -> tuple[dict[str, tuple[list[str], list[str]]], dict[str, list[str]]]:
    """Project class -> (bases, methods it defines), and its `_suffixes`."""
    methods = {k: v for _, found in index.facts("class_methods") for k, v in found.items()}
    classes = {k: (v, methods.get(k, [])) for k, v in index.class_bases().items()}
    return classes, _suffixes(classes)


def _suffixes(table: dict) -> dict[str, list[str]]:
    """Every dotted end of the keys (`b.C` and `C` of `a.b.C`) -> the keys ending with `.` and it."""
    out: dict[str, list[str]] = {}
    for key in table:
        parts = key.split(".")
        for i in range(1, len(parts)):
            out.setdefault(".".join(parts[i:]), []).append(key)
    return out


def _root(expr: cst.BaseExpression):
    """The name or call an attribute chain starts from (`a` in `a.b[0].c`), and whether there was a chain."""
    chain = False
    while True:
        if isinstance(expr, cst.Attribute):
            expr, chain = expr.value, True
        elif isinstance(expr, cst.Subscript):
            expr, chain = expr.value, True
        elif isinstance(expr, cst.Await):
            expr = expr.expression
        else:
            break
    if isinstance(expr, (cst.Name, cst.Call)):
        return expr, chain
    return None, chain


class _Calls(cst.CSTVisitor):
    """Walks the processing in order: names bound from inert values become inert; a call that is not inert
    reads."""

    def __init__(self, readers: Readers, inert: set[str], follow: int = 0) -> None:
        self.readers = readers
        self.inert = inert
        self.follow = follow
        self.reads = False
        self.fed: set[int] = set()  # lambdas handed to an inert call with inert arguments (`_feed_lambdas`)
        self.stored: set[str] = set()  # names bound to what the object keeps (`self._callbacks`): may be callables

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Call(self, node: cst.Call) -> bool:
        if not self.reads and isinstance(node.func, cst.Name) and node.func.value in self.stored:
            self.reads = True  # `for callback in self._callbacks: callback(...)`: a callable the object keeps
        if not self.reads and not self.readers.call_inert(node, self.inert, follow=self.follow):
            self.reads = True
        elif not self.reads:
            self._feed_lambdas(node)
        return not self.reads

    def _feed_lambdas(self, call: cst.Call) -> None:
        """`sorted(files, key=lambda f: f.stat().st_mtime)`: an inert call runs a lambda it is handed only on
        values it made from its other arguments; where those are inert, so are the lambda's parameters."""
        lambdas = [a.value for a in call.args if isinstance(a.value, cst.Lambda)]
        if lambdas and all(_inert_expr(self.readers, a.value, self.inert) for a in call.args
                           if not isinstance(a.value, cst.Lambda)):
            self.fed.update(id(fn) for fn in lambdas)

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        if id(node) not in self.fed:
            return True
        params = {p.name.value for p in (*node.params.posonly_params, *node.params.params, *node.params.kwonly_params)}
        self._visit_scoped(node.body, self.inert | params)
        return False

    def _comprehension(self, node) -> bool:
        """`[f for f in folder.glob("*.json")]`: a target bound from an inert iterable is inert in the
        comprehension (its own scope: the name is not bound after it)."""
        names = set(self.inert)
        comp = node.for_in
        while comp is not None:
            if _inert_expr(self.readers, comp.iter, names):
                names |= target_names(comp.target)
            comp = comp.inner_for_in
        self._visit_scoped(node, names, own=True)
        return False

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _comprehension

    def _visit_scoped(self, node: cst.CSTNode, names: set[str], own: bool = False) -> None:
        if self.reads:
            return
        inner = _Calls(self.readers, names, self.follow)
        inner.fed, inner.stored = self.fed, self.stored
        for part in _comprehension_parts(node) if own else (node,):
            visit(part, inner)
            if inner.reads:
                break
        self.reads = inner.reads

    def visit_Assign(self, node: cst.Assign) -> None:
        if self._inert_value(node.value):
            for t in node.targets:
                self._bind(t.target, _stored_state(node.value))

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None and self._inert_value(node.value):
            self._bind(node.target, _stored_state(node.value))

    def visit_For(self, node: cst.For) -> None:
        if self._inert_value(node.iter):
            self._bind(node.target, _stored_state(node.iter))

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None and self._inert_value(node.item):
            self._bind(node.asname.name)

    def _bind(self, target: cst.BaseExpression, stored: bool = False) -> None:
        if isinstance(target, cst.Name):
            self.inert.add(target.value)
            if stored:
                self.stored.add(target.value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for el in target.elements:
                self._bind(el.value, stored)

    def _inert_value(self, expr: cst.BaseExpression) -> bool:
        finder = _AllInert(self.readers, self.inert)
        visit(expr, finder)
        return finder.inert


class _AllInert(cst.CSTVisitor):
    """Every call and every name in an expression is inert (literals are)."""

    def __init__(self, readers: Readers, inert: set[str]) -> None:
        self.readers = readers
        self.names = inert
        self.inert = True

    def visit_Call(self, node: cst.Call) -> bool:
        if not self.readers.call_inert(node, self.names):
            self.inert = False
        return False  # what an inert call returns is a plain value, whatever its arguments were

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        visit(node.value, self)  # `.attr` names a member, not a variable
        return False

    def visit_Arg(self, node: cst.Arg) -> bool:
        visit(node.value, self)  # `keyword=` names a parameter
        return False

    def _comprehension(self, node) -> bool:
        names = set(self.names)
        comp = node.for_in
        while comp is not None:
            if not _inert_expr(self.readers, comp.iter, names):
                self.inert = False
                return False
            names |= target_names(comp.target)
            comp = comp.inner_for_in
        self.inert = self.inert and all(_inert_expr(self.readers, part, names) for part in _comprehension_parts(node))
        return False

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _comprehension

    def visit_Name(self, node: cst.Name) -> None:
        if node.value in ("self", "cls"):
            return  # reading an attribute runs nothing (a method call on it is judged as a call)
        if node.value not in self.names and node.value not in _BUILTINS:
            q = self.readers.ctx.qualified_name(node)
            if q is None or not self.readers._library(q.split(".")[0]):
                if not (q and self.readers._model_call(q)):
                    self.inert = False


def _log_receiver(func: cst.BaseExpression) -> bool:
    """`logger.x`, `self._log.x`, `logging.x`: a method of a logger (a receiver whose name says `log`)."""
    if not isinstance(func, cst.Attribute):
        return False
    receiver = func.value
    name = receiver.attr.value if isinstance(receiver, cst.Attribute) else getattr(receiver, "value", "")
    return isinstance(name, str) and "log" in name.lower()


def _debug_record(func: cst.BaseExpression) -> bool:
    """`logger.debug(...)`, `self._log.debug(...)`, `logging.debug(...)`: a debug record of a logger."""
    return isinstance(func, cst.Attribute) and func.attr.value in DEBUG_METHODS and _log_receiver(func)


def _stored_state(expr: cst.BaseExpression) -> bool:
    """`self._callbacks`, `self._handlers[kind]`: state the object keeps, read with no call."""
    while isinstance(expr, (cst.Attribute, cst.Subscript)):
        expr = expr.value
    return isinstance(expr, cst.Name) and expr.value in ("self", "cls")


def _comprehension_parts(node) -> list[cst.CSTNode]:
    """What a comprehension evaluates: its element (or key and value), each `for`'s iterable and its `if`s."""
    parts: list[cst.CSTNode] = [node.key, node.value] if isinstance(node, cst.DictComp) else [node.elt]
    comp = node.for_in
    while comp is not None:
        parts += [comp.iter, *(c.test for c in comp.ifs)]
        comp = comp.inner_for_in
    return parts


def _inert_expr(readers: Readers, expr: cst.BaseExpression, inert: set[str]) -> bool:
    finder = _AllInert(readers, set(inert))
    visit(expr, finder)
    return finder.inert


def _def_named(body, name: str) -> cst.FunctionDef | None:
    return next((s for s in body if isinstance(s, cst.FunctionDef) and s.name.value == name), None)


class _RequestReads(cst.CSTVisitor):
    """Positive evidence that code reads the project's request context (`Readers.reads_beyond_trace`)."""

    def __init__(self, readers: Readers, follow: int = 0, seen: "set[int] | None" = None) -> None:
        self.readers = readers
        self.follow = follow
        self.seen = seen if seen is not None else set()
        self.reads = False
        ix = readers.ctx.index
        self.vars = set(ix.project_contextvars())

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Name(self, node: cst.Name) -> None:
        if not self.reads and self.vars:
            q = self.readers.ctx.qualified_name(node)
            if q and any(q == v or v.endswith("." + q) for v in self.vars):
                self.reads = True

    def visit_Call(self, node: cst.Call) -> bool:
        if self.reads:
            return False
        r = self.readers
        func = node.func
        last = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""
        root, _ = _root(func)
        name = root.value if isinstance(root, cst.Name) else ""
        q = r.ctx.qualified_name(func) or ""
        top = q.split(".")[0]
        logs = last in _LOG_METHODS and ("log" in name.lower() or _log_receiver(func))
        if r.logs_read and (top in _LOGGING or logs):
            self.reads = last not in DEBUG_METHODS  # a debug record is off where the service runs
            return not self.reads
        if q in ("contextvars.copy_context", "structlog.contextvars.get_contextvars"):
            self.reads = True
            return False
        if last in r.methods or q in r.names:
            self.reads = True  # a span started or read, a carrier injected
            return False
        helper = r._helper(func) if name else None
        if helper is not None and self.follow < _MAX_FOLLOW and id(helper) not in self.seen:
            self.seen.add(id(helper))
            inner = _RequestReads(r, self.follow + 1, self.seen)
            helper.body.visit(inner)
            self.reads = inner.reads
        elif helper is None and q and not r._library(top):
            found = r.foreign(q)  # the project's code in another module
            self.reads = bool(found and found.surely)
        return not self.reads
