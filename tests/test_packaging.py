"""The wheel is complete: built from a copy of the checkout, installed into a fresh virtualenv, it runs.

The rule catalog lives in the top-level `rules/` directory and ships as the `proplint._catalog` package
(setuptools `package-dir`); the package list in pyproject.toml is explicit. So a new `rules/*.toml` or
a new subpackage that the build does not pick up would pass every in-tree test and break every
installed copy: these tests install the wheel and run it away from the source tree.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import venv
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Never copied: VCS data, virtualenvs, caches and earlier build output (the copy must build clean).
COPY_IGNORE = {".git", ".venv", ".venv-arq", "venv", "build", "dist", "__pycache__", ".pytest_cache", ".proplint_cache",
               ".hypothesis", ".mypy_cache", ".ruff_cache", ".tox", ".nox", "node_modules"}


def _ignore(directory: str, names: list[str]) -> set[str]:
    skipped = {n for n in names if n in COPY_IGNORE or n.endswith(".egg-info")}
    if Path(directory).resolve() == (ROOT / "benchmarks").resolve():
        skipped |= {n for n in names if n in {"corpus", ".venv"}}  # downloaded benchmark data
    return skipped


def run(*cmd, cwd: Path, timeout: int = 900) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


def pyproject_version() -> str:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    """Copy the checkout, build its wheel, install the wheel into a fresh venv."""
    base = tmp_path_factory.mktemp("packaging")
    source = base / "source"
    shutil.copytree(ROOT, source, ignore=_ignore)
    outdir = base / "dist"
    proc = run(sys.executable, "-m", "build", "--wheel", "--outdir", outdir, source, cwd=base)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    wheels = list(outdir.glob("*.whl"))
    assert len(wheels) == 1, wheels

    env_dir = base / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    bindir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    proc = run(bindir / "python", "-m", "pip", "install", "-q", wheels[0], cwd=base)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]

    examples = base / "work" / "examples"
    shutil.copytree(ROOT / "examples", examples, ignore=_ignore)
    return {"source": source, "wheel": wheels[0], "bin": bindir, "examples": examples, "work": base / "work"}


@pytest.mark.slow
def test_wheel_contains_every_module_and_catalog_file(built):
    source = built["source"]
    with zipfile.ZipFile(built["wheel"]) as whl:
        names = set(whl.namelist())
        dist_info = next(n.split("/")[0] for n in names if n.split("/")[0].endswith(".dist-info"))
        entry_points = whl.read(f"{dist_info}/entry_points.txt").decode()
        wheel_metadata = whl.read(f"{dist_info}/METADATA").decode()

    assert "proplint/_catalog/http.toml" in names
    catalog = sorted(p.name for p in (source / "rules").glob("*.toml"))
    for name in catalog:
        assert f"proplint/_catalog/{name}" in names, f"rules/{name} is missing from the wheel"
    modules = sorted(p.relative_to(source).as_posix() for p in (source / "proplint").rglob("*.py"))
    missing = [m for m in modules if m not in names]
    assert not missing, f"not in the wheel (add the package to [tool.setuptools] packages): {missing}"
    assert not [n for n in names if n.startswith(("tests/", "examples/", "rules/", "benchmarks/"))]

    assert re.search(r"^proplint = proplint\.cli:main$", entry_points, flags=re.M), entry_points
    assert re.search(r"^PRP = proplint\.flake8_plugin:Plugin$", entry_points, flags=re.M), entry_points
    assert f"\nVersion: {pyproject_version()}\n" in wheel_metadata


@pytest.mark.slow
def test_installed_wheel_reads_its_own_catalog(built):
    python = built["bin"] / "python"
    proc = run(python, "-c", "import proplint, proplint.core.catalog as c; print(proplint.__file__); "
                             "print(c.builtin_catalog_dir())", cwd=built["work"].parent)
    assert proc.returncode == 0, proc.stderr
    module_file, catalog_dir = proc.stdout.splitlines()
    env_dir = built["bin"].parent.resolve()
    assert Path(module_file).resolve().is_relative_to(env_dir), module_file  # not the source checkout
    assert Path(catalog_dir).resolve() == Path(module_file).resolve().parent / "_catalog"

    version = run(built["bin"] / "proplint", "--version", cwd=built["work"].parent)
    assert version.returncode == 0 and pyproject_version() in version.stdout, version.stdout + version.stderr


@pytest.mark.slow
def test_installed_cli_lists_and_explains_rules(built):
    proc = run(built["bin"] / "proplint", "rules", cwd=built["work"].parent)
    assert proc.returncode == 0, proc.stderr
    codes = re.findall(r"^(PRP\d{3})\s", proc.stdout, flags=re.M)
    assert {"PRP101", "PRP102", "PRP103", "PRP104"} <= set(codes), proc.stdout
    doc = run(built["bin"] / "proplint", "rule", "PRP101", cwd=built["work"].parent)
    assert doc.returncode == 0 and doc.stdout.startswith("# PRP101 untraced-httpx-async-client"), doc.stdout


@pytest.mark.slow
def test_installed_cli_checks_the_example_service(built):
    examples = built["examples"]
    proc = run(built["bin"] / "proplint", "check", "--no-cache", "examples", cwd=built["work"])
    assert proc.returncode == 1, proc.stdout + proc.stderr
    found = re.findall(r"^examples/(\S+?):(\d+):\d+: (PRP\d{3}) ", proc.stdout, flags=re.M)
    expected_101 = {
        (path.relative_to(examples).as_posix(), str(number))
        for path in examples.rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if re.search(r"\s#\s*expect:.*\bPRP101\b", line)
    }
    assert expected_101, "the example service marks no PRP101 finding"
    assert {(path, line) for path, line, code in found if code == "PRP101"} == expected_101, proc.stdout
    assert "use svc.shared.http_client.traced_client (fixable)" in proc.stdout


def test_editable_install_finds_the_catalog_and_entry_points():
    """The development install (`pip install -e .`): rules/ is read in place, both entry points exist."""
    import proplint
    from proplint.core.catalog import builtin_catalog_files

    files = {p.name for p in builtin_catalog_files()}
    assert files == {p.name for p in (ROOT / "rules").glob("*.toml")}
    if Path(proplint.__file__).resolve().is_relative_to(ROOT):
        assert {p.parent for p in builtin_catalog_files()} == {(ROOT / "rules").resolve()}
    scripts = {ep.name: ep.value for ep in metadata.entry_points(group="console_scripts")}
    assert scripts.get("proplint") == "proplint.cli:main"
    plugins = {ep.name: ep.value for ep in metadata.entry_points(group="flake8.extension")}
    assert plugins.get("PRP") == "proplint.flake8_plugin:Plugin"
