"""The project index: built in parallel when cold, identical to the in-process build, and cheap to scan."""

from __future__ import annotations

import ast

from proplint.registry import collectors, load_catalog
from proplint.config import Config
from proplint.core.ast_names import ast_imports, statements
from proplint.index import POOL_MIN_FILES, build_index


def _project(tmp_path, n: int):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    pkg = tmp_path / "app"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    for i in range(n):
        (pkg / f"m{i}.py").write_text(
            "import threading\nfrom contextvars import ContextVar\n"
            f"VAR{i} = ContextVar('v{i}')\n\n\nclass Worker{i}(threading.Thread):\n"
            "    def run(self):\n        pass\n")
    return Config(root=tmp_path)


def test_a_parallel_cold_build_equals_the_in_process_one(tmp_path):
    config = _project(tmp_path, POOL_MIN_FILES + 10)
    catalog = load_catalog(config.catalogs)
    serial = build_index(config, catalog, collectors(), use_cache=False, jobs=1)
    parallel = build_index(config, catalog, collectors(), use_cache=False, jobs=2)
    assert parallel.files == serial.files
    assert "app.m7.VAR7" in parallel.project_contextvars()
    assert parallel.is_subclass("app.m3.Worker3", {"threading.Thread"})


def test_a_warm_build_reads_the_cache_and_sees_a_changed_file(tmp_path):
    config = _project(tmp_path, 3)
    catalog = load_catalog(config.catalogs)
    build_index(config, catalog, collectors(), jobs=2)
    (tmp_path / "app" / "m1.py").write_text("from contextvars import ContextVar\nOTHER = ContextVar('o')\n")
    index = build_index(config, catalog, collectors(), jobs=2)
    assert "app.m1.OTHER" in index.project_contextvars() and "app.m1.VAR1" not in index.project_contextvars()


def test_imports_are_found_in_every_block_without_walking_expressions():
    source = ("import a\n"
              "def f():\n    import b as bb\n    try:\n        from c import d\n    except E:\n        import e\n"
              "    else:\n        import f.g\n    finally:\n        from . import h\n"
              "class K:\n    if x:\n        import i\n    else:\n        import j\n"
              "    while y:\n        pass\n    else:\n        import k\n"
              "match v:\n    case 1:\n        import l\n"
              "with w:\n    for q in r:\n        import m\n")
    tree = ast.parse(source)
    walked = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert {id(n) for n in statements(tree) if isinstance(n, (ast.Import, ast.ImportFrom))} == {id(n) for n in walked}
    assert set(ast_imports(tree, "pkg.mod", False)) == {"a", "bb", "d", "e", "f", "h", "i", "j", "k", "l", "m"}


def test_a_collector_that_does_not_parse_reads_only_files_parsed_for_another(tmp_path):
    """`Collector(parse=False)` (the gates' facts) never makes the index parse a file; the index records the
    digest of each text it parsed (`parsed_facts`), so the engine knows when the facts are of the same text."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (tmp_path / "plain.py").write_text("def add(a, b):\n    return a + b\n")
    (tmp_path / "cls.py").write_text("class A:\n    def f(self):\n        return 1\n")
    config = Config(root=tmp_path)
    index = build_index(config, load_catalog(config.catalogs), collectors(), use_cache=False)
    assert "hygiene.gates" not in index.files["plain.py"] and "plain.py" not in index.parsed
    assert "hygiene.gates" in index.files["cls.py"]  # parsed for the class collectors
    text = (tmp_path / "cls.py").read_bytes()
    assert index.parsed_facts("cls.py", text) is index.files["cls.py"]
    assert index.parsed_facts("cls.py", text + b"x = 1\n") is None and index.parsed_facts("plain.py", b"") is None
