"""Package re-exports: `from .base import Attribute` in `pkg/models/__init__.py` makes `pkg.models.Attribute`
another name of `pkg.models.base.Attribute`. The project's code imports a class or a function by the
package's name; what proplint knows of it (its bases, its methods, its body) is filed under the defining
module's. An index fact (one table per project), followed a few hops: a package may re-export a
sub-package's re-export."""

from __future__ import annotations

import ast

#: how many re-exports are followed (`a.X` -> `a.b.X` -> `a.b.c.X`)
_HOPS = 6


def collect_reexports(tree, imports, module, config, catalog) -> dict[str, str]:
    """A package's names imported from its own submodules (`from .observability import traced`); a file
    without a relative import or `__all__` is not read for them."""
    if not module:
        return {}
    out = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            for a in node.names:
                local = a.asname or a.name
                if local in imports and imports[local].startswith(module + "."):
                    out[f"{module}.{local}"] = imports[local]
    return out


def project_reexports(index) -> dict[str, str]:
    """Every re-export of the project: the package's name -> the name it re-exports."""
    def merge(ix) -> dict[str, str]:
        out: dict[str, str] = {}
        for _, facts in ix.facts("reexports"):
            out.update(facts)
        return out

    return index.derived("core.reexports", merge)


def defining_name(index, qualname: str) -> str | None:
    """`qualname` through the re-exports of its longest prefix (`pkg.models.Attribute.objects` ->
    `pkg.models.base.Attribute.objects`), or None when no prefix of it is a re-export."""
    table = project_reexports(index)
    if not table:
        return None
    memo = index.derived("core.defining_names", lambda ix: {})  # asked for the same names on every call judged
    if qualname not in memo:
        memo[qualname] = _follow(table, qualname)
    return memo[qualname]


def _follow(table: dict[str, str], qualname: str) -> str | None:
    changed = False
    for _ in range(_HOPS):
        parts = qualname.split(".")
        for cut in range(len(parts), 1, -1):
            target = table.get(".".join(parts[:cut]))
            if target is not None and target != ".".join(parts[:cut]):
                qualname = ".".join([target, *parts[cut:]])
                changed = True
                break
        else:
            break
    return qualname if changed else None
