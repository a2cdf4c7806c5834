"""A `BaseHTTPMiddleware` (or `@app.middleware("http")`) reading a ContextVar after `await call_next(...)`
(PRP408): which middleware runs the endpoint in another task is read from the catalog (`[[http_middleware]]`),
which functions set a ContextVar from the index (`facts.cv_setters`).

`Middleware` is held by the running `check.HygieneCheck` and uses its catalog lookups (`middleware`,
`middleware_bases`, `cv_set`, `cv_get`), `contextvar` and `module_scan()`.
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from proplint.core.cst import short
from proplint.core.walk import visit
from proplint.families.hygiene.facts import cv_setters
from proplint.families.hygiene.rules.prp408_basehttpmiddleware_contextvars import BaseHttpMiddlewareContextVars


class Middleware:
    """PRP408 (see the module docstring)."""

    def __init__(self, check: Any) -> None:
        self.check = check
        self.ctx = check.ctx

    def function(self, node: cst.FunctionDef) -> None:
        if node.asynchronous is None or not self.check.enabled(BaseHttpMiddlewareContextVars):
            return
        index = self._middleware_param(node)
        if index is None:
            return
        params = [p.name.value for p in node.params.params]
        call_next = params[index] if len(params) > index else "call_next"
        walker = AfterCallNext(self.check, call_next)
        visit(node.body, walker)
        if not walker.reads:
            return
        sets = cv_setters(self.ctx.index)
        cls = self.ctx.ancestors[-3] if len(self.ctx.ancestors) >= 3 else None
        owner = cls.name.value if isinstance(cls, cst.ClassDef) else None
        here = ".".join(p for p in (self.ctx.module_name, owner, node.name.value) if p)
        for call, var in walker.reads:
            if var in walker.set_before or not (sets.get(var, set()) - {here}):
                continue
            self.check.report(BaseHttpMiddlewareContextVars, call,
                              BaseHttpMiddlewareContextVars.message(short(call, 50), call_next))

    def _middleware_param(self, node: cst.FunctionDef) -> int | None:
        """The position of `call_next` when `node` is a BaseHTTPMiddleware dispatch, else None."""
        cls = self.ctx.ancestors[-3] if len(self.ctx.ancestors) >= 3 else None
        bases = self.check.middleware_bases
        methods = {e.method for e in self.check.middleware if e.kind == "base"}
        if isinstance(cls, cst.ClassDef) and node.name.value in methods:
            for b in cls.bases:
                q = self.check.qual(b.value)
                if q is None and isinstance(b.value, cst.Name) and self.ctx.module_name:
                    q = f"{self.ctx.module_name}.{b.value.value}"
                if q and (q in bases or self.ctx.index.is_subclass(q, bases)):
                    return 2
        for dec in node.decorators:
            d = dec.decorator
            if isinstance(d, cst.Call) and isinstance(d.func, cst.Attribute) and d.args:
                first = d.args[0].value
                for e in self.check.middleware:
                    if e.kind == "decorator" and d.func.attr.value == e.name and isinstance(first, cst.SimpleString) \
                            and first.evaluated_value == e.arg:
                        return 1
        imports = self.ctx.resolver.module_scope.imports().values()
        if any(q in bases for q in imports) and node.name.value in self.check.module_scan().dispatch:
            return 1  # app.add_middleware(BaseHTTPMiddleware, dispatch=<this function>)
        return None


class AfterCallNext(cst.CSTVisitor):
    """In source order: ContextVars set before `await call_next(...)`, and ContextVar reads after it."""

    def __init__(self, owner: Any, call_next: str) -> None:
        self.owner = owner
        self.call_next = call_next
        self.seen = False
        self.set_before: set[str] = set()
        self.reads: list[tuple[cst.Call, str]] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def leave_Await(self, node: cst.Await) -> None:
        e = node.expression
        if isinstance(e, cst.Call) and isinstance(e.func, cst.Name) and e.func.value == self.call_next:
            self.seen = True

    def visit_Call(self, node: cst.Call) -> None:
        f = node.func
        if not isinstance(f, cst.Attribute):
            return
        if f.attr.value in self.owner.cv_set and not self.seen:
            var = self.owner.contextvar(f.value)
            if var:
                self.set_before.add(var)
        elif f.attr.value in self.owner.cv_get and self.seen:
            var = self.owner.contextvar(f.value)
            if var:
                self.reads.append((node, var))
