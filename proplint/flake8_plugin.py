"""The flake8 entry point (`PRP`): a thin adapter over the engine.

It reads the same `[tool.proplint]` table as the CLI (from the checked file's project), so the editor
and the CLI agree; flake8's own select/ignore/per-file-ignores/noqa then apply as usual. Rules that are
off by default are added to flake8's default ignore list. The project index comes from the on-disk
cache, built once per process per project. A file on which no rule can report, by the needs the last
full run saved (`proplint.quick`), is answered without importing LibCST or the rules: an editor's
flake8 process pays for those only on files that may hold a finding. Such a file whose exact content
the CLI has checked with the same settings is answered from the CLI's result cache (`.proplint_cache/`,
keyed by content; the plugin reads it, never writes it). Fixes are not applied under flake8: use
`proplint fix`.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any, Iterator

from proplint import __version__

_SETTINGS: dict[Any, Any] = {}
#: project -> the CLI's result cache for the same settings (or None: not usable)
_RESULTS: dict[Any, Any] = {}
#: directory -> its settings: the files of one directory share a project (no pyproject.toml re-read)
_BY_DIR: dict[str, Any] = {}


#: The rules with `default_enabled = False`, spelled out so that flake8's start-up (every editor save)
#: does not import the rules and LibCST to learn them; a test keeps it equal to the rules' own flags.
DEFAULT_OFF = ("PRP002", "PRP406", "PRP411")
#: directory -> (config, needs key, saved needs or None): the fast path (`proplint.quick`)
_QUICK: dict[str, Any] = {}
_QUICK_PROJECTS: dict[Any, Any] = {}


def _spec(config) -> str:
    """Which rules the plugin turns on: the configuration's, plus the default-off ones when flake8's or the
    configuration's selectors name them (flake8's select/ignore then filter the reports)."""
    return "flake8-all" if _with_default_off(config) else "flake8"


def _with_default_off(config) -> bool:
    return any(Plugin._wanted(code, False, config.select) for code in DEFAULT_OFF)


def _start(filename: str) -> Path:
    path = Path(filename) if filename not in ("-", "stdin") else Path.cwd()
    return path if path.exists() else Path.cwd()


def _folder(start: Path) -> str:
    return str(start.parent if not start.is_dir() else start)


def _quick(filename: str) -> Any:
    """(config, key, saved needs) for the file's project: the config once per directory, the key (a stat of
    every project file) and the needs once per project; None on any error."""
    start = _start(filename)
    folder = _folder(start)
    if folder not in _QUICK:
        try:
            from proplint import quick
            from proplint.config import load_config

            config = load_config(start)
            project = (config.root, config.source)
            if project not in _QUICK_PROJECTS:
                digest = quick.key(config, _spec(config))
                _QUICK_PROJECTS[project] = (config, digest, quick.load(config, _spec(config), digest))
            _QUICK[folder] = _QUICK_PROJECTS[project]
        except Exception:  # noqa: BLE001 - the full path reports what is wrong
            _QUICK[folder] = None
    return _QUICK[folder]


def _ruled_out(filename: str, text: str) -> bool:
    """No rule can report on this text, by the needs saved for its project: nothing else to import."""
    known = _quick(filename)
    if not known or known[2] is None:
        return False
    return not known[2].codes(filename, text.encode("utf-8", "surrogateescape")) - {"PRP001"}


def _settings_for(filename: str):
    start = _start(filename)
    folder = _folder(start)
    if folder not in _BY_DIR:
        _BY_DIR[folder] = _load(start, _quick(filename))
    return _BY_DIR[folder]


def _load(start: Path, known: Any):
    from proplint.config import ConfigError, load_config
    from proplint.settings import make_settings

    try:
        config = load_config(start)
    except ConfigError as exc:
        return exc
    key = (config.root, config.source)
    if key not in _SETTINGS:
        try:
            # the default-off rules only when something selects them: otherwise the settings are the CLI's,
            # and so is the key of its result cache
            _SETTINGS[key] = make_settings(config, include_default_off=_with_default_off(config))
        except Exception as exc:  # a bad catalog must not kill flake8
            _SETTINGS[key] = exc
        else:
            if known and known[1] and known[2] is None:
                from proplint import quick

                quick.save(_SETTINGS[key], _spec(config), known[1])  # the key was taken before the index was built
    return _SETTINGS[key]


def _cached(filename: str, text: str, settings) -> Any:
    """The CLI's findings for exactly this text of this file, from its result cache, or None. The cache's key
    covers everything else a result depends on (proplint's code, catalog, config, rules, project index)."""
    import hashlib

    from proplint.cache import ResultCache

    project = (settings.config.root, settings.config.source)
    if project not in _RESULTS:
        try:
            cache = ResultCache(settings, enabled=True)
            _RESULTS[project] = cache if cache.entries else None
        except Exception:  # noqa: BLE001 - no cache: the file is checked
            _RESULTS[project] = None
    cache = _RESULTS[project]
    if cache is None or filename in ("-", "stdin"):
        return None
    digest = hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()
    return cache.lookup(Path(filename), digest)


class Plugin:
    name = "proplint"
    version = __version__

    def __init__(self, tree: ast.AST, filename: str, lines: list[str]) -> None:
        self.filename = filename
        self.lines = lines

    #: flake8's --select/--extend-select, for rules that are off by default (see `parse_options`)
    _selectors: tuple[str, ...] = ()
    #: flake8's --disable-noqa: the CLI's cached results have noqa applied, so they are not used then
    _disable_noqa: bool = False

    @classmethod
    def parse_options(cls, options) -> None:
        """Remember what flake8 selects: a default-off rule is reported only when a selector names it
        more precisely than the bare `PRP` prefix, exactly as `proplint check --select` decides."""
        cls._selectors = tuple((getattr(options, "select", None) or []) +
                               (getattr(options, "extend_select", None) or []))
        cls._disable_noqa = bool(getattr(options, "disable_noqa", False))

    @classmethod
    def _wanted(cls, code: str, default_enabled: bool, config_select: tuple[str, ...]) -> bool:
        """Default-off rules: on when flake8's selectors or the project's [tool.proplint] select name
        them more precisely than `PRP` (the CLI's rule, so the editor and the CLI agree)."""
        if default_enabled:
            return True
        return any(code.startswith(s) and s != "PRP" for s in (*cls._selectors, *config_select))

    @classmethod
    def add_options(cls, option_manager) -> None:
        option_manager.extend_default_ignore(list(DEFAULT_OFF))

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        source = "".join(self.lines)
        if _ruled_out(self.filename, source):
            return
        from proplint.engine import analyse, relpath_of

        settings = _settings_for(self.filename)
        if isinstance(settings, Exception):
            yield 1, 0, f"PRP001 proplint configuration error: {settings}", type(self)
            return
        findings = None if self._disable_noqa else _cached(self.filename, source, settings)
        if findings is None:
            relpath = relpath_of(Path(self.filename), settings.config.root)
            try:
                findings = analyse(source, self.filename, relpath, settings, noqa=False).findings
            except Exception as exc:  # never take flake8 down with us
                yield 1, 0, f"PRP001 internal error while checking ({type(exc).__name__}: {exc})", type(self)
                return
        from proplint.registry import all_rules

        from proplint.noqa import file_noqa, file_suppressed

        rules = all_rules()
        directive = file_noqa(source)  # `# proplint: noqa[: codes]`; flake8 honours `# flake8: noqa` itself
        for f in findings:
            rule = rules.get(f.code)
            if rule is not None and not self._wanted(f.code, rule.default_enabled, settings.config.select):
                continue
            if file_suppressed(f.code, directive):
                continue
            # the message without "(fixable)": flake8 cannot fix; `proplint fix` can
            yield f.line, max(f.column - 1, 0), f"{f.code} {f.message}", type(self)
