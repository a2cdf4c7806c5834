"""The prefilter is exact: what it rules out (a whole file, a check, a rule) never hides a finding.

Checked here on a deterministic sample of real code (the running Python's standard library), and on the
whole benchmark corpus by `tests/test_corpus_exact.py` when it has been fetched.
"""

from __future__ import annotations

import re
import sysconfig
from pathlib import Path

import pytest

from proplint.config import Config
from proplint.settings import make_settings
from proplint.exactness import missed, unfiltered
from proplint.core.needs import FileFilter, Need, import_words


def test_files_the_prefilter_rules_out_have_no_findings(tmp_path):
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(p for p in stdlib.rglob("*.py") if "site-packages" not in p.parts)
    sample = files[::12]
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    filtered = make_settings(Config(root=tmp_path), use_cache=False, include_default_off=True)
    exact = unfiltered(filtered)
    skipped = narrowed = 0
    for path in sample:
        data = path.read_bytes()
        if len(data) > 300_000:
            continue
        possible = filtered.possible(data)
        skipped += not possible
        narrowed += bool(possible) and possible != filtered.enabled
        lost = missed(data, str(path), path.name, filtered, exact)
        assert lost == [], f"{path}: the prefilter lost findings: {lost[:3]}"
    assert skipped > 50 and narrowed > 5


def test_a_need_is_a_conjunction_of_word_groups_and_an_import():
    f = FileFilter([Need.of({"A1"}, {"yield"}, {"start_span", "use_span"}),
                    Need.of({"B1"}, imported={"requests"})])
    assert f.codes(b"def g():\n    with t.start_span('x'):\n        yield 1\n") == {"A1"}
    assert f.codes(b"def g():\n    yield 1\n") == set()
    assert f.codes(b"# uses requests\nx = requests.get(u)\n") == set()
    assert f.codes(b"try: import requests\nexcept ImportError: requests = None\n") == {"B1"}
    assert f.codes(b"import os, \\\n    requests\n") == {"B1"}
    assert f.codes(b"x = 1; from requests import get\n") == {"B1"}
    assert f.codes(b"from\\\n  requests import get\n") == {"B1"}
    assert f.codes(b"from\\\r\n  requests import get\n") == {"B1"}
    assert f.codes(b"from . import (\n    os,  # (see below)\n    requests,\n)\n") == {"B1"}
    assert f.codes(b"from .(x import y\nrequests = 1\n") == set()  # not an import statement: no runaway


def test_words_are_whole_identifiers():
    f = FileFilter([Need.of({"A1"}, {"Thread"})])
    assert f.codes(b"class MyThreadPool: pass\n") == set()
    assert f.codes(b"x = \xc3\xa9Thread\n") == {"A1"}  # a non-ASCII byte ends a word, as \\b did
    assert import_words(b"from a.b import (c,\n  d)\n") == {b"from", b"a", b"b", b"import", b"c", b"d"}


@pytest.mark.parametrize("bad", [Need.of, lambda c: Need.of(c, set()), lambda c: Need.of(c, {"a.b"})])
def test_needs_that_could_never_or_always_match_are_refused(bad):
    with pytest.raises(ValueError):
        bad({"A1"})


def test_a_library_checked_as_its_own_project_keeps_its_relative_imports(tmp_path):
    """Inside `requests/` itself, `from . import sessions` names no `requests`: found by the corpus proof."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'requests'\n")
    pkg = tmp_path / "requests"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "sessions.py").write_text("class Session:\n    pass\n")
    api = pkg / "api.py"
    api.write_text("from . import sessions\n\n\ndef get(url):\n    with sessions.Session() as s:\n"
                   "        return s.get(url)\n")
    filtered = make_settings(Config(root=tmp_path), use_cache=False)
    found = [f.code for f in analyse_file(api, tmp_path, filtered)]
    assert found == [f.code for f in analyse_file(api, tmp_path, unfiltered(filtered))] == ["PRP103"]


def test_each_need_is_tried_where_its_rarest_group_is_and_the_answer_is_every_needs():
    """`FileFilter.codes` tries a need only on files with a word of its rarest group: the same codes as trying
    every need, on a sample of real code."""
    needs = [Need.of({"A1"}, {"def"}, {"finally", "with"}, {"perf_counter", "monotonic"}),
             Need.of({"B1"}, {"self"}, {"RLock", "Lock"}, imported={"threading"}),
             Need.of({"C1"}, {"class"}, {"Message"}, {"@email"}), Need.of({"D1"}, {"import"}, {"json"})]
    f = FileFilter(needs)
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    seen: set[str] = set()
    for path in sorted(stdlib.rglob("*.py"))[::40] + sorted((stdlib / "email").glob("*.py")) \
            + [stdlib / "logging" / "__init__.py"]:
        data = path.read_bytes()
        module = "email." + path.stem if path.parent.name == "email" else path.stem
        words = set(re.findall(rb"\w+", data))
        imported = import_words(data)
        places = {b"@email"} if module.startswith("email.") else set()
        expected = {c for n in f.needs for c in n[0]
                    if all((words | places) & g for g in n[1]) and (not n[2] or n[2] & imported)}
        assert f.codes(data, module) == expected, path
        seen |= expected
    assert seen == {"A1", "B1", "C1", "D1"}


def test_a_place_is_met_by_the_files_of_that_module_or_package():
    f = FileFilter([Need.of({"A1"}, {"sessions"}, {"from"}, {"@requests"})])
    text = b"from . import sessions\n"
    assert f.codes(text, "requests.api") == f.codes(text, "requests") == {"A1"}
    assert f.codes(text, "other.api") == f.codes(text, "requests_extra.api") == set()
    assert f.codes(text, None) == set()  # a file without a module name: its relative imports resolve nowhere
    assert f.codes(text) == {"A1"}  # the caller does not know the module: every place is taken as met
    with pytest.raises(ValueError):
        Need.of({"A1"}, {"@requests api"})


def test_a_relative_import_counts_only_in_the_package_it_can_reach(tmp_path):
    """One project holding `requests/` and another package: `from . import sessions` in the other package
    cannot name requests' sessions. (The second corpus checked as one project let such files of every package
    through: each package provides names that relative imports of its own files reach.)"""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'both'\n")
    text = ("from . import sessions\n\n\ndef get(url):\n    with sessions.Session() as s:\n"
            "        return s.get(url)\n")
    for package in ("requests", "other"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
        (tmp_path / package / "sessions.py").write_text("class Session:\n    pass\n")
        (tmp_path / package / "api.py").write_text(text)
    filtered = make_settings(Config(root=tmp_path), use_cache=False)
    exact = unfiltered(filtered)
    assert "PRP103" in filtered.possible(text.encode(), "requests.api")
    assert "PRP103" not in filtered.possible(text.encode(), "other.api")
    assert [f.code for f in analyse_file(tmp_path / "requests" / "api.py", tmp_path, filtered)] == ["PRP103"]
    assert analyse_file(tmp_path / "other" / "api.py", tmp_path, exact) == []
    for package in ("requests", "other"):
        path = tmp_path / package / "api.py"
        assert missed(text.encode(), str(path), f"{package}/api.py", filtered, exact) == []


def analyse_file(path: Path, root: Path, settings):
    from proplint.engine import analyse

    return analyse(path.read_bytes(), str(path), path.relative_to(root).as_posix(), settings).findings
