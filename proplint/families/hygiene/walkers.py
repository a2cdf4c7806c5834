"""Small visitors for the token, middleware and startup rules of the hygiene family (PRP404, PRP406, PRP408,
PRP411).

`owner` is the running check (`check.HygieneCheck`): the visitors use its catalog lookups (`contextvar`,
`opener`, `cv_set`, ...) and its resolver, so they see names as the check does.
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from proplint.core.cst import last_name
from proplint.core.resolve import dotted


class TokenUses(cst.CSTVisitor):
    """How a token is used in a function: closer calls (in a `finally` or not) and any other use."""

    def __init__(self, token: str, closers: set[str], target: cst.CSTNode) -> None:
        self.token = token
        self.closers = closers
        self.skip = {id(target)}
        self.in_finally = 0
        self.nested = 0
        self.closed_in_finally = False
        self.closer_calls: list[cst.Call] = []
        self.other = 0

    # a closer inside a nested function or lambda (a callback) hands the token over: "other" use
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.nested += 1

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.nested -= 1

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.nested += 1

    def leave_Lambda(self, node: cst.Lambda) -> None:
        self.nested -= 1

    def visit_Finally(self, node: cst.Finally) -> None:
        self.in_finally += 1

    def leave_Finally(self, node: cst.Finally) -> None:
        self.in_finally -= 1

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        last = last_name(func)
        if last in self.closers and self.nested <= 1 \
                and any(isinstance(a.value, cst.Name) and a.value.value == self.token for a in node.args):
            self.skip |= {id(a.value) for a in node.args}
            if self.in_finally:
                self.closed_in_finally = True
            else:
                self.closer_calls.append(node)

    def visit_Name(self, node: cst.Name) -> None:
        if node.value == self.token and id(node) not in self.skip:
            self.other += 1


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


class WorkerSpans(cst.CSTVisitor):
    """Spans made inside a loop of a worker without an explicit parent, and whether it extracts or attaches."""

    def __init__(self, owner: Any) -> None:
        self.owner = owner
        self.loops = 0
        self.unrooted: list[cst.Call] = []
        self.extracts = False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_While(self, node: cst.While) -> None:
        self.loops += 1

    def leave_While(self, node: cst.While) -> None:
        self.loops -= 1

    def visit_For(self, node: cst.For) -> None:
        self.loops += node.asynchronous is not None

    def leave_For(self, node: cst.For) -> None:
        self.loops -= node.asynchronous is not None

    def visit_Call(self, node: cst.Call) -> None:
        q = self.owner.ctx.qualified_name(node.func)
        if q in self.owner.extractors or q in self.owner.attach_entries:
            self.extracts = True
            return
        entry = self.owner.opener(node)
        if entry is not None and entry.kind in ("current", "span") and self.loops:
            if not any(a.keyword is not None and a.keyword.value in ("context", "links") for a in node.args):
                self.unrooted.append(node)
