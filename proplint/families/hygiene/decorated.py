"""What decorates a coroutine or generator function (PRP401, PRP409, PRP410), and the sync-only wrapper of a
decorator defined here (PRP412): the shapes, judged with the decorator facts of `decorators.py`.

`DecoratedFunctions` is held by the running `check.HygieneCheck` and uses its catalog lookups and name
helpers (`opener_methods`, `changing`, `decorator_words`, `local()`, `decorator_names`).
"""

from __future__ import annotations

import re
from typing import Any

import libcst as cst

from proplint.core.cst import last_name, short
from proplint.families.hygiene.decorators import applied_to_coroutines, brackets, resolve_decorator
from proplint.core.versions import pinned_below
from proplint.families.hygiene.rules.prp401_sync_wrapper_on_coroutine_function import SyncWrapperOnCoroutineFunction
from proplint.families.hygiene.rules.prp409_span_decorator_on_generator import SpanDecoratorOnGenerator
from proplint.families.hygiene.rules.prp410_otel_async_decorator_too_old import OtelAsyncDecoratorTooOld
from proplint.families.hygiene.rules.prp412_sync_only_decorator_wrapper import SyncOnlyDecoratorWrapper
from proplint.families.hygiene.syntax import calls_param, target_kind


class DecoratedFunctions:
    """PRP401, PRP409, PRP410, PRP412 (see the module docstring)."""

    def __init__(self, check: Any) -> None:
        self.check = check
        self.ctx = check.ctx
        self._reported_paths: set[str] = set()

    def _returns_awaitable(self, fn: cst.FunctionDef) -> bool:
        if fn.returns is None:
            return False
        ann = fn.returns.annotation
        if isinstance(ann, cst.Subscript):
            ann = ann.value
        return self.ctx.qualified_name(ann) in self.check.voc.awaitables

    def decorated(self, node: cst.FunctionDef) -> None:
        check = self.check
        spans = check.enabled(SpanDecoratorOnGenerator) or check.enabled(OtelAsyncDecoratorTooOld)
        wrappers = check.enabled(SyncWrapperOnCoroutineFunction)
        if not (spans or wrappers):
            return
        candidates = []
        for i, dec in enumerate(node.decorators):
            expr = dec.decorator
            method = check.opener_methods.get(expr.func.attr.value) \
                if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute) else None
            if method is not None and method.decorator:
                if spans:
                    candidates.append((i, dec, method))
            elif wrappers and self._may_wrap(_called(expr)):
                candidates.append((i, dec, None))
        if not candidates:
            return
        kind = target_kind(node, self._returns_awaitable(node))
        if kind is None:
            return
        names = check.decorator_names(node)
        for i, dec, entry in candidates:
            if any(n in check.changing for n in names[i + 1:]):
                continue
            if entry is not None:
                self._span_decorator(node, dec, entry, kind)
            else:
                self._sync_wrapper_applied(node, dec, kind)

    def _may_wrap(self, expr: cst.BaseExpression) -> bool:
        """Cheap test before any analysis: a module-level def here, or a decorator the index knows."""
        if last_name(expr) not in self.check.decorator_words:
            return False
        q = self.ctx.qualified_name(expr)
        if q is None:
            return isinstance(expr, cst.Name) and expr.value in self.check.local_defs
        owner, _, name = q.rpartition(".")
        if owner and owner == self.ctx.module_name:
            return name in self.check.local_defs
        return resolve_decorator(self.ctx.index, q) is not None

    def _span_decorator(self, node: cst.FunctionDef, dec: cst.Decorator, entry, kind: str) -> None:
        what = short(dec.decorator, 50)
        if kind in ("generator", "asyncgen"):
            self.check.report(SpanDecoratorOnGenerator, dec,
                              SpanDecoratorOnGenerator.message(what, kind, node.name.value))
        elif kind == "coroutine" and entry.async_decorator_since:
            pin = pinned_below(getattr(self.ctx.index, "pins", {}), entry.dist, entry.async_decorator_since)
            if pin is not None:
                self.check.report(OtelAsyncDecoratorTooOld, dec,
                                  OtelAsyncDecoratorTooOld.message(what, node.name.value, entry, pin))

    def _facts_for(self, expr: cst.BaseExpression) -> tuple[dict | None, bool]:
        """(decorator facts, defined in this file) for the decorator an expression names."""
        local = self.check.local()["decorators"]
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
        rule = SyncWrapperOnCoroutineFunction
        if not self.check.enabled(rule):
            return
        expr = dec.decorator
        form = "plain"
        while isinstance(expr, cst.Call):  # `@traced(...)`, `@factory(kind)(name=...)`
            expr, form = expr.func, "factory"
        facts, here = self._facts_for(expr)
        if facts is None or form not in facts["forms"] or not brackets(facts):
            return
        handles = set(facts["handles"])
        if kind in handles or (kind == "coroutine" and "awaitable" in handles):
            return
        message = rule.message(short(dec.decorator, 50), kind, node.name.value, facts, here)
        self.check.report(rule, dec, message, rule.build_fix(self.ctx.module, facts, kind, here))

    def wrapper_definition(self, node: cst.FunctionDef) -> None:
        """PRP412: a nested sync `def` wrapper of a decorator defined in this module."""
        ancestors = self.ctx.ancestors
        if node.asynchronous is not None or len(ancestors) < 4:
            return
        chain = []
        for anc in ancestors:
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
        local = self.check.local()
        facts = local["decorators"].get(chain[0])
        if facts is None or facts["path"] != path or path in self._reported_paths:
            return
        self._reported_paths.add(path)
        if {"coroutine", "awaitable"} & set(facts["handles"]) or not facts["after"]:
            return
        mod = self.ctx.module_name
        q = f"{mod}.{chain[0]}" if mod else chain[0]
        applied = q in local["applied"] or q in applied_to_coroutines(self.ctx.index)
        has_async = local["async"] or self.ctx.index.derived(
            "hygiene.project_async", lambda ix: any(f.get("async") for _, f in ix.facts("hygiene.applications")))
        # Applied to a coroutine function in this project: any "after" work is wrong. Otherwise only a
        # generic tracing decorator (one that opens a span or scope) in a project with async code, and only
        # when the project does not apply it itself (it does, to sync functions only: nothing is lost; a
        # decorator nothing in the project applies is its users' to put on a coroutine function).
        if not (applied or (facts["scope"] and facts["generic"] and has_async and not self._applied_by_project(
                chain[0]))):
            return
        rule = SyncOnlyDecoratorWrapper
        self.check.report(rule, node.name, rule.message(chain[0], node.name.value, facts),
                          rule.build_fix(ancestors[-3], node, facts))

    def _applied_by_project(self, name: str) -> bool:
        """The project applies the decorator `name` of this module: another application module names it, or
        this module decorates a function with it."""
        if self.ctx.index.app_names().get(name, self.ctx.relpath) != self.ctx.relpath:
            return True
        return re.search(rf"^[ \t]*@{re.escape(name)}\b", self.ctx.module.code, re.M) is not None


def _called(expr: cst.BaseExpression) -> cst.BaseExpression:
    """The name a decorator expression calls: `traced` of `@traced`, `@traced(...)`, `@factory(kind)(...)`."""
    while isinstance(expr, cst.Call):
        expr = expr.func
    return expr
