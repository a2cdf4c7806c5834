"""Tokens and scopes: `context.attach` without `detach` on every path (PRP404), `ContextVar.set` on a
pooled thread without `reset` (PRP406), a context made current across a generator's `yield` (PRP407).

`Tokens` is held by the running `check.HygieneCheck` and uses its catalog lookups and name helpers
(`attach_entries`, `cv_set`, `cv_words`, `pooled`, `changing`, `contextvar`, `opener`, `module_scan()`).
Which entry points run on pooled threads is read from the catalog (`[[pooled_entry]]`).
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from proplint.core.cst import last_name, short
from proplint.core.resolve import dotted
from proplint.core.walk import visit
from proplint.families.hygiene.edits import statement_of_call
from proplint.families.hygiene.rules.prp404_attach_without_detach import AttachWithoutDetach
from proplint.families.hygiene.rules.prp406_contextvar_set_without_reset import ContextVarSetWithoutReset
from proplint.families.hygiene.rules.prp407_current_context_across_yield import CurrentContextAcrossYield
from proplint.families.hygiene.syntax import contains_yield, is_generator, single_name_target


class Tokens:
    """PRP404, PRP406, PRP407 (see the module docstring)."""

    def __init__(self, check: Any) -> None:
        self.check = check
        self.ctx = check.ctx
        self._generators: dict[int, bool] = {}

    def generator(self, fn: cst.FunctionDef | None) -> bool:
        """A generator whose `yield`s are not a context-manager/fixture protocol."""
        if fn is None:
            return False
        key = id(fn)
        if key not in self._generators:
            changing = self.check.changing
            protocol = any(n in changing and changing[n].yield_protocol for n in self.check.decorator_names(fn))
            self._generators[key] = not protocol and is_generator(fn)
        return self._generators[key]

    def call(self, node: cst.Call, q: str | None) -> None:
        check = self.check
        if q in check.attach_entries:
            self._attach(node, check.attach_entries[q])
        elif isinstance(node.func, cst.Attribute) and node.func.attr.value in check.cv_set:
            receiver = dotted(node.func.value)
            if receiver and receiver.rsplit(".", 1)[-1] in check.cv_words:
                self._cv_set(node)

    # -- PRP404 (and PRP407 for attach): a token that is not detached on every path ----------------------
    def _attach(self, node: cst.Call, entry) -> None:
        check = self.check
        fn = check.enclosing_function()
        if fn is None or not (check.enabled(AttachWithoutDetach) or check.enabled(CurrentContextAcrossYield)):
            return
        parent, line, block = self.ctx.parent(), self.ctx.parent(2), self.ctx.parent(3)
        single = isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1 and line.body[0] is parent
        if check.enabled(CurrentContextAcrossYield) and single and isinstance(block, cst.IndentedBlock) \
                and self.generator(fn):
            i = next((k for k, s in enumerate(block.body) if s is line), None)
            if i is not None and contains_yield(list(block.body[i + 1:])):
                check.report(CurrentContextAcrossYield, node,
                             CurrentContextAcrossYield.message(short(node, 50), attach=True))
        if not check.enabled(AttachWithoutDetach):
            return
        closer = entry.closer.rsplit(".", 1)[-1]
        target = single_name_target(parent)
        if isinstance(parent, cst.Expr):
            token = None
        elif target is not None:
            token = target.value
        else:
            return  # the token is stored, passed or returned: detached elsewhere
        uses = None
        if token is not None:
            uses = TokenUses(token, {closer}, target)
            visit(fn, uses)
            if uses.closed_in_finally or uses.other:
                return
        if (uses is None or not uses.closer_calls) and self._last_action(fn, line):
            return  # a setter helper: the attach is the last thing it does, the context is meant to outlive it
        rule = AttachWithoutDetach
        fix = None
        if uses is not None and uses.closer_calls:
            message = rule.message(short(node, 50), closer, token, skipped=True)
            if single and isinstance(block, cst.IndentedBlock) and len(uses.closer_calls) == 1:
                i = next(k for k, s in enumerate(block.body) if s is line)
                if statement_of_call(block, uses.closer_calls[0]) == i + 1:
                    return  # nothing runs between attach and detach: nothing to report
                fix = rule.build_fix(self.ctx, fn, block, line, node, token, entry, uses.closer_calls[0])
        else:
            message = rule.message(short(node, 50), closer, token, skipped=False)
            if single and isinstance(block, cst.IndentedBlock) and fn.body is block:
                fix = rule.build_fix(self.ctx, fn, block, line, node, token, entry)
        check.report(rule, node, message, fix)

    def _last_action(self, fn: cst.FunctionDef, line: cst.CSTNode | None) -> bool:
        """Whether nothing in `fn` runs after statement `line` on the normal path."""
        ancestors = self.ctx.ancestors
        stmt: cst.CSTNode | None = line
        for i in range(len(ancestors) - 1, 0, -1):
            if ancestors[i] is not stmt:
                continue
            block, owner = ancestors[i - 1], ancestors[i - 2] if i >= 2 else None
            if not isinstance(block, cst.IndentedBlock) or block.body[-1] is not stmt:
                return False
            if owner is fn:
                return True
            if isinstance(owner, (cst.For, cst.While)):
                return False
            if isinstance(owner, cst.Try) and block is owner.body and (owner.orelse or owner.finalbody):
                return False
            # climb to the statement that holds this block (an if/else/with/try/except)
            for j in range(i - 2, 0, -1):
                if isinstance(ancestors[j], cst.BaseCompoundStatement):
                    stmt = ancestors[j]
                    break
            else:
                return False
        return False

    # -- PRP406: ContextVar.set on a pooled thread with the token discarded -------------------------------------
    def _cv_set(self, node: cst.Call) -> None:
        check = self.check
        if not check.enabled(ContextVarSetWithoutReset) or not node.args:
            return
        func = node.func
        assert isinstance(func, cst.Attribute)
        var = check.contextvar(func.value)
        fn = check.enclosing_function()
        if var is None or fn is None or fn.asynchronous is not None:
            return
        where = self._pooled_entry(fn)
        if where is None:
            return
        parent, line, block = self.ctx.parent(), self.ctx.parent(2), self.ctx.parent(3)
        target = single_name_target(parent)
        if isinstance(parent, cst.Expr):
            token = None
        elif target is not None:
            token = target.value
            uses = TokenUses(token, {self._reset_name()}, target)
            visit(fn, uses)
            if uses.closed_in_finally or uses.other or uses.closer_calls:
                return
        else:
            return
        receiver = dotted(func.value)
        fix = None
        single = isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1 and line.body[0] is parent
        rule = ContextVarSetWithoutReset
        if receiver and single and isinstance(block, cst.IndentedBlock) and fn.body is block:
            fix = rule.build_fix(self.ctx.module, fn, block, line, node, token, f"{receiver}.{self._reset_name()}")
        check.report(rule, node, rule.message(short(node, 50), where, receiver), fix)

    def _reset_name(self) -> str:
        return next(iter(self.check.cv_reset), "reset")

    def _pooled_entry(self, fn: cst.FunctionDef) -> str | None:
        imports = self.ctx.resolver.module_scope.imports().values()
        for dec in fn.decorators:
            expr = dec.decorator.func if isinstance(dec.decorator, cst.Call) else dec.decorator
            q = self.check.qual(expr) or ""
            for entry in self.check.pooled:
                if entry.kind == "decorator" and q == entry.name:
                    return f"a `{entry.name}` task"
                if entry.kind == "route" and isinstance(expr, cst.Attribute) and expr.attr.value == entry.name:
                    t = self.ctx.resolver.receiver_type(expr.value)
                    if t in entry.receivers or (t is None and any(i.split(".")[0] == entry.module for i in imports)):
                        return f"a `{entry.module}` handler (`@{dotted(expr) or entry.name}`)"
            if q.endswith(".task") and "celery" in q.split("."):
                return "a Celery task"
        cls = self.ctx.ancestors[-3] if len(self.ctx.ancestors) >= 3 else None
        for entry in self.check.pooled:
            if entry.kind == "base" and isinstance(cls, cst.ClassDef) and fn.name.value in entry.methods:
                for b in cls.bases:
                    q = self.check.qual(b.value)
                    if q and (q == entry.name or self.ctx.index.is_subclass(q, {entry.name})):
                        return f"a `{entry.name}` handler"
            if entry.kind == "wsgi":
                params = [p.name.value for p in fn.params.params if p.name.value not in ("self", "cls")]
                if params[: len(entry.methods)] == list(entry.methods):
                    return "a WSGI application"
        if fn.name.value in self.check.module_scan().pooled:
            return "an executor job"
        return None

    # -- PRP407: a current span held across `yield` ------------------------------------------------------------
    def with_statement(self, node: cst.With) -> None:
        if not self.check.enabled(CurrentContextAcrossYield):
            return
        for item in node.items:
            if isinstance(item.item, cst.Call):
                entry = self.check.opener(item.item)
                if entry is not None and entry.kind == "current" and contains_yield(node.body) \
                        and self.generator(self.check.enclosing_function()):
                    self.check.report(CurrentContextAcrossYield, item.item,
                                      CurrentContextAcrossYield.message(short(item.item, 50), attach=False))
                    return


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
