"""Eval files for the messaging family (PRP301-PRP307), through the real CLI.

`tests/fixtures/messaging/` holds one file per library family (redis, Kafka, RabbitMQ, AWS, MQTT, NATS and
Pub/Sub, task queues, extract misuse, ambiguous names) and sub-projects for cross-module facts (seed 000's
configured injectors/extractors, instrumentors called elsewhere, a project without injectors, confluent
import order). Every line that must be reported ends with `# PRPnnn`; `proplint check --output-format json`
must report exactly those. (`tests/test_eval_files.py` runs the same files through flake8 as well.)

Then the fixes: `proplint fix --unsafe-fixes` on a copy leaves only the findings that have no fix, every
fixed file compiles, and `check` agrees (with no fixable finding left, a second run has nothing to do).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "messaging"
EXPECT = re.compile(r"#\s*(PRP\d{3}(?:\s*,\s*PRP\d{3})*)\s*$")
PROJECTS = sorted(p.parent for p in FIXTURES.rglob("pyproject.toml"))


def project_of(path: Path) -> Path:
    return max((p for p in PROJECTS if path.is_relative_to(p)), key=lambda p: len(p.parts))


def expected(root: Path, project: Path) -> dict[str, list[tuple[int, str]]]:
    out: dict[str, list[tuple[int, str]]] = {}
    for path in sorted(project.rglob("*.py")):
        if project_of(path) != project:
            continue
        rows = []
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            match = EXPECT.search(line)
            if match:
                rows += [(number, code) for code in re.findall(r"PRP\d{3}", match.group(1))]
        if rows:
            out[path.relative_to(root).as_posix()] = sorted(rows)
    return out


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "proplint", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def check(project: Path, root: Path) -> list[dict]:
    proc = run(["check", "--no-cache", "--output-format", "json", "--select", "PRP3", "."], project)
    assert proc.returncode in (0, 1), proc.stderr
    items = json.loads(proc.stdout)
    for item in items:
        item["rel"] = Path(item["filename"]).resolve().relative_to(root.resolve()).as_posix()
    return items


def grouped(items: list[dict]) -> dict[str, list[tuple[int, str]]]:
    out: dict[str, list[tuple[int, str]]] = {}
    for item in items:
        out.setdefault(item["rel"], []).append((item["location"]["row"], item["code"]))
    return {k: sorted(v) for k, v in out.items()}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("messaging") / "messaging"
    shutil.copytree(FIXTURES, dest, ignore=shutil.ignore_patterns(".proplint_cache", "__pycache__"))
    return dest


@pytest.fixture(scope="module")
def reported(workspace) -> dict[str, list[dict]]:
    return {p.relative_to(FIXTURES).as_posix(): check(workspace / p.relative_to(FIXTURES), workspace)
            for p in PROJECTS}


def test_fixtures_cover_every_rule_and_library():
    marks = [code for p in PROJECTS for rows in expected(FIXTURES, p).values() for _, code in rows]
    assert set(marks) == {f"PRP30{i}" for i in range(1, 8)}
    text = "\n".join(p.read_text(encoding="utf-8") for p in FIXTURES.rglob("*.py"))
    for library in ("redis", "aiokafka", "kafka", "confluent_kafka", "pika", "aio_pika", "boto3", "paho.mqtt",
                    "nats", "google.cloud", "celery", "rq", "arq", "dramatiq", "huey"):
        assert re.search(rf"^(import|from) {re.escape(library)}\b", text, re.M), library


@pytest.mark.parametrize("project", [p.relative_to(FIXTURES).as_posix() for p in PROJECTS])
def test_cli_reports_exactly_the_marked_lines(project, reported):
    assert grouped(reported[project]) == expected(FIXTURES, FIXTURES / project)


def test_distinctive_names_on_unknown_receivers_say_so(reported):
    messages = {(i["rel"], i["location"]["row"]): i["message"] for items in reported.values() for i in items}
    source = (FIXTURES / "redis_queue.py").read_text(encoding="utf-8").splitlines()
    row = next(n for n, line in enumerate(source, 1) if 'conn.lpush("jobs"' in line)
    assert messages[("redis_queue.py", row)].endswith("(receiver not inferred: matched by the method name)")
    inferred = next(n for n, line in enumerate(source, 1) if 'r.lpush("jobs", json.dumps({"job": job}))' in line)
    assert "receiver not inferred" not in messages[("redis_queue.py", inferred)]


def test_instrumentors_suppress_only_where_they_inject(reported):
    rows = {(i["rel"], i["code"]) for i in reported["instrumented"]}
    assert rows == {("instrumented/app.py", "PRP301"), ("instrumented/app.py", "PRP302")}
    messages = [i["message"] for i in reported["instrumented"]]
    assert sum(m.startswith("redis ") for m in messages) == 1
    assert sum(m.startswith("paho ") for m in messages) == 1
    assert sum(m.startswith("nats ") for m in messages) == 1
    assert any(m.startswith("aiokafka messages") for m in messages)


def test_fixes_leave_only_manual_findings(workspace, reported):
    fixable = {p: [i for i in items if i["fix"]] for p, items in reported.items()}
    assert sum(len(v) for v in fixable.values()) >= 40
    kinds = {i["fix"]["applicability"] for items in fixable.values() for i in items}
    assert kinds == {"safe", "unsafe"}
    for project in PROJECTS:
        name = project.relative_to(FIXTURES).as_posix()
        where = workspace / name
        before = {p: p.read_bytes() for p in where.rglob("*.py")}
        proc = run(["fix", "--no-cache", "--unsafe-fixes", "--select", "PRP3", "."], where)
        assert proc.returncode in (0, 1), proc.stdout + proc.stderr
        assert "error" not in proc.stderr.lower(), proc.stderr
        for path in where.rglob("*.py"):
            compile(path.read_bytes(), str(path), "exec", dont_inherit=True)
        left = check(where, workspace)
        assert all(i["fix"] is None for i in left), [(i["rel"], i["location"]["row"], i["code"]) for i in left]
        manual = sorted((i["rel"], i["code"]) for i in reported[name] if not i["fix"])
        assert sorted((i["rel"], i["code"]) for i in left) == manual
        changed = {p for p in before if p.read_bytes() != before[p]}
        assert changed == {workspace / i["rel"] for i in fixable[name]}
