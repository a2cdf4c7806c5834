"""Decorators whose wrapper is a plain `def` (PRP401, PRP412): the analysis, on the standard library's `ast`.

One analysis, on the standard library's `ast`, serves both sides: the project index runs it on every
file (collector `hygiene.decorators`, cached with the rest of the index), so `@traced("x")` applied in
`pkg/handlers.py` is judged by the definition in `pkg/observability.py`; the check runs it on the file
being checked (from that file's current text, never the cached index), so a fix is judged by what it
wrote. A decorator is a module-level `def D(fn)` (plain) or `def D(...)` returning a nested
`def dec(fn)` (factory), with a nested `def wrapper(...)` that calls `fn(...)` and is returned.

Facts per decorator (JSON): `path` of the wrapper (`traced.decorator.wrapper`), its `line`, the wrapped
parameter `fn`, the application `forms` it supports (`plain`: `@traced`, `factory`: `@traced(...)`),
the target kinds it `handles` (by an `inspect.iscoroutinefunction`-style check or an async wrapper),
the `scope` the sync wrapper opens around `fn(...)`, the `after` work it does once `fn(...)` returned,
whether it forwards `*args`/`**kwargs` (`generic`) and whether the async-branch rewrite applies.
"""

from __future__ import annotations

import ast
import re
from typing import Any, Iterator

from proplint.core.ast_names import all_nodes, ast_qualname, statements, walk
from proplint.core.reexports import project_reexports

#: A project helper that tells coroutine functions apart (`is_async_callable`, `_is_coro`): trusted.
_AWARE_HELPER = re.compile(r"^_*(is_?async|iscoroutine|is_?coro|is_?awaitable|isawaitable)", re.IGNORECASE)
#: PRP412's heuristic for a `with` whose exit assumes the call finished (beyond the catalog's openers).
_SCOPE_WORD = re.compile(r"span|scope|trace|timer|timed|timing|measure", re.IGNORECASE)

_DEF = (ast.FunctionDef, ast.AsyncFunctionDef)


def _defs_in(body: list[ast.stmt]) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    """Function definitions in a statement list, through if/try/with/for blocks (not into other defs)."""
    for stmt in body:
        if isinstance(stmt, _DEF):
            yield stmt
        elif isinstance(stmt, ast.ClassDef):
            continue
        else:
            for name in ("body", "orelse", "finalbody"):
                sub = getattr(stmt, name, None)
                if isinstance(sub, list):
                    yield from _defs_in(sub)
            for handler in getattr(stmt, "handlers", ()) or ():
                yield from _defs_in(handler.body)


def own_nodes(fn: ast.AST) -> Iterator[ast.AST]:
    """Nodes of a function's body, not inside nested functions, lambdas or classes."""
    stack = list(getattr(fn, "body", ()))
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, (*_DEF, ast.Lambda, ast.ClassDef)):
                stack.append(child)


def _first_param(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    params = [*fn.args.posonlyargs, *fn.args.args]
    return params[0].arg if params else None


def _calls_param(fn: ast.AST, param: str) -> list[ast.Call]:
    return [n for n in own_nodes(fn) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
            and n.func.id == param]


def is_generator(fn: ast.AST) -> bool:
    return any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in own_nodes(fn))


def _last_name(func: ast.AST) -> str | None:
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


def _start(n: ast.AST) -> tuple[int, int]:
    return (n.lineno, n.col_offset)  # type: ignore[attr-defined]


def _end(n: ast.AST) -> tuple[int, int]:
    return (n.end_lineno or n.lineno, n.end_col_offset or 0)  # type: ignore[attr-defined]


class Vocabulary:
    """The catalog entries the analysis needs, indexed once per catalog."""

    def __init__(self, catalog) -> None:
        openers = catalog.get("span_opener")
        self.functions = {e.name: e for e in openers if not e.method}
        self.methods = {e.name: e for e in openers if e.method}
        self.checks = {e.name: tuple(e.kinds) for e in catalog.get("coroutine_check")}
        self.markers = {e.name: e.kind for e in catalog.get("finish_marker")}
        cv = catalog.get("contextvar_class")
        self.cv_set = {e.set_method for e in cv} or {"set"}
        self.cv_reset = {e.reset_method for e in cv} or {"reset"}
        self.changing = {e.name for e in catalog.get("kind_changing_decorator")}
        self.awaitables = {e.name for e in catalog.get("awaitable_type")}

    def opener(self, call: ast.Call, imports: dict) -> Any:
        q = ast_qualname(call.func, imports)
        if q in self.functions:
            return self.functions[q]
        if isinstance(call.func, ast.Attribute) and call.func.attr in self.methods:
            return self.methods[call.func.attr]
        # a library's or the project's own function of that name (`from .tracing import start_span`)
        if isinstance(call.func, ast.Name) and call.func.id in self.methods:
            return self.methods[call.func.id]
        return None


def vocabulary(catalog) -> Vocabulary:
    """One `Vocabulary` per catalog object (catalogs are loaded once and cached)."""
    cached = catalog.__dict__.get("_hygiene_vocabulary")
    if cached is None:
        cached = Vocabulary(catalog)
        catalog.__dict__["_hygiene_vocabulary"] = cached
    return cached


#: what a bracket around `fn(...)` does, by the kind of the finish markers it uses (`[[finish_marker]]`)
_BRACKET_KINDS = {"span": "span", "scope": "span", "timing": "timing", "log": "log"}


def _bracket_word(name: str) -> str:
    """"span" or "timing" for a context manager or object named like one (`tracer.trace`, `timer`)."""
    return "timing" if re.search(r"tim(er|ed|ing)|measure", name, re.IGNORECASE) else "span"


def _wrapper_facts(w: ast.FunctionDef, param: str, imports: dict, voc: Vocabulary,
                   span_cms: frozenset[str] = frozenset()) -> dict[str, Any]:
    calls = sorted(_calls_param(w, param), key=_start)
    first = calls[0]
    parents: dict[int, ast.AST] = {}
    for node in own_nodes(w):
        for child in ast.iter_child_nodes(node):
            parents[id(child)] = node
    chain = []
    node: ast.AST | None = first
    while node is not None:
        node = parents.get(id(node))
        if node is not None:
            chain.append(node)
    scope = after = bracket = ""
    pending: list[str] = []
    for anc in chain:
        if isinstance(anc, (ast.With, ast.AsyncWith)):
            for item in anc.items:
                expr = item.context_expr
                if isinstance(expr, ast.Call):
                    entry = voc.opener(expr, imports)
                    name = _last_name(expr.func) or ""
                    if isinstance(expr.func, ast.Call) and _last_name(expr.func.func) == "getattr" and expr.func.args:
                        name = ast.unparse(expr.func.args[0])  # `with getattr(Tracer, kind)(...)`
                        if _SCOPE_WORD.search(name) and not scope:
                            scope = f"getattr({name}, ...)"
                        continue
                    if (entry is not None or name in span_cms) and not scope:
                        scope = name or entry.name
                    elif not after and _SCOPE_WORD.search(name):
                        after = f"`with {name}(...)` exits"
                        bracket = bracket or _bracket_word(name)
                    elif not scope:
                        q = ast_qualname(expr.func, imports)
                        if q:
                            pending.append(q)  # a project context manager: it may open a span (the index says)
        if isinstance(anc, ast.Try) and anc.finalbody and not after:
            if any(_start(n) <= _start(first) <= _end(n) for n in anc.body):
                after = "its `finally` block runs"
                kinds = {voc.markers.get(_last_name(c.func) or "") for s in anc.finalbody for c in walk(s)
                         if isinstance(c, ast.Call)}
                bracket = bracket or next((_BRACKET_KINDS[k] for k in ("span", "scope", "timing", "log")
                                           if k in kinds), "")
    own_calls = [n for n in own_nodes(w) if isinstance(n, ast.Call)]
    before = [c for c in own_calls if _end(c) <= _start(first)]
    later = [c for c in own_calls if _start(c) >= _end(first)]
    if not scope:
        scope = _manual_enter_exit(before, later, w, imports, voc)
    if not scope:
        for c in sorted(before, key=_start):
            entry = voc.opener(c, imports)
            if entry is not None and entry.kind in ("span", "attach"):
                closer = entry.closer.rsplit(".", 1)[-1]
                if any(_last_name(x.func) == closer for x in later):
                    scope = _last_name(c.func) or entry.name
                    break
            if isinstance(c.func, ast.Attribute) and c.func.attr in voc.cv_set and c.args:
                if any(isinstance(x.func, ast.Attribute) and x.func.attr in voc.cv_reset for x in later):
                    scope = "ContextVar.set"
                    break
    if scope:
        after = f"the `{scope}` scope closes"
        bracket = "span"
    if not after:
        for c in sorted(later, key=_start):
            if _last_name(c.func) in voc.markers:
                after = f"`{ast.unparse(c.func)}(...)` runs"
                break
    if not bracket:
        # a record before the call and one after it that needs the call to have finished (a "start" and an
        # "end" log, a timer read twice): the bracket closes before a coroutine's body runs
        kinds_before = {voc.markers.get(_last_name(c.func) or "") for c in before}
        kinds_after = {voc.markers.get(_last_name(c.func) or "") for c in later}
        bracket = next((_BRACKET_KINDS[k] for k in ("timing", "log") if k in kinds_before and k in kinds_after), "")
    return {"scope": scope, "after": after, "bracket": bracket, "pending": pending[:4], "calls": len(calls),
            "first": first, "parents": parents}


def _manual_enter_exit(before: list[ast.Call], later: list[ast.Call], w: ast.FunctionDef, imports: dict,
                       voc: Vocabulary) -> str:
    """`scope = start_active_span(name); scope.__enter__()` before the call and `scope.__exit__(...)` after
    it: a scope opened by hand."""
    entered = {ast.unparse(c.func.value) for c in before
               if isinstance(c.func, ast.Attribute) and c.func.attr == "__enter__"}
    exited = {ast.unparse(c.func.value) for c in later
              if isinstance(c.func, ast.Attribute) and c.func.attr == "__exit__"}
    for name in sorted(entered & exited):
        for node in own_nodes(w):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and any(
                    isinstance(t, ast.Name) and t.id == name for t in node.targets):
                called = _last_name(node.value.func) or ""
                if voc.opener(node.value, imports) is not None or _SCOPE_WORD.search(called):
                    return f"{called}(...).__enter__"
        if _SCOPE_WORD.search(name):
            return f"{name}.__enter__"
    return ""


def _returns_name(fn: ast.AST, name: str) -> set[str]:
    """"plain" if `fn` returns `name(...)`, "factory" if it returns `name` itself (both for `return
    decorator(func) if func else decorator`)."""
    forms: set[str] = set()
    for r in own_nodes(fn):
        if isinstance(r, ast.Return) and r.value is not None:
            called = {id(n.func) for n in walk(r.value) if isinstance(n, ast.Call)}
            for n in walk(r.value):
                if isinstance(n, ast.Name) and n.id == name:
                    forms.add("plain" if id(n) in called else "factory")
    return forms


def analyse_decorator(d: ast.FunctionDef, imports: dict, voc: Vocabulary,
                      span_cms: frozenset[str] = frozenset()) -> dict[str, Any] | None:
    """Facts for a module-level decorator with a sync wrapper that scopes or finishes work, else None.

    The wrapper may be one, two or three levels down: `def traced(fn)`, a factory `def traced(name)` (or one
    taking an optional function: `def trace(func=None, *, name=None)`), and a three-level factory
    `def factory(kind) -> decorator(**opts) -> inner(func) -> wrapper`, applied as `@factory(kind)(...)`."""
    level1 = [c for c in _defs_in(d.body) if isinstance(c, ast.FunctionDef)]
    level2 = [(c2, c1) for c1 in level1 for c2 in _defs_in(c1.body) if isinstance(c2, ast.FunctionDef)]
    containers: list[ast.FunctionDef] = [d, *level1, *[c2 for c2, _ in level2]]
    parent_of = {id(c2): c1 for c2, c1 in level2}
    for c in containers:
        param = _first_param(c)
        if param is None:
            continue
        returned = {n.id for r in own_nodes(c) if isinstance(r, ast.Return) and r.value is not None
                    for n in walk(r.value) if isinstance(n, ast.Name)}
        wrappers = [w for w in _defs_in(c.body) if w.name in returned and _calls_param(w, param)]
        if not wrappers:
            continue
        if c is d:
            forms = {"plain"}
        elif id(c) in parent_of:
            middle = parent_of[id(c)]
            forms = {"factory"} if _returns_name(middle, c.name) and _returns_name(d, middle.name) else set()
            if not forms:
                continue
        else:
            # `return decorator`, `return decorator(fn)`, `return decorator if fn is None else decorator(fn)`
            forms = _returns_name(d, c.name)
            if not forms:
                continue
        handles: set[str] = set()
        for n in walk(d):
            if isinstance(n, ast.Call):
                kinds = voc.checks.get(ast_qualname(n.func, imports) or "")
                if kinds:
                    handles.update(kinds)
                elif _AWARE_HELPER.match(_last_name(n.func) or ""):
                    handles.update(("coroutine", "awaitable"))
        if any(isinstance(w, ast.AsyncFunctionDef) for w in wrappers):
            handles.add("coroutine")
        sync = [w for w in wrappers if isinstance(w, ast.FunctionDef)]
        if not sync:
            return None
        w = sync[0]
        facts = _wrapper_facts(w, param, imports, voc, span_cms)
        if not (facts["scope"] or facts["after"] or facts["pending"]):
            return None
        middle = parent_of.get(id(c))
        path = d.name if c is d else f"{d.name}.{middle.name}.{c.name}" if middle else f"{d.name}.{c.name}"
        return {
            "path": f"{path}.{w.name}",
            "line": w.lineno,
            "fn": param,
            "forms": sorted(forms),
            "handles": sorted(handles),
            "scope": facts["scope"],
            "after": facts["after"],
            "bracket": facts["bracket"],
            "pending": facts["pending"],
            "generic": bool(w.args.vararg or w.args.kwarg),
            "fixable": _fixable(c, w, facts),
        }
    return None


def _fixable(c: ast.FunctionDef, w: ast.FunctionDef, facts: dict) -> bool:
    if facts["calls"] != 1:
        return False
    first = facts["first"]
    parent = facts["parents"].get(id(first))
    if not (isinstance(parent, (ast.Return, ast.Expr))
            or (isinstance(parent, ast.Assign) and len(parent.targets) == 1 and parent.value is first)):
        return False
    for n in own_nodes(w):
        if isinstance(n, (ast.Yield, ast.YieldFrom, ast.Await, ast.Nonlocal)):
            return False
        if isinstance(n, ast.Name) and n.id == w.name:
            return False
    body = c.body
    i = next((k for k, s in enumerate(body) if s is w), None)
    if i is None or i + 1 >= len(body):
        return False
    nxt = body[i + 1]
    return isinstance(nxt, ast.Return) and isinstance(nxt.value, ast.Name) and nxt.value.id == w.name


def ast_target_kind(fn: ast.AST, imports: dict, voc: Vocabulary) -> str | None:
    gen = is_generator(fn)
    if isinstance(fn, ast.AsyncFunctionDef):
        return "asyncgen" if gen else "coroutine"
    if gen:
        return "generator"
    ann = getattr(fn, "returns", None)
    if isinstance(ann, ast.Subscript):
        ann = ann.value
    return "awaitable" if ann is not None and ast_qualname(ann, imports) in voc.awaitables else None


def span_context_managers(tree: ast.Module, imports: dict, catalog) -> list[str]:
    """Module-level `@contextmanager` functions that open a span (`with tracer.start_as_current_span(...):
    yield`, or an opener called before the `yield`): used in a wrapper's `with`, they are its scope."""
    voc = vocabulary(catalog)
    out = []
    for node in tree.body:
        if not isinstance(node, _DEF):
            continue
        decorators = {ast_qualname(d.func if isinstance(d, ast.Call) else d, imports) for d in node.decorator_list}
        if not decorators & {"contextlib.contextmanager", "contextlib.asynccontextmanager"}:
            continue
        if any(isinstance(n, ast.Call) and voc.opener(n, imports) is not None for n in own_nodes(node)):
            out.append(node.name)
    return out


def module_decorators(tree: ast.Module, imports: dict, catalog) -> dict[str, dict[str, Any]]:
    """Local name -> facts, for the module-level decorators of one module that need them, and the module-level
    names bound to a factory's result (`traced = trace_with("http")`: a decorator too)."""
    voc = vocabulary(catalog)
    cms = frozenset(span_context_managers(tree, imports, catalog))
    out = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and next(_defs_in(node.body), None) is not None:
            facts = analyse_decorator(node, imports, voc, cms)
            if facts is not None:
                out[node.name] = facts
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Name):
            facts = out.get(node.value.func.id)
            if facts is not None and "factory" in facts["forms"]:
                for t in node.targets:
                    if isinstance(t, ast.Name):
                        out[t.id] = {**facts, "forms": ["factory", "plain"]}
    return out


def applications(tree: ast.Module, imports: dict, module: str | None, catalog) -> list[list[str]]:
    """[decorator qualified name, form, target kind] for decorators on coroutine-like functions."""
    voc = vocabulary(catalog)
    local = {n.name for n in tree.body if isinstance(n, (*_DEF, ast.ClassDef))}
    out = []
    for fn in all_nodes(tree):
        if not isinstance(fn, _DEF) or not fn.decorator_list:
            continue
        kind = ast_target_kind(fn, imports, voc)
        if kind not in ("coroutine", "awaitable"):
            continue
        for i, dec in enumerate(fn.decorator_list):
            below = fn.decorator_list[i + 1:]
            if any(ast_qualname(b.func if isinstance(b, ast.Call) else b, imports) in voc.changing for b in below):
                continue
            expr = dec
            while isinstance(expr, ast.Call):  # `@factory(kind)(name=...)`
                expr = expr.func
            q = ast_qualname(expr, imports, module, local)
            if q:
                out.append([q, "factory" if isinstance(dec, ast.Call) else "plain", kind])
    return out


# --- across the project: the collectors and the facts merged from them ------------------------------------

#: A decorator's wrapper that scopes or finishes work mentions one of these (the check itself, on the file
#: being checked, needs no token; across modules a decorator without any of them is not seen).
DECORATOR_TOKENS = (b"wraps", b"finally", b"span", b"attach", b".set(", b"perf_counter", b"monotonic", b"time(")


def collect_decorators(tree, imports, module, config, catalog) -> dict[str, Any]:
    if not module:
        return {}
    out: dict[str, Any] = {f"{module}.{name}": facts for name, facts in module_decorators(tree, imports, catalog).items()}
    cms = span_context_managers(tree, imports, catalog)
    if cms:
        out["__span_cms__"] = [f"{module}.{n}" for n in cms]
    return out


def settle(facts: dict[str, Any], span_cms: set[str]) -> dict[str, Any]:
    """A wrapper whose `with` calls a project context manager that opens a span (`pending`): that is its scope."""
    if facts.get("scope") or not facts.get("pending"):
        return facts
    hit = next((q for q in facts["pending"] if q in span_cms), None)
    if hit is None:
        return facts
    name = hit.rsplit(".", 1)[-1]
    return {**facts, "scope": name, "after": f"the `{name}` scope closes", "bracket": "span"}


def collect_applications(tree, imports, module, config, catalog) -> dict[str, Any]:
    """Decorators applied to coroutine functions here, and whether the module has any `async def`."""
    apps = applications(tree, imports, module, catalog)
    has_async = any(isinstance(n, ast.AsyncFunctionDef) for n in all_nodes(tree))
    return {"apps": apps, "async": True} if has_async else ({"apps": apps} if apps else {})


def project_decorators(index) -> dict[str, dict[str, Any]]:
    def merge(ix) -> dict[str, dict[str, Any]]:
        cms = project_span_cms(ix)
        out: dict[str, dict[str, Any]] = {}
        for rel, facts in ix.facts("hygiene.decorators"):
            for q, f in facts.items():
                if q != "__span_cms__" and (f.get("scope") or f.get("after") or f.get("pending")):
                    settled = settle(f, cms)
                    if settled.get("scope") or settled.get("after"):
                        out[q] = {**settled, "file": rel}
        return out

    return index.derived("hygiene.decorators", merge)


def project_span_cms(index) -> set[str]:
    """The project's `@contextmanager` functions that open a span (qualified names)."""
    return index.derived("hygiene.span_cms", lambda ix: {q for _, f in ix.facts("hygiene.decorators")
                                                         for q in f.get("__span_cms__", ())})


def applied_to_coroutines(index) -> set[str]:
    def applied(ix) -> set[str]:
        return {a[0] for _, f in ix.facts("hygiene.applications") for a in f.get("apps", ())}

    return index.derived("hygiene.applied", applied)


def resolve_decorator(index, qualname: str) -> dict[str, Any] | None:
    """The facts of a project decorator, following package re-exports (`pkg.traced` -> `pkg.obs.traced`)."""
    decorators = project_decorators(index)
    reexports = project_reexports(index)
    for _ in range(6):
        if qualname in decorators:
            return decorators[qualname]
        if qualname not in reexports:
            return None
        qualname = reexports[qualname]
    return None


def brackets(facts: dict[str, Any]) -> bool:
    """The wrapper brackets the call with a tracing, logging or timing scope (PRP401 reports its uses on
    coroutine functions): a span or scope, a `with` named like one, a `finally` or a before-and-after
    record of those kinds. A lock, a transaction or `contextlib.suppress` is none of these."""
    return bool(facts.get("scope") or facts.get("bracket"))


def scoped_decorators(index) -> set[str]:
    """Project decorators (and re-exports of one) whose sync wrapper brackets the call (PRP401)."""
    scoped = {d for d, f in project_decorators(index).items() if brackets(f)}
    scoped |= {r for r in project_reexports(index) if brackets(resolve_decorator(index, r) or {})}
    return scoped


# --- what the exact `ast` gates of PRP401 and PRP412 read of a file --------------------------------------------

#: the index collector that keeps them (`collect_gate_facts`)
GATE_FACTS = "hygiene.gates"


def collect_gate_facts(tree, imports, module, config, catalog) -> dict[str, Any]:
    """What the `ast_gate`s of PRP401 and PRP412 read of one file, from its `ast`: whether a module decorator has
    "after" work and handles no coroutine (`sync_only`, PRP412); the last names decorating defs that can be
    coroutines, generators or awaitable-returning functions (`decorated`), the facts of this module's
    decorators those names can be (`local`), and the last names of the imports they are aliases of
    (`aliases`) (PRP401). Kept in the index, so that a file whose exact text the index read is not parsed
    again to decide the gates (`gate_facts`); never empty, so that it is kept whenever it was collected."""
    decorators = module_decorators(tree, imports, catalog)
    decorated: set[str] = set()
    for node in statements(tree):  # a def is a statement: every one, in any block, without the expressions
        if not isinstance(node, _DEF) or not node.decorator_list:
            continue
        if not (isinstance(node, ast.AsyncFunctionDef) or node.returns is not None or any(
                isinstance(n, (ast.Yield, ast.YieldFrom)) for n in walk(node))):
            continue
        for dec in node.decorator_list:
            expr = dec
            while isinstance(expr, ast.Call):
                expr = expr.func
            name = expr.attr if isinstance(expr, ast.Attribute) else getattr(expr, "id", None)
            if isinstance(name, str):
                decorated.add(name)
    aliases = {a: imports[a].rsplit(".", 1)[-1] for a in sorted(decorated) if a in imports}
    wanted = decorated | set(aliases.values())
    return {"sync_only": any(facts["after"] and not {"coroutine", "awaitable"} & set(facts["handles"])
                             for facts in decorators.values()),
            "decorated": sorted(decorated), "aliases": aliases,
            "local": {n: f for n, f in decorators.items() if n in wanted}}


def gate_facts(f, catalog) -> dict[str, Any]:
    """`collect_gate_facts` of an `AstFile`: from the index when it read this exact text, else from its `ast`."""
    found = (f.indexed or {}).get(GATE_FACTS)
    if found is None:
        found = f.derived.get(GATE_FACTS)
        if found is None:
            found = f.derived[GATE_FACTS] = collect_gate_facts(f.tree, f.imports, f.module_name, None, catalog)
    return found
