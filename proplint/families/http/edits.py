"""The OpenTelemetry-profile edit two HTTP rules share (PRP101, PRP102): insert
`HTTPXClientInstrumentor.instrument_client(<client>)` after `c = httpx.<Client>(...)` or as the first
statement of `with ... as c:`, safe when the project depends on the instrumentation package."""

from __future__ import annotations

import libcst as cst

from proplint.core.context import FileContext
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
