"""The requests a class makes on a client it keeps on the instance (`self.session = aiohttp.ClientSession()`).

`peers.Peers` judges such a client by every request of its class, not only by those of the method that makes
it: on the attribute (`self.session.get(url)`), on a local name bound to it, to a private method that returns it
(`session = await self._ensure_session()`) or by `async with`. It cannot judge a client that leaves the class
(`escapes`: a public method returns it, it is passed to a call, stored on another object, yielded), and it
notes which requests build their URL from their own method's locals (readable only from that method).
"""

from __future__ import annotations

import libcst as cst

from proplint.core.cst import code_of, keyword_arg, target_names
from proplint.core.walk import visit

#: the request methods of a client (`client.post(url)`), to judge a client by where its calls go
REQUEST_METHODS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "request", "stream"})


def request_url(call: cst.Call) -> cst.BaseExpression | None:
    """The URL of a request method call: `url=`, else the first argument (the second of `request`/`stream`)."""
    method = call.func.attr.value if isinstance(call.func, cst.Attribute) else ""
    found = keyword_arg(call, "url", 1 if method in ("request", "stream") else 0)
    return found[1].value if found else None


class InstanceClientCalls(cst.CSTVisitor):
    """The request calls made in a class on `<bound>` (`self.session`), or on a local name its method binds to
    it or to a method of the class that returns it."""

    def __init__(self, bound: str, cls: cst.ClassDef) -> None:
        self.bound = bound
        self.getters = {f.name.value for f in cls.body.body if isinstance(f, cst.FunctionDef)
                        and _returns_only(f, bound)}
        #: the client leaves the class: handed to a call, stored elsewhere, yielded, or returned by a public method
        self.escapes = any(not name.startswith("_") for name in self.getters)
        #: each request: the call, its method, and whether its URL names one of the method's locals
        self.calls: list[tuple[cst.Call, cst.FunctionDef | None, bool]] = []
        self.aliases: list[set[str]] = []
        self.functions: list[cst.FunctionDef] = []
        self.locals: list[set[str]] = []  # the parameters and assigned names of each method visited

    def _is_client(self, expr: cst.BaseExpression) -> bool:
        if isinstance(expr, cst.Await):
            expr = expr.expression
        if code_of(expr) == self.bound:
            return True
        return isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute) \
            and code_of(expr.func.value) == "self" and expr.func.attr.value in self.getters

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.aliases.append(set())
        self.functions.append(node)
        bindings = _Bound()
        visit(node, bindings)
        self.locals.append(bindings.names - {"self", "cls"})

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.aliases.pop()
        self.functions.pop()
        self.locals.pop()

    def visit_Assign(self, node: cst.Assign) -> None:
        if self.aliases and self._is_client(node.value):
            self.aliases[-1].update(t.target.value for t in node.targets if isinstance(t.target, cst.Name))
            self.escapes |= any(not isinstance(t.target, cst.Name) for t in node.targets)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if self.aliases and node.asname is not None and isinstance(node.asname.name, cst.Name) \
                and self._is_client(node.item):
            self.aliases[-1].add(node.asname.name.value)

    def visit_Arg(self, node: cst.Arg) -> None:
        self.escapes |= self._is_client(node.value) or (bool(self.aliases) and code_of(node.value) in self.aliases[-1])

    def visit_Yield(self, node: cst.Yield) -> None:
        self.escapes |= isinstance(node.value, cst.BaseExpression) and self._is_client(node.value)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute) or func.attr.value not in REQUEST_METHODS:
            return
        receiver = code_of(func.value)
        if receiver == self.bound or (self.aliases and receiver in self.aliases[-1]):
            url = request_url(node)
            local = url is not None and bool(self.locals) and bool(_free_names(url) & self.locals[-1])
            self.calls.append((node, self.functions[-1] if self.functions else None, local))


class _Bound(cst.CSTVisitor):
    """The names a function binds: its parameters and the targets of its assignments, loops and `with`."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_Param(self, node: cst.Param) -> None:
        self.names.add(node.name.value)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self.names |= target_names(node.target)

    def visit_For(self, node: cst.For) -> None:
        self.names |= target_names(node.target)

    def visit_AsName(self, node: cst.AsName) -> None:
        self.names |= target_names(node.name)


class _FreeNames(cst.CSTVisitor):
    """The names an expression reads (not the attribute names after a dot)."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        visit(node.value, self)
        return False

    def visit_Name(self, node: cst.Name) -> None:
        self.names.add(node.value)


def _free_names(expr: cst.BaseExpression) -> set[str]:
    finder = _FreeNames()
    visit(expr, finder)
    return finder.names


def _returns_only(fn: cst.FunctionDef, bound: str) -> bool:
    """Every `return` of `fn` returns `<bound>`, and it has one."""
    finder = _ReturnValues()
    visit(fn, finder)
    return bool(finder.values) and all(v is not None and code_of(v) == bound for v in finder.values)


class _ReturnValues(cst.CSTVisitor):
    def __init__(self) -> None:
        self.values: list[cst.BaseExpression | None] = []
        self.depth = 0

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.depth += 1

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.depth -= 1

    def visit_Return(self, node: cst.Return) -> None:
        if self.depth <= 1:
            self.values.append(node.value)
