"""Eval files for PRP401-PRP412: the real CLI reports exactly the marked (line, code) pairs, both sides.

`tests/fixtures/hygiene/` is one project; `xmod/` (decorators used across modules), `pinned/` (an
opentelemetry-api pin below 1.24.0) and `optin/` (PRP406 and PRP411, selected in its config) are
projects of their own. A line ending `# PRPnnn` must be reported with that code; a line ending
`# ok: PRPnnn` is that rule's correct counterpart and must not be. Each project is checked with
`python -m proplint check --output-format json --select PRP4` (which names the off-by-default rules
precisely enough to turn them on), in a copy of the fixtures so no cache is written into the tree.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "hygiene"
MARK = re.compile(r"#\s*(PRP4\d{2}(?:\s*,\s*PRP4\d{2})*)\s*$")
OK = re.compile(r"#\s*ok:\s*(PRP4\d{2}(?:\s*,\s*PRP4\d{2})*)\s*$")
CODES = [f"PRP4{n:02d}" for n in range(1, 13)]
OFF_BY_DEFAULT = {"PRP406", "PRP411"}


def _projects() -> list[Path]:
    return sorted(p.parent for p in FIXTURES.rglob("pyproject.toml"))


def _project_of(path: Path) -> Path:
    return max((p for p in _projects() if path.is_relative_to(p)), key=lambda p: len(p.parts))


def _markers(path: Path, pattern: re.Pattern) -> list[tuple[int, str]]:
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        match = pattern.search(line)
        if match:
            out += [(number, c) for c in re.findall(r"PRP\d{3}", match.group(1))]
    return sorted(out)


FILES = sorted(p for p in FIXTURES.rglob("*.py") if p.stat().st_size)


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


class Runs:
    """Findings per (project, select), computed once per session: {relpath-in-fixtures: [(line, code)]}."""

    def __init__(self, workspace: Path) -> None:
        self.workspace = workspace
        self._cache: dict[tuple[Path, str], dict[str, list[tuple[int, str]]]] = {}

    def check(self, project: Path, select: str = "PRP4") -> dict[str, list[tuple[int, str]]]:
        key = (project, select)
        if key not in self._cache:
            cwd = self.workspace / project.relative_to(FIXTURES)
            proc = _run(["proplint", "check", "--no-cache", "--output-format", "json", "--select", select, "."], cwd)
            assert proc.returncode in (0, 1), proc.stderr
            out: dict[str, list[tuple[int, str]]] = {}
            for item in json.loads(proc.stdout):
                rel = Path(item["filename"]).resolve().relative_to(self.workspace.resolve()).as_posix()
                out.setdefault(rel, []).append((item["location"]["row"], item["code"]))
            self._cache[key] = {k: sorted(v) for k, v in out.items()}
        return self._cache[key]


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Runs:
    workspace = tmp_path_factory.mktemp("hygiene") / "hygiene"
    shutil.copytree(FIXTURES, workspace, ignore=shutil.ignore_patterns(".proplint_cache", "__pycache__"))
    return Runs(workspace)


def _rel(path: Path) -> str:
    return path.relative_to(FIXTURES).as_posix()


def test_every_rule_has_both_sides():
    marked = {code for f in FILES for _, code in _markers(f, MARK)}
    correct = {code for f in FILES for _, code in _markers(f, OK)}
    assert marked == set(CODES), f"rules without a reported line: {sorted(set(CODES) - marked)}"
    assert correct == set(CODES), f"rules without a correct counterpart: {sorted(set(CODES) - correct)}"
    for f in FILES:
        overlap = {ln for ln, _ in _markers(f, MARK)} & {ln for ln, _ in _markers(f, OK)}
        assert not overlap, f"{_rel(f)}: lines marked both ways: {sorted(overlap)}"


@pytest.mark.parametrize("path", FILES, ids=[_rel(f) for f in FILES])
def test_reports_exactly_the_marked_lines(path, runs):
    found = runs.check(_project_of(path)).get(_rel(path), [])
    assert found == _markers(path, MARK)


def test_nothing_outside_the_fixture_files(runs):
    known = {_rel(f) for f in FILES}
    for project in _projects():
        assert set(runs.check(project)) <= known


def test_off_by_default_rules_need_to_be_named(runs):
    optin = FIXTURES / "optin"
    named = runs.check(optin, "PRP406,PRP411")
    expected = {_rel(f): [m for m in _markers(f, MARK) if m[1] in OFF_BY_DEFAULT]
                for f in FILES if _project_of(f) == optin}
    assert {k: v for k, v in named.items() if v} == {k: v for k, v in expected.items() if v}
    assert {code for rows in named.values() for _, code in rows} == OFF_BY_DEFAULT
    # the bare prefix does not turn them on, even where they would fire
    bare = runs.check(optin, "PRP")
    assert not {code for rows in bare.values() for _, code in rows} & OFF_BY_DEFAULT
    # nor does it in the main project, where every other PRP4 rule is reported as with --select PRP4
    main = runs.check(FIXTURES, "PRP")
    assert {k: [r for r in v if r[1].startswith("PRP4")] for k, v in main.items()} == runs.check(FIXTURES)


def test_cross_module_findings_name_the_definition(runs):
    proc = _run(["proplint", "check", "--no-cache", "--output-format", "json", "--select", "PRP401", "."],
                runs.workspace / "xmod")
    items = json.loads(proc.stdout)
    assert items and all("pkg/observability.py:" in i["message"] and i["fix"] is None for i in items)


def test_flake8_sees_the_other_module_through_the_cached_index(runs):
    """flake8 checks one file at a time; the decorator facts come from the project index."""
    project = runs.workspace / "xmod"
    proc = _run(["flake8", "--isolated", "--select", "PRP4", "-j", "1", "--format", "%(path)s\t%(row)d\t%(code)s",
                 "pkg/handlers.py", "pkg/api/views.py"], project)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    rows = sorted((Path(p).as_posix(), int(r), c) for p, r, c in (ln.split("\t") for ln in proc.stdout.splitlines()))
    expected = sorted((rel, ln, code) for rel in ("pkg/handlers.py", "pkg/api/views.py")
                      for ln, code in _markers(FIXTURES / "xmod" / rel, MARK))
    assert rows == expected
    assert (project / ".proplint_cache" / "index.json").is_file()
