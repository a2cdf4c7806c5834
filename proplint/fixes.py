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
import os
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor

from proplint.engine import Settings, analyse, read_source, relpath_of
from proplint.rule import SAFE, Finding, Fix

#: Fixes whose targets overlap (e.g. several that each add a module-level statement) apply one per round;
#: like ruff, allow many rounds so one run reaches the fixed point (a second run must change nothing).
MAX_ROUNDS = 100


class _Replace(cst.CSTTransformer):
    def __init__(self, table: dict[int, object]) -> None:
        self.table = table

    def on_visit_attribute(self, node, attribute) -> None:  # unused per-attribute hooks: skip the lookups
        pass

    def on_leave_attribute(self, original_node, attribute) -> None:
        pass

    def on_leave(self, original_node, updated_node):
        replacement = self.table.get(id(original_node))
        return updated_node if replacement is None else replacement


class _Ids(cst.CSTVisitor):
    def __init__(self) -> None:
        self.ids: set[int] = set()

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.ids.add(id(node))
        return True


def apply_fixes(module: cst.Module, fixes: list[Fix]) -> cst.Module:
    table: dict[int, object] = {}
    for fix in fixes:
        for target, replacement in fix.replacements:
            table[id(target)] = replacement
    new = module.visit(_Replace(table)) if table else module
    imports = [i for fix in fixes for i in fix.imports]
    return add_imports(new, imports) if imports else new


def _head_length(module: cst.Module) -> int:
    """Top-level statements up to the last import (with a leading docstring): all AddImportsVisitor
    looks at to decide where an import goes and whether it is already there."""
    end = 0
    for i, stmt in enumerate(module.body):
        if isinstance(stmt, cst.SimpleStatementLine) and any(
            isinstance(small, (cst.Import, cst.ImportFrom)) for small in stmt.body
        ):
            end = i + 1
    if end == 0 and module.body:
        first = module.body[0]
        if (isinstance(first, cst.SimpleStatementLine) and len(first.body) == 1
                and isinstance(first.body[0], cst.Expr) and isinstance(first.body[0].value, cst.SimpleString)):
            end = 1
    return end


def add_imports(module: cst.Module, imports) -> cst.Module:
    """Ensure imports with LibCST's AddImportsVisitor, run on the module's head only.

    The visitor walks its whole input twice through the matcher machinery (over half of a fix's time
    on a 600-line file); the head holds everything it reads, and the rest is spliced back unchanged.
    """
    context = CodemodContext()
    for req in imports:
        AddImportsVisitor.add_needed_import(context, req.module, req.obj, req.asname)
    k = _head_length(module)
    rest = list(module.body[k:])
    # A stand-in for the first statement after the head (with its leading blank lines and comments):
    # the visitor's layout decisions depend on what follows the imports.
    stand_in = [cst.SimpleStatementLine([cst.Pass()], leading_lines=rest[0].leading_lines)] if rest else []
    head = module.with_changes(body=[*module.body[:k], *stand_in])
    new_head = AddImportsVisitor(context).transform_module(head)
    body = list(new_head.body)
    if rest:
        placeholder = body.pop()
        rest[0] = rest[0].with_changes(leading_lines=placeholder.leading_lines)
    return module.with_changes(body=[*body, *rest], header=new_head.header)


def non_overlapping(fixes: list[Fix]) -> list[Fix]:
    """A subset of fixes none of whose targets lies inside another chosen fix's target."""
    chosen: list[Fix] = []
    covered: set[int] = set()
    roots: set[int] = set()
    for fix in fixes:
        ids: set[int] = set()
        for target, _ in fix.replacements:
            v = _Ids()
            target.visit(v)
            ids |= v.ids
        tops = {id(t) for t, _ in fix.replacements}
        if ids & covered or tops & covered or roots & ids:
            continue
        chosen.append(fix)
        covered |= ids
        roots |= tops
    return chosen


def line_edits(old: str, new: str) -> list[dict]:
    """ruff-style edits (whole lines) turning `old` into `new`."""
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    edits = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        edits.append({
            "content": "".join(b[j1:j2]),
            "location": {"row": i1 + 1, "column": 1},
            "end_location": {"row": i2 + 1, "column": 1},
        })
    return edits


def attach_edits(module: cst.Module, findings: list[Finding]) -> None:
    for f in findings:
        if f.fix is not None and f.fix.replacements:
            try:
                f.edits = line_edits(module.code, apply_fixes(module, [f.fix]).code)
            except Exception:  # an edit preview must never break a check run
                f.edits = None


@dataclass
class FixResult:
    path: str
    original: bytes = b""
    fixed: bytes | None = None
    applied: int = 0
    remaining: list[Finding] = field(default_factory=list)
    error: str | None = None
    written: bool = False

    @property
    def changed(self) -> bool:
        return self.fixed is not None and self.fixed != self.original


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


def fix_source(source: bytes, path: str, relpath: str, settings: Settings, unsafe: bool) -> FixResult:
    result = FixResult(path, original=source)
    current = source
    for _ in range(MAX_ROUNDS):
        analysis = analyse(current, path, relpath, settings)
        fixable = [f for f in analysis.findings if _applicable(f, unsafe)]
        if not fixable or analysis.module is None:
            result.remaining = analysis.findings
            break
        chosen = non_overlapping([f.fix for f in fixable])  # type: ignore[misc]
        try:
            new_module = apply_fixes(analysis.module, chosen)
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
        after = analyse(new, path, relpath, settings)
        left = [f for f in after.findings if _applicable(f, unsafe)]
        if len(left) > len(fixable) - len(chosen) or not (after.parsed or _parses(new)):
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
