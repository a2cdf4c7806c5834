"""The project's own injector helpers, found in its code (an index fact: stdlib `ast` only, so the index and
the flake8 plugin load no LibCST for it). `core/flow.py` counts what they return or fill as a carrier."""

from __future__ import annotations

import ast

from proplint.core.ast_names import ast_qualname, walk

#: `get_global_textmap().inject(...)` / `.extract(...)`: the global propagator, whatever its class
GLOBAL_TEXTMAP = "opentelemetry.propagate.get_global_textmap"


def collect_injector_helpers(tree, imports, module, config, catalog) -> dict[str, list]:
    """Index collector: the project's own injector helpers, module-level functions that call an injector (the
    catalog's, a configured one, or `.inject(...)` of a propagator) on a carrier they return (`def
    inject(headers=None): headers = headers or {}; TraceContextTextMapPropagator().inject(headers); return
    headers`: style "returns") or on one of their parameters (style "fills", with its position)."""
    if not module:
        return {}
    fillers = {e.name for e in catalog.get("injector") if e.style == "fills"} | set(config.injectors)
    propagators = set(catalog.names("propagator_class")) | {GLOBAL_TEXTMAP}
    out = []
    for stmt in tree.body:
        if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        carriers = set()
        returned = set()
        for node in walk(stmt):
            if isinstance(node, ast.Return) and isinstance(node.value, ast.Name):
                returned.add(node.value.id)
            if not isinstance(node, ast.Call) or not node.args and not node.keywords:
                continue
            func = node.func
            injects = ast_qualname(func, imports) in fillers or (
                isinstance(func, ast.Attribute) and func.attr == "inject" and isinstance(func.value, ast.Call)
                and ast_qualname(func.value.func, imports) in propagators)
            if injects:
                arg = next((k.value for k in node.keywords if k.arg == "carrier"), node.args[0] if node.args else None)
                if isinstance(arg, ast.Name):
                    carriers.add(arg.id)
        params = [a.arg for a in (*stmt.args.posonlyargs, *stmt.args.args)]
        if carriers & returned:
            out.append([f"{module}.{stmt.name}", "returns", -1])
        elif carriers & set(params):
            out.append([f"{module}.{stmt.name}", "fills", params.index(sorted(carriers & set(params))[0])])
    return {"helpers": out} if out else {}


def project_injector_helpers(index) -> tuple[tuple[str, str, int], ...]:
    """Every injector helper the project defines (`collect_injector_helpers`), once per index."""
    return index.derived("core.injector_helpers", lambda ix: tuple(
        (q, style, arg) for _, f in ix.facts("injector_helpers") for q, style, arg in f.get("helpers", ())))
