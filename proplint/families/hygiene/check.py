"""The visitor behind PRP401-PRP412: one walk, the catalog lookups and name helpers the rules share, and
the entry points that hand each shape to the collaborator that judges it.

What each rule reports is judged by a small class holding the check: `decorated.py` (PRP401, PRP409,
PRP410, PRP412: what decorates a coroutine or generator, the sync-only wrapper itself), `variables.py`
(PRP402, PRP403: ContextVars and thread-locals), `tokens.py` (PRP404, PRP406, PRP407: tokens and scopes
held across `yield`), `tasks.py` (PRP405, PRP411) and `middleware.py` (PRP408). Messages, fixes and needs
are the rules' own (`rules/`). Decorator facts for the file being checked come from its own current text
(`decorators.py`), facts about the rest of the project from the index (`facts.py`).
"""

from __future__ import annotations

import ast
from typing import Any

import libcst as cst

from proplint.core.context import Check
from proplint.core.cst import last_name
from proplint.core.resolve import dotted
from proplint.core.walk import visit
from proplint.families.hygiene.decorators import (applications, module_decorators, project_span_cms, settle,
                                                 vocabulary)
from proplint.families.hygiene.decorated import DecoratedFunctions
from proplint.families.hygiene.facts import foreign_thread_locals, loop_module, project_tokens, subclasses
from proplint.families.hygiene.middleware import Middleware
from proplint.families.hygiene.rules.prp401_sync_wrapper_on_coroutine_function import SyncWrapperOnCoroutineFunction
from proplint.families.hygiene.rules.prp402_contextvar_not_module_level import ContextVarNotModuleLevel
from proplint.families.hygiene.rules.prp403_threading_local_in_async import ThreadingLocalInAsync
from proplint.families.hygiene.rules.prp404_attach_without_detach import AttachWithoutDetach
from proplint.families.hygiene.rules.prp405_current_span_passed_to_task import CurrentSpanPassedToTask
from proplint.families.hygiene.rules.prp406_contextvar_set_without_reset import ContextVarSetWithoutReset
from proplint.families.hygiene.rules.prp407_current_context_across_yield import CurrentContextAcrossYield
from proplint.families.hygiene.rules.prp408_basehttpmiddleware_contextvars import BaseHttpMiddlewareContextVars
from proplint.families.hygiene.rules.prp409_span_decorator_on_generator import SpanDecoratorOnGenerator
from proplint.families.hygiene.rules.prp410_otel_async_decorator_too_old import OtelAsyncDecoratorTooOld
from proplint.families.hygiene.rules.prp411_task_context_captured_at_creation import TaskContextCapturedAtCreation
from proplint.families.hygiene.rules.prp412_sync_only_decorator_wrapper import SyncOnlyDecoratorWrapper
from proplint.families.hygiene.tasks import Tasks
from proplint.families.hygiene.tokens import Tokens
from proplint.families.hygiene.variables import Variables
from proplint.core.ast_names import ast_imports, parse_ast, all_nodes


class HygieneCheck(Check):
    """PRP401-PRP412 (see the module docstring)."""

    rules = (
        SyncWrapperOnCoroutineFunction, ContextVarNotModuleLevel, ThreadingLocalInAsync, AttachWithoutDetach,
        CurrentSpanPassedToTask, ContextVarSetWithoutReset, CurrentContextAcrossYield, BaseHttpMiddlewareContextVars,
        SpanDecoratorOnGenerator, OtelAsyncDecoratorTooOld, TaskContextCapturedAtCreation, SyncOnlyDecoratorWrapper,
    )

    @classmethod
    def ast_gates(cls, catalog, config, index):
        """Exact tests on the file's `ast` for the two rules whose words are common in async code (each
        rule's own `ast_gate`)."""
        return {rule.code: rule.ast_gate(catalog, index)
                for rule in (SyncWrapperOnCoroutineFunction, SyncOnlyDecoratorWrapper)}

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
        self.cv_get = {e.get_method for e in self.cv_classes.values()}
        creators = cat.get("task_creator")
        self.task_functions = {e.name: e for e in creators if not e.method}
        self.task_methods = {e.name: e for e in creators if e.method}
        self.thread_locals = cat.names("thread_local_class")
        self.getters = cat.names("current_span_getter")
        self.changing = {e.name: e for e in cat.get("kind_changing_decorator")}
        self.attach_entries = {e.name: e for e in openers if e.kind == "attach" and not e.method}
        self.pooled = cat.get("pooled_entry")
        self.middleware = cat.get("http_middleware")
        self.middleware_bases = {e.name for e in self.middleware if e.kind == "base"}
        self.hooks = cat.get("startup_hook")
        self.hook_keywords = {h.name for h in self.hooks if h.kind == "keyword"}
        self.extractors = cat.names("extractor") | set(ctx.config.extractors)
        self._local: dict[str, Any] | None = None
        self._scan: ModuleScan | None = None
        self._project_cvs = set(ctx.index.project_contextvars())
        self.local_cvs = self._module_contextvars()
        self.local_classes = {s.name.value: s for s in ctx.module.body if isinstance(s, cst.ClassDef)}
        self.local_defs = {s.name.value for s in ctx.module.body if isinstance(s, cst.FunctionDef)}
        # Resolving a name costs a scan of its scope: only calls whose last name could matter are resolved.
        resolvable = {*self.cv_classes, *self.thread_locals, *self.task_functions, *self.attach_entries,
                      *self.opener_functions, *self.getters}
        words = {n.rsplit(".", 1)[-1] for n in resolvable} | set(self.local_classes)
        words |= {q.rsplit(".", 1)[-1] for q in subclasses(ctx.index, "hygiene.local_subclasses", self.thread_locals)}
        imports = ctx.resolver.module_scope.imports()
        self.call_words = words | {a for a, q in imports.items() if q in resolvable or q.rsplit(".", 1)[-1] in words}
        cv_words = set(self.local_cvs) | {q.rsplit(".", 1)[-1] for q in self._project_cvs}
        self.cv_words = cv_words | {a for a, q in imports.items() if q in self._project_cvs}
        tokens = project_tokens(ctx.index)
        self.decorator_words = self.local_defs | tokens | {a for a, q in imports.items()
                                                           if q.rsplit(".", 1)[-1] in tokens}
        foreign = foreign_thread_locals(ctx.index)
        self.foreign_words = {q.rsplit(".", 1)[-1] for q in foreign} | {a for a, q in imports.items() if q in foreign}
        self._decorated = DecoratedFunctions(self)
        self._variables = Variables(self)
        self._tokens = Tokens(self)
        self._tasks = Tasks(self)
        self._middleware = Middleware(self)

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
                "decorators": {name: settle(f, project_span_cms(self.ctx.index))
                               for name, f in module_decorators(tree, imports, self.ctx.catalog).items()},
                "applied": {a[0] for a in applications(tree, imports, mod or "", self.ctx.catalog)},
                "loop": loop_module(tree, imports, self.ctx.catalog),
                "async": any(isinstance(n, ast.AsyncFunctionDef) for n in all_nodes(tree)),
            }
        return self._local

    def module_scan(self) -> ModuleScan:
        """Startup hooks, middleware dispatch functions and pooled-thread targets registered in this module."""
        if self._scan is None:
            self._scan = ModuleScan(self)
            visit(self.ctx.module, self._scan)
        return self._scan

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
            self._decorated.decorated(node)
        if self.enabled(SyncOnlyDecoratorWrapper):
            self._decorated.wrapper_definition(node)
        self._middleware.function(node)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        head = func.value if isinstance(func, cst.Subscript) else func
        q = self.qual(func) if last_name(head) in self.call_words else None
        if q in self.cv_classes:
            self._variables.contextvar_created(node)
        elif self.enabled(ThreadingLocalInAsync) and (q in self.thread_locals
                                                      or self._variables.thread_local_subclass(func, q)):
            self._variables.thread_local(node)
        creator = self.task_functions.get(q) if q else None
        if creator is None and q is None and isinstance(func, cst.Attribute) and func.attr.value in self.task_methods:
            creator = self.task_methods[func.attr.value]
        if creator is not None:
            self._tasks.task_arguments(node, creator)
            self._tasks.task_created(node, creator)
        self._tokens.call(node, q)

    def visit_With(self, node: cst.With) -> None:
        self._tokens.with_statement(node)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._variables.attribute(node)


class ModuleScan(cst.CSTVisitor):
    """Names registered as startup hooks, BaseHTTPMiddleware dispatch functions and pooled-thread targets."""

    def __init__(self, owner: Any) -> None:
        self.owner = owner
        self.startup: set[str] = set()
        self.dispatch: set[str] = set()
        self.pooled: set[str] = set()

    @staticmethod
    def _name(expr: cst.BaseExpression) -> str | None:
        if isinstance(expr, cst.Name):
            return expr.value
        if isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name) and expr.value.value in ("self", "cls"):
            return expr.attr.value
        return None

    def visit_Call(self, node: cst.Call) -> None:
        owner = self.owner
        func = node.func
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value in owner.hook_keywords:
                values = [e.value for e in arg.value.elements] if isinstance(arg.value, (cst.List, cst.Tuple)) \
                    else [arg.value]
                self.startup |= {n for n in map(self._name, values) if n}
        if not isinstance(func, cst.Attribute):
            return
        attr = func.attr.value
        args = [a for a in node.args if a.keyword is None]
        first = args[0].value if args else None
        for hook in owner.hooks:
            if hook.kind == "register" and attr == hook.name and len(args) >= 2 \
                    and isinstance(first, cst.SimpleString) and first.evaluated_value == hook.arg:
                self.startup |= {n for n in [self._name(args[1].value)] if n}
            if hook.kind == "append" and attr == "append" and isinstance(func.value, cst.Attribute) \
                    and func.value.attr.value == hook.name and first is not None:
                self.startup |= {n for n in [self._name(first)] if n}
        for mw in owner.middleware:
            if mw.kind == "register" and attr == mw.name:
                for a in node.args:
                    if a.keyword is not None and a.keyword.value == mw.keyword:
                        self.dispatch |= {n for n in [self._name(a.value)] if n}
        for entry in owner.pooled:
            if entry.kind == "call" and attr == entry.name and len(args) > entry.func_index:
                if not entry.receivers or self._executor(func.value, entry.receivers):
                    self.pooled |= {n for n in [self._name(args[entry.func_index].value)] if n}

    def _executor(self, receiver: cst.BaseExpression, receivers: tuple[str, ...]) -> bool:
        name = (dotted(receiver) or "").lower()
        if "executor" in name or "pool" in name:
            return True
        t = self.owner.ctx.resolver.receiver_type(receiver) if isinstance(receiver, (cst.Call, cst.Name)) else None
        return t in receivers
