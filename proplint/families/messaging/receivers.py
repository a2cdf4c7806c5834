"""Receiver inference for the messaging family: what kind of messaging object an expression is.

A kind is a `[[message_client]]` name (`redis`, `aiokafka_producer`, `sqs`, ...). It is inferred from
constructors and factory functions (`redis.Redis(...)`, `redis.Redis.from_url(...)`, `await
nats.connect()`, `boto3.client("sqs")`), from methods and attributes of other kinds (`r.pipeline()`,
`conn.channel()`, `channel.default_exchange`), from annotations (parameters, `x: T = ...`, class-level
`self.x: T`), `with ... as x`, `self.x = ...` anywhere in the class, the return annotation of a function of
the module, decorated task functions (`@app.task`, `@shared_task`) here or imported from the project.

`infer()` returns a `Receiver`: `kind` is None when the expression is known to be something else (a
project class, an unrelated library's object) and `known` is False when nothing could be told, the only
case where a distinctive method name may match.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from proplint.core.context import FileContext
from proplint.core.resolve import CLOSING_MARKERS, PROVIDE_MARKERS, dotted, self_attribute
from proplint.core.walk import visit
from proplint.families.messaging.facts import containers, project_facts, split_ctor
from proplint.families.messaging.model import ClientMethod, MessageClient

_MAX_DEPTH = 6


@dataclass(frozen=True)
class Receiver:
    kind: str | None
    known: bool = True
    #: the constructor call the kind came from, when there is one (protocol / tracing keywords)
    origin: cst.Call | None = None


UNKNOWN = Receiver(None, known=False)
OTHER = Receiver(None, known=True)


def string_literal(expr: cst.BaseExpression) -> str | None:
    if isinstance(expr, cst.SimpleString):
        value = expr.evaluated_value
        return value if isinstance(value, str) else None
    return None


def first_argument_literal(call: cst.Call, keyword: str = "service_name") -> str | None:
    for arg in call.args:
        if arg.keyword is None and not arg.star:
            return string_literal(arg.value)
        if arg.keyword is not None and arg.keyword.value == keyword:
            return string_literal(arg.value)
    return None


class Receivers:
    def __init__(self, ctx: FileContext) -> None:
        self.ctx = ctx
        catalog = ctx.catalog
        self.clients: dict[str, MessageClient] = {e.name: e for e in catalog.get("message_client")}
        self.ctors: dict[str, list[tuple[str, str]]] = {}
        for e in self.clients.values():
            for spec in e.constructors:
                name, arg = split_ctor(spec)
                self.ctors.setdefault(name, []).append((arg, e.name))
        self.decorators = {d: e.name for e in self.clients.values() for d in e.decorators}
        self.methods: dict[tuple[str, str], list[ClientMethod]] = {}
        for m in catalog.get("client_method"):
            self.methods.setdefault((m.on, m.method), []).append(m)
        self._cache: dict[int, Receiver] = {}
        self._attributes: dict[int, dict[str, list[tuple]]] = {}

    # -- helpers --------------------------------------------------------------------------------------
    def _from_qualname(self, qualname: str | None, call: cst.Call | None = None) -> Receiver | None:
        if qualname is None:
            return None
        for arg, kind in self.ctors.get(qualname, ()):
            if not arg:
                return Receiver(kind, True, call)
            if call is not None and first_argument_literal(call) == arg:
                return Receiver(kind, True, call)
        if qualname in self.decorators:
            return None
        task = self._project_task(qualname)
        if task is not None:
            return task
        kind = project_facts(self.ctx.index)["clients"].get(qualname)
        if kind is not None:
            return Receiver(kind, True, None)
        return None

    def _project_task(self, qualname: str) -> Receiver | None:
        facts = project_facts(self.ctx.index)
        desc = facts["tasks"].get(qualname)
        if desc is None:
            return None
        if desc[0] == "kind":
            return Receiver(desc[1])
        _, base, method = desc
        kind = facts["clients"].get(base)
        if kind is None:
            base_kind = self._from_qualname_plain(base)
            kind = base_kind
        if kind is None:
            return None
        for m in self.methods.get((kind, method), ()):
            if m.decorator:
                return Receiver(m.returns)
        return None

    def _from_qualname_plain(self, qualname: str) -> str | None:
        for arg, kind in self.ctors.get(qualname, ()):
            if not arg:
                return kind
        return None

    def bindings(self, name: str) -> list[tuple[str, cst.BaseExpression]] | None:
        """(kind, expression) bound to `name` in the nearest visible scope that binds it; None if unbound."""
        return self.ctx.resolver.bindings(name)

    def local_function(self, name: str) -> cst.FunctionDef | None:
        for stmt in self.ctx.module.body:
            if isinstance(stmt, cst.FunctionDef) and stmt.name.value == name:
                return stmt
        return None

    # -- inference ------------------------------------------------------------------------------------
    def infer(self, expr: cst.BaseExpression, depth: int = 0) -> Receiver:
        key = id(expr)
        if key in self._cache:
            return self._cache[key]
        self._cache[key] = UNKNOWN  # recursion guard
        result = self._infer(expr, depth)
        self._cache[key] = result
        return result

    def _infer(self, expr: cst.BaseExpression, depth: int) -> Receiver:
        if depth > _MAX_DEPTH:
            return UNKNOWN
        if isinstance(expr, cst.Await):
            return self.infer(expr.expression, depth + 1)
        if isinstance(expr, cst.Call):
            return self._call(expr, depth)
        if isinstance(expr, cst.Name):
            return self._name(expr, depth)
        if isinstance(expr, cst.Subscript):
            return self._injected(expr) or UNKNOWN
        if isinstance(expr, cst.Attribute):
            attr = self_attribute(expr)
            if attr is not None:
                return self._self_attribute(attr, depth)
            if isinstance(expr.value, cst.Attribute) and expr.value.attr.value == "state":
                kind = project_facts(self.ctx.index)["state_clients"].get(expr.attr.value)
                if kind is not None:  # `request.app.state.producer`, set up as a client elsewhere
                    return Receiver(kind, True, None)
            q = self.ctx.qualified_name(expr)
            if q is not None:
                return self._from_qualname(q) or OTHER
            base = self.infer(expr.value, depth + 1)
            if base.kind is None:
                return base if not base.known else OTHER
            for m in self.methods.get((base.kind, expr.attr.value), ()):
                if m.attribute:
                    return Receiver(m.returns, True, base.origin)
            return OTHER
        return UNKNOWN

    def _call(self, call: cst.Call, depth: int) -> Receiver:
        provided = self._provider_call(call.func)
        if provided is not None:
            return provided
        q = self.ctx.qualified_name(call.func)
        if q is not None:
            return self._from_qualname(q, call) or OTHER
        func = call.func
        if isinstance(func, cst.Attribute):
            base = self.infer(func.value, depth + 1)
            if base.kind is None:
                return base if not base.known else OTHER
            literal = first_argument_literal(call)
            for m in self.methods.get((base.kind, func.attr.value), ()):
                if m.attribute or m.decorator:
                    continue
                if not m.argument or m.argument == literal:
                    return Receiver(m.returns, True, base.origin)
            return OTHER
        if isinstance(func, cst.Name):
            fn = self.local_function(func.value)
            if fn is not None:
                if fn.returns is not None:
                    t = self.ctx.resolver.annotation_type(fn.returns.annotation)
                    return self._from_qualname(t) or OTHER
                return UNKNOWN
            if self.ctx.resolver.module_defines(func.value):
                return OTHER  # a project class of this module
        return UNKNOWN

    def _name(self, name: cst.Name, depth: int) -> Receiver:
        ev = self.bindings(name.value)
        if ev is None:
            return UNKNOWN
        if not ev:
            fn = self.local_function(name.value)
            if fn is not None:
                return self.decorated(fn)
            q = self.ctx.qualified_name(name)
            if q is not None:
                return self._from_qualname(q) or OTHER
            return UNKNOWN
        for kind, value in reversed(ev):
            if kind == "default":  # a parameter a container fills (`producer=Provide[Container.producer]`)
                r = self._injected(value)
                if r is not None:
                    return r
                continue
            if kind == "annotation":
                t = self.ctx.resolver.annotation_type(value)
                r = self._from_qualname(t)
                if r is not None:
                    return r
                if t is not None:
                    return OTHER
                continue
            r = self.infer(value, depth + 1)
            if r.kind is not None or r.known:
                return r
        return UNKNOWN

    # -- dependency_injector containers ----------------------------------------------------------------
    def _containers(self):
        return containers(self.ctx.index, self.ctx.catalog, self.ctx.config.scope == "application")

    def _path(self, expr: cst.BaseExpression) -> str | None:
        """The qualified name of a container attribute (`Container.producer` imported, or of this module)."""
        q = self.ctx.qualified_name(expr)
        if q is not None:
            return q
        name = dotted(expr)
        if name is not None and self.ctx.module_name and self.ctx.resolver.module_defines(name.split(".", 1)[0]) \
                and self.ctx.resolver.bindings(name.split(".", 1)[0]) == []:
            return f"{self.ctx.module_name}.{name}"
        return None

    def _injected(self, expr: cst.BaseExpression) -> Receiver | None:
        """`Provide[Container.producer]` (also `Provide["producer"]`, under `Closing[...]` or as the argument of a
        call: FastAPI's `Depends(Provide[...])`): the kind of client the container's provider builds."""
        if isinstance(expr, cst.Call):
            if not expr.args or not isinstance(expr.args[0].value, cst.Subscript):
                return None
            expr = expr.args[0].value
        if not isinstance(expr, cst.Subscript) or len(expr.slice) != 1 \
                or not isinstance(expr.slice[0].slice, cst.Index):
            return None
        marker = self.ctx.qualified_name(expr.value)
        inner = expr.slice[0].slice.value
        if marker in CLOSING_MARKERS:
            return self._injected(inner)
        if marker not in PROVIDE_MARKERS:
            return None
        found = self._containers()
        literal = string_literal(inner)
        if literal is not None:
            kind = found.by_id(literal)
        else:
            path = self._path(inner)
            kind = found.kind(path) if path is not None else None
        return Receiver(kind) if kind else None

    def _provider_call(self, func: cst.BaseExpression) -> Receiver | None:
        """`Container.producer()` / `container.producer()` (an instance of a container class): the provider's
        value."""
        if not isinstance(func, cst.Attribute):
            return None
        found = self._containers()
        if not found.kinds:
            return None
        path = self._path(func)
        name = dotted(func) if path is None else None
        if name is not None:  # `container.kafka.producer()` with `container = Container()`
            root, _, rest = name.partition(".")
            values = [v for k, v in self.bindings(root) or () if k == "value"]
            if len(values) == 1 and isinstance(values[0], cst.Call):
                owner = self._path(values[0].func)
                path = f"{owner}.{rest}" if owner else None
        kind = found.kind(path) if path is not None else None
        return Receiver(kind) if kind else None

    def _self_attribute(self, attr: str, depth: int) -> Receiver:
        scope = self.ctx.resolver.class_scope()
        if scope is None:
            return UNKNOWN
        known = False
        for kind, value, func in self._class_attributes(scope.node).get(attr, ()):
            if kind == "annotation":
                t = self.ctx.resolver.annotation_type(value)
                r = self._from_qualname(t)
                if r is not None:
                    return r
                known = known or t is not None
                continue
            if isinstance(value, cst.Name) and func is not None:  # self.x = param: its annotation
                for p in (*func.params.params, *func.params.kwonly_params):
                    if p.name.value == value.value and p.annotation is not None:
                        t = self.ctx.resolver.annotation_type(p.annotation.annotation)
                        r = self._from_qualname(t)
                        if r is not None:
                            return r
                        known = known or t is not None
                continue
            if isinstance(value, (cst.Call, cst.Await, cst.Attribute)):
                r = self.infer(value, depth + 1)
                if r.kind is not None:
                    return r
                known = known or r.known
        return OTHER if known else UNKNOWN

    def _class_attributes(self, cls: cst.CSTNode) -> dict[str, list[tuple]]:
        """(kind, expression, method) bound to `self.<attr>` (and class-level annotations) in one class, from a
        single walk cached per class (the resolver's `attribute_type` walks the class once per attribute)."""
        key = id(cls)
        if key not in self._attributes:
            self._attributes[key] = _self_assignments(cls)  # type: ignore[arg-type]
        return self._attributes[key]

    def decorated(self, fn: cst.FunctionDef) -> Receiver:
        """The kind a decorator gives a function of this module (`@app.task`, `@dramatiq.actor`)."""
        for dec in fn.decorators:
            target = dec.decorator.func if isinstance(dec.decorator, cst.Call) else dec.decorator
            q = self.ctx.qualified_name(target)
            if q in self.decorators:
                return Receiver(self.decorators[q])
            if isinstance(target, cst.Attribute):
                base = self.infer(target.value)
                if base.kind is not None:
                    for m in self.methods.get((base.kind, target.attr.value), ()):
                        if m.decorator:
                            return Receiver(m.returns)
        return OTHER

    # -- constructor facts ----------------------------------------------------------------------------
    def constructor_keyword(self, origin: cst.Call | None, keyword: str) -> cst.BaseExpression | None:
        if origin is None:
            return None
        for arg in origin.args:
            if arg.keyword is not None and arg.keyword.value == keyword:
                return arg.value
        return None

    def traced(self, receiver: Receiver) -> bool:
        """The constructor turned the library's own propagation on (`enable_open_telemetry_tracing=True`)."""
        client = self.clients.get(receiver.kind or "")
        if client is None or not client.traced_keyword or receiver.origin is None:
            return False
        finder = _KeywordTrue(client.traced_keyword)
        visit(receiver.origin, finder)
        return finder.found

    def meets_requirement(self, receiver: Receiver) -> bool | None:
        """Whether the constructor passed the required keyword value (MQTTv5); None if it cannot be told."""
        client = self.clients.get(receiver.kind or "")
        if client is None or not client.requires_keyword:
            return True
        if receiver.origin is None:
            return None
        value = self.constructor_keyword(receiver.origin, client.requires_keyword)
        if value is None:
            positional = [a for a in receiver.origin.args if a.keyword is None]
            if any(a.star for a in receiver.origin.args) or len(positional) >= 4:
                return None
            return False
        q = self.ctx.qualified_name(value)
        if q is None:
            if isinstance(value, cst.Integer):
                return value.value == "5"
            return None
        return q in client.requires_values


def suites(stmt: cst.CSTNode) -> list[cst.BaseSuite]:
    """The blocks of a compound statement in source order (body, handlers, else/elif, finally; match cases)."""
    if isinstance(stmt, cst.Match):
        return [case.body for case in stmt.cases]
    out = [stmt.body]  # type: ignore[attr-defined]
    out += [handler.body for handler in getattr(stmt, "handlers", ())]
    orelse = getattr(stmt, "orelse", None)
    while orelse is not None:  # an `elif` is an If in `orelse`
        out.append(orelse.body)
        orelse = getattr(orelse, "orelse", None)
    final = getattr(stmt, "finalbody", None)
    if final is not None:
        out.append(final.body)
    return out


def small_statements(suite: cst.BaseSuite | cst.Module, func: cst.FunctionDef | None = None,
                     classes: bool = True):
    """(small statement, innermost def around it) for every assignment, import... of a block and the blocks
    nested in it, in source order; nested classes left out unless `classes`. A walk of the statements only:
    no expression can hold a statement, so none is visited (LibCST's visitors rebuild every node)."""
    for stmt in suite.body:
        if isinstance(stmt, cst.BaseSmallStatement):  # in a one-line suite (`if x: y = 1`)
            yield stmt, func
        elif isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                yield small, func
        elif classes or not isinstance(stmt, cst.ClassDef):
            inner = stmt if isinstance(stmt, cst.FunctionDef) else func
            for block in suites(stmt):
                yield from small_statements(block, inner, classes)


def _self_assignments(cls: cst.ClassDef) -> dict[str, list[tuple]]:
    """What one class binds to `self.<attr>` (and annotates or assigns at class level), nested classes
    excluded: attribute -> [(kind, expression, the def it is in or None)], in source order."""
    values: dict[str, list[tuple]] = {}

    def attribute(target: cst.BaseExpression, func) -> str | None:
        attr = self_attribute(target)
        if attr is None and func is None and isinstance(target, cst.Name):
            return target.value  # class-level `x: T` / `x = ...`
        return attr

    for stmt, func in small_statements(cls.body, classes=False):
        if isinstance(stmt, cst.Assign):
            for t in stmt.targets:
                attr = attribute(t.target, func)
                if attr is not None:
                    values.setdefault(attr, []).append(("value", stmt.value, func))
        elif isinstance(stmt, cst.AnnAssign):
            attr = attribute(stmt.target, func)
            if attr is not None:
                values.setdefault(attr, []).append(("annotation", stmt.annotation.annotation, func))
                if stmt.value is not None:
                    values.setdefault(attr, []).append(("value", stmt.value, func))
    return values


class _KeywordTrue(cst.CSTVisitor):
    def __init__(self, keyword: str) -> None:
        self.keyword = keyword
        self.found = False

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None and node.keyword.value == self.keyword and \
                isinstance(node.value, cst.Name) and node.value.value == "True":
            self.found = True


def import_aliases(module: cst.Module) -> set[str]:
    """Local names bound by an aliasing import (`import a as x`, `from a import b as x`) in any scope."""
    out: set[str] = set()
    for stmt, _ in small_statements(module):
        if isinstance(stmt, (cst.Import, cst.ImportFrom)) and not isinstance(stmt.names, cst.ImportStar):
            out.update(a.asname.name.value for a in stmt.names
                       if a.asname is not None and isinstance(a.asname.name, cst.Name))
    return out
