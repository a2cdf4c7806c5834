"""The editor's fast path: "no rule can report on this file", answered without LibCST or the rules.

A flake8 process started for one file by an editor would otherwise import LibCST and every check
(~0.3 s) just to find that the file's words rule every rule out, which is the common case. The first
full run in a project saves the compiled needs of its settings (`prefilter.Need`s, words only) in
`.proplint_cache/`, keyed by everything they depend on: proplint's code, the configuration, the
catalog files, which rules are on, and the stamps of every file of the project (the index facts the
needs read come from those files). A later process reads them back with this light module and, if the
file's words meet no need, reports nothing without importing the rest. A key that does not match, a
missing or unreadable file, or any rule still possible: the full path runs, as before. The index's import
roots are saved with the needs: a need that asks for a place (`core.needs.inside`) reads the file's module.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from proplint.core.catalog import builtin_catalog_files
from proplint.config import Config, real_path
from proplint.core.ast_names import module_name_for
from proplint.files import project_files
from proplint.index import CACHE_DIR, atomic_write_text, code_fingerprint, ensure_cache_dir
from proplint.core.needs import FileFilter, Need

FORMAT = 2


def key(config: Config, spec: str) -> str:
    """Everything the needs of a project's settings depend on (`spec`: which rules are on)."""
    h = hashlib.sha256(f"{FORMAT}|{code_fingerprint()}|{config.fingerprint()}|{spec}\n".encode())
    for path in (*builtin_catalog_files(), *(Path(p) for p in config.catalogs)):
        try:
            h.update(path.read_bytes())
        except OSError:
            h.update(b"?")
    py, other = project_files(config.root, config)
    root = str(config.root)
    for path in (*py, *other):
        try:
            st = path.stat()
        except OSError:
            continue
        h.update(f"{str(path)[len(root):]}:{st.st_mtime_ns}:{st.st_size}\n".encode())
    return h.hexdigest()


def _file(config: Config, spec: str) -> Path:
    return config.root / CACHE_DIR / f"needs-{spec}.json"


def save(settings, spec: str, digest: str) -> None:
    """Keep the compiled needs of these settings for the next process (best effort)."""
    if ensure_cache_dir(settings.config.root) is None:
        return
    needs = [[sorted(codes), [sorted(w.decode() for w in g) for g in groups], sorted(m.decode() for m in mods)]
             for codes, groups, mods in settings.file_filter().needs]
    data = {"key": digest, "needs": needs, "src": list(settings.index.src)}
    try:
        atomic_write_text(_file(settings.config, spec), json.dumps(data))
    except OSError:
        pass


class Saved:
    """The saved needs of a project, and its import roots (to name a file's module as the checks do)."""

    def __init__(self, needs: FileFilter, src: tuple[str, ...], root: Path) -> None:
        self.needs, self.src, self.root = needs, src, root

    def codes(self, filename: str, raw: bytes) -> frozenset[str]:
        """The codes that can report on this file's bytes (`FileFilter.codes`)."""
        try:
            relpath = real_path(Path(filename)).relative_to(real_path(self.root)).as_posix()
        except ValueError:
            relpath = Path(filename).as_posix()  # as `engine.relpath_of` names a file outside the root
        return self.needs.codes(raw, module_name_for(relpath, self.src))


def load(config: Config, spec: str, digest: str) -> Saved | None:
    try:
        data = json.loads(_file(config, spec).read_text(encoding="utf-8"))
        if data.get("key") != digest:
            return None
        needs = FileFilter(Need.of(codes, *groups, imported=mods) for codes, groups, mods in data["needs"])
        return Saved(needs, tuple(data["src"]), config.root)
    except (OSError, ValueError, KeyError, TypeError):
        return None
