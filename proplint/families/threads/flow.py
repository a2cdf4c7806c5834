"""Does a callable handed to a thread carry the caller's context, and is that Context shared?

Used by the check (`check.py`) at the point of a spawn (so the resolver's scopes are the spawn site's). A callable
*carries* a context when it is `<ctx>.run` for a value that is a `contextvars.Context` (`copy_context()`,
`Context()`, `<ctx>.copy()`, a name or `self.<attr>` bound to one, a parameter annotated
`contextvars.Context`), `functools.partial(<ctx>.run, ...)`, a name bound to one of those
(`func = copy_context().run`), or a lambda / local `def` of the caller whose body calls `<ctx>.run(...)`
on a context captured *in the caller* (a `copy_context()` evaluated inside the worker copies the worker's
own, empty, context and does not count).

`Carry.fresh` says whether every call runs in its own copy (`<ctx>.copy().run` evaluated per call, or
one pre-captured context per item); otherwise one Context object is entered by every call, which is fine
once and a `RuntimeError` when two threads enter it at the same time (PRP205).
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from proplint.core.context import FileContext
from proplint.core.resolve import Scope, dotted
from proplint.core.walk import visit

_MAX_DEPTH = 4
#: the method through which a callable carries a Context (`ctx.run`): every `Carry` is made of one
RUN = "run"
_LOOPS = (cst.For, cst.While, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)


@dataclass
class Carry:
    fresh: bool
    #: names whose single value is entered by every call (a loop that does not rebind them shares it)
    names: tuple[str, ...]
    #: what the PRP205 fix replaces, and how: "attr" (`E.run` at the spawn), "partial" (`partial(E.run,
    #: ...)` at the spawn), "closure" (`E.run` inside a lambda/def), "stored" (the value of `name = ...`)
    fix: str
    node: cst.CSTNode
    context: cst.BaseExpression | None = None
    partial_args: tuple[cst.Arg, ...] = ()


class ContextFlow:
    def __init__(self, ctx: FileContext, contexts: set[str], handles: set[str], handle_methods: set[str],
                 partials: set[str]) -> None:
        self.ctx = ctx
        self.contexts = contexts
        self.handles = handles | contexts
        self.handle_methods = handle_methods
        self.partials = partials

    @classmethod
    def from_catalog(cls, ctx: FileContext) -> "ContextFlow":
        """The flow over the catalog's `[[context_source]]` and `[[callable_wrapper]]` entries."""
        sources = ctx.catalog.get("context_source")
        return cls(ctx, contexts={e.name for e in sources if e.kind == "context" and not e.method},
                   handles={e.name for e in sources if e.kind == "handle" and not e.method},
                   handle_methods={e.name for e in sources if e.method},
                   partials=ctx.catalog.names("callable_wrapper"))

    # -- names ----------------------------------------------------------------------------------------
    def bindings(self, name: str) -> list[tuple[str, cst.BaseExpression]]:
        """(kind, expression) bound to `name` in the nearest visible scope that binds it."""
        return self.ctx.resolver.bindings(name) or []

    def _values(self, name: str) -> list[cst.BaseExpression]:
        return [v for kind, v in self.bindings(name) if kind in ("value", "with")]

    # -- values ---------------------------------------------------------------------------------------
    def is_context(self, expr: cst.BaseExpression, depth: int = 0) -> bool:
        """`expr` evaluates (in the current thread) to a `contextvars.Context`."""
        if depth > _MAX_DEPTH:
            return False
        if isinstance(expr, cst.Call):
            if self.ctx.qualified_name(expr.func) in self.contexts:
                return True
            func = expr.func
            return isinstance(func, cst.Attribute) and func.attr.value == "copy" and \
                self.is_context(func.value, depth + 1)
        if isinstance(expr, cst.Name):
            for kind, value in self.bindings(expr.value):
                if kind == "annotation":
                    if self.ctx.resolver.annotation_type(value) in self.contexts:
                        return True
                elif self.is_context(value, depth + 1):
                    return True
            return False
        if isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name) and expr.value.value in ("self", "cls"):
            return self.ctx.resolver.attribute_type(expr.attr.value) in self.contexts
        return False

    def is_context_items(self, expr: cst.BaseExpression, depth: int = 0) -> bool:
        """An iterable of distinct Contexts: `[copy_context() for _ in items]` (not `[ctx] * n`)."""
        if depth > _MAX_DEPTH:
            return False
        if isinstance(expr, (cst.ListComp, cst.SetComp, cst.GeneratorExp)):
            return isinstance(expr.elt, cst.Call) and self.is_context(expr.elt)
        if isinstance(expr, (cst.List, cst.Tuple)):
            return bool(expr.elements) and all(
                isinstance(e, cst.Element) and isinstance(e.value, cst.Call) and self.is_context(e.value)
                for e in expr.elements)
        if isinstance(expr, cst.Name):
            return any(self.is_context_items(v, depth + 1) for v in self._values(expr.value))
        return False

    def hands_over(self, expr: cst.BaseExpression, depth: int = 0) -> bool:
        """`expr` contains the caller's context, span or OTel context (handed to the worker explicitly)."""
        finder = _Parts()
        visit(expr, finder)
        for call in finder.calls:
            func = call.func
            if self.ctx.qualified_name(func) in self.handles:
                return True
            if isinstance(func, cst.Attribute) and func.attr.value in self.handle_methods:
                return True
        if depth < 1:
            for name in finder.names:
                if any(self.hands_over(v, depth + 1) for v in self._values(name)):
                    return True
        return False

    # -- callables --------------------------------------------------------------------------------------
    def carry(self, expr: cst.BaseExpression, items: list[cst.BaseExpression] | None = None,
              depth: int = 0) -> Carry | None:
        if depth > _MAX_DEPTH:
            return None
        run_of = self._run_of_context(expr)
        if run_of is not None:
            return Carry(False, _names(run_of), "attr", expr, run_of)
        if isinstance(expr, cst.Call) and self.ctx.qualified_name(expr.func) in self.partials and expr.args \
                and not expr.args[0].star and expr.args[0].keyword is None:
            inner = expr.args[0].value
            rest = tuple(expr.args[1:])
            run_of = self._run_of_context(inner)
            if run_of is not None:
                return Carry(False, _names(run_of), "partial", expr, run_of, rest)
            fn = inner if isinstance(inner, cst.Lambda) else self.local_def(inner)
            if fn is not None:
                bound = {p: ("value", a.value) for p, a in zip(_param_names(fn), rest)
                         if not a.star and a.keyword is None}
                return self._closure(fn, bound)
            return None
        if isinstance(expr, cst.Lambda):
            bound = {}
            if items:
                bound = {p: ("items", it) for p, it in zip(_param_names(expr), items)}
            return self._closure(expr, bound)
        if isinstance(expr, cst.Name):
            fn = self.local_def(expr)
            if fn is not None:
                return self._closure(fn, {})
            values = [v for kind, v in self.bindings(expr.value) if kind == "value"]
            if values:
                found = self.carry(values[-1], items, depth + 1)
                if found is None:
                    return None
                if found.fix in ("attr", "partial"):
                    return Carry(found.fresh, (*found.names, expr.value), "stored", values[-1], found.context,
                                 found.partial_args)
                return Carry(found.fresh, (*found.names, expr.value), found.fix, found.node, found.context)
        return None

    def _run_of_context(self, expr: cst.BaseExpression) -> cst.BaseExpression | None:
        if isinstance(expr, cst.Attribute) and expr.attr.value == RUN and self.is_context(expr.value):
            return expr.value
        return None

    def _closure(self, fn: cst.FunctionDef | cst.Lambda, bound: dict) -> Carry | None:
        """`fn` (defined by the caller) runs its work in a context captured by the caller."""
        kind = "lambda" if isinstance(fn, cst.Lambda) else "function"
        own = Scope(kind, fn).collected().bound
        runs = _RunCalls()
        visit(fn.body, runs)
        found: Carry | None = None
        for attr in runs.found:
            receiver = attr.value
            fresh = False
            if isinstance(receiver, cst.Call) and isinstance(receiver.func, cst.Attribute) \
                    and receiver.func.attr.value == "copy" and not receiver.args:
                receiver, fresh = receiver.func.value, True
            if isinstance(receiver, cst.Name) and receiver.value in bound:
                how, value = bound[receiver.value]
                if how == "items":
                    if not self.is_context_items(value):
                        continue
                    fresh = True
                elif not self.is_context(value):
                    continue
                names = _names(value) if how == "value" else ()
            elif isinstance(receiver, cst.Name) and receiver.value in own:
                continue  # a context made inside the worker is the worker's own (empty) one
            elif isinstance(receiver, (cst.Name, cst.Attribute)) and self.is_context(receiver):
                names = _names(receiver)
            else:
                continue
            carry = Carry(fresh, () if fresh else names, "closure", attr)
            if not fresh:
                return carry
            found = found or carry
        return found

    # -- functions ---------------------------------------------------------------------------------------
    def local_def(self, expr: cst.BaseExpression) -> cst.FunctionDef | None:
        """A `def` of the caller's own function (or an enclosing one) named by `expr`."""
        if not isinstance(expr, cst.Name):
            return None
        for anc in reversed(self.ctx.ancestors):
            if isinstance(anc, cst.FunctionDef):
                found = _find_def(anc.body, expr.value)
                if found is not None:
                    return found
        return None

    def resolve_function(self, expr: cst.BaseExpression) -> cst.FunctionDef | cst.Lambda | None:
        """The function a callable expression names: a lambda, a local/module `def`, `self.<method>`,
        or the function inside `functools.partial(...)`."""
        if isinstance(expr, cst.Lambda):
            return expr
        if isinstance(expr, cst.Call) and self.ctx.qualified_name(expr.func) in self.partials and expr.args:
            return self.resolve_function(expr.args[0].value)
        if isinstance(expr, cst.Name):
            return self.local_def(expr) or _find_def(self.ctx.module, expr.value)
        if isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name):
            cls = self.ctx.enclosing(cst.ClassDef)
            if isinstance(cls, cst.ClassDef) and expr.value.value in ("self", "cls", cls.name.value):
                return _find_def(cls.body, expr.attr.value)
        return None

    def creator_context(self, fn: cst.CSTNode) -> str | None:
        """A Context of the thread's creator visible in `fn`: a parameter annotated `contextvars.Context`,
        or a name the enclosing function bound to one (a closure)."""
        if isinstance(fn, cst.FunctionDef):
            for p in (*fn.params.posonly_params, *fn.params.params, *fn.params.kwonly_params):
                if p.annotation is not None and \
                        self.ctx.resolver.annotation_type(p.annotation.annotation) in self.contexts:
                    return p.name.value
        scopes = self.ctx.resolver.scopes
        own = scopes[-1].collected().bound if scopes[-1].node is fn else set()
        for scope in reversed(scopes[:-1] if scopes[-1].node is fn else scopes):
            if scope.kind != "function":
                continue
            for name in scope.collected().evidence:
                if name not in own and self.is_context(cst.Name(name)):
                    return name
        return None


def _names(expr: cst.BaseExpression) -> tuple[str, ...]:
    """The name whose value is reused when `expr` is evaluated again (`ctx`, `self._ctx`), if any."""
    name = dotted(expr)
    return (name,) if name is not None else ()


def _param_names(fn: cst.FunctionDef | cst.Lambda) -> list[str]:
    p = fn.params
    return [x.name.value for x in (*p.posonly_params, *p.params)]


def _find_def(node: cst.CSTNode, name: str) -> cst.FunctionDef | None:
    finder = _DefFinder(name)
    visit(node, finder)
    return finder.found


class _DefFinder(cst.CSTVisitor):
    """The last `def name` directly in a block (not inside nested functions or classes)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.found: cst.FunctionDef | None = None

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        if node.name.value == self.name:
            self.found = node
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False


class _RunCalls(cst.CSTVisitor):
    """`X.run` attributes that are called, inside a worker body."""

    def __init__(self) -> None:
        self.found: list[cst.Attribute] = []

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Attribute) and node.func.attr.value == RUN:
            self.found.append(node.func)


class _Parts(cst.CSTVisitor):
    def __init__(self) -> None:
        self.names: list[str] = []
        self.calls: list[cst.Call] = []

    def visit_Name(self, node: cst.Name) -> None:
        self.names.append(node.value)

    def visit_Call(self, node: cst.Call) -> None:
        self.calls.append(node)

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False


class _Binds(cst.CSTVisitor):
    """Whether a subtree (re)binds a name: assignments, loop targets, walrus, with-as."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.found = False

    def _target(self, target: cst.CSTNode) -> None:
        if isinstance(target, cst.Name) and target.value == self.name:
            self.found = True
        elif isinstance(target, cst.Attribute) and dotted(target) == self.name:
            self.found = True
        elif isinstance(target, (cst.Tuple, cst.List)):
            for el in target.elements:
                self._target(el.value)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._target(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._target(node.target)

    def visit_For(self, node: cst.For) -> None:
        self._target(node.target)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._target(node.target)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._target(node.target)

    def visit_AsName(self, node: cst.AsName) -> None:
        self._target(node.name)


def rebinds(node: cst.CSTNode, name: str) -> bool:
    finder = _Binds(name)
    visit(node, finder)
    return finder.found


def enclosing_loop(ancestors: list[cst.CSTNode]) -> cst.CSTNode | None:
    """The innermost loop or comprehension around the node being visited, within its function."""
    for node in reversed(ancestors[:-1]):
        if isinstance(node, _LOOPS):
            return node
        if isinstance(node, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            return None
    return None


def shared(carry: Carry, mapped: bool, ancestors: list[cst.CSTNode]) -> str | None:
    """Why one Context object is entered by several concurrent workers (None: it is not): `mapped`, the
    callable is handed to `map`; or the spawn is in a loop that does not rebind the carried names."""
    if carry.fresh:
        return None
    if mapped:
        return "map calls it for every item, concurrently"
    loop = enclosing_loop(ancestors)
    if loop is None:
        return None
    for name in carry.names:
        if not rebinds(loop, name):
            return f"`{name}` is made once, outside the loop that starts the workers"
    return None
