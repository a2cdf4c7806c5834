"""Does a process's target restore the project's own context from what it is handed?

A `contextvars.Context` cannot cross a process boundary, so a project that keeps its request state in
ContextVars (a tenant, a request id) carries it by hand: the parent passes the values as arguments, and the
child sets its ContextVars from them before it runs anything (`CURRENT_TENANT.set(tenant_id)` in the target,
or in the initializer the target calls first). That is the project's own propagation: PRP206's advice (an
OpenTelemetry carrier) does not apply to it.

The evidence is in the child: the target (or a function of its module it calls with its parameters, two
calls deep) calls `set` on one of the project's module-level ContextVars (the index's `contextvars`) with a
value derived from the target's parameters: the parameter itself, an item, attribute or call of it, or a
name bound from one (a loop over `args`, an assignment). Setting a constant or a fresh value (`uuid4()`)
restores nothing the parent had.
"""

from __future__ import annotations

import libcst as cst

from proplint.core.context import FileContext
from proplint.core.cst import target_names, variable_names
from proplint.core.walk import visit

_DEPTH = 2


def restores_from_arguments(ctx: FileContext, fn: cst.FunctionDef) -> bool:
    """`fn` (a process's target) sets one of the project's ContextVars from its own parameters."""
    variables = frozenset(ctx.index.project_contextvars())
    if not variables:
        return False
    return _restores(ctx, fn, variables, _params(fn), 0, set())


def _restores(ctx: FileContext, fn: cst.FunctionDef, variables: frozenset[str], params: set[str], depth: int,
              seen: set[int]) -> bool:
    seen.add(id(fn))
    derived = _derived(fn, params)
    calls = _Calls()
    visit(fn.body, calls)
    for call in calls.found:
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value == "set" and call.args \
                and _qualified(ctx, func.value) in variables and _mentions(call.args[0].value, derived):
            return True
        if depth < _DEPTH and isinstance(func, cst.Name):
            passed = [i for i, a in enumerate(call.args) if _mentions(a.value, derived)]
            callee = _module_def(ctx.module, func.value)
            if not passed or callee is None or id(callee) in seen:
                continue
            names = _positional(callee)
            handed = {names[i] for i in passed
                      if i < len(names) and call.args[i].keyword is None and not call.args[i].star}
            handed |= {a.keyword.value for a in call.args if a.keyword is not None and _mentions(a.value, derived)}
            if handed and _restores(ctx, callee, variables, handed, depth + 1, seen):
                return True
    return False


def _qualified(ctx: FileContext, expr: cst.BaseExpression) -> str | None:
    """The qualified name of a module-level name or dotted attribute, through the module's imports."""
    parts: list[str] = []
    while isinstance(expr, cst.Attribute):
        parts.append(expr.attr.value)
        expr = expr.value
    if not isinstance(expr, cst.Name):
        return None
    head = ctx.resolver.module_scope.imports().get(expr.value)
    if head is None:
        if ctx.module_name is None:
            return None
        head = f"{ctx.module_name}.{expr.value}"
    return ".".join([head, *reversed(parts)])


def _params(fn: cst.FunctionDef) -> set[str]:
    p = fn.params
    names = {x.name.value for x in (*p.posonly_params, *p.params, *p.kwonly_params)}
    for star in (p.star_arg, p.star_kwarg):
        if isinstance(star, cst.Param):
            names.add(star.name.value)
    return names - {"self", "cls"}


def _positional(fn: cst.FunctionDef) -> list[str]:
    return [x.name.value for x in (*fn.params.posonly_params, *fn.params.params)]


def _module_def(module: cst.Module, name: str) -> cst.FunctionDef | None:
    for stmt in module.body:
        if isinstance(stmt, cst.FunctionDef) and stmt.name.value == name:
            return stmt
    return None


def _derived(fn: cst.FunctionDef, params: set[str]) -> set[str]:
    """`params` and the names bound, in `fn`, from values that mention them (assignments, loop targets,
    `with ... as`), to a fixed point."""
    bindings = _Bindings()
    visit(fn.body, bindings)
    derived = set(params)
    changed = True
    while changed:
        changed = False
        for targets, value in bindings.found:
            if not targets <= derived and _mentions(value, derived):
                derived |= targets
                changed = True
    return derived


def _mentions(expr: cst.CSTNode, names: set[str]) -> bool:
    return bool(variable_names(expr) & names)


class _Bindings(cst.CSTVisitor):
    """(target names, value) of the assignments, loops and `with` items of a function body (not of nested
    functions or classes)."""

    def __init__(self) -> None:
        self.found: list[tuple[set[str], cst.CSTNode]] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def visit_Assign(self, node: cst.Assign) -> None:
        for t in node.targets:
            self.found.append((target_names(t.target), node.value))

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self.found.append((target_names(node.target), node.value))

    def visit_For(self, node: cst.For) -> None:
        self.found.append((target_names(node.target), node.iter))

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self.found.append((target_names(node.asname.name), node.item))


class _Calls(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found: list[cst.Call] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def visit_Call(self, node: cst.Call) -> None:
        self.found.append(node)
