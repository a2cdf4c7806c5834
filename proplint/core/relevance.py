"""Is there context to lose here? The part of the relevance model that looks at where code runs.

A boundary loses trace or request context only where a request or trace can be active on the caller's
side. Test code (pytest files, fixtures, harness threads), scripts, examples, benchmarks and command-line
tools run with no request and, as a rule, no tracing set up: what proplint would report there is noise.
So, unless `scope = "all"`, findings are kept only in *application code*:

* by path (relative to the project root): a file under a `tests/`, `test/`, `testing/`, `scripts/`,
  `bin/`, `cli/`, `commands/` (Django's management commands), `examples/`, `example/`, `samples/`,
  `demo(s)/`, `docs/`, `benchmarks/` or `notebooks/` folder, `conftest.py`, `test_*.py`, `*_test.py`,
  `tests.py`, `*_example.py`, `example_*.py`, `setup.py`, `noxfile.py`, `fabfile.py`, `manage.py`; such a
  file is not even parsed;
* by region, inside an application file (read from the stdlib `ast`, only for files with findings): the
  `if __name__ == "__main__":` block (a process starting up: no request yet), a pytest fixture (pytest
  runs its teardown itself), a command of a command-line tool (`@click.command`, `@<group>.command()`,
  `@<typer app>.command()`), and a whole module that is a command-line tool: it builds an `argparse`
  parser, or declares click/typer commands, and has a `__main__` block or a `main()`, while it imports no
  web, RPC or worker framework (so a service's `main.py` that parses `--port` stays application code).

`docs/relevance.md` describes the model for users.
"""

from __future__ import annotations

import ast
import fnmatch
import re
from dataclasses import dataclass

from proplint.core.ast_names import all_nodes, ast_qualname, dotted_name
from proplint.core.versions import pinned_below

#: folder name -> the kind of code it holds (any folder on the path counts)
NON_APPLICATION_DIRS = {
    "tests": "test", "test": "test", "testing": "test", "__tests__": "test",
    "scripts": "script", "script": "script", "bin": "script",
    "examples": "example", "example": "example", "samples": "example", "sample": "example",
    "demo": "example", "demos": "example", "docs": "example", "doc": "example", "tutorial": "example",
    "tutorials": "example", "notebooks": "example",
    "benchmarks": "benchmark", "benchmark": "benchmark", "bench": "benchmark",
    "load_testing": "benchmark", "load_tests": "benchmark", "loadtest": "benchmark", "loadtests": "benchmark",
    "locust": "benchmark",
    "cli": "cli",
    # schema and data migrations run by a command (`manage.py migrate`, `alembic upgrade`), never by a request
    "migrations": "migration", "alembic": "migration",
}
_TEST_FILE = re.compile(r"^(conftest|tests?|test_.+|.+_tests?)\.py$")
_EXAMPLE_FILE = re.compile(r"^(examples?_.+|.+_examples?|demo_.+|.+_demo)\.py$")
_SCRIPT_FILE = re.compile(r"^(setup|noxfile|fabfile|manage)\.py$")

#: modules whose import makes a file a command-line tool's (with a `__main__` block or `main()`)
CLI_MODULES = ("argparse", "click", "typer", "fire", "docopt", "optparse")
#: modules whose import makes a file serve requests or consume work: never a mere tool
SERVER_MODULES = ("fastapi", "flask", "starlette", "django", "aiohttp.web", "sanic", "tornado", "grpc",
                  "uvicorn", "gunicorn", "hypercorn", "litestar", "quart", "falcon", "bottle", "pyramid",
                  "celery", "dramatiq", "rq", "arq", "huey", "faust", "kombu", "nameko", "socketio",
                  "websockets", "aiokafka", "kafka", "confluent_kafka", "pika", "aio_pika", "nats",
                  "paho", "redis", "boto3", "botocore", "google.cloud.pubsub_v1", "opentelemetry")
_FIXTURE_DECORATORS = ("pytest.fixture", "pytest_asyncio.fixture")


#: folder or module names under which code talks to other vendors' systems: a boundary there leaves the system
VENDOR_PARTS = frozenset({
    "integrations", "integration", "plugins", "plugin", "destinations", "query_runner", "query_runners",
    "connectors", "webhooks", "webhook", "notifications", "oauth", "social", "third_party", "thirdparty",
    "vendors", "external",
})


#: folder names (not module names: a `providers.py` may hold dependency-injection providers) under which
#: code adapts other vendors' services: language-model and speech providers, search and tool vendors
VENDOR_FOLDERS = frozenset({
    "providers", "provider", "llm", "llms", "llm_api", "llm_providers", "llm_clients", "voice", "speech",
    "web_search", "search_providers", "external_apps", "saas",
})


def vendor_module(relpath: str) -> bool:
    """A module whose path says it talks to another vendor's system (`integrations/slack.py`,
    `llm_api/openai.py`, `voice/providers/azure.py`): what it sends or receives there has no reader of this
    system's trace on the other side."""
    parts = relpath[:-3].split("/") if relpath.endswith(".py") else relpath.split("/")
    return any(p.lower() in VENDOR_PARTS for p in parts) or any(p.lower() in VENDOR_FOLDERS for p in parts[:-1])


def external_name(name: str, patterns: tuple[str, ...]) -> bool:
    """A host, topic, subject or queue name matching one of the config's `external` globs."""
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


def shadowed(relpath: str, files) -> bool:
    """`pkg/providers.py` next to a package `pkg/providers/`: Python imports the package, so the module can
    never be imported, and what it would do never runs."""
    return relpath.endswith(".py") and not relpath.endswith("__init__.py") and f"{relpath[:-3]}/__init__.py" in files


def path_kind(relpath: str) -> str | None:
    """"test", "script", "cli", "migration", "example", "benchmark" or "tooling" for a file that is not
    application code by its path; None for application code."""
    parts = relpath.split("/")
    for i, folder in enumerate(parts[:-1]):
        kind = NON_APPLICATION_DIRS.get(folder.lower())
        if kind:
            return kind
        if folder.startswith(".") and folder not in (".", ".."):
            return "tooling"  # a hidden folder: `.github/`, `.semgrep/` rule fixtures, `.devcontainer/`
        if folder == "commands" and i and parts[i - 1] == "management":
            return "cli"  # Django's management commands
    name = parts[-1]
    if _TEST_FILE.match(name):
        return "test"
    if _SCRIPT_FILE.match(name):
        return "script"
    if _EXAMPLE_FILE.match(name):
        return "example"
    return None


@dataclass(frozen=True)
class Region:
    """Lines `first`..`last` (1-based, inclusive) of a file hold `kind` code ("script", "test", "cli")."""

    first: int
    last: int
    kind: str
    why: str


def _qualname(expr: ast.AST, imports: dict[str, str]) -> str | None:
    """The qualified name through the imports, or the dotted name as written (`cli.command` of a local
    click group)."""
    return ast_qualname(expr, imports) or dotted_name(expr)


def _is_main_guard(node: ast.stmt) -> bool:
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
        return False
    sides = [node.test.left, *node.test.comparators]
    names = {s.id for s in sides if isinstance(s, ast.Name)}
    consts = {s.value for s in sides if isinstance(s, ast.Constant)}
    return names == {"__name__"} and consts == {"__main__"} and isinstance(node.test.ops[0], ast.Eq)


def _imported(imports: dict[str, str], modules: tuple[str, ...]) -> bool:
    return any(q == m or q.startswith(m + ".") for q in imports.values() for m in modules)


def _is_command(fn: ast.AST, imports: dict[str, str]) -> bool:
    for dec in getattr(fn, "decorator_list", ()):
        target = dec.func if isinstance(dec, ast.Call) else dec
        q = _qualname(target, imports) or ""
        last = q.rsplit(".", 1)[-1]
        if q.startswith(("click.", "typer.", "asyncclick.")) and last in ("command", "group"):
            return True
        if isinstance(target, ast.Attribute) and last in ("command", "group") and _imported(
                imports, ("click", "typer", "asyncclick")):
            return True  # `@cli.command()`, `@app.command()` on a click group or typer app
    return False


def _is_fixture(fn: ast.AST, imports: dict[str, str]) -> bool:
    for dec in getattr(fn, "decorator_list", ()):
        target = dec.func if isinstance(dec, ast.Call) else dec
        if _qualname(target, imports) in _FIXTURE_DECORATORS:
            return True
    return False


def regions(tree: ast.Module, imports: dict[str, str]) -> list[Region]:
    """The parts of an application file that are not application code (see the module docstring)."""
    out: list[Region] = []
    main_guard = False
    has_main = False
    commands = False
    for node in tree.body:
        if _is_main_guard(node):
            main_guard = True
            out.append(Region(node.lineno, node.end_lineno or node.lineno, "script",
                              'the `if __name__ == "__main__":` block'))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            has_main = has_main or node.name == "main"
    for node in all_nodes(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            end = node.end_lineno or node.lineno
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            if _is_fixture(node, imports):
                out.append(Region(first, end, "test", f"the pytest fixture `{node.name}`"))
            elif _is_command(node, imports):
                commands = True
                out.append(Region(first, end, "cli", f"the command-line command `{node.name}`"))
    builds_parser = any(isinstance(n, ast.Call) and _qualname(n.func, imports) in (
        "argparse.ArgumentParser", "optparse.OptionParser") for n in all_nodes(tree))
    if ((builds_parser or commands or _imported(imports, ("fire", "docopt"))) and (main_guard or has_main or commands)
            and _imported(imports, CLI_MODULES) and not _imported(imports, SERVER_MODULES)):
        last = max((getattr(n, "end_lineno", None) or n.lineno for n in tree.body), default=1)
        out.append(Region(1, last, "cli", "a command-line tool (it parses its arguments and serves no requests)"))
    return out


#: what a code generator writes at the top of what it generates (Fern, OpenAPI Generator, Stainless, protoc,
#: gRPC...): the file is regenerated from a specification, so a finding there is fixed in the generator's
#: templates or by the code that hands it a client, never in the file
_GENERATED = re.compile(r"this (file|module|code) (was|is|has been) (automatically |auto[- ]?)?generated"
                        r"|auto[- ]?generated (by|from|with|using)|code generated by|@generated\b|do not edit",
                        re.IGNORECASE)
#: the first statement of a module's code: what comes before it is its header (comments, docstring)
_CODE_START = re.compile(r"(import|from|def|class|async|@)\b")


def generated(source: bytes | str) -> str | None:
    """The header line (comments and docstring before the first import or definition) that says a tool
    generated the file, else None."""
    head = source[:4096]
    text = head.decode("utf-8", "replace") if isinstance(head, bytes) else head
    for line in text.splitlines()[:60]:
        if _CODE_START.match(line):
            return None
        if _GENERATED.search(line):
            return line.strip()[:100]
    return None


def standalone_untraced(tree: ast.Module, imports: dict[str, str], project_tops: frozenset[str],
                        sdk_modules: tuple[str, ...]) -> bool:
    """A program of its own that holds no context: the file runs as a process (`if __name__ == "__main__":`),
    imports none of the project's modules (`project_tops`: so nothing of the project sets tracing up in that
    process), no tracing SDK (`sdk_modules`) and no context library, makes no ContextVar, and uses every
    definition it makes itself (none is there for importers). A dev bridge or a one-file tool under an
    application folder: its boundaries have no context to carry. (The caller rules out a zero-code launcher,
    which would trace the process from outside, and a module other files import.)"""
    if not any(_is_main_guard(node) for node in tree.body):
        return False
    if any(isinstance(node, ast.ImportFrom) and node.level for node in tree.body):
        return False  # `from . import settings`: the project's own code
    defined = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    for n in tree.body:  # module-level variables too (`client = AsyncClient()` may be there for importers)
        if isinstance(n, (ast.Assign, ast.AnnAssign)):
            for t in (n.targets if isinstance(n, ast.Assign) else [n.target]):
                if isinstance(t, ast.Name) and not (t.id.startswith("__") and t.id.endswith("__")):
                    defined[t.id] = n
    used: set[str] = set()
    for top in tree.body:
        for n in all_nodes(top):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id in defined and defined[n.id] is not top:
                used.add(n.id)
    if set(defined) - used:
        return False  # a definition the program itself never uses is there for importers: a module too
    for q in imports.values():
        top = q.split(".")[0]
        if top in project_tops or top == "contextvars" or any(q == m or q.startswith(m + ".") for m in sdk_modules):
            return False
    return True


def region_of(line: int, found: list[Region]) -> Region | None:
    return next((r for r in found if r.first <= line <= r.last), None)


# --- the project: is there any context to lose? ---------------------------------------------------------


def collect_tracing(tree, imports, module, config, catalog) -> list[str]:
    """Index collector: the `[[tracing_sdk]]` names whose modules this file imports, for application code
    only (a test that imports OpenTelemetry says nothing about production)."""
    if module and path_kind(module.replace(".", "/") + ".py"):
        return []
    sdks = catalog.get("tracing_sdk")
    found = set()
    for q in imports.values():
        for e in sdks:
            if any(q == m or q.startswith(m + ".") for m in e.modules):
                found.add(e.name)
    return sorted(found)


def tracing_tokens(catalog) -> tuple[bytes, ...]:
    return tuple(sorted({m.split(".")[0].encode() for e in catalog.get("tracing_sdk") for m in e.modules}))



#: the names of ContextVars that hold a request's or a trace's context (a request id, the tenant, the user,
#: a correlation id); a module-level ContextVar named otherwise (a service locator, a DB session buffer, a
#: per-job logging id) does not make a boundary lose anything a caller's request had
REQUEST_SCOPED = re.compile(r"request|(^|_)req(_|$)|trace|span|correlation|(^|_)corr(_|$)|tenant|user|account"
                            r"|(^|_)org(_|$)|organi[sz]ation|principal|actor|auth|locale|baggage|(^|_)ctx(_|$)"
                            r"|context_id|caller|client_id", re.IGNORECASE)


@dataclass(frozen=True)
class ProjectContext:
    """What says a trace or request context exists in the project: `evidence` (readable reasons), and
    whether the project is deployed as a service (`deployed`: it has a Dockerfile, compose file, Procfile,
    service unit...). A library has no deployment files: the application that imports it may hold a
    context, so a library always can lose one. `tracers`: the tracing SDKs it uses; `context_libraries`:
    the context libraries it uses (structlog's contextvars...); `request_vars`: its request-scoped
    ContextVars."""

    deployed: bool
    evidence: tuple[str, ...]
    tracers: frozenset[str] = frozenset()
    context_libraries: frozenset[str] = frozenset()
    request_vars: tuple[str, ...] = ()
    #: OpenTelemetry is used, but never across a process boundary: no carrier injected or extracted, no
    #: instrumentation, no zero-code launcher (spans around language-model calls, exported from one process)
    otel_local: bool = False
    #: each tracing SDK's distributions and the constraints the project's dependency and lock files put on them
    sdk_pins: tuple[tuple[str, tuple[str, ...], tuple[tuple[str, tuple[str, ...]], ...]], ...] = ()

    @property
    def nothing_to_lose(self) -> bool:
        """A deployed service with no tracing SDK, no context library and no ContextVar of its own: its
        HTTP calls, threads and messages have no context to carry."""
        return self.deployed and not self.evidence

    def carried_by_sdk(self, catalog, boundary: str, whole_context: bool, in_process: bool = False) -> str | None:
        """The tracing SDK that carries this boundary for the project by itself (`[[sdk_propagation]]`),
        or None. Only when that SDK is the project's tracing (OpenTelemetry's own instrumentors are the
        families' business), and, where the boundary must carry the whole context (`whole_context`: a
        thread, an executor), the project keeps nothing else in ContextVars. An entry with a `since` release
        does not count where the project pins the SDK below it. `in_process`: the boundary stays in the
        process (a thread), so OpenTelemetry spans the project keeps inside one process need carrying too."""
        # OpenTelemetry spans kept inside one process still need a thread to carry them (`in_process`)
        tracers = self.tracers - {"opentelemetry"} if self.otel_local and not in_process else self.tracers
        if not tracers or "opentelemetry" in tracers:
            return None
        entries = [e for e in catalog.get("sdk_propagation") if e.boundary == boundary and e.sdk in tracers
                   and not self._pinned_below(e.sdk, e.since)]
        if {e.sdk for e in entries} != set(tracers):
            return None
        if whole_context and any(e.carries != "contextvars" for e in entries) and (
                self.request_vars or self.context_libraries):
            return None
        return entries[0].sdk


    def _pinned_below(self, sdk: str, since: str) -> bool:
        """The project pins `sdk` below release `since` (no pin: a current release is assumed)."""
        if not since:
            return False
        for name, dists, pins in self.sdk_pins:
            if name == sdk:
                return pinned_below(dict(pins), dists, since) is not None
        return False


def project_context(index, catalog) -> ProjectContext:
    """From the project index (`index.ProjectIndex`): tracing SDKs and context libraries imported by
    application code or among the dependencies and launchers, the `opentelemetry-instrument` launcher,
    and the request-scoped module-level ContextVars of application code. Computed once per index."""
    return index.derived("core.project_context", lambda ix: _project_context(ix, catalog))


def _project_context(index, catalog) -> ProjectContext:
    kinds = {e.name: e.traces for e in catalog.get("tracing_sdk")}
    used = {name for _, names in index.tracing() for name in names} | set(index.sdks)
    if index.launcher:
        used.add("opentelemetry")
    evidence: list[str] = []
    for rel, names in index.tracing()[:3]:
        evidence.append(f"{rel} imports {', '.join(names)}")
    evidence += [f"{sdk} is among the dependencies or launchers" for sdk in sorted(index.sdks)]
    if index.launcher:
        evidence.append("the project runs under opentelemetry-instrument")
    own = [(rel, name) for rel, names in index.facts("contextvars") if path_kind(rel) is None
           for name in names if REQUEST_SCOPED.search(name.rsplit(".", 1)[-1])]
    evidence += [f"{rel} defines the request-scoped ContextVar {name}" for rel, name in own[:3]]
    crosses = index.launcher or bool(index.facts("instrumented")) or any(
        act.get("instruments") or any(w in why for k in ("source", "reader", "entry") for why in act.get(k, ())
                                      for w in ("inject", "extract", "attach", "interceptor", "Middleware"))
        for _, act in index.facts("activity"))
    return ProjectContext(index.deployed, tuple(evidence),
                          frozenset(n for n in used if kinds.get(n, True)),
                          frozenset(n for n in used if not kinds.get(n, True)),
                          tuple(name for _, name in own),
                          otel_local="opentelemetry" in used and not crosses,
                          sdk_pins=_sdk_pins(index, catalog))


def _sdk_pins(index, catalog):
    pins = getattr(index, "pins", {}) or {}
    out = []
    for e in catalog.get("tracing_sdk"):
        dists = tuple(re.sub(r"[-_.]+", "-", d).lower() for d in e.dists)
        found = tuple((d, tuple(pins[d])) for d in dists if d in pins)
        if found:
            out.append((e.name, dists, found))
    return tuple(out)
