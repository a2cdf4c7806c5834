"""A read-only CST traversal several times cheaper than LibCST's `node.visit(visitor)`.

LibCST rebuilds every node it visits, even for a `CSTVisitor` that changes nothing, and descends into
whitespace, comments, brackets and operator tokens. `visit(node, visitor)` calls the same
`on_visit`/`on_leave` hooks in the same order (children in the order each type's own
`_visit_and_replace_children` visits them, read from its source once per type), skips the subtrees
that hold no code, and rebuilds nothing. Visitors used with it must not look at those token nodes nor
use `visit_<Node>_<attribute>` hooks (`tests/test_walk.py` holds every visitor in proplint to this).
Where LibCST's sources cannot be read, it falls back to `node.visit(visitor)`.
"""

from __future__ import annotations

import functools
import inspect
import re
from typing import Any

import libcst as cst

_VISITED = re.compile(r'visit_\w+\(\s*self,\s*"(\w+)"')


def _leaf_types() -> frozenset[type]:
    """Node types that hold no code: whitespace, comments, brackets, operators and other tokens."""
    from libcst._nodes import op, whitespace

    out: set[type] = set()
    for module in (op, whitespace):
        out |= {v for v in vars(module).values() if isinstance(v, type) and issubclass(v, cst.CSTNode)}
    out |= {cst.LeftParen, cst.RightParen, cst.LeftSquareBracket, cst.RightSquareBracket, cst.LeftCurlyBrace,
            cst.RightCurlyBrace, cst.Asynchronous}
    return frozenset(t for t in out if not t.__name__.startswith("Base"))


NO_CODE = _leaf_types()


@functools.lru_cache(maxsize=None)
def child_fields(node_type: type) -> tuple[str, ...]:
    """The fields of a node type that hold children, in the order LibCST visits them (read once per type
    from its `_visit_and_replace_children`, the single source of that order)."""
    return tuple(dict.fromkeys(_VISITED.findall(inspect.getsource(node_type._visit_and_replace_children))))


def fast_walk_available() -> bool:
    try:
        return child_fields(cst.Call) == ("lpar", "func", "whitespace_after_func", "whitespace_before_args",
                                          "args", "rpar")
    except (OSError, TypeError):
        return False


FAST = fast_walk_available()


def visit(node: cst.CSTNode, visitor: cst.CSTVisitor) -> None:
    """`node.visit(visitor)` for a read-only visitor: `on_visit` returning False skips the children,
    `on_leave` is called either way."""
    if not FAST:
        node.visit(visitor)
        return
    stack: list[Any] = [(node, False)]
    on_visit, on_leave, fields = visitor.on_visit, visitor.on_leave, child_fields
    while stack:
        current, leaving = stack.pop()
        if leaving:
            on_leave(current)
            continue
        descend = on_visit(current)
        stack.append((current, True))
        if descend is False:
            continue
        children = []
        for name in fields(type(current)):
            value = getattr(current, name)
            if type(value) in (tuple, list):
                children.extend(c for c in value if type(c) not in NO_CODE)
            elif isinstance(value, cst.CSTNode) and type(value) not in NO_CODE:
                children.append(value)
        stack.extend((c, False) for c in reversed(children))
