"""Import roots (`src`, ruff's setting): a `services/`-rooted layout whose modules import each other as
`shared.http_client` is checked and fixed with the config at the repository root exactly as with the config
inside `services/`; the factory's own body is never reported or rewritten (no self-reference)."""

from __future__ import annotations

from pathlib import Path

import pytest

from proplint.config import ConfigError, load_config
from proplint.core.ast_names import module_name_for
from tests.conftest import write_project

FACTORY = ("import contextlib\n\nimport httpx\n\n\n@contextlib.asynccontextmanager\n"
           "async def traced_client(**kwargs):\n    async with httpx.AsyncClient(**kwargs) as client:\n"
           "        yield client\n")
ORDERS = ("import httpx\n\n\nasync def fetch(url):\n    async with httpx.AsyncClient(timeout=5.0) as client:\n"
          "        return await client.get(url)\n")


def _layout(prefix: str) -> dict[str, str]:
    return {f"{prefix}shared/__init__.py": "", f"{prefix}shared/http_client.py": FACTORY,
            f"{prefix}orders/__init__.py": ""}


def _outcome(project, path: Path) -> tuple[list[tuple[int, str]], str | None]:
    found = [(f.line, f.code) for f in project.check_all()]
    fixed = project.fix(unsafe=True, path=path).fixed
    return sorted(found), fixed.decode() if fixed else None


def test_module_names_follow_the_import_roots():
    assert module_name_for("services/shared/http_client.py", ("services",)) == "shared.http_client"
    assert module_name_for("services/shared/http_client.py") == "services.shared.http_client"
    assert module_name_for("src/pkg/a.py") == "pkg.a"
    # the deepest root holding the file names it
    assert module_name_for("libs/obs/src/obs/t.py", ("libs/obs/src", "libs")) == "obs.t"


def test_a_services_rooted_layout_is_fixed_as_with_the_config_inside_services(tmp_path):
    config = {"http-client-factory": "shared.http_client:traced_client"}
    inside = write_project(tmp_path / "inside", "", {}, {}, path="README.md")
    (inside.root / "pyproject.toml").unlink()
    inner = write_project(inside.root / "services", ORDERS, config, _layout(""), path="orders/api.py")
    at_root = write_project(tmp_path / "root", ORDERS, {**config, "src": ["services"]}, _layout("services/"),
                            path="services/orders/api.py")
    found_inside, fixed_inside = _outcome(inner, inner.main)
    found_root, fixed_root = _outcome(at_root, at_root.main)
    assert found_inside == found_root == [(5, "PRP101")]
    assert fixed_inside is not None and "from shared.http_client import traced_client" in fixed_inside
    assert fixed_root == fixed_inside


def test_the_factory_itself_is_never_reported_nor_rewritten_into_a_call_of_itself(tmp_path):
    project = write_project(tmp_path / "p", FACTORY,
                            {"http-client-factory": "shared.http_client:traced_client", "src": ["services"]},
                            _layout("services/"), path="services/shared/http_client.py")
    assert [f for f in project.check() if f.code == "PRP101"] == []
    assert project.fix(unsafe=True).fixed is None


def test_src_must_stay_inside_the_project(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.proplint]\nsrc = ["../elsewhere"]\n')
    with pytest.raises(ConfigError, match="src"):
        load_config(tmp_path)


@pytest.mark.parametrize("config, says", [
    ({"http-client-factory": "shared.http_client:traced_clients"}, "defines no 'traced_clients'"),
    ({"http-client-factory": "shared.http:traced_client"}, "no module 'shared.http'"),
    ({"injectors": ["shared.http_client.inject_context"]}, "defines no 'inject_context'"),
])
def test_a_configured_helper_the_project_does_not_define_is_a_configuration_error(tmp_path, config, says):
    import subprocess
    import sys

    project = write_project(tmp_path / "p", ORDERS, {**config, "src": ["services"]}, _layout("services/"),
                            path="services/orders/api.py")
    run = subprocess.run([sys.executable, "-m", "proplint", "check", "--no-cache", "."], cwd=project.root,
                         capture_output=True, text=True)
    assert run.returncode == 2, run.stdout + run.stderr
    assert says in run.stderr


def test_a_helper_of_an_installed_library_is_taken_as_given(tmp_path):
    project = write_project(tmp_path / "p", ORDERS, {"injectors": ["company_obs.propagation.inject_headers"],
                                                     "src": ["services"]}, _layout("services/"),
                            path="services/orders/api.py")
    assert [f.code for f in project.check()] == ["PRP101"]
