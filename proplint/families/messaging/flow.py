"""Consumer-side value flow: is a carried context restored around the processing, and is an extracted
(or captured) context ever applied?

Restored means the processing region (a loop body, the rest of the block after the receive, or a
callback's body) calls an extractor whose result is applied: `start_as_current_span(..., context=ctx)`,
`context.attach(ctx)`, one of the project's `extractors` (seed 000's
`restore_trace_context_for_queue_processing(...)` used as a context manager), or a function of this
module (or a method of this class) that does. A region that extracts at all is left to PRP303, which
reports an extracted context that is discarded, never applied, or used only for `links=`.
"""

from __future__ import annotations

from typing import Iterable

import libcst as cst

from proplint.core.context import FileContext
from proplint.core.flow import GLOBAL_TEXTMAP
from proplint.core.resolve import is_name, self_attribute
from proplint.core.walk import visit

ATTACH = "opentelemetry.context.attach"
SPAN_METHODS = ("start_as_current_span", "start_span")
_MAX_DEPTH = 2


class ExtractFlow:
    def __init__(self, ctx: FileContext) -> None:
        self.ctx = ctx
        catalog = ctx.catalog
        self.extractors = {e.name for e in catalog.get("extractor")} | set(ctx.config.extractors)
        self.restorers = {e.name for e in catalog.get("extractor") if e.style == "restores"} | set(ctx.config.extractors)
        self.propagators = catalog.names("propagator_class")
        #: configured extractors the index knows hand the context back (return it, or yield it as a context
        #: manager) without attaching it: called as a bare statement, they restore nothing
        known = ctx.index.derived("messaging.returning_extractors", lambda ix: frozenset(
            q for _, f in ix.facts("messaging.restoring") for q in f.get("returning_extractors", ())))
        self.returning = {c for c in ctx.config.extractors if c in known or any(k.endswith("." + c) for k in known)}
        self._extracted_names: dict[int, dict[str, bool]] = {}

    def is_extract(self, call: cst.Call) -> bool:
        q = self.ctx.qualified_name(call.func)
        if q is not None and q in self.extractors:
            return True
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value == "extract":
            receiver = func.value
            if isinstance(receiver, cst.Call):
                rq = self.ctx.qualified_name(receiver.func)
                return rq in self.propagators or rq == GLOBAL_TEXTMAP
            return self.ctx.resolver.receiver_type(receiver) in self.propagators
        return False

    # -- restoration ----------------------------------------------------------------------------------
    def restores(self, nodes: Iterable[cst.CSTNode], depth: int = 0) -> bool:
        finder = _RestoreFinder(self)
        for node in nodes:
            visit(node, finder)
            if finder.found:
                return True
        if depth >= _MAX_DEPTH:
            return False
        for callee in finder.callees:
            fn = self._function(callee)
            if fn is not None and self.restores([fn.body], depth + 1):
                return True
        return False

    def _function(self, func: cst.BaseExpression) -> cst.FunctionDef | None:
        """A function of this module (`handle(...)`) or a method of the enclosing class (`self.handle(...)`)."""
        if isinstance(func, cst.Name):
            for stmt in self.ctx.module.body:
                if isinstance(stmt, cst.FunctionDef) and stmt.name.value == func.value:
                    return stmt
            enclosing = self.ctx.enclosing(cst.FunctionDef)
            if enclosing is not None and isinstance(enclosing.body, cst.IndentedBlock):
                for stmt in enclosing.body.body:
                    if isinstance(stmt, cst.FunctionDef) and stmt.name.value == func.value:
                        return stmt
            return None
        attr = self_attribute(func)
        if attr is not None:
            cls = self.ctx.enclosing(cst.ClassDef)
            if cls is not None and isinstance(cls.body, cst.IndentedBlock):
                for stmt in cls.body.body:
                    if isinstance(stmt, cst.FunctionDef) and stmt.name.value == attr:
                        return stmt
        return None

    def callback(self, expr: cst.BaseExpression) -> cst.FunctionDef | None:
        """The local definition a callback argument names, if this module has it."""
        return self._function(expr)

    # -- PRP303 ---------------------------------------------------------------------------------------
    def uses(self, name: str, scope: cst.CSTNode, skip: cst.CSTNode | None = None) -> tuple[int, int]:
        """(applying uses, uses inside `links=`) of `name` in `scope`, not counting inside `skip`."""
        finder = _Loads(name, skip)
        visit(scope, finder)
        return finder.applied, finder.in_links

    def extracted(self, expr: cst.BaseExpression, names: dict[str, bool]) -> bool:
        """`expr` is or contains an extract call, or a name bound to one (`names`)."""
        finder = _ExtractIn(self, names)
        visit(expr, finder)
        return finder.found


    # -- the visited function (PRP303) -------------------------------------------------------------------
    def function_node(self) -> cst.FunctionDef | None:
        """The function (not class or lambda) the visited node is in."""
        scope = self.ctx.resolver.function_scope()
        return scope.node if scope is not None and scope.kind == "function" else None

    def single_binding(self, name: str) -> bool:
        """`name` is bound to a value in the current function, and is neither a parameter nor a `with` target."""
        scope = self.ctx.resolver.function_scope()
        if scope is None:
            return False
        ev = scope.collected().evidence.get(name, ())
        params = {p.name.value for p in getattr(scope.node, "params", cst.Parameters()).params}
        return any(k == "value" for k, _ in ev) and name not in params and all(k != "with" for k, _ in ev)

    def extracted_names(self) -> dict[str, bool]:
        """Names of the current function bound to extracted contexts (cached per function)."""
        fn = self.function_node()
        key = id(fn)
        if key not in self._extracted_names:
            names: dict[str, bool] = {}
            if fn is not None:
                evidence = self.ctx.resolver.function_scope().collected().evidence  # type: ignore[union-attr]
                changed = True
                while changed:  # names bound to extracted values, through chains (`link = Link(...ctx...)`)
                    changed = False
                    for name, ev in evidence.items():
                        if not names.get(name) and any(k == "value" and self.extracted(v, names)
                                                       for k, v in ev):
                            names[name] = changed = True
            self._extracted_names[key] = names
        return self._extracted_names[key]


class _RestoreFinder(cst.CSTVisitor):
    def __init__(self, flow: ExtractFlow) -> None:
        self.flow = flow
        self.found = False
        self.callees: list[cst.BaseExpression] = []

    def visit_Call(self, node: cst.Call) -> None:
        ctx = self.flow.ctx
        if self.flow.is_extract(node):
            self.found = True
            return
        q = ctx.qualified_name(node.func)
        if q is not None and (q in self.flow.restorers or q == ATTACH):
            self.found = True
            return
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in SPAN_METHODS:
            for arg in node.args:
                if arg.keyword is not None and arg.keyword.value == "context" and not is_name(arg.value, "None"):
                    self.found = True
                    return
        if isinstance(func, cst.Name) or self_attribute(func) is not None:
            self.callees.append(func)

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False


class _ExtractIn(cst.CSTVisitor):
    def __init__(self, flow: ExtractFlow, names: dict[str, bool]) -> None:
        self.flow = flow
        self.names = names
        self.found = False

    def visit_Call(self, node: cst.Call) -> None:
        if self.flow.is_extract(node):
            self.found = True

    def visit_Name(self, node: cst.Name) -> None:
        if self.names.get(node.value):
            self.found = True

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        visit(node.value, self)
        return False


class _Loads(cst.CSTVisitor):
    """Reads of one name; those inside a `links=` argument are counted apart."""

    def __init__(self, name: str, skip: cst.CSTNode | None) -> None:
        self.name = name
        self.skip = skip
        self.applied = 0
        self.in_links = 0
        self._links = 0

    def on_visit(self, node: cst.CSTNode) -> bool:
        if node is self.skip:
            return False
        return super().on_visit(node)

    def visit_Arg(self, node: cst.Arg) -> bool:
        links = node.keyword is not None and node.keyword.value == "links"
        self._links += links
        visit(node.value, self)
        self._links -= links
        return False

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        visit(node.value, self)
        return False

    def visit_AssignTarget(self, node: cst.AssignTarget) -> bool:
        return not isinstance(node.target, cst.Name)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> bool:
        if not isinstance(node.target, cst.Name):
            visit(node.target, self)
        if node.value is not None:
            visit(node.value, self)
        return False

    def visit_Param(self, node: cst.Param) -> bool:
        return False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        visit(node.body, self)
        return False

    def visit_Name(self, node: cst.Name) -> None:
        if node.value == self.name:
            if self._links:
                self.in_links += 1
            else:
                self.applied += 1
