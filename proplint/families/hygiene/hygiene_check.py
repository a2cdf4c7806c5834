"""The visitor behind PRP401-PRP412 (the rules, their docs and examples: `hygiene.py`, `hygiene_rules*.py`).

This module holds the decorator and task-argument rules (PRP401, PRP405, PRP409, PRP410, PRP412);
`hygiene_vars.py` the ContextVar-creation and thread-local rules (PRP402, PRP403); `hygiene_scopes.py`
the token, yield, middleware and startup rules (PRP404, PRP406, PRP407, PRP408, PRP411). Decorator facts
for the file being checked come from its own current text (`hygiene_decorators`), facts about the rest
of the project from the index. The words a file needs for each rule to report there: `hygiene_needs.py`
(keep it in step with the report paths here).
"""

from __future__ import annotations

import ast
from typing import Any

import libcst as cst

from proplint.core.context import Check
from proplint.families.hygiene.hygiene_decorators import (
    applications, applied_to_coroutines, async_branch_fix, calls_param, find_wrapper, module_decorators,
    project_decorators, project_reexports, resolve_decorator, vocabulary,
)
from proplint.families.hygiene.hygiene_needs import rule_needs
from proplint.families.hygiene.hygiene_scopes import ScopeRules
from proplint.families.hygiene.hygiene_vars import VarRules, label
from proplint.families.hygiene.hygiene_support import last_name, loop_module, pinned_below, target_kind
from proplint.index import ast_imports, parse_ast
from proplint.core.needs import Need
from proplint.core.resolve import dotted

_KIND_TEXT = {
    "coroutine": ("an `async def`", "coroutine"),
    "asyncgen": ("an async generator", "async generator"),
    "generator": ("a generator", "generator"),
    "awaitable": ("a function returning an awaitable", "awaitable"),
}


class HygieneBase(VarRules, ScopeRules, Check):
    """Shared machinery; `hygiene.HygieneCheck` binds it to the rules."""

    RULES: dict[str, Any] = {}

    @classmethod
    def ast_gates(cls, catalog, config, index):
        """Exact tests on the file's `ast` for the two rules whose words are common in async code.

        PRP412 reports a wrapper only if this file's own decorator facts (`local()`, from the same `ast`
        of the same text) have one with "after" work that does not handle coroutines: on the benchmark
        corpus 366 files pass the words of PRP412 alone and 2 of them have such a decorator."""
        def sync_only_wrapper(f) -> bool:
            return any(facts["after"] and not {"coroutine", "awaitable"} & set(facts["handles"])
                       for facts in module_decorators(f.tree, f.imports, catalog).values())

        # PRP401 (`_decorated` -> `_sync_wrapper_applied`): a def that can be a coroutine, generator or
        # awaitable-returning function (async, a yield anywhere in it, a return annotation) decorated by a
        # name whose facts have a scope: this file's own decorators (same facts as `local()`), or a
        # project decorator or re-export (`resolve_decorator`), by its last name or an import alias of it.
        decorators = project_decorators(index)
        scoped = {d for d, f in decorators.items() if f["scope"]}
        scoped |= {r for r in project_reexports(index) if (resolve_decorator(index, r) or {}).get("scope")}
        project_scoped = frozenset(q.rsplit(".", 1)[-1] for q in scoped)

        def sync_wrapper_on_target(f) -> bool:
            names = {n for n, facts in module_decorators(f.tree, f.imports, catalog).items() if facts["scope"]}
            names |= project_scoped
            names |= {alias for alias, q in f.imports.items() if q.rsplit(".", 1)[-1] in names}
            for node in ast.walk(f.tree):
                if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or not node.decorator_list:
                    continue
                if not (isinstance(node, ast.AsyncFunctionDef) or node.returns is not None or any(
                        isinstance(n, (ast.Yield, ast.YieldFrom)) for n in ast.walk(node))):
                    continue
                for dec in node.decorator_list:
                    expr = dec.func if isinstance(dec, ast.Call) else dec
                    last = expr.attr if isinstance(expr, ast.Attribute) else getattr(expr, "id", None)
                    if last in names:
                        return True
            return False

        return {"PRP401": sync_wrapper_on_target, "PRP412": sync_only_wrapper}

    @classmethod
    def needs(cls, catalog, config, index) -> list[Need]:
        """One condition per rule, read off its report paths (`hygiene_needs.conditions`)."""
        return rule_needs([r.code for r in cls.rules], catalog, config, index)

    @classmethod
    def project_tokens(cls, index, catalog) -> set[str]:
        """Names of the project's sync-wrapper decorators, ContextVars and thread-locals: the last names a
        decorator must have for `_may_wrap` to look at it (not a prefilter: see `needs`)."""
        def names(ix) -> frozenset[str]:
            out = {q.rsplit(".", 1)[-1] for q in project_decorators(ix)}
            out |= {q.rsplit(".", 1)[-1] for q in project_reexports(ix) if resolve_decorator(ix, q)}
            out |= {q.rsplit(".", 1)[-1] for q in ix.project_contextvars()}
            out |= {q.rsplit(".", 1)[-1] for _, f in ix.facts("hygiene.thread_locals") for q in f["names"]}
            return frozenset(out)

        return set(index.derived("hygiene.tokens", names))

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        cat = ctx.catalog
        self.voc = vocabulary(cat)
        openers = cat.get("span_opener")
        self.opener_functions = {e.name: e for e in openers if not e.method}
        self.opener_methods = {e.name: e for e in openers if e.method}
        self.cv_classes = {e.name: e for e in cat.get("contextvar_class")}
        self.cv_set = {e.set_method for e in self.cv_classes.values()}
        self.cv_reset = {e.reset_method for e in self.cv_classes.values()}
        creators = cat.get("task_creator")
        self.task_functions = {e.name: e for e in creators if not e.method}
        self.task_methods = {e.name: e for e in creators if e.method}
        self.thread_locals = cat.names("thread_local_class")
        self.getters = cat.names("current_span_getter")
        self.changing = {e.name: e for e in cat.get("kind_changing_decorator")}
        self._local: dict[str, Any] | None = None
        self._reported_paths: set[str] = set()
        self._reported_uses: set[tuple[int, str]] = set()
        self._project_cvs = set(ctx.index.project_contextvars())
        self.local_cvs = self._module_contextvars()
        self.local_classes = {s.name.value: s for s in ctx.module.body if isinstance(s, cst.ClassDef)}
        self.local_defs = {s.name.value for s in ctx.module.body if isinstance(s, cst.FunctionDef)}
        ScopeRules.setup(self)
        # Resolving a name costs a scan of its scope: only calls whose last name could matter are resolved.
        resolvable = {*self.cv_classes, *self.thread_locals, *self.task_functions, *self.attach_entries,
                      *self.opener_functions, *self.getters}
        words = {n.rsplit(".", 1)[-1] for n in resolvable} | set(self.local_classes)
        words |= {q.rsplit(".", 1)[-1] for q in ctx.index.derived("hygiene.local_subclasses", lambda ix: frozenset(
            c for c in ix.class_bases() if ix.is_subclass(c, self.thread_locals)))}
        imports = ctx.resolver.module_scope.imports()
        self.call_words = words | {a for a, q in imports.items() if q in resolvable or q.rsplit(".", 1)[-1] in words}
        cv_words = set(self.local_cvs) | {q.rsplit(".", 1)[-1] for q in self._project_cvs}
        self.cv_words = cv_words | {a for a, q in imports.items() if q in self._project_cvs}
        project_decorators_words = self.project_tokens(ctx.index, cat)
        self.decorator_words = self.local_defs | {w for w in project_decorators_words} | {
            a for a, q in imports.items() if q.rsplit(".", 1)[-1] in project_decorators_words}
        foreign = {q.rsplit(".", 1)[-1] for q in self._foreign_thread_locals()}
        self.foreign_words = foreign | {a for a, q in imports.items() if q in self._foreign_thread_locals()}

    # -- shared helpers ---------------------------------------------------------------------------------------
    def local(self) -> dict[str, Any]:
        """Facts computed from this file's current text (decorators, applications, event-loop code)."""
        if self._local is None:
            mod = self.ctx.module_name
            if self.ctx.ast_file is not None:  # the engine parsed the same text for the gates
                tree, imports = self.ctx.ast_file.tree, self.ctx.ast_file.imports
            else:
                try:
                    tree = parse_ast(self.ctx.module.code)
                except (SyntaxError, ValueError, RecursionError, MemoryError):
                    tree = ast.Module(body=[], type_ignores=[])
                imports = ast_imports(tree, mod, self.ctx.relpath.endswith("__init__.py"))
            self._local = {
                "decorators": module_decorators(tree, imports, self.ctx.catalog),
                "applied": {a[0] for a in applications(tree, imports, mod or "", self.ctx.catalog)},
                "loop": loop_module(tree, imports, self.ctx.catalog),
                "async": any(isinstance(n, ast.AsyncFunctionDef) for n in ast.walk(tree)),
            }
        return self._local

    def qual(self, expr: cst.BaseExpression) -> str | None:
        if isinstance(expr, cst.Subscript):  # ContextVar[str]("x")
            expr = expr.value
        return self.ctx.qualified_name(expr)

    def opener(self, call: cst.Call) -> Any:
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value in self.opener_methods:
            return self.opener_methods[func.attr.value]
        if last_name(func) not in self.call_words:
            return None
        q = self.qual(call.func)
        if q in self.opener_functions:
            return self.opener_functions[q]
        if isinstance(call.func, cst.Attribute) and call.func.attr.value in self.opener_methods:
            return self.opener_methods[call.func.attr.value]
        return None

    def enclosing_function(self) -> cst.FunctionDef | None:
        """The innermost def around the node being visited (None at module level or inside a lambda)."""
        for node in reversed(self.ctx.ancestors[:-1]):
            if isinstance(node, cst.Lambda):
                return None
            if isinstance(node, cst.FunctionDef):
                return node
        return None

    def decorator_names(self, fn: cst.FunctionDef) -> list[str]:
        out = []
        for d in fn.decorators:
            expr = d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator
            out.append(self.qual(expr) or dotted(expr) or "")
        return out

    def _module_contextvars(self) -> set[str]:
        """Names of this module's module-level ContextVars."""
        out = set()
        words = {n.rsplit(".", 1)[-1] for n in self.cv_classes}
        words |= {a for a, q in self.ctx.resolver.module_scope.imports().items() if q in self.cv_classes}
        for stmt in self.ctx.module.body:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    value = getattr(small, "value", None)
                    func = value.func if isinstance(value, cst.Call) else None
                    head = func.value if isinstance(func, cst.Subscript) else func
                    last = head.attr.value if isinstance(head, cst.Attribute) else getattr(head, "value", None)
                    if isinstance(small, (cst.Assign, cst.AnnAssign)) and last in words \
                            and self.qual(func) in self.cv_classes:
                        targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
                        out |= {t.value for t in targets if isinstance(t, cst.Name)}
        return out

    def contextvar(self, expr: cst.BaseExpression) -> str | None:
        """The qualified name of a known ContextVar an expression names, else None."""
        q = self.ctx.qualified_name(expr)
        if q is not None:
            return q if q in self._project_cvs else None
        if isinstance(expr, cst.Name) and expr.value in self.local_cvs:
            scope = self.ctx.resolver.function_scope()
            if scope is not None and scope.binds(expr.value):
                return None
            return f"{self.ctx.module_name}.{expr.value}" if self.ctx.module_name else expr.value
        return None

    # -- entry points -----------------------------------------------------------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node.decorators:
            self._decorated(node)
        if self.enabled(self.RULES["PRP412"]):
            self._wrapper_definition(node)
        self.scope_function(node)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        head = func.value if isinstance(func, cst.Subscript) else func
        q = self.qual(func) if last_name(head) in self.call_words else None
        if q in self.cv_classes:
            self._contextvar_created(node)
        elif self.enabled(self.RULES["PRP403"]) and (q in self.thread_locals or self._thread_local_subclass(func, q)):
            self._thread_local(node)
        creator = self.task_functions.get(q) if q else None
        if creator is None and q is None and isinstance(func, cst.Attribute) and func.attr.value in self.task_methods:
            creator = self.task_methods[func.attr.value]
        if creator is not None:
            self._task_arguments(node, creator)
            self.task_created(node, creator)
        self.scope_call(node, q)

    # -- PRP401, PRP409, PRP410: what decorates a coroutine or generator function ---------------------------
    def _returns_awaitable(self, fn: cst.FunctionDef) -> bool:
        if fn.returns is None:
            return False
        ann = fn.returns.annotation
        if isinstance(ann, cst.Subscript):
            ann = ann.value
        return self.ctx.qualified_name(ann) in self.voc.awaitables

    def _decorated(self, node: cst.FunctionDef) -> None:
        spans = self.enabled(self.RULES["PRP409"]) or self.enabled(self.RULES["PRP410"])
        wrappers = self.enabled(self.RULES["PRP401"])
        if not (spans or wrappers):
            return
        candidates = []
        for i, dec in enumerate(node.decorators):
            expr = dec.decorator
            method = self.opener_methods.get(expr.func.attr.value) \
                if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute) else None
            if method is not None and method.decorator:
                if spans:
                    candidates.append((i, dec, method))
            elif wrappers and self._may_wrap(expr.func if isinstance(expr, cst.Call) else expr):
                candidates.append((i, dec, None))
        if not candidates:
            return
        kind = target_kind(node, self._returns_awaitable(node))
        if kind is None:
            return
        names = self.decorator_names(node)
        for i, dec, entry in candidates:
            if any(n in self.changing for n in names[i + 1:]):
                continue
            if entry is not None:
                self._span_decorator(node, dec, entry, kind)
            else:
                self._sync_wrapper_applied(node, dec, kind)

    def _may_wrap(self, expr: cst.BaseExpression) -> bool:
        """Cheap test before any analysis: a module-level def here, or a decorator the index knows."""
        if last_name(expr) not in self.decorator_words:
            return False
        q = self.ctx.qualified_name(expr)
        if q is None:
            return isinstance(expr, cst.Name) and expr.value in self.local_defs
        owner, _, name = q.rpartition(".")
        if owner and owner == self.ctx.module_name:
            return name in self.local_defs
        return resolve_decorator(self.ctx.index, q) is not None

    def _span_decorator(self, node: cst.FunctionDef, dec: cst.Decorator, entry, kind: str) -> None:
        what = label(dec.decorator)
        if kind in ("generator", "asyncgen"):
            self.report(self.RULES["PRP409"], dec,
                        f"`@{what}` on {_KIND_TEXT[kind][0]} `{node.name.value}`: the span ends when the generator "
                        f"object is created, before the first item, and spans made while iterating are not its "
                        f"children; open the span inside the generator (or start_span + end() in finally)")
        elif kind == "coroutine" and entry.async_decorator_since:
            pin = pinned_below(getattr(self.ctx.index, "pins", {}), entry.dist, entry.async_decorator_since)
            if pin is not None:
                self.report(self.RULES["PRP410"], dec,
                            f"`@{what}` on `async def {node.name.value}` needs {entry.dist[0]} >= "
                            f"{entry.async_decorator_since}, but the project pins {pin[0]}{pin[1]}: the span ends "
                            f"before the coroutine runs; raise the pin or open the span inside the function")

    def _facts_for(self, expr: cst.BaseExpression) -> tuple[dict | None, bool]:
        """(decorator facts, defined in this file) for the decorator an expression names."""
        local = self.local()["decorators"]
        q = self.ctx.qualified_name(expr)
        mod = self.ctx.module_name
        if q is None:
            if isinstance(expr, cst.Name) and expr.value in local:
                return local[expr.value], True
            return None, False
        owner, _, name = q.rpartition(".")
        if mod and owner == mod and name in local:
            return local[name], True
        return resolve_decorator(self.ctx.index, q), False

    def _sync_wrapper_applied(self, node: cst.FunctionDef, dec: cst.Decorator, kind: str) -> None:
        if not self.enabled(self.RULES["PRP401"]):
            return
        expr = dec.decorator
        form = "plain"
        if isinstance(expr, cst.Call):
            expr, form = expr.func, "factory"
        facts, here = self._facts_for(expr)
        if facts is None or form not in facts["forms"] or not facts["scope"]:
            return
        handles = set(facts["handles"])
        if kind in handles or (kind == "coroutine" and "awaitable" in handles):
            return
        desc, obj = _KIND_TEXT[kind]
        message = (f"`@{label(dec.decorator)}` wraps {desc} `{node.name.value}` in a plain `def` wrapper: its "
                   f"`{facts['scope']}` scope closes as soon as the {obj} object is returned, before the body "
                   f"runs, so the span is near zero-length and spans inside are not its children")
        fix = None
        if here:
            if kind == "coroutine" and facts["fixable"]:
                found = find_wrapper(self.ctx.module, facts["path"])
                fix = async_branch_fix(found[0], found[1], facts["fn"]) if found else None
        else:
            message += f" (the wrapper is at {facts['file']}:{facts['line']}; fix it there, see PRP412)"
        self.report(self.RULES["PRP401"], dec, message, fix)

    # -- PRP412: the sync-only wrapper itself ---------------------------------------------------------------
    def _wrapper_definition(self, node: cst.FunctionDef) -> None:
        if node.asynchronous is not None or len(self.ctx.ancestors) < 4:
            return
        chain = []
        for anc in self.ctx.ancestors:
            if isinstance(anc, (cst.ClassDef, cst.Lambda)):
                return
            if isinstance(anc, cst.FunctionDef):
                chain.append(anc)
        if len(chain) < 2:
            return
        # cheap test before the module's analysis: the def calls its container's first parameter
        params = chain[-2].params
        first = (*params.posonly_params, *params.params)[:1]
        if not first or not calls_param(node, first[0].name.value):
            return
        chain = [f.name.value for f in chain]
        path = ".".join(chain)
        facts = self.local()["decorators"].get(chain[0])
        if facts is None or facts["path"] != path or path in self._reported_paths:
            return
        self._reported_paths.add(path)
        if {"coroutine", "awaitable"} & set(facts["handles"]) or not facts["after"]:
            return
        mod = self.ctx.module_name
        q = f"{mod}.{chain[0]}" if mod else chain[0]
        applied = q in self.local()["applied"] or q in applied_to_coroutines(self.ctx.index)
        has_async = self.local()["async"] or any(f.get("async") for _, f in
                                                 self.ctx.index.facts("hygiene.applications"))
        # Applied to a coroutine function in this project: any "after" work is wrong. Otherwise only a
        # generic tracing decorator (one that opens a span or scope) in a project with async code.
        if not (applied or (facts["scope"] and facts["generic"] and has_async)):
            return
        fix = None
        container = self.ctx.ancestors[-3]
        if facts["fixable"] and isinstance(container, cst.FunctionDef):
            fix = async_branch_fix(container, node, facts["fn"])
        self.report(self.RULES["PRP412"], node.name,
                    f"`{chain[0]}` wraps every function in the sync-only `def {node.name.value}`: "
                    f"{facts['after']} as soon as `{facts['fn']}(...)` returns, which for a coroutine function is "
                    f"before its body runs{' (a zero-length span, unparented children)' if facts['scope'] else ''}; "
                    f"add an `inspect.iscoroutinefunction` branch with an async wrapper", fix)

    # -- PRP405: the current span handed to a task by hand -----------------------------------------------------
    def _task_arguments(self, node: cst.Call, creator) -> None:
        if not self.enabled(self.RULES["PRP405"]) or not node.args:
            return
        if creator.style == "function":
            values = [a.value for a in node.args[1:]]
        else:
            coro = node.args[0].value
            values = [a.value for a in coro.args] if isinstance(coro, cst.Call) else []
        for value in values:
            what = self._current_span(value)
            if what:
                self.report(self.RULES["PRP405"], value,
                            f"{what} passed to a task by hand: `{label(node.func)}` already runs the task in a copy "
                            f"of the current context, where `trace.get_current_span()` returns this span; drop the "
                            f"argument")

    def _current_span(self, value: cst.BaseExpression) -> str | None:
        if isinstance(value, cst.Call) and self.ctx.qualified_name(value.func) in self.getters:
            return f"`{label(value)}`"
        if not isinstance(value, cst.Name):
            return None
        name = value.value
        for anc in reversed(self.ctx.ancestors):
            if isinstance(anc, (cst.FunctionDef, cst.Lambda)):
                break
            if isinstance(anc, cst.With):
                for item in anc.items:
                    if item.asname is not None and isinstance(item.asname.name, cst.Name) \
                            and item.asname.name.value == name and isinstance(item.item, cst.Call):
                        entry = self.opener(item.item)
                        if entry is not None and entry.kind == "current":
                            return f"the current span `{name}`"
        scope = self.ctx.resolver.function_scope()
        if scope is None:
            return None
        evidence = scope.collected().evidence.get(name, ())
        if evidence and all(kind == "value" and isinstance(v, cst.Call)
                            and self.ctx.qualified_name(v.func) in self.getters for kind, v in evidence):
            return f"the current span `{name}`"
        return None
