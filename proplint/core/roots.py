"""Import roots inferred from where the project's modules import each other (ruff's `src`, inferred).

A monorepo imports its code from folders below its root: `backend/` holds the `onyx` package that every module
imports as `onyx.*`; each library of `libs/*/src/` is installed and imported by its package name; a
`services/` folder is on the path of its services. A module must be named as it is imported, or a helper
defined in one module is not recognised where another imports it. With no `src` configured, a folder P is an
import root when the project imports a top-level name that is not a folder or module at the project root, is
not a standard-library module, and is a package (`P/name/__init__.py`) or a module (`P/name.py`) under exactly
one folder P that is not a package itself, outside test, script, example and vendored code. `proplint init`
writes what this finds; a configured `src` replaces it.
"""

from __future__ import annotations

import re
import sys
from collections import Counter

from proplint.core.relevance import VENDOR_PARTS, path_kind

_IMPORT_ROOT = re.compile(rb"^[ \t]*(?:from|import)[ \t]+([A-Za-z_]\w*)", re.MULTILINE)
_STDLIB = frozenset(getattr(sys, "stdlib_module_names", ())) | {"__future__"}
_NEVER = frozenset({"site-packages", "node_modules", ".venv", "venv", "build", "dist"})


def import_roots(source: bytes) -> list[str]:
    """The top-level names a module imports (`from a.b import c` -> `a`), read from its text: cheap enough
    for every file of a monorepo."""
    return sorted({m.decode() for m in _IMPORT_ROOT.findall(source)})


def infer(files: list[str], imported: dict[str, list[str]]) -> list[tuple[str, str]]:
    """(root, why) for each inferred import root; `files` are relative paths, `imported` the top-level names
    each file imports."""
    at_root = {rel.split("/")[0].removesuffix(".py") for rel in files}
    counts: Counter = Counter()
    for rel, names in imported.items():
        if not path_kind(rel):
            counts.update(names)
    packages = {rel.rsplit("/", 1)[0] for rel in files if rel.endswith("/__init__.py")}
    by_name: dict[str, set[str]] = {}
    for p in packages:
        head, _, name = p.rpartition("/")
        if head:
            by_name.setdefault(name, set()).add(head)
    for rel in files:
        head, _, name = rel.rpartition("/")
        if head and name.endswith(".py") and name != "__init__.py":
            by_name.setdefault(name[:-3], set()).add(head)
    found: dict[str, str] = {}
    for name, uses in counts.most_common():
        if name in at_root or name == "src" or name in _STDLIB:
            continue
        holders = {h for h in by_name.get(name, ()) if h not in packages and not path_kind(h + "/x.py")
                   and not set(h.lower().split("/")) & (VENDOR_PARTS | _NEVER)}
        if len(holders) == 1:
            root = holders.pop()
            found.setdefault(root, f"`{name}` is imported {uses} time{'s' * (uses != 1)} and lives in {root}/")
    return sorted(found.items())
