"""The hygiene family's project-index collectors and the project facts read from them.

Collectors (module-level functions, run per file on its stdlib `ast` by the index; `FAMILY.collectors`
names them): module-level thread-locals and ContextVar writes (the decorators' collectors and facts are in
`decorators.py`). Project facts merge them (`index.derived`, once per index): the functions that set each
ContextVar, the thread-locals of modules without event-loop code, the project's subclasses of catalog
classes, the names a decorator must have to be looked at.
"""

from __future__ import annotations

import ast
from typing import Any, Iterable

from proplint.core.reexports import project_reexports
from proplint.families.hygiene.decorators import project_decorators, resolve_decorator
from proplint.core.ast_names import all_nodes, ast_qualname, walk


def loop_module(tree: ast.Module, imports: dict, catalog) -> bool:
    """A module whose code runs on an event loop: an `async def`, or an asyncio/anyio/starlette... import."""
    modules = {e.name for e in catalog.get("event_loop_module")}
    if any(q.split(".", 1)[0] in modules or q in modules for q in imports.values()):
        return True
    return any(isinstance(n, (ast.AsyncFunctionDef, ast.Await, ast.AsyncWith, ast.AsyncFor)) for n in all_nodes(tree))


def collect_thread_locals(tree, imports, module, config, catalog) -> dict[str, Any]:
    """Module-level names bound to `threading.local()` (or a local subclass), and whether the module is
    itself event-loop code (then the definition is reported there, not each use elsewhere)."""
    if not module:
        return {}
    bases = {e.name for e in catalog.get("thread_local_class")}
    local_classes = {n.name for n in tree.body if isinstance(n, ast.ClassDef)
                     and any(ast_qualname(b, imports) in bases for b in n.bases)}
    names = []
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Call):
            func = node.value.func
            if ast_qualname(func, imports) in bases or (isinstance(func, ast.Name) and func.id in local_classes):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names += [f"{module}.{t.id}" for t in targets if isinstance(t, ast.Name)]
    if not names:
        return {}
    return {"names": names, "loop": loop_module(tree, imports, catalog)}


def collect_cv_sets(tree, imports, module, config, catalog) -> dict[str, list[str]]:
    """Qualified receiver of every `<name>.set(...)` in a function -> the functions (`mod.Class.fn`) doing it."""
    if not module:
        return {}
    set_methods = {e.set_method for e in catalog.get("contextvar_class")} or {"set"}
    if not any(isinstance(n, ast.Attribute) and n.attr in set_methods for n in all_nodes(tree)):
        return {}
    local = {t.id for n in tree.body if isinstance(n, (ast.Assign, ast.AnnAssign))
             for t in (n.targets if isinstance(n, ast.Assign) else [n.target]) if isinstance(t, ast.Name)}
    out: dict[str, set[str]] = {}

    def visit(body, path):
        for node in body:
            if isinstance(node, ast.ClassDef):
                visit(node.body, f"{path}.{node.name}")
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                here = f"{path}.{node.name}"
                for n in walk(node):
                    if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in set_methods:
                        q = ast_qualname(n.func.value, imports, module, local)
                        if q:
                            out.setdefault(q, set()).add(here)

    visit(tree.body, module)
    return {k: sorted(v) for k, v in out.items()}


def merge_sets(index) -> dict[str, set[str]]:
    """ContextVar (qualified) -> the functions of the project that set it (`mod.Class.fn`)."""
    out: dict[str, set[str]] = {}
    for _, facts in index.facts("hygiene.cv_sets"):
        for q, fns in facts.items():
            out.setdefault(q, set()).update(fns)
    return out


def cv_setters(index) -> dict[str, set[str]]:
    """`merge_sets`, once per index (PRP408)."""
    return index.derived("hygiene.cv_sets", merge_sets)


def foreign_thread_locals(index) -> frozenset[str]:
    """Module-level thread-locals of modules without event-loop code (reported where an `async def` uses them)."""
    return index.derived("hygiene.foreign_locals", lambda ix: frozenset(
        q for _, f in ix.facts("hygiene.thread_locals") if not f.get("loop") for q in f["names"]))


def subclasses(index, key: str, bases: Iterable[str]) -> frozenset[str]:
    """The project's classes that derive (maybe through project classes) from one of `bases`; cached as `key`."""
    bases = set(bases)
    return index.derived(key, lambda ix: frozenset(c for c in ix.class_bases() if ix.is_subclass(c, bases)))


def project_tokens(index) -> set[str]:
    """Names of the project's sync-wrapper decorators, ContextVars and thread-locals: the last names a
    decorator must have for the check's `_may_wrap` to look at it (not a prefilter: see the rules' needs)."""
    def names(ix) -> frozenset[str]:
        out = {q.rsplit(".", 1)[-1] for q in project_decorators(ix)}
        out |= {q.rsplit(".", 1)[-1] for q in project_reexports(ix) if resolve_decorator(ix, q)}
        out |= {q.rsplit(".", 1)[-1] for q in ix.project_contextvars()}
        out |= {q.rsplit(".", 1)[-1] for _, f in ix.facts("hygiene.thread_locals") for q in f["names"]}
        return frozenset(out)

    return set(index.derived("hygiene.tokens", names))
