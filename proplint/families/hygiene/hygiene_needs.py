r"""Where each of PRP401-PRP412 can report (`prefilter.Need`), read off the report paths of the check.

A condition is a list of alternatives (OR), each a conjunction of word groups (a file must have a word
of every group); `[]` can never hold. `words`, `any_of` and `all_of` build them; `Project.named` says
where an expression can resolve to a qualified name `a.b.c` (`Resolver.qualified_name`, `ast_qualname`):

- through an absolute import (`import a.b`, `import a.b as x`, `from a.b import c as y`) every part of
  it is a word of the file, on the import statement or in the expression (`x.c`). The parts are asked
  for as words anywhere, not on an import line: `from .. import (\n a)` (a parenthesised name, which
  the prefilter's import scan does not follow) resolves to `a` too;
- through a relative import in a file of package `a` (or `a.b`), the package's parts are implicit and
  only the rest are words, with the `from` of the import. The package comes from the file's path, so
  that alternative exists only where the root (or `src/`) has a directory `a/` or the index a package
  `a` (`Project`).

Names are matched by their first ASCII run: the prefilter's words are the ASCII `\w+` runs of the bytes,
so an identifier `tracé` is the word `trac` (and a name without ASCII letters cannot be required).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable

from proplint.families.hygiene.hygiene_decorators import (
    applied_to_coroutines, project_decorators, project_reexports, resolve_decorator, vocabulary,
)
from proplint.families.hygiene.hygiene_support import pinned_below
from proplint.families.hygiene.hygiene_walkers import merge_sets
from proplint.index import module_name_for
from proplint.core.needs import Need

Alt = tuple[frozenset[str], ...]
Cond = list[Alt]

TRUE: Cond = [()]
_ASCII_WORD = re.compile(r"[A-Za-z0-9_]+")


def words(*groups: Iterable[str]) -> Cond:
    """A file with a word of every group. An empty group can never be met (e.g. no such project name); a
    group with a name that has no ASCII run is always met (the prefilter cannot see that name)."""
    out = []
    for group in groups:
        found = [_ASCII_WORD.search(n) for n in group]
        if not found:
            return []
        if None not in found:
            out.append(frozenset(m.group() for m in found))
    return [tuple(out)]


def any_of(*conds: Cond) -> Cond:
    return [alt for cond in conds for alt in cond]


def all_of(*conds: Cond) -> Cond:
    out = TRUE
    for cond in conds:
        out = [a + b for a in out for b in cond]
    return out


def last(names: Iterable[str]) -> set[str]:
    return {n.rsplit(".", 1)[-1] for n in names}


def _modules(index) -> tuple[frozenset[str], frozenset[str]]:
    """The index's module names, and its packages with every prefix of them."""
    modules, packages = set(), set()
    for rel in index.files:
        module = module_name_for(rel)
        if module:
            modules.add(module)
            package = module if rel.endswith("__init__.py") else module.rpartition(".")[0]
            packages |= {package.rsplit(".", i)[0] for i in range(package.count(".") + 1)} if package else set()
    return frozenset(modules), frozenset(packages)


class Project:
    """The module names a checked file of this project can have: `module_name_for` its path. Known from
    the index and the directories under the root (or `src/`), so excluded and unsaved files count too,
    except an unsaved file that is neither in the index nor in a package directory that exists (a new
    top-level module, or a file of a new package)."""

    def __init__(self, root: Path, index) -> None:
        self.root = root
        self.modules, self.packages = index.derived("hygiene.modules", _modules)

    def _under_root(self, *parts: str) -> list[Path]:
        return [base.joinpath(*parts) for base in (self.root, self.root / "src")]

    def may_be(self, module: str) -> bool:
        """Whether a checked file can be module `a.b`: one of the index, or a file `a/b.py` or `a/b/__init__.py`
        (saved or not) in a directory that exists."""
        parts = module.split(".")
        if module in self.modules or module in self.packages or ".".join(parts[:-1]) in self.packages:
            return True
        dirs = [*self._under_root(*parts), *(self._under_root(*parts[:-1]) if len(parts) > 1 else ())]
        files = self._under_root(*parts[:-1], parts[-1] + ".py")
        return any(d.is_dir() for d in dirs) or any(f.is_file() for f in files)

    def package_depth(self, parts: list[str], whole: bool = False) -> int:
        """The most leading parts of a name that can be the package (or a prefix of the package) of a file
        here, left implicit by a relative import. `whole`: the whole name may be."""
        for k in range(len(parts) if whole else len(parts) - 1, 0, -1):
            if ".".join(parts[:k]) in self.packages or any(p.is_dir() for p in self._under_root(*parts[:k])):
                return k
        return 0

    def named(self, name: str, prefix: bool = False) -> Cond:
        """Files where an expression or import can resolve to `name` (with `prefix`: `name` or `name.*`)."""
        parts = name.split(".")
        k = self.package_depth(parts, whole=prefix)
        relative = words(*({p} for p in parts[k:]), {"from"}) if k else []
        return any_of(words(*({p} for p in parts)), relative)


def conditions(catalog, config, index) -> dict[str, Cond]:
    """Rule code -> where it can report. Each comment names the report path and the words it requires."""
    project = Project(config.root, index)
    q = project.named

    voc = vocabulary(catalog)
    openers = catalog.get("span_opener")

    def opener(kinds: Iterable[str] | None = None) -> Cond:
        """A call `HygieneBase.opener` (or the decorator analysis) maps to an opener of these kinds: a method
        entry by its attribute name, a function entry by its qualified name."""
        chosen = [e for e in openers if kinds is None or e.kind in kinds]
        return any_of(words({e.name for e in chosen if e.method}), *(q(e.name) for e in chosen if not e.method))

    cv_classes = catalog.get("contextvar_class")
    contextvar_class = any_of(*(q(e.name) for e in cv_classes))
    creators = words(last(e.name for e in catalog.get("task_creator")))
    # `target_kind`: an `async def` (coroutine, async generator), a `yield` (generator), or a return
    # annotation resolving to an awaitable type
    awaitable = any_of(*(q(n) for n in voc.awaitables))
    target = any_of(words({"async", "yield"}), awaitable)
    # `_wrapper_facts` "scope": an opener in a `with` or before the call (closed after it), or
    # `.set(...)` before and `.reset(...)` after
    scope = any_of(opener(), words(voc.cv_set, voc.cv_reset))
    current = opener(("current",))
    with_current = all_of(words({"with"}), current)  # `with <current opener> [as span]:`
    attach = any_of(*(q(e.name) for e in openers if e.kind == "attach" and not e.method))
    project_cvs = words(last(index.project_contextvars()))
    out: dict[str, Cond] = {}

    # PRP401 `_sync_wrapper_applied`: a decorator with a scope, on a target kind; the decorator is defined
    # in this file (its wrapper's scope words are here) or is a project decorator with a scope, named by
    # its last name or a re-export's (`_may_wrap` -> `resolve_decorator`)
    decorators = project_decorators(index)
    scoped = {d for d, f in decorators.items() if f["scope"]}
    scoped |= {r for r in project_reexports(index) if (resolve_decorator(index, r) or {}).get("scope")}
    out["PRP401"] = all_of(target, any_of(scope, words(last(scoped))))

    # PRP402 `_contextvar_created`: a call resolving to a ContextVar class, in a function or lambda scope
    out["PRP402"] = all_of(contextvar_class, words({"def", "lambda"}))

    # PRP403 `_thread_local`: a catalog thread-local class (or a class of this file based on one, same
    # words) or a project subclass (index) created in an `async def` or a module that `loop_module` calls
    # event-loop code (`async`/`await` syntax, or an import of an event-loop module, relative ones too);
    # `visit_Attribute`: a thread-local of a sync module (index) used in an `async def`
    thread_locals = catalog.names("thread_local_class")
    subclasses = index.derived("hygiene.local_subclasses", lambda ix: frozenset(
        c for c in ix.class_bases() if ix.is_subclass(c, thread_locals)))
    loop = any_of(words({"async", "await"}),
                  *(q(e.name, prefix=True) for e in catalog.get("event_loop_module")))
    foreign = {n for _, f in index.facts("hygiene.thread_locals") if not f.get("loop") for n in f["names"]}
    out["PRP403"] = any_of(all_of(any_of(*(q(n) for n in thread_locals), words(last(subclasses))), loop),
                           all_of(words({"async"}), words(last(foreign))))

    # PRP404 `_attach`: a call resolving to an attach-kind opener, inside a `def`
    out["PRP404"] = all_of(attach, words({"def"}))

    # PRP405 `_task_arguments`: a task creator (by its last name) given the current span: a getter call,
    # a name assigned from one, or the `as` name of an enclosing `with <current opener>`
    getters = any_of(*(q(n) for n in catalog.names("current_span_getter")))
    out["PRP405"] = all_of(creators, any_of(getters, with_current))

    # PRP406 `_cv_set`: `<var>.set(...)` on a ContextVar of this module (made by a ContextVar class) or of
    # the project (index), in a `def` that `_pooled_entry` finds runs on pooled threads
    pooled = []
    for e in catalog.get("pooled_entry"):
        if e.kind == "decorator":  # decorated by the qualified name
            pooled.append(q(e.name))
        elif e.kind == "route":  # `@<receiver>.<name>`, any receiver in a module importing e.module
            receivers = any_of(*(q(r) for r in e.receivers),
                               *([q(e.module, prefix=True)] if e.module else []))
            pooled.append(all_of(words({e.name}), receivers))
        elif e.kind == "base":  # a method of a subclass (maybe through project classes)
            bases = index.derived(f"hygiene.subclasses.{e.name}", lambda ix, n=e.name: frozenset(
                c for c in ix.class_bases() if ix.is_subclass(c, {n})))
            pooled.append(all_of(words(e.methods), any_of(q(e.name), words(last(bases)))))
        elif e.kind == "wsgi":  # the parameters, in order
            pooled.append(words(*({m} for m in e.methods)))
        elif e.kind == "call":  # `<pool>.<name>(fn, ...)` in this module
            pooled.append(words({e.name}))
    pooled.append(words({"task"}))  # `@<x>.task` whose qualified name has a `celery` part (any package)
    out["PRP406"] = all_of(words({e.set_method for e in cv_classes}), any_of(contextvar_class, project_cvs),
                           words({"def"}), any_of(*pooled))

    # PRP407 `_attach` in a generator with a `yield` after it; `visit_With`: a current opener whose block
    # yields
    out["PRP407"] = all_of(words({"yield"}), any_of(attach, with_current))

    # PRP408 `scope_function`: an `async def` middleware (a BaseHTTPMiddleware-like base, maybe through
    # project subclasses, or registered with it; or a decorator entry) that reads `<var>.get()` after
    # `await call_next(...)`, where var is set elsewhere in the project: a key of the index's
    # `hygiene.cv_sets` (no such key: nothing to find)
    bases = [e for e in catalog.get("http_middleware") if e.kind == "base"]
    middleware_bases = {e.name for e in bases}
    subclassed = index.derived("hygiene.middleware_subclasses", lambda ix: frozenset(
        c for c in ix.class_bases() if ix.is_subclass(c, middleware_bases)))
    registered = any_of(*(q(e.name) for e in bases), all_of(words({e.method for e in bases}), words(last(subclassed))),
                        words({e.name for e in catalog.get("http_middleware") if e.kind == "decorator"}))
    set_vars = last(index.derived("hygiene.cv_sets", merge_sets))
    out["PRP408"] = all_of(words({"async"}), words({"await"}), words({e.get_method for e in cv_classes}),
                           words(set_vars), registered)

    # PRP409/PRP410 `_decorated`: `@<x>.<method opener usable as a decorator>(...)` on a generator (`yield`)
    # / on an `async def`, for PRP410 only where the project pins the distribution below the fixed release
    span_decorators = [e for e in openers if e.method and e.decorator]
    out["PRP409"] = all_of(words({"yield"}), words({e.name for e in span_decorators}))
    pinned = {e.name for e in span_decorators if e.async_decorator_since
              and pinned_below(getattr(index, "pins", {}), e.dist, e.async_decorator_since)}
    out["PRP410"] = all_of(words({"async"}), words(pinned))

    # PRP411 `task_created`: a task creator (last name) whose worker is a `def` of this module that loops
    # (`while`, `async for`) around an opener of a current span or span
    out["PRP411"] = all_of(creators, words({"def"}), words({"while", "async"}), opener(("current", "span")))

    # PRP412 `_wrapper_definition`: a nested `def` wrapper with "after" work (`_wrapper_facts`: a `with`, a
    # `finally`, a closer, a `.reset`, or a finish marker by its last name), reported when the decorator
    # is applied to a coroutine/awaitable function here (`async`, an awaitable annotation) or in the
    # project (index), or opens a scope in a project with async code (here, or anywhere per the index)
    after = {"with", "finally", *voc.markers, *voc.cv_reset, *last(e.closer for e in openers if e.closer)}
    # The application's qualified name must be `<module of the checked file>.<name>` (the bare name in a
    # file without a module name): `functools.wraps` cannot be, unless the project has such a module.
    applied = {a for a in applied_to_coroutines(index) if "." not in a or project.may_be(a.rpartition(".")[0])}
    project_async = any(f.get("async") for _, f in index.facts("hygiene.applications"))
    out["PRP412"] = all_of(words({"def"}), words(after), any_of(
        words({"async"}), awaitable, words(last(applied)),
        all_of(scope, TRUE if project_async else words({"async"}))))
    return out


def rule_needs(codes: Iterable[str], catalog, config, index) -> list[Need]:
    conds = conditions(catalog, config, index)
    out = []
    for code in codes:
        for groups in conds[code]:
            out.append(Need.of([code], *groups))
    return out
