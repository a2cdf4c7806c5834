"""Shared building blocks of the hygiene rules' needs (`Rule.needs`), in the language of `core.needs`.

A name is asked for where an expression can resolve to it (`Resolver.qualified_name`, `ast_qualname`):
`project.layout.named(name, import_line=False)`. Its parts are asked for as words anywhere, not on an
import line: `from .. import (\n a)` (a parenthesised name) resolves to `a` too. The pieces here are read
off the check's shared helpers: `HygieneCheck.opener` (an opener call), the ContextVar classes, the task
creators, what `syntax.target_kind` calls a coroutine-like target, and what `decorators._wrapper_facts`
calls a scope.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from proplint.core.needs import Cond, all_of, any_of, words
from proplint.families.hygiene.decorators import vocabulary

if TYPE_CHECKING:
    from proplint.core.context import NeedsContext


def last(names: Iterable[str]) -> set[str]:
    return {n.rsplit(".", 1)[-1] for n in names}


def named(project: "NeedsContext", name: str, prefix: bool = False) -> Cond:
    """Files where an expression or import can resolve to `name` (with `prefix`: `name` or `name.*`)."""
    return project.layout.named(name, prefix=prefix, import_line=False)


def any_named(project: "NeedsContext", names: Iterable[str], prefix: bool = False) -> Cond:
    return any_of(*(named(project, n, prefix) for n in names))


def opener(project: "NeedsContext", kinds: Iterable[str] | None = None) -> Cond:
    """A call `HygieneCheck.opener` (or the decorator analysis) maps to an opener of these kinds: a method
    entry by its attribute name, a function entry by its qualified name."""
    chosen = [e for e in project.catalog.get("span_opener") if kinds is None or e.kind in kinds]
    return any_of(words({e.name for e in chosen if e.method}),
                  *(named(project, e.name) for e in chosen if not e.method))


def attach(project: "NeedsContext") -> Cond:
    """A call resolving to an attach-kind opener function (`context.attach`)."""
    return any_named(project, (e.name for e in project.catalog.get("span_opener")
                               if e.kind == "attach" and not e.method))


def with_current(project: "NeedsContext") -> Cond:
    """`with <current opener> [as span]:`."""
    return all_of(words({"with"}), opener(project, ("current",)))


def contextvar_class(project: "NeedsContext") -> Cond:
    """A call resolving to a ContextVar class."""
    return any_named(project, (e.name for e in project.catalog.get("contextvar_class")))


def creators(project: "NeedsContext") -> Cond:
    """A task creator, by its last name."""
    return words(last(e.name for e in project.catalog.get("task_creator")))


def awaitable(project: "NeedsContext") -> Cond:
    """A return annotation resolving to an awaitable type."""
    return any_named(project, vocabulary(project.catalog).awaitables)


def target(project: "NeedsContext") -> Cond:
    """`syntax.target_kind`: an `async def` (coroutine, async generator), a `yield` (generator), or a return
    annotation resolving to an awaitable type."""
    return any_of(words({"async", "yield"}), awaitable(project))


def bracket(project: "NeedsContext") -> Cond:
    """`decorators._wrapper_facts` "bracket" or a pending project context manager: a `with`, a `finally`, a
    manual `__enter__`, or a finish marker (`[[finish_marker]]`: a log, a timer read) of this file's own
    decorator."""
    voc = vocabulary(project.catalog)
    return words({"with", "finally", "__enter__", *voc.markers})


def scope(project: "NeedsContext") -> Cond:
    """`decorators._wrapper_facts` "scope": an opener in a `with` or before the call (closed after it), or
    `.set(...)` before and `.reset(...)` after."""
    voc = vocabulary(project.catalog)
    return any_of(opener(project), words(voc.cv_set, voc.cv_reset))
