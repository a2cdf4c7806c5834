"""Messages that carry the project's own context: a correlation id, a request id, a trace id.

A project that keeps a correlation id in a ContextVar of its own (`ContextVar("app.correlation_id")`, at
module level or as a class attribute) and never propagates OpenTelemetry by hand carries its context across a
queue in the message itself: the producer puts the id into the payload (`build_envelope(..., job.correlation_id)`)
and the worker reads it back (`envelope.correlation_id`). PRP301's advice, an OpenTelemetry carrier in the
headers, is not what that project speaks; the message already carries the project's carrier.

A producer is not reported when what it sends calls a tracing SDK's getter of the current trace
(`sentry_sdk.get_traceparent()`, OpenTelemetry's `format_trace_id`: the carrier is in the payload), or when all
of these hold:

* the project propagates no trace by hand: it defines no injector helper, configures none, and nothing in it
  continues a trace from a carrier (`facts.continues_no_trace`);
* what the call sends carries the project's context: the payload, followed through the enclosing function
  (names bound from it, items appended to it, loops over it), names a field after one of the project's
  trace-identifying contexts (`correlation_id`, `request_id`, `trace_id`: a `ContextVar`'s own name or its
  variable's, or a name the project binds to what a getter of one returns, `correlation_id=CorrelationID.get()`),
  as an attribute, a keyword, a dict key or a name;
* another application module reads a field of that name off a value (the consumer's side:
  `envelope.correlation_id`, `message["correlation_id"]`).
"""

from __future__ import annotations

import ast
import re
from typing import Any

import libcst as cst

from proplint.core.ast_names import ast_qualname, all_nodes
from proplint.core.cst import variable_names
from proplint.core.relevance import path_kind
from proplint.core.walk import visit

#: what a trace-identifying context is called (not a tenant or a user: those are data, not a carrier)
TRACE_ID = re.compile(r"correlation|causation|trace_?id|traceparent|trace_context|(^|_)req(uest)?_id($|_)",
                      re.IGNORECASE)
#: what a getter of such a context is called (`CorrelationID.get`, `get_request_id`, `current_trace_id`)
_GETTER = re.compile(r"correlation|causation|trace|request", re.IGNORECASE)
#: tracing SDK calls that return the current trace, as a string to put in a message
TRACE_GETTERS = frozenset({"sentry_sdk.get_traceparent", "sentry_sdk.get_baggage", "sentry_sdk.api.get_traceparent",
                           "opentelemetry.trace.format_trace_id", "opentelemetry.trace.span.format_trace_id"})
#: methods that put a value into the object they are called on
_MUTATORS = frozenset({"append", "extend", "add", "update", "insert", "put", "put_nowait", "setdefault",
                       "appendleft"})
_AFFIXES = re.compile(r"^(_+|current_)|(_(var|ctx|cv|contextvar|context_var))$", re.IGNORECASE)

CONTEXT_TOKENS = (b"ContextVar", b"orrelation", b"trace", b"Trace", b"request_id", b"RequestId", b"RequestID",
                  b"ausation")


def collect_context_names(tree: ast.Module, imports: dict, module: str | None, config, catalog) -> dict[str, list[str]]:
    """Index collector: the names under which this file keeps or reads a context:

    * the ContextVars it makes anywhere (module level, a class body): the ContextVar's own name
      (`"app.correlation_id"` -> `correlation_id`) and the variable's (`_correlation_id` -> `correlation_id`);
    * a name bound to what a getter of a trace-identifying context returns (`correlation_id =
      CorrelationID.get()`, `request_id=get_request_id()`): the project's helper reads its own context there;

    and (`reads`) the trace-identifying fields it reads off a value: `envelope.correlation_id`,
    `message["request_id"]`, `data.get("trace_id")`.
    """
    out = set()
    reads = set()
    for node in all_nodes(tree):
        kind = type(node)
        if kind not in _READ_KINDS:
            continue  # (most nodes: names, constants, operators; checked by type first, for speed)
        field = _field_read(node) if kind is not ast.Assign and kind is not ast.keyword else None
        if field and TRACE_ID.search(field):
            reads.add(field_name(field))
        if kind is ast.Attribute or kind is ast.Subscript:
            continue
        read = _context_read(node)
        if read:
            out.add(field_name(read))
            continue
        if not isinstance(node, (ast.Assign, ast.AnnAssign)) or not isinstance(node.value, ast.Call):
            continue
        if ast_qualname(node.value.func, imports) != "contextvars.ContextVar":
            continue
        first = node.value.args[0] if node.value.args else None
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            out.add(field_name(first.value.rsplit(".", 1)[-1]))
        for t in node.targets if isinstance(node, ast.Assign) else [node.target]:
            name = t.id if isinstance(t, ast.Name) else t.attr if isinstance(t, ast.Attribute) else None
            if name:
                out.add(field_name(name))
    found = {"names": sorted(n for n in out if n), "reads": sorted(reads)}
    return {k: v for k, v in found.items() if v}


#: the node types `collect_context_names` reads
_READ_KINDS = frozenset({ast.Attribute, ast.Subscript, ast.Call, ast.Assign, ast.AnnAssign, ast.keyword})


def _field_read(node: ast.AST) -> str | None:
    """The field an expression reads off a value: `x.f`, `x["f"]`, `x.get("f")` (not a private attribute: the
    holder's own state, `cls._correlation_id`)."""
    if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
        return None if node.attr.startswith("_") else node.attr
    if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) and isinstance(node.slice, ast.Constant) \
            and isinstance(node.slice.value, str):
        return node.slice.value
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get" and node.args \
            and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
        return node.args[0].value
    return None


def _context_read(node: ast.AST) -> str | None:
    """`x = Getter.get()` / `x=get_x()` (an assignment to one name, or a keyword) where the getter's dotted name
    and `x` both name a trace-identifying context: `x`."""
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        name, value = node.targets[0].id, node.value
    elif isinstance(node, ast.keyword) and node.arg:
        name, value = node.arg, node.value
    else:
        return None
    if not isinstance(value, ast.Call) or not TRACE_ID.search(name):
        return None
    parts = []
    func = value.func
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        parts.append(func.id)
    if not parts or not (parts[0] == "get" or parts[0].startswith(("get_", "current_"))):
        return None
    return name if _GETTER.search(_snake("_".join(reversed(parts)))) else None


def _snake(name: str) -> str:
    """`CorrelationID_get` -> `correlation_id_get`."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def field_name(name: str) -> str:
    """`_correlation_id`, `CORRELATION_ID_VAR`, `current_request_id` -> `correlation_id`, `request_id`."""
    previous = None
    name = name.lower()
    while previous != name:
        previous, name = name, _AFFIXES.sub("", name)
    return name


def carrier_fields(index) -> frozenset[str]:
    """The trace-identifying ContextVar names of the project's application code."""
    return index.derived("messaging.carrier_fields", lambda ix: frozenset(
        n for rel, found in ix.facts("messaging.context_names") if path_kind(rel) is None
        for n in found.get("names", ()) if TRACE_ID.search(n)))


def read_elsewhere(index, field: str, here: str) -> bool:
    """Another application module (or a command that runs a worker) reads `field` off a value."""
    return any(rel != here and path_kind(rel) in (None, "cli") and field in found.get("reads", ())
               for rel, found in index.facts("messaging.context_names"))


def payload_carries(ctx, call: cst.Call, fields: frozenset[str]) -> str | None:
    """What the call sends names one of `fields` or calls a trace getter: the field (or the getter's name)."""
    fn = ctx.enclosing(cst.FunctionDef)
    reached: list[cst.CSTNode] = [a.value for a in call.args]
    if isinstance(fn, cst.FunctionDef):
        flows = _Flows()
        visit(fn.body, flows)
        names: set[str] = set()
        todo = list(reached)
        while todo:
            for name in variable_names(todo.pop()) - names:
                names.add(name)
                for value in flows.into.get(name, ()):
                    reached.append(value)
                    todo.append(value)
    finder = _Fields(ctx, fields)
    for expr in reached:
        visit(expr, finder)
        if finder.found:
            return finder.found
    return None


def _bound(target: cst.CSTNode) -> list[str]:
    """The variable a target puts a value into: `x`, `x, y`, `x[k]` and `x.attr` (both fill `x`)."""
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [n for el in target.elements for n in _bound(el.value)]
    if isinstance(target, cst.StarredElement):
        return _bound(target.value)
    if isinstance(target, (cst.Subscript, cst.Attribute)) and isinstance(target.value, cst.Name):
        return [target.value.value]
    return []


class _Flows(cst.CSTVisitor):
    """Variable -> the expressions that flow into it in a function body: assignments, loops over a value,
    `with ... as`, and mutations (`entries.append(entry)`, `entry["Body"] = body`)."""

    def __init__(self) -> None:
        self.into: dict[str, list[cst.CSTNode]] = {}

    def _add(self, target: cst.CSTNode, value: cst.CSTNode) -> None:
        for name in _bound(target):
            self.into.setdefault(name, []).append(value)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Assign(self, node: cst.Assign) -> None:
        for t in node.targets:
            self._add(t.target, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._add(node.target, node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._add(node.target, node.value)

    def visit_For(self, node: cst.For) -> None:
        self._add(node.target, node.iter)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._add(node.asname.name, node.item)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in _MUTATORS and isinstance(func.value, cst.Name):
            for a in node.args:
                self._add(func.value, a.value)


class _Fields(cst.CSTVisitor):
    def __init__(self, ctx, fields: frozenset[str]) -> None:
        self.ctx = ctx
        self.fields = fields
        self.found: str | None = None

    def _check(self, name: str) -> None:
        if self.found is None and field_name(name) in self.fields:
            self.found = field_name(name)

    def visit_Name(self, node: cst.Name) -> None:
        self._check(node.value)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._check(node.attr.value)

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self._check(node.keyword.value)

    def visit_DictElement(self, node: cst.DictElement) -> None:
        if isinstance(node.key, cst.SimpleString) and isinstance(node.key.evaluated_value, str):
            self._check(node.key.evaluated_value)

    def visit_Call(self, node: cst.Call) -> None:
        if self.found is None and self.ctx.qualified_name(node.func) in TRACE_GETTERS:
            self.found = self.ctx.qualified_name(node.func)


def carries_own_scheme(check: Any, call: cst.Call) -> bool:
    """The message carries a tracing SDK's current trace, or, in a project that propagates no trace by hand,
    the project's own context that a consumer reads back (see the module docstring)."""
    from proplint.families.messaging.facts import continues_no_trace

    ctx = check.ctx
    fields = carrier_fields(ctx.index)
    found = payload_carries(ctx, call, fields)
    if found is None:
        return False
    if found not in fields:
        return True  # `sentry_sdk.get_traceparent()`: the SDK's own carrier, in the payload
    if check.manual_propagation() or not continues_no_trace(ctx.index, ctx.catalog, ctx.config):
        return False
    return read_elsewhere(ctx.index, found, ctx.relpath)
