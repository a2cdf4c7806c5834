"""The building blocks of the thread rules' prefilter conditions, in the language of `core.needs`.

A catalog callable or class is only ever found under its own last name, with its top-level module named on
an import line (`named`); a project subclass of a catalog class under its own name (`spawned_by`). The rules
(`rules/prp2*.py`) combine these with the words of the methods or keywords their paths require.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from proplint.core.cst import last_part
from proplint.core.needs import NEVER, PLACE, Cond, all_of, any_of, imported, inside, words
from proplint.families.threads.facts import subclasses

if TYPE_CHECKING:
    from proplint.core.context import NeedsContext


def named(project: "NeedsContext", names: Iterable[str]) -> Cond:
    """Catalog names as alternatives, one per top-level module: one of their last names, with that module on
    an import line.

    Sound because every qualified name the resolver gives (`callee`, `type_of`, `annotation_type`) ends
    with a word written in the file (the name called, the attribute, the annotation, or the imported name
    on an `import ... as` line), and starts with a module named on an import line, except for a module's
    own definitions and relative imports (`_local`, `from .thread import ...`), which need the file to be
    inside that module's package: where the project provides it, the word alone in a file of that package.
    """
    tops: dict[str, set[str]] = {}
    for name in names:
        tops.setdefault(name.split(".", 1)[0], set()).add(last_part(name))
    return any_of(*(any_of(imported([top], last), all_of(words(last), inside(top)) if project.layout.provides(top)
                           else NEVER) for top, last in sorted(tops.items())))


def spawned_by(project: "NeedsContext", entries: Iterable, bases: Iterable[str] = ()) -> Cond:
    """The entries named, or a project class deriving from `bases` (catalog names) named."""
    own = subclasses(project.index, frozenset(bases))
    return any_of(named(project, [e.name for e in entries]), words(own) if own else NEVER)


def methods(entries: Iterable) -> set[str]:
    """The methods of executor entries that run a callable."""
    return {m for e in entries for m in (*e.submit, *e.map, *e.other)}


def words_of(cond: Cond) -> set[str]:
    """Every word some alternative of `cond` asks for (not its places: `core.needs.inside`)."""
    return {w for alt in cond for group in alt.groups for w in group if not w.startswith(PLACE)}


def pools(project: "NeedsContext", kind: str) -> list:
    """The catalog's executors of a kind (`"thread"`, `"process"`)."""
    return [e for e in project.catalog.get("executor") if e.kind == kind]


def thread_spawns(project: "NeedsContext", spawners: list | None = None) -> Cond:
    """A spawn of kind "thread": a spawner, or a project subclass of a base spawner (`thread_subclass`)."""
    spawners = project.catalog.get("thread_spawner") if spawners is None else spawners
    return spawned_by(project, spawners, [e.name for e in spawners if e.base])


def thread_pool_calls(project: "NeedsContext") -> Cond:
    """Executor `submit`/`map`/...: the receiver's type is inferred from a constructor call, annotation,
    with-item or `self.x` assignment, each of which names the class (or a project subclass)."""
    thread = pools(project, "thread")
    return spawned_by(project, thread, [e.name for e in thread])


def executor_calls(project: "NeedsContext") -> Cond:
    """`run_in_executor` is matched by method name on any receiver: the word alone."""
    names = {e.name for e in project.catalog.get("executor_call")}
    return words(names) if names else NEVER


def pool_methods(project: "NeedsContext", kind: str) -> Cond:
    """One of a pool's methods, called on that pool (a receiver the check infers to be it)."""
    return any_of(*(all_of(spawned_by(project, [e], [e.name]), words(methods([e]))) for e in pools(project, kind)))


def reported_by_entries(project: "NeedsContext", code: str) -> Cond:
    """Where the catalog decides the code: a `[[thread_spawner]]` or `[[executor_call]]` whose `code` is
    `code` (for a project subclass, the base spawner's code)."""
    mine = [e for e in project.catalog.get("thread_spawner") if e.code == code]
    calls = [e for e in project.catalog.get("executor_call") if e.code == code]
    return any_of(thread_spawns(project, mine) if mine else NEVER, *(words({e.name}) for e in calls))
