"""PRP402 and PRP403: ContextVars created where they run again and again, thread-locals on an event loop.

A mixin of `hygiene_check.HygieneBase` (it uses that class's helpers: `enclosing_function`,
`decorator_names`, `qual`, `local`, `local_classes`, `thread_locals`).
"""

from __future__ import annotations

import re
from typing import Any

import libcst as cst

from proplint.families.hygiene.hygiene_support import fresh_name, is_literal, names_in
from proplint.core.resolve import dotted
from proplint.core.rule import UNSAFE, Fix, ImportRequest
from proplint.core.walk import visit

_CACHES = ("functools.lru_cache", "functools.cache")


def label(node: cst.CSTNode, limit: int = 50) -> str:
    text = " ".join(cst.Module(body=[]).code_for_node(node).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


class VarRules:
    """PRP402, PRP403 (see the module docstring)."""

    ctx: Any
    RULES: dict[str, Any]

    # -- PRP402: ContextVar created where it runs repeatedly ----------------------------------------------
    def _contextvar_created(self, node: cst.Call) -> None:
        if not self.enabled(self.RULES["PRP402"]) or self.ctx.resolver.function_scope() is None:
            return
        fn = self.enclosing_function()
        if fn is not None and self._outside_body(fn):
            return  # a default value or decorator argument of a top-level def or method: evaluated once
        if fn is not None and any(n in _CACHES for n in self.decorator_names(fn)):
            return
        parent = self.ctx.parent()
        if isinstance(parent, cst.Arg):  # CACHE.setdefault(key, ContextVar(...))
            call = self.ctx.parent(2)
            if isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) \
                    and call.func.attr.value == "setdefault" and self._module_level(call.func.value):
                return
        if isinstance(parent, (cst.Assign, cst.AnnAssign)):
            targets = [t.target for t in parent.targets] if isinstance(parent, cst.Assign) else [parent.target]
            for t in targets:
                if isinstance(t, cst.Subscript) and self._module_level(t.value):
                    return  # cached once per key in a module-level mapping
                if isinstance(t, cst.Name) and fn is not None and self._declared_global(fn, t.value):
                    return  # lazily created once, into a module global
        if fn is not None and fn.name.value == "__init__" and not self._instantiated_repeatedly():
            return
        where = f"`{fn.name.value}()`" if fn is not None else "a lambda"
        self.report(self.RULES["PRP402"], node,
                    f"ContextVar created inside {where}: every call makes a new variable (a value set through one "
                    f"is invisible through the next) and each Context keeps them alive; create it once at module "
                    f"level", self._hoist_fix(node))

    def _outside_body(self, fn: cst.FunctionDef) -> bool:
        """Whether the node being visited is in the signature or decorators of `fn`, a def that is not
        itself inside a function (so they are evaluated once, at import)."""
        i = next(k for k, a in enumerate(self.ctx.ancestors) if a is fn)
        if any(isinstance(a, (cst.FunctionDef, cst.Lambda)) for a in self.ctx.ancestors[:i]):
            return False  # evaluated each time the enclosing function runs
        return i + 1 < len(self.ctx.ancestors) and self.ctx.ancestors[i + 1] is not fn.body

    def _module_level(self, expr: cst.BaseExpression) -> bool:
        if not isinstance(expr, cst.Name):
            return False
        scope = self.ctx.resolver.function_scope()
        if scope is not None and scope.binds(expr.value):
            return False
        return self.ctx.resolver.module_defines(expr.value)

    @staticmethod
    def _declared_global(fn: cst.FunctionDef, name: str) -> bool:
        for stmt in fn.body.body if isinstance(fn.body, cst.IndentedBlock) else ():
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, cst.Global) and any(n.name.value == name for n in small.names):
                        return True
        return False

    def _instantiated_repeatedly(self) -> bool:
        """For `__init__`: whether this module creates instances of the class inside a function. A class
        instantiated once at module level (a singleton), or whose instances are made elsewhere, is not
        known to run `__init__` again and again."""
        cls = self.ctx.enclosing(cst.ClassDef)
        if cls is None:
            return True
        name = cls.name.value
        found = []

        class _Calls(cst.CSTVisitor):
            def __init__(self) -> None:
                self.depth = 0

            def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
                self.depth += 1

            def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
                self.depth -= 1

            def visit_Call(self, node: cst.Call) -> None:
                if self.depth and isinstance(node.func, cst.Name) and node.func.value == name:
                    found.append(node)

        visit(self.ctx.module, _Calls())
        return bool(found)

    def _hoist_fix(self, node: cst.Call) -> Fix | None:
        args = node.args
        if not args or any(a.star or not is_literal(a.value) or (a.keyword and a.keyword.value != "default")
                           for a in args):
            return None
        first = args[0].value
        if not isinstance(first, cst.SimpleString) or args[0].keyword is not None:
            return None
        top = self.ctx.ancestors[1] if len(self.ctx.ancestors) > 1 else None
        if not isinstance(top, cst.BaseCompoundStatement):
            return None
        raw = str(first.evaluated_value)
        base = "_" + (re.sub(r"\W+", "_", raw).strip("_").lower() or "context") + "_var"
        if not base[1].isalpha():
            base = "_var" + base
        name = fresh_name(base, names_in(self.ctx.module))
        imports = []
        func = node.func
        root = dotted(func.value if isinstance(func, cst.Subscript) else func)
        if root is None or root.split(".")[0] not in self.ctx.resolver.module_scope.imports():
            func = cst.parse_expression("contextvars.ContextVar")
            imports.append(ImportRequest("contextvars"))
        code = cst.Module(body=[]).code_for_node(node.with_changes(func=func))
        assign = cst.parse_statement(f"{name} = {code}\n", config=self.ctx.module.config_for_parsing)
        lead = list(top.leading_lines)
        split = next((i for i, ln in enumerate(lead) if ln.comment is not None), len(lead))
        assign = assign.with_changes(leading_lines=lead[:split])
        new_top = top.deep_replace(node, cst.Name(name)).with_changes(
            leading_lines=[cst.EmptyLine(), cst.EmptyLine(), *lead[split:]])
        return Fix(UNSAFE, f"Create the ContextVar once at module level as `{name}`",
                   replacements=[(top, cst.FlattenSentinel([assign, new_top]))], imports=imports)

    # -- PRP403: a thread-local where tasks share one thread --------------------------------------------------
    def _thread_local_subclass(self, func: cst.BaseExpression, q: str | None) -> bool:
        if q is None and isinstance(func, cst.Name) and func.value in self.local_classes:
            cls = self.local_classes[func.value]
            if any(self.qual(b.value) in self.thread_locals for b in cls.bases):
                return True
            mod = self.ctx.module_name
            q = f"{mod}.{func.value}" if mod else None
        return q is not None and q not in self.thread_locals and self.ctx.index.is_subclass(q, self.thread_locals)

    def _thread_local(self, node: cst.Call) -> None:
        if not self.enabled(self.RULES["PRP403"]):
            return
        fn = self.enclosing_function()
        in_async = fn is not None and fn.asynchronous is not None
        if not (in_async or self.local()["loop"]):
            return
        where = "an `async def`" if in_async else "a module that runs on an event loop"
        self.report(self.RULES["PRP403"], node,
                    f"`{label(node.func)}()` in {where}: every task on the loop thread shares one thread-local, so "
                    f"concurrent requests overwrite each other's values; use a module-level contextvars.ContextVar")

    def visit_Attribute(self, node: cst.Attribute) -> None:
        """A thread-local defined in a module without async code, used in an `async def` here."""
        if not isinstance(node.value, cst.Name) or node.value.value not in self.foreign_words \
                or not self.enabled(self.RULES["PRP403"]):
            return
        fn = self.enclosing_function()
        if fn is None or fn.asynchronous is None:
            return
        q = self.ctx.qualified_name(node.value)
        if q is None or q not in self._foreign_thread_locals():
            return
        key = (id(fn), q)
        if key in self._reported_uses:
            return
        self._reported_uses.add(key)
        self.report(self.RULES["PRP403"], node,
                    f"thread-local `{q}` used in `async def {fn.name.value}`: every task on the loop thread shares "
                    f"it, so concurrent requests overwrite each other's values; use a module-level ContextVar")

    def _foreign_thread_locals(self) -> frozenset[str]:
        return self.ctx.index.derived("hygiene.foreign_locals", lambda ix: frozenset(
            q for _, f in ix.facts("hygiene.thread_locals") if not f.get("loop") for q in f["names"]))
