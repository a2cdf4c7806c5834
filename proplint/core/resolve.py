"""Name resolution without LibCST's scope providers: imports, aliases, shadowing, receivers.

`QualifiedNameProvider` costs about five parses per file. A linter that only needs "does this name
refer to `httpx.AsyncClient`?" can answer from an import map plus a lazy check that the name is not
rebound in the enclosing function (a parameter or local called `httpx` shadows the module). Scopes are
pushed and popped by the traversal in `check.py`; bindings of a function are collected only when a rule
asks about a name inside it, and cached. (One module a little over 400 lines: the scopes, the binding
collector and the resolver share the per-file state they build.)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from proplint.core.walk import visit

# Plain isinstance helpers instead of libcst.matchers: importing the matchers module costs ~340 ms per
# process (measured), paid by every CLI run, flake8 worker and editor save.


def is_name(node: cst.CSTNode | None, *values: str) -> bool:
    return isinstance(node, cst.Name) and (not values or node.value in values)


def self_attribute(node: cst.CSTNode | None) -> str | None:
    """`x` for `self.x` / `cls.x`, else None."""
    if isinstance(node, cst.Attribute) and is_name(node.value, "self", "cls"):
        return node.attr.value
    return None


def dotted(expr: cst.BaseExpression) -> str | None:
    """`a.b.c` for a Name/Attribute chain, else None (no resolution)."""
    parts: list[str] = []
    while isinstance(expr, cst.Attribute):
        parts.append(expr.attr.value)
        expr = expr.value
    if isinstance(expr, cst.Name):
        parts.append(expr.value)
        return ".".join(reversed(parts))
    return None


def _import_module_name(node: cst.ImportFrom, package: str | None) -> str | None:
    mod = dotted(node.module) if node.module is not None else ""
    level = len(node.relative)
    if level == 0:
        return mod
    if package is None:
        return None
    base = package.split(".")
    if level - 1 > len(base):
        return None
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, mod] if mod else base)


def import_bindings(node: cst.Import | cst.ImportFrom, package: str | None) -> dict[str, str]:
    """Local name -> qualified name bound by one import statement."""
    out: dict[str, str] = {}
    if isinstance(node, cst.Import):
        for alias in node.names:
            full = dotted(alias.name)
            if full is None:
                continue
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                out[alias.asname.name.value] = full
            else:
                top = full.split(".", 1)[0]
                out[top] = top
        return out
    if isinstance(node.names, cst.ImportStar):
        return out
    module = _import_module_name(node, package)
    if module is None:
        return out
    for alias in node.names:
        name = dotted(alias.name)
        if name is None:
            continue
        local = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else name
        out[local] = f"{module}.{name}" if module else name
    return out


#: node type -> whether it is an expression (`isinstance` of an ABC costs more than a look-up)
_EXPRESSION: dict[type, bool] = {}


class _BindingCollector(cst.CSTVisitor):
    """Names bound in one scope's body (not in nested functions/classes), and its imports.

    Without `walrus`, expressions are not entered: an assignment expression (`:=`) is the only binding inside
    one (a lambda's and a comprehension's names are their own), and the file has none."""

    def __init__(self, package: str | None, walrus: bool = True) -> None:
        self.package = package
        self.walrus = walrus
        self.bound: set[str] = set()
        self.imports: dict[str, str] = {}
        self.globals: set[str] = set()
        #: name -> expressions/annotations bound to it, in source order: ("value", expr) |
        #: ("annotation", expr) | ("with", expr) | ("default", expr): a parameter's default that may be a
        #: dependency-injection marker (`_marker_default`)
        self.evidence: dict[str, list[tuple[str, cst.BaseExpression]]] = {}
        self._depth = 0

    def _target(self, target: cst.BaseExpression, kind: str | None = None, value=None) -> None:
        if isinstance(target, cst.Name):
            self.bound.add(target.value)
            if kind is not None and value is not None:
                self.evidence.setdefault(target.value, []).append((kind, value))
        elif isinstance(target, (cst.Tuple, cst.List)):
            for el in target.elements:
                self._target(el.value)
        elif isinstance(target, cst.StarredElement):
            self._target(target.value)

    def on_visit(self, node: cst.CSTNode) -> bool:
        if not self.walrus:
            kind = type(node)
            expression = _EXPRESSION.get(kind)
            if expression is None:
                expression = _EXPRESSION[kind] = issubclass(kind, cst.BaseExpression)
            if expression:
                return False
        return super().on_visit(node)

    # nested scopes: record the name, do not descend
    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        if self._depth:
            self.bound.add(node.name.value)
            return False
        self._depth += 1
        return True

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        if self._depth:
            self.bound.add(node.name.value)
            return False
        self._depth += 1
        return True

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_Param(self, node: cst.Param) -> None:
        self.bound.add(node.name.value)
        if node.annotation is not None:
            self.evidence.setdefault(node.name.value, []).append(("annotation", node.annotation.annotation))
        if node.default is not None and _marker_default(node.default):
            # a container's marker as the default (`producer=Provide[Container.producer]`,
            # `Depends(Provide[...])`): after the annotation, so a reader going backwards sees it first
            self.evidence.setdefault(node.name.value, []).append(("default", node.default))

    def visit_Parameters(self, node: cst.Parameters) -> bool:
        # defaults are evaluated in the enclosing scope, but parameter names are ours
        for p in (*node.posonly_params, *node.params, *node.kwonly_params):
            self.visit_Param(p)
        for star in (node.star_arg, node.star_kwarg):
            if isinstance(star, cst.Param):
                self.bound.add(star.name.value)
        return False

    def visit_Assign(self, node: cst.Assign) -> None:
        for t in node.targets:
            self._target(t.target, "value", node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._target(node.target, "annotation", node.annotation.annotation)
        if node.value is not None:
            self._target(node.target, "value", node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._target(node.target)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._target(node.target, "value", node.value)

    def visit_For(self, node: cst.For) -> None:
        self._target(node.target)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._target(node.asname.name, "with", node.item)

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None:
            self._target(node.name.name)

    def visit_Global(self, node: cst.Global) -> None:
        self.globals.update(n.name.value for n in node.names)

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        self.globals.update(n.name.value for n in node.names)

    def visit_Import(self, node: cst.Import) -> None:
        self.imports.update(import_bindings(node, self.package))

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        self.imports.update(import_bindings(node, self.package))


@dataclass
class Scope:
    kind: str  # "module" | "class" | "function" | "lambda" | "comprehension"
    node: cst.CSTNode
    package: str | None = None
    #: the file may hold an assignment expression (`:=`)
    walrus: bool = True
    _collected: _BindingCollector | None = field(default=None, repr=False)

    def collected(self) -> _BindingCollector:
        if self._collected is None:
            c = _BindingCollector(self.package, self.walrus)
            if self.kind == "module":
                # Module level: imports anywhere at top level (inside if/try too), defs and assignments;
                # not the bodies of functions and classes.
                c._depth = 1
                visit(self.node, c)
            elif self.kind == "lambda":
                assert isinstance(self.node, cst.Lambda)
                visit(self.node.params, c)
            elif self.kind == "comprehension":
                # only its `for` targets (and walrus targets leak out: not ours)
                comp = self.node.for_in  # type: ignore[attr-defined]
                while comp is not None:
                    c._target(comp.target)
                    comp = comp.inner_for_in
            else:
                visit(self.node, c)
            c.bound -= c.globals
            self._collected = c
        return self._collected

    def imports(self) -> dict[str, str]:
        return self.collected().imports

    def binds(self, name: str) -> bool:
        c = self.collected()
        return name in c.bound and name not in c.imports


class Resolver:
    """Answers "what does this expression name?" at the current point of the traversal."""

    def __init__(self, module: cst.Module, package: str | None = None, walrus: bool = True) -> None:
        """`walrus`: the module's text may hold an assignment expression (`:=`); False only when it has none."""
        self.package = package
        self.walrus = walrus
        self.scopes: list[Scope] = [Scope("module", module, package, walrus)]

    # traversal hooks (called by the dispatcher)
    def push(self, kind: str, node: cst.CSTNode) -> None:
        self.scopes.append(Scope(kind, node, self.package, self.walrus))

    def pop(self) -> None:
        self.scopes.pop()

    @property
    def module_scope(self) -> Scope:
        return self.scopes[0]

    def function_scope(self) -> Scope | None:
        for s in reversed(self.scopes):
            if s.kind in ("function", "lambda"):
                return s
        return None

    def class_scope(self) -> Scope | None:
        for s in reversed(self.scopes):
            if s.kind == "class":
                return s
        return None

    def _visible_scopes(self):
        innermost = len(self.scopes) - 1
        for i in range(innermost, -1, -1):
            s = self.scopes[i]
            if s.kind == "class" and i != innermost:
                continue  # class bodies are not visible from methods
            yield s

    def bindings(self, name: str) -> list[tuple[str, cst.BaseExpression]] | None:
        """(kind, expression) pairs bound to `name` in the nearest visible scope that binds it
        ("value" | "annotation" | "with"); [] if bound without evidence (a parameter, an import...);
        None if nothing visible binds it."""
        for s in self._visible_scopes():
            c = s.collected()
            if name in c.evidence:
                return c.evidence[name]
            if name in c.bound or name in c.imports:
                return []
        return None

    def resolve_name(self, name: str) -> str | None:
        for s in self._visible_scopes():
            imports = s.imports()
            if name in imports:
                return imports[name]
            if s.kind == "module":
                # A module-level def/class of that name (and no import) is the project's own object.
                return None
            if s.binds(name):
                return None
        return None

    def qualified_name(self, expr: cst.BaseExpression) -> str | None:
        """The imported thing an expression names (`hx.AsyncClient` -> `httpx.AsyncClient`)."""
        parts: list[str] = []
        while isinstance(expr, cst.Attribute):
            parts.append(expr.attr.value)
            expr = expr.value
        if not isinstance(expr, cst.Name):
            return None
        root = self.resolve_name(expr.value)
        if root is None:
            return None
        return ".".join([root, *reversed(parts)])

    def module_defines(self, name: str) -> bool:
        """A top-level def/class/assignment of `name` in this module (not an import)."""
        return self.module_scope.binds(name)

    # --- receiver inference ------------------------------------------------------------------------

    def type_of_expression(self, expr: cst.BaseExpression, kind: str = "value") -> str | None:
        """The qualified type an expression evaluates to, where it can be told from its shape."""
        if kind == "annotation":
            return self.annotation_type(expr)
        if isinstance(expr, cst.Await):
            expr = expr.expression
        if isinstance(expr, cst.Call):
            q = self.qualified_name(expr.func)
            if q is not None:
                return q
            # project class or function defined in this module: its local name
            name = dotted(expr.func)
            if name is not None and self.module_defines(name.split(".", 1)[0]):
                return f"<local>.{name}"
            return None
        return None

    def annotation_type(self, ann: cst.BaseExpression) -> str | None:
        if isinstance(ann, cst.SimpleString):
            try:
                ann = cst.parse_expression(ann.evaluated_value)  # type: ignore[arg-type]
            except Exception:
                return None
        if isinstance(ann, cst.Subscript):
            base = self.qualified_name(ann.value)
            if (base in ("typing.Optional", "typing.Annotated") or _injection_marker(base)) and ann.slice:
                first = ann.slice[0].slice
                if isinstance(first, cst.Index):
                    return self.annotation_type(first.value)
            return base
        if isinstance(ann, cst.BinaryOperation) and isinstance(ann.operator, cst.BitOr):
            left, right = ann.left, ann.right
            if is_name(right, "None"):
                return self.annotation_type(left)
            if is_name(left, "None"):
                return self.annotation_type(right)
            return None
        return self.qualified_name(ann)

    def receiver_type(self, expr: cst.BaseExpression) -> str | None:
        """What `x` is in `x.m(...)`: from constructors, `with ... as x`, annotations, `self.x = ...`."""
        if isinstance(expr, cst.Call):
            return self.type_of_expression(expr)
        if isinstance(expr, cst.Name):
            for s in self._visible_scopes():
                c = s.collected()
                ev = c.evidence.get(expr.value)
                if ev:
                    for kind, value in reversed(ev):
                        if kind == "default":
                            continue  # an injection marker: only the messaging receivers read it
                        t = self.type_of_expression(value, kind)
                        if t is not None:
                            return t
                    return None
                if expr.value in c.bound or expr.value in c.imports:
                    return None
            return None
        attr = self_attribute(expr)
        if attr is not None:
            return self.attribute_type(attr)
        return None

    def attribute_type(self, attr: str) -> str | None:
        """The type of `self.<attr>` from the enclosing class: assignments in methods or annotations."""
        scope = self.class_scope()
        if scope is None:
            return None
        key = ("attr", attr)
        cache = scope.__dict__.setdefault("_attr_types", {})
        if key in cache:
            return cache[key]
        finder = _SelfAttributeFinder(attr)
        visit(scope.node, finder)
        result = None
        for kind, value, func in finder.found:
            if kind == "value" and isinstance(value, cst.Name) and func is not None:
                # self.x = param  ->  the parameter's annotation
                for p in (*func.params.params, *func.params.kwonly_params):
                    if p.name.value == value.value and p.annotation is not None:
                        result = self.annotation_type(p.annotation.annotation)
                        break
            else:
                result = self.type_of_expression(value, kind)
            if result is not None:
                break
        cache[key] = result
        return result


class _SelfAttributeFinder(cst.CSTVisitor):
    def __init__(self, attr: str) -> None:
        self.attr = attr
        self.found: list[tuple[str, cst.BaseExpression, cst.FunctionDef | None]] = []
        self._func: list[cst.FunctionDef] = []
        self._class_depth = 0

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self._class_depth += 1
        return self._class_depth == 1

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        self._class_depth -= 1

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._func.append(node)

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._func.pop()

    def _is_self_attr(self, target: cst.BaseExpression) -> bool:
        return self_attribute(target) == self.attr

    def visit_Assign(self, node: cst.Assign) -> None:
        for t in node.targets:
            if self._is_self_attr(t.target) or (not self._func and is_name(t.target, self.attr)):
                self.found.append(("value", node.value, self._func[-1] if self._func else None))

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if self._is_self_attr(node.target) or (not self._func and is_name(node.target, self.attr)):
            self.found.append(("annotation", node.annotation.annotation, None))
            if node.value is not None:
                self.found.append(("value", node.value, self._func[-1] if self._func else None))


#: generics that mark a parameter a dependency-injection container fills, with the injected type first:
#: dishka's `FromDishka[T]` (also from its framework integrations), injector's `Inject[T]`, wireup's
#: `Injected[T]`; `def handler(producer: FromDishka[AIOKafkaProducer])` has a producer of that type
_INJECTION_MARKERS = {"dishka": "FromDishka", "injector": "Inject", "wireup": "Injected"}


def _injection_marker(qualified: str | None) -> bool:
    if not qualified:
        return False
    top, _, last = qualified.partition(".")
    return _INJECTION_MARKERS.get(top) == qualified.rsplit(".", 1)[-1]


#: dependency_injector (`dependency_injector/providers.pyx`): the providers whose value is what their first
#: argument (a class, or a function: a `Resource`'s initializer) builds, and the one that nests a container
BUILDING_PROVIDERS = frozenset(f"dependency_injector.providers.{name}" for name in (
    "Singleton", "ThreadSafeSingleton", "ThreadLocalSingleton", "ContextLocalSingleton", "DelegatedSingleton",
    "DelegatedThreadSafeSingleton", "DelegatedThreadLocalSingleton", "Factory", "DelegatedFactory", "Callable",
    "DelegatedCallable", "Coroutine", "DelegatedCoroutine", "Resource"))
NESTED_CONTAINER = "dependency_injector.providers.Container"
#: `Provide[Container.producer]` injects the provider's value; `Closing[Provide[...]]` the same (and closes
#: a resource after the call)
PROVIDE_MARKERS = frozenset({"dependency_injector.wiring.Provide"})
CLOSING_MARKERS = frozenset({"dependency_injector.wiring.Closing"})


def _marker_default(expr: cst.BaseExpression) -> bool:
    """A default that may be an injection marker: a subscript (`Provide[...]`), or a call whose first
    argument is one (`Depends(Provide[...])`)."""
    if isinstance(expr, cst.Subscript):
        return True
    return isinstance(expr, cst.Call) and bool(expr.args) and isinstance(expr.args[0].value, cst.Subscript)
