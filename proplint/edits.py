"""Edits: a fix's node replacements and imports applied to a module, and ruff-style line edits.

Below both the engine (which previews a finding's edits for the JSON output) and the fix engine
(`fixes.py`: verify and write), so neither imports the other for them.
"""

from __future__ import annotations

import difflib
import sys

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor

from proplint.core.rule import Finding, Fix


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


def apply_fixes(module: cst.Module, fixes: list[Fix], first_party: frozenset[str] = frozenset()) -> cst.Module:
    """The module with the fixes' replacements made and their imports added (in isort's sections, with
    `first_party` the project's own top-level packages)."""
    table: dict[int, object] = {}
    for fix in fixes:
        for target, replacement in fix.replacements:
            table[id(target)] = replacement
    new = module.visit(_Replace(table)) if table else module
    imports = [i for fix in fixes for i in fix.imports]
    return add_imports(new, imports, first_party) if imports else new


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


def add_imports(module: cst.Module, imports, first_party: frozenset[str] = frozenset()) -> cst.Module:
    """Ensure imports with LibCST's AddImportsVisitor, run on the module's head only, then move each new
    import statement into its isort section (`_placed`).

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
    before = {_EMPTY.code_for_node(s) for s in module.body[:k]}
    added = [i for i, s in enumerate(body) if _import_of(s) is not None and _EMPTY.code_for_node(s) not in before]
    if added:
        body = _placed(body, added, first_party)
    return module.with_changes(body=[*body, *rest], header=new_head.header)


_EMPTY = cst.Module(body=[])
_STDLIB = frozenset(getattr(sys, "stdlib_module_names", ()))


def _import_of(stmt: cst.CSTNode) -> "cst.Import | cst.ImportFrom | None":
    if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 \
            and isinstance(stmt.body[0], (cst.Import, cst.ImportFrom)):
        return stmt.body[0]
    return None


def _sort_key(node: "cst.Import | cst.ImportFrom", first_party: frozenset[str]) -> tuple[int, int, str]:
    """(isort section, `import` before `from`, module name): future, stdlib, third party, first party, local."""
    if isinstance(node, cst.ImportFrom):
        module = _EMPTY.code_for_node(node.module) if node.module is not None else ""
        if node.relative:
            return 4, 1, module
        kind = 1
    else:
        module = _EMPTY.code_for_node(node.names[0].name)
        kind = 0
    top = module.split(".")[0]
    section = 0 if top == "__future__" else 1 if top in _STDLIB else 3 if top in first_party else 2
    return section, kind, module.lower()


def _placed(body: list, added: list[int], first_party: frozenset[str]) -> list:
    """`body` with the statements at `added` (new imports) moved into their isort section: after the last
    import that sorts before them, starting a section of their own (after a blank line) when none of theirs
    exists. Imports nested in `try`/`if` blocks are left where they are."""
    new = [body[i] for i in added]
    body = [s for i, s in enumerate(body) if i not in set(added)]
    for stmt in new:
        key = _sort_key(_import_of(stmt), first_party)
        imports = [(i, _sort_key(_import_of(s), first_party)) for i, s in enumerate(body) if _import_of(s) is not None]
        if not imports:
            body.append(stmt)
            continue
        earlier = [(i, k) for i, k in imports if k <= key]
        if earlier:
            at, prev = earlier[-1][0] + 1, earlier[-1][1]
            blank = prev[0] != key[0]
        else:
            at, prev, blank = imports[0][0], None, False
        lead = [cst.EmptyLine()] if blank else []
        if prev is None:  # first of all imports: take the first import's place and its leading lines
            lead = list(body[at].leading_lines)
            nxt = body[at]
            body[at] = nxt.with_changes(leading_lines=[cst.EmptyLine()] if _sort_key(_import_of(nxt), first_party)[0]
                                        != key[0] else [])
        elif at < len(body) and _import_of(body[at]) is not None and blank \
                and _sort_key(_import_of(body[at]), first_party)[0] != key[0] and not body[at].leading_lines:
            body[at] = body[at].with_changes(leading_lines=[cst.EmptyLine()])
        body.insert(at, stmt.with_changes(leading_lines=lead))
    return body


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


def attach_edits(module: cst.Module, findings: list[Finding], first_party: frozenset[str] = frozenset()) -> None:
    for f in findings:
        if f.fix is not None and f.fix.replacements:
            try:
                f.edits = line_edits(module.code, apply_fixes(module, [f.fix], first_party).code)
            except Exception:  # an edit preview must never break a check run
                f.edits = None
