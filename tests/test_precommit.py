"""The hooks in `.pre-commit-hooks.yaml`, run by real pre-commit on a throw-away user repository.

`pre-commit try-repo` installs this checkout into its own virtualenv (pip, from PyPI for the
dependencies) and runs a hook as a user's `.pre-commit-config.yaml` would. It only sees committed
files (and uncommitted changes to tracked ones), so the tests hand it a one-commit snapshot of the
working tree under test: new, not yet committed files are part of what is tested. The snapshot and
`PRE_COMMIT_HOME` are shared by the whole session, so the hook environment is built once.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow

GIT_IDENTITY = ("-c", "user.name=proplint tests", "-c", "user.email=tests@proplint.invalid",
                "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main")
SNAPSHOT_IGNORE = (".git", ".venv", ".venv-arq", "venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache",
                   ".proplint_cache", ".hypothesis", ".mypy_cache", ".ruff_cache")

FACTORY = '''\
import contextlib

import httpx


@contextlib.asynccontextmanager
async def traced_client(timeout=10.0, **kwargs):
    async with httpx.AsyncClient(timeout=timeout, **kwargs) as client:
        yield client
'''

CLIENT = '''\
import httpx


async def fetch(url):
    async with httpx.AsyncClient(timeout=5.0) as client:
        return await client.get(url)
'''

PYPROJECT = '''\
[project]
name = "hooked"
version = "0.0.0"
dependencies = ["httpx"]

[tool.proplint]
http-client-factory = "app.http:traced_client"
'''


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without git variables a surrounding hook or CI may have set."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") and k != "PRE_COMMIT"}
    env.update(extra)
    return env


def git(*args: str, cwd: Path) -> str:
    proc = subprocess.run(["git", *GIT_IDENTITY, *args], cwd=cwd, capture_output=True, text=True,
                          env=clean_env(), timeout=120)
    assert proc.returncode == 0, f"git {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def working_tree_files(root: Path) -> list[str] | None:
    """Tracked and untracked-but-not-ignored files of the checkout, or None outside a git work tree."""
    try:
        proc = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                              cwd=root, capture_output=True, env=clean_env(), timeout=120)
    except OSError:
        return None
    if proc.returncode != 0:
        return None
    return [p for p in proc.stdout.decode().split("\0") if p]


@pytest.fixture(scope="session")
def hook_repo(tmp_path_factory) -> Path:
    """A one-commit git repository holding exactly the working tree under test."""
    dest = tmp_path_factory.mktemp("hook-repo") / "proplint"
    files = working_tree_files(ROOT)
    if files is None:
        shutil.copytree(ROOT, dest, ignore=shutil.ignore_patterns(*SNAPSHOT_IGNORE))
    else:
        dest.mkdir()
        for rel in files:
            src = ROOT / rel
            if not src.is_file():  # deleted in the work tree, or a submodule
                continue
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    git("init", "-q", cwd=dest)
    git("add", "-A", cwd=dest)
    git("commit", "-q", "-m", "snapshot of the working tree under test", cwd=dest)
    return dest


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture
def user_repo(tmp_path) -> Path:
    repo = tmp_path / "user"
    (repo / "app").mkdir(parents=True)
    (repo / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    (repo / "app" / "__init__.py").write_text("", encoding="utf-8")
    (repo / "app" / "http.py").write_text(FACTORY, encoding="utf-8")
    (repo / "app" / "client.py").write_text(CLIENT, encoding="utf-8")
    git("init", "-q", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "initial", cwd=repo)
    return repo


def try_repo(hook_repo: Path, hook: str, cwd: Path, home: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo), hook, "--all-files", "--color", "never"],
        cwd=cwd, capture_output=True, text=True, timeout=900,
        env=clean_env(PRE_COMMIT_HOME=str(home), PRE_COMMIT_COLOR="never"),
    )


def test_hook_manifest():
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))}
    assert set(hooks) == {"proplint", "proplint-fix"}
    # pre-commit names every file: --force-exclude keeps the configured excludes; --quiet keeps the summary
    # from printing once per batch (require_serial: false)
    assert hooks["proplint"]["entry"] == "proplint check --force-exclude --quiet"
    assert hooks["proplint"]["require_serial"] is False
    assert hooks["proplint-fix"]["entry"] == "proplint fix --force-exclude --quiet"
    for hook in hooks.values():
        assert hook["language"] == "python"
        assert hook["types"] == ["python"]


def test_check_hook_fails_on_a_finding(hook_repo, user_repo, pre_commit_home):
    proc = try_repo(hook_repo, "proplint", user_repo, pre_commit_home)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert re.search(r"^proplint\.+Failed$", out, flags=re.M), out
    assert re.search(r"^app/client\.py:5:16: PRP101 httpx\.AsyncClient sends no trace context; "
                     r"use app\.http\.traced_client \(fixable\)$", out, flags=re.M), out
    assert "app/http.py" not in out  # the factory's own AsyncClient is not a finding
    assert (user_repo / "app" / "client.py").read_text(encoding="utf-8") == CLIENT


def test_fix_hook_rewrites_the_file(hook_repo, user_repo, pre_commit_home):
    proc = try_repo(hook_repo, "proplint-fix", user_repo, pre_commit_home)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out  # pre-commit fails a hook that modified files
    assert re.search(r"^proplint \(fix\)\.+Failed$", out, flags=re.M), out
    assert "files were modified by this hook" in out, out
    fixed = (user_repo / "app" / "client.py").read_text(encoding="utf-8")
    assert "async with traced_client(timeout=5.0) as client:" in fixed
    assert "from app.http import traced_client" in fixed
    assert (user_repo / "app" / "http.py").read_text(encoding="utf-8") == FACTORY

    # the rewritten file passes the check hook
    again = try_repo(hook_repo, "proplint", user_repo, pre_commit_home)
    assert again.returncode == 0, again.stdout + again.stderr
    assert re.search(r"^proplint\.+Passed$", again.stdout, flags=re.M), again.stdout


# --- the README's snippets, as pasted ---------------------------------------------------------------------


def readme_snippets() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### pre-commit\n", 1)[1].split("\n### ", 1)[0]
    return re.findall(r"```yaml\n(.*?)```", section, flags=re.S)


def test_readme_remote_snippet_names_this_repositorys_hooks():
    remote = next(yaml.safe_load(s) for s in readme_snippets() if "repo: local" not in s)
    published = {h["id"] for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))}
    (repo,) = remote["repos"]
    assert repo["repo"] == "https://github.com/proplint/proplint"
    assert repo["rev"] and {h["id"] for h in repo["hooks"]} <= published


def test_readme_local_snippet_works_as_pasted(tmp_path, pre_commit_home):
    """The `repo: local` snippet, pasted into a repository whose config excludes `legacy/`: pre-commit names
    every file (legacy ones too, in several batches), only the application's findings are reported, and no
    summary line is printed per batch."""
    local = next(s for s in readme_snippets() if "repo: local" in s)
    repo = tmp_path / "user"
    (repo / "app").mkdir(parents=True)
    (repo / "legacy").mkdir()
    (repo / "pyproject.toml").write_text(PYPROJECT + 'exclude = ["legacy"]\n', encoding="utf-8")
    (repo / "app" / "__init__.py").write_text("", encoding="utf-8")
    (repo / "app" / "http.py").write_text(FACTORY, encoding="utf-8")
    (repo / "app" / "a_client.py").write_text(CLIENT, encoding="utf-8")
    for i in range(8):
        (repo / "app" / f"m{i}.py").write_text("x = 1\n", encoding="utf-8")
    (repo / "app" / "z_client.py").write_text(CLIENT, encoding="utf-8")
    (repo / "legacy" / "old_client.py").write_text(CLIENT, encoding="utf-8")
    (repo / ".pre-commit-config.yaml").write_text(local, encoding="utf-8")
    git("init", "-q", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "initial", cwd=repo)
    bin_dir = str(Path(sys.executable).parent)
    proc = subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "--all-files", "--color", "never"],
        cwd=repo, capture_output=True, text=True, timeout=600,
        env=clean_env(PRE_COMMIT_HOME=str(pre_commit_home), PRE_COMMIT_COLOR="never",
                      PATH=bin_dir + os.pathsep + os.environ.get("PATH", "")),
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert re.search(r"^proplint\.+Failed$", out, flags=re.M), out
    reported = sorted(re.findall(r"^(\S+?):\d+:\d+: PRP101 ", out, flags=re.M))
    assert reported == ["app/a_client.py", "app/z_client.py"], out
    assert "legacy/" not in out
    assert not re.search(r"^(Found \d|All checks passed|proplint: warning)", out, flags=re.M), out
