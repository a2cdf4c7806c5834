"""The dispatcher's own walk visits exactly what LibCST's `visit` does, in the same order, minus nodes
that hold no code (whitespace, comments, brackets, operator tokens), which no check looks at."""

from __future__ import annotations

import sysconfig
from pathlib import Path

import libcst as cst

from proplint import engine
from proplint.check import _NO_CODE, Dispatcher, child_fields, fast_walk_available
from proplint.checks import all_checks
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
        if type(node) in _NO_CODE:
            return False
        self.log.append(("visit", id(node)))
        return True

    def on_leave(self, original_node):
        if type(original_node) not in _NO_CODE:
            self.log.append(("leave", id(original_node)))


def test_the_fast_walk_is_available_here():
    assert fast_walk_available() and engine.FAST_WALK


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
    assert compared > 100


def test_fields_visited_under_two_conditions_are_walked_once():
    assert child_fields(cst.ImportFrom).count("names") == 1
    module = cst.parse_module("from a import b, c\nfrom d import *\n")
    ours, reference = _Recorder(), _Reference()
    ours.walk(module)
    module.visit(reference)
    assert ours.log == reference.log


def test_no_check_visits_a_node_type_the_walk_skips():
    skipped = {t.__name__ for t in _NO_CODE}
    for check in all_checks():
        hooks = {a.split("_", 1)[1] for a in dir(check) if a.startswith(("visit_", "leave_"))}
        assert not hooks & skipped, (check.__name__, hooks & skipped)


def test_findings_do_not_depend_on_the_walk(monkeypatch, tmp_path):
    from proplint.engine import analyse, make_settings

    example = Path(__file__).resolve().parents[1] / "examples"
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    settings = make_settings(Config(root=tmp_path), use_cache=False, include_default_off=True)
    found = {}
    for mode in (True, False):
        monkeypatch.setattr(engine, "FAST_WALK", mode)
        found[mode] = sorted((p.name, f.code, f.line, f.column) for p in sorted(example.rglob("*.py"))
                             for f in analyse(p.read_bytes(), str(p), p.name, settings).findings)
    assert found[True] == found[False] and len(found[True]) > 10
