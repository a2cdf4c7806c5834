"""`walk.visit` (the dispatcher's walk and every visitor of the checks) visits exactly what LibCST's
`visit` does, in the same order, minus nodes that hold no code (whitespace, comments, brackets, operator
tokens), which no visitor of proplint looks at."""

from __future__ import annotations

import sysconfig
from pathlib import Path

import libcst as cst

from proplint.core import walk
from proplint.core.context import Dispatcher
from proplint.config import Config


class _Recorder(Dispatcher):
    def __init__(self) -> None:
        self.log: list[tuple[str, int]] = []

    def on_visit(self, node):
        self.log.append(("visit", id(node)))
        return True

    def on_leave(self, original_node):
        self.log.append(("leave", id(original_node)))


class _Reference(cst.CSTVisitor):
    def __init__(self) -> None:
        self.log: list[tuple[str, int]] = []

    def on_visit(self, node):
        if type(node) in walk.NO_CODE:
            return False
        self.log.append(("visit", id(node)))
        return True

    def on_leave(self, original_node):
        if type(original_node) not in walk.NO_CODE:
            self.log.append(("leave", id(original_node)))


def test_the_fast_walk_is_available_here():
    assert walk.fast_walk_available() and walk.FAST


def test_same_nodes_in_the_same_order_as_libcst_on_the_standard_library():
    files = sorted(Path(sysconfig.get_paths()["stdlib"]).rglob("*.py"))[::40]
    compared = 0
    for path in files:
        try:
            module = cst.parse_module(path.read_bytes())
            reference = _Reference()
            module.visit(reference)
        except (cst.ParserSyntaxError, RecursionError, UnicodeDecodeError):
            continue
        ours = _Recorder()
        ours.walk(module)
        assert ours.log == reference.log, path
        compared += 1
    assert compared > 40  # a sample of every 40th file: 56 on CPython 3.12, more on 3.11


def test_fields_visited_under_two_conditions_are_walked_once():
    assert walk.child_fields(cst.ImportFrom).count("names") == 1
    module = cst.parse_module("from a import b, c\nfrom d import *\n")
    ours, reference = _Recorder(), _Reference()
    ours.walk(module)
    module.visit(reference)
    assert ours.log == reference.log


def _visitor_classes():
    import importlib
    import pkgutil

    import proplint

    # every module of the package, and with them every visitor class
    for info in pkgutil.walk_packages(proplint.__path__, "proplint."):
        if not info.name.endswith(("__main__", ".codemod")):
            importlib.import_module(info.name)

    out, todo = set(), [cst.CSTVisitor]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith("proplint"):
                out.add(sub)
    return out


def test_no_visitor_of_proplint_looks_at_what_the_walk_skips():
    skipped = {t.__name__ for t in walk.NO_CODE}
    visitors = _visitor_classes()
    assert len(visitors) > 20 and Dispatcher in visitors
    for cls in visitors:
        own = {a for k in cls.__mro__ if k.__module__.startswith("proplint") for a in vars(k)}
        hooks = {a.split("_", 1)[1] for a in own if a.startswith(("visit_", "leave_"))}
        assert not hooks & skipped, (cls.__name__, hooks & skipped)
        # LibCST's per-attribute hooks (`visit_Call_func`) are not called by the fast walk
        assert not [h for h in hooks if "_" in h and h.split("_", 1)[0] in dir(cst)], (cls.__name__, hooks)


def test_findings_do_not_depend_on_the_walk(monkeypatch, tmp_path):
    from proplint.engine import analyse
    from proplint.settings import make_settings

    example = Path(__file__).resolve().parents[1] / "examples"
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    settings = make_settings(Config(root=tmp_path), use_cache=False, include_default_off=True)
    found = {}
    for mode in (True, False):
        monkeypatch.setattr(walk, "FAST", mode)
        found[mode] = sorted((p.name, f.code, f.line, f.column) for p in sorted(example.rglob("*.py"))
                             for f in analyse(p.read_bytes(), str(p), p.name, settings).findings)
    assert found[True] == found[False] and len(found[True]) > 10


def test_positions_without_the_metadata_wrapper_are_libcsts_positions():
    from libcst.metadata import MetadataWrapper, PositionProvider

    from proplint.engine import _positions

    files = sorted(Path(sysconfig.get_paths()["stdlib"]).rglob("*.py"))[::150]
    compared = shorter = 0
    for path in files:
        try:
            module = cst.parse_module(path.read_bytes())
            expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
        except (cst.ParserSyntaxError, RecursionError, UnicodeDecodeError):
            continue
        ours = _positions(module)
        assert {id(n): r for n, r in ours.items()} == {id(n): r for n, r in expected.items()}, path
        # asked for a few nodes (as for findings), positions only for them and the code generation stops after
        # them: same positions
        some = list(expected)[::97][:5]
        stopped = _positions(module, {id(n) for n in some})
        assert [stopped[n] for n in some] == [expected[n] for n in some], path
        shorter += len(stopped) < len(ours)
        compared += 1
        # many nodes, nested in each other, of the file with Windows line breaks (read token by token)
        crlf = cst.parse_module(path.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
        expected = MetadataWrapper(crlf, unsafe_skip_copy=True).resolve(PositionProvider)
        many = list(expected)[::7]
        got = _positions(crlf, {id(n) for n in many})
        assert [got[n] for n in many] == [expected[n] for n in many], path
    assert compared > 10 and shorter > 5


def test_a_scopes_names_are_collected_without_entering_expressions_when_the_text_has_no_walrus():
    """Only an assignment expression binds a name inside an expression: a file without `:=` gives the same
    names, imports and evidence with its expressions skipped (`Scope(walrus=False)`)."""
    from proplint.core.resolve import Scope
    from proplint.engine import _may_hold

    class Defs(cst.CSTVisitor):
        def __init__(self) -> None:
            self.found: list = []

        def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
            self.found.append(("function", node))

        def visit_ClassDef(self, node: cst.ClassDef) -> None:
            self.found.append(("class", node))

    def names(scope: Scope) -> tuple:
        c = scope.collected()
        return c.bound, c.imports, c.globals, {k: [(kind, id(e)) for kind, e in v] for k, v in c.evidence.items()}

    compared = 0
    for path in sorted(Path(sysconfig.get_paths()["stdlib"]).rglob("*.py"))[::60]:
        data = path.read_bytes()
        try:
            module = cst.parse_module(data)
        except (cst.ParserSyntaxError, RecursionError, UnicodeDecodeError):
            continue
        if _may_hold(data, data, module, ":="):
            continue
        defs = Defs()
        walk.visit(module, defs)
        for kind, node in [("module", module), *defs.found]:
            assert names(Scope(kind, node, "pkg", walrus=False)) == names(Scope(kind, node, "pkg")), path
            compared += 1
    assert compared > 500
    text = "def f(items):\n    if (n := len(items)) > 1:\n        return n\n"
    module = cst.parse_module(text)
    assert _may_hold(text, text.encode(), module, ":=") and _may_hold(text.encode(), text.encode(), module, ":=")
    assert not _may_hold(b"x = 1\n", b"x = 1\n", cst.parse_module(b"x = 1\n"), ":=")
    assert "n" in Scope("function", module.body[0]).collected().bound
