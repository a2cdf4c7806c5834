"""Project facts of the thread family: the index collectors and what the checks read from the index.

The collectors (`FAMILY.collectors`) record, per project file, which classes copy the context themselves
(in `__init__`/`start`/`run`, or in `submit`), override `run`/`__init__`, start themselves or run a service
loop, and whether the code relies on Python 3.14's `thread_inherit_context`. Read back: `flag_state` (is
that flag on wherever the code runs?), `subclasses` (the project's own Thread/executor classes, by name),
`class_info` (what is known of one of them), `covered_by` (an instrumentor for a library is on).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING

from proplint.core.cst import last_part
from proplint.families.threads.lifetime import is_service_loop_ast
from proplint.core.ast_names import ast_qualname, all_nodes, walk

if TYPE_CHECKING:
    from proplint.config import Config
    from proplint.core.catalog import Catalog
    from proplint.index import ProjectIndex

FLAG = "thread_inherit_context"

#: Methods of a Thread subclass in which capturing a context means the class propagates by itself.
COPYING_THREAD_METHODS = ("__init__", "start", "run")


def _context_calls(catalog) -> set[str]:
    return {e.name for e in catalog.get("context_source") if e.kind == "context" and not e.method}


def _calls_any(fn: ast.AST, imports: dict, names: set[str]) -> bool:
    for node in walk(fn):
        if isinstance(node, ast.Call):
            if ast_qualname(node.func, imports) in names:
                return True
            # super().__init__(..., context=<a Context>) on 3.14
            if any(k.arg == "context" and not _is_none(k.value) for k in node.keywords) and \
                    isinstance(node.func, ast.Attribute) and node.func.attr == "__init__":
                return True
    return False


def _is_none(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _calls_self_start(fn: ast.AST) -> bool:
    for node in walk(fn):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "start" \
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "self":
            return True
    return False


def collect_thread_classes(tree, imports, module, config, catalog) -> dict[str, dict[str, bool]]:
    """Per top-level class: does it copy the context (in __init__/start/run, or in submit), override
    run/__init__, start itself, and is its run() a service loop. Bases come from the "classes" facts."""
    if not module:
        return {}
    contexts = _context_calls(catalog)
    out: dict[str, dict[str, bool]] = {}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        methods = {n.name: n for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        facts: dict[str, bool] = {}
        if any(_calls_any(methods[m], imports, contexts) for m in COPYING_THREAD_METHODS if m in methods):
            facts["copies"] = True
        if "submit" in methods and _calls_any(methods["submit"], imports, contexts):
            facts["submit_copies"] = True
        if "run" in methods:
            facts["run"] = True
            if is_service_loop_ast(methods["run"]) or _hosts_long_lived_ast(methods["run"], imports, catalog):
                facts["service"] = True
        if "__init__" in methods:
            facts["init"] = True
            if _calls_self_start(methods["__init__"]):
                facts["self_start"] = True
        if facts:
            out[f"{module}.{node.name}"] = facts
    return out


def _hosts_long_lived_ast(fn: ast.AST, imports: dict, catalog) -> bool:
    """run() hosts an event loop or a server (`self.loop.run_forever()`: a `[[long_lived_target]]`)."""
    entries = catalog.get("long_lived_target")
    methods = {e.name for e in entries if e.method}
    names = {e.name for e in entries if not e.method}
    return any(isinstance(n, ast.Call) and ((isinstance(n.func, ast.Attribute) and n.func.attr in methods)
                                            or ast_qualname(n.func, imports) in names) for n in walk(fn))


def collect_flag_mentions(tree, imports, module, config, catalog) -> bool:
    """The code relies on Python 3.14's thread_inherit_context: it reads `sys.flags.thread_inherit_context`,
    passes `-X thread_inherit_context=1`, or sets `PYTHON_THREAD_INHERIT_CONTEXT` to "1"."""
    for node in all_nodes(tree):
        if isinstance(node, ast.Attribute) and node.attr == "thread_inherit_context" and \
                ast_qualname(node.value, imports) == "sys.flags":
            return True
        if isinstance(node, ast.Constant) and node.value in ("thread_inherit_context=1", "-Xthread_inherit_context=1"):
            return True
        pairs: list[tuple[ast.AST | None, ast.AST]] = []
        if isinstance(node, ast.Dict):
            pairs = list(zip(node.keys, node.values))
        elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Subscript):
            pairs = [(node.targets[0].slice, node.value)]
        for key, value in pairs:
            if isinstance(key, ast.Constant) and key.value == "PYTHON_THREAD_INHERIT_CONTEXT" and \
                    isinstance(value, ast.Constant) and str(value.value) == "1":
                return True
    return False


# --- read from the index -------------------------------------------------------------------------------


def flag_state(index: "ProjectIndex", config: "Config") -> str | None:
    """None: nothing relies on thread_inherit_context; "on": it is on wherever the code runs; else why not."""
    launcher = FLAG in index.signals
    if not launcher and not index.facts(FLAG):
        return None
    if launcher and config.target_minor >= 14:
        return "on"
    where = "a launcher or env file turns it on" if launcher else "the code reads or sets it"
    if config.target_minor < 14:
        return (f"{where}, but target-version {config.target_version} includes Pythons before 3.14, "
                f"where the flag does not exist")
    return f"{where}, but it is off by default on 3.14 builds with the GIL"


def subclasses(index: "ProjectIndex", bases: frozenset[str] | set[str]) -> frozenset[str]:
    """Last names of the project classes deriving (through project classes) from `bases`: what
    `Receivers.project_class` can find, always called by its own name (the call, an annotation, a class
    statement)."""
    bases = frozenset(bases)

    def names(ix) -> frozenset[str]:
        return frozenset(last_part(q) for q in ix.class_bases() if q not in bases and ix.is_subclass(q, bases))

    return index.derived(f"threads.subclasses:{','.join(sorted(bases))}", names) if bases else frozenset()


def own_thread_classes(index: "ProjectIndex", catalog: "Catalog") -> frozenset[str]:
    """Names of the project's own Thread and executor subclasses (a file may use only those)."""
    bases = {e.name for e in catalog.get("thread_spawner") if e.base} | catalog.names("executor")
    return subclasses(index, bases)


@dataclass(frozen=True)
class ClassInfo:
    """A project class that derives (through project classes) from a catalog thread or executor class."""

    base: str
    copies: bool
    submit_copies: bool
    run: bool
    init: bool
    self_start: bool
    service: bool


def class_info(index: "ProjectIndex", qualname: str, known: set[str]) -> ClassInfo | None:
    """What the project index knows about a project class deriving from one of `known` (the catalog's
    thread base classes and executors); None for any other class."""
    bases = index.class_bases()
    if qualname not in bases:
        return None
    all_facts = index.derived("threads.class_facts",
                              lambda ix: {q: f for _, d in ix.facts("thread_classes") for q, f in d.items()})
    order, seen, base = [qualname], {qualname}, None
    for cls in order:
        for b in bases.get(cls, ()):
            if b in known:
                base = base or b
            elif b in bases and b not in seen:
                seen.add(b)
                order.append(b)
    if base is None:
        return None
    facts = [all_facts.get(c, {}) for c in order]
    run = next((f for f in facts if f.get("run")), None)
    return ClassInfo(base, any(f.get("copies") for f in facts), any(f.get("submit_copies") for f in facts),
                     run is not None, any(f.get("init") for f in facts),
                     any(f.get("self_start") for f in facts), bool(run and run.get("service")))


def covered_by(index: "ProjectIndex", catalog: "Catalog", library: str) -> bool:
    """An instrumentor for `library` is on (a project call, or zero-code instrumentation)."""
    if not library:
        return False
    package = next((e.package for e in catalog.get("instrumentor") if e.library == library), "")
    return index.instrumented(library) or index.zero_code(library, package)
