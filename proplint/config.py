"""`[tool.proplint]`: find it, validate it, explain what is wrong with it.

The table lives in the nearest `pyproject.toml` at or above the checked path (or the file given with
`--config`). An unknown key or a bad value raises `ConfigError` naming the key; the CLI exits 2.
"""

from __future__ import annotations

import dataclasses

import fnmatch
import hashlib
import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


class ConfigError(ValueError):
    pass


def real_path(path: Path) -> Path:
    """`path` made absolute with symlinks resolved, without raising on a symlink loop (unlike
    `Path.resolve()` before Python 3.13)."""
    return Path(os.path.realpath(path))


CODE_PREFIX = re.compile(r"^PRP\d{0,3}$")
TARGET_VERSION = re.compile(r"^py3(\d{1,2})$")
QUALNAME = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_]\w*)*$")
FACTORY = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")

#: `scope`: where findings are reported (see `core/relevance.py`)
SCOPES = ("application", "all")

DEFAULT_EXCLUDES = (
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    ".direnv",
    "__pypackages__",
    "site-packages",
    "build",
    "dist",
    "__pycache__",
    ".tox",
    ".nox",
    "node_modules",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".proplint_cache",
    ".eggs",
    "*.egg-info",
)


@dataclass(frozen=True)
class Config:
    root: Path = field(default_factory=Path.cwd)
    source: Path | None = None
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    exclude: tuple[str, ...] = ()
    target_version: str = "py310"
    http_client_factory: str | None = None
    injectors: tuple[str, ...] = ()
    extractors: tuple[str, ...] = ()
    catalogs: tuple[str, ...] = ()
    #: Key under which a payload carrier is added by the unsafe payload fixes (messaging).
    trace_context_key: str = "trace_context"
    #: "application": report only in application code (`core/relevance.py`); "all": in tests, scripts,
    #: examples and command-line tools too.
    scope: str = "application"
    #: boundaries that leave the system (`external = { hosts = [...], topics = [...] }`): host name globs and
    #: topic/subject/queue globs no one downstream reads a trace from; reported neither as producer nor consumer
    external_hosts: tuple[str, ...] = ()
    external_topics: tuple[str, ...] = ()
    #: import roots (ruff's `src`): folders, relative to the project root, that modules are imported from
    #: (`services` when `services/orders/api.py` is `orders.api`); deepest first. `proplint init` infers them.
    src: tuple[str, ...] = ()
    #: the project's line length, read from `[tool.ruff]` or `[tool.black]` beside `[tool.proplint]` (88 when
    #: neither sets it): a fix that would make a longer line puts the call's arguments one per line
    line_length: int = 88

    @property
    def target_minor(self) -> int:
        return int(TARGET_VERSION.match(self.target_version).group(1))  # type: ignore[union-attr]

    def fingerprint(self) -> str:
        data = {k: v for k, v in self.__dict__.items() if k not in ("root", "source")}
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]

    def factory(self) -> tuple[str, str] | None:
        """(module, attribute) of the traced client factory, if configured."""
        if not self.http_client_factory:
            return None
        module, _, name = self.http_client_factory.partition(":")
        return module, name

    def ignored_for(self, relpath: str) -> tuple[str, ...]:
        base = relpath.rsplit("/", 1)[-1]
        out: list[str] = []
        for pattern, codes in self.per_file_ignores:
            if fnmatch.fnmatch(relpath, pattern) or fnmatch.fnmatch(base, pattern):
                out.extend(codes)
        return tuple(out)


def _codes(key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        raise ConfigError(f"{key} must be a list of code prefixes like [\"PRP1\", \"PRP203\"], not the string "
                          f"{value!r}")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{key} must be a list of code prefixes like [\"PRP1\", \"PRP203\"]")
    return check_codes(key, value)


def check_codes(key: str, value) -> tuple[str, ...]:
    """Code prefixes that are proplint's (`PRP`, `PRP1`, `PRP101`) and select at least one rule: a typo
    (`E501`, `PRP9`) is an error, never a silently empty selection."""
    from proplint.registry import all_rules  # the rules, for prefixes that match none

    bad = [v for v in value if not CODE_PREFIX.match(v)]
    if bad:
        raise ConfigError(f"{key}: {', '.join(bad)} is not a proplint code prefix (PRP, PRP1, PRP101, ...)")
    codes = set(all_rules()) | {"PRP001"}
    empty = [v for v in value if not any(c.startswith(v) for c in codes)]
    if empty:
        raise ConfigError(f"{key}: {', '.join(empty)} matches no rule (`proplint rules` lists them)")
    return tuple(value)


def _strings(key: str, value: Any, pattern: re.Pattern | None = None) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{key} must be a list of strings")
    if pattern is not None:
        bad = [v for v in value if not pattern.match(v)]
        if bad:
            raise ConfigError(f"{key}: {', '.join(bad)} is not a qualified name like \"pkg.module.func\"")
    return tuple(value)


def _parse(table: dict[str, Any], root: Path, source: Path | None) -> Config:
    kwargs: dict[str, Any] = {"root": root, "source": source}
    for key, value in table.items():
        if key in ("select", "ignore"):
            kwargs[key] = _codes(key, value)
        elif key == "per-file-ignores":
            if not isinstance(value, dict):
                raise ConfigError('per-file-ignores must be a table of glob = ["PRP..."]')
            kwargs["per_file_ignores"] = tuple(
                (str(glob), _codes(f"per-file-ignores.{glob!r}", codes)) for glob, codes in value.items()
            )
        elif key == "exclude":
            kwargs["exclude"] = _strings(key, value)
        elif key == "target-version":
            if not isinstance(value, str) or not TARGET_VERSION.match(value) or not 10 <= int(value[3:]) <= 15:
                raise ConfigError(f'target-version must be like "py310" (3.10 or later), not {value!r}')
            kwargs["target_version"] = value
        elif key == "http-client-factory":
            if not isinstance(value, str) or not FACTORY.match(value):
                raise ConfigError(
                    f'http-client-factory must be "module.path:name" (e.g. "svc.shared.http_client:traced_client"), '
                    f"not {value!r}"
                )
            kwargs["http_client_factory"] = value
        elif key in ("injectors", "extractors"):
            kwargs[key] = _strings(key, value, QUALNAME)
        elif key == "catalogs":
            names = _strings(key, value)
            kwargs["catalogs"] = tuple(str(real_path(root / n)) for n in names)
            for n, full in zip(names, kwargs["catalogs"]):
                if not Path(full).is_file():
                    raise ConfigError(f"catalogs: {n} not found (relative to {root})")
        elif key == "trace-context-key":
            if not isinstance(value, str) or not value:
                raise ConfigError("trace-context-key must be a non-empty string")
            kwargs["trace_context_key"] = value
        elif key == "external":
            if not isinstance(value, dict) or set(value) - {"hosts", "topics"}:
                raise ConfigError('external must be a table like { hosts = ["*.stripe.com"], topics = ["devices/*"] }')
            if "hosts" in value:
                kwargs["external_hosts"] = _strings("external.hosts", value["hosts"])
            if "topics" in value:
                kwargs["external_topics"] = _strings("external.topics", value["topics"])
        elif key == "src":
            roots = [r.strip().strip("/") for r in _strings(key, value)]
            if any(r.startswith("..") or Path(r).is_absolute() for r in roots):
                raise ConfigError("src: import roots are folders inside the project, relative to it")
            kwargs["src"] = tuple(sorted({"" if r in ("", ".") else r for r in roots}, key=len, reverse=True))
        elif key == "scope":
            if value not in SCOPES:
                raise ConfigError(f'scope must be one of {", ".join(map(repr, SCOPES))}, not {value!r}')
            kwargs["scope"] = value
        else:
            known = "select, ignore, per-file-ignores, exclude, target-version, http-client-factory, " \
                    "injectors, extractors, catalogs, trace-context-key, scope, external, src"
            raise ConfigError(f"unknown key {key!r} in [tool.proplint] (known keys: {known})")
    return Config(**kwargs)


def read_pyproject(path: Path) -> Config:
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    table = doc.get("tool", {}).get("proplint", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.proplint] must be a table")
    try:
        config = _parse(table, real_path(path.parent), path)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    for tool in ("ruff", "black"):
        width = doc.get("tool", {}).get(tool, {}).get("line-length") if isinstance(doc.get("tool"), dict) else None
        if isinstance(width, int) and not isinstance(width, bool) and 40 <= width <= 1000:
            return dataclasses.replace(config, line_length=width)
    return config


def _has_table(pyproject: Path) -> bool:
    try:
        doc = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return True  # unreadable: it is the one to report on (`read_pyproject` says why)
    return isinstance(doc.get("tool"), dict) and "proplint" in doc["tool"]


def find_pyproject(start: Path) -> Path | None:
    """The `pyproject.toml` whose `[tool.proplint]` applies to `start`: the nearest one at or above it that
    has the table (as ruff does, a `pyproject.toml` without the table does not hide its parents'). When
    none has it, the project is the whole work tree: the outermost `pyproject.toml` up to the git root (in
    a monorepo, the repository, not one service); outside git, the nearest one."""
    start = real_path(start)
    here = start if start.is_dir() else start.parent
    found: list[Path] = []
    for candidate in (here, *here.parents):
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file():
            if _has_table(pyproject):
                return pyproject
            found.append(pyproject)
        if (candidate / ".git").exists():
            return found[-1] if found else None
    return found[0] if found else None


def load_config(start: Path, explicit: Path | None = None, overrides: dict[str, Any] | None = None) -> Config:
    """The configuration that applies to `start` (a file or directory)."""
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"--config {explicit}: no such file")
        config = read_pyproject(explicit)
    else:
        pyproject = find_pyproject(start)
        if pyproject is None:
            here = real_path(start)
            config = Config(root=here if here.is_dir() else here.parent)
        else:
            config = read_pyproject(pyproject)
    if overrides:
        config = merge(config, overrides)
    return config


def merge(config: Config, overrides: dict[str, Any]) -> Config:
    """Apply a `[tool.proplint]`-shaped mapping on top of a config (used by examples and tests)."""
    base = _parse(dict(overrides), config.root, config.source)
    changed = {k: getattr(base, k) for k in base.__dataclass_fields__ if k in {
        key.replace("-", "_") for key in overrides
    }}
    return Config(**{**config.__dict__, **changed})
