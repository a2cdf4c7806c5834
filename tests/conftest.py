"""Shared helpers: materialise a small temporary project and run the engine on it."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

import pytest

from proplint.config import load_config
from proplint.engine import check_paths
from proplint.settings import Settings, make_settings
from proplint.fixes import FixResult, fix_file
from proplint.core.rule import Finding

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _toml_str(value: str) -> str:
    # JSON string escaping is a subset of TOML basic-string escaping.
    return json.dumps(value, ensure_ascii=False)


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else _toml_str(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _toml_str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"unsupported TOML value {value!r}")


def toml_table(name: str, mapping: Mapping[str, Any]) -> str:
    """`[name]` with str / list[str] values, plus one `[name.key]` sub-table per dict value."""
    lines = [f"[{name}]"]
    subtables = []
    for key, value in mapping.items():
        if isinstance(value, Mapping):
            subtables.append((key, value))
        else:
            lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
    out = "\n".join(lines) + "\n"
    for key, value in subtables:
        out += f"\n[{name}.{_toml_key(key)}]\n"
        out += "".join(f"{_toml_key(k)} = {_toml_value(v)}\n" for k, v in value.items())
    return out


@dataclass
class Project:
    """A temporary project: `pyproject.toml` with `[tool.proplint]`, the example and extra files."""

    root: Path
    main: Path

    def config(self):
        return load_config(self.root)

    def settings(self, select: Iterable[str] | None = None, ignore: Iterable[str] = ()) -> Settings:
        return make_settings(self.config(), select=select, ignore=tuple(ignore), use_cache=False)

    def check(self, *paths: Path, select: Iterable[str] | None = None) -> list[Finding]:
        files = list(paths) or [self.main]
        return check_paths(files, self.settings(select), jobs=1)

    def check_all(self, select: Iterable[str] | None = None) -> list[Finding]:
        """Every Python file of the project, as `proplint check <root>` sees them (git-ignored ones aside)."""
        from proplint.files import iter_python_files

        files = list(iter_python_files([self.root], self.config()))
        return sorted(check_paths(files, self.settings(select), jobs=1), key=lambda f: f.sort_key)

    def fix(self, unsafe: bool, path: Path | None = None, write: bool = False) -> FixResult:
        return fix_file(path or self.main, self.settings(), unsafe=unsafe, write=write)

    def python_files(self) -> list[Path]:
        return sorted(p for p in self.root.rglob("*.py"))


def write_project(root: Path, code: str, config: Mapping[str, Any] | None = None,
                  files: Mapping[str, str] | None = None, path: str = "example.py") -> Project:
    """Write a project under `root`. A `pyproject.toml` in `files` is kept, with `[tool.proplint]` appended."""
    root.mkdir(parents=True, exist_ok=True)
    files = dict(files or {})
    pyproject = files.pop("pyproject.toml", "")
    table = toml_table("tool.proplint", config or {})
    (root / "pyproject.toml").write_text((pyproject.rstrip("\n") + "\n\n" if pyproject else "") + table,
                                         encoding="utf-8")
    for rel, text in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    main = root / path
    main.parent.mkdir(parents=True, exist_ok=True)
    main.write_text(code, encoding="utf-8")
    return Project(root, main)


@pytest.fixture
def make_project(tmp_path):
    """`make_project(code, config={}, files={}, path="example.py") -> Project` in a fresh directory."""
    counter = iter(range(1_000_000))

    def make(code: str, config: Mapping[str, Any] | None = None, files: Mapping[str, str] | None = None,
             path: str = "example.py") -> Project:
        return write_project(tmp_path / f"project{next(counter)}", code, config, files, path)

    return make
