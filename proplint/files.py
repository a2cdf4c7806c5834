"""Which files a run looks at: directory walk, default and configured excludes, `.gitignore`."""

from __future__ import annotations

import fnmatch
import functools
import os
import re
import subprocess
from pathlib import Path

from proplint.config import DEFAULT_EXCLUDES, Config, real_path


@functools.lru_cache(maxsize=64)
def _matcher(patterns: tuple[str, ...]):
    """One compiled test for a set of exclude patterns: does a name, or a path relative to the root
    (or anything under it), match one of them (fnmatch rules)."""
    stripped = [p.rstrip("/") for p in patterns]
    if not stripped:
        return lambda name, rel: False
    names = re.compile("|".join(fnmatch.translate(p) for p in stripped))
    rels = re.compile("|".join(fnmatch.translate(q) for p in stripped for q in (p, p + "/*")))
    return lambda name, rel: bool(names.match(name) or rels.match(rel))


def _excluded(name: str, rel: str, patterns: tuple[str, ...]) -> bool:
    return _matcher(tuple(patterns))(name, rel)


def _is_virtualenv(path: Path) -> bool:
    return (path / "pyvenv.cfg").is_file()


def _keep_dir(here: Path, here_rel: str, name: str, patterns: tuple[str, ...]) -> bool:
    return not _excluded(name, _join(here_rel, name), patterns) and not _is_virtualenv(here / name)


def _join(rel_dir: str, name: str) -> str:
    return name if rel_dir in ("", ".") else f"{rel_dir}/{name}"


def _relative(path: Path, root: Path) -> str:
    try:
        return real_path(path).relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def _git_ignored(paths: list[Path], root: Path) -> set[Path]:
    """The subset of `paths` that git would ignore (empty when not in a git work tree)."""
    if not paths:
        return set()
    absolute = {str(p.absolute()): p for p in paths}
    try:
        proc = subprocess.run(
            ["git", "-C", str(root), "check-ignore", "-z", "--stdin"],
            input=b"\0".join(os.fsencode(a) for a in absolute),
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return set()
    if proc.returncode not in (0, 1):
        return set()
    return {absolute[os.fsdecode(p)] for p in proc.stdout.split(b"\0") if os.fsdecode(p) in absolute}


def iter_python_files(paths: list[Path], config: Config, extensions: tuple[str, ...] = (".py",)) -> list[Path]:
    """Python files under `paths`. Files named explicitly are always included (like ruff and flake8)."""
    patterns = DEFAULT_EXCLUDES + config.exclude
    root = config.root
    found: list[Path] = []
    walked: list[Path] = []
    for start in paths:
        if start.is_file() or not start.exists():
            found.append(start)
            continue
        for dirpath, dirnames, filenames in os.walk(start, followlinks=False):
            here = Path(dirpath)
            here_rel = _relative(here, root)  # once per directory: the walk does not follow links
            dirnames[:] = sorted(d for d in dirnames if _keep_dir(here, here_rel, d, patterns))
            for f in sorted(filenames):
                if f.endswith(extensions) and not _excluded(f, _join(here_rel, f), config.exclude):
                    walked.append(here / f)
    ignored = _git_ignored(walked, root)
    found.extend(p for p in walked if p not in ignored)
    seen: set[Path] = set()
    unique = []
    for p in found:
        if p not in seen:
            seen.add(p)
            unique.append(p)
    return unique


def project_files(root: Path, config: Config) -> tuple[list[Path], list[Path]]:
    """(python files, other files) of the project: what the project index reads."""
    patterns = DEFAULT_EXCLUDES + config.exclude
    py: list[Path] = []
    other: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        here_rel = _relative(here, root)
        dirnames[:] = sorted(d for d in dirnames if _keep_dir(here, here_rel, d, patterns))
        for f in sorted(filenames):
            (py if f.endswith(".py") else other).append(here / f)
    ignored = _git_ignored(py + other, root)
    return [p for p in py if p not in ignored], [p for p in other if p not in ignored]


def force_excluded(path: Path, config: Config) -> bool:
    """Whether a file named on the command line falls under the default or configured excludes (checked
    for the file and each folder above it up to the project root): `--force-exclude`, for pre-commit and
    editors, which name every file."""
    rel = _relative(path, real_path(config.root))
    if rel.startswith("../") or Path(rel).is_absolute():
        parts = [path.name]
    else:
        parts = rel.split("/")
    patterns = DEFAULT_EXCLUDES + config.exclude
    return any(_excluded(part, "/".join(parts[:i + 1]), patterns) for i, part in enumerate(parts))
