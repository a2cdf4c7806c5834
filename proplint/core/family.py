"""What a rule family contributes, as data: its checks, its rules, its catalog roles and index collectors.

Each family package (`proplint/families/<name>/__init__.py`) exports one `FAMILY = Family(...)`;
`proplint.registry` collects them. Nothing registers itself by being imported: a rule, a role or a
collector that no `Family` names does not exist for the engine, the catalog loader or the index.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from proplint.config import Config
    from proplint.core.catalog import Catalog
    from proplint.core.context import Check
    from proplint.core.rule import Rule

#: `(tree, imports, module, config, catalog) -> JSON-serialisable facts` for one file of the project
CollectorFn = Callable[[ast.Module, dict, "str | None", "Config", "Catalog"], Any]


@dataclass(frozen=True)
class Collector:
    """A project-index fact computed per file from its stdlib `ast` (`ProjectIndex.facts(name)`).

    `tokens`: byte strings one of which a file must contain for the collector to run, or a function of
    the loaded catalog giving them (so a user catalog's names count), or None (every file). `when`: a
    module-level predicate on (module name, config); modules for which it is false are skipped. Both
    must be picklable (module-level functions), since the index is built in worker processes. `parse`: False
    for a collector that reads only the files parsed for another one (it never makes the index parse a file).
    """

    name: str
    fn: CollectorFn
    tokens: "tuple[bytes, ...] | Callable[[Catalog], tuple[bytes, ...] | None] | None" = None
    when: "Callable[[str | None, Config], bool] | None" = None
    parse: bool = True

    def tokens_for(self, catalog: "Catalog") -> tuple[bytes, ...] | None:
        return self.tokens(catalog) if callable(self.tokens) else self.tokens


@dataclass(frozen=True)
class Family:
    """One rule family: `prefix` is its codes' common start (`PRP2`); every rule of `rules` has it, and so
    must every `code = ...` of the catalog entries of its `roles`."""

    name: str
    prefix: str
    rules: tuple[type["Rule"], ...]
    checks: tuple[type["Check"], ...]
    roles: tuple[type, ...] = ()
    collectors: tuple[Collector, ...] = ()
    #: its rules report boundaries where a context is carried (HTTP, threads, messages): they report nothing
    #: in a project with no context to lose (`core/relevance.py`)
    boundary: bool = True
