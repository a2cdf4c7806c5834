"""Cached check results in `.proplint_cache/`, keyed by file content and everything that shapes a result.

The key of a run is proplint's version (and the stamps of its modules, `index.code_fingerprint`), the catalog, the configuration, the enabled codes, whether
fix edits were asked for, and the project index's facts (a change anywhere in the project that changes
a fact, such as a new instrumentor call, invalidates every result). Within a run, a file's entry is
reused when its (mtime, size) stamp is unchanged, or when its content hash is. Only the parent process
reads and writes the cache; workers see cache misses only.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from proplint.config import real_path
from proplint.index import atomic_write_text, code_fingerprint, ensure_cache_dir
from proplint.core.rule import Finding, Fix

FORMAT = 1


def run_key(settings) -> str:
    index = settings.index
    payload = json.dumps(
        {
            "format": FORMAT,
            "version": code_fingerprint(),
            "catalog": settings.catalog.fingerprint,
            "config": settings.config.fingerprint(),
            "enabled": sorted(settings.enabled),
            "edits": settings.want_edits,
            "index": [sorted(index.files.items()), sorted(index.deps), index.launcher, index.bootstrap,
                      sorted(index.disabled), sorted(getattr(index, "signals", ())),
                      sorted(getattr(index, "pins", {}).items()), sorted(getattr(index, "entry_points", ()))],
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


def _to_json(f: Finding) -> dict:
    fix = None if f.fix is None else {"applicability": f.fix.applicability, "message": f.fix.message}
    return {"code": f.code, "message": f.message, "line": f.line, "column": f.column,
            "end_line": f.end_line, "end_column": f.end_column, "fix": fix, "edits": f.edits}


def _from_json(d: dict, path: str) -> Finding:
    fix = Fix(**d["fix"]) if d["fix"] else None
    return Finding(d["code"], d["message"], path, d["line"], d["column"], d["end_line"], d["end_column"],
                   fix=fix, edits=d["edits"])


class ResultCache:
    def __init__(self, settings, enabled: bool = True) -> None:
        self.root = Path(settings.config.root)
        self.key = run_key(settings)
        self.file: Path | None = None
        self.entries: dict[str, dict] = {}
        self.dirty = False
        if not enabled:
            return
        directory = ensure_cache_dir(self.root)
        if directory is None:
            return
        self.file = directory / f"results-{self.key}.json"
        try:
            self.entries = json.loads(self.file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.entries = {}

    @staticmethod
    def _stamp(path: Path) -> list[int] | None:
        try:
            st = path.stat()
        except OSError:
            return None
        return [st.st_mtime_ns, st.st_size]

    def _name(self, path: Path) -> str:
        return str(real_path(path))

    def get(self, path: Path) -> list[Finding] | None:
        if self.file is None:
            return None
        entry = self.entries.get(self._name(path))
        if entry is None:
            return None
        stamp = self._stamp(path)
        if stamp is None:
            return None
        if entry["stamp"] != stamp:
            try:
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError:
                return None
            if digest != entry["sha"]:
                return None
            entry["stamp"] = stamp
            self.dirty = True
        return [_from_json(d, str(path)) for d in entry["findings"]]

    def lookup(self, path: Path, digest: str) -> list[Finding] | None:
        """The findings stored for `path` if they were made from content with this sha256 (the flake8
        plugin: its text, not the file's stamp, says what it checks). noqa already applied."""
        entry = self.entries.get(self._name(path)) if self.file is not None else None
        if entry is None or entry["sha"] != digest:
            return None
        return [_from_json(d, str(path)) for d in entry["findings"]]

    def put(self, path: Path, checked) -> None:
        """Store an `engine.Checked`: its stamp and hash are those of the bytes its findings came from."""
        if self.file is None or checked.stamp is None or checked.digest is None:
            return
        self.entries[self._name(path)] = {"stamp": checked.stamp, "sha": checked.digest,
                                          "findings": [_to_json(f) for f in checked.findings]}
        self.dirty = True

    def save(self) -> None:
        if self.file is None or not self.dirty:
            return
        try:
            # results of older runs (other keys) are dropped: one results file per project
            for old in self.file.parent.glob("results-*.json"):
                if old != self.file:
                    old.unlink(missing_ok=True)
            atomic_write_text(self.file, json.dumps(self.entries))
        except OSError:
            pass
