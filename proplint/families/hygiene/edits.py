"""The hygiene family's fix edits: the async branch of a sync-only decorator wrapper (PRP401, PRP412),
and the try/finally that detaches a token or resets a ContextVar (PRP404, PRP406).
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from proplint.core.rule import SAFE, UNSAFE, Fix, ImportRequest
from proplint.core.walk import visit
from proplint.families.hygiene.syntax import ParamCalls, contains_yield, fresh_name, names_in


def wrap_rest_in_finally(block: cst.IndentedBlock, index: int, opener: cst.BaseStatement,
                         closer: cst.BaseStatement, stop: int | None = None) -> cst.IndentedBlock:
    """`block` with statement `index` replaced by `opener`, and the statements after it (up to `stop`,
    exclusive; the end of the block by default) moved into `try: ... finally: <closer>`. When `stop`
    is given, the statement there (the old closer) is dropped and the rest of the block follows the try."""
    body = list(block.body)
    end = len(body) if stop is None else stop
    rest = body[index + 1:end]
    first = rest[0]
    lead = getattr(first, "leading_lines", ())
    if lead:
        rest[0] = first.with_changes(leading_lines=())
    try_stmt = cst.Try(
        body=cst.IndentedBlock(body=rest),
        finalbody=cst.Finally(body=cst.IndentedBlock(body=[closer])),
        leading_lines=lead,
    )
    after = body[end + 1:] if stop is not None else []
    return block.with_changes(body=[*body[:index], opener, try_stmt, *after])


def find_wrapper(module: cst.Module, path: str) -> tuple[cst.FunctionDef, cst.FunctionDef] | None:
    """(container, wrapper) CST nodes for a facts path `D.W` or `D.C.W` (each directly in its parent's body)."""
    body: Any = module.body
    chain: list[cst.FunctionDef] = []
    for name in path.split("."):
        found = next((s for s in body if isinstance(s, cst.FunctionDef) and s.name.value == name), None)
        if found is None or not isinstance(found.body, cst.IndentedBlock):
            return None
        chain.append(found)
        body = found.body.body
    return (chain[-2], chain[-1]) if len(chain) >= 2 else None


def async_branch_fix(container: cst.FunctionDef, wrapper: cst.FunctionDef, param: str) -> Fix | None:
    """Insert `if inspect.iscoroutinefunction(fn): <async copy of the wrapper awaiting fn>; return it`."""
    block = container.body
    if not isinstance(block, cst.IndentedBlock):
        return None
    stmts = list(block.body)
    i = next((k for k, s in enumerate(stmts) if s is wrapper), None)
    if i is None or i + 1 >= len(stmts):
        return None
    nxt = stmts[i + 1]
    if not (isinstance(nxt, cst.SimpleStatementLine) and len(nxt.body) == 1 and isinstance(nxt.body[0], cst.Return)
            and isinstance(nxt.body[0].value, cst.Name) and nxt.body[0].value.value == wrapper.name.value):
        return None
    finder = ParamCalls(param)
    visit(wrapper, finder)
    if len(finder.calls) != 1:
        return None
    call = finder.calls[0]
    name = fresh_name("_async_" + wrapper.name.value.lstrip("_"), names_in(container))
    imports = [ImportRequest("inspect")]
    decorators = list(wrapper.decorators)
    if not decorators:
        decorators = [cst.Decorator(cst.parse_expression(f"functools.wraps({param})"))]
        imports.append(ImportRequest("functools"))
    awaited = wrapper.deep_replace(call, cst.Await(expression=call))
    assert isinstance(awaited, cst.FunctionDef) and isinstance(awaited.body, cst.IndentedBlock)
    async_def = awaited.with_changes(
        name=cst.Name(name), asynchronous=cst.Asynchronous(), leading_lines=(), decorators=decorators,
        # the `def` line's own comment (a noqa, a marker) stays with the original wrapper only
        body=awaited.body.with_changes(header=cst.TrailingWhitespace()),
    )
    branch = cst.If(
        test=cst.parse_expression(f"inspect.iscoroutinefunction({param})"),
        body=cst.IndentedBlock(body=[async_def, cst.parse_statement(f"return {name}\n")]),
        leading_lines=wrapper.leading_lines,
    )
    sync = wrapper.with_changes(leading_lines=[cst.EmptyLine(indent=False)])
    return Fix(UNSAFE, f"Add an `inspect.iscoroutinefunction({param})` branch with an async wrapper that awaits "
                       f"`{param}(...)` inside the same scope",
               replacements=[(wrapper, cst.FlattenSentinel([branch, sync]))], imports=imports)


def statement_of_call(block: cst.IndentedBlock, call: cst.Call) -> int | None:
    """The index in `block` of the statement that is exactly the call `call` (`detach(token)`), if any."""
    return next((k for k, s in enumerate(block.body) if isinstance(s, cst.SimpleStatementLine) and len(s.body) == 1
                 and isinstance(s.body[0], cst.Expr) and s.body[0].value is call), None)


def closer_into_finally(block: cst.IndentedBlock, line: cst.CSTNode, closer_call: cst.Call, closer: str) -> Fix | None:
    """The statements between `line` (the opener) and the closer statement `closer_call` of the same block,
    moved into `try: ... finally: <closer statement>`."""
    body = list(block.body)
    i = next(k for k, s in enumerate(body) if s is line)
    j = statement_of_call(block, closer_call)
    if j is None or j <= i + 1 or contains_yield(body[i + 1:j]):
        return None
    new = wrap_rest_in_finally(block, i, line, body[j], stop=j)
    return Fix(SAFE, f"Move `{closer}(...)` into a `finally` block", replacements=[(block, new)])


def rest_in_finally(module: cst.Module, fn: cst.FunctionDef, block: cst.IndentedBlock, line: cst.SimpleStatementLine,
                    call: cst.Call, token: str | None, closer: tuple[str, list[ImportRequest]] | None,
                    base: str) -> Fix | None:
    """`token = <call>` and the rest of the function body in `try: ... finally: <closer>(token)` (a fresh
    name from `base` when the token was discarded)."""
    if closer is None:
        return None
    body = list(block.body)
    i = next(k for k, s in enumerate(body) if s is line)
    rest = body[i + 1:]
    if not rest or contains_yield(rest) or _mentions_closer(rest, closer[0]):
        return None
    if token is None:
        token = fresh_name(base, names_in(fn))
        assign = cst.Assign(targets=[cst.AssignTarget(cst.Name(token))], value=call)
        opener = line.with_changes(body=[assign])
    else:
        opener = line
    closer_line = cst.parse_statement(f"{closer[0]}({token})\n", config=module.config_for_parsing)
    new = wrap_rest_in_finally(block, i, opener, closer_line)
    return Fix(SAFE, f"Keep the token and call `{closer[0]}({token})` in a `finally` block",
               replacements=[(block, new)], imports=closer[1])


def _mentions_closer(stmts: list, closer: str) -> bool:
    last = closer.rsplit(".", 1)[-1]
    found = []

    class _Calls(cst.CSTVisitor):
        def visit_Call(self, n: cst.Call) -> None:
            f = n.func
            name = f.attr.value if isinstance(f, cst.Attribute) else f.value if isinstance(f, cst.Name) else None
            if name in (last, "attach", "detach", "reset"):
                found.append(n)

    for s in stmts:
        visit(s, _Calls())
    return bool(found)
