"""Tasks: the current span handed to a task by hand (PRP405), a long-lived task started at startup that
inherits the startup context forever (PRP411). Where long-lived work starts is read from the catalog
(`[[startup_hook]]`).

`Tasks` is held by the running `check.HygieneCheck` and uses its catalog lookups (`getters`, `hooks`,
`extractors`, `attach_entries`), `opener`, `enclosing_function` and `module_scan()`.
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from proplint.core.cst import short
from proplint.core.walk import visit
from proplint.families.hygiene.rules.prp405_current_span_passed_to_task import CurrentSpanPassedToTask
from proplint.families.hygiene.rules.prp411_task_context_captured_at_creation import TaskContextCapturedAtCreation


class Tasks:
    """PRP405, PRP411 (see the module docstring)."""

    def __init__(self, check: Any) -> None:
        self.check = check
        self.ctx = check.ctx

    # -- PRP405: the current span handed to a task by hand -----------------------------------------------------
    def task_arguments(self, node: cst.Call, creator) -> None:
        if not self.check.enabled(CurrentSpanPassedToTask) or not node.args:
            return
        if creator.style == "function":
            values = [a.value for a in node.args[1:]]
        else:
            coro = node.args[0].value
            values = [a.value for a in coro.args] if isinstance(coro, cst.Call) else []
        for value in values:
            what = self._current_span(value)
            if what:
                self.check.report(CurrentSpanPassedToTask, value,
                                  CurrentSpanPassedToTask.message(what, short(node.func, 50)))

    def _current_span(self, value: cst.BaseExpression) -> str | None:
        if isinstance(value, cst.Call) and self.ctx.qualified_name(value.func) in self.check.getters:
            return f"`{short(value, 50)}`"
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
                        entry = self.check.opener(item.item)
                        if entry is not None and entry.kind == "current":
                            return f"the current span `{name}`"
        scope = self.ctx.resolver.function_scope()
        if scope is None:
            return None
        evidence = scope.collected().evidence.get(name, ())
        if evidence and all(kind == "value" and isinstance(v, cst.Call)
                            and self.ctx.qualified_name(v.func) in self.check.getters for kind, v in evidence):
            return f"the current span `{name}`"
        return None

    # -- PRP411: a long-lived task started at startup -----------------------------------------------------------
    def task_created(self, node: cst.Call, creator) -> None:
        if not self.check.enabled(TaskContextCapturedAtCreation) or not node.args:
            return
        fn = self.check.enclosing_function()
        if self.ctx.resolver.function_scope() is not None and (fn is None or not self._startup(fn)):
            return
        first = node.args[0].value
        target = first.func if creator.style == "coroutine" and isinstance(first, cst.Call) else first
        worker = self._function_named(target)
        if worker is None:
            return
        finder = WorkerSpans(self.check)
        visit(worker.body, finder)
        if not finder.unrooted or finder.extracts:
            return
        startup = None if fn is None else fn.name.value
        self.check.report(TaskContextCapturedAtCreation, node,
                          TaskContextCapturedAtCreation.message(worker.name.value, startup))

    def _startup(self, fn: cst.FunctionDef) -> bool:
        for dec in fn.decorators:
            d = dec.decorator
            if isinstance(d, cst.Call) and isinstance(d.func, cst.Attribute) and d.args:
                first = d.args[0].value
                for h in self.check.hooks:
                    if h.kind == "event_decorator" and d.func.attr.value == h.name \
                            and isinstance(first, cst.SimpleString) and first.evaluated_value == h.arg:
                        return True
        if any(h.kind == "function" and fn.name.value == h.name for h in self.check.hooks):
            return True
        return fn.name.value in self.check.module_scan().startup

    def _function_named(self, expr: cst.BaseExpression) -> cst.FunctionDef | None:
        body: Any = self.ctx.module.body
        name = expr.value if isinstance(expr, cst.Name) else None
        if isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name) and expr.value.value == "self":
            cls = self.ctx.enclosing(cst.ClassDef)
            body = cls.body.body if cls is not None else ()
            name = expr.attr.value
        return next((s for s in body if isinstance(s, cst.FunctionDef) and s.name.value == name), None)


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
