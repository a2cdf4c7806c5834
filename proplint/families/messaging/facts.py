"""The messaging family's project facts: the index collector `collect_messaging_facts` (one `messaging` fact
per file: injector calls, for PRP306 and for the style of the configured injector the fixes use;
instrumentor call sites with the project modules imported after them, for PRP305; module-level clients
and decorated task functions, so that a task imported from another module keeps its receiver kind), its
token gate `gate_tokens(catalog)`, and the queries over the index the check and the needs share
(`project_facts`, `instrumented`).
"""

from __future__ import annotations

import ast
import re
from typing import Any

from proplint.core.catalog import Catalog
from proplint.config import Config
from proplint.core.ast_names import ast_qualname, all_nodes, walk
from proplint.core.relevance import path_kind
from proplint.core.resolve import BUILDING_PROVIDERS, NESTED_CONTAINER
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
    words = {"inject", "instrument", ".task", "shared_task", "actor", "dependency_injector"}
    words.update(h for e in catalog.get("consumer") for h in e.holders)
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
    for node in all_nodes(tree) if reachable else ():
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
        for node in walk(stmt) if isinstance(stmt, ast.Expr) else ():
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "instrument" \
                    and isinstance(node.func.value, ast.Call):
                library = instrumentors.get(ast_qualname(node.func.value.func, imports) or "")
                if library:
                    after = [m for s in statements[i + 1:] for m in _imported_modules(s, module)]
                    sites.append({"library": library, "line": stmt.lineno, "after": sorted(set(after))})
    if sites:
        out["instrument_sites"] = sites

    # the catalog clients' top-level modules this file imports: a method matched by its name only must belong
    # to a library the project uses
    tops = {c.split(".")[0] for e in catalog.get("message_client") for c in e.constructors}
    used = sorted({q.split(".")[0] for q in imported} & tops)
    if used:
        out["libraries"] = used

    clients = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            kind = _kind_of_call(stmt.value, imports, ctors)
            if kind:
                clients[stmt.targets[0].id] = kind
    if clients:
        out["clients"] = clients

    # a client kept on an application's state (`app.state.producer = AIOKafkaProducer(...)` in a lifespan or a
    # start-up hook) and used as `request.app.state.producer` elsewhere: keyed by the attribute's name
    state = {}
    for node in all_nodes(tree):  # `ast.walk`'s order, listed once for every collector of this tree
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Attribute) \
                        and target.value.attr == "state":
                    kind = _kind_of_call(node.value, imports, ctors)
                    if kind:
                        state[target.attr] = kind
    if state:
        out["state_clients"] = state

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

    # dependency_injector containers: what each provider of a module-level container class builds (`producer =
    # providers.Singleton(AIOKafkaProducer, ...)`, `providers.Resource(init_producer)`), for `Provide[...]`
    containers = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.ClassDef):
            provided = _providers(stmt, imports, module)
            if provided:
                containers[stmt.name] = provided
    if containers:
        out["containers"] = containers
    # module-level functions that build a client of the catalog (a container's `Resource` initializer or
    # factory function): by return annotation, or the constructor of what they return or yield
    builders = {}
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            kind = _built_kind(stmt, imports, ctors)
            if kind:
                builders[stmt.name] = kind
    if builders:
        out["builders"] = builders

    # the functions a worker of this module runs (arq's `class WorkerSettings: functions = [...]`), by qualified
    # name: listed here, they may be defined (and processed) in another module that never imports the library
    listed = {}
    for entry in catalog.get("consumer"):
        if entry.form != "listed":
            continue
        libs = {c.split(".")[0] for e in catalog.get("message_client") if e.name == entry.kind for c in e.constructors}
        anywhere = bool(libs & {q.split(".")[0] for q in imported})
        if not anywhere and not entry.holders:
            continue
        for value in _listed_values(tree, set(entry.methods), None if anywhere else set(entry.holders)):
            q = ast_qualname(value, imports)
            if q is None and isinstance(value, ast.Name) and module:
                q = f"{module}.{value.id}"
            if q:
                listed.setdefault(q, entry.kind)
    if listed:
        out["listed"] = listed
    return out


def _providers(cls: ast.ClassDef, imports: dict, module: str | None) -> dict[str, list]:
    """`attr -> ["build", qualified callable, first string argument or ""]` for a provider building what its
    first argument makes, `attr -> ["container", qualified container class]` for a nested container."""
    local = {s.name for s in cls.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    out: dict[str, list] = {}
    for stmt in cls.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            name, value = stmt.targets[0].id, stmt.value
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
            name, value = stmt.target.id, stmt.value
        else:
            continue
        if not isinstance(value, ast.Call) or not value.args or isinstance(value.args[0], ast.Starred):
            continue
        provider = ast_qualname(value.func, imports)
        if provider not in BUILDING_PROVIDERS and provider != NESTED_CONTAINER:
            continue
        first = value.args[0]
        q = ast_qualname(first, imports)
        if q is None and isinstance(first, ast.Name) and module and first.id not in local:
            q = f"{module}.{first.id}"  # a class or function of the module (`providers.Resource(init_producer)`)
        if q is None:
            continue
        if provider == NESTED_CONTAINER:
            out[name] = ["container", q]
        else:
            second = value.args[1] if len(value.args) > 1 else None
            literal = second.value if isinstance(second, ast.Constant) and isinstance(second.value, str) else ""
            out[name] = ["build", q, literal]
    return out


#: generics whose first argument is what a function returns or yields to the caller
_UNWRAPPED = {"Iterator", "AsyncIterator", "Generator", "AsyncGenerator", "Iterable", "AsyncIterable", "Awaitable",
              "Optional", "Coroutine", "Annotated"}


def _built_kind(fn: ast.FunctionDef | ast.AsyncFunctionDef, imports: dict, ctors: dict) -> str | None:
    """The catalog kind of the client a function returns or yields: its return annotation's class, or the
    constructor of the value of a `return`/`yield` (directly, or through a name the function binds to it)."""
    ann = fn.returns
    while isinstance(ann, ast.Subscript) and (ast_qualname(ann.value, imports) or "").rsplit(".", 1)[-1] in _UNWRAPPED:
        ann = ann.slice.elts[0] if isinstance(ann.slice, ast.Tuple) and ann.slice.elts else ann.slice
    if ann is not None:
        for arg, kind in ctors.get(ast_qualname(ann, imports) or "", ()):
            if not arg:
                return kind
    nodes = walk(fn)
    bound = {}
    for node in nodes:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            bound.setdefault(node.targets[0].id, node.value)
    for node in nodes:
        if isinstance(node, (ast.Return, ast.Yield)) and node.value is not None:
            value = node.value
            if isinstance(value, ast.Name):
                value = bound.get(value.id)
            kind = _kind_of_call(value, imports, ctors) if value is not None else None
            if kind:
                return kind
    return None


def _listed_values(tree: ast.Module, keys: set[str], holders: set[str] | None = None) -> list[ast.expr]:
    """The elements of the list or tuple literals assigned to one of `keys` (a module or class attribute) or
    passed as that keyword; an element `func(fn, ...)` gives `fn` (the check's `_listed_names`). With
    `holders`, only the class attributes of module-level classes of those names."""
    found = []
    nodes = all_nodes(tree) if holders is None else [
        n for stmt in tree.body if isinstance(stmt, ast.ClassDef) and stmt.name in holders for n in stmt.body]
    for node in nodes:
        value = None
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id in keys for t in node.targets):
            value = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id in keys:
            value = node.value
        elif isinstance(node, ast.keyword) and node.arg in keys:
            value = node.value
        if isinstance(value, (ast.List, ast.Tuple)):
            for item in value.elts:
                if isinstance(item, ast.Call) and item.args:
                    item = item.args[0]
                if isinstance(item, (ast.Name, ast.Attribute)):
                    found.append(item)
    return found


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
    merged: dict[str, Any] = {"injectors": set(), "sites": [], "clients": {}, "tasks": {}, "modules": {},
                              "libraries": set(), "state_clients": {}, "listed": {}, "containers": {},
                              "builders": {}}
    for rel, facts in index.facts("messaging"):
        module = index.module_name(rel)
        merged["injectors"].update(tuple(u) for u in facts.get("injectors", ()))
        merged["libraries"].update(facts.get("libraries", ()))
        for name, kind in facts.get("state_clients", {}).items():
            # one attribute name bound to clients of two kinds in the project says nothing
            merged["state_clients"][name] = kind if merged["state_clients"].get(name, kind) == kind else None
        for site in facts.get("instrument_sites", ()):
            merged["sites"].append({**site, "module": module})
        for q, kind in facts.get("listed", {}).items():
            merged["listed"].setdefault(q, []).append((kind, rel))
        if module:
            for name, provided in facts.get("containers", {}).items():
                merged["containers"][f"{module}.{name}"] = (provided, rel)
            for name, kind in facts.get("builders", {}).items():
                merged["builders"][f"{module}.{name}"] = kind
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


def listed_handlers(index: ProjectIndex, application_only: bool) -> dict[str, str]:
    """Qualified name -> kind of the functions a worker runs because some module lists them (arq's
    `WorkerSettings.functions`); with `application_only` (`scope = "application"`), lists in tests, examples
    and scripts are left out: nothing is reported there, and the application's worker is not one of them."""
    def compute(ix: ProjectIndex) -> dict[str, str]:
        out: dict[str, str] = {}
        for q, where in project_facts(ix)["listed"].items():
            for kind, rel in where:
                if not (application_only and path_kind(rel)):
                    out.setdefault(q, kind)
        return out
    return index.derived(f"messaging.listed:{application_only}", compute)


class Containers:
    """The project's dependency_injector containers: what kind of client each provider gives
    (`Provide[Container.producer]`, `Container.producer()`), through nested containers
    (`Container.kafka.producer`) and container classes that inherit providers."""

    def __init__(self, index: ProjectIndex, catalog: Catalog, application_only: bool) -> None:
        facts = project_facts(index)
        ctors = _ctor_kinds(catalog)
        self.bases = index.class_bases()
        #: provider path (`app.containers.Container.producer`) -> kind, for providers that build a client
        self.kinds: dict[str, str] = {}
        #: provider path -> the container class it nests
        self.nested: dict[str, str] = {}
        for cls, (provided, rel) in facts["containers"].items():
            if application_only and path_kind(rel):
                continue  # a test's container: application code does not ask it for anything
            for attr, desc in provided.items():
                if desc[0] == "container":
                    self.nested[f"{cls}.{attr}"] = desc[1]
                    continue
                _, built, literal = desc
                kind = next((k for arg, k in ctors.get(built, ()) if not arg or arg == literal), None)
                kind = kind or facts["builders"].get(built)
                if kind:
                    self.kinds[f"{cls}.{attr}"] = kind
        self.classes = sorted({path.rpartition(".")[0] for path in [*self.kinds, *self.nested]})

    def attributes(self) -> dict[str, set[str]]:
        """kind -> the names of the providers that give one (a use names the provider: `Container.producer`,
        `Provide["kafka.producer"]`, `container.producer()`)."""
        out: dict[str, set[str]] = {}
        for path, kind in self.kinds.items():
            out.setdefault(kind, set()).add(path.rpartition(".")[2])
        return out

    def kind(self, path: str, _depth: int = 0) -> str | None:
        """The kind of client the provider at `path` (container class + attributes) gives."""
        if _depth > 8:
            return None
        if path in self.kinds:
            return self.kinds[path]
        parts = path.split(".")
        for i in range(len(parts) - 1, 0, -1):
            nested = self.nested.get(".".join(parts[:i]))
            if nested is not None and i < len(parts):
                return self.kind(".".join([nested, *parts[i:]]), _depth + 1)
        owner, _, attr = path.rpartition(".")
        for base in self.bases.get(owner, ()):
            found = self.kind(f"{base}.{attr}", _depth + 1)
            if found:
                return found
        return None

    def by_id(self, provider_id: str) -> str | None:
        """`Provide["producer"]` / `Provide["kafka.producer"]`: the kind every container with that provider
        agrees on (the string names a provider of the container the module is wired to)."""
        kinds = {self.kind(f"{cls}.{provider_id}") for cls in self.classes}
        kinds.discard(None)
        return kinds.pop() if len(kinds) == 1 else None


def containers(index: ProjectIndex, catalog: Catalog, application_only: bool) -> Containers:
    return index.derived(f"messaging.containers:{catalog.fingerprint}:{application_only}",
                         lambda ix: Containers(ix, catalog, application_only))


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


# --- which parts of the project restore a received message's context --------------------------------------

#: words a called name must contain to be kept as a possible call of a project restorer (the index stores
#: only these: a restorer is a tracing helper, and its name says so)
_TRACING_WORDS = ("trace", "context", "extract", "carrier", "span", "propagat", "otel", "telemetry", "continue_from")
#: the start of a word of a called name that says the caller traces (a trace, a tracer, spans, telemetry):
#: a word of the name, not any substring (`extract_correlation_id` is not about tracing)
_TRACING_CALLS = ("trac", "span", "otel", "telemetry")
#: words of a tracing call that only sets tracing up (a tracer provider: `init_tracing`) or traces requests
#: (`setup_tracing_middleware`): neither starts a span a consumer's processing runs under (`core/units.py`)
_SETUP_WORDS = frozenset({"init", "initialize", "initialise", "setup", "configure", "install", "middleware",
                          "shutdown", "teardown"})
_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
#: folders that hold one unit (a service, an app, a library) per subfolder in a monorepo
_CONTAINERS = frozenset({"services", "apps", "packages", "libs", "components", "projects", "src", "modules"})


def collect_restoring(tree: ast.Module, imports: dict, module: str | None, config: Config,
                      catalog: Catalog) -> dict[str, Any]:
    """Index collector: the module-level functions of this file that restore a carrier's context (they call
    an extractor: `opentelemetry.propagate.extract` or a configured one), and the extractors and tracing
    helpers (qualified names with a tracing word) it calls outside those definitions: a module that only
    defines the helper does not restore anything by itself."""
    extractors = {e.name for e in catalog.get("extractor")} | set(config.extractors)
    injectors = {e.name for e in catalog.get("injector")} | set(config.injectors)
    out: dict[str, Any] = {}
    defs = []
    filling: list[str] = []
    own_extractors: list[str] = []
    handing_back: list[str] = []
    helpers = []  # the restorer definitions: calls inside them are the helper's, not a use of it
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and module:
            called = {ast_qualname(n.func, imports) for n in walk(stmt) if isinstance(n, ast.Call)}
            if called & extractors:
                defs.append(f"{module}.{stmt.name}")
                helpers.append(stmt)
                if _helper_of(stmt, imports, extractors, returns=True):
                    own_extractors.append(f"{module}.{stmt.name}")  # the project's own (`proplint init`)
                    if not any(isinstance(n, ast.Call) and (_attr(n.func) == "attach" or ast_qualname(
                            n.func, imports) == "opentelemetry.context.attach") for n in walk(stmt)):
                        handing_back.append(f"{module}.{stmt.name}")  # restores nothing by itself
            elif called & injectors and _helper_of(stmt, imports, injectors, returns=False):
                filling.append(f"{module}.{stmt.name}")  # the project's own injector (`proplint init`)
    if defs:
        out["restorers"] = defs
    if filling:
        out["injectors"] = filling
    if own_extractors:
        out["extractor_helpers"] = own_extractors
    if handing_back:
        out["returning_extractors"] = handing_back
    inside = {id(n) for h in helpers for n in walk(h)}
    calls = set()
    fields: dict[str, set[str]] = {}
    for node in all_nodes(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and id(node) not in inside:
            for dec in node.decorator_list:  # a bare `@traced` calls the helper too (a call is seen below)
                q = None if isinstance(dec, ast.Call) else ast_qualname(dec, imports)
                if q and (q in extractors or any(w in q.rsplit(".", 1)[-1].lower() for w in _TRACING_WORDS)
                          or tracing_call(q)):
                    calls.add(q)
        if isinstance(node, ast.Call) and id(node) not in inside:
            q = ast_qualname(node.func, imports)
            if q and (q in extractors or any(w in q.rsplit(".", 1)[-1].lower() for w in _TRACING_WORDS)):
                calls.add(q)
                field = _carrier_field(node.args[0]) if node.args else None
                if field:
                    fields.setdefault(q, set()).add(field)
    if calls:
        out["calls"] = sorted(calls)
    if fields:
        out["carrier_fields"] = {q: sorted(v) for q, v in fields.items()}
    return out


def _attr(func: ast.AST) -> str:
    return func.attr if isinstance(func, ast.Attribute) else ""


def _helper_of(fn: ast.AST, imports: dict, names: set[str], returns: bool) -> bool:
    """A helper, not a use: it calls one of `names` on (part of) a parameter of its own, and, for an
    extractor, hands the result back (returns it, or yields under it as a context manager)."""
    args = fn.args  # type: ignore[attr-defined]
    params = {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)} - {"self", "cls"}
    for n in walk(fn):
        if isinstance(n, ast.Call) and ast_qualname(n.func, imports) in names and n.args:
            roots = {x.id for x in walk(n.args[0]) if isinstance(x, ast.Name)}
            if roots & params:
                if not returns:
                    return True
                return any(isinstance(x, (ast.Return, ast.Yield)) and x.value is not None
                           for x in walk(fn)) or any(isinstance(x, ast.Yield) for x in walk(fn))
    return False


def _carrier_field(arg: ast.AST) -> str | None:
    """Where a helper's carrier argument lives: `metadata` of `envelope.metadata`, `trace_context` of
    `payload["trace_context"]`, `headers` of `headers`."""
    if isinstance(arg, ast.Attribute):
        return arg.attr
    if isinstance(arg, ast.Subscript) and isinstance(arg.slice, ast.Constant) and isinstance(arg.slice.value, str):
        return arg.slice.value
    if isinstance(arg, ast.Name):
        return arg.id
    return None


def restoring_tokens(catalog: Catalog) -> tuple[bytes, ...]:
    """A restorer calls an extractor (`extract`, or a configured one), and the project's helpers that restore
    or trace are named for it (`use_trace_context`, `init_tracing`, `otel_span`): other files are not read."""
    names = {e.name.rsplit(".", 1)[-1] for e in catalog.get("extractor")}
    return tuple(sorted({b"extract", b"inject", b"trace", b"Trace", b"tracing", b"Tracing", b"otel", b"_span", b"span(",
                         b"continue_from", *(n.encode() for n in names)}))


def unit_of(relpath: str) -> str:
    """The part of a monorepo a file belongs to: `services/orders` for `services/orders/app/x.py`, `app` for
    `app/x.py`; the whole project for a top-level module."""
    parts = relpath.split("/")[:-1]
    if len(parts) >= 2 and parts[0] in _CONTAINERS:
        return "/".join(parts[:2])
    return parts[0] if parts else ""


def restoring_modules(index: ProjectIndex, catalog: Catalog, config: Config) -> frozenset[str]:
    """The project's modules that restore a received message's context: they call an extractor, or a
    project function that calls one (the project's own helper, in any module). A call names the helper as
    its importers see it: through a re-export (`pkg.observability.use_trace_context` for a def in
    `pkg/observability/tracing.py`) and from another import root (`libs/pkg/src/pkg/...`), so a call matches
    a helper of the same name whose module path holds the call's top-level package."""
    def compute(ix: ProjectIndex) -> frozenset[str]:
        extractors = {e.name for e in catalog.get("extractor")} | set(config.extractors)
        helpers: dict[str, list[list[str]]] = {}
        for _, f in ix.facts("messaging.restoring"):
            for d in f.get("restorers", ()):
                helpers.setdefault(d.rsplit(".", 1)[-1], []).append(d.split("."))

        def restores(call: str) -> bool:
            if call in extractors:
                return True
            parts = call.split(".")
            return any(parts[0] in path[:-1] for path in helpers.get(parts[-1], ()))

        return frozenset(m for rel, f in ix.facts("messaging.restoring")
                         if any(restores(c) for c in f.get("calls", ())) and (m := index.module_name(rel)))
    return index.derived("messaging.restoring_modules", compute)


#: the last names of calls that continue a trace from a received carrier: other SDKs' (Sentry's
#: `continue_trace`, `Transaction.continue_from_headers`); an `extract` counts only on a tracing SDK
#: (`sqlalchemy.func.extract` is not one)
CONTINUING = frozenset({"continue_trace", "continue_from_headers", "continue_from_environ"})
_EXTRACTING = ("opentelemetry.", "ddtrace.", "sentry_sdk.")


def continues_no_trace(index: ProjectIndex, catalog: Catalog, config: Config) -> bool:
    """Nothing in the project (tests included) continues a trace from a carrier: no module restores one
    (`restoring_modules`), no function calls an extractor (a helper, `restorers`), and no call of another SDK's
    continuation or of a configured extractor is made anywhere."""
    if restoring_modules(index, catalog, config):
        return False
    names = CONTINUING | {q.rsplit(".", 1)[-1] for q in config.extractors}
    return not any(f.get("restorers") or any(_continues(q, names) for q in f.get("calls", ()))
                   for _, f in index.facts("messaging.restoring"))


def _continues(q: str, names: set[str] | frozenset[str]) -> bool:
    last = q.rsplit(".", 1)[-1]
    return last in names or (last == "extract" and q.startswith(_EXTRACTING))


def traced_units(index: ProjectIndex) -> frozenset[str]:
    """The units that trace: a file imports a tracing SDK, starts a span or reads the current context (a
    `[[trace_activity]]` source or reader), or calls a tracing helper (a word of its name is about tracing or
    spans: `trace_operation`, `inject_trace_context`, `start_span`, `get_tracer`), other than one that only
    sets tracing up or traces requests (`init_tracing`, `setup_tracing_middleware`)."""
    def compute(ix: ProjectIndex) -> frozenset[str]:
        units = {unit_of(rel) for rel, _ in ix.tracing()}
        units |= {unit_of(rel) for rel, f in ix.facts("messaging.restoring")
                  if any(tracing_call(c) for c in f.get("calls", ()))}
        # a span started or a context read by a catalog call, whatever holds the tracer (`tracer =
        # init_tracing(...)`; `tracer.start_as_current_span(...)`): `core/units.py`'s sources and readers
        units |= {unit_of(rel) for rel, act in ix.facts("activity") if act.get("source") or act.get("reader")}
        return frozenset(units)
    return index.derived("messaging.traced_units", compute)


def tracing_call(qualname: str) -> bool:
    """The called name (its last part) has a word about tracing or spans, and none that says it only sets
    tracing up or traces requests."""
    words = [w.lower() for w in _WORD.findall(qualname.rsplit(".", 1)[-1])]
    return any(w.startswith(_TRACING_CALLS) for w in words) and not _SETUP_WORDS.intersection(words)

