"""Value flow inside one function: does an expression carry a context written by an injector?

"Enriched" means: the expression is, or contains, or was assigned from something an injector filled
(`inject(carrier)`, `TraceContextTextMapPropagator().inject(carrier)`, a configured project helper) or
returned (`capture_trace_context_for_queue()`). Assignments, attribute roots (`envelope.metadata` ->
`envelope`), values stored into a name's attributes or items (`payload["trace_context"] = carrier`),
dict/list literals, model constructors with keyword fields and `json.dumps(...)`/`.json()`
of them are followed, because the check looks at every name inside the expression.
"""

from __future__ import annotations

import libcst as cst

from proplint.core.context import FileContext
from proplint.core.injectors import GLOBAL_TEXTMAP, project_injector_helpers
from proplint.core.resolve import dotted
from proplint.core.walk import visit

_MAX_DEPTH = 8


class _FillCollector(cst.CSTVisitor):
    """Dotted names passed to injectors in one scope (nested functions excluded), and the values stored
    into attributes or items of a name (`payload["trace_context"] = carrier`, `props.UserProperty = ...`)."""

    def __init__(self, flow: "CarrierFlow") -> None:
        self.flow = flow
        self.filled: set[str] = set()
        self.stores: dict[str, list[cst.BaseExpression]] = {}
        self._depth = 0

    def visit_Assign(self, node: cst.Assign) -> None:
        for t in node.targets:
            target = t.target
            if isinstance(target, (cst.Attribute, cst.Subscript)):
                while isinstance(target, (cst.Attribute, cst.Subscript)):
                    target = target.value
                if isinstance(target, cst.Name):
                    self.stores.setdefault(target.value, []).append(node.value)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self._depth += 1
        return self._depth == 1

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._depth -= 1

    def visit_Call(self, node: cst.Call) -> None:
        arg = self.flow.filled_argument(node)
        if arg is not None:
            name = dotted(arg)
            if name is not None:
                parts = name.split(".")
                for i in range(1, len(parts) + 1):
                    self.filled.add(".".join(parts[:i]))


class CarrierFlow:
    def __init__(self, ctx: FileContext) -> None:
        self.ctx = ctx
        catalog = ctx.catalog
        self.fillers = {e.name: e.arg for e in catalog.get("injector") if e.style == "fills"}
        self.returners = {e.name for e in catalog.get("injector") if e.style == "returns"}
        # Project helpers from config: style unknown, so either form counts.
        for name in ctx.config.injectors:
            self.fillers.setdefault(name, 0)
            self.returners.add(name)
        # the project's own helpers, found in its code (`collect_injector_helpers`)
        for name, style, arg in project_injector_helpers(ctx.index):
            if style == "returns":
                self.returners.add(name)
            else:
                self.fillers.setdefault(name, arg)
        self.propagators = catalog.names("propagator_class")
        self._filled_cache: dict[int, set[str]] = {}
        self._stores_cache: dict[int, dict[str, list[cst.BaseExpression]]] = {}

    # -- what an injector call looks like ------------------------------------------------------------
    def _is_propagator_inject(self, call: cst.Call) -> bool:
        func = call.func
        if not (isinstance(func, cst.Attribute) and func.attr.value == "inject"):
            return False
        receiver = func.value
        if isinstance(receiver, cst.Call):
            q = self.ctx.qualified_name(receiver.func)
            return q in self.propagators or q == GLOBAL_TEXTMAP
        return self.ctx.resolver.receiver_type(receiver) in self.propagators

    def filled_argument(self, call: cst.Call) -> cst.BaseExpression | None:
        """The carrier argument an injector call fills, if `call` is one."""
        q = self.ctx.qualified_name(call.func)
        index = self.fillers.get(q) if q is not None else None
        if index is None and self._is_propagator_inject(call):
            index = 0
        if index is None:
            return None
        for kw in call.args:
            if kw.keyword is not None and kw.keyword.value == "carrier":
                return kw.value
        positional = [a for a in call.args if a.keyword is None and not a.star]
        return positional[index].value if index < len(positional) else None

    def returns_carrier(self, call: cst.Call) -> bool:
        q = self.ctx.qualified_name(call.func)
        return q is not None and q in self.returners

    # -- the question rules ask -----------------------------------------------------------------------
    def _scope_node(self) -> cst.CSTNode:
        scope = self.ctx.resolver.function_scope() or self.ctx.resolver.module_scope
        return scope.node

    def _filled(self) -> set[str]:
        node = self._scope_node()
        key = id(node)
        if key not in self._filled_cache:
            collector = _FillCollector(self)
            if isinstance(node, cst.Module):
                collector._depth = 1
            visit(node, collector)
            self._filled_cache[key] = collector.filled
            self._stores_cache[key] = collector.stores
        return self._filled_cache[key]

    def enriched(self, expr: cst.BaseExpression, _depth: int = 0, _seen: set[str] | None = None) -> bool:
        """Whether `expr` carries an injected context (see module docstring)."""
        if _depth > _MAX_DEPTH:
            return False
        seen = _seen if _seen is not None else set()
        filled = self._filled()
        finder = _Names()
        visit(expr, finder)
        for call in finder.calls:
            if self.returns_carrier(call) or self.filled_argument(call) is not None:
                return True
        for name in finder.names:
            if name in filled or name.split(".", 1)[0] in filled:
                return True
        for name in finder.names:
            root = name.split(".", 1)[0]
            if root in seen:
                continue
            seen.add(root)
            for value in self._assigned_values(root):
                if self.enriched(value, _depth + 1, seen):
                    return True
        return False

    def _assigned_values(self, name: str) -> list[cst.BaseExpression]:
        scope = self.ctx.resolver.function_scope() or self.ctx.resolver.module_scope
        self._filled()
        stores = self._stores_cache.get(id(self._scope_node()), {}).get(name, [])
        return [v for kind, v in scope.collected().evidence.get(name, ()) if kind in ("value", "with")] + stores


class _Names(cst.CSTVisitor):
    def __init__(self) -> None:
        self.names: list[str] = []
        self.calls: list[cst.Call] = []

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        name = dotted(node)
        if name is not None:
            self.names.append(name)
            return False
        return True

    def visit_Name(self, node: cst.Name) -> None:
        self.names.append(node.value)

    def visit_Call(self, node: cst.Call) -> None:
        self.calls.append(node)

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False
