"""Names on the standard library's `ast` (several times cheaper to get than LibCST's tree): a file's
module name from its path, its imports as local name -> qualified name, and the qualified name of an
expression. Used by the project index and by the checks' exact `ast` gates; the LibCST side of name
resolution is `resolve.py`."""

from __future__ import annotations

import ast
import warnings
from collections import deque


def parse_ast(source: bytes | str) -> ast.Module:
    """`ast.parse` without the SyntaxWarnings (`invalid escape sequence`) CPython prints for the code it
    reads: they are about the user's code, not proplint's, and flake8/ruff report them already."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(source)


_AST = ast.AST


def walk(node: ast.AST) -> list[ast.AST]:
    """`ast.walk(node)` as a list, in the same (breadth-first) order, at about half the cost: no generator per
    node and no `iter_fields`/`iter_child_nodes` calls."""
    out = [node]
    append = out.append
    i = 0
    while i < len(out):
        n = out[i]
        i += 1
        for name in n._fields:
            value = getattr(n, name, None)
            if isinstance(value, _AST):
                append(value)
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, _AST):
                        append(item)
    return out


_LAST_TREE: list = [None, []]


def all_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node of a tree (`walk`), listed once and reused by the collectors and gates that read the same
    tree (the last tree asked for is kept; trees are never changed after parsing)."""
    if _LAST_TREE[0] is not tree:
        _LAST_TREE[:] = [tree, walk(tree)]
    return _LAST_TREE[1]


def module_name_for(relpath: str, src: tuple[str, ...] = ()) -> str | None:
    """`src/svc/shared/http_client.py` -> `svc.shared.http_client` (relative to the project root). With import
    roots (`src = ["services"]` in `[tool.proplint]`, ruff's setting), a file under one is named from the
    deepest root holding it: `services/shared/http_client.py` -> `shared.http_client`."""
    if not relpath.endswith(".py"):
        return None
    parts = relpath[:-3].split("/")
    for root in src:  # deepest first (`Config` keeps them so)
        if root and relpath.startswith(root + "/"):
            parts = relpath[len(root) + 1:-3].split("/")
            break
    else:
        if parts and parts[0] == "src" and len(parts) > 1:
            parts = parts[1:]
    if parts[-1] == "__init__":
        parts = parts[:-1]
    if not parts or not all(p.isidentifier() for p in parts):
        return None
    return ".".join(parts)


_BLOCKS = ("body", "orelse", "finalbody", "handlers", "cases")


def statements(tree: ast.AST):
    """Every statement in the tree, in any block, without visiting expressions (an import is always a
    statement: this is several times cheaper than `ast.walk`)."""
    queue = deque([tree])
    while queue:
        node = queue.popleft()
        for name in _BLOCKS:
            block = getattr(node, name, None)
            if block:
                queue.extend(block)
                if name != "handlers" and name != "cases":
                    yield from block


def ast_imports(tree: ast.AST, module: str | None, is_package: bool) -> dict[str, str]:
    """Local name -> qualified name for every import in the file (all scopes, last one wins)."""
    package = module if is_package else (module.rpartition(".")[0] if module else None)
    out: dict[str, str] = {}
    for node in statements(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    out[a.asname] = a.name
                else:
                    top = a.name.split(".")[0]
                    out[top] = top
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                if not package:
                    continue
                parts = package.split(".")
                parts = parts[: len(parts) - (node.level - 1)] if node.level > 1 else parts
                base = ".".join([*parts, base] if base else parts)
            for a in node.names:
                if a.name != "*":
                    out[a.asname or a.name] = f"{base}.{a.name}" if base else a.name
    return out


def dotted_name(expr: ast.AST) -> str | None:
    """`a.b.c` of a Name/Attribute chain as written (no resolution), else None."""
    parts: list[str] = []
    while isinstance(expr, ast.Attribute):
        parts.append(expr.attr)
        expr = expr.value
    return ".".join([expr.id, *reversed(parts)]) if isinstance(expr, ast.Name) else None


def decorator_name(dec: ast.expr) -> str:
    """The last name of a decorator (`task` of `@app.task(bind=True)`), "" when it has none."""
    while isinstance(dec, ast.Call):
        dec = dec.func
    return dec.attr if isinstance(dec, ast.Attribute) else dec.id if isinstance(dec, ast.Name) else ""


def ast_qualname(expr: ast.AST, imports: dict[str, str], module: str | None = None,
                 local: set[str] | None = None) -> str | None:
    parts: list[str] = []
    while isinstance(expr, ast.Attribute):
        parts.append(expr.attr)
        expr = expr.value
    if not isinstance(expr, ast.Name):
        return None
    if expr.id in imports:
        root = imports[expr.id]
    elif local is not None and expr.id in local and module:
        root = f"{module}.{expr.id}"
    else:
        return None
    return ".".join([root, *reversed(parts)])
