"""Baselines for legacy code: record today's findings, then fail only on new ones.

A finding's fingerprint is its file's path (relative to its project root), its code, its source line with
whitespace and any trailing comment normalised away, and its occurrence among the findings of that file
with the same code and line text, never its line number: code added above a finding does not make it new.
The same fingerprint is SARIF's `partialFingerprints` and GitLab's `fingerprint`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from proplint.core.rule import Finding

FORMAT = 1
#: the key under which SARIF's `partialFingerprints` carries it
SARIF_KEY = "proplintFingerprint/v1"
_COMMENT = re.compile(r"\s+#.*$")


class BaselineError(ValueError):
    pass


def normalise(line: str) -> str:
    """The source line as the fingerprint sees it: no indentation, single spaces, no trailing comment."""
    return " ".join(_COMMENT.sub("", line).split())


def _source_lines(path: str, cache: dict[str, list[str]], sources: dict[str, bytes]) -> list[str]:
    if path not in cache:
        data = sources.get(path)
        if data is None:
            try:
                data = Path(path).read_bytes()
            except OSError:
                data = b""
        cache[path] = data.decode("utf-8", errors="replace").splitlines()
    return cache[path]


def fingerprint(relpath: str, code: str, text: str, occurrence: int) -> str:
    key = "\0".join((relpath, code, text, str(occurrence)))
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:20]


def assign(findings: list[Finding], relpaths: dict[str, str], sources: dict[str, bytes] | None = None) -> None:
    """Fill each finding's `fingerprint`; `relpaths` maps a finding's path to its path in the project
    (default: the path as shown), `sources` holds code not on disk (standard input)."""
    cache: dict[str, list[str]] = {}
    seen: Counter = Counter()
    for f in sorted(findings, key=lambda f: f.sort_key):
        lines = _source_lines(f.path, cache, sources or {})
        text = normalise(lines[f.line - 1]) if 0 < f.line <= len(lines) else ""
        rel = relpaths.get(f.path, Path(f.path).as_posix())
        key = (rel, f.code, text)
        f.fingerprint = fingerprint(rel, f.code, text, seen[key])
        seen[key] += 1


@dataclass
class Entry:
    fingerprint: str
    path: str
    code: str
    line: int
    source: str


def write(path: Path, findings: list[Finding], relpaths: dict[str, str], sources: dict[str, bytes]) -> int:
    """Write the findings' fingerprints to `path` (atomically); how many."""
    cache: dict[str, list[str]] = {}
    entries = []
    for f in sorted(findings, key=lambda f: f.sort_key):
        lines = _source_lines(f.path, cache, sources)
        entries.append({"fingerprint": f.fingerprint, "path": relpaths.get(f.path, f.path), "code": f.code,
                        "line": f.line, "source": normalise(lines[f.line - 1]) if 0 < f.line <= len(lines) else ""})
    doc = {"tool": "proplint", "format": FORMAT, "findings": entries}
    text = json.dumps(doc, indent=2) + "\n"
    from proplint.index import atomic_write_text

    path = path.absolute()
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, text)
    return len(entries)


def read(path: Path) -> list[Entry]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BaselineError(f"--baseline {path}: no such file (create it with --write-baseline)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BaselineError(f"--baseline {path}: cannot read: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("tool") != "proplint" or not isinstance(doc.get("findings"), list):
        raise BaselineError(f"--baseline {path}: not a proplint baseline (write one with --write-baseline)")
    try:
        return [Entry(e["fingerprint"], e["path"], e["code"], int(e.get("line", 0)), e.get("source", ""))
                for e in doc["findings"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise BaselineError(f"--baseline {path}: malformed entry ({exc})") from exc


def split(findings: list[Finding], entries: list[Entry], checked: set[str]) -> tuple[list[Finding], list[Entry]]:
    """(the findings the baseline does not hold, the baseline's entries for the checked files that no
    finding matches any more: fixed, or changed beyond recognition)."""
    left = Counter(e.fingerprint for e in entries)
    new = []
    for f in findings:
        if left[f.fingerprint] > 0:
            left[f.fingerprint] -= 1
        else:
            new.append(f)
    stale = []
    for e in entries:
        if left[e.fingerprint] > 0 and e.path in checked:
            left[e.fingerprint] -= 1
            stale.append(e)
    return new, stale
