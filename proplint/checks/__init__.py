"""Rule families: one module per family, each defining `Check` subclasses and their `Rule`s.

Every module in this package is imported on first use; a new family is a new module plus its catalog
file in `rules/`, with no registry to edit.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

from proplint.check import Check
from proplint.rule import Rule


@lru_cache(maxsize=1)
def all_checks() -> tuple[type[Check], ...]:
    found: list[type[Check]] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Check) and value is not Check and value.rules:
                if value.__module__ == module.__name__:
                    found.append(value)
    return tuple(found)


@lru_cache(maxsize=1)
def all_rules() -> dict[str, type[Rule]]:
    rules: dict[str, type[Rule]] = {}
    for check in all_checks():
        for rule in check.rules:
            rules[rule.code] = rule
    from proplint.parse_errors import ParseFailure

    rules[ParseFailure.code] = ParseFailure
    return dict(sorted(rules.items()))


# Import the families now so their catalog roles are registered before a catalog is loaded.
all_checks()
