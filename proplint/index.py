"""Project-wide facts: instrumentors called, zero-code launchers, dependencies, classes, the factory.

Built with the standard library's `ast` (several times cheaper than LibCST, and enough for imports,
calls, class bases and signatures); the code is parsed, never imported or run. Facts are cached per file
in `.proplint_cache/` keyed by the file's content, proplint's version, the catalog and the config, so
an unchanged project (and every flake8 worker after the first) pays one JSON read.

The index's own facts are `CORE_COLLECTORS`; families add theirs as data (`Family.collectors`, each a
`core.family.Collector`: a function `(tree, imports, module, config, catalog)` returning JSON-serialisable
data, aggregated in `ProjectIndex.facts(name)`), and the caller passes them all to `build_index`.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from proplint import __version__
from proplint.config import Config
from proplint.core.catalog import Catalog
from proplint.core.ast_names import ast_imports, ast_qualname, module_name_for, parse_ast, all_nodes, walk
from proplint.core.family import Collector
from proplint.core.injectors import collect_injector_helpers
from proplint.core.relevance import collect_tracing, path_kind, tracing_tokens
from proplint.core.reach import imported_modules, reference_names, scheduled_names
from proplint.core.reexports import collect_reexports
from proplint.core.roots import import_roots, infer
from proplint.core.units import activity_tokens, collect_activity
from proplint.files import project_files
from proplint.project_files import DEPLOYMENT_FILES, normalise_dist, scan_text_files

CACHE_DIR = ".proplint_cache"
#: files whose references do not make code reached in production (`ProjectIndex.referenced`)
_NOT_REACHING = frozenset({"example", "benchmark"})
#: files that run as command-line tools or scripts: what only they reach runs with no request
_TOOLS = frozenset({"cli", "script", "migration", "tooling"})

#: A collector resolved against the loaded catalog: (name, fn, tokens or None, when or None, parse). With
#: tokens, files containing none of them are skipped; with `when`, modules for which it is false. A file no
#: collector wants (none with `parse`) is not parsed at all: most of a project never needs an AST for the index.
Resolved = tuple[str, Callable[..., Any], "tuple[bytes, ...] | None", "Callable[[str | None, Config], bool] | None",
                 bool]


# --- built-in collectors ---------------------------------------------------------------------------


def _instrumented(tree, imports, module, config, catalog) -> list[str]:
    """Libraries whose instrumentor is called: `X().instrument()`, `x = X(); x.instrument()`, `fn()`."""
    classes = {e.name: e.library for e in catalog.get("instrumentor") if e.kind == "class"}
    functions = {e.name: e.library for e in catalog.get("instrumentor") if e.kind == "function"}
    instances: dict[str, str] = {}
    found: set[str] = set()
    for node in all_nodes(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            q = ast_qualname(node.value.func, imports)
            if q in classes:
                for t in node.targets:
                    if isinstance(t, ast.Name):
                        instances[t.id] = classes[q]
    for node in all_nodes(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        q = ast_qualname(func, imports)
        if q in functions:
            found.add(functions[q])
        if isinstance(func, ast.Attribute) and func.attr == "instrument":
            recv = func.value
            if isinstance(recv, ast.Call):
                rq = ast_qualname(recv.func, imports)
                if rq in classes:
                    found.add(classes[rq])
            elif isinstance(recv, ast.Name) and recv.id in instances:
                found.add(instances[recv.id])
    return sorted(found)


def _classes(tree, imports, module, config, catalog) -> dict[str, list[str]]:
    """Top-level classes of the module and the qualified names of their bases."""
    if not module:
        return {}
    local = {n.name for n in tree.body if isinstance(n, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))}
    out: dict[str, list[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            bases = [ast_qualname(b, imports, module, local) for b in node.bases]
            out[f"{module}.{node.name}"] = [b for b in bases if b]
    return out


def _class_methods(tree, imports, module, config, catalog) -> dict[str, list[str]]:
    """Top-level classes of the module and the methods (and class attributes) each defines itself."""
    if not module:
        return {}
    out: dict[str, list[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            names = [n.name for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
            names += [t.id for n in node.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)]
            out[f"{module}.{node.name}"] = sorted(set(names))
    return out


def _signature(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[str, Any]:
    a = fn.args
    return {
        "params": [p.arg for p in (*a.posonlyargs, *a.args, *a.kwonlyargs)],
        "positional": len(a.posonlyargs) + len(a.args),
        "var_kw": a.kwarg is not None,
        "var_pos": a.vararg is not None,
    }


def _is_factory_module(module: str | None, config: Config) -> bool:
    return bool(config.factory()) and config.factory()[0] == module


def _factory(tree, imports, module, config, catalog) -> dict[str, Any] | None:
    """The configured `http-client-factory`: its kind, signature and what it constructs."""
    target = config.factory()
    if target is None or module != target[0]:
        return None
    name = target[1].split(".")[0]
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name:
            constructs: list[str] = []
            transport = False
            for sub in walk(node):
                if isinstance(sub, ast.Call):
                    q = ast_qualname(sub.func, imports)
                    if q:
                        constructs.append(q)
                    if any(k.arg == "transport" for k in sub.keywords):
                        transport = True
            if isinstance(node, ast.ClassDef):
                init = next((n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
                sig = _signature(init) if init else {"params": [], "positional": 1, "var_kw": True, "var_pos": True}
                if init:
                    sig["params"] = sig["params"][1:]
                    sig["positional"] -= 1
                bases = [ast_qualname(b, imports) for b in node.bases]
                return {"kind": "client", "constructs": [b for b in bases if b] + constructs,
                        "transport": transport, **sig}
            decorators = {ast_qualname(d.func if isinstance(d, ast.Call) else d, imports) for d in node.decorator_list}
            if "contextlib.asynccontextmanager" in decorators:
                kind = "async_cm"
            elif "contextlib.contextmanager" in decorators:
                kind = "cm"
            else:
                kind = "client"
            return {"kind": kind, "constructs": constructs, "transport": transport, **_signature(node)}
    return None


def _contextvars(tree, imports, module, config, catalog) -> list[str]:
    """Names of ContextVars the project defines at module level."""
    out = []
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Call):
            if ast_qualname(node.value.func, imports) == "contextvars.ContextVar":
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                out += [f"{module}.{t.id}" for t in targets if isinstance(t, ast.Name)]
    return out


CORE_COLLECTORS = (
    Collector("tracing", collect_tracing, tokens=tracing_tokens),
    Collector("instrumented", _instrumented, tokens=(b"instrument",)),
    Collector("classes", _classes, tokens=(b"class",)),
    Collector("class_methods", _class_methods, tokens=(b"class",)),
    Collector("factory", _factory, when=_is_factory_module),
    Collector("contextvars", _contextvars, tokens=(b"ContextVar",)),
    Collector("activity", collect_activity, tokens=activity_tokens),
    Collector("reexports", collect_reexports, tokens=(b"from .", b"__all__")),
    Collector("injector_helpers", collect_injector_helpers, tokens=(b"inject(",)),
)


@dataclass
class ProjectIndex:
    root: str = ""
    files: dict[str, dict[str, Any]] = field(default_factory=dict)  # relpath -> facts
    deps: frozenset[str] = frozenset()
    launcher: bool = False
    bootstrap: bool = False
    disabled: frozenset[str] = frozenset()
    #: names of `[[launcher_signal]]` catalog entries found in launcher/env files
    signals: frozenset[str] = frozenset()
    #: normalised distribution -> version constraints found for it in dependency and lock files
    #: (`==1.22.0`, `>=1.15,<1.24`; a locked version as `==<version>`); OpenTelemetry distributions only
    pins: dict[str, list[str]] = field(default_factory=dict)
    #: `[[tracing_sdk]]` names found among the dependencies or launchers
    sdks: frozenset[str] = frozenset()
    #: the project has deployment files (it is an application, not a library)
    deployed: bool = False
    #: the folders (relative, "" for the root) that are deploy units (`core/units.py`)
    units: frozenset[str] = frozenset()
    #: the import roots (`Config.src`, or inferred when none is configured: `core/roots.py`); `module_name(rel)`
    #: names a file from them
    src: tuple[str, ...] = ()
    #: (root, why) of the inferred ones
    inferred_src: tuple[tuple[str, str], ...] = ()
    #: `module:attr` entry points named in deployment and dependency files (`core/reach.py`)
    entry_points: frozenset[str] = frozenset()
    #: folder (relative, "" for the root) of each dependency file -> the OpenTelemetry distributions it declares
    dep_dirs: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: relpath -> sha256 of the text the facts were read from, for the files the index parsed with `ast`
    parsed: dict[str, str] = field(default_factory=dict)

    def deps_for(self, relpath: str) -> frozenset[str] | None:
        """The OpenTelemetry distributions the nearest folder above `relpath` with dependency files declares
        (a service of a monorepo: its own requirements), or None when only the root declares any."""
        best = None
        for d in self.dep_dirs:
            if d and relpath.startswith(d + "/") and (best is None or len(d) > len(best)):
                best = d
        return frozenset(self.dep_dirs[best]) if best is not None else None
    _bases: dict[str, list[str]] | None = field(default=None, repr=False, compare=False)
    _derived: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def module_name(self, relpath: str) -> str | None:
        return module_name_for(relpath, self.src)

    def parsed_facts(self, relpath: str, source: bytes) -> dict[str, Any] | None:
        """The file's facts, when the index parsed exactly these bytes with `ast` (they parse, and every
        collector that wanted the file read them); None otherwise (another text, or not parsed)."""
        digest = self.parsed.get(relpath)
        if digest is None or digest != hashlib.sha256(source).hexdigest():
            return None
        return self.files.get(relpath)

    def referenced(self) -> tuple[frozenset[str], frozenset[str]]:
        """(the names application files refer to in other modules, with the entry points named in deployment
        and configuration files; the names test files refer to) (`core/reach.py`). Examples and benchmarks
        count as neither."""
        app, tests, tools = self.referenced_by_kind()
        return app | tools, tests

    def referenced_by_kind(self) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
        """`referenced()` with the names only command-line tools and scripts refer to apart: (application
        files and entry points, tests, tools)."""
        def compute(index: "ProjectIndex") -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
            app, tests, tools = set(index.entry_points), set(), set()
            for rel, facts in index.files.items():
                if facts.get("refs"):
                    kind = path_kind(rel)
                    if kind == "test":
                        tests.update(facts["refs"])
                    elif kind in _TOOLS:
                        tools.update(facts["refs"])
                    elif kind not in _NOT_REACHING:
                        app.update(facts["refs"])
            return frozenset(app), frozenset(tests), frozenset(tools)
        return self.derived("referenced", compute)

    def app_names(self) -> dict[str, "str | None"]:
        """The names application files refer to in other modules, less those a file names only in schedule
        entries (`core/reach.py` `scheduled_names`), each with the one file naming it (None: several): what
        may enqueue a task from code that holds a caller's context."""
        def compute(index: "ProjectIndex") -> dict[str, "str | None"]:
            out: dict[str, "str | None"] = {}
            for rel, facts in index.files.items():
                if facts.get("refs") and path_kind(rel) is None:
                    for name in set(facts["refs"]) - set(facts.get("scheduled", ())):
                        out[name] = rel if name not in out else None
            return out
        return self.derived("app_names", compute)

    def facts(self, name: str) -> list[tuple[str, Any]]:
        """(relpath, value) for every file with a non-empty value of collector `name`. Listed once per index
        (checks ask for it on every file: a scan and a sort of the whole project each time made the cost per
        file grow with the project's size)."""
        key = f"facts:{name}"
        found = self._derived.get(key)
        if found is None:
            found = self._derived[key] = tuple((rel, f[name]) for rel, f in sorted(self.files.items()) if f.get(name))
        return list(found)

    def derived(self, key: str, compute: Callable[["ProjectIndex"], Any]) -> Any:
        """`compute(self)`, memoized per index: project-wide data a family derives from the facts."""
        if key not in self._derived:
            self._derived[key] = compute(self)
        return self._derived[key]

    def instrumented(self, library: str) -> bool:
        return library in self.derived("instrumented", lambda ix: frozenset(
            lib for _, libs in ix.facts("instrumented") for lib in libs))

    def has_dependency(self, dist: str) -> bool:
        return normalise_dist(dist) in self.deps

    def zero_code(self, library: str, package: str) -> bool:
        """Runs under `opentelemetry-instrument` and the library's instrumentation is installed."""
        if not self.launcher or library in self.disabled:
            return False
        return self.bootstrap or self.has_dependency(package)

    def class_bases(self) -> dict[str, list[str]]:
        """Project class -> qualified names of its bases (computed once per index; do not mutate)."""
        if self._bases is None:
            out: dict[str, list[str]] = {}
            for _, classes in self.facts("classes"):
                out.update(classes)
            self._bases = out
        return self._bases

    def is_subclass(self, qualname: str, bases: set[str], _seen: set[str] | None = None) -> bool:
        """Whether a project class derives (transitively, through project classes) from one of `bases`."""
        if qualname in bases:
            return True
        seen = _seen if _seen is not None else set()
        if qualname in seen:
            return False
        seen.add(qualname)
        return any(self.is_subclass(b, bases, seen) for b in self.class_bases().get(qualname, ()))

    def factory(self) -> dict[str, Any] | None:
        for _, info in self.facts("factory"):
            return info
        return None

    def tracing(self) -> list[tuple[str, list[str]]]:
        """(relpath, `[[tracing_sdk]]` names) of the application files that import a tracing SDK."""
        return self.facts("tracing")

    def project_contextvars(self) -> list[str]:
        return list(self.derived("contextvars", lambda ix: tuple(v for _, names in ix.facts("contextvars")
                                                                  for v in names)))


def _file_facts(source: bytes, relpath: str, config: Config, catalog: Catalog,
                collectors: tuple[Resolved, ...]) -> tuple[dict[str, Any], bool]:
    """The file's facts, and whether it was parsed with `ast` for them."""
    module = module_name_for(relpath, config.src)
    wanted = [(name, fn, parse) for name, fn, tokens, when, parse in collectors
              if (tokens is None or any(t in source for t in tokens)) and (when is None or when(module, config))]
    base: dict[str, Any] = {}
    roots = import_roots(source)
    if roots:
        base["roots"] = roots
    refs = reference_names(source, relpath.endswith("__init__.py"))
    if refs:
        base["refs"] = refs
        scheduled = scheduled_names(source)
        if scheduled:
            base["scheduled"] = scheduled
    modules = imported_modules(source, module, relpath.endswith("__init__.py"))
    if modules:
        base["modules"] = modules
    if not any(parse for _, _, parse in wanted):
        return base, False
    try:
        tree = parse_ast(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return {}, False
    imports = ast_imports(tree, module, relpath.endswith("__init__.py"))
    out = base
    for name, fn, _ in wanted:
        try:
            value = fn(tree, imports, module, config, catalog)
        except RecursionError:
            value = None
        if value:
            out[name] = value
    return out, True


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """proplint's version plus the size and mtime of each of its modules: a cache written by other code
    (an upgrade, or an edited checkout installed with `pip install -e`) is never read as current."""
    here = Path(__file__).resolve().parent
    stamps = []
    for path in sorted(here.rglob("*.py")):
        try:
            st = path.stat()
        except OSError:
            continue
        stamps.append(f"{path.relative_to(here).as_posix()}:{st.st_size}:{st.st_mtime_ns}")
    return f"{__version__}+{hashlib.sha256(chr(10).join(stamps).encode()).hexdigest()[:16]}"


def _cache_key(config: Config, catalog: Catalog, collectors: tuple[Resolved, ...]) -> str:
    names = ",".join(sorted(name for name, *_ in collectors))
    return f"{code_fingerprint()}-{catalog.fingerprint}-{config.fingerprint()}-{names}"


def ensure_cache_dir(root: Path) -> Path | None:
    path = root / CACHE_DIR
    try:
        path.mkdir(exist_ok=True)
        ignore = path / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# Automatically created by proplint.\n*\n")
        return path
    except OSError:
        return None


def atomic_write_text(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


#: below this many files to (re)read, the index is built in-process (a pool costs ~0.1 s to start)
POOL_MIN_FILES = 200
_WORKER: tuple[Config, Catalog, tuple[Resolved, ...]] | None = None


def _init_index_worker(config: Config, catalog: Catalog, collectors: tuple[Resolved, ...]) -> None:
    global _WORKER
    _WORKER = (config, catalog, collectors)


def _read_facts(job: tuple[str, str, str | None, Any, bool]) -> tuple[str, Any, bool] | None:
    """(digest, facts, parsed with `ast`) for one file: the cached facts when the content is unchanged, None if
    unreadable."""
    path, rel, old_sha, old_facts, old_parsed = job
    try:
        source = Path(path).read_bytes()
    except OSError:
        return None
    digest = hashlib.sha256(source).hexdigest()
    if old_sha == digest:
        return digest, old_facts, old_parsed
    config, catalog, collectors = _WORKER
    return (digest, *_file_facts(source, rel, config, catalog, collectors))


def _read_all(jobs_list: list[tuple[str, str, str | None, Any, bool]], config: Config, catalog: Catalog,
              collectors: tuple[Resolved, ...], jobs: int) -> list[tuple[str, Any, bool] | None]:
    if jobs > 1 and len(jobs_list) >= POOL_MIN_FILES:
        from concurrent.futures import ProcessPoolExecutor
        from concurrent.futures.process import BrokenProcessPool

        try:
            with ProcessPoolExecutor(jobs, initializer=_init_index_worker,
                                     initargs=(config, catalog, collectors)) as pool:
                return list(pool.map(_read_facts, jobs_list, chunksize=max(1, min(64, len(jobs_list) // (jobs * 4)))))
        except (BrokenProcessPool, OSError):
            pass  # a worker died (or no processes here): build in-process, where `ast` errors are caught
    _init_index_worker(config, catalog, collectors)
    return [_read_facts(job) for job in jobs_list]


def build_index(config: Config, catalog: Catalog, collectors: tuple[Collector, ...], use_cache: bool = True,
                jobs: int = 1) -> ProjectIndex:
    """The project's facts: from the cache for unchanged files, else parsed (with `jobs` processes).

    `collectors` are the families' (`registry.collectors()`); the index's own `CORE_COLLECTORS` are added."""
    root = config.root
    py_files, other = project_files(root, config)
    cache_dir = ensure_cache_dir(root) if use_cache else None
    inferred: list[tuple[str, str]] = []
    if not config.src:
        inferred = infer_roots(root, py_files, cache_dir)
        if inferred:
            config = replace(config, src=tuple(sorted((r for r, _ in inferred), key=len, reverse=True)))
    resolved = tuple((c.name, c.fn, c.tokens_for(catalog), c.when, c.parse) for c in (*CORE_COLLECTORS, *collectors))
    key = _cache_key(config, catalog, resolved)
    cache_file = cache_dir / "index.json" if cache_dir else None
    cached: dict[str, Any] = {}
    if cache_file is not None and cache_file.is_file():
        try:
            data = json.loads(cache_file.read_text(encoding="utf-8"))
            if data.get("key") == key:
                cached = data.get("files", {})
        except (OSError, ValueError):
            cached = {}
    files: dict[str, dict[str, Any]] = {}
    entries: dict[str, Any] = {}
    changed = False
    todo: list[tuple[str, str, list[int]]] = []
    for path in py_files:
        rel = path.relative_to(root).as_posix()
        try:
            st = path.stat()
        except OSError:
            continue
        stamp = [st.st_mtime_ns, st.st_size]
        entry = cached.get(rel)
        if entry is not None and entry["stamp"] == stamp:
            entries[rel] = entry
            files[rel] = entry["facts"]
        else:
            todo.append((str(path), rel, stamp))
    jobs_list = [(path, rel, *((cached[rel]["sha"], cached[rel]["facts"], cached[rel].get("ast", False))
                               if rel in cached else (None, None, False))) for path, rel, _ in todo]
    for (_, rel, stamp), got in zip(todo, _read_all(jobs_list, config, catalog, resolved, jobs)):
        if got is None:
            continue
        changed = True
        entries[rel] = {"stamp": stamp, "sha": got[0], "facts": got[1], "ast": got[2]}
        files[rel] = got[1]
    if set(cached) != set(entries):
        changed = True
    text = scan_text_files(other, catalog, root)
    if cache_file is not None and changed:
        try:
            atomic_write_text(cache_file, json.dumps({"key": key, "files": entries}))
        except OSError:
            pass
    return ProjectIndex(
        root=str(root),
        files=files,
        deps=frozenset(text["deps"]),
        launcher=text["launcher"],
        bootstrap=text["bootstrap"],
        disabled=frozenset(text["disabled"]),
        signals=frozenset(text["signals"]),
        pins=text["pins"],
        sdks=frozenset(text["sdks"]),
        deployed=text["deployed"],
        units=_deploy_units(root, other, files),
        src=config.src,
        inferred_src=tuple(inferred),
        dep_dirs={_rel_dir(root, d): tuple(v) for d, v in text.get("dep_dirs", {}).items()},
        entry_points=frozenset(text.get("entry_points", ())),
        parsed={rel: e["sha"] for rel, e in entries.items() if e["ast"]},
    )


def _rel_dir(root: Path, folder: str) -> str:
    rel = Path(folder).relative_to(root).as_posix()
    return "" if rel == "." else rel


def infer_roots(root: Path, py_files: list[Path], cache_dir: Path | None) -> list[tuple[str, str]]:
    """`core.roots.infer` over every file's imported top-level names, read from its text (kept in
    `.proplint_cache/roots.json` per file stamp, so a warm run only stats the files)."""
    cache_file = cache_dir / "roots.json" if cache_dir else None
    cached: dict[str, Any] = {}
    if cache_file is not None and cache_file.is_file():
        try:
            cached = json.loads(cache_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            cached = {}
    entries: dict[str, Any] = {}
    for path in py_files:
        rel = path.relative_to(root).as_posix()
        try:
            st = path.stat()
        except OSError:
            continue
        stamp = [st.st_mtime_ns, st.st_size]
        entry = cached.get(rel)
        if entry is None or entry[0] != stamp:
            try:
                entry = [stamp, import_roots(path.read_bytes())]
            except OSError:
                continue
        entries[rel] = entry
    if cache_file is not None and entries != cached:
        try:
            atomic_write_text(cache_file, json.dumps(entries))
        except OSError:
            pass
    return infer(list(entries), {rel: e[1] for rel, e in entries.items()})


def _deploy_units(root: Path, other: list[Path], files: dict[str, Any]) -> frozenset[str]:
    """The folders holding a deployment file and Python code below them; a deployment file with no Python
    below it (`docker/Dockerfile`) deploys the root."""
    found: set[str] = set()
    for path in other:
        if not DEPLOYMENT_FILES.match(path.name):
            continue
        d = path.parent.relative_to(root).as_posix()
        d = "" if d == "." else d
        found.add(d if d == "" or any(rel.startswith(d + "/") for rel in files) else "")
    return frozenset(found)
