"""Every family's contribution, collected: the rules, checks, catalog roles and index collectors.

The families are found with `pkgutil` (each subpackage of `proplint.families` exports `FAMILY`); nothing
registers itself by being imported. The catalog loader and the index take what this module collects as
arguments, so they never import the families. It also validates what the families declare against the
loaded catalog: a catalog entry's `code` must be a code of the family that declares its role.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

from proplint import families as _families_pkg
from proplint.core import catalog as _catalog
from proplint.core.context import Check
from proplint.core.family import Collector, Family
from proplint.core.parse_failure import ParseFailure
from proplint.core.unused_noqa import UnusedNoqa
from proplint.core.rule import Rule


@lru_cache(maxsize=1)
def families() -> tuple[Family, ...]:
    found = []
    for info in sorted(pkgutil.iter_modules(_families_pkg.__path__), key=lambda i: i.name):
        if info.ispkg:
            module = importlib.import_module(f"{_families_pkg.__name__}.{info.name}")
            family = getattr(module, "FAMILY", None)
            if isinstance(family, Family):
                found.append(family)
    return tuple(sorted(found, key=lambda f: f.prefix))


@lru_cache(maxsize=1)
def all_rules() -> dict[str, type[Rule]]:
    """Every public code, sorted: PRP001 and PRP002 (the engine's own) and each family's rules."""
    rules: dict[str, type[Rule]] = {ParseFailure.code: ParseFailure, UnusedNoqa.code: UnusedNoqa}
    for family in families():
        for rule in family.rules:
            rules[rule.code] = rule
    return dict(sorted(rules.items()))


def all_checks() -> tuple[type[Check], ...]:
    return tuple(check for family in families() for check in family.checks)


def all_roles() -> tuple[type, ...]:
    return (*_catalog.CORE_ROLES, *(r for family in families() for r in family.roles))


def collectors() -> tuple[Collector, ...]:
    return tuple(c for family in families() for c in family.collectors)


def family_of(code: str) -> Family | None:
    return next((f for f in families() if any(r.code == code for r in f.rules)), None)


def load_catalog(extra: tuple[str, ...] = ()) -> _catalog.Catalog:
    """The built-in catalog plus the user's `catalogs`, validated against every family's roles, and each
    entry's `code` checked to be a rule of the family that declares the entry's role."""
    catalog = _catalog.load_catalog(tuple(extra), all_roles())
    _check_codes(catalog)
    return catalog


@lru_cache(maxsize=16)
def _owners() -> dict[str, Family]:
    return {role.ROLE: family for family in families() for role in family.roles}


def _check_codes(catalog: _catalog.Catalog) -> None:
    owners = _owners()
    for role_name, entries in catalog.entries.items():
        family = owners.get(role_name)
        if family is None:
            continue
        codes = {r.code for r in family.rules}
        for entry in entries:
            code = getattr(entry, "code", None)
            if code and code not in codes:
                raise _catalog.CatalogError(
                    f"[[{role_name}]] entry {getattr(entry, 'name', entry)!r} has code = {code!r}, which is not a "
                    f"rule of the {family.name} family that reads [[{role_name}]] ({', '.join(sorted(codes))})")
