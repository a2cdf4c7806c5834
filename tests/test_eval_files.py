"""Eval files (flake8-async style): every line that must be reported ends with `# PRPnnn[, PRPnnn]`.

Each fixture is run through `proplint check --output-format json` and through real flake8 with the
`PRP` plugin; both must report exactly the expected (line, code) pairs. A line whose `# noqa` covers
an expected code expects nothing for it (the marker documents what would be reported without it).

`tests/fixtures/http/` is one project (its own pyproject.toml); each subdirectory with a pyproject.toml
is a separate project (the parent excludes it), used for cross-module facts such as an instrumentor
called in another file or the configured client factory. The fixtures are copied to a temporary
directory first so neither tool writes a cache into the source tree.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from flake8.defaults import NOQA_INLINE_REGEXP

FIXTURES = Path(__file__).resolve().parent / "fixtures"
EXPECT = re.compile(r"#\s*(PRP\d{3}(?:\s*,\s*PRP\d{3})*)\s*$")
CODE = re.compile(r"PRP\d{3}")


def _projects() -> list[Path]:
    return sorted(p.parent for p in FIXTURES.rglob("pyproject.toml"))


def _project_of(path: Path) -> Path:
    return max((p for p in _projects() if path.is_relative_to(p)), key=lambda p: len(p.parts))


def _fixture_files() -> list[Path]:
    return sorted(p for p in FIXTURES.rglob("*.py") if p.stat().st_size)


def noqa_covers(line: str, code: str) -> bool:
    """flake8's own reading of a `# noqa` comment on one physical line."""
    match = NOQA_INLINE_REGEXP.search(line)
    if match is None:
        return False
    codes = match.group("codes")
    if not codes:
        return True
    listed = [c for c in re.split(r"[,\s]+", codes) if c]
    return any(code == c or code.startswith(c) for c in listed)


def expected(path: Path) -> list[tuple[int, str]]:
    """Sorted (line, code) pairs the markers ask for (a code twice on a line: two findings)."""
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        match = EXPECT.search(line)
        if match:
            out += [(number, c) for c in CODE.findall(match.group(1)) if not noqa_covers(line[: match.start()], c)]
    return sorted(out)


def _rel(path: Path) -> str:
    return path.relative_to(FIXTURES).as_posix()


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def _group(rows: list[tuple[str, int, str]], workspace: Path) -> dict[str, list[tuple[int, str]]]:
    out: dict[str, list[tuple[int, str]]] = {}
    for path, row, code in rows:
        rel = Path(path).resolve().relative_to(workspace.resolve()).as_posix()
        out.setdefault(rel, []).append((row, code))
    return {k: sorted(v) for k, v in out.items()}


class Results:
    """Both tools' findings per fixture project, computed once per test session."""

    def __init__(self, workspace: Path) -> None:
        self.workspace = workspace
        self._proplint: dict[Path, dict] = {}
        self._flake8: dict[Path, dict] = {}

    def proplint(self, project: Path) -> dict[str, list[tuple[int, str]]]:
        if project not in self._proplint:
            proc = _run(["proplint", "check", "--no-cache", "--output-format", "json", "."],
                        self.workspace / _rel(project))
            assert proc.returncode in (0, 1), proc.stderr
            rows = [(d["filename"], d["location"]["row"], d["code"]) for d in json.loads(proc.stdout)]
            self._proplint[project] = _group(rows, self.workspace)
        return self._proplint[project]

    def flake8(self, project: Path) -> dict[str, list[tuple[int, str]]]:
        if project not in self._flake8:
            files = [str(self.workspace / _rel(f)) for f in _fixture_files() if _project_of(f) == project]
            proc = _run(["flake8", "--isolated", "--select", "PRP", "-j", "1",
                         "--format", "%(path)s\t%(row)d\t%(code)s", *files], self.workspace / _rel(project))
            assert proc.returncode in (0, 1), proc.stderr
            rows = []
            for line in proc.stdout.splitlines():
                path, row, code = line.split("\t")
                rows.append((path, int(row), code))
            self._flake8[project] = _group(rows, self.workspace)
        return self._flake8[project]


@pytest.fixture(scope="session")
def results(tmp_path_factory) -> Results:
    workspace = tmp_path_factory.mktemp("eval") / "fixtures"
    shutil.copytree(FIXTURES, workspace)
    return Results(workspace)


FILES = _fixture_files()
IDS = [_rel(f) for f in FILES]


def test_fixtures_exist_and_mark_findings():
    assert len(FILES) >= 8
    marked = [f for f in FILES if expected(f)]
    assert len(marked) >= 7
    covered = {code for f in FILES for _, code in expected(f)}
    assert covered >= {"PRP101", "PRP102", "PRP103", "PRP104"}


def test_expectation_parser():
    assert noqa_covers("x = 1  # noqa", "PRP101")
    assert noqa_covers("x = 1  # noqa: PRP1", "PRP101")
    assert noqa_covers("x = 1  # noqa: E501,PRP101", "PRP101")
    assert not noqa_covers("x = 1  # noqa: PRP2", "PRP101")
    assert not noqa_covers("x = 1", "PRP101")


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_proplint_reports_exactly_the_marked_lines(path, results):
    assert results.proplint(_project_of(path)).get(_rel(path), []) == expected(path)


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_flake8_reports_exactly_the_marked_lines(path, results):
    assert results.flake8(_project_of(path)).get(_rel(path), []) == expected(path)


def test_no_findings_outside_the_fixture_files(results):
    known = {_rel(f) for f in FILES}
    for project in _projects():
        assert set(results.proplint(project)) <= known
        assert set(results.flake8(project)) <= known


def test_noqa_fixture_expectations():
    # markers on lines whose noqa covers them expect nothing; the others stay expected
    assert expected(FIXTURES / "http" / "noqa.py") == [(9, "PRP101"), (10, "PRP103"), (15, "PRP101")]
