"""What the language server's worker process does: check, fix and explain, with warm project settings.

The server (`proplint.server.lsp`) runs every analysis here, in a separate process, so that the engine's
CPU-time budget (`engine.time_budget`, SIGPROF: main thread only) holds, and a crash in native code
kills this process, not the server. Each function is called with plain data and returns plain data.

One `Settings` (catalog, project index, compiled needs) is kept per project (config root and file);
`reindex` rebuilds them when project files change: the index cache makes that a stat of every file
and a re-read of the changed ones.
"""

from __future__ import annotations

import re
import tokenize
from pathlib import Path
from typing import Any

from proplint.config import Config, ConfigError, load_config, real_path
from proplint.core.catalog import CatalogError
from proplint.core.rule import Finding, rule_url
from proplint.engine import (FILE_TIME_BUDGET, BudgetExceeded, check_source, relpath_of, time_budget)
from proplint.settings import Settings, make_settings

#: folder -> its configuration (or the error loading it); project -> its settings (or the error)
_CONFIGS: dict[str, Config | Exception] = {}
_PROJECTS: dict[tuple, Settings | Exception] = {}

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _config(path: Path) -> Config | Exception:
    folder = str(path.parent)
    if folder not in _CONFIGS:
        try:
            _CONFIGS[folder] = load_config(path.parent if path.parent.exists() else Path.cwd())
        except (ConfigError, OSError) as exc:
            _CONFIGS[folder] = exc
    return _CONFIGS[folder]


def settings_for(path: Path) -> Settings | Exception:
    config = _config(path)
    if isinstance(config, Exception):
        return config
    key = (config.root, config.source)
    if key not in _PROJECTS:
        try:
            _PROJECTS[key] = make_settings(config)
        except (ConfigError, CatalogError, OSError) as exc:
            _PROJECTS[key] = exc
    return _PROJECTS[key]


def warm(path: str) -> str | None:
    """Load the project of `path` (its index, the rules): the first check then costs a check only."""
    settings = settings_for(Path(path))
    if isinstance(settings, Exception):
        return None
    settings.file_filter()
    settings.gates()
    return str(settings.config.root)


def reindex(paths: list[str]) -> list[str]:
    """Project files changed (`paths`: the changed files): forget the configurations, rebuild the settings
    of every project loaded so far (the index cache re-reads only what changed). The rebuilt roots."""
    del paths  # any change can move a file between projects (a new pyproject.toml): reload all of them
    known = [(key, s) for key, s in _PROJECTS.items()]
    _CONFIGS.clear()
    _PROJECTS.clear()
    roots = []
    for (root, source), _old in known:
        probe = Path(source).parent / "__probe__.py" if source else Path(root) / "__probe__.py"
        if warm(str(probe)) is not None:
            roots.append(str(root))
    return roots


# --- text, bytes and positions -----------------------------------------------------------------------

def encode(text: str) -> tuple[bytes, str]:
    """The editor's text as the bytes the file would hold (its coding cookie, else UTF-8)."""
    raw = text.encode("utf-8", "surrogatepass")
    try:
        import io

        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
        if encoding not in ("utf-8", "utf-8-sig"):
            return text.encode(encoding), encoding
    except (SyntaxError, LookupError, UnicodeError):
        pass
    return raw, "utf-8"


def lines_of(text: str) -> list[str]:
    """The document's lines as LSP counts them (`\\n`, `\\r\\n` and `\\r` end a line)."""
    return _LINE_BREAK.split(text)


def units(text: str, encoding: str) -> int:
    """Length of `text` in the client's position units."""
    if encoding == "utf-8":
        return len(text.encode("utf-8", "surrogatepass"))
    if encoding == "utf-32":
        return len(text)
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _position(lines: list[str], line: int, column: int, encoding: str) -> dict[str, int]:
    """1-based (line, column in characters) -> an LSP position."""
    row = max(line - 1, 0)
    text = lines[row] if row < len(lines) else ""
    return {"line": row, "character": units(text[:max(column - 1, 0)], encoding)}


def _diagnostic(f: Finding, lines: list[str], encoding: str) -> dict[str, Any]:
    start = _position(lines, f.line, f.column, encoding)
    end = _position(lines, f.end_line, f.end_column, encoding)
    if (end["line"], end["character"]) <= (start["line"], start["character"]):  # PRP001 has no extent
        end = {"line": start["line"], "character": units(lines[start["line"]] if start["line"] < len(lines) else "",
                                                         encoding)}
    fix = f.fix
    return {"code": f.code, "message": f.message, "start": start, "end": end, "href": rule_url(f.code),
            "line": f.line, "column": f.column,
            "fix": None if fix is None else fix.applicability, "fix_message": None if fix is None else fix.message}


# --- what the server asks for ------------------------------------------------------------------------

def failure(message: str) -> list[dict[str, Any]]:
    return [{"code": "PRP001", "message": message, "start": {"line": 0, "character": 0},
             "end": {"line": 0, "character": 0}, "href": rule_url("PRP001"), "line": 1, "column": 1,
             "fix": None, "fix_message": None}]


def diagnose(path: str, text: str, encoding: str = "utf-16") -> list[dict[str, Any]]:
    """The findings of `text` (the editor's buffer for the file `path`), as LSP-ready dicts."""
    settings = settings_for(Path(path))
    if isinstance(settings, Exception):
        return failure(f"proplint configuration error: {settings}")
    raw, _ = encode(text)
    findings = check_source(Path(path), path, raw, settings)  # budget, crash handling: as the CLI
    lines = lines_of(text)
    return [_diagnostic(f, lines, encoding) for f in findings]


def fix(path: str, text: str, target: dict[str, Any] | None, unsafe: bool) -> dict[str, Any]:
    """The text with one finding's fix (`target`: its code, line and column) or every safe fix applied
    (`target` None), verified as `proplint fix` verifies it: {"text": new text or None, "error": why not}."""
    from proplint.fixes import fix_source

    settings = settings_for(Path(path))
    if isinstance(settings, Exception):
        return {"text": None, "error": f"proplint configuration error: {settings}"}
    raw, encoding = encode(text)
    only = None
    if target is not None:
        def only(f: Finding) -> bool:
            return (f.code, f.line, f.column) == (target["code"], target["line"], target["column"])
    relpath = relpath_of(Path(path), settings.config.root)
    try:
        with time_budget(FILE_TIME_BUDGET):
            result = fix_source(raw, path, relpath, settings, unsafe=unsafe, only=only,
                                rounds=1 if target is not None else 100)
    except BudgetExceeded:
        return {"text": None, "error": f"fix took more than {FILE_TIME_BUDGET} s of CPU time"}
    except Exception as exc:  # noqa: BLE001 - the server must stay up
        return {"text": None, "error": f"internal error while fixing ({type(exc).__name__}: {exc})"}
    if result.error or result.fixed is None:
        return {"text": None, "error": result.error or "nothing to fix"}
    return {"text": result.fixed.decode(encoding, "surrogatepass"), "error": None, "applied": result.applied}


def explain(code: str) -> str | None:
    """A rule's documentation (Markdown), or the rules a code prefix names."""
    from proplint.registry import all_rules

    rules = all_rules()
    code = code.upper()
    if code in rules:
        return rules[code].documentation()
    named = [r for c, r in rules.items() if c.startswith(code)]
    if not named:
        return None
    return f"`{code}` silences:\n\n" + "\n".join(f"- [{r.code}]({rule_url(r.code)}) {r.name}" for r in named)
