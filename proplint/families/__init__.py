"""The rule families, one subpackage each (`http`, `threads`, `messaging`, `hygiene`).

Each subpackage exports `FAMILY` (`core.family.Family`): its rules (one module per public code under
`rules/`), its check (the visitor), its catalog roles and its index collectors. `proplint.registry`
finds the subpackages with `pkgutil`; a new family is a new subpackage plus its catalog file in the
top-level `rules/`, with no registry to edit.
"""
