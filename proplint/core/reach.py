"""Reached code: a boundary in a function or class that nothing in the application refers to never runs with
a request, so it has no context to lose.

Real services keep code that no production path reaches: a helper "no longer used", a class only its unit
test imports, a module-level `threading.local()` nobody reads. A finding there is noise: nobody will ever see
the orphaned trace. proplint keeps, per file and from its text alone (no parse: it is read for every file of
a monorepo, like the import roots), the names the file can refer to in *other* modules:

* the names it imports (`from pkg.jobs import run_batch`, and `import pkg.jobs as jobs`);
* the attributes it reads on what it imports (`jobs.run_batch`, `pkg.jobs.run_batch`);
* the last part of dotted or `module:attr` paths in its strings and its text (`"pkg.jobs:run_batch"` for
  uvicorn or Celery, `getattr(jobs, "run_batch")`).

Deployment and dependency files add their `module:attr` entry points (a Procfile's `gunicorn app:create`,
`[project.scripts]`). A module-level function, class or private variable is **unreached** when:

* its own module never uses its name outside its definition (no call, no reference, no `__all__` entry,
  no string naming it), and
* no application file (tests, examples and benchmarks do not count: code only a test calls runs with no
  request) names it in any of the ways above;
* it is not decorated (a decorator registers it: a route, a task, a fixture) and a class has no base
  other than `object`, `Generic`, `Protocol` or `ABC` (a base may register its subclasses: Django's models
  and commands);
* and, for a public name, the file belongs to a deployed unit (`core/units.py`) (a library's public
  functions are its users' to call) and its module is imported by the application or by its tests: a module
  nothing imports may be an entry point that something outside runs by name (a Lambda handler, a script).
  A private name (`_helper`) is judged anywhere.

This is conservative in one direction only: any mention (a comment in a string, an attribute of the same
name elsewhere) keeps the code reached, except a docstring of the module's own functions and classes: a
docstring runs nothing (`run_optimize`'s "separate from `run_optimize_cron_job`" does not call it).
"""

from __future__ import annotations

import ast
import re

from proplint.core.ast_names import all_nodes, decorator_name

#: `from pkg.mod import (a, b as c)` and `import pkg.mod as m, other`
#: (matched after a line break: the text is searched with one prepended, twice as fast as a `^` in MULTILINE)
_FROM_IMPORT = re.compile(rb"\n[ \t]*from[ \t]+([\w.]+)[ \t]+import[ \t]+(\([^)]*\)|[^\n]*(?:\\\n[^\n]*)*)")
_IMPORT = re.compile(rb"\n[ \t]*import[ \t]+([^\n#;]+)")
_NAME = re.compile(rb"[A-Za-z_]\w*")
_COMMENT = re.compile(rb"#[^\n]*")
#: a string literal on one line (prefixes and triple quotes need no care: any extra word only adds a name)
_STRING = re.compile(rb"\"[^\"\n]{1,300}\"|'[^'\n]{1,300}'")
#: `module:attr` anywhere (a uvicorn/gunicorn/Celery/entry-point path)
_COLON_PATH = re.compile(rb":([A-Za-z_]\w*)")
_CHAIN = re.compile(rb"(?:\.[A-Za-z_]\w*)+")
_WORD_AFTER_DOT = re.compile(rb"\.([A-Za-z_]\w*)")
_IDENTIFIER = re.compile(rb"[A-Za-z_]\w*")

#: bases that register nothing: a class deriving only from these runs only where its name is used
_PLAIN_BASES = frozenset({"object", "Generic", "Protocol", "ABC", "typing.Generic", "typing.Protocol",
                          "abc.ABC"})


def _imported(source: bytes) -> tuple[set[str], set[str]]:
    """(names imported from other modules, and the parts of the modules' names; local names that hold
    modules or imported objects)."""
    names: set[str] = set()
    locals_: set[str] = set()
    source = b"\n" + source
    for m in _FROM_IMPORT.finditer(source):
        names.update(p.decode() for p in m.group(1).split(b".") if p)
        body = _COMMENT.sub(b"", m.group(2)).strip().strip(b"()").replace(b"\\\n", b" ")
        for part in body.split(b","):
            words = part.split()
            if not words:
                continue
            names.add(words[0].decode())
            locals_.add(words[-1].decode())
    for m in _IMPORT.finditer(source):
        for part in m.group(1).split(b","):
            words = part.split()
            if not words or not _NAME.fullmatch(words[0].split(b".")[0]):
                continue
            names.update(p.decode() for p in words[0].split(b".") if p)
            locals_.add((words[-1] if len(words) == 3 and words[1] == b"as" else words[0].split(b".")[0]).decode())
    return names, locals_


def imported_modules(source: bytes, module: "str | None", package: bool) -> list[str]:
    """The dotted names of the modules this file imports, from its text: `from a.b import c` gives `a.b` and
    `a.b.c` (`c` may be a submodule), `import a.b` gives `a.b`; relative imports are resolved against
    `module` (`package`: the file is a package's `__init__.py`)."""
    out: set[str] = set()
    source = b"\n" + source
    for m in _FROM_IMPORT.finditer(source):
        base = m.group(1).decode()
        if base.startswith("."):
            level = len(base) - len(base.lstrip("."))
            parts = (module or "").split(".") if module else []
            keep = len(parts) - level + (1 if package else 0)
            if not module or keep < 0:
                continue
            base = ".".join([*parts[:keep], *([base.lstrip(".")] if base.lstrip(".") else [])])
            if not base:
                continue
        out.add(base)
        body = _COMMENT.sub(b"", m.group(2)).strip().strip(b"()").replace(b"\\\n", b" ")
        for part in body.split(b","):
            words = part.split()
            if words and _NAME.fullmatch(words[0]):
                out.add(f"{base}.{words[0].decode()}")
    for m in _IMPORT.finditer(source):
        for part in m.group(1).split(b","):
            words = part.split()
            if words and all(_NAME.fullmatch(w) for w in words[0].split(b".")):
                out.add(words[0].decode())
    return sorted(out)


def _reexported_only(source: bytes, names: set[str]) -> set[str]:
    """The imported names a package's `__init__.py` only re-exports: every occurrence of the word is in an
    import statement or in `__all__` (a re-export is not a use; the modules importing it from the package
    are the users)."""
    text = b"\n" + source
    spans = [m.span() for m in _FROM_IMPORT.finditer(text)] + [m.span() for m in _IMPORT.finditer(text)]
    spans += [m.span() for m in _ALL.finditer(text)]
    if not names:
        return set()
    wanted = {n.encode() for n in names}
    used = set()
    for m in _IDENTIFIER.finditer(text):
        w = m.group(0)
        if w in wanted and not any(a <= m.start() < b for a, b in spans):
            used.add(w.decode())
    return set(names) - used


_ALL = re.compile(rb"\n__all__\s*(?::[^=\n]*)?[+]?=\s*[\[(][^\])]*[\])]")


def reference_names(source: bytes, package_init: bool = False) -> list[str]:
    """The names this file may refer to in other modules (see the module docstring), from its text. In a
    package's `__init__.py` (`package_init`), a name it only re-exports does not count."""
    names, locals_ = _imported(source)
    found = set(names)
    skip = _reexported_only(source, locals_ & names) if package_init else set()
    for local in locals_:
        needle = local.encode() + b"."
        i = source.find(needle)
        while i >= 0:
            before = source[i - 1:i]
            if not (before.isalnum() or before in (b"_", b".")):
                m = _CHAIN.match(source, i + len(needle) - 1)
                if m:
                    found.update(w.decode() for w in m.group(0).split(b".") if w)
            i = source.find(needle, i + len(needle))
    found.update(_colon_paths(source))
    for s in _STRING.findall(source):
        inner = s[1:-1]
        if _IDENTIFIER.fullmatch(inner):
            found.add(inner.decode())
        elif b"." in inner:
            found.update(w.decode() for w in _WORD_AFTER_DOT.findall(inner))
    return sorted(found - skip)


#: a schedule's task path: `{"task": "app.tasks.cleanup", "schedule": ...}` (Celery beat's `beat_schedule`),
#: `PeriodicTask(task="app.tasks.cleanup")` (django-celery-beat), `add_job(func="app.jobs:cleanup")` is not one
_SCHEDULED = re.compile(rb"""(?:["']task["'][ \t]*:[ \t]*|\btask[ \t]*=[ \t]*)\(?\s*((?:["'][\w.]*["']\s*)+)""")
#: one literal of a path split over adjacent literals (`"app.tasks"\n ".cleanup"`)
_LITERAL = re.compile(rb"""["']([\w.]*)["']""")


def scheduled_names(source: bytes) -> list[str]:
    """The task names this file mentions only in schedule entries (Celery beat's `{"cleanup": {"task":
    "app.tasks.cleanup", ...}}`, django-celery-beat's `PeriodicTask(task=...)`): a scheduler starts those
    tasks on a timer, with no request behind them. A name the file also refers to another way (an import, a
    dotted path in another string) is not listed; a path may be split over adjacent literals."""
    if b"task" not in source:
        return []
    blanked = bytearray(source)
    names = set()
    for m in _SCHEDULED.finditer(source):
        for lit in _LITERAL.finditer(source, m.start(1), m.end(1)):
            start, end = lit.span(1)
            blanked[start:end] = b" " * (end - start)
        path = b"".join(lit.group(1) for lit in _LITERAL.finditer(m.group(1)))
        if path:
            names.add(path.rsplit(b".", 1)[-1])
    if not names:
        return []
    for name in names:  # an entry keyed by the task's own name: `"cleanup": {"task": ...}`
        for key in re.finditer(rb"""["']""" + re.escape(name) + rb"""["'][ \t]*:[ \t]*(?:\{|dict\()""", source):
            blanked[key.start():key.start() + len(name) + 2] = b" " * (len(name) + 2)
    gone = set(reference_names(source)) - set(reference_names(bytes(blanked)))
    return sorted(n for n in gone if n.encode() in names)


_DOTTED = re.compile(rb"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")


def _colon_paths(data: bytes) -> set[str]:
    """The `attr` of each `module:attr` (a colon right after a name or a dot). A literal-first pattern checked
    by hand: a look-behind would make the regex engine try every position."""
    out = set()
    for m in _COLON_PATH.finditer(data):
        before = data[m.start() - 1:m.start()]
        if before.isalnum() or before in (b"_", b"."):
            out.add(m.group(1).decode())
    return out


def entry_point_names(text: str) -> set[str]:
    """What a deployment, dependency or configuration file may run by name: `module:attr` entry points
    (a Procfile's `gunicorn app.wsgi:application`, `[project.scripts]`) and the parts of dotted paths
    (`handler: app.handlers.main` in a serverless template, `-m app.worker`)."""
    data = text.encode("utf-8", "replace")
    out = _colon_paths(data)
    for m in _DOTTED.findall(data):
        out.update(p.decode() for p in m.split(b"."))
    return out


# --- the judgement --------------------------------------------------------------------------------------


def _span(stmt: ast.stmt) -> tuple[int, int]:
    first = min([stmt.lineno] + [d.lineno for d in getattr(stmt, "decorator_list", ())])
    return first, stmt.end_lineno or stmt.lineno


def _defined_name(stmt: ast.stmt) -> str | None:
    """The name a module-level statement defines, when it is one this module judges: an undecorated
    function, an undecorated class with plain bases, or an assignment of one private name."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None if stmt.decorator_list else stmt.name
    if isinstance(stmt, ast.ClassDef):
        if stmt.decorator_list or stmt.keywords:
            return None
        for base in stmt.bases:
            target = base.value if isinstance(base, ast.Subscript) else base
            if ast.unparse(target) not in _PLAIN_BASES:
                return None
        return stmt.name
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target] if isinstance(stmt, ast.AnnAssign) \
        else []
    if len(targets) == 1 and isinstance(targets[0], ast.Name) and targets[0].id.startswith("_") \
            and not targets[0].id.startswith("__"):
        return targets[0].id
    return None


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of the docstring constants of the module's functions and classes (what documents them runs
    nothing). The module's own docstring is not among them: it may name what the module is run as."""
    out = set()
    for node in all_nodes(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                    and isinstance(first.value.value, str):
                out.add(id(first.value))
    return out


def _names_in_string(node: ast.AST, word: "re.Pattern[str]", docstrings: set[int]) -> bool:
    """A string constant (not a docstring) that names the word: a dotted path, a `getattr` name."""
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings \
        and word.search(node.value) is not None


def _used_in_module(tree: ast.Module, stmt: ast.stmt, name: str) -> bool:
    """`name` is used in its own module outside the statement that defines it (a use in its own body, such
    as recursion, does not make it reached; nor does a mention in another definition's docstring)."""
    first, last = _span(stmt)
    word = re.compile(rf"\b{re.escape(name)}\b")
    docstrings = _docstrings(tree)
    for node in all_nodes(tree):
        lineno = getattr(node, "lineno", None)
        if lineno is None or first <= lineno <= last:
            continue
        if isinstance(node, ast.Name) and node.id == name:
            return True
        if isinstance(node, ast.Attribute) and node.attr == name:
            return True
        if _names_in_string(node, word, docstrings):
            return True
        if isinstance(node, (ast.Global, ast.Nonlocal)) and name in node.names:
            return True
    return False


def module_stem(relpath: str) -> str:
    """The last part of a file's module name (`pkg/jobs.py` -> `jobs`, `pkg/__init__.py` -> `pkg`)."""
    parts = relpath[:-3].split("/") if relpath.endswith(".py") else relpath.split("/")
    return parts[-2] if parts[-1] == "__init__" and len(parts) > 1 else parts[-1]


def unreached_definition(tree: ast.Module, line: int, app_refs: "set[str] | frozenset[str]",
                         test_refs: "set[str] | frozenset[str]", stem: str, public_too: bool) -> str | None:
    """The name of the module-level definition holding `line` when nothing in the application reaches it
    (the module docstring says when), else None. `app_refs`/`test_refs`: the names the application's files
    and the tests refer to in other modules; `stem`: the module's last name part; `public_too`: judge
    public names as well (the file is part of a deployed unit)."""
    found = _judged(tree, line, stem, public_too, app_refs, test_refs)
    if found is None or found[1] in app_refs or _used_in_module(tree, *found):
        return None
    return found[1]


def _registers_inside(stmt: ast.stmt, line: int) -> bool:
    """`line` lies in a decorated function or a class nested in `stmt` (a route registered by a factory
    function: it serves requests whoever called the factory)."""
    for node in all_nodes(stmt):
        if node is stmt or not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        first, last = _span(node)
        if first <= line <= last and (node.decorator_list or isinstance(node, ast.ClassDef)):
            return True
    return False


def _starts_context(stmt: ast.stmt, sources: "frozenset[str]") -> bool:
    """The definition itself starts or restores a context (a span, an extracted carrier): what it runs
    below that has a context whoever called it."""
    for node in all_nodes(stmt):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name in sources:
                return True
    return False


def _module_users(tree: ast.Module, stmt: ast.stmt, name: str) -> "list[ast.stmt] | None":
    """The other module-level statements that use `name`, or None when a use is not inside a definition this
    module judges (a module-level call, `__all__`, a decorator, a string naming it)."""
    users: list[ast.stmt] = []
    word = re.compile(rf"\b{re.escape(name)}\b")
    docstrings = _docstrings(tree)
    for top in tree.body:
        if top is stmt:
            continue
        for node in all_nodes(top):
            used = (isinstance(node, ast.Name) and node.id == name) or (
                isinstance(node, ast.Attribute) and node.attr == name) or _names_in_string(
                node, word, docstrings) or (isinstance(node, (ast.Global, ast.Nonlocal)) and name in node.names)
            if used:
                if _defined_name(top) is None or isinstance(top, (ast.Assign, ast.AnnAssign)) \
                        or any(node in all_nodes(d) for d in getattr(top, "decorator_list", ())):
                    return None
                users.append(top)
                break
    return users


def _only_tools(tree: ast.Module, stmt: ast.stmt, name: str, app_refs, line: int, sources, depth: int = 0) -> bool:
    if name in app_refs or depth > 4 or _registers_inside(stmt, line) or _starts_context(stmt, sources):
        return False
    users = _module_users(tree, stmt, name)
    if users is None:
        return False
    for user in users:
        first = _span(user)[0]
        if not _only_tools(tree, user, _defined_name(user) or "", app_refs, first, sources, depth + 1):
            return False
    return True


def reached_only_by_tools(tree: ast.Module, line: int, app_refs: "set[str] | frozenset[str]",
                          other_refs: "set[str] | frozenset[str]", stem: str, public_too: bool,
                          sources: "frozenset[str]") -> str | None:
    """The name of the module-level definition holding `line` when only command-line tools, scripts and tests
    reach it, directly or through the module's own functions that only they reach (`app_refs`: the names
    application files and entry points refer to; `other_refs`: those of tools, scripts and tests): it runs in
    a tool's process with no request. None when the application reaches it, when it registers something
    nested (a route), or when it (or a function on the way) starts a context itself (`sources`: the last
    names of the calls that start or restore one)."""
    found = _judged(tree, line, stem, public_too, app_refs, other_refs)
    return found[1] if found is not None and _only_tools(tree, *found, app_refs, line, sources) else None


def _judged(tree: ast.Module, line: int, stem: str, public_too: bool, app_refs, other_refs):
    """(statement, name) of the module-level definition holding `line` when it is one to judge: a name
    `_defined_name` gives (no dunder); a public one only in a deployed unit, in a module something imports (a
    module nothing imports may be an entry point run by name from outside)."""
    for stmt in tree.body:
        first, last = _span(stmt)
        if not (first <= line <= last):
            continue
        name = _defined_name(stmt)
        if name is None or (name.startswith("__") and name.endswith("__")):
            return None
        if not name.startswith("_") and (not public_too or (stem not in app_refs and stem not in other_refs)):
            return None
        return stmt, name
    return None


def enqueued_only_without_context(tree: ast.Module, line: int, enqueuers: "dict[str, str | None]", relpath: str,
                                  handlers: "frozenset[int]", _depth: int = 0) -> str | None:
    """The name of the module-level task handler defined at `line` (the line of its `def`) when no
    application code outside its own body names it (`enqueuers`: the names application files refer to in
    other modules, schedule entries left out, each with the one file naming it or None for several) except
    other task handlers of the module that are themselves enqueued so (`handlers`: the `def` lines of the
    module's task handlers): it is started only by a scheduler, by itself (a task that re-enqueues itself to
    work in batches), by such tasks, by tools or by tests, so no caller's context reaches it and none is
    lost. None when something else may enqueue it."""
    stmt = next((s for s in tree.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))
                 and s.lineno == line), None)
    if stmt is None or enqueuers.get(stmt.name, relpath) != relpath or _depth > 4:
        return None
    word = re.compile(rf"\b{re.escape(stmt.name)}\b")
    for top in tree.body:
        if top is stmt:
            continue
        used = any((isinstance(n, ast.Name) and n.id == stmt.name) or (isinstance(n, ast.Attribute) and
                   n.attr == stmt.name) or (isinstance(n, ast.Constant) and isinstance(n.value, str) and
                   word.search(n.value)) for n in all_nodes(top))
        if used and not (isinstance(top, (ast.FunctionDef, ast.AsyncFunctionDef)) and top.lineno in handlers
                         and enqueued_only_without_context(tree, top.lineno, enqueuers, relpath, handlers, _depth + 1)):
            return None
    return stmt.name


# --- code only timers reach ------------------------------------------------------------------------------


def _on_a_timer(stmt: ast.stmt, scheduled: "frozenset[str]") -> bool:
    return isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
        decorator_name(d) in scheduled for d in stmt.decorator_list)


def _timed_uses(tree: ast.Module, name: str, scheduled: "frozenset[str]", skip: "ast.stmt | None", depth: int,
                referring=None) -> "bool | None":
    """Whether every use of `name` in `tree` outside `skip` and its imports is in a function run on a timer or
    in an undecorated function of the module reached only so, here and (`referring`) in the other files that
    name it (True: some use and all such; None: no use; False: another use, a string naming it, or a use in a
    class or at module level)."""
    word = re.compile(rf"\b{re.escape(name)}\b")
    found = None
    for top in tree.body:
        if top is skip or isinstance(top, (ast.Import, ast.ImportFrom)):
            continue
        nodes = list(all_nodes(top))
        if any(isinstance(n, ast.Constant) and isinstance(n.value, str) and word.search(n.value) for n in nodes):
            return False
        if not any((isinstance(n, ast.Name) and n.id == name) or (isinstance(n, ast.Attribute) and n.attr == name)
                   for n in nodes):
            continue
        if _on_a_timer(top, scheduled):
            found = True
        elif isinstance(top, (ast.FunctionDef, ast.AsyncFunctionDef)) and not top.decorator_list and depth < 3 \
                and referring is not None and _reached_on_a_timer(tree, top, scheduled, referring, depth + 1):
            found = True  # a helper of the module that only timed functions call
        else:
            return False
    return found


def _reached_on_a_timer(tree: ast.Module, stmt: ast.stmt, scheduled, referring, depth: int) -> bool:
    timed = _timed_uses(tree, stmt.name, scheduled, stmt, depth, referring)
    if timed is False:
        return False
    for other in referring(stmt.name):
        if other is None:
            return False
        used = _timed_uses(other, stmt.name, scheduled, None, depth)
        if used is False:
            return False
        timed = timed or used
    return bool(timed)


def reached_only_on_a_timer(tree: ast.Module, line: int, scheduled: "frozenset[str]", referring) -> str | None:
    """The name of the module-level function holding `line` when only functions run on a timer reach it
    (`[[scheduled_decorator]]`: `@register_recurring_task`, huey's `@periodic_task`...), directly or through
    the module's undecorated helpers, here and in every application file that names it (`referring(name)`:
    their parsed trees, None for one that cannot be read): no request is behind such a run. None when
    anything else may call it, or nothing names it (a public function may be its users' to call)."""
    if not scheduled:
        return None
    stmt = next((s for s in tree.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                 and _span(s)[0] <= line <= _span(s)[1]), None)
    if stmt is None:
        return None
    if _on_a_timer(stmt, scheduled):
        return stmt.name
    if isinstance(stmt, ast.ClassDef) or stmt.decorator_list:
        return None
    return stmt.name if _reached_on_a_timer(tree, stmt, scheduled, referring, 0) else None


def reached_by_decorated(tree: ast.Module, name: str, decorators: "frozenset[str]", referring) -> bool:
    """Module-level function `name` of `tree` runs only inside functions decorated with one of `decorators`
    (their last names: task handlers, timers), directly or through the module's undecorated helpers, here and
    in every application file that names it (`referring(name)`: their trees, None for an unreadable one)."""
    stmt = next((s for s in tree.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)) and s.name == name
                 and not s.decorator_list), None)
    return stmt is not None and bool(decorators) and _reached_on_a_timer(tree, stmt, decorators, referring, 0)
