"""Which statements process a received message (PRP302): the statement a receive call is assigned in and the
rest of its block, the statement that decodes the message (`json.loads`), the guards after it (`if msg is
None: continue`), the loop over a batch response, a callback's docstring. The check (`check.py`) uses them
to find the region that must restore the context, and the rule's fix wraps it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from proplint.core.walk import visit

if TYPE_CHECKING:
    from proplint.core.context import FileContext
    from proplint.families.messaging.model import Consumer

_GUARDS = (cst.Continue, cst.Break, cst.Return, cst.Raise, cst.Pass)


def assigned_statement(ctx: "FileContext"):
    """(statement line, its block, names it binds) for `x = [await] <call>`, the call being visited; (None,
    None, ()) otherwise."""
    parent = ctx.parent()
    if isinstance(parent, cst.Await):
        parent = ctx.parent(2)
        level = 3
    else:
        level = 2
    if not isinstance(parent, (cst.Assign, cst.AnnAssign)):
        return None, None, ()
    line, block = ctx.parent(level), ctx.parent(level + 1)
    if not isinstance(line, cst.SimpleStatementLine) or not isinstance(block, (cst.IndentedBlock, cst.Module)):
        return None, None, ()
    targets = [t.target for t in parent.targets] if isinstance(parent, cst.Assign) else [parent.target]
    names: list[str] = []
    for t in targets:
        if isinstance(t, cst.Name):
            names.append(t.value)
        elif isinstance(t, (cst.Tuple, cst.List)):
            names += [el.value.value for el in t.elements if isinstance(el.value, cst.Name)]
    return line, block, tuple(names)


def only_returns(rest: list[cst.BaseStatement]) -> bool:
    """Nothing after the receive, or only `return`s: a helper that hands the message back is not processing."""
    return not rest or all(isinstance(s, cst.SimpleStatementLine) and all(isinstance(x, cst.Return) for x in s.body)
                           for s in rest)


def loop_over(statements, names) -> cst.For | None:
    """The first `for` loop (in `statements`) whose iterable mentions one of `names`."""
    finder = _ForOver(set(names))
    for s in statements:
        visit(s, finder)
        if finder.loop is not None:
            return finder.loop
    return None


def processed_after(ctx: "FileContext", rest, entry: "Consumer", targets) -> tuple[str, int] | None:
    """(the message's name, how many statements of `rest` precede the processing: the decode and the guards
    after it), or None when the message cannot be named."""
    message = targets[0] if len(targets) == 1 else None
    prefix_end = 0
    if entry.decoders:
        message = None
        for i, s in enumerate(rest):
            decoded = _decoded(ctx, s, entry, set(targets))
            if decoded is not None:
                message, prefix_end = decoded, i + 1
                break
    if message is None:
        return None
    while prefix_end < len(rest) and is_guard(rest[prefix_end]):
        prefix_end += 1
    return message, prefix_end


def _decoded(ctx: "FileContext", stmt, entry: "Consumer", names: set[str]) -> str | None:
    if not (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Assign)):
        return None
    assign = stmt.body[0]
    value = assign.value
    if not (isinstance(value, cst.Call) and ctx.qualified_name(value.func) in entry.decoders):
        return None
    if len(assign.targets) != 1 or not isinstance(assign.targets[0].target, cst.Name):
        return None
    finder = _NameSet()
    visit(value, finder)
    return assign.targets[0].target.value if finder.names & names else None


def is_guard(stmt: cst.CSTNode) -> bool:
    if not isinstance(stmt, cst.If) or stmt.orelse is not None:
        return False
    body = stmt.body.body
    if isinstance(stmt.body, cst.SimpleStatementSuite):
        return all(isinstance(s, _GUARDS) for s in body)
    return all(isinstance(s, cst.SimpleStatementLine) and all(isinstance(x, _GUARDS) for x in s.body) for s in body)


def is_docstring(stmt: cst.CSTNode) -> bool:
    return isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Expr) \
        and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString))


class _NameSet(cst.CSTVisitor):
    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_Name(self, node: cst.Name) -> None:
        self.names.add(node.value)


class _ForOver(cst.CSTVisitor):
    """The first `for` loop whose iterable mentions one of `names`."""

    def __init__(self, names: set[str]) -> None:
        self.names = names
        self.loop: cst.For | None = None

    def visit_For(self, node: cst.For) -> bool:
        if self.loop is None:
            finder = _NameSet()
            visit(node.iter, finder)
            if finder.names & self.names:
                self.loop = node
                return False
        return self.loop is None
