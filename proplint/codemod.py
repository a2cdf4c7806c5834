"""proplint's fixes as a LibCST codemod command.

    python -m libcst.tool codemod -x proplint.codemod.ProplintFixCommand [--unsafe-fixes] [--select CODES] PATHS

The command runs the same engine as `proplint fix`: for each file it finds the `[tool.proplint]` that
applies (the nearest `pyproject.toml` above the file), builds the project settings once per project,
and calls `proplint.fixes.fix_source`, so the result is re-parsed, compiled and re-checked exactly as
with the CLI. Files with nothing to fix, or whose fix does not verify, are skipped (`SkipFile`), the
latter with a warning.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import libcst as cst
from libcst.codemod import CodemodCommand, CodemodContext, SkipFile

from proplint.config import ConfigError, load_config
from proplint.engine import relpath_of
from proplint.settings import Settings, make_settings
from proplint.fixes import fix_source

#: (project root, config file, select, use_cache) -> Settings; one per project per process.
_SETTINGS: dict[tuple, Settings] = {}


def _codes(value: str | None) -> tuple[str, ...] | None:
    if not value:
        return None
    return tuple(v.strip().upper() for v in value.split(",") if v.strip())


class ProplintFixCommand(CodemodCommand):
    DESCRIPTION: str = (
        "Apply proplint's fixes for lost trace-context propagation (safe fixes only, unless --unsafe-fixes)."
    )

    @staticmethod
    def add_args(arg_parser: argparse.ArgumentParser) -> None:
        arg_parser.add_argument(
            "--unsafe-fixes",
            dest="unsafe_fixes",
            action="store_true",
            default=False,
            help="Also apply fixes marked unsafe (they may change behaviour).",
        )
        arg_parser.add_argument(
            "--select",
            dest="select",
            metavar="CODES",
            default=None,
            help="Comma-separated code prefixes to fix (replaces the config's), e.g. PRP1,PRP203.",
        )

    def __init__(self, context: CodemodContext, unsafe_fixes: bool = False, select: str | None = None) -> None:
        super().__init__(context)
        self.unsafe_fixes = bool(unsafe_fixes)
        self.select = _codes(select)

    def _settings(self, path: Path) -> Settings:
        try:
            config = load_config(path)
        except ConfigError as exc:
            raise SkipFile(f"proplint configuration error: {exc}") from exc
        key = (str(config.root), str(config.source), self.select)
        settings = _SETTINGS.get(key)
        if settings is None:
            settings = make_settings(config, self.select)
            _SETTINGS[key] = settings
        return settings

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        filename = self.context.filename
        path = Path(filename) if filename else Path.cwd() / "<stdin>.py"
        settings = self._settings(path)
        relpath = relpath_of(path, settings.config.root)
        result = fix_source(tree.bytes, str(path), relpath, settings, self.unsafe_fixes)
        if result.error:
            self.warn(f"proplint: {result.error}")
            raise SkipFile(result.error)
        if result.fixed is None or not result.changed:
            raise SkipFile("proplint: nothing to fix")
        return cst.parse_module(result.fixed)
