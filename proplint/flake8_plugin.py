"""The flake8 entry point (`PRP`): a thin adapter over the engine.

It reads the same `[tool.proplint]` table as the CLI (from the checked file's project), so the editor
and the CLI agree; flake8's own select/ignore/per-file-ignores/noqa then apply as usual. Rules that are
off by default are added to flake8's default ignore list. The project index comes from the on-disk
cache, built once per process per project. Fixes are not applied under flake8: use `proplint fix`.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any, Iterator

from proplint import __version__

_SETTINGS: dict[Any, Any] = {}
#: directory -> its settings: the files of one directory share a project (no pyproject.toml re-read)
_BY_DIR: dict[str, Any] = {}


def _settings_for(filename: str):
    path = Path(filename) if filename not in ("-", "stdin") else Path.cwd()
    start = path if path.exists() else Path.cwd()
    folder = str(start.parent if not start.is_dir() else start)
    if folder not in _BY_DIR:
        _BY_DIR[folder] = _load(start)
    return _BY_DIR[folder]


def _load(start: Path):
    from proplint.config import ConfigError, load_config
    from proplint.engine import make_settings

    try:
        config = load_config(start)
    except ConfigError as exc:
        return exc
    key = (config.root, config.source)
    if key not in _SETTINGS:
        try:
            _SETTINGS[key] = make_settings(config, include_default_off=True)
        except Exception as exc:  # a bad catalog must not kill flake8
            _SETTINGS[key] = exc
    return _SETTINGS[key]


class Plugin:
    name = "proplint"
    version = __version__

    def __init__(self, tree: ast.AST, filename: str, lines: list[str]) -> None:
        self.filename = filename
        self.lines = lines

    #: flake8's --select/--extend-select, for rules that are off by default (see `parse_options`)
    _selectors: tuple[str, ...] = ()

    @classmethod
    def parse_options(cls, options) -> None:
        """Remember what flake8 selects: a default-off rule is reported only when a selector names it
        more precisely than the bare `PRP` prefix, exactly as `proplint check --select` decides."""
        cls._selectors = tuple((getattr(options, "select", None) or []) +
                               (getattr(options, "extend_select", None) or []))

    @classmethod
    def _wanted(cls, code: str, default_enabled: bool, config_select: tuple[str, ...]) -> bool:
        """Default-off rules: on when flake8's selectors or the project's [tool.proplint] select name
        them more precisely than `PRP` (the CLI's rule, so the editor and the CLI agree)."""
        if default_enabled:
            return True
        return any(code.startswith(s) and s != "PRP" for s in (*cls._selectors, *config_select))

    @classmethod
    def add_options(cls, option_manager) -> None:
        from proplint.checks import all_rules

        off = [code for code, rule in all_rules().items() if not rule.default_enabled]
        if off:
            option_manager.extend_default_ignore(off)

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        from proplint.engine import analyse, relpath_of

        settings = _settings_for(self.filename)
        if isinstance(settings, Exception):
            yield 1, 0, f"PRP001 proplint configuration error: {settings}", type(self)
            return
        relpath = relpath_of(Path(self.filename), settings.config.root)
        try:
            analysis = analyse("".join(self.lines), self.filename, relpath, settings, noqa=False)
        except Exception as exc:  # never take flake8 down with us
            yield 1, 0, f"PRP001 internal error while checking ({type(exc).__name__}: {exc})", type(self)
            return
        from proplint.checks import all_rules

        rules = all_rules()
        for f in analysis.findings:
            rule = rules.get(f.code)
            if rule is not None and not self._wanted(f.code, rule.default_enabled, settings.config.select):
                continue
            yield f.line, max(f.column - 1, 0), f"{f.code} {f.display_message()}", type(self)
