"""The messaging family's rules about contexts rather than messages: PRP303 (an extracted or captured
context that is never applied, spans only linked to one) and PRP305 (`from confluent_kafka import Producer`
before the instrumentor swaps the class). A mixin of the messaging visitor (`messaging_check.py`).
"""

from __future__ import annotations

import libcst as cst

from proplint.families.messaging.messaging_catalog import project_facts
from proplint.families.messaging.messaging_fixes import has_splat, keyword_arg
from proplint.core.resolve import dotted
from proplint.core.walk import visit


class ContextRules:
    """visit_/helper methods for PRP303 and PRP305; needs `ctx`, `rule`, `flow`, `extracts`, `early`."""

    # -- PRP303 ---------------------------------------------------------------------------------------
    def _function_node(self):
        scope = self.ctx.resolver.function_scope()
        return scope.node if scope is not None and scope.kind == "function" else None

    def _prp303_call(self, node: cst.Call) -> None:
        parent = self.ctx.parent()
        if self.extracts.is_extract(node):
            q = self.ctx.qualified_name(node.func)
            if isinstance(parent, cst.Expr) and q not in self.ctx.config.extractors:
                self.report(self.rule["PRP303"], node, "the context returned by extract() is discarded: pass it as "
                            "context= to the processing span, or attach it")
                return
            name = self._single_target(parent)
            fn = self._function_node()
            if name is not None and fn is not None:
                applied, links = self.extracts.uses(name, fn)
                if applied == 0 and links == 0:
                    self.report(self.rule["PRP303"], node, f"the extracted context {name} is never applied: pass it "
                                f"as context= to the processing span, or attach it")
            return
        fn = self._function_node()
        if fn is None:
            return
        filled = self.flow.filled_argument(node)
        if isinstance(filled, cst.Name) and isinstance(parent, cst.Expr):
            binding = self._single_target_binding(filled.value)
            if binding and self.extracts.uses(filled.value, fn, skip=node)[0] == 0:
                self.report(self.rule["PRP303"], node, f"{filled.value} is filled with the trace context but never "
                            f"sent: pass it with the message (headers, properties or payload)")
            return
        if filled is None and self.flow.returns_carrier(node):
            name = self._single_target(parent)
            if name is not None and self.extracts.uses(name, fn)[0] == 0:
                self.report(self.rule["PRP303"], node, f"the captured trace context {name} is never sent: pass it "
                            f"with the message (headers, properties or payload)")

    def _single_target(self, parent) -> str | None:
        if isinstance(parent, cst.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0].target, cst.Name):
            return parent.targets[0].target.value
        if isinstance(parent, cst.AnnAssign) and isinstance(parent.target, cst.Name):
            return parent.target.value
        return None

    def _single_target_binding(self, name: str) -> bool:
        scope = self.ctx.resolver.function_scope()
        if scope is None:
            return False
        ev = scope.collected().evidence.get(name, ())
        params = {p.name.value for p in getattr(scope.node, "params", cst.Parameters()).params}
        return any(k == "value" for k, _ in ev) and name not in params and all(k != "with" for k, _ in ev)

    def _extracted(self) -> dict[str, bool]:
        fn = self._function_node()
        key = id(fn)
        if key not in self._extracted_names:
            names: dict[str, bool] = {}
            if fn is not None:
                evidence = self.ctx.resolver.function_scope().collected().evidence  # type: ignore[union-attr]
                changed = True
                while changed:  # names bound to extracted values, through chains (`link = Link(...ctx...)`)
                    changed = False
                    for name, ev in evidence.items():
                        if not names.get(name) and any(k == "value" and self.extracts.extracted(v, names)
                                                       for k, v in ev):
                            names[name] = changed = True
            self._extracted_names[key] = names
        return self._extracted_names[key]

    def _links_without_context(self, node: cst.Call) -> None:
        links = keyword_arg(node, "links")
        if links is None or keyword_arg(node, "context") is not None or has_splat(node):
            return
        if self.extracts.extracted(links[1].value, self._extracted()):
            self.report(self.rule["PRP303"], node, "a span linked to an extracted context but given no context=: "
                        "it starts a new trace; pass context=<the extracted context> as well")

    # -- PRP305 ---------------------------------------------------------------------------------------
    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if "PRP305" not in self.ctx.enabled or node.relative or node.module is None \
                or isinstance(node.names, cst.ImportStar):
            return
        line = self.ctx.parent()
        if not isinstance(line, cst.SimpleStatementLine) or not isinstance(self.ctx.parent(2), cst.Module):
            return
        module = dotted(node.module)
        for entry in self.early:
            if entry.module != module:
                continue
            names = [a.name.value for a in node.names if isinstance(a.name, cst.Name) and a.name.value in entry.names]
            if not names or not self.ctx.index.instrumented(entry.library) or self._imported_after(entry, line):
                continue
            self.report(self.rule["PRP305"], node,
                        f"from {module} import {', '.join(names)} binds the class before the {entry.library} "
                        f"instrumentor swaps it: objects built from this name are not traced; use "
                        f"{module}.{names[0]}(...) at call time")

    def _imported_after(self, entry, line: cst.SimpleStatementLine) -> bool:
        facts = project_facts(self.ctx.index)
        me = self.ctx.module_name
        for site in facts["sites"]:
            if site["library"] != entry.library:
                continue
            if me and site["module"] != me and any(m == me or m.startswith(me + ".") for m in site["after"]):
                return True
        # the same module instruments earlier, at module level
        for stmt in self.ctx.module.body:
            if stmt is line:
                return False
            if _calls_instrument(stmt):
                return True
        return False


def _calls_instrument(stmt: cst.CSTNode) -> bool:
    finder = _InstrumentCall()
    visit(stmt, finder)
    return finder.found


class _InstrumentCall(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found = False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Attribute) and node.func.attr.value == "instrument":
            self.found = True
