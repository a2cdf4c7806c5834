"""`core/reach.py`: the names a file refers to in other modules, read from its text."""

from __future__ import annotations

from hypothesis import given, strategies as st

from proplint.core.reach import entry_point_names, imported_modules, module_stem, reference_names


def test_imported_names_module_parts_attributes_and_paths():
    source = (b"from app.jobs import (fanout,  # the fan-out\n    collect as gather)\n"
              b"import app.tasks as tasks, json\nfrom . import sibling\n"
              b"tasks.send_batch(json.dumps({}))\nuvicorn.run('app.main:api')\n"
              b"getattr(sibling, 'handler')\nx = {'path': 'app.models.Order'}\n")
    names = set(reference_names(source))
    assert {"fanout", "collect", "app", "jobs", "tasks", "send_batch", "dumps", "sibling", "api", "handler",
            "Order", "models"} <= names
    # what the file merely defines or calls locally is not a reference to another module
    assert "gather" not in names and "x" not in names


def test_entry_points_of_deployment_files():
    assert {"application", "create"} <= entry_point_names("web: gunicorn app.wsgi:application\nw: app.x:create\n")
    assert {"app", "handlers", "main"} <= entry_point_names("functions:\n  f:\n    handler: app.handlers.main\n")


def test_module_stem():
    assert module_stem("svc/app/jobs.py") == "jobs"
    assert module_stem("svc/app/__init__.py") == "app"
    assert module_stem("main.py") == "main"


@given(st.binary(max_size=400))
def test_any_bytes_give_a_sorted_list_of_names(data):
    names = reference_names(data)
    assert names == sorted(set(names)) and all(n.isidentifier() for n in names)


def test_imported_modules_resolve_relative_imports_and_keep_possible_submodules():
    source = b"from .tracing import traced\nfrom . import jsonutil\nimport app.db.models as m, os\nfrom ..core import x\n"
    found = set(imported_modules(source, "shared.obs.api", package=False))
    assert {"shared.obs.tracing", "shared.obs.tracing.traced", "shared.obs", "shared.obs.jsonutil", "app.db.models",
            "os", "shared.core", "shared.core.x"} <= found
    # in a package's `__init__.py`, `.` is the package itself
    assert "shared.obs.tracing" in imported_modules(b"from .tracing import traced\n", "shared.obs", package=True)
    # a relative import above the top is dropped, not guessed
    assert imported_modules(b"from ...x import y\n", "a", package=False) == []


def test_a_package_init_that_only_reexports_a_name_does_not_refer_to_it():
    init = b"from .consumers import prepare, Consumers\nfrom .jobs import run\n\n__all__ = ['prepare', 'Consumers']\n\nrun()\n"
    names = set(reference_names(init, package_init=True))
    assert "prepare" not in names and "Consumers" not in names
    assert "run" in names, "a name the package's own code calls is used"
    assert {"consumers", "jobs"} <= names, "the modules it imports are still referred to"
    # an ordinary module that imports a name refers to it
    assert "prepare" in reference_names(init, package_init=False)
