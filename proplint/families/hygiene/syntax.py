"""CST shapes the hygiene check asks about: yields, generator and coroutine kinds, plain-name targets,
literals, the names of a subtree, calls of a parameter, and a node's short text for messages.
"""

from __future__ import annotations

from typing import Sequence

import libcst as cst

from proplint.core.walk import visit


class _YieldFinder(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found = False

    def visit_Yield(self, node: cst.Yield) -> None:
        self.found = True

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False


def contains_yield(nodes: Sequence[cst.CSTNode] | cst.CSTNode) -> bool:
    """A `yield` in these nodes, outside nested functions, lambdas and classes."""
    finder = _YieldFinder()
    for node in (nodes if isinstance(nodes, (list, tuple)) else [nodes]):
        visit(node, finder)
        if finder.found:
            return True
    return False


def is_generator(fn: cst.FunctionDef) -> bool:
    return contains_yield(fn.body)


def target_kind(fn: cst.FunctionDef, returns_awaitable: bool = False) -> str | None:
    """coroutine / asyncgen / generator / awaitable (a plain def annotated to return one), else None."""
    gen = is_generator(fn)
    if fn.asynchronous is not None:
        return "asyncgen" if gen else "coroutine"
    if gen:
        return "generator"
    return "awaitable" if returns_awaitable else None


def single_name_target(node: cst.CSTNode | None) -> cst.Name | None:
    """`x` for the statement `x = <value>` (one target, a plain name), else None."""
    if isinstance(node, cst.Assign) and len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
        return node.targets[0].target
    return None


def is_literal(expr: cst.BaseExpression) -> bool:
    if isinstance(expr, (cst.SimpleString, cst.Integer, cst.Float, cst.Imaginary)):
        return True
    if isinstance(expr, cst.ConcatenatedString):
        return is_literal(expr.left) and is_literal(expr.right)
    if isinstance(expr, cst.Name):
        return expr.value in ("None", "True", "False")
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus):
        return isinstance(expr.expression, (cst.Integer, cst.Float))
    if isinstance(expr, (cst.Tuple, cst.List, cst.Set)):
        return all(not isinstance(e, cst.StarredElement) and is_literal(e.value) for e in expr.elements)
    if isinstance(expr, cst.Dict):
        return all(isinstance(e, cst.DictElement) and is_literal(e.key) and is_literal(e.value)
                   for e in expr.elements)
    return False


def names_in(node: cst.CSTNode) -> set[str]:
    """Every Name in a subtree (a cheap over-approximation of the names a new binding must avoid)."""
    names: set[str] = set()

    class _Names(cst.CSTVisitor):
        def visit_Name(self, n: cst.Name) -> None:
            names.add(n.value)

    visit(node, _Names())
    return names


def fresh_name(base: str, taken: set[str]) -> str:
    if base not in taken:
        return base
    i = 2
    while f"{base}{i}" in taken:
        i += 1
    return f"{base}{i}"


class ParamCalls(cst.CSTVisitor):
    """The calls `param(...)` in a def's own body (not in nested defs, lambdas or classes)."""

    def __init__(self, param: str) -> None:
        self.param = param
        self.calls: list[cst.Call] = []
        self._depth = 0

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self._depth += 1
        return self._depth == 1

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._depth -= 1

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == self.param:
            self.calls.append(node)


def calls_param(fn: cst.FunctionDef, param: str) -> bool:
    """Whether a def calls `param(...)` in its own body (not in nested defs, lambdas or classes)."""
    finder = ParamCalls(param)
    visit(fn, finder)
    return bool(finder.calls)
