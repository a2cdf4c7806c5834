"""The command line a ruff or flake8 user expects in CI: baselines, statistics, output files, `--add-noqa`,
file-level noqa, unused noqa, excludes on the command line, more formats, `--show-fixes`, progress, rules by
name. Everything through the real CLI (and real flake8 where it concerns flake8)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings, strategies as st

from proplint.baseline import SARIF_KEY
from proplint.cli import main

from conftest import write_project
from test_cli import THREE_RULES as THREE, check, run

THREAD = "import threading\n\n\ndef start(job):\n    threading.Thread(target=job).start()\n"
LINE = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<code>PRP\d{3}) ")


def rows(stdout: str) -> list[tuple[str, int, str]]:
    out = []
    for line in stdout.splitlines():
        m = LINE.match(line)
        assert m, line
        out.append((m["path"], int(m["line"]), m["code"]))
    return out


def flake8(cwd: Path, *files: str) -> list[tuple[int, str]]:
    proc = subprocess.run([sys.executable, "-m", "flake8", "--select", "PRP", "--isolated", *files], cwd=cwd,
                          capture_output=True, text=True)
    assert proc.returncode in (0, 1), proc.stderr
    return [(int(line.split(":")[1]), line.split(": ", 1)[1].split()[0]) for line in proc.stdout.splitlines()]


# --- baseline ------------------------------------------------------------------------------------------


def test_baseline_reports_only_new_findings_and_survives_line_shifts(tmp_path):
    p = write_project(tmp_path / "p", THREE)
    written = check(p.root, "--write-baseline", "baseline.json", ".")
    assert written.exit_code == 0 and "Wrote 3 findings to baseline.json" in written.stderr
    doc = json.loads((p.root / "baseline.json").read_text())
    assert [e["code"] for e in doc["findings"]] == ["PRP101", "PRP102", "PRP103"]
    assert all("line" not in e["fingerprint"] for e in doc["findings"])

    clean = check(p.root, "--baseline", "baseline.json", ".")
    assert clean.exit_code == 0 and clean.stdout == "", clean.output
    assert "3 more in the baseline" in clean.stderr

    # lines added above and between the findings, and a new finding: only the new one is reported
    p.main.write_text("# a header\n\n" + THREE.replace("client =", "\n\nclient =") + "\n\n" + THREAD)
    shifted = check(p.root, "--baseline", "baseline.json", ".")
    assert shifted.exit_code == 1
    assert rows(shifted.stdout) == [("example.py", 17, "PRP201")]

    # a second identical line is a new occurrence, not the old one
    p.main.write_text(THREE + "client = httpx.AsyncClient()\n")
    again = check(p.root, "--baseline", "baseline.json", ".")
    assert rows(again.stdout) == [("example.py", 7, "PRP101")]


def test_stale_baseline_entries_are_reported(tmp_path):
    p = write_project(tmp_path / "p", THREE, files={"other.py": THREE})
    assert check(p.root, "--write-baseline", "b.json", ".").exit_code == 0
    p.main.write_text(THREE.replace("requests.get('http://x')\n", ""))
    result = check(p.root, "--baseline", "b.json", ".")
    assert result.exit_code == 0
    assert "baseline entry no longer found: example.py: PRP103 requests.get('http://x')" in result.stderr
    assert "1 baseline entry match no finding" in result.stderr
    # entries of files not checked in this run are not stale
    only_other = check(p.root, "--baseline", "b.json", "other.py")
    assert "no longer found" not in only_other.stderr


def test_a_missing_or_foreign_baseline_is_a_usage_error(tmp_path):
    p = write_project(tmp_path / "p", THREE)
    assert check(p.root, "--baseline", "nope.json", ".").exit_code == 2
    (p.root / "x.json").write_text("[]")
    result = check(p.root, "--baseline", "x.json", ".")
    assert result.exit_code == 2 and "not a proplint baseline" in result.stderr


def test_sarif_and_gitlab_carry_the_baseline_fingerprint(tmp_path):
    p = write_project(tmp_path / "p", THREE)
    check(p.root, "--write-baseline", "b.json", ".")
    expected = [e["fingerprint"] for e in json.loads((p.root / "b.json").read_text())["findings"]]
    sarif = json.loads(check(p.root, "--output-format", "sarif", ".").stdout)
    assert [r["partialFingerprints"][SARIF_KEY] for r in sarif["runs"][0]["results"]] == expected
    gitlab = json.loads(check(p.root, "--output-format", "gitlab", ".").stdout)
    assert [i["fingerprint"] for i in gitlab] == expected


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(["", "# note", "x = 1", "def g():\n    return 2\n"]), min_size=1, max_size=4),
       st.sampled_from(["", "    "]))
def test_fingerprints_do_not_depend_on_line_numbers(tmp_path_factory, inserted, indent):
    p = write_project(tmp_path_factory.mktemp("fp"), THREE)
    check(p.root, "--write-baseline", "b.json", ".")
    body = THREE.replace("client = httpx.AsyncClient()", "\n".join(inserted) + "\nclient = httpx.AsyncClient()")
    p.main.write_text(body if not indent else body.replace("client =", "if True:\n" + indent + "client ="))
    result = check(p.root, "--baseline", "b.json", ".")
    assert result.stdout == "", result.stdout


# --- statistics, output file, formats ---------------------------------------------------------------------


def test_statistics_counts_per_rule(tmp_path):
    p = write_project(tmp_path / "p", THREE + "other = httpx.AsyncClient()\n")
    result = check(p.root, "--statistics", ".")
    assert result.exit_code == 1
    lines = [line.split() for line in result.stdout.splitlines()]
    assert [(line[0], line[1]) for line in lines] == [("2", "PRP101"), ("1", "PRP102"), ("1", "PRP103")]
    data = json.loads(check(p.root, "--statistics", "--output-format", "json", ".").stdout)
    assert [(d["code"], d["count"]) for d in data] == [("PRP101", 2), ("PRP102", 1), ("PRP103", 1)]
    assert data[0]["name"] == "untraced-httpx-async-client"


@pytest.mark.parametrize("fmt", ["text", "json", "junit"])
def test_output_file_holds_what_stdout_would(tmp_path, fmt):
    p = write_project(tmp_path / "p", THREE)
    printed = check(p.root, "--output-format", fmt, ".")
    to_file = check(p.root, "--output-format", fmt, "-o", "reports/out.txt", ".")
    assert to_file.exit_code == printed.exit_code == 1
    assert to_file.stdout == ""
    assert (p.root / "reports" / "out.txt").read_text() == printed.stdout
    assert "Found 3 findings" in to_file.stderr


def test_gitlab_code_quality(tmp_path):
    p = write_project(tmp_path / "p", THREE)
    issues = json.loads(check(p.root, "--output-format", "gitlab", ".").stdout)
    assert [(i["check_name"], i["location"]["path"], i["location"]["lines"]["begin"]) for i in issues] == [
        ("PRP101", "example.py", 4), ("PRP102", "example.py", 5), ("PRP103", "example.py", 6)]
    assert all(i["severity"] in ("info", "minor", "major", "critical", "blocker") for i in issues)
    assert len({i["fingerprint"] for i in issues}) == 3
    assert json.loads(check(p.root, "--output-format", "gitlab", "--select", "PRP2", ".").stdout) == []


def test_junit_xml(tmp_path):
    p = write_project(tmp_path / "p", THREE, files={"b.py": THREAD})
    root = ET.fromstring(check(p.root, "--output-format", "junit", ".").stdout)
    assert root.tag == "testsuites" and root.get("failures") == "4"
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert set(suites) == {"example.py", "b.py"}
    failures = [c.find("failure").get("type") for c in suites["example.py"].iter("testcase")]
    assert failures == ["PRP101", "PRP102", "PRP103"]
    clean = ET.fromstring(check(p.root, "--output-format", "junit", "--select", "PRP3", ".").stdout)
    assert clean.get("failures") == "0" and clean.find("testsuite/testcase").find("failure") is None


# --- --add-noqa -------------------------------------------------------------------------------------------


NOQA_ME = (
    "import httpx\n"
    "import requests\n"
    "\n"
    "client = httpx.AsyncClient()  # noqa: E501\n"
    "requests.get('http://x')  # keep this comment\n"
    "httpx.get(f'''http://x/\n"
    "{client}''')\n"
    "other = httpx.AsyncClient()  # noqa: PRP101\n"
)


def test_add_noqa_appends_codes_keeps_existing_ones_and_flake8_agrees(tmp_path):
    p = write_project(tmp_path / "p", NOQA_ME)
    before = rows(check(p.root, ".").stdout)
    assert [(line, code) for _, line, code in before] == [(4, "PRP101"), (5, "PRP103"), (6, "PRP102")]
    result = check(p.root, "--add-noqa", ".")
    assert result.exit_code == 0, result.output
    assert "Added 3 noqa comments in 1 file" in result.stderr
    text = p.main.read_text()
    assert "client = httpx.AsyncClient()  # noqa: E501, PRP101\n" in text
    assert "requests.get('http://x')  # keep this comment  # noqa: PRP103\n" in text
    assert "httpx.get(f'''http://x/\n{client}''')  # noqa: PRP102\n" in text  # after the string, not inside it
    assert "other = httpx.AsyncClient()  # noqa: PRP101\n" in text
    assert check(p.root, ".").exit_code == 0
    assert flake8(p.root, "example.py") == []
    again = check(p.root, "--add-noqa", ".")
    assert "Added 0 noqa comments" in again.stderr and p.main.read_text() == text


# --- file-level noqa, parity with flake8 ------------------------------------------------------------------


@pytest.mark.parametrize("header, cli, flake", [
    ("# flake8: noqa\n", [], []),
    ("# proplint: noqa\n", [], []),
    ("# proplint: noqa: PRP101, PRP103\n", [6], [6]),
    ("x = 1  # flake8: noqa\n", [5, 6, 7], [5, 6, 7]),  # on a line with code: not a file-level directive
    ("# flake8: noqa: E501\n", [], []),  # flake8 skips the file even with codes
])
def test_file_level_noqa_agrees_with_flake8(tmp_path, header, cli, flake):
    p = write_project(tmp_path / "p", header + THREE)
    assert [line for _, line, _ in rows(check(p.root, ".").stdout)] == cli
    assert [line for line, _ in flake8(p.root, "example.py")] == flake


def test_flake8_does_not_say_fixable(tmp_path):
    p = write_project(tmp_path / "p", THREAD)
    assert "(fixable)" in check(p.root, ".").stdout
    proc = subprocess.run([sys.executable, "-m", "flake8", "--select", "PRP", "--isolated", "example.py"],
                          cwd=p.root, capture_output=True, text=True)
    assert "PRP201" in proc.stdout and "fixable" not in proc.stdout


# --- PRP002: noqa that suppresses nothing -----------------------------------------------------------------


def test_unused_noqa_is_opt_in(tmp_path):
    code = ("import httpx\n"
            "client = httpx.AsyncClient()  # noqa: PRP101\n"
            "x = 1  # noqa: PRP101\n"
            "y = 2  # noqa: E501, PRP2\n"
            "z = 3  # noqa\n"
            "w = 4  # noqa: PRP103, PRP002\n")
    p = write_project(tmp_path / "p", code)
    assert check(p.root, ".").exit_code == 0
    result = check(p.root, "--select", "PRP002,PRP1,PRP2", ".")
    assert [(line, c) for _, line, c in rows(result.stdout)] == [(3, "PRP002"), (4, "PRP002")]
    assert "PRP2 suppresses nothing" in result.stdout
    # a code whose rule is not enabled is not judged
    assert [line for _, line, _ in rows(check(p.root, "--select", "PRP002,PRP1", ".").stdout)] == [3]


# --- excludes on the command line -------------------------------------------------------------------------


def test_force_exclude_applies_excludes_to_named_files(tmp_path):
    p = write_project(tmp_path / "p", THREAD, {"exclude": ["legacy"]},
                      files={"legacy/old.py": THREAD, "gen/api_pb2.py": THREAD, "build/x.py": THREAD})
    named = ("example.py", "legacy/old.py", "gen/api_pb2.py", "build/x.py")
    assert {r[0] for r in rows(check(p.root, *named).stdout)} == set(named)
    forced = check(p.root, "--force-exclude", *named)
    assert {r[0] for r in rows(forced.stdout)} == {"example.py", "gen/api_pb2.py"}
    extended = check(p.root, "--force-exclude", "--extend-exclude", "*_pb2.py", *named)
    assert {r[0] for r in rows(extended.stdout)} == {"example.py"}
    replaced = check(p.root, "--exclude", "gen", ".")
    assert {r[0] for r in rows(replaced.stdout)} == {"example.py", "legacy/old.py"}
    # standard input named as an excluded file reports nothing
    stdin = subprocess.run([sys.executable, "-m", "proplint", "check", "--no-cache", "--force-exclude", "-",
                            "--stdin-filename", "legacy/new.py"], cwd=p.root, input=THREAD, capture_output=True,
                           text=True)
    assert stdin.returncode == 0 and stdin.stdout == ""


def test_fix_honours_force_exclude(tmp_path):
    p = write_project(tmp_path / "p", THREAD, {"exclude": ["legacy"]}, files={"legacy/old.py": THREAD})
    result = run(["fix", "--no-cache", "--force-exclude", "example.py", "legacy/old.py"], p.root)
    assert result.exit_code == 0, result.output
    assert (p.root / "legacy" / "old.py").read_text() == THREAD
    assert p.main.read_text() != THREAD


# --- fix: what disappeared, --show-fixes ------------------------------------------------------------------


def test_fixed_count_is_what_disappeared_and_show_fixes_lists_it(tmp_path):
    code = THREAD + "\n\ndef more(job):\n    threading.Thread(target=job).start()\n" \
                    "    threading.Thread(target=job, daemon=True).start()\n"
    p = write_project(tmp_path / "p", code, files={"b.py": THREAD})
    before = len(rows(check(p.root, ".").stdout))
    result = run(["fix", "--no-cache", "--show-fixes", "."], p.root)
    after = len(rows(check(p.root, ".").stdout))
    gone = before - after
    assert gone == 4
    assert f"Fixed {gone} findings in 2 files" in result.stderr
    listing = result.stderr.split("Fixed:\n", 1)[1]
    assert "b.py:\n    1 \N{MULTIPLICATION SIGN} PRP201 (" in listing
    assert "example.py:\n    3 \N{MULTIPLICATION SIGN} PRP201 (" in listing
    nothing = run(["fix", "--no-cache", "--show-fixes", "."], p.root)
    assert "No fixes applied." in nothing.stderr


# --- progress, summaries ------------------------------------------------------------------------------------


def test_progress_bar_only_on_a_terminal(tmp_path):
    import pty

    p = write_project(tmp_path / "p", THREAD, files={f"m{i}.py": "x = 1\n" for i in range(5)})
    master, slave = pty.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "proplint", "check", "--no-cache", "-j", "1", "."],
                              cwd=p.root, stdout=subprocess.PIPE, stderr=slave, text=True, timeout=120)
        os.close(slave)
        err = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            err += chunk
    finally:
        os.close(master)
    assert proc.returncode == 1
    assert b"Checking" in err and b"6/6" in err and b"Found 1 finding" in err
    assert "Checking" not in proc.stdout
    piped = subprocess.run([sys.executable, "-m", "proplint", "check", "--no-cache", "-j", "1", "."],
                           cwd=p.root, capture_output=True, text=True, timeout=120)
    assert "Checking" not in piped.stderr and "Found 1 finding" in piped.stderr
    quiet = subprocess.run([sys.executable, "-m", "proplint", "check", "--no-cache", "-q", "."],
                           cwd=p.root, capture_output=True, text=True, timeout=120)
    assert quiet.stderr == "" and quiet.stdout.startswith("example.py:5:5: PRP201")


# --- robustness ---------------------------------------------------------------------------------------------


def test_syntax_error_is_reported_where_python_reports_it(tmp_path):
    p = write_project(tmp_path / "p", "import httpx\n\nclient = httpx.AsyncClient(\n")
    result = check(p.root, ".")
    assert result.stdout == "example.py:3:27: PRP001 cannot parse: '(' was never closed\n"


def test_the_cpu_time_budget_through_the_cli(tmp_path, monkeypatch):
    """A file that takes more CPU than the budget is PRP001; one that only waits is checked."""
    import time

    from proplint import engine

    monkeypatch.setattr(engine, "FILE_TIME_BUDGET", 0.3)
    original = engine.analyse
    work = {"fn": lambda: time.sleep(0.6)}

    def slow(*args, **kwargs):
        work["fn"]()
        return original(*args, **kwargs)

    monkeypatch.setattr(engine, "analyse", slow)
    p = write_project(tmp_path / "p", THREAD)
    assert [c for _, _, c in rows(check(p.root, "-j", "1", ".").stdout)] == ["PRP201"]

    def spin():
        end = time.process_time() + 1.5
        while time.process_time() < end:
            pass

    work["fn"] = spin
    assert check(p.root, "-j", "1", ".").stdout == "example.py:1:1: PRP001 file not checked: took more than " \
                                                    "0.3 s of CPU time\n"


# --- rule, rules, help --------------------------------------------------------------------------------------


def test_rule_by_name_and_rules_as_json():
    by_code = CliRunner().invoke(main, ["rule", "PRP101"])
    by_name = CliRunner().invoke(main, ["rule", "untraced-httpx-async-client"])
    assert by_name.exit_code == 0 and by_name.stdout == by_code.stdout
    assert CliRunner().invoke(main, ["rule", "no-such-rule"]).exit_code == 2
    listed = json.loads(CliRunner().invoke(main, ["rules", "--output-format", "json"]).stdout)
    by = {r["code"]: r for r in listed}
    assert by["PRP101"]["name"] == "untraced-httpx-async-client" and by["PRP101"]["default_enabled"] is True
    assert by["PRP002"]["default_enabled"] is False and by["PRP002"]["fix"] == "none"
    assert set(by["PRP001"]) == {"code", "name", "summary", "fix", "default_enabled", "url"}


NEW_OPTIONS = {
    "check": ["--write-baseline", "--baseline", "--statistics", "--output-file", "--add-noqa", "--force-exclude",
              "--exclude", "--extend-exclude", "--quiet", "--stdin-filename"],
    "fix": ["--show-fixes", "--force-exclude", "--exclude", "--extend-exclude", "--quiet"],
    "rules": ["--output-format"],
}


@pytest.mark.parametrize("command", ["check", "fix", "rules", "rule", "init"])
def test_help_lists_each_option_on_one_line(command):
    result = CliRunner(env={"COLUMNS": "80"}).invoke(main, [command, "--help"], terminal_width=80)
    assert result.exit_code == 0
    options = result.stdout.split("Options:\n", 1)[1].splitlines()
    for line in options:
        assert line.startswith("  -"), f"{command} --help: an option's help runs over two lines: {line!r}"
    for option in NEW_OPTIONS.get(command, []):
        assert any(option in line for line in options), option


def test_main_help_shows_baseline_and_add_noqa():
    text = CliRunner().invoke(main, ["--help"]).stdout
    assert "--write-baseline" in text and "--baseline" in text and "--add-noqa" in text


def test_a_nested_pyproject_without_the_table_does_not_hide_the_parents_config(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text("[tool.proplint]\nselect = ['PRP2']\n")
    service = tmp_path / "services" / "orders"
    service.mkdir(parents=True)
    (service / "pyproject.toml").write_text("[project]\nname = 'orders'\n")
    (service / "app.py").write_text(THREE + "\n\n" + THREAD.replace("import threading\n", "import threading\n\n"))
    from_root = rows(check(tmp_path, ".").stdout)
    assert [(path, code) for path, _, code in from_root] == [("services/orders/app.py", "PRP201")]
    assert [code for _, _, code in rows(check(service, "app.py").stdout)] == ["PRP201"]
