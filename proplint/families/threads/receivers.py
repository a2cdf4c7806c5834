"""What a call names, for the thread check: the qualified callee, a receiver's inferred type, and the
project's own Thread/executor subclasses.

`candidates` are the last names worth resolving at all; `callee` gives the qualified name of what is called
(imported, a class of this module, or `<type>.<method>` for a method whose receiver type the resolver
infers); `executor_of` says which catalog executor a receiver type is (directly or through a project
subclass) and whether that subclass's `submit` already copies the context; `project_class` reads a project
class's facts from the index (`facts.class_info`), once per file.
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from proplint.core.context import FileContext
from proplint.core.cst import last_part
from proplint.families.threads.facts import ClassInfo, class_info, own_thread_classes


class Receivers:
    def __init__(self, ctx: FileContext, executors: dict[str, Any], thread_bases: set[str], methods: set[str],
                 called: list[str]) -> None:
        self.ctx = ctx
        self.executors = executors
        self.thread_bases = thread_bases
        #: method names worth inferring a receiver type for (inference scans the class: not for every call)
        self.methods = methods
        self._classes: dict[str, ClassInfo | None] = {}
        #: last name components worth resolving: `called` (catalog callables), their local aliases, the
        #: methods, and the project's own Thread/executor classes
        own = own_thread_classes(ctx.index, ctx.catalog)
        self.candidates = {last_part(n) for n in called} | methods | own
        self.candidates |= {local for local, q in ctx.resolver.module_scope.imports().items()
                            if q in called or last_part(q) in own}

    def project_class(self, qualname: str | None) -> ClassInfo | None:
        """What the project index knows about a project class deriving from a thread or executor class."""
        if not qualname:
            return None
        if qualname not in self._classes:
            self._classes[qualname] = class_info(self.ctx.index, qualname, self.thread_bases | set(self.executors))
        return self._classes[qualname]

    def local(self, name: str) -> str | None:
        """The qualified name of `name` defined at the top of this module."""
        module = self.ctx.module_name
        return f"{module}.{name}" if module else None

    def type_of(self, expr: cst.BaseExpression) -> str | None:
        t = self.ctx.resolver.receiver_type(expr)
        if t is not None and t.startswith("<local>."):
            return self.local(t[len("<local>."):])
        return t

    def callee(self, func: cst.BaseExpression) -> str | None:
        """The qualified name of what is called: imported, a class of this module, or `<type>.<method>`."""
        q = self.ctx.qualified_name(func)
        if q is not None:
            return q
        if isinstance(func, cst.Name) and self.ctx.resolver.module_defines(func.value):
            return self.local(func.value)
        if isinstance(func, cst.Attribute) and func.attr.value in self.methods:
            owner = self.type_of(func.value)
            if owner is not None:
                return f"{owner}.{func.attr.value}"
        return None

    def executor_of(self, qualname: str | None) -> tuple[Any, bool] | None:
        """(catalog executor, its submit copies the context) for a receiver type."""
        if qualname is None:
            return None
        if qualname in self.executors:
            return self.executors[qualname], False
        info = self.project_class(qualname)
        if info is not None and info.base in self.executors:
            return self.executors[info.base], info.submit_copies
        return None
