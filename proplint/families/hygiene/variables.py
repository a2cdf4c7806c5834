"""ContextVars created where they run again and again (PRP402), thread-locals on an event loop (PRP403).

`Variables` is held by the running `check.HygieneCheck` and uses its name helpers (`enclosing_function`,
`decorator_names`, `qual`, `local()`, `local_classes`, `thread_locals`, `foreign_words`).
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from proplint.core.cst import AttributeStores, short
from proplint.core.walk import visit
from proplint.families.hygiene.facts import foreign_thread_locals
from proplint.families.hygiene.rules.prp402_contextvar_not_module_level import ContextVarNotModuleLevel
from proplint.families.hygiene.rules.prp403_threading_local_in_async import ThreadingLocalInAsync

_CACHES = ("functools.lru_cache", "functools.cache")


class Variables:
    """PRP402, PRP403 (see the module docstring)."""

    def __init__(self, check: Any) -> None:
        self.check = check
        self.ctx = check.ctx
        self._reported_uses: set[tuple[int, str]] = set()

    # -- PRP402: ContextVar created where it runs repeatedly ----------------------------------------------
    def contextvar_created(self, node: cst.Call) -> None:
        if not self.check.enabled(ContextVarNotModuleLevel) or self.ctx.resolver.function_scope() is None:
            return
        fn = self.check.enclosing_function()
        if fn is not None and self._outside_body(fn):
            return  # a default value or decorator argument of a top-level def or method: evaluated once
        if fn is not None and any(n in _CACHES for n in self.check.decorator_names(fn)):
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
        rule = ContextVarNotModuleLevel
        self.check.report(rule, node, rule.message(fn.name.value if fn is not None else None),
                          rule.build_fix(self.ctx, node))

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

    def _instantiated_repeatedly(self, name: str | None = None, seen: frozenset[str] = frozenset()) -> bool:
        """For `__init__`: whether this module creates instances of the class inside a function. A class
        instantiated once at module level (a singleton), or whose instances are made elsewhere, is not
        known to run `__init__` again and again. An instance made in another class's `__init__` and kept
        by it (`self.Session = _SessionFactory(self, ...)`) lives as long as its owner: the owner is judged."""
        if name is None:
            cls = self.ctx.enclosing(cst.ClassDef)
            if cls is None:
                return True
            name = cls.name.value
        owners: list[str] = []
        found = []

        class _Calls(cst.CSTVisitor):
            def __init__(self) -> None:
                self.functions: list[tuple[str, str | None]] = []  # (function, the class it is a method of)
                self.classes: list[tuple[str, int]] = []  # (class, how many functions enclose it)

            def visit_ClassDef(self, node: cst.ClassDef) -> None:
                self.classes.append((node.name.value, len(self.functions)))

            def leave_ClassDef(self, node: cst.ClassDef) -> None:
                self.classes.pop()

            def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
                method_of = self.classes[-1][0] if self.classes and self.classes[-1][1] == len(self.functions) \
                    else None
                self.functions.append((node.name.value, method_of))

            def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
                self.functions.pop()

            def visit_Call(self, node: cst.Call) -> None:
                if not self.functions or not (isinstance(node.func, cst.Name) and node.func.value == name):
                    return
                fn, owner = self.functions[-1]
                if fn == "__init__" and owner and owner != name and not any(c[1] for c in self.classes):
                    owners.append(owner)
                else:
                    found.append(node)

        visit(self.ctx.module, _Calls())
        return bool(found) or any(self._instantiated_repeatedly(owner, seen | {name})
                                  for owner in owners if owner not in seen)

    # -- PRP403: a thread-local where tasks share one thread --------------------------------------------------
    def thread_local_subclass(self, func: cst.BaseExpression, q: str | None) -> bool:
        if q is None and isinstance(func, cst.Name) and func.value in self.check.local_classes:
            cls = self.check.local_classes[func.value]
            if any(self.check.qual(b.value) in self.check.thread_locals for b in cls.bases):
                return True
            mod = self.ctx.module_name
            q = f"{mod}.{func.value}" if mod else None
        locals_ = self.check.thread_locals
        return q is not None and q not in locals_ and self.ctx.index.is_subclass(q, locals_)

    def thread_local(self, node: cst.Call) -> None:
        if not self.check.enabled(ThreadingLocalInAsync):
            return
        fn = self.check.enclosing_function()
        in_async = fn is not None and fn.asynchronous is not None
        if not (in_async or self.check.local()["loop"]):
            return
        parent = self.ctx.parent()
        if fn is None and isinstance(parent, cst.Assign) and len(parent.targets) == 1 \
                and isinstance(parent.targets[0].target, cst.Name) \
                and _caches_built_objects(self.ctx.module, parent.targets[0].target.value):
            return  # a per-thread resource cache (`_local.loop = asyncio.new_event_loop()`), not request state
        self.check.report(ThreadingLocalInAsync, node, ThreadingLocalInAsync.message(short(node.func, 50), in_async))

    def attribute(self, node: cst.Attribute) -> None:
        """A thread-local defined in a module without async code, used in an `async def` here."""
        if not isinstance(node.value, cst.Name) or node.value.value not in self.check.foreign_words \
                or not self.check.enabled(ThreadingLocalInAsync):
            return
        fn = self.check.enclosing_function()
        if fn is None or fn.asynchronous is None:
            return
        q = self.ctx.qualified_name(node.value)
        if q is None or q not in foreign_thread_locals(self.ctx.index):
            return
        key = (id(fn), q)
        if key in self._reported_uses:
            return
        self._reported_uses.add(key)
        self.check.report(ThreadingLocalInAsync, node, ThreadingLocalInAsync.use_message(q, fn.name.value))


def _caches_built_objects(module: cst.Module, name: str) -> bool:
    """Every value the module stores on thread-local `name` is an object it builds by a call (an event loop, a
    client, a connection per thread), or `None` to reset it: a per-thread resource cache. A value taken from a request (a name, an
    attribute: `_local.user = request.user`) makes it request state."""
    stores = AttributeStores(name)
    visit(module, stores)
    built = [v for v in stores.values if not (isinstance(v, cst.Name) and v.value == "None")]  # a reset
    return bool(built) and not stores.opaque and all(isinstance(v, cst.Call) for v in built)
