"""The demo service in `examples/` reports exactly what its `# expect:` comments say, everywhere.

Each finding's line in `examples/svc/**.py` ends with `# expect: CODE fix=safe|unsafe|none` (several
may be separated by commas). The tests collect those comments, run the real `proplint` command (as a
subprocess, like a user) in every output format and real flake8, and compare. They also check that
`fix --diff` writes nothing and that `fix` on a copy applies exactly the safe fixes.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"

EXPECT = re.compile(r"(?:^|\s)#\s*expect:\s*(?P<body>.*)$")
EXPECT_ITEM = re.compile(r"^(?P<code>PRP\d{3})(?:\s+fix=(?P<fix>safe|unsafe|none))?$")
TEXT_LINE = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): (?P<code>PRP\d{3}) (?P<msg>.*)$")
GITHUB_LINE = re.compile(r"^::warning (?P<props>[^:]*)::(?P<msg>.*)$")

SAFE_SUFFIX = "(fixable)"
UNSAFE_SUFFIX = "(fixable with --unsafe-fixes)"
IGNORED_DIRS = {".proplint_cache", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}

# (file relative to the examples project, line, code, fix applicability: safe / unsafe / none)
Key = tuple[str, int, str, str]


def expected_findings(project: Path) -> set[Key]:
    out: set[Key] = set()
    for path in sorted((project / "svc").rglob("*.py")):
        rel = path.relative_to(project).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            match = EXPECT.search(line)
            if not match:
                continue
            for item in match.group("body").split(","):
                parsed = EXPECT_ITEM.match(item.strip())
                assert parsed, f"{rel}:{number}: malformed expectation {item.strip()!r}"
                out.add((rel, number, parsed.group("code"), parsed.group("fix") or "none"))
    return out


def fix_kind_from_message(message: str) -> str:
    if message.endswith(UNSAFE_SUFFIX):
        return "unsafe"
    if message.endswith(SAFE_SUFFIX):
        return "safe"
    return "none"


def project_relative(path: str, project: Path, cwd: Path) -> str:
    full = Path(path) if Path(path).is_absolute() else cwd / path
    return full.resolve().relative_to(project.resolve()).as_posix()


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def proplint(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return run("-m", "proplint", *args, cwd=cwd)


# --- parsers, one per output format: each returns {(file, line, col, code, fix)} ------------------------


def parse_text(out: str, project: Path, cwd: Path) -> set[tuple]:
    found = set()
    for line in out.splitlines():
        match = TEXT_LINE.match(line)
        assert match, f"unexpected text output line: {line!r}"
        found.add((project_relative(match["path"], project, cwd), int(match["line"]), int(match["col"]),
                   match["code"], fix_kind_from_message(match["msg"])))
    return found


def parse_json(out: str, project: Path, cwd: Path) -> set[tuple]:
    found = set()
    for item in json.loads(out):
        fix = item["fix"]["applicability"] if item["fix"] else "none"
        found.add((project_relative(item["filename"], project, cwd), item["location"]["row"],
                   item["location"]["column"], item["code"], fix))
    return found


def parse_sarif(out: str, project: Path, cwd: Path) -> set[tuple]:
    doc = json.loads(out)
    assert doc["version"] == "2.1.0"
    (sarif_run,) = doc["runs"]
    rule_ids = [r["id"] for r in sarif_run["tool"]["driver"]["rules"]]
    found = set()
    for result in sarif_run["results"]:
        assert rule_ids[result["ruleIndex"]] == result["ruleId"]
        (location,) = result["locations"]
        physical = location["physicalLocation"]
        region = physical["region"]
        found.add((project_relative(unquote(physical["artifactLocation"]["uri"]), project, cwd),
                   region["startLine"], region["startColumn"], result["ruleId"],
                   fix_kind_from_message(result["message"]["text"])))
    return found


def _unescape_property(text: str) -> str:
    return text.replace("%2C", ",").replace("%3A", ":").replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%")


def parse_github(out: str, project: Path, cwd: Path) -> set[tuple]:
    found = set()
    for line in out.splitlines():
        match = GITHUB_LINE.match(line)
        assert match, f"unexpected github output line: {line!r}"
        props = dict(p.split("=", 1) for p in match["props"].split(","))
        code, _, message = match["msg"].partition(" ")
        assert props["title"] == code
        found.add((project_relative(_unescape_property(props["file"]), project, cwd), int(props["line"]),
                   int(props["col"]), code, fix_kind_from_message(message)))
    return found


PARSERS = {"text": parse_text, "json": parse_json, "sarif": parse_sarif, "github": parse_github}


def without_column(found: set[tuple]) -> set[Key]:
    return {(path, line, code, fix) for path, line, _col, code, fix in found}


def snapshot(tree: Path) -> dict[str, bytes]:
    """Every file's bytes, skipping caches (the flake8 plugin keeps its project index in one)."""
    out = {}
    for path in sorted(tree.rglob("*")):
        if path.is_file() and not IGNORED_DIRS & set(path.relative_to(tree).parts):
            out[path.relative_to(tree).as_posix()] = path.read_bytes()
    return out


def copy_examples(dest: Path) -> Path:
    shutil.copytree(EXAMPLES, dest, ignore=shutil.ignore_patterns(*IGNORED_DIRS))
    return dest


# --- tests ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def expected() -> set[Key]:
    return expected_findings(EXAMPLES)


@pytest.fixture(scope="module")
def text_findings() -> set[tuple]:
    proc = proplint("check", "--no-cache", "examples")
    assert proc.returncode == 1, proc.stderr
    return parse_text(proc.stdout, EXAMPLES, ROOT)


def test_example_project_is_well_formed(expected):
    sources = sorted((EXAMPLES / "svc").rglob("*.py"))
    for path in sources:
        compile(path.read_bytes(), str(path), "exec", dont_inherit=True)
    assert (EXAMPLES / "pyproject.toml").is_file()
    # the demo covers every HTTP rule and every fix applicability
    assert {code for _, _, code, _ in expected} >= {"PRP101", "PRP102", "PRP103", "PRP104"}
    assert {fix for *_, fix in expected} >= {"safe", "unsafe", "none"}
    # the factory module itself, the correct uses and the exporter are not reported
    marked = {path for path, *_ in expected}
    assert "svc/shared/http_client.py" not in marked
    assert "svc/telemetry/exporter.py" not in marked


def test_check_reports_exactly_the_expected_findings(expected, text_findings):
    assert without_column(text_findings) == expected


def test_http_findings_point_at_the_call(text_findings):
    for path, line, col, code, _ in text_findings:
        if not code.startswith("PRP1"):
            continue
        source_line = (EXAMPLES / path).read_text(encoding="utf-8").splitlines()[line - 1]
        assert re.match(r"[A-Za-z_][\w.]*\(", source_line[col - 1:]), (path, line, col, code, source_line)


@pytest.mark.parametrize("fmt", sorted(PARSERS))
def test_every_output_format_agrees(fmt, text_findings):
    proc = proplint("check", "--no-cache", "--output-format", fmt, "examples")
    assert proc.returncode == 1, proc.stderr
    assert PARSERS[fmt](proc.stdout, EXAMPLES, ROOT) == text_findings


def test_check_from_inside_the_project_agrees(text_findings):
    """Run from `examples/` on `svc`: the same config is found, the same findings come out."""
    proc = proplint("check", "--no-cache", "svc", cwd=EXAMPLES)
    assert proc.returncode == 1, proc.stderr
    assert parse_text(proc.stdout, EXAMPLES, EXAMPLES) == text_findings


def test_check_from_an_outer_project_keeps_the_nested_config(tmp_path, text_findings):
    """Walking a parent project (as `proplint check .` at the repository root does), files under
    examples/ still get examples/pyproject.toml, as they do in flake8, not the outer project's table."""
    outer = tmp_path / "outer"
    outer.mkdir()
    (outer / "pyproject.toml").write_text(
        '[project]\nname = "outer"\ndependencies = ["opentelemetry-instrumentation-httpx"]\n\n[tool.proplint]\n',
        encoding="utf-8")
    project = copy_examples(outer / "examples")
    proc = proplint("check", "--no-cache", ".", cwd=outer)
    assert proc.returncode == 1, proc.stderr
    assert parse_text(proc.stdout, project, outer) == text_findings


def test_flake8_plugin_agrees(text_findings):
    # flake8 reads no pyproject.toml: the plugin finds examples/pyproject.toml from the checked file.
    proc = run("-m", "flake8", "--isolated", "--select", "PRP", "svc", cwd=EXAMPLES)
    assert proc.returncode == 1, proc.stderr
    # the same findings; flake8 cannot fix, so its messages do not say "(fixable)"
    assert "fixable" not in proc.stdout
    assert {f[:4] for f in parse_text(proc.stdout, EXAMPLES, EXAMPLES)} == {f[:4] for f in text_findings}


def test_fix_diff_writes_nothing(expected):
    before = snapshot(EXAMPLES)
    proc = proplint("fix", "--diff", "--no-cache", "examples")
    assert snapshot(EXAMPLES) == before
    assert proc.returncode == 1, proc.stderr
    safe_files = {path for path, _, _, fix in expected if fix == "safe"}
    diffed = set(re.findall(r"^\+\+\+ b/examples/(\S+)$", proc.stdout, flags=re.M))
    assert diffed == safe_files
    assert "+from svc.shared.http_client import traced_client" in proc.stdout
    safe = sum(1 for *_, fix in expected if fix == "safe")
    assert f"Would fix {safe} finding" in proc.stderr


def test_fix_applies_the_safe_fixes_on_a_copy(tmp_path, expected):
    project = copy_examples(tmp_path / "examples")
    original = snapshot(project)
    proc = proplint("fix", "--no-cache", "examples", cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # the unsafe and manual findings remain
    fixed = snapshot(project)

    safe_files = {path for path, _, _, fix in expected if fix == "safe"}
    for rel in original:
        if rel not in safe_files:
            assert fixed[rel] == original[rel], f"{rel} changed but has no safe fix"

    # the expect comments moved with their lines: re-read them from the fixed copy
    after = expected_findings(project)
    for path, line, code, fix in after:
        text = (project / path).read_text(encoding="utf-8").splitlines()[line - 1]
        if code == "PRP101" and fix == "safe":
            assert re.search(r"async with traced_client\(timeout=[\d.]+\) as client:", text), text
            assert "httpx.AsyncClient" not in text
        if code == "PRP101" and fix == "unsafe":
            assert "httpx.AsyncClient(" in text and "verify=False" in text, text
    http_safe = {path for path, _, code, fix in expected if fix == "safe" and code.startswith("PRP1")}
    for rel in safe_files:
        source = (project / rel).read_text(encoding="utf-8")
        compile(source, rel, "exec", dont_inherit=True)
        if rel in http_safe:
            assert source.count("from svc.shared.http_client import traced_client\n") == 1

    remaining = parse_text(proc.stdout, project, tmp_path)
    left = {k for k in after if k[3] != "safe"}
    assert without_column(remaining) == left

    check = proplint("check", "--no-cache", "examples", cwd=tmp_path)
    assert check.returncode == 1
    assert without_column(parse_text(check.stdout, project, tmp_path)) == left

    again = proplint("fix", "--no-cache", "examples", cwd=tmp_path)
    assert snapshot(project) == fixed, "a second fix run changed files"
    assert "Fixed 0 findings" in again.stderr


def test_unsafe_fixes_leave_only_manual_findings(tmp_path):
    project = copy_examples(tmp_path / "examples")
    proc = proplint("fix", "--no-cache", "--unsafe-fixes", "examples", cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    after = expected_findings(project)
    assert without_column(parse_text(proc.stdout, project, tmp_path)) == {k for k in after if k[3] == "none"}
    app = (project / "svc/ui/app.py").read_text(encoding="utf-8")
    assert "async with traced_client(timeout=5.0, verify=False) as client:" in app
    monitor = (project / "svc/ops/health_monitor.py").read_text(encoding="utf-8")
    # its fix would import opentelemetry-instrumentation-aiohttp-client, which the project does not declare
    assert "create_trace_config" not in monitor
    for path in project.rglob("*.py"):
        compile(path.read_bytes(), str(path), "exec", dont_inherit=True)
