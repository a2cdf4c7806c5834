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


#: node type -> its child fields in reverse (`child_fields`): the walk pushes children last first
_REVERSED: dict[type, tuple[str, ...]] = {}
#: on the walk's stack, above a visited node: its `on_leave` is due once its children are done
_LEAVE = object()
#: type of a field's value -> whether it is a node type
_IS_NODE: dict[type, bool] = {}


def visit(node: cst.CSTNode, visitor: cst.CSTVisitor) -> None:
    """`node.visit(visitor)` for a read-only visitor: `on_visit` returning False skips the children,
    `on_leave` is called either way."""
    if not FAST:
        node.visit(visitor)
        return
    on_visit, on_leave, reversed_fields, no_code, is_node = visitor.on_visit, visitor.on_leave, _REVERSED, NO_CODE, \
        _IS_NODE
    stack: list[Any] = [node]
    pop, push = stack.pop, stack.append
    while stack:
        current = pop()
        if current is _LEAVE:
            on_leave(pop())
            continue
        descend = on_visit(current)
        push(current)
        push(_LEAVE)
        if descend is False:
            continue
        cls = type(current)
        names = reversed_fields.get(cls)
        if names is None:
            names = reversed_fields[cls] = tuple(reversed(child_fields(cls)))
        for name in names:  # the children are pushed last first, so they are visited in LibCST's order
            value = getattr(current, name)
            kind = type(value)
            if kind is tuple or kind is list:
                for child in reversed(value):
                    if type(child) not in no_code:
                        push(child)
            elif kind not in no_code:
                node_kind = is_node.get(kind)
                if node_kind is None:  # `isinstance` of an ABC costs more than the rest of the loop
                    node_kind = is_node[kind] = issubclass(kind, cst.CSTNode)
                if node_kind:
                    push(value)
