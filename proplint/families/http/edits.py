"""The edits HTTP rules share (PRP101, PRP102). In the OpenTelemetry profile, insert
`HTTPXClientInstrumentor.instrument_client(<client>)` after `c = httpx.<Client>(...)` or as the first
statement of `with ... as c:`, safe when the project depends on the instrumentation package. In the factory
profile, a client closed in a `finally` (`c = Client(...)`, `try: ... finally: await c.aclose()`) becomes
the factory's `async with <factory>(...) as c:` (`closing_try_fix`)."""

from __future__ import annotations

import libcst as cst

from proplint.core.context import FileContext
from proplint.core.cst import code_of
from proplint.core.rule import SAFE, UNSAFE, Fix, ImportRequest
from proplint.families.http.model import OTEL_HTTPX


def instrument_client_fix(ctx: FileContext, name: str | None, has_dep: bool) -> Fix | None:
    """For the call being visited, bound to `name` (None: not bound, no fix)."""
    if name is None:
        return None
    call = cst.parse_statement(f"HTTPXClientInstrumentor.instrument_client({name})\n",
                               config=ctx.module.config_for_parsing)
    parent = ctx.parent()
    replacement: tuple[cst.CSTNode, object] | None = None
    if isinstance(parent, (cst.Assign, cst.AnnAssign)):
        line = ctx.parent(2)
        if isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1:
            replacement = (line, cst.FlattenSentinel([line, call]))
    elif isinstance(parent, cst.WithItem):
        with_node = ctx.parent(2)
        if isinstance(with_node, cst.With) and isinstance(with_node.body, cst.IndentedBlock):
            body = with_node.body
            replacement = (with_node, with_node.with_changes(body=body.with_changes(body=[call, *body.body])))
    if replacement is None:
        return None
    return Fix(
        SAFE if has_dep else UNSAFE,
        f"Instrument the client with HTTPXClientInstrumentor.instrument_client({name})",
        replacements=[replacement],
        imports=[ImportRequest(OTEL_HTTPX, "HTTPXClientInstrumentor")],
    )


# --- a client closed in `finally`, rewritten to the factory's `with` -------------------------------------


class _Mentions(cst.CSTVisitor):
    def __init__(self, name: str) -> None:
        self.name = name
        self.found = False

    def visit_Name(self, node: cst.Name) -> None:
        if node.value == self.name:
            self.found = True


def _mentions(nodes, name: str) -> bool:
    seen = _Mentions(name)
    for node in nodes:
        node.visit(seen)
    return seen.found


def _closes(final: cst.Finally, name: str, is_async: bool) -> bool:
    """`finally:` holds only `await <name>.aclose()` (async) or `<name>.close()`, with no comment."""
    body = final.body
    if not isinstance(body, cst.IndentedBlock) or len(body.body) != 1 or "#" in code_of(final):
        return False
    line = body.body[0]
    if not isinstance(line, cst.SimpleStatementLine) or len(line.body) != 1 or not isinstance(line.body[0], cst.Expr):
        return False
    value = line.body[0].value
    if is_async:
        if not isinstance(value, cst.Await):
            return False
        value = value.expression
    return isinstance(value, cst.Call) and not value.args and isinstance(value.func, cst.Attribute) \
        and isinstance(value.func.value, cst.Name) and value.func.value.value == name \
        and value.func.attr.value == ("aclose" if is_async else "close")


def closing_try_fix(ctx: FileContext, node: cst.Call, factory: str, is_async: bool) -> list | None:
    """For `c = <client>(...)` (the call being visited) directly followed by `try: <body> finally: await
    c.aclose()` (`c.close()` when not `is_async`): the replacements that make it `async with <factory>(...)
    as c: <body>` (`with` when not `is_async`). None when the code has another shape: the client bound to
    anything but a plain name, a `try` with `except`/`else`, more in `finally` than the close, a comment
    that would have nowhere to go, or `c` used after the `try`."""
    assign, line, block = ctx.parent(), ctx.parent(2), ctx.parent(3)
    if not (isinstance(assign, cst.Assign) and len(assign.targets) == 1 and isinstance(assign.targets[0].target, cst.Name)
            and isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1
            and isinstance(block, (cst.IndentedBlock, cst.Module))):
        return None
    name = assign.targets[0].target.value
    stmts = list(block.body)
    at = next((i for i, s in enumerate(stmts) if s is line), None)
    if at is None or at + 1 >= len(stmts):
        return None
    tried = stmts[at + 1]
    if not isinstance(tried, cst.Try) or tried.handlers or tried.orelse is not None or tried.finalbody is None \
            or not _closes(tried.finalbody, name, is_async) or _mentions(stmts[at + 2:], name):
        return None
    if not isinstance(tried.body, cst.IndentedBlock):
        return None
    body = tried.body
    header = body.header
    if line.trailing_whitespace.comment is not None:  # `c = Client()  # note` -> `with ...:  # note`
        if header.comment is not None:
            return None
        header = line.trailing_whitespace
    call = node.with_changes(func=cst.parse_expression(factory))
    new = cst.With(
        items=[cst.WithItem(call, asname=cst.AsName(cst.Name(name)))],
        body=body.with_changes(header=header),
        asynchronous=cst.Asynchronous() if is_async else None,
        leading_lines=[*line.leading_lines, *tried.leading_lines],
    )
    return [(line, cst.RemovalSentinel.REMOVE), (tried, new)]
