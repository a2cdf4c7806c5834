"""Following a client or a URL through the module's own functions (`peers.py`): who is handed a client
(`_fetch(client)`), where a function is defined, and every call of a function in its module."""

from __future__ import annotations

import libcst as cst

from proplint.core.walk import visit


class CallsOf(cst.CSTVisitor):
    """The calls of function `name` in a module: `name(...)`, and `self.name(...)`/`cls.name(...)` for a
    method. A call with `*args`/`**kwargs` cannot be read: `calls` is then emptied for good."""

    def __init__(self, name: str, method: bool) -> None:
        self.name, self.method = name, method
        self.calls: list[cst.Call] = []
        self.unreadable = False

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        hit = (not self.method and isinstance(func, cst.Name) and func.value == self.name) or (
            self.method and isinstance(func, cst.Attribute) and func.attr.value == self.name
            and isinstance(func.value, cst.Name) and func.value.value in ("self", "cls"))
        if hit:
            if self.unreadable or any(a.star for a in node.args):
                self.unreadable, self.calls = True, []
            else:
                self.calls.append(node)


class HandOffs(cst.CSTVisitor):
    """The calls that hand `name` to a function called by a bare name (`_fetch(client)`, `f(x, client=c)`):
    (call, function name, position, keyword). `unknown`: it is also handed to something else (a method, a
    star argument)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.calls: list[tuple[cst.Call, str, int, str | None]] = []
        self.unknown = False

    def visit_Call(self, node: cst.Call) -> None:
        position = 0
        for arg in node.args:
            if isinstance(arg.value, cst.Name) and arg.value.value == self.name:
                if arg.star or not isinstance(node.func, cst.Name):
                    self.unknown = True
                else:
                    self.calls.append((node, node.func.value, position, arg.keyword.value if arg.keyword else None))
            if arg.keyword is None and not arg.star:
                position += 1


def local_def(scope: cst.FunctionDef, module: cst.Module, name: str) -> cst.FunctionDef | None:
    """The function `name` defined inside `scope` (a nested def) or at the module's top level."""
    finder = _DefNamed(name)
    visit(scope.body, finder)
    if finder.found is not None:
        return finder.found
    return next((s for s in module.body if isinstance(s, cst.FunctionDef) and s.name.value == name), None)


class _DefNamed(cst.CSTVisitor):
    def __init__(self, name: str) -> None:
        self.name = name
        self.found: cst.FunctionDef | None = None

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        if node.name.value == self.name and self.found is None:
            self.found = node
        return self.found is None
