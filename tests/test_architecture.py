"""The package's architecture, held by tests: no import cycles (function-level imports included), rule
metadata that cannot lie (a rule's declared fix kind against its examples), one module per public code,
and catalog entries that name a rule of their own family."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

import proplint
from proplint import registry
from proplint.core.catalog import CatalogError
from proplint.core.rule import FIX_KINDS

PACKAGE = Path(proplint.__file__).resolve().parent


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST, module: str, is_package: bool):
    """Every import statement's target modules, at any depth (in functions too), except under
    `if TYPE_CHECKING:` (never executed)."""
    todo = [tree]
    while todo:
        node = todo.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                todo.extend(child.orelse)
                continue
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield alias.name
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    package = module if is_package else module.rpartition(".")[0]
                    parts = package.split(".")
                    parts = parts[: len(parts) - (child.level - 1)]
                    base = ".".join([*parts, base] if base else parts)
                for alias in child.names:
                    yield f"{base}.{alias.name}"  # a submodule, or a name of `base`
                yield base
            todo.append(child)


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        targets = set()
        for target in _imports(tree, name, path.name == "__init__.py"):
            if target in modules and target != name:
                targets.add(target)
        # `from a import b` names module a.b when there is one, else a name of a: keep a only then
        graph[name] = {t for t in targets
                       if not any(o != t and o.startswith(t + ".") and o in targets for o in targets)
                       or t.endswith("__init__")} or targets
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_the_import_graph_has_no_cycle():
    graph = _graph()
    assert len(graph) > 40
    # edges of every kind are seen: module level, `from x import module`, and inside a function
    assert {"proplint.core.context", "proplint.settings"} <= graph["proplint.engine"]
    assert "proplint.registry" in graph["proplint.settings"]
    assert "proplint.core.catalog" in graph["proplint.registry"]
    assert "proplint.edits" in graph["proplint.engine"]  # imported inside `check_source`
    cycle = _cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_the_core_imports_no_family_and_no_adapter():
    """The core is what families build on: it never imports a family, the registry or the ways in."""
    graph = _graph()
    for name, targets in graph.items():
        if name.startswith("proplint.core"):
            bad = {t for t in targets if t.startswith(("proplint.families", "proplint.registry", "proplint.engine",
                                                       "proplint.cli", "proplint.flake8_plugin", "proplint.report"))}
            assert not bad, (name, bad)


def test_one_module_per_public_rule():
    for family in registry.families():
        for rule in family.rules:
            module = rule.__module__
            assert module.startswith(f"proplint.families.{family.name}.rules.prp{rule.code[3:]}_"), (rule.code, module)
            assert module.endswith(rule.name.replace("-", "_")), (rule.code, module, rule.name)
            assert rule.code.startswith(family.prefix)
            others = [r.code for r in family.rules if r.__module__ == module]
            assert others == [rule.code], (module, others)


def _applicabilities(rule, make_project) -> list[str | None]:
    """What each INVALID example's fix really is, found by running the rule on it (None: no fix)."""
    out = []
    for case in rule.INVALID:
        project = make_project(case.code, case.config, case.files, case.path)
        out += [f.fix.applicability if f.fix else None for f in project.check() if f.code == rule.code]
    return out


@pytest.mark.parametrize("code", [c for c in registry.all_rules() if c != "PRP001"])
def test_a_rules_declared_fix_kind_matches_its_examples(code, make_project):
    rule = registry.all_rules()[code]
    assert rule.fix in FIX_KINDS
    seen = _applicabilities(rule, make_project)
    assert seen, f"{code}: its INVALID examples report nothing"
    kinds = set(seen)
    if rule.fix == "none":
        assert kinds == {None}, f"{code} declares no fix, but its examples are fixed: {seen}"
    elif rule.fix == "always safe":
        assert kinds == {"safe"}, f"{code} declares 'always safe', its examples give {seen}"
    elif rule.fix == "unsafe":
        assert "unsafe" in kinds and "safe" not in kinds, f"{code} declares 'unsafe', its examples give {seen}"
    else:  # sometimes safe: a safe fix, and an unsafe one or a case without a fix
        assert "safe" in kinds and kinds & {"unsafe", None}, \
            f"{code} declares 'sometimes safe', its examples give {seen}"


def test_a_catalog_entry_must_name_a_rule_of_its_own_family(tmp_path):
    extra = tmp_path / "extra.toml"
    extra.write_text('[[http_client]]\nname = "acme.Client"\ncode = "PRP201"\nlibrary = "acme"\n')
    with pytest.raises(CatalogError, match="PRP201.*not a rule of the http family"):
        registry.load_catalog((str(extra),))
    other = tmp_path / "other.toml"
    other.write_text('[[http_client]]\nname = "acme.Client"\ncode = "PRP103"\nlibrary = "acme"\n')
    assert any(e.name == "acme.Client" for e in registry.load_catalog((str(other),)).get("http_client"))


def test_an_edited_catalog_file_is_read_again(tmp_path):
    """A long-lived process (flake8 worker, editor) must not keep a user catalog's old contents."""
    import os

    extra = tmp_path / "extra.toml"
    extra.write_text('[[http_client]]\nname = "acme.Client"\ncode = "PRP103"\nlibrary = "acme"\n')
    assert [e.name for e in registry.load_catalog((str(extra),)).get("http_client")][-1] == "acme.Client"
    extra.write_text('[[http_client]]\nname = "acme.Session"\ncode = "PRP103"\nlibrary = "acme"\n')
    stat = extra.stat()
    os.utime(extra, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert [e.name for e in registry.load_catalog((str(extra),)).get("http_client")][-1] == "acme.Session"


def test_families_contribute_as_data():
    """Every role and collector the engine uses is named by a family (or the core); importing a family
    module registers nothing anywhere."""
    roles = {cls.ROLE for cls in registry.all_roles()}
    assert {"http_client", "thread_spawner", "producer", "span_opener"} <= roles
    names = [c.name for c in registry.collectors()]
    assert len(names) == len(set(names))
    assert importlib.util.find_spec("proplint.checks") is None
