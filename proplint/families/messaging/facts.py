"""The messaging family's project facts: the index collector `collect_messaging_facts` (one `messaging` fact
per file: injector calls, for PRP306 and for the style of the configured injector the fixes use;
instrumentor call sites with the project modules imported after them, for PRP305; module-level clients
and decorated task functions, so that a task imported from another module keeps its receiver kind), its
token gate `gate_tokens(catalog)`, and the queries over the index the check and the needs share
(`project_facts`, `instrumented`).
"""

from __future__ import annotations

import ast
from typing import Any

from proplint.core.catalog import Catalog
from proplint.config import Config
from proplint.core.ast_names import ast_qualname, module_name_for
from proplint.index import ProjectIndex


# --- project facts ----------------------------------------------------------------------------------


def split_ctor(spec: str) -> tuple[str, str]:
    """`boto3.client(sqs)` -> (`boto3.client`, `sqs`); a plain name -> (name, "")."""
    if spec.endswith(")") and "(" in spec:
        name, _, arg = spec[:-1].partition("(")
        return name, arg
    return spec, ""


def _first_literal(call: ast.Call) -> str | None:
    if call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
        return call.args[0].value
    for kw in call.keywords:
        if kw.arg == "service_name" and isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str):
            return kw.value.value
    return None


def _ctor_kinds(catalog: Catalog) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {}
    for e in catalog.get("message_client"):
        for spec in e.constructors:
            name, arg = split_ctor(spec)
            out.setdefault(name, []).append((arg, e.name))
    return out


def _kind_of_call(call: ast.AST, imports: dict, ctors: dict) -> str | None:
    if isinstance(call, ast.Await):
        call = call.value
    if not isinstance(call, ast.Call):
        return None
    q = ast_qualname(call.func, imports)
    for arg, kind in ctors.get(q or "", ()):
        if not arg or _first_literal(call) == arg:
            return kind
    return None


def _module_level(tree: ast.Module):
    """Module-level statements in order, descending into if/try/with blocks (not functions)."""
    for node in tree.body:
        yield from _flatten(node)


def _flatten(node: ast.stmt):
    yield node
    if isinstance(node, (ast.If, ast.Try, ast.With)):
        for field in ("body", "orelse", "finalbody", "handlers"):
            for child in getattr(node, field, []):
                if isinstance(child, ast.ExceptHandler):
                    for c in child.body:
                        yield from _flatten(c)
                else:
                    yield from _flatten(child)


def _imported_modules(node: ast.stmt, module: str | None) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level and module:
            parts = module.split(".")[: -node.level]
            base = ".".join([*parts, base] if base else parts)
        return [base, *(f"{base}.{a.name}" for a in node.names)]
    return []


def gate_tokens(catalog: Catalog) -> tuple[bytes, ...]:
    """Words without which a file has no messaging fact: injector and instrumentor calls, task decorators, and
    the top-level modules of the loaded catalog's clients, the user's catalogs included (the index then skips
    parsing other files)."""
    words = {"inject", "instrument", ".task", "shared_task", "actor"}
    for entry in catalog.get("message_client"):
        for name in [*entry.constructors, *entry.decorators]:
            words.add(name.split(".")[0])
    return tuple(sorted(w.encode() for w in words))


def collect_messaging_facts(tree: ast.Module, imports: dict, module: str | None, config: Config,
                     catalog: Catalog) -> dict[str, Any]:
    injectors = {e.name for e in catalog.get("injector")} | set(config.injectors)
    early = {e.library for e in catalog.get("early_import")}
    instrumentors = {e.name: e.library for e in catalog.get("instrumentor")
                     if e.kind == "class" and e.library in early}
    ctors = _ctor_kinds(catalog)
    decorators = {d: e.name for e in catalog.get("message_client") for d in e.decorators}
    out: dict[str, Any] = {}

    statement_calls: set[int] = set()
    calls: list[ast.Call] = []
    # an injector can only be called where it (or a module on its path) is imported: skip the walk otherwise
    imported = set(imports.values())
    reachable = any(q == v or q.startswith(v + ".") for q in injectors for v in imported)
    for node in ast.walk(tree) if reachable else ():
        if isinstance(node, ast.Call):
            calls.append(node)
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            statement_calls.add(id(node.value))
    uses = []
    for node in calls:
        q = ast_qualname(node.func, imports)
        if q in injectors:
            style = "fills" if id(node) in statement_calls and node.args else "returns"
            uses.append([q, style])
    if uses:
        out["injectors"] = sorted({tuple(u) for u in uses})

    statements = list(_module_level(tree))
    sites = []
    for i, stmt in enumerate(statements):
        for node in ast.walk(stmt) if isinstance(stmt, ast.Expr) else ():
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "instrument" \
                    and isinstance(node.func.value, ast.Call):
                library = instrumentors.get(ast_qualname(node.func.value.func, imports) or "")
                if library:
                    after = [m for s in statements[i + 1:] for m in _imported_modules(s, module)]
                    sites.append({"library": library, "line": stmt.lineno, "after": sorted(set(after))})
    if sites:
        out["instrument_sites"] = sites

    clients = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            kind = _kind_of_call(stmt.value, imports, ctors)
            if kind:
                clients[stmt.targets[0].id] = kind
    if clients:
        out["clients"] = clients

    tasks = {}
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for dec in stmt.decorator_list:
                target = dec.func if isinstance(dec, ast.Call) else dec
                q = ast_qualname(target, imports)
                if q in decorators:
                    tasks[stmt.name] = ["kind", decorators[q]]
                elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
                    base = target.value.id
                    where = imports.get(base) or (f"{module}.{base}" if module else base)
                    tasks[stmt.name] = ["method", where, target.attr]
    if tasks:
        out["tasks"] = tasks
    return out


# --- queries over the index ---------------------------------------------------------------------------


def instrumentor_packages(catalog: Catalog) -> dict[str, str]:
    """Instrumented library -> the distribution of its instrumentation (for zero-code detection)."""
    return {e.library: e.package for e in catalog.get("instrumentor") if e.package}


def instrumented(index: ProjectIndex, packages: dict[str, str], libraries) -> bool:
    """One of `libraries` is instrumented by the project (an instrumentor call) or runs zero-code."""
    return any(index.instrumented(lib) or index.zero_code(lib, packages.get(lib, "-")) for lib in libraries)


_CACHE: dict[int, tuple[ProjectIndex, dict]] = {}


def project_facts(index: ProjectIndex) -> dict[str, Any]:
    """The `messaging` facts of the whole project, merged: computed once per index."""
    cached = _CACHE.get(id(index))
    if cached is not None and cached[0] is index:
        return cached[1]
    merged: dict[str, Any] = {"injectors": set(), "sites": [], "clients": {}, "tasks": {}, "modules": {}}
    for rel, facts in index.facts("messaging"):
        module = module_name_for(rel)
        merged["injectors"].update(tuple(u) for u in facts.get("injectors", ()))
        for site in facts.get("instrument_sites", ()):
            merged["sites"].append({**site, "module": module})
        if module:
            merged["modules"][module] = rel
            for name, kind in facts.get("clients", {}).items():
                merged["clients"][f"{module}.{name}"] = kind
            for name, desc in facts.get("tasks", {}).items():
                merged["tasks"][f"{module}.{name}"] = desc
    if len(_CACHE) > 8:
        _CACHE.clear()
    _CACHE[id(index)] = (index, merged)
    return merged


def imported_after(index: ProjectIndex, module: str | None, library: str) -> bool:
    """Another module of the project imports `module` (or a submodule) only after its module-level call of
    `library`'s instrumentor (PRP305)."""
    for site in project_facts(index)["sites"]:
        if site["library"] != library:
            continue
        if module and site["module"] != module and any(m == module or m.startswith(module + ".")
                                                       for m in site["after"]):
            return True
    return False
