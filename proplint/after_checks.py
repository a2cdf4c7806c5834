"""What the engine does with a file's findings after the checks, before `noqa`: the project-wide judgements
no single check makes (`core/relevance.py` holds the model). Findings in code that is not application code
(`__main__` blocks, pytest fixtures, command-line tools) are dropped unless `scope = "all"`; a fix that would
import OpenTelemetry into a project that does not use it is withheld, with what to write instead; where the
project's only context is its own request-scoped ContextVars, a boundary finding says which one proplint sees.
"""

from __future__ import annotations

import ast
from pathlib import Path

from proplint.core.ast_names import decorator_name, parse_ast
from proplint.core.context import AstFile
from proplint.core.reach import (enqueued_only_without_context, module_stem, reached_only_by_tools,
                                 reached_only_on_a_timer, unreached_definition)
from proplint.core.relevance import generated, path_kind, project_context, region_of, regions, standalone_untraced
from proplint.core.rule import Finding
from proplint.core.units import importable_tops, task_decorators, units
from proplint.registry import all_rules, families
from proplint.settings import Settings


def after_checks(findings: list[Finding], source: bytes | str, ast_file: AstFile | None, relpath: str,
                 settings: Settings) -> list[Finding]:
    if settings.config.scope == "application" and findings:
        if ast_file is None:
            ast_file = AstFile.parse(source, relpath, settings.index.src)
        findings = _in_application_code(findings, ast_file, source, settings)
        findings = _where_the_unit_has_context(findings, relpath, settings)
        findings = _in_reached_code(findings, ast_file, relpath, settings)
    if findings:
        _say_why_context_exists(findings, settings)
        _drop_fixes_with_undeclared_imports(findings, settings, relpath)
    return findings


#: top-level modules a fix may import only in a project that uses them (they are not the standard library's)
_OPTIONAL_MODULES = {"opentelemetry": "OpenTelemetry (opentelemetry-api)"}


def _imports_here(settings: Settings, relpath: str, module: str) -> bool:
    """Some application file under the same dependency folder as `relpath` imports `module`."""
    folder = max((d for d in settings.index.dep_dirs if d and relpath.startswith(d + "/")), key=len, default="")
    return any(rel.startswith(folder + "/") and module in names for rel, names in settings.index.tracing())


def _drop_fixes_with_undeclared_imports(findings: list[Finding], settings: Settings, relpath: str) -> None:
    """A fix never imports a package the project does not use: in a project with no OpenTelemetry (no
    import in its application code, no dependency, no launcher), a fix that would add
    `from opentelemetry... import ...` is withheld, and the message says what to write instead."""
    project = project_context(settings.index, settings.catalog)
    used = {"opentelemetry"} if "opentelemetry" in project.tracers or any(
        d.startswith("opentelemetry") for d in settings.index.deps) else set()
    own = settings.index.deps_for(relpath)
    if own is not None and not any(d.startswith("opentelemetry") for d in own):
        # a service of a monorepo with dependency files of its own that declare no OpenTelemetry
        used = set() if not _imports_here(settings, relpath, "opentelemetry") else used
    for f in findings:
        if f.fix is None:
            continue
        missing = {i.module.split(".")[0] for i in f.fix.imports} & set(_OPTIONAL_MODULES) - used
        if missing:
            names = ", ".join(_OPTIONAL_MODULES[m] for m in sorted(missing))
            f.fix = None
            f.message += (f" (no automatic fix: the project does not use {names}; carry the context with the "
                          f"project's own helper, or add the dependency)")
            continue
        absent = sorted({d for i in f.fix.imports if (d := _instrumentation_dist(i.module))
                         and not _declares(settings, relpath, d)})
        if absent:
            f.fix = None
            f.message += f" (no automatic fix: {', '.join(absent)} is not among the dependencies)"


def _instrumentation_dist(module: str) -> str | None:
    """`opentelemetry.instrumentation.aiohttp_client` -> `opentelemetry-instrumentation-aiohttp-client`: the
    distribution an instrumentation module comes from (the API's own modules need no more than the API)."""
    parts = module.split(".")
    if len(parts) >= 3 and parts[:2] == ["opentelemetry", "instrumentation"]:
        return "opentelemetry-instrumentation-" + parts[2].replace("_", "-")
    return None


def _declares(settings: Settings, relpath: str, dist: str) -> bool:
    """The dependency files that apply to `relpath` (its service's and the root's; the whole project's when
    only the root has any) declare `dist` (or a distribution named on from it: `...-kafka-python` for
    `...-kafka`, or the contrib bundle), or `opentelemetry-bootstrap` installs what is used. A project whose
    dependency files name no OpenTelemetry distribution at all says nothing either way: the fix is offered
    (unsafe: the rule says so)."""
    index = settings.index
    if index.bootstrap or not index.deps:
        return True  # installed by `opentelemetry-bootstrap`, or no dependency file names any OpenTelemetry
    own = index.deps_for(relpath)
    declared = set(index.deps) if own is None else set(own) | set(index.dep_dirs.get("", ()))
    return any(d == dist or d.startswith(dist + "-") or d == "opentelemetry-contrib-instrumentations"
               for d in declared)


def _say_why_context_exists(findings: list[Finding], settings: Settings) -> None:
    """Where it is not obvious that a context exists (the project uses no tracing SDK; its context is its own
    request-scoped ContextVars), a boundary finding says why proplint believes it does."""
    project = project_context(settings.index, settings.catalog)
    if project.tracers or not project.request_vars:
        return
    why = next(e for e in project.evidence if "ContextVar" in e)
    boundary = tuple(f.prefix for f in families() if f.boundary)
    for f in findings:
        if f.code.startswith(boundary):
            f.message += f" (the request context proplint sees: {why})"


def _where_the_unit_has_context(findings: list[Finding], relpath: str, settings: Settings) -> list[Finding]:
    """In a deployed unit (`core/units.py`), a boundary finding stays only where the unit has a source of
    context (the caller's side: HTTP calls, threads, producers) or a reader of it (a consumer's side)."""
    boundary = tuple(f.prefix for f in families() if f.boundary)
    if not any(f.code.startswith(boundary) for f in findings):
        return findings
    unit = units(settings.index, settings.catalog).of(relpath)
    if not unit.deployed:
        return findings
    rules = all_rules()
    out = []
    for f in findings:
        rule = rules.get(f.code)
        if f.code.startswith(boundary) and rule is not None:
            if not (unit.readers if rule.side == "receiver" else unit.sources):
                continue
        out.append(f)
    return out


def _in_reached_code(findings: list[Finding], ast_file: AstFile | None, relpath: str,
                     settings: Settings) -> list[Finding]:
    """The findings outside module-level code nothing in the application refers to (`core/reach.py`)."""
    if ast_file is None or not any(f.code[3] != "0" for f in findings):
        return findings
    app_refs, test_refs = settings.index.referenced()
    public_too = units(settings.index, settings.catalog).of(relpath).deployed
    stem = module_stem(relpath)
    findings = [f for f in findings if f.code[3] == "0"
                or unreached_definition(ast_file.tree, f.line, app_refs, test_refs, stem, public_too) is None]
    findings = _enqueued_with_context(findings, ast_file, relpath, settings)
    findings = _reached_with_a_request(findings, ast_file, relpath, settings)
    # on the caller's side of a boundary, what only command-line tools and scripts reach has no request
    app_only, tests, tools = settings.index.referenced_by_kind()
    if not tools or not findings:
        return findings
    rules = all_rules()
    boundary = tuple(f.prefix for f in families() if f.boundary)
    sources = _context_sources(settings)
    return [f for f in findings if not (f.code.startswith(boundary) and getattr(rules.get(f.code), "side", "") == "caller")
            or reached_only_by_tools(ast_file.tree, f.line, app_only, tests | tools, stem, public_too, sources) is None]


def _reached_with_a_request(findings: list[Finding], ast_file: AstFile, relpath: str,
                            settings: Settings) -> list[Finding]:
    """On the caller's side of a boundary, code only functions run on a timer reach (`@register_recurring_task`,
    `[[scheduled_decorator]]`) runs with no request (`core/reach.py`)."""
    rules = all_rules()
    boundary = tuple(f.prefix for f in families() if f.boundary)
    caller = [f for f in findings
              if f.code.startswith(boundary) and getattr(rules.get(f.code), "side", "") == "caller"]
    scheduled = frozenset(e.name for e in settings.catalog.get("scheduled_decorator"))
    if not caller or not scheduled:
        return findings
    trees: dict[str, "ast.Module | None"] = {}

    def referring(name: str):
        for rel, facts in settings.index.files.items():
            if rel != relpath and name in facts.get("refs", ()) and path_kind(rel) is None:
                if rel not in trees:
                    try:
                        trees[rel] = ast.parse((Path(settings.config.root) / rel).read_bytes())
                    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
                        trees[rel] = None
                yield trees[rel]

    timed = {f.line for f in caller if reached_only_on_a_timer(ast_file.tree, f.line, scheduled, referring)}
    return [f for f in findings if f.line not in timed or f not in caller]


def _enqueued_with_context(findings: list[Finding], ast_file: AstFile, relpath: str,
                           settings: Settings) -> list[Finding]:
    """On the receiver's side, a task handler that only a scheduler, the task itself, tools or tests enqueue
    receives no caller's context: not restoring one loses nothing (`core/reach.py`)."""
    rules = all_rules()
    if not any(getattr(rules.get(f.code), "side", "") == "receiver" for f in findings):
        return findings
    enqueuers = settings.index.app_names()
    handlers = frozenset(f.line for f in findings if getattr(rules.get(f.code), "side", "") == "receiver")
    named = {name: rel for name in _handler_names(ast_file.tree, handlers)
             if (rel := enqueuers.get(name, relpath)) not in (None, relpath)}
    if named:  # a task only one other file names, in code only tools reach there: as if nobody named it
        enqueuers = dict(enqueuers)
        for name, rel in named.items():
            if _named_only_without_context(rel, name, settings, enqueuers):
                enqueuers[name] = relpath
    return [f for f in findings if getattr(rules.get(f.code), "side", "") != "receiver"
            or enqueued_only_without_context(ast_file.tree, f.line, enqueuers, relpath, handlers) is None]


def _handler_names(tree: ast.Module, lines: frozenset[int]) -> list[str]:
    return [s.name for s in tree.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)) and s.lineno in lines]


def _named_only_without_context(rel: str, name: str, settings: Settings, enqueuers: dict[str, "str | None"]) -> bool:
    """Every use of `name` in the application file `rel` (its imports aside) is inside a module-level
    definition that holds no request (`core/reach.py`): one only command-line tools, scripts and tests reach
    (a data-population helper a `populatedb` command runs), or a task handler of that file that only a
    scheduler, itself or such code enqueues (a nightly clean-up enqueueing the task)."""
    try:
        tree = parse_ast((Path(settings.index.root) / rel).read_bytes())
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    app_only, tests, tools = settings.index.referenced_by_kind()
    public_too = units(settings.index, settings.catalog).of(rel).deployed
    stem, sources = module_stem(rel), _context_sources(settings)
    uses = [stmt for stmt in tree.body if not isinstance(stmt, (ast.Import, ast.ImportFrom)) and any(
        (isinstance(n, ast.Name) and n.id == name) or (isinstance(n, ast.Attribute) and n.attr == name)
        for n in ast.walk(stmt))]
    tasks = task_decorators(settings.catalog)
    handlers = frozenset(s.lineno for s in tree.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))
                         and any(decorator_name(d) in tasks for d in s.decorator_list))

    def without_context(stmt: ast.stmt) -> bool:
        if stmt.lineno in handlers:
            return enqueued_only_without_context(tree, stmt.lineno, enqueuers, rel, handlers) is not None
        return bool(tools) and reached_only_by_tools(tree, stmt.lineno, app_only, tests | tools, stem, public_too,
                                                     sources) is not None

    return bool(uses) and all(without_context(stmt) for stmt in uses)


def _context_sources(settings: Settings) -> frozenset[str]:
    """The last names of the calls that start or restore a context: the catalog's sources and extractors and
    the configured extractors."""
    cat = settings.catalog
    names = {e.name.rsplit(".", 1)[-1] for e in cat.get("trace_activity") if e.does == "source"}
    names |= {e.name.rsplit(".", 1)[-1] for e in cat.get("extractor")}
    names |= {n.rsplit(".", 1)[-1].rsplit(":", 1)[-1] for n in getattr(settings.config, "extractors", ())}
    return frozenset(names)


def _imported(ast_file: AstFile, settings: Settings) -> bool:
    """A file of the project imports this file's module (the modules every file imports: once per index)."""
    imported = settings.index.derived("imported_modules", lambda ix: frozenset(
        m for facts in ix.files.values() for m in facts.get("modules", ())))
    return bool(ast_file.module_name) and ast_file.module_name in imported


def _in_application_code(findings: list[Finding], ast_file: AstFile | None,
                         source: bytes | str = b"", settings: Settings | None = None) -> list[Finding]:
    """The findings outside `__main__` blocks, pytest fixtures and command-line tools, in a file no tool
    generated (`core/relevance.py`)."""
    if generated(source):
        return [f for f in findings if f.code == "PRP001"]
    if ast_file is None:
        return findings
    if settings is not None and not settings.index.launcher and standalone_untraced(
            ast_file.tree, ast_file.imports, importable_tops(settings.index),
            tuple(m for e in settings.catalog.get("tracing_sdk") for m in e.modules)) \
            and not _imported(ast_file, settings):
        return [f for f in findings if f.code == "PRP001"]
    found = regions(ast_file.tree, ast_file.imports)
    return [f for f in findings if f.code == "PRP001" or region_of(f.line, found) is None] if found else findings
