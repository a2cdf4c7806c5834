"""What a run checks with (`Settings`): the config, the loaded catalog, the project index and the enabled
codes, with the checks, compiled prefilter needs and ast gates they imply, computed once and sent once to
each worker process. `make_settings` builds it; `enabled_codes` applies `select`/`ignore`."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable, Iterable

from proplint.config import Config, ConfigError
from proplint.core.catalog import Catalog
from proplint.core.context import AstFile, Check
from proplint.core.needs import ANYWHERE, FileFilter
from proplint.index import ProjectIndex, build_index
from proplint.core.relevance import project_context
from proplint.registry import all_checks, all_rules, collectors, families, load_catalog


def enabled_codes(config: Config, select: Iterable[str] | None = None, ignore: Iterable[str] = (),
                  include_default_off: bool = False) -> frozenset[str]:
    """Codes a run reports. `select` (CLI) replaces the config's; `ignore` adds to it.

    Rules that are off by default are on only when a selector names them more precisely than the bare
    `PRP` prefix (e.g. `PRP406` or `PRP4`).
    """
    rules = all_rules()
    selectors = tuple(select) if select else config.select
    ignores = tuple(config.ignore) + tuple(ignore)
    out = set()
    for code, rule in rules.items():
        if selectors:
            hits = [s for s in selectors if code.startswith(s)]
            if not hits:
                continue
            if not rule.default_enabled and not include_default_off and all(s == "PRP" for s in hits):
                continue
        elif not rule.default_enabled and not include_default_off:
            continue
        if any(code.startswith(i) for i in ignores):
            continue
        out.add(code)
    return frozenset(out)


@dataclass
class Settings:
    """Everything a worker needs to check a file (picklable: sent once per worker process)."""

    config: Config
    catalog: Catalog
    index: ProjectIndex
    enabled: frozenset[str]
    want_edits: bool = False
    #: False only to prove the prefilter exact (every file parsed, every check run)
    use_prefilter: bool = True
    _checks: tuple[tuple[type[Check], frozenset[str]], ...] | None = field(default=None, repr=False)
    _filter: FileFilter | None = field(default=None, repr=False)
    _gates: dict[str, Callable[[AstFile], bool]] | None = field(default=None, repr=False)

    def checks(self) -> tuple[tuple[type[Check], frozenset[str]], ...]:
        """The checks with an enabled rule, each with its enabled codes."""
        if self._checks is None:
            selected = []
            for check in all_checks():
                codes = frozenset(r.code for r in check.rules) & self.enabled
                if codes:
                    selected.append((check, codes))
            self._checks = tuple(selected)
        return self._checks

    def file_filter(self) -> FileFilter:
        """The enabled rules' needs, compiled: which codes can report on a file, from its bytes."""
        if self._filter is None:
            needs = []
            for check, codes in self.checks():
                for need in check.needs(self.catalog, self.config, self.index):
                    if need.codes & codes:
                        needs.append(replace(need, codes=need.codes & codes))
            self._filter = FileFilter(needs)
        return self._filter

    def gates(self) -> dict[str, Callable[[AstFile], bool]]:
        """The enabled rules' `ast_gates`."""
        if self._gates is None:
            self._gates = {code: gate for check, codes in self.checks()
                           for code, gate in check.ast_gates(self.catalog, self.config, self.index).items()
                           if code in codes}
        return self._gates

    def possible(self, raw: bytes, module=ANYWHERE) -> frozenset[str]:
        """The enabled codes that can report on these bytes (all of them without the prefilter), in a file of
        module `module` (`index.module_name` of its path; not given: in any module)."""
        return self.file_filter().codes(raw, module) if self.use_prefilter else self.enabled

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_checks"] = None
        state["_filter"] = None
        state["_gates"] = None
        return state


def check_helpers(config: Config, index) -> None:
    """A configured factory, injector or extractor that names a module of the project must be defined there:
    a typo (or a missing import root, `src`) otherwise silently turns the checks it drives off. A name in a
    package the project does not hold (an installed library) is taken as given: proplint never imports it."""
    from proplint.core.units import importable_tops

    modules = {index.module_name(rel): rel for rel in index.files}
    modules.pop(None, None)
    tops = importable_tops(index) | {m.split(".")[0] for m in modules}
    wanted = []
    if config.http_client_factory:
        module, name = config.factory()  # type: ignore[misc]
        wanted.append(("http-client-factory", config.http_client_factory, module, name.split(".")[0]))
    for key, names in (("injectors", config.injectors), ("extractors", config.extractors)):
        for q in names:
            module, _, name = q.rpartition(".")
            wanted.append((key, q, module, name))
    for key, value, module, name in wanted:
        if not module or module.split(".")[0] not in tops:
            continue
        rel = modules.get(module)
        if rel is None:
            hint = "" if config.src else " (if the project imports its modules from a subfolder, set `src`)"
            raise ConfigError(f"{key}: {value!r}: no module {module!r} in the project{hint}")
        if not _defines(index.root, rel, name):
            raise ConfigError(f"{key}: {value!r}: {rel} defines no {name!r}")


def _defines(root: str, rel: str, name: str) -> bool:
    """Whether the module binds `name` at its top level (a def, a class, an assignment or an import)."""
    import ast
    from pathlib import Path

    from proplint.core.ast_names import parse_ast

    try:
        tree = parse_ast((Path(root) / rel).read_bytes())
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        return True  # unreadable here: the checks will say so; do not fail the configuration for it
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name:
            return True
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                return True
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            if any((a.asname or a.name.split(".")[0]) == name for a in node.names):
                return True
        if isinstance(node, (ast.If, ast.Try)):
            return True  # conditional definitions: do not second-guess them
    return False


def make_settings(config: Config, select=None, ignore=(), use_cache: bool = True, want_edits: bool = False,
                  include_default_off: bool = False, jobs: int = 1) -> Settings:
    """Everything needed to check files of one project; `jobs` processes build its index if it is cold."""
    catalog = load_catalog(config.catalogs)
    index = build_index(config, catalog, collectors(), use_cache=use_cache, jobs=jobs)
    check_helpers(config, index)
    enabled = enabled_codes(config, select, ignore, include_default_off)
    if config.scope == "application" and project_context(index, catalog).nothing_to_lose:
        # a deployed service with no tracing and no context of its own: no boundary can lose anything
        enabled = frozenset(c for c in enabled if not any(
            f.boundary and c.startswith(f.prefix) for f in families()))
    return Settings(config, catalog, index, enabled, want_edits)
