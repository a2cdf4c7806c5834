"""The result cache: a warm run equals a cold one, and anything that changes a result invalidates it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CLIENT = "import httpx\nclient = httpx.AsyncClient()\n"


def run(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "proplint", "check", *args, "."], cwd=root,
                          capture_output=True, text=True)


def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "app").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (root / "app" / "client.py").write_text(CLIENT)
    (root / "app" / "other.py").write_text("import requests\nrequests.get('http://x')\n")
    return root


def test_warm_run_equals_cold_and_reuses_results(tmp_path):
    root = project(tmp_path)
    cold = run(root)
    assert cold.returncode == 1 and "PRP101" in cold.stdout and "PRP103" in cold.stdout
    results = list((root / ".proplint_cache").glob("results-*.json"))
    assert len(results) == 1
    assert (root / ".proplint_cache" / ".gitignore").read_text().strip().endswith("*")
    warm = run(root)
    assert warm.stdout == cold.stdout and warm.returncode == 1


def test_edited_file_is_checked_again(tmp_path):
    root = project(tmp_path)
    run(root)
    (root / "app" / "client.py").write_text("import httpx\n\n\nclient = httpx.AsyncClient()\n")
    out = run(root).stdout
    assert "app/client.py:4:" in out and "app/client.py:2:" not in out


def test_project_wide_fact_invalidates_other_files(tmp_path):
    """An instrumentor call added in another module changes the result of an unchanged file."""
    root = project(tmp_path)
    assert "PRP101" in run(root).stdout
    (root / "app" / "telemetry.py").write_text(
        "from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor\n"
        "HTTPXClientInstrumentor().instrument()\n"
    )
    out = run(root).stdout
    assert "PRP101" not in out and "PRP103" in out


def test_no_cache_writes_nothing(tmp_path):
    root = project(tmp_path)
    result = run(root, "--no-cache")
    assert result.returncode == 1
    assert not (root / ".proplint_cache").exists()
