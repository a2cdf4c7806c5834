"""Fixes: apply node replacements and imports, re-verify, and write atomically.

A fix is an atomic group (node replacements by identity + imports, added with LibCST's
`AddImportsVisitor`). Fixes whose targets do not nest are applied together in one round; the result is
re-parsed and re-checked, and rounds repeat until nothing applicable is left. The file is written only
if the result compiles, every round removed the findings it fixed, and the file on disk is still the
one that was read; the write goes to a temporary file in the same directory and `os.replace`s it,
keeping the mode.
"""

from __future__ import annotations

import difflib
from collections import Counter
import os
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import libcst as cst

from proplint.core.ast_names import module_name_for
from proplint.core.units import importable_tops
from proplint.edits import apply_fixes, non_overlapping
from proplint.engine import analyse, read_source, relpath_of
from proplint.settings import Settings
from proplint.core.rule import SAFE, Finding

#: Fixes whose targets overlap (e.g. several that each add a module-level statement) apply one per round;
#: like ruff, allow many rounds so one run reaches the fixed point (a second run must change nothing).
MAX_ROUNDS = 100


@dataclass
class FixResult:
    path: str
    original: bytes = b""
    fixed: bytes | None = None
    applied: int = 0
    remaining: list[Finding] = field(default_factory=list)
    error: str | None = None
    written: bool = False
    #: the codes of the findings before any fix
    before: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.fixed is not None and self.fixed != self.original

    def fixed_counts(self) -> Counter:
        """Per code, how many findings the fixes made disappear (what was there minus what remains)."""
        if not self.changed:
            return Counter()
        return Counter(self.before) - Counter(f.code for f in self.remaining)


def _applicable(f: Finding, unsafe: bool) -> bool:
    return f.fix is not None and bool(f.fix.replacements) and (f.fix.applicability == SAFE or unsafe)


def _parses(code: bytes) -> bool:
    """LibCST parses the fixed code (checked here when the prefilter ruled the whole file out, so the
    re-check did not parse it)."""
    try:
        cst.parse_module(code)
        return True
    except Exception:  # noqa: BLE001 - any parser failure means the fix is not written
        return False


def _top_level_bindings(code: bytes) -> tuple[dict[str, int], set[str]]:
    """Module-level assignment targets (name -> how many times) and the modules it imports from."""
    import ast

    tree = ast.parse(code)
    counts: dict[str, int] = {}
    imported: set[str] = set()
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, (ast.AnnAssign, ast.AugAssign)) else []
        for t in targets:
            if isinstance(t, ast.Name):
                counts[t.id] = counts.get(t.id, 0) + 1
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            imported.add(node.module)
    return counts, imported


def _rebinds(old: bytes, new: bytes, module: str | None) -> str | None:
    """What a fix would break that re-checking does not show: a module-level name bound once (or not at all)
    now bound twice (two hoisted values under one name: the second wins), or an import of the module itself."""
    try:
        before, had = _top_level_bindings(old)
        after, imported = _top_level_bindings(new)
    except (SyntaxError, ValueError, RecursionError):
        return None
    imported -= had  # only what the fix adds
    doubled = sorted(n for n, k in after.items() if k > 1 and before.get(n, 0) <= 1)
    if doubled:
        return f"bind `{doubled[0]}` twice at module level"
    if module and module in imported:
        return f"make {module} import itself"
    return None


def fix_source(source: bytes, path: str, relpath: str, settings: Settings, unsafe: bool,
               only: Callable[[Finding], bool] | None = None, rounds: int = MAX_ROUNDS) -> FixResult:
    """Apply the fixes of `source`'s findings (those `only` accepts, if given) and verify the result.

    `only` and `rounds=1` fix one chosen finding (an editor's quick fix), verified the same way."""
    result = FixResult(path, original=source)
    current = source
    for _ in range(rounds):
        analysis = analyse(current, path, relpath, settings)
        if current is source:
            result.before = [f.code for f in analysis.findings]
        every = [f for f in analysis.findings if _applicable(f, unsafe)]
        fixable = every if only is None else [f for f in every if only(f)]
        if not fixable or analysis.module is None:
            result.remaining = analysis.findings
            break
        chosen = non_overlapping([f.fix for f in fixable])  # type: ignore[misc]
        try:
            new_module = apply_fixes(analysis.module, chosen, importable_tops(settings.index))
            new = new_module.bytes
        except Exception as exc:
            result.error = f"fix could not be applied ({type(exc).__name__}: {exc}); file left unchanged"
            return result
        try:
            with warnings.catch_warnings():  # the user's `invalid escape sequence`s are not ours to print
                warnings.simplefilter("ignore")
                compile(new, path, "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as exc:
            result.error = f"fixed code would not compile ({exc}); file left unchanged"
            return result
        clash = _rebinds(current, new, module_name_for(relpath, settings.index.src))
        if clash:
            result.error = f"fix would {clash}; file left unchanged"
            return result
        after = analyse(new, path, relpath, settings)
        left = [f for f in after.findings if _applicable(f, unsafe)]
        if len(left) > len(every) - len(chosen) or not (after.parsed or _parses(new)):
            codes = ", ".join(sorted({f.code for f in fixable}))
            result.error = f"fix for {codes} did not remove the finding; file left unchanged"
            return result
        result.applied += len(chosen)
        current = new
        result.remaining = after.findings
        if not left:
            break
    if current != source:
        result.fixed = current
    return result


def fix_file(path: Path, settings: Settings, unsafe: bool, write: bool) -> FixResult:
    source = read_source(path)
    if isinstance(source, str):
        return FixResult(str(path), error=source)
    result = fix_source(source, str(path), relpath_of(path, settings.config.root), settings, unsafe)
    for f in result.remaining:
        f.node = None
        if f.fix is not None:
            f.fix.replacements = []
    if write and result.changed and result.error is None:
        error = atomic_replace(path, source, result.fixed)  # type: ignore[arg-type]
        if error:
            result.error = error
        else:
            result.written = True
    return result


def atomic_replace(path: Path, expected: bytes, new: bytes) -> str | None:
    """Write `new` over `path` if it still holds `expected`; None on success, else why not."""
    try:
        if path.read_bytes() != expected:
            return "file changed since it was read; not written (run proplint fix again)"
        st = path.stat()
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".proplint")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(new)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, st.st_mode & 0o7777)
            try:
                os.chown(tmp, st.st_uid, st.st_gid)
            except OSError:
                pass
            if path.read_bytes() != expected:
                os.unlink(tmp)
                return "file changed since it was read; not written (run proplint fix again)"
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
    except OSError as exc:
        return f"cannot write: {exc.strerror or exc}"
    return None


def unified_diff(path: str, old: bytes, new: bytes, encoding: str = "utf-8") -> str:
    a = old.decode(encoding, errors="replace").splitlines(keepends=True)
    b = new.decode(encoding, errors="replace").splitlines(keepends=True)
    return "".join(difflib.unified_diff(a, b, fromfile=f"a/{path}", tofile=f"b/{path}"))
