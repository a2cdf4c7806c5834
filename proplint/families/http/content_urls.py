"""URLs that are content, not endpoints: a URL the code also accepts as a `data:` URL.

A URL that may be a `data:` URL (`if url.startswith("data:")`, `urlparse(url).scheme == "data"`, or a helper's
answer about it compared with `"data"`) is a reference to content a user or a model handed in: an image in a
chat message, an attachment. Fetching it goes wherever the content lives (any host on the web), never to one of
the system's services by design, so no trace header is read there. The check is made where the URL is fetched,
or, for a private function of the module that fetches its `url` parameter (`_fetch_image_from_url(url)`), at
every call of it in the module (a private function is called from its own module), a few calls deep.
"""

from __future__ import annotations

import libcst as cst

from proplint.core.cst import keyword_arg
from proplint.core.walk import visit

_DATA = ("data", "data:")


def data_url(module: cst.Module, fn: cst.FunctionDef | None, name: str, depth: int = 0) -> bool:
    """`name` in `fn` is a URL the code checks for the `data:` scheme (here, or at every call of a private `fn`)."""
    if fn is None:
        return False
    if _checks_data_scheme(fn, name):
        return True
    params = [p.name.value for p in (*fn.params.posonly_params, *fn.params.params)]
    if depth >= 3 or name not in params or not fn.name.value.startswith("_"):
        return False
    position = params.index(name) - (1 if params[0] in ("self", "cls") else 0)
    if position < 0:
        return False
    callers = _Callers(fn.name.value)
    visit(module, callers)
    if not callers.found:
        return False
    for call, caller in callers.found:
        found = keyword_arg(call, name, position)
        arg = found[1].value if found else None
        if not isinstance(arg, cst.Name) or not data_url(module, caller, arg.value, depth + 1):
            return False
    return True


def _checks_data_scheme(fn: cst.FunctionDef, name: str) -> bool:
    derived = {name}
    assigns = _Assigns()
    visit(fn, assigns)
    changed = True
    while changed:  # `scheme = urlparse(url).scheme`, `kind = _validate(url)`: made from the URL
        changed = False
        for targets, value in assigns.found:
            if _mentions(value, derived) and not targets <= derived:
                derived |= targets
                changed = True
    checks = _DataChecks(derived)
    visit(fn, checks)
    return checks.found


def _mentions(node: cst.CSTNode, names: set[str]) -> bool:
    finder = _Names()
    visit(node, finder)
    return bool(finder.names & names)


def _literal(node: cst.BaseExpression) -> str | None:
    return node.evaluated_value if isinstance(node, cst.SimpleString) and isinstance(node.evaluated_value, str) \
        else None


class _Names(cst.CSTVisitor):
    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_Name(self, node: cst.Name) -> None:
        self.names.add(node.value)


class _Assigns(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found: list[tuple[set[str], cst.BaseExpression]] = []

    def visit_Assign(self, node: cst.Assign) -> None:
        names: set[str] = set()
        for t in node.targets:
            finder = _Names()
            visit(t.target, finder)
            names |= finder.names
        self.found.append((names, node.value))


class _DataChecks(cst.CSTVisitor):
    """`x == "data"`, `x in ("http", "data")`, `"data:" in x`, `x.startswith("data:")` on a derived name."""

    def __init__(self, derived: set[str]) -> None:
        self.derived = derived
        self.found = False

    def visit_Comparison(self, node: cst.Comparison) -> None:
        sides = [node.left, *(c.comparator for c in node.comparisons)]
        literals = [_literal(s) for s in sides]
        for s in sides:
            if isinstance(s, (cst.Tuple, cst.List, cst.Set)):
                literals += [_literal(el.value) for el in s.elements]
        if any(lit in _DATA for lit in literals) and any(_mentions(s, self.derived) for s in sides):
            self.found = True

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value == "startswith" and node.args \
                and (_literal(node.args[0].value) or "").startswith("data:") and _mentions(func.value, self.derived):
            self.found = True


class _Callers(cst.CSTVisitor):
    """The calls of `name` (`name(...)`, `self.name(...)`) in a module, with the innermost function holding each."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.stack: list[cst.FunctionDef] = []
        self.found: list[tuple[cst.Call, cst.FunctionDef | None]] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.stack.append(node)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.stack.pop()

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        called = func.value if isinstance(func, cst.Name) else func.attr.value if isinstance(func, cst.Attribute) \
            and isinstance(func.value, cst.Name) and func.value.value in ("self", "cls") else None
        if called == self.name:
            self.found.append((node, self.stack[-1] if self.stack else None))
